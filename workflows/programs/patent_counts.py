"""Seed `000` 二(一)1:
"不得直接将专利数量作为主要约束条件,不得将财政资助奖励政策与专利数量简单挂钩".

A criterion, tier or amount rule that counts patents is recognised by what it says, not only by
the tag it gives itself: its key and its Chinese and English labels are read for a number of
patents, applications, grants or authorisations (件数, 数量, 授权…件, "number of patents"…).
Such a criterion may carry at most `settings.PATENT_COUNT_MAX_SHARE` of a rubric's points and
never the most; a tier or an amount tied to a patent count is refused outright.
"""

import re
from decimal import Decimal

from django.conf import settings

DEFAULT_PATENT_COUNT_MAX_SHARE = Decimal("0.10")
POLICY_CLAUSE = (
    "《贵州省专利转化运用专项行动实施方案（2023—2025年）》二（一）1："
    "“不得直接将专利数量作为主要约束条件,不得将财政资助奖励政策与专利数量简单挂钩”"
)

# What is counted: patents and their kinds, applications, grants, authorisations.
_ZH_SUBJECT = r"(专利|发明|实用新型|外观设计|授权|申请|知识产权|PCT)"
_ZH_NUMERAL = r"[0-9０-９一二三四五六七八九十百千两]+\s*(件|项|个)"
# Words of counting. 量 and 数 only where they count (not 质量, 数据, 指数, 数字化…).
_ZH_COUNT = (
    r"(件数|数量|数目|个数|项数|总数|总量|拥有量|授权量|申请量|持有量|存量|增量|产出量"
    rf"|{_ZH_NUMERAL}|件(以上|以下|及以上|至|或)"
    r"|(?<![质流能含力重剂容雨])量(?![化表])|(?<![指函参系分倍变])数(?![据字码值学额化]))"
)
ZH_RE = re.compile(
    rf"{_ZH_SUBJECT}[^，,。；;、（）()]{{0,10}}{_ZH_COUNT}"
    rf"|{_ZH_NUMERAL}(以上|以下|及以上)?[^，,。；;、]{{0,6}}{_ZH_SUBJECT}"
)
_EN_ONE = r"(patent|invention|utility model|design|grant|application|filing|authori[sz]ation)"
_EN_MANY = (
    r"(patents|inventions|utility models|designs|grants|applications|filings|authori[sz]ations)"
)
EN_RE = re.compile(
    rf"\b(number|numbers|count|quantity|total|how many|volume)\s+of\s+(\w+\s+){{0,2}}{_EN_MANY}\b"
    rf"|\b{_EN_MANY}\s+(count|counts|number|numbers|total|quantity)\b"
    rf"|\b{_EN_ONE}\s+(count|counts|quantity|total|tally)\b"
    rf"|\b\d+\s+(or more\s+|and more\s+|or fewer\s+)?(\w+\s+)?{_EN_MANY}\b"
    rf"|\b(patents|inventions)\s+(granted|filed|held|owned|obtained|authori[sz]ed)\b"
    rf"|\b(granted|filed|held|owned|authori[sz]ed)\s+(patents|inventions)\b",
    re.I,
)
# Keys are snake_case: a thing patents are counted in and a word that counts it. "number" with
# one thing (patent_number, application_number) is an identifier, not a count.
_KEY_ONE = {
    "patent",
    "invention",
    "utility",
    "design",
    "pct",
    "ip",
    "grant",
    "application",
    "filing",
    "authorization",
    "authorisation",
}
_KEY_MANY = {
    "patents",
    "inventions",
    "designs",
    "grants",
    "applications",
    "filings",
    "authorizations",
    "authorisations",
}
_KEY_COUNTS = {"count", "counts", "qty", "quantity", "total", "numbers", "tally"}
_KEY_NUMBER = {"number", "num", "no", "n"}
_KEY_RESULTS = {"granted", "filed", "held", "owned", "obtained"}


def _key_counts(text: str) -> bool:
    words = [w for w in re.split(r"[^a-z0-9]+", text.lower()) if w]
    found = set(words)
    many = found & _KEY_MANY
    one = found & _KEY_ONE
    if (many or one) and found & _KEY_COUNTS:
        return True
    if many and (found & _KEY_NUMBER or found & _KEY_RESULTS):
        return True
    if one and "of" in found and found & _KEY_NUMBER:
        return True
    # invention_grants, patent_applications: a kind of patent and what it became.
    return bool(one and many and one != {"grant"} and len(words) <= 3 and words[-1] in _KEY_MANY)


def counts_patents(*texts: str | None) -> bool:
    """Whether any of `texts` (a key, labels) speaks of a number of patents."""
    for text in texts:
        if not text:
            continue
        if ZH_RE.search(text) or EN_RE.search(text.replace("_", " ")) or _key_counts(text):
            return True
    return False


def patent_count_max_share() -> Decimal:
    return Decimal(str(getattr(settings, "PATENT_COUNT_MAX_SHARE", DEFAULT_PATENT_COUNT_MAX_SHARE)))


def criterion_counts_patents(criterion) -> bool:
    return criterion.measures == "patent_count" or counts_patents(
        criterion.key, criterion.zh, criterion.en
    )


def rubric_problems(where: str, rubric: list) -> list[tuple[str, str]]:
    """(key, message) when patent counts are the heaviest criterion, or weigh as much as the
    heaviest other measure, or more than the allowed share of the rubric's points."""
    counted = [c for c in rubric if criterion_counts_patents(c)]
    if not counted:
        return []
    names = ", ".join(
        f"{c.key!r}" + ("" if c.measures == "patent_count" else f" ({c.zh}, read as a count)")
        for c in counted
    )
    weight = sum((c.max_points for c in counted), Decimal("0"))
    by_measure: dict[str, Decimal] = {}
    for criterion in rubric:
        if criterion not in counted:
            by_measure[criterion.measures] = (
                by_measure.get(criterion.measures, 0) + criterion.max_points
            )
    heaviest = max(c.max_points for c in rubric)
    problems = []
    if (
        any(c.max_points == heaviest for c in counted)
        or not by_measure
        or weight >= max(by_measure.values())
    ):
        problems.append(
            (
                where,
                f"patent counts (measures = 'patent_count': {names}) carry the largest weight "
                f"of the rubric ({weight} points); refused by {POLICY_CLAUSE}",
            )
        )
    total = sum((c.max_points for c in rubric), Decimal("0"))
    share = weight / total
    allowed = patent_count_max_share()
    if share > allowed:
        problems.append(
            (
                where,
                f"patent counts (measures = 'patent_count': {names}) carry {share:.0%} of the "
                f"rubric's points, more than the {allowed:.0%} allowed "
                f"(settings.PATENT_COUNT_MAX_SHARE); refused by {POLICY_CLAUSE}",
            )
        )
    return problems


def tier_problems(tiers: list) -> list[tuple[str, str]]:
    """A tier (and so its amount) defined by a number of patents is refused."""
    return [
        (
            f"tiers[{i}]",
            f"tier {tier.key!r} ({tier.zh}) is defined by a number of patents: an amount may not "
            f"be tied to patent counts; refused by {POLICY_CLAUSE}",
        )
        for i, tier in enumerate(tiers)
        if counts_patents(tier.key, tier.zh, tier.en)
    ]


def amount_problems(amount, fields: list) -> list[tuple[str, str]]:
    """An amount rule whose input is a number of patents (or whose grades speak of one)."""
    if amount is None or amount.rule == "tier":
        return []
    problems = []
    field = next((f for f in fields if f.name == amount.field), None)
    if counts_patents(amount.field, field.zh if field else "", field.en if field else ""):
        problems.append(
            (
                "amount.field",
                f"the amount is computed from {amount.field!r}"
                + (f" ({field.zh})" if field else "")
                + f", a number of patents: an amount may not be tied to patent counts; refused "
                f"by {POLICY_CLAUSE}",
            )
        )
    for i, grade in enumerate(amount.grades or []):
        if counts_patents(grade.key, grade.zh, grade.en):
            problems.append(
                (
                    f"amount.grades[{i}]",
                    f"grade {grade.key!r} ({grade.zh}) is defined by a number of patents: an "
                    f"amount may not be tied to patent counts; refused by {POLICY_CLAUSE}",
                )
            )
    return problems

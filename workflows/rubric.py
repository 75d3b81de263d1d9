"""Scoring rubrics of competitive programs (专家评审评分标准), read from the program file.

A rubric is the file's `[[rubric]]` list; each criterion names what it measures, its maximum points
and the guidance experts read. The policy rule of `000_…txt` 二(一)1 is enforced here: raw patent
counts may never be the main criterion of a rubric, nor more than a small share of its points
(`settings.PATENT_COUNT_MAX_SHARE`, default 10 %).
"""

import re
from decimal import Decimal, InvalidOperation

from django.conf import settings

CRITERION_KEYS = {"key", "zh", "en", "max_points", "guidance", "measures"}
# What a criterion measures. `patent_count` is the raw number of patents (the policy limits it).
MEASURES = {
    "quality",
    "transformation_benefit",
    "management",
    "innovation",
    "patent_count",
    "other",
}
PATENT_COUNT = "patent_count"
DEFAULT_PATENT_COUNT_MAX_SHARE = Decimal("0.10")
POLICY_CLAUSE = (
    "《贵州省专利转化运用专项行动实施方案（2023—2025年）》二（一）1："
    "“不得直接将专利数量作为主要约束条件,不得将财政资助奖励政策与专利数量简单挂钩”"
)
KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
TWO_PLACES = Decimal("0.01")


def patent_count_max_share() -> Decimal:
    return Decimal(str(getattr(settings, "PATENT_COUNT_MAX_SHARE", DEFAULT_PATENT_COUNT_MAX_SHARE)))


def max_points_of(value) -> Decimal | None:
    """The criterion's maximum as a Decimal, or None when it is not a positive number with at
    most two decimals."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        points = Decimal(str(value))
    except InvalidOperation:
        return None
    if not points.is_finite() or points <= 0 or points != points.quantize(TWO_PLACES):
        return None
    return points


def rubric_problems(content: dict, source: str) -> list:
    """Problems of a program file's `[[rubric]]` list; an empty list means it is usable."""
    from .programs import ProgramProblem

    problems: list = []
    rubric = content.get("rubric")
    stages = content.get("stages") if isinstance(content.get("stages"), list) else []
    reviewed = any(isinstance(s, dict) and s.get("type") == "expert_review" for s in stages)
    if rubric is None:
        if reviewed:
            problems.append(
                ProgramProblem(source, "rubric", "an expert_review stage needs a [[rubric]] list")
            )
        return problems
    if not isinstance(rubric, list):
        return [ProgramProblem(source, "rubric", "must be a list of tables ([[rubric]])")]
    if reviewed and not rubric:
        problems.append(
            ProgramProblem(source, "rubric", "an expert_review stage needs a [[rubric]] list")
        )

    weights: dict[str, Decimal] = {}
    largest: list[tuple[Decimal, str]] = []
    keys: set[str] = set()
    for i, criterion in enumerate(rubric):
        where = f"rubric[{i}]"
        if not isinstance(criterion, dict):
            problems.append(ProgramProblem(source, where, "must be a table"))
            continue
        for name in criterion:
            if name not in CRITERION_KEYS:
                problems.append(
                    ProgramProblem(
                        source, f"{where}.{name}", f"unknown key; allowed: {sorted(CRITERION_KEYS)}"
                    )
                )
        key = criterion.get("key")
        if not isinstance(key, str) or not KEY_RE.match(key):
            problems.append(
                ProgramProblem(source, f"{where}.key", "must be lower-case letters, digits, _")
            )
        elif key in keys:
            problems.append(ProgramProblem(source, f"{where}.key", f"duplicate key {key!r}"))
        else:
            keys.add(key)
        for name in ("zh", "en", "guidance"):
            if not isinstance(criterion.get(name), str) or not criterion.get(name).strip():
                problems.append(ProgramProblem(source, f"{where}.{name}", "missing text"))
        measures = criterion.get("measures")
        if measures not in MEASURES:
            problems.append(
                ProgramProblem(source, f"{where}.measures", f"must be one of {sorted(MEASURES)}")
            )
        points = max_points_of(criterion.get("max_points"))
        if points is None:
            problems.append(
                ProgramProblem(
                    source,
                    f"{where}.max_points",
                    "must be a positive number with at most two decimals",
                )
            )
            continue
        if measures in MEASURES:
            weights[measures] = weights.get(measures, Decimal("0")) + points
            largest.append((points, measures))
    problems.extend(_patent_count_problems(source, weights, largest))
    return problems


def _patent_count_problems(source: str, weights: dict, criteria: list) -> list:
    """The policy rule: raw patent counts are neither the heaviest criterion nor the heaviest
    measure (ties count as heaviest), nor more than the allowed share of all points."""
    from .programs import ProgramProblem

    counted = weights.get(PATENT_COUNT, Decimal("0"))
    if not counted:
        return []
    problems = []
    top_criterion = max(points for points, _measures in criteria)
    heaviest_criterion = any(
        measures == PATENT_COUNT and points == top_criterion for points, measures in criteria
    )
    others = [weight for measures, weight in weights.items() if measures != PATENT_COUNT]
    if heaviest_criterion or not others or counted >= max(others):
        problems.append(
            ProgramProblem(
                source,
                "rubric",
                f"patent counts (measures = {PATENT_COUNT!r}) carry the largest weight of the "
                f"rubric ({counted} points); refused by {POLICY_CLAUSE}",
            )
        )
    share = counted / sum(weights.values())
    allowed = patent_count_max_share()
    if share > allowed:
        problems.append(
            ProgramProblem(
                source,
                "rubric",
                f"patent counts (measures = {PATENT_COUNT!r}) carry {share:.0%} of the rubric's "
                f"points, more than the {allowed:.0%} allowed (settings.PATENT_COUNT_MAX_SHARE); "
                f"refused by {POLICY_CLAUSE}",
            )
        )
    return problems


def rubric_total(rubric: list[dict]) -> Decimal:
    """The highest total an expert can give."""
    return sum((Decimal(str(c["max_points"])) for c in rubric), Decimal("0"))

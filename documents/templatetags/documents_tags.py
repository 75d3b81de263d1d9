"""Template filters for official documents: amounts and dates as the documents print them.

    {% load documents_tags %}
    {{ amount|amount_words }}    人民币壹佰万元整
    {{ amount|amount_figures }}  ¥1,000,000.00
    {{ amount|amount_plain }}    1,000,000.00   (in a column headed "（元）")
    {{ issued_on|chinese_date }} 2026年3月5日
    {{ reason|public_text }}     ID and phone numbers masked, for a public page
    {% with w=decision_kind|decision_words %}  how a letter names the call's decision
    经{{ meeting|acted:"审议" }}        局务会审议; a name ending so (认定委员会审定) as it is
    {{ mark|mark_size:"30,0,156" }}      the mark's font size that keeps it on one line
    {% joint_mark issuer "文件" as mark %}  a joint mark's size and its names spread alike
    {{ title|tail_kept }}                 a title whose last line is never one lone character

The amount filters raise on anything but a non-negative Decimal with at most two decimals: an
official document with a wrong or empty amount must not be produced.
"""

from datetime import date, datetime
from decimal import Decimal

from django import template
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe

from documents import amounts, redaction, rendering

register = template.Library()


# How a letter to one applicant names the call's decision (`decision_kind`) and what it gave:
# the decision (资助/表彰/认定决定), the money (资助/奖励金额), the applicant (受资助单位…), its
# tier (获批级别…), and for an honour, the verb before a tier (被评为) or before the program's
# title when there is no tier (获得). A grant's words are the default (an archived context
# without `decision_kind`).
DECISION_WORDS = {
    "commendation_decision": {
        "decided": "表彰",
        "money": "奖励",
        "recipient": "受表彰单位",
        "tier": "表彰等级",
        "named": "被评为",
        "untiered": "获得",
    },
    "recognition_decision": {
        "decided": "认定",
        "money": "奖励",
        "recipient": "认定单位",
        "tier": "认定类别",
        "named": "被认定为",
        "untiered": "通过",
    },
}
GRANT_WORDS = {"decided": "资助", "money": "资助", "recipient": "受资助单位", "tier": "获批级别"}


@register.filter
def decision_words(kind: str) -> dict:
    return DECISION_WORDS.get(kind, GRANT_WORDS)


# The words a body's name may already end with that say what it did (a stage named 认定委员会审定
# or 厅（局）长办公会审议): such a name is not given the verb again.
ACTING_WORDS = ("审议", "审定", "表决", "评审", "评定", "审核", "审查", "研究", "讨论", "决定")


@register.filter
def acted(body: str, verb: str) -> str:
    """A body and what it did: 局务会 + 审议 gives 局务会审议; a name already ending with such a
    word (厅（局）长办公会审议, 认定委员会审定) is left as it is."""
    body = str(body or "")
    return body if body.endswith(ACTING_WORDS) else body + verb


@register.filter
def patent_award(decision_kind: str, application) -> bool:
    """`{{ decision_kind|patent_award:application }}`: whether a letter honours a patent: the
    applicant named one and the call's decision commends (a context archived before
    `decision_kind` was recorded: by the patent alone). A grant or a recognition whose form
    asks for a patent number words its letter as such."""
    if isinstance(application, dict):
        patent_number = application.get("patent_number")
    else:
        patent_number = getattr(application, "patent_number", "")
    return bool(patent_number) and decision_kind in ("", None, "commendation_decision")


MM_PER_PT = 25.4 / 72


@register.filter
def mark_size(text: str, fit: str) -> str:
    """`"largest pt,letter spacing em,width mm"`: the font size (CSS, in pt) at which `text`
    stays on one line of that width, the largest size when it fits (GB/T 9704 leaves the mark's
    size to the issuer: a long name, 贵州省市场监督管理局（贵州省知识产权局）, is set smaller
    rather than broken over two lines). A full-width character is one em, any other half."""
    largest, spacing, width = (float(part) for part in fit.split(","))
    ems = rendering.text_ems(text) or 1.0
    fitting = width / (ems * (1 + spacing) * MM_PER_PT)
    return f"{min(largest, int(fitting * 10) / 10):g}pt"


# A joint mark's suffix (文件) stands this far to the right of the names.
JOINT_SUFFIX_GAP_MM = 4.0


@register.simple_tag
def joint_mark(issuer: dict, suffix: str = "", largest: float = 30.0, width: float = 156.0):
    """The mark of a joint document (GB/T 9704 §7.2.4): every issuer's name on a line of its
    own, the lead first, each spread to the longest one's width (分散对齐), the suffix beside
    them. `size` (CSS pt) is the largest that keeps the longest name and the suffix on one line
    of the type area: 贵州省人力资源和社会保障厅 at 30 pt broke, its 厅 alone on a line.
    Each name comes with `spacing`, the em added between its characters (CSS letter-spacing,
    taken back after the last one)."""
    names = [issuer["name"], *(other["name"] for other in issuer.get("joint") or [])]
    longest = max(rendering.text_ems(name) for name in names)
    room = width - (JOINT_SUFFIX_GAP_MM if suffix else 0.0)
    fitting = room / ((longest + rendering.text_ems(suffix)) * MM_PER_PT)
    size = min(largest, int(fitting * 10) / 10)
    spread = []
    for name in names:
        gaps = len(name) - 1
        extra = (longest - rendering.text_ems(name)) / gaps if gaps > 0 else 0.0
        spread.append({"name": name, "spacing": f"{extra:.3f}em"})
    return {"size": f"{size:g}pt", "names": spread}


# A title's last three characters (的决定, 的通知, 告知书) break together.
TAIL_KEPT = 3


@register.filter
def tail_kept(title: str) -> str:
    """`title`, its last characters kept on one line: a long title broke as …认定结果的决 / 定,
    one character alone on its last line (GB/T 9704 §7.3.1 asks for lines of fitting
    lengths, words kept whole)."""
    title = str(title or "")
    if len(title) <= TAIL_KEPT + 1:
        return conditional_escape(title)
    head, tail = title[:-TAIL_KEPT], title[-TAIL_KEPT:]
    return mark_safe(
        f'{conditional_escape(head)}<span class="kept">{conditional_escape(tail)}</span>'
    )


@register.filter
def amount_words(value: Decimal) -> str:
    return amounts.amount_in_words(value)


@register.filter
def amount_figures(value: Decimal) -> str:
    return amounts.amount_figures(value)


@register.filter
def amount_plain(value: Decimal) -> str:
    return amounts.amount_figures(value, currency_sign=False)


@register.filter
def chinese_date(value: date | datetime) -> str:
    return rendering.chinese_date(value)


@register.filter
def get_item(mapping, key):
    """`{{ seals|get_item:issuer.name }}`: a value of a dict by a key with spaces or CJK."""
    return (mapping or {}).get(key)


@register.filter
def signers(issuer: dict, seals: dict | None = None) -> list[dict]:
    """The issuers of a (joint) document in order, the lead first, each with its seal."""
    seals = seals or {}
    names = [issuer["name"], *(other["name"] for other in issuer.get("joint") or [])]
    return [{"name": name, "seal": seals.get(name)} for name in names]


@register.filter
def any_sealed(signed: list[dict]) -> bool:
    return any(signer["seal"] for signer in signed)


@register.filter
def public_text(text: str) -> str:
    """Free text on a public page: any ID number or phone number in it masked."""
    return redaction.personal_data_redact(text)

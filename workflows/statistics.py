"""Statistics for staff and leadership (`/statistics/`): applications and outcomes by program,
call, city and status; money decided and paid against each call's budget; recognitions in force
and expiring; progress towards the policy targets of `config/targets.toml`, by year.

Each statistic is a `Table`: the page draws it as a chart, prints it as a table and exports it to
Excel from the same rows. Everything is counted in the database (aggregate / annotate / subquery),
in a number of queries that does not grow with the data: one per table, one per target.
"""

import tomllib
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from pathlib import Path
from typing import Literal

from django.conf import settings
from django.db.models import (
    Count,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.functions import ExtractYear, Substr
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from pydantic import BaseModel, ConfigDict, PositiveInt, field_validator, model_validator

from forms.validators import localised

from .models import Application, AuditRecord, Call, Institution, OfficeRegion
from .programs import program_pays, programs_loaded

Status = Application.Status

TARGETS_FILE = Path(settings.BASE_DIR) / "config" / "targets.toml"
ZERO = Decimal("0.00")
CENT = Decimal("0.01")
TENTH = Decimal("0.1")

# Where an application stands, in four groups a report can add up.
DECIDED = [Status.DECIDED, Status.LETTER_ISSUED, Status.PAID]
NOT_SUCCESSFUL = [
    Status.NOT_RECOMMENDED,
    Status.LAPSED,
    Status.REFUSED,
    Status.NOT_ADVANCED,
    Status.REJECTED,
    Status.WITHDRAWN,
]
IN_PROGRESS = [
    status
    for status in Status
    if status != Status.DRAFT and status not in DECIDED and status not in NOT_SUCCESSFUL
]

# GB/T 2260 codes of Guizhou's cities and prefectures (市州), first four digits. A code outside
# this list is named after the city office that acts for it, else shown as it is.
CITY_NAMES = {
    "5201": gettext_lazy("贵阳市"),
    "5202": gettext_lazy("六盘水市"),
    "5203": gettext_lazy("遵义市"),
    "5204": gettext_lazy("安顺市"),
    "5205": gettext_lazy("毕节市"),
    "5206": gettext_lazy("铜仁市"),
    "5223": gettext_lazy("黔西南布依族苗族自治州"),
    "5226": gettext_lazy("黔东南苗族侗族自治州"),
    "5227": gettext_lazy("黔南布依族苗族自治州"),
}


# --- the policy targets (config/targets.toml) --------------------------------------------------


class _Texts(BaseModel):
    model_config = ConfigDict(extra="forbid")
    zh: str
    en: str


class TargetSource(BaseModel):
    model_config = ConfigDict(extra="forbid")
    document: str
    file: str
    clause: str
    text: str


class Target(BaseModel):
    """A target a policy text sets, and what this system counts for it."""

    model_config = ConfigDict(extra="forbid")
    key: str
    label: _Texts
    program: str
    outcome: Literal["decided", "paid"]
    tiers: list[str] = []
    counts: Literal["institutions", "applications"]
    cumulative: bool
    from_year: int
    by_year: int
    target: PositiveInt
    unit: _Texts
    note: _Texts | None = None
    source: TargetSource

    @field_validator("program")
    @classmethod
    def _program_exists(cls, slug: str) -> str:
        if slug not in programs_loaded():
            raise ValueError(f"no program file config/programs/{slug}.toml")
        return slug

    @model_validator(mode="after")
    def _period(self):
        if self.from_year > self.by_year:
            raise ValueError("from_year must not be after by_year")
        return self


class TargetsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    targets: list[Target] = []


@cache
def targets_loaded(path: Path = TARGETS_FILE) -> tuple[Target, ...]:
    """The targets of the file, checked (read once per process)."""
    with open(path, "rb") as handle:
        return tuple(TargetsFile.model_validate(tomllib.load(handle)).targets)


# --- tables ------------------------------------------------------------------------------------


@dataclass
class Column:
    key: str
    label: str
    kind: Literal["text", "count", "money", "percent"] = "count"
    # Drawn in the chart as this series type ("" leaves the column out of the chart).
    series: Literal["", "bar", "line"] = ""
    stack: str = ""


@dataclass
class Table:
    """One statistic: its rows as the table shows them, the chart drawn from the same rows."""

    name: str
    title: str
    columns: list[Column]
    rows: list[list]
    # Rows after the data (a total) shown and exported, but not drawn.
    footer: list[list] = field(default_factory=list)
    note: str = ""
    # (url, label) of the page that lists what the table counts.
    link: tuple[str, str] | None = None
    horizontal: bool = False
    unit: str = ""

    @property
    def headers(self) -> list[str]:
        return [column.label for column in self.columns]

    def display_rows(self) -> list[list[str]]:
        return [self._display(row) for row in self.rows + self.footer]

    def _display(self, row: list) -> list[str]:
        shown = []
        for column, value in zip(self.columns, row, strict=True):
            if value is None:
                shown.append("")
            elif column.kind == "money":
                shown.append(f"¥{value:,.2f}")
            elif column.kind == "percent":
                shown.append(f"{value}%")
            else:
                shown.append(str(value))
        return shown

    def export_rows(self) -> list[list]:
        return self.rows + self.footer

    def chart(self) -> dict:
        """What `static/statistics.js` draws: categories (the first column) and one series per
        charted column; numbers as JSON strings when they are Decimal (the script converts)."""
        return {
            "title": self.title,
            "unit": self.unit,
            "horizontal": self.horizontal,
            "categories": [str(row[0]) for row in self.rows],
            "series": [
                {
                    "name": column.label,
                    "type": column.series,
                    "stack": column.stack,
                    "data": [row[i] for row in self.rows],
                }
                for i, column in enumerate(self.columns)
                if column.series
            ],
        }


@dataclass
class Filters:
    """What the page narrows to: calls opened in `year`, of `program`; recognitions ending
    within `days` count as expiring."""

    year: int | None = None
    program: str | None = None
    days: int = 90


def years_with_calls() -> list[int]:
    """The years in which a call opened (local time), newest first: the year filter's choices."""
    return [moment.year for moment in Call.objects.datetimes("opens_at", "year", order="DESC")]


def _calls(filters: Filters) -> QuerySet[Call]:
    calls = Call.objects.all()
    if filters.year:
        calls = calls.filter(opens_at__year=filters.year)
    if filters.program:
        calls = calls.filter(program_slug=filters.program)
    return calls


def _applications(filters: Filters) -> QuerySet[Application]:
    return Application.objects.filter(call__in=_calls(filters).values("pk"))


def _outcomes(prefix: str = "") -> dict:
    """The outcome columns as aggregates over applications (`prefix` the path to them)."""
    status = f"{prefix}status"
    pk = f"{prefix}pk"
    return {
        "submitted": Count(pk, filter=~Q(**{status: Status.DRAFT})),
        "in_progress": Count(pk, filter=Q(**{f"{status}__in": IN_PROGRESS})),
        "decided": Count(pk, filter=Q(**{f"{status}__in": DECIDED})),
        "not_successful": Count(pk, filter=Q(**{f"{status}__in": NOT_SUCCESSFUL})),
        "drafts": Count(pk, filter=Q(**{status: Status.DRAFT})),
    }


OUTCOME_KEYS = ["submitted", "in_progress", "decided", "not_successful", "drafts"]


def _outcome_columns(first: Column) -> list[Column]:
    return [
        first,
        Column("submitted", _("已提交申报")),
        Column("in_progress", _("办理中"), series="bar", stack="outcome"),
        Column("decided", _("已决定（获批）"), series="bar", stack="outcome"),
        Column("not_successful", _("未通过"), series="bar", stack="outcome"),
        Column("drafts", _("草稿（未提交）")),
    ]


def _program_title(slug: str) -> str:
    program = programs_loaded().get(slug)
    return localised(program.content["title"]) if program else slug


def _money(value) -> Decimal:
    return Decimal(value or 0).quantize(CENT)


def _calls_counted(filters: Filters) -> list[dict]:
    """Each call with its applications' outcomes and its money, in one query. A payment belongs
    to one application (of the same call), so joining it adds no rows to sum twice."""
    return list(
        _calls(filters)
        .annotate(
            **_outcomes("applications__"),
            money_decided=Sum(
                "applications__award_amount", filter=Q(applications__status__in=DECIDED)
            ),
            money_paid=Sum("applications__payment__amount"),
        )
        .order_by("-opens_at", "pk")
        .values(
            "pk",
            "title",
            "program_slug",
            "budget_total",
            "money_decided",
            "money_paid",
            *OUTCOME_KEYS,
        )
    )


def table_by_status(filters: Filters) -> Table:
    counts = dict(_applications(filters).order_by().values_list("status").annotate(n=Count("pk")))
    return Table(
        name="status",
        title=_("按状态统计申报"),
        columns=[Column("status", _("状态"), "text"), Column("n", _("申报数"), series="bar")],
        rows=[[label, counts.get(value, 0)] for value, label in Status.choices],
        horizontal=True,
        unit=_("件"),
    )


def table_by_program(calls: list[dict], filters: Filters) -> Table:
    slugs = [filters.program] if filters.program else list(programs_loaded())
    totals = {slug: dict.fromkeys(OUTCOME_KEYS, 0) for slug in slugs}
    for call in calls:
        for key in OUTCOME_KEYS:
            totals.setdefault(call["program_slug"], dict.fromkeys(OUTCOME_KEYS, 0))[key] += call[
                key
            ]
    return Table(
        name="program",
        title=_("按项目统计申报和结果"),
        columns=_outcome_columns(Column("program", _("项目"), "text")),
        rows=[
            [_program_title(slug), *(counts[key] for key in OUTCOME_KEYS)]
            for slug, counts in totals.items()
        ],
        unit=_("件"),
    )


def table_by_call(calls: list[dict]) -> Table:
    return Table(
        name="call",
        title=_("按申报批次统计申报和结果"),
        columns=[
            Column("call", _("申报批次"), "text"),
            Column("program", _("项目"), "text"),
            *_outcome_columns(Column("", ""))[1:],
        ],
        rows=[
            [
                call["title"],
                _program_title(call["program_slug"]),
                *(call[key] for key in OUTCOME_KEYS),
            ]
            for call in calls
        ],
        horizontal=True,
        unit=_("件"),
    )


def _city_names() -> dict[str, str]:
    names = {
        region.prefix: region.name
        for region in OfficeRegion.objects.only("region_code", "name")
        if region.prefix not in CITY_NAMES
    }
    return {**{code: str(name) for code, name in CITY_NAMES.items()}, **names}


def table_by_city(filters: Filters) -> Table:
    rows = (
        _applications(filters)
        .annotate(city=Substr("institution__region_code", 1, 4))
        .order_by("city")
        .values("city")
        .annotate(**_outcomes())
    )
    names = _city_names()
    return Table(
        name="city",
        title=_("按市州统计申报和结果"),
        columns=_outcome_columns(Column("city", _("市（州）"), "text")),
        rows=[
            [names.get(row["city"], row["city"]), *(row[key] for key in OUTCOME_KEYS)]
            for row in rows
        ],
        note=_("市州按申报单位所在地区代码（GB/T 2260）的前四位归属。"),
        unit=_("件"),
    )


def table_money(calls: list[dict]) -> Table:
    """Each call's budget, money decided and paid; a call of a program that pays nothing (a
    recognition, a commendation without money) is left out unless it has money to show."""
    rows = []
    for call in calls:
        budget = _money(call["budget_total"])
        decided = _money(call["money_decided"])
        paid = _money(call["money_paid"])
        if not (budget or decided or paid) and not program_pays(call["program_slug"]):
            continue
        rows.append(
            [call["title"], _program_title(call["program_slug"]), budget, decided, paid]
            + [budget - paid, decided - paid]
        )
    total = [sum((row[i] for row in rows), ZERO) for i in range(2, 7)]
    return Table(
        name="money",
        title=_("预算指标、决定金额和拨付金额"),
        columns=[
            Column("call", _("申报批次"), "text"),
            Column("program", _("项目"), "text"),
            Column("budget", _("预算指标"), "money", series="bar"),
            Column("decided", _("已决定金额"), "money", series="bar"),
            Column("paid", _("已拨付金额"), "money", series="bar"),
            Column("left", _("预算余额"), "money"),
            Column("unpaid", _("已决定未拨付"), "money"),
        ],
        rows=rows,
        footer=[[_("合计"), "", *total]],
        note=_("已决定金额为已印发决定（含已发奖励通知书、已拨付）的申报的资助金额之和。"),
        horizontal=True,
        unit=_("元"),
    )


def table_recognitions(filters: Filters, today: date) -> Table:
    """Recognitions (decided applications with a validity date, as the recognition pages count
    them) by program: in force, expiring within `filters.days`, expired."""
    until = today + timedelta(days=filters.days)
    rows = (
        _applications(filters)
        .filter(status__in=DECIDED, valid_until__isnull=False)
        .order_by("call__program_slug")
        .values("call__program_slug")
        .annotate(
            total=Count("pk"),
            in_force=Count("pk", filter=Q(valid_until__gte=today)),
            expiring=Count("pk", filter=Q(valid_until__gte=today, valid_until__lte=until)),
            expired=Count("pk", filter=Q(valid_until__lt=today)),
        )
    )
    return Table(
        name="recognitions",
        title=_("有效认定和即将到期的认定"),
        columns=[
            Column("program", _("项目"), "text"),
            Column("total", _("认定总数")),
            Column("in_force", _("有效"), series="bar"),
            Column(
                "expiring",
                _("其中%(days)s天内到期") % {"days": filters.days},
                series="bar",
            ),
            Column("expired", _("已过期"), series="bar"),
        ],
        rows=[
            [
                _program_title(row["call__program_slug"]),
                row["total"],
                row["in_force"],
                row["expiring"],
                row["expired"],
            ]
            for row in rows
        ],
        note=_("认定指已印发决定且有有效期的申报；有效指有效期至今天或以后。"),
        link=(
            f"{reverse('recognition_expiring')}?days={filters.days}",
            _("查看即将到期的认定"),
        ),
        unit=_("项"),
    )


# --- progress towards the targets --------------------------------------------------------------


def _counted(target: Target) -> QuerySet[Application]:
    """The target's applications with the moment of their outcome (`moment`)."""
    applications = Application.objects.filter(call__program_slug=target.program)
    if target.tiers:
        applications = applications.filter(tier__in=target.tiers)
    if target.outcome == "paid":
        return applications.filter(status=Status.PAID).annotate(moment=F("payment__paid_on"))
    decided_at = (
        AuditRecord.objects.filter(application=OuterRef("pk"), to_status=Status.DECIDED)
        .order_by("created_at")
        .values("created_at")[:1]
    )
    return applications.filter(status__in=DECIDED).annotate(moment=Subquery(decided_at))


def target_counts_by_year(target: Target) -> dict[int, int]:
    """{year: number counted that year}, in one query. Institutions count once, in the year of
    their first outcome."""
    counted = _counted(target)
    if target.counts == "institutions":
        first = Subquery(
            counted.filter(institution=OuterRef("pk"))
            .exclude(moment__isnull=True)
            .order_by("moment")
            .values("moment")[:1]
        )
        counted = Institution.objects.annotate(moment=first)
    rows = (
        counted.exclude(moment__isnull=True)
        .annotate(year=ExtractYear("moment"))
        .filter(year__gte=target.from_year)
        .order_by("year")
        .values("year")
        .annotate(n=Count("pk"))
    )
    return {row["year"]: row["n"] for row in rows}


def _percent(part: int, whole: int) -> Decimal:
    return (Decimal(part) * 100 / Decimal(whole)).quantize(TENTH, ROUND_HALF_UP)


def table_target(target: Target, today: date) -> Table:
    counts = target_counts_by_year(target)
    last = max(target.by_year, today.year, *counts)
    unit = localised(target.unit.model_dump())
    reached = 0
    rows = []
    for year in range(target.from_year, last + 1):
        reached += counts.get(year, 0)
        value = reached if target.cumulative else counts.get(year, 0)
        rows.append(
            [str(year), counts.get(year, 0), value, target.target, _percent(value, target.target)]
        )
    source = target.source
    note = _("依据：《%(document)s》%(clause)s：“%(text)s”") % {
        "document": source.document,
        "clause": source.clause,
        "text": source.text,
    }
    if target.note:
        note = f"{note} {localised(target.note.model_dump())}"
    return Table(
        name=f"target-{target.key}",
        title=_("%(label)s：%(by_year)s年目标%(target)s%(unit)s")
        % {
            "label": localised(target.label.model_dump()),
            "by_year": target.by_year,
            "target": target.target,
            "unit": unit,
        },
        columns=[
            Column("year", _("年度"), "text"),
            Column("new", _("当年新增"), series="bar"),
            Column(
                "value",
                _("累计完成") if target.cumulative else _("当年完成"),
                series="line",
            ),
            Column("target", _("目标"), series="line"),
            Column("percent", _("完成比例"), "percent"),
        ],
        rows=rows,
        note=note,
        unit=unit,
    )


def statistics_tables(filters: Filters, today: date | None = None) -> list[Table]:
    """Every table of the statistics page, in the order it shows them. The targets are the
    policy's and take no filter."""
    today = today or timezone.localdate()
    calls = _calls_counted(filters)
    return [
        table_by_program(calls, filters),
        table_by_call(calls),
        table_by_city(filters),
        table_by_status(filters),
        table_money(calls),
        table_recognitions(filters, today),
        *(table_target(target, today) for target in targets_loaded()),
    ]

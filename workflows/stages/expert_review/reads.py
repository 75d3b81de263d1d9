"""What the expert review pages read: an expert's seats, the application as an expert sees it,
a round's panel with its draws, a call's ranking per round. The rules and the pages count the
same way because both read here."""

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Exists, Max, Min, OuterRef, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _
from viewflow.workflow.models import Task

from forms.validators import localised

from ...flows import nodes_named
from ...models import Application, Call, PanelResult, PanelSeat
from ...programs import program_stages, stage_key
from .draw import DrawView, draws_of
from .services import (
    ACTIVE_SEATS,
    METHOD_LABELS,
    NODE,
    OPEN_TASK,
    TWO_PLACES,
    points_text,
    seat_is_late,
    stage_rules,
)

Seat = PanelSeat.Status
Status = Application.Status


def expert_rounds(program: dict) -> list[dict]:
    """The program's expert rounds, in order: {key, name}."""
    return [
        {"key": stage_key(stage), "name": stage.get("name") or _("专家评审")}
        for stage in program_stages(program, "expert_review")
    ]


def seats_of_expert(user) -> QuerySet[PanelSeat]:
    """Every seat the user ever held, newest first (other experts' seats never appear)."""
    if not user.is_authenticated:
        return PanelSeat.objects.none()
    return (
        PanelSeat.objects.filter(expert__user_id=user.pk)
        .select_related(
            "application__institution", "application__call", "application__program_version"
        )
        .order_by("-drawn_at", "-pk")
    )


def rubric_rows(application: Application, round_key: str, scores: dict | None = None) -> list[dict]:
    """The rubric as the pages show it: name, maximum, guidance (and given points, if any)."""
    return [
        {
            "key": c["key"],
            "name": localised(c),
            "max_points": points_text(Decimal(str(c["max_points"]))),
            "guidance": c["guidance"],
            "points": (scores or {}).get(c["key"]),
        }
        for c in stage_rules(application, round_key)["rubric"]
    ]


@dataclass
class SeatRow:
    seat: PanelSeat
    points: list  # per rubric criterion, None when not scored
    late: bool


@dataclass
class Panel:
    """An application's panel as the panel managers see it."""

    application: Application
    round_key: str
    round_name: str
    rubric: list[dict]
    size: int
    method: str
    rows: list[SeatRow] = field(default_factory=list)
    vacancies: list[Task] = field(default_factory=list)
    is_open: bool = True
    draws: list[DrawView] = field(default_factory=list)
    result: PanelResult | None = None

    @property
    def late(self) -> list[SeatRow]:
        return [row for row in self.rows if row.late]

    @property
    def method_label(self) -> str:
        return _(METHOD_LABELS[self.method])


def panel_of(application: Application, round_key: str) -> Panel:
    """One round's panel of the application: seats with their points, late experts, vacant
    seats, the draws on record and the round's result."""
    stage = stage_rules(application, round_key)
    rubric = rubric_rows(application, round_key)
    seats = list(
        application.seats.filter(stage_key=round_key)
        .select_related("expert__user", "task")
        .prefetch_related("scores")
    )
    now = timezone.now()
    rows = []
    for seat in seats:
        given = {score.criterion: score.points for score in seat.scores.all()}
        rows.append(
            SeatRow(
                seat=seat,
                points=[given.get(c["key"]) for c in rubric],
                late=seat_is_late(seat, now),
            )
        )
    open_tasks = panel_open_tasks(application, round_key)
    held = {seat.task_id for seat in seats if seat.status in ACTIVE_SEATS}
    return Panel(
        application=application,
        round_key=round_key,
        round_name=stage.get("name") or _("专家评审"),
        rubric=rubric,
        size=stage["panel_size"],
        method=stage["score_method"],
        rows=rows,
        vacancies=[task for task in open_tasks if task.pk not in held],
        is_open=bool(open_tasks),
        draws=draws_of(application, round_key),
        result=application.panel_results.filter(stage_key=round_key).first(),
    )


def panel_open_tasks(application: Application, round_key: str) -> list[Task]:
    if application.process_id is None:
        return []
    nodes = nodes_named(application.call.program_slug, NODE, round_key)
    if not nodes:
        return []
    return list(
        Task.objects.filter(
            process_id=application.process_id, flow_task__in=nodes, status__in=OPEN_TASK
        ).order_by("pk")
    )


@dataclass
class RankingRow:
    rank: int
    application: Application
    scored: int
    lowest: Decimal | None
    highest: Decimal | None

    @property
    def spread(self) -> Decimal | None:
        if self.lowest is None or self.highest is None:
            return None
        return self.highest - self.lowest


def _two_places(value) -> Decimal | None:
    return None if value is None else Decimal(value).quantize(TWO_PLACES)


def round_results(*, call: Call, applications: QuerySet[Application], round_key: str):
    """The call's applications with a score in the round, with `round_score` and
    `round_advanced` to sort and filter on (the ranking page lists them a page at a time)."""
    results = PanelResult.objects.filter(application=OuterRef("pk"), stage_key=round_key)
    return (
        applications.filter(call=call)
        .filter(Exists(results.filter(score__isnull=False)))
        .annotate(
            round_score=Subquery(results.values("score")[:1]),
            round_advanced=Subquery(results.values("advanced")[:1]),
        )
    )


def round_ranks(*, call: Call, applications: QuerySet[Application], round_key: str) -> dict:
    """{application id: rank} over the whole round, highest score first; equal scores share a
    rank (so a filtered or sorted page still shows each application's place in the call)."""
    scores = (
        PanelResult.objects.filter(
            application__in=applications.filter(call=call).values("pk"),
            stage_key=round_key,
            score__isnull=False,
        )
        .order_by("-score")
        .values_list("application_id", "score")
    )
    ranks: dict[int, int] = {}
    previous, rank = None, 0
    for position, (application_id, score) in enumerate(scores, 1):
        if score != previous:
            previous, rank = score, position
        ranks[application_id] = rank
    return ranks


def ranking_rows(rows: list[Application], *, round_key: str, ranks: dict) -> None:
    """Give each application of a page its rank and its experts' count, lowest and highest
    total in the round (one query for the page)."""
    figures = {
        row["application_id"]: row
        for row in PanelSeat.objects.filter(
            application_id__in=[a.pk for a in rows], stage_key=round_key, status=Seat.SCORED
        )
        .values("application_id")
        .annotate(scored=Count("pk"), lowest=Min("total"), highest=Max("total"))
    }
    for application in rows:
        found = figures.get(application.pk, {})
        application.round_score = _two_places(application.round_score)
        application.ranking = RankingRow(
            rank=ranks.get(application.pk, 0),
            application=application,
            scored=found.get("scored", 0),
            lowest=_two_places(found.get("lowest")),
            highest=_two_places(found.get("highest")),
        )


def panels_open_of(
    *, call: Call, applications: QuerySet[Application], round_key: str
) -> QuerySet[Application]:
    """The call's applications whose panel in the round is drawn but not closed yet."""
    closed = PanelResult.objects.filter(application__call=call, stage_key=round_key).values(
        "application_id"
    )
    return (
        applications.filter(call=call, seats__stage_key=round_key)
        .exclude(pk__in=closed)
        .distinct()
        .order_by("institution__name")
    )

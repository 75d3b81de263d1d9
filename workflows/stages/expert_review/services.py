"""专家评审: drawing a panel from the expert pool, declarations and recusals (回避), scores,
replacing late experts, vacant seats, and the panel score.

The flow (`flow.py`) gives every seat its own `expert_score` task. A seat
that ends without a score (recusal, late expert) hands its task to a newly drawn expert, so the
task count, and what viewflow's join waits for, stays the panel size. When the pool has nobody
left, the task is unassigned and waits for a panel manager, who draws again or closes the seat.

The reads here (an expert's seats, a panel, a call's ranking) serve the stage's pages, so the
pages and the rules count the same way.
"""

import random
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Max, Min, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from forms.validators import localised

from ... import calendar
from ...flows import flow_for
from ...models import (
    Application,
    Call,
    Expert,
    ExpertRelation,
    PanelSeat,
    ReviewScore,
)
from ...programs import COLUMN_FIELDS, PAYMENT_FIELDS
from ...services.audit import application_move, audit_write, official_text
from ...services.tasks import TaskAlreadyDone, task_activation
from .params import MANAGE_PANELS

Status = Application.Status
Seat = PanelSeat.Status
NODE = "expert_score"
# A seat on these statuses holds its task: the expert still has to declare or score.
OPEN_SEATS = (Seat.DRAWN, Seat.DECLARED)
# A seat on these statuses is the one its task belongs to.
ACTIVE_SEATS = (Seat.DRAWN, Seat.DECLARED, Seat.SCORED)
OPEN_TASK = (STATUS.NEW, STATUS.ASSIGNED)
TWO_PLACES = Decimal("0.01")
METHOD_LABELS = {
    "mean": gettext_noop("平均分"),
    "trimmed_mean": gettext_noop("去掉一个最高分和一个最低分后的平均分"),
}

_random = random.SystemRandom()


# --- the panel score ---------------------------------------------------------------------------


def panel_score_compute(totals: list[Decimal], method: str) -> Decimal | None:
    """The panel score of the experts' totals: their mean, or for `trimmed_mean` the mean after
    dropping one highest and one lowest total when there are at least five; two decimals,
    rounded half up. None when nobody scored."""
    values = sorted(Decimal(t) for t in totals)
    if not values:
        return None
    if method == "trimmed_mean" and len(values) >= 5:
        values = values[1:-1]
    return (sum(values, Decimal("0")) / len(values)).quantize(TWO_PLACES, rounding=ROUND_HALF_UP)


def points_text(value: Decimal) -> str:
    """30 -> "30", 7.50 -> "7.5": points as a person writes them."""
    text = f"{Decimal(value).quantize(TWO_PLACES):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


# --- drawing ---------------------------------------------------------------------------------


def _stage(application: Application) -> dict:
    return application.program_version.stage("expert_review")


def experts_eligible(*, application: Application) -> QuerySet[Expert]:
    """Experts of the pool who may sit on the application's panel: active, not employed by the
    applicant nor acting for it, no declared relation with it, not seated on it before."""
    institution_id = application.institution_id
    return (
        Expert.objects.filter(active=True, user__is_active=True)
        .exclude(employer_id=institution_id)
        .exclude(relations__institution_id=institution_id)
        .exclude(user__institutions=institution_id)
        .exclude(seats__application=application)
        .distinct()
        .order_by("pk")
    )


def _experts_draw(application: Application, count: int) -> tuple[list[Expert], int]:
    """`count` experts drawn at random from the eligible pool (fewer when the pool is short)."""
    pool = list(experts_eligible(application=application))
    return _random.sample(pool, min(count, len(pool))), len(pool)


def _seat_create(application: Application, expert: Expert, task: Task | None = None) -> PanelSeat:
    now = timezone.now()
    return PanelSeat.objects.create(
        application=application,
        expert=expert,
        task=task,
        drawn_at=now,
        due_at=calendar.working_days_after(now, _stage(application)["review_days"]),
    )


@transaction.atomic
def panel_draw(*, application: Application) -> list[PanelSeat]:
    """Called by the flow (`draw_panel`): seat `panel_size` experts drawn at random. A pool too
    small leaves vacant seats, which wait for a panel manager."""
    size = _stage(application)["panel_size"]
    experts, pool = _experts_draw(application, size)
    seats = [_seat_create(application, expert) for expert in experts]
    audit_write(
        actor=None,
        action="panel_draw",
        application=application,
        data={
            "panel_size": size,
            "eligible": pool,
            "seats": [seat.pk for seat in seats],
            "experts": [expert.pk for expert in experts],
            "vacant": size - len(seats),
        },
    )
    return seats


def panel_branches(*, application: Application) -> list[dict]:
    """The panel split's branches: `{"seat": id}` per drawn seat, `{"seat": None}` per vacancy."""
    seats = application.seats.filter(status=Seat.DRAWN, task__isnull=True).order_by("pk")
    branches = [{"seat": seat.pk} for seat in seats]
    vacant = _stage(application)["panel_size"] - len(branches)
    return branches + [{"seat": None} for _n in range(max(vacant, 0))]


def seat_expert_user(*, seat_id: int | None):
    """The user an `expert_score` task is assigned to: its seat's expert (None when vacant)."""
    if seat_id is None:
        return None
    return PanelSeat.objects.select_related("expert__user").get(pk=seat_id).expert.user


def seat_task_link(*, task: Task) -> None:
    """Remember the task on the seat it was created for."""
    seat_id = task.data.get("seat")
    if seat_id is not None:
        PanelSeat.objects.filter(pk=seat_id).update(task=task)


def _seat_refill(activation, application: Application, *, actor, vacated: PanelSeat | None):
    """Inside the process lock: draw one expert for the activation's task and hand it the task;
    with nobody left in the pool, unassign the task so that it waits for a panel manager."""
    task = activation.task
    experts, pool = _experts_draw(application, 1)
    if not experts:
        if task.status == STATUS.ASSIGNED:
            activation.unassign()
        audit_write(
            actor=actor,
            action="panel_vacancy",
            application=application,
            data={"task": task.pk, "vacated": vacated.pk if vacated else None, "eligible": 0},
        )
        return None
    seat = _seat_create(application, experts[0], task)
    if task.status == STATUS.ASSIGNED:
        activation.reassign(experts[0].user)
    else:
        activation.assign(experts[0].user)
    audit_write(
        actor=actor,
        action="seat_draw",
        application=application,
        data={
            "seat": seat.pk,
            "expert": experts[0].pk,
            "task": task.pk,
            "replaces": vacated.pk if vacated else None,
            "eligible": pool,
        },
    )
    return seat


def _seat_locked(seat: PanelSeat) -> PanelSeat:
    return (
        PanelSeat.objects.select_for_update()
        .select_related("application", "expert")
        .get(pk=seat.pk)
    )


def _open_task_of(seat: PanelSeat) -> Task:
    if seat.task_id is None:
        raise TaskAlreadyDone(f"seat {seat.pk} has no task")
    return seat.task


# --- the expert: declaration, recusal, score ---------------------------------------------------


def seat_declare(
    *, user, seat: PanelSeat, conflict: bool, reason: str = "", relation_kind: str = ""
) -> PanelSeat:
    """The expert declares no conflict of interest (the application opens to them) or recuses
    (回避) with a reason; a recusal draws a replacement who takes over the same task. A relation
    kind, when given, is recorded so that later draws exclude the expert."""
    if seat.expert.user_id != user.pk:
        raise PermissionDenied
    reason = reason.strip()
    if conflict and not reason:
        raise ValidationError({"reason": _("申请回避须写明理由。")}, code="reason_required")
    if relation_kind and relation_kind not in ExpertRelation.Kind.values:
        raise ValidationError({"relation_kind": _("请选择利害关系类型。")}, code="relation_kind")
    with _open_task_of(seat).activation() as activation:
        seat = _seat_locked(seat)
        task = activation.task
        if seat.status != Seat.DRAWN or task.status not in OPEN_TASK or task.owner_id != user.pk:
            raise ValidationError(_("该申报已声明，或已不再由您评审。"), code="not_drawn")
        application = seat.application
        seat.declared_at = timezone.now()
        if not conflict:
            seat.status = Seat.DECLARED
            seat.save(update_fields=["status", "declared_at"])
            audit_write(
                actor=user,
                action="seat_declare",
                application=application,
                data={"seat": seat.pk, "expert": seat.expert_id},
            )
            return seat
        seat.status = Seat.RECUSED
        seat.recusal_reason = reason
        seat.save(update_fields=["status", "declared_at", "recusal_reason"])
        if relation_kind:
            ExpertRelation.objects.get_or_create(
                expert=seat.expert, institution=application.institution, kind=relation_kind
            )
        audit_write(
            actor=user,
            action="seat_recuse",
            application=application,
            reason=reason,
            data={"seat": seat.pk, "expert": seat.expert_id, "relation": relation_kind},
        )
        _seat_refill(activation, application, actor=user, vacated=seat)
    return seat


def points_clean(rubric: list[dict], points: dict) -> dict[str, Decimal]:
    """Each criterion's points as a Decimal within 0..max with at most two decimals, or a
    ValidationError naming every criterion that is wrong (keyed by criterion)."""
    cleaned: dict[str, Decimal] = {}
    errors: dict[str, list[str]] = {}
    for criterion in rubric:
        key, name = criterion["key"], localised(criterion)
        maximum = Decimal(str(criterion["max_points"]))
        raw = points.get(key)
        if raw is None or str(raw).strip() == "":
            errors[key] = [_("请为“%(name)s”评分。") % {"name": name}]
            continue
        try:
            value = Decimal(str(raw).strip())
        except InvalidOperation:
            value = None
        if value is None or not value.is_finite():
            errors[key] = [_("“%(name)s”的得分应为数字。") % {"name": name}]
        elif value < 0 or value > maximum:
            errors[key] = [
                _("“%(name)s”的得分应在0至%(max)s分之间。")
                % {"name": name, "max": points_text(maximum)}
            ]
        elif value != value.quantize(TWO_PLACES):
            errors[key] = [_("“%(name)s”的得分最多保留两位小数。") % {"name": name}]
        else:
            cleaned[key] = value.quantize(TWO_PLACES)
    if errors:
        raise ValidationError(errors, code="points")
    return cleaned


def seat_score(*, user, seat: PanelSeat, points: dict, comment: str) -> PanelSeat:
    """The expert's scores for every rubric criterion with a comment; completes the seat's task
    (the panel closes when it was the last one)."""
    if seat.expert.user_id != user.pk:
        raise PermissionDenied
    rubric = seat.application.program["rubric"]
    comment = comment.strip()
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Decimal] = {}
    try:
        cleaned = points_clean(rubric, points)
    except ValidationError as error:
        errors.update(error.message_dict)
    if not comment:
        errors["comment"] = [_("请填写评审意见。")]
    if errors:
        raise ValidationError(errors, code="score")
    with task_activation(_open_task_of(seat), user, NODE) as activation:
        seat = _seat_locked(seat)
        if seat.status != Seat.DECLARED or seat.task_id != activation.task.pk:
            raise ValidationError(_("请先声明与申报单位无利害关系，再评分。"), code="not_declared")
        ReviewScore.objects.bulk_create(
            ReviewScore(seat=seat, criterion=key, points=value) for key, value in cleaned.items()
        )
        seat.total = sum(cleaned.values(), Decimal("0.00"))
        seat.comment = comment
        seat.status = Seat.SCORED
        seat.scored_at = timezone.now()
        seat.save(update_fields=["total", "comment", "status", "scored_at"])
        audit_write(
            actor=user,
            action="seat_score",
            application=seat.application,
            data={"seat": seat.pk, "expert": seat.expert_id, "total": str(seat.total)},
        )
        activation.execute()
    return seat


# --- the panel managers: late experts, vacant seats -------------------------------------------


def seat_is_late(seat: PanelSeat, at=None) -> bool:
    at = at or timezone.now()
    return seat.status in OPEN_SEATS and seat.due_at is not None and seat.due_at < at


def _require_manager(user) -> None:
    if not user.has_perm(MANAGE_PANELS):
        raise PermissionDenied


def seat_replace(*, user, seat: PanelSeat, reason: str = "") -> PanelSeat | None:
    """Replace an expert who let the review period pass: the seat is closed as replaced and a
    newly drawn expert takes over its task. Returns the new seat (None: the pool is empty and the
    seat waits as a vacancy)."""
    _require_manager(user)
    reason = reason.strip() or official_text("超过评审期限未完成评审。")
    with _open_task_of(seat).activation() as activation:
        seat = _seat_locked(seat)
        if not seat_is_late(seat) or activation.task.status not in OPEN_TASK:
            raise ValidationError(_("只能替换超过评审期限仍未评分的专家。"), code="not_late")
        seat.status = Seat.REPLACED
        seat.save(update_fields=["status"])
        audit_write(
            actor=user,
            action="seat_replace",
            application=seat.application,
            reason=reason,
            data={"seat": seat.pk, "expert": seat.expert_id, "due_at": seat.due_at.isoformat()},
        )
        return _seat_refill(activation, seat.application, actor=user, vacated=seat)


def _vacant_task(application: Application, task: Task) -> Task:
    if (
        task.process_id != application.process_id
        or task.flow_task.name != NODE
        or task.status != STATUS.NEW
        or task.owner_id is not None
        or application.seats.filter(task=task, status__in=ACTIVE_SEATS).exists()
    ):
        raise ValidationError(_("该席位已有专家或已关闭。"), code="not_vacant")
    return task


def vacancy_fill(*, user, application: Application, task: Task) -> PanelSeat:
    """Draw again for a vacant seat (after experts were added to the pool)."""
    _require_manager(user)
    with task.activation() as activation:
        _vacant_task(application, activation.task)
        seat = _seat_refill(activation, application, actor=user, vacated=None)
        if seat is None:
            raise ValidationError(
                _("专家库中没有可抽取的专家（已排除有利害关系和已在本组的专家）。"),
                code="pool_empty",
            )
    return seat


def vacancy_close(*, user, application: Application, task: Task, reason: str) -> None:
    """Close a vacant seat without a score, so that the panel can close with fewer experts."""
    _require_manager(user)
    reason = reason.strip()
    if not reason:
        raise ValidationError(_("关闭空缺席位须写明理由。"), code="reason_required")
    _vacant_task(application, task)
    with task_activation(task, user, NODE) as activation:
        audit_write(
            actor=user,
            action="panel_vacancy_close",
            application=application,
            reason=reason,
            data={"task": activation.task.pk},
        )
        activation.execute()


# --- closing the panel ------------------------------------------------------------------------


def panel_close(*, application: Application) -> Application:
    """Called by the flow when every seat has scored (or was closed): the panel score by the
    program's method, and the application moves to 专家评审完成."""
    method = _stage(application)["score_method"]
    totals = list(application.seats.filter(status=Seat.SCORED).values_list("total", flat=True))
    application.panel_score = panel_score_compute(totals, method)
    application.save(update_fields=["panel_score"])
    if application.panel_score is None:
        reason = official_text("专家评审结束，无专家评分。")
    else:
        reason = official_text(
            "专家评审得分%(score)s分（%(n)d位专家评分，计分方法：%(method)s）。"
        ) % {
            "score": application.panel_score,
            "n": len(totals),
            "method": official_text(METHOD_LABELS[method]),
        }
    return application_move(
        application=application, to=Status.SCORED, actor=None, action="panel_close", reason=reason
    )


# --- reads for the pages ----------------------------------------------------------------------


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


def application_facts(application: Application) -> list[tuple[str, object]]:
    """(label, value) of the application's form fields an expert reads (bank details left out)."""
    facts = []
    for item in application.program["fields"]:
        name = item["name"]
        if name in PAYMENT_FIELDS:
            continue
        if name == "tier":
            value = application.tier_label
        elif name in COLUMN_FIELDS:
            value = getattr(application, name)
        else:
            value = application.extra.get(name, "")
        facts.append((localised(item), value))
    return facts


def rubric_rows(application: Application, scores: dict | None = None) -> list[dict]:
    """The rubric as the pages show it: name, maximum, guidance (and given points, if any)."""
    return [
        {
            "key": c["key"],
            "name": localised(c),
            "max_points": points_text(Decimal(str(c["max_points"]))),
            "guidance": c["guidance"],
            "points": (scores or {}).get(c["key"]),
        }
        for c in application.program["rubric"]
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
    rubric: list[dict]
    size: int
    method: str
    rows: list[SeatRow] = field(default_factory=list)
    vacancies: list[Task] = field(default_factory=list)
    is_open: bool = True

    @property
    def late(self) -> list[SeatRow]:
        return [row for row in self.rows if row.late]

    @property
    def method_label(self) -> str:
        return _(METHOD_LABELS[self.method])


def panel_of(application: Application) -> Panel:
    stage = _stage(application)
    rubric = rubric_rows(application)
    seats = list(
        application.seats.select_related("expert__user", "task").prefetch_related("scores")
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
    open_tasks = panel_open_tasks(application)
    held = {seat.task_id for seat in seats if seat.status in ACTIVE_SEATS}
    return Panel(
        application=application,
        rubric=rubric,
        size=stage["panel_size"],
        method=stage["score_method"],
        rows=rows,
        vacancies=[task for task in open_tasks if task.pk not in held],
        is_open=bool(open_tasks),
    )


def panel_open_tasks(application: Application) -> list[Task]:
    if application.process_id is None:
        return []
    node = flow_for(application.call.program_slug).instance.node(NODE)
    if node is None:
        return []
    return list(
        Task.objects.filter(
            process_id=application.process_id, flow_task=node, status__in=OPEN_TASK
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


def ranking_of(*, call: Call, applications: QuerySet[Application]) -> list[RankingRow]:
    """The call's applications with a panel score, highest first (equal scores share a rank),
    with the lowest and highest expert totals and their spread."""
    scored = Q(seats__status=Seat.SCORED)
    rows = (
        applications.filter(call=call, panel_score__isnull=False)
        .annotate(
            scored=Count("seats", filter=scored),
            lowest=Min("seats__total", filter=scored),
            highest=Max("seats__total", filter=scored),
        )
        .order_by("-panel_score", "institution__name", "pk")
    )
    ranking: list[RankingRow] = []
    for position, application in enumerate(rows, 1):
        tied = ranking and ranking[-1].application.panel_score == application.panel_score
        ranking.append(
            RankingRow(
                rank=ranking[-1].rank if tied else position,
                application=application,
                scored=application.scored,
                lowest=_two_places(application.lowest),
                highest=_two_places(application.highest),
            )
        )
    return ranking


def panels_open_of(*, call: Call, applications: QuerySet[Application]) -> QuerySet[Application]:
    """The call's applications whose panel is drawn but not closed yet."""
    return (
        applications.filter(call=call, panel_score__isnull=True, seats__isnull=False)
        .exclude(status=Status.SCORED)
        .distinct()
        .order_by("institution__name")
    )

"""专家评审: drawing a panel from the expert pool, declarations and recusals (回避), scores,
replacing late experts, vacant seats, the panel score, and closing a round that passes only its
best N.

A program may hold several expert rounds (初评, 终评…): each is a stage with a key of its own,
and seats and results carry that key. The flow (`flow.py`) gives every seat its own
`expert_score` task. A seat that ends without a score (recusal, late expert) hands its task to a
newly drawn expert, so the task count, and what viewflow's join waits for, stays the panel size.
When the pool has nobody left, the task is unassigned and waits for a panel manager, who draws
again or closes the seat. Every draw is on the record (`draw`).
"""

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from documents.services import reason_length_check
from forms.validators import localised

from ... import calendar
from ...flows import local_name
from ...models import Application, ExpertRelation, PanelDraw, PanelResult, PanelSeat, ReviewScore
from ...programs import stage_by_key
from ...services.advance import task_done
from ...services.audit import application_move, audit_write, official_text
from ...services.notifications import task_assigned_notify
from ...services.tasks import TaskAlreadyDone, task_activation
from ...wording import Term, phrase
from .draw import experts_draw
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
POINTS_RE = re.compile(r"-?(\d+(\.\d*)?|\.\d+)")
METHOD_LABELS = {
    "mean": gettext_noop("平均分"),
    "trimmed_mean": gettext_noop("去掉一个最高分和一个最低分后的平均分"),
}

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


def stage_rules(application: Application, stage_key: str) -> dict:
    """The round's parameters under the application's program version, its rubric resolved (the
    round's own, else the program's)."""
    stage = stage_by_key(application.program, stage_key)
    return {**stage, "rubric": stage.get("rubric") or application.program["rubric"]}


def _seat_create(
    application: Application, expert, stage: dict, task: Task | None = None
) -> PanelSeat:
    now = timezone.now()
    due = calendar.working_days_until(now, stage["review_days"])
    return PanelSeat.objects.create(
        application=application,
        stage_key=stage.get("key") or stage["type"],
        expert=expert,
        task=task,
        drawn_at=now,
        due_at=due.at,
        due_days=stage["review_days"],
        due_provisional=due.provisional,
    )


@transaction.atomic
def panel_draw(*, application: Application, stage: dict) -> list[PanelSeat]:
    """Called by the flow (`draw_panel`): seat `panel_size` experts drawn at random. A pool too
    small leaves vacant seats, which wait for a panel manager."""
    key = stage.get("key") or stage["type"]
    size = stage["panel_size"]
    experts, record = experts_draw(
        application=application, stage_key=key, size=size, kind=PanelDraw.Kind.PANEL
    )
    seats = [_seat_create(application, expert, stage) for expert in experts]
    audit_write(
        actor=None,
        action="panel_draw",
        application=application,
        data={
            "round": key,
            "draw": record.pk,
            "panel_size": size,
            "eligible": len(record.candidates),
            "seats": [seat.pk for seat in seats],
            "experts": [expert.pk for expert in experts],
            "vacant": size - len(seats),
        },
    )
    return seats


def panel_branches(*, application: Application, stage: dict) -> list[dict]:
    """The panel split's branches: `{"seat": id}` per drawn seat, `{"seat": None}` per vacancy."""
    seats = application.seats.filter(
        stage_key=stage.get("key") or stage["type"], status=Seat.DRAWN, task__isnull=True
    ).order_by("pk")
    branches = [{"seat": seat.pk} for seat in seats]
    vacant = stage["panel_size"] - len(branches)
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
    stage = stage_rules(application, task.flow_task.stage_key)
    experts, record = experts_draw(
        application=application,
        stage_key=task.flow_task.stage_key,
        size=1,
        kind=PanelDraw.Kind.REPLACEMENT if vacated else PanelDraw.Kind.VACANCY,
        actor=actor,
        replaces=vacated,
    )
    pool = len(record.candidates)
    if not experts:
        if task.status == STATUS.ASSIGNED:
            activation.unassign()
        audit_write(
            actor=actor,
            action="panel_vacancy",
            application=application,
            data={
                "task": task.pk,
                "draw": record.pk,
                "vacated": vacated.pk if vacated else None,
                "eligible": 0,
            },
        )
        return None
    seat = _seat_create(application, experts[0], stage, task)
    if task.status == STATUS.ASSIGNED:
        activation.reassign(experts[0].user)
    else:
        activation.assign(experts[0].user)
    task_assigned_notify(task=task, application=application, seat=seat)
    audit_write(
        actor=actor,
        action="seat_draw",
        application=application,
        data={
            "seat": seat.pk,
            "expert": experts[0].pk,
            "task": task.pk,
            "replaces": vacated.pk if vacated else None,
            "draw": record.pk,
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
    reason = reason_length_check(reason)
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
        text = str(raw).strip()
        if not text.isascii():
            # Decimal() reads full-width digits (２０) too; a score is typed half-width.
            errors[key] = [_("“%(name)s”的得分请使用半角数字（0-9）输入。") % {"name": name}]
            continue
        try:
            # Digits with at most one point (a minus is told the range): Decimal() also reads
            # 1e1, +5 and 1_0.
            value = Decimal(text) if POINTS_RE.fullmatch(text) else None
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
    rubric = stage_rules(seat.application, seat.stage_key)["rubric"]
    comment = comment.strip()
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Decimal] = {}
    try:
        reason_length_check(comment)
    except ValidationError as error:
        errors["comment"] = error.messages
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
        task_done(activation)
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
        or local_name(task.flow_task) != NODE
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
    reason = reason_length_check(reason)
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
        task_done(activation)


# --- closing the panel ------------------------------------------------------------------------


def panel_close(*, application: Application, stage: dict) -> Application:
    """Called by the flow when every seat of the round has scored (or was closed): the round's
    score by its method, recorded (`PanelResult`), and the application moves to 专家评审完成."""
    key = stage.get("key") or stage["type"]
    method = stage["score_method"]
    totals = list(
        application.seats.filter(stage_key=key, status=Seat.SCORED).values_list("total", flat=True)
    )
    score = panel_score_compute(totals, method)
    PanelResult.objects.update_or_create(
        application=application,
        stage_key=key,
        defaults={"score": score, "scored": len(totals), "closed_at": timezone.now()},
    )
    application.panel_score = score
    application.save(update_fields=["panel_score"])
    name = Term(stage.get("name") or official_text("专家评审"))
    if score is None:
        reason = phrase(gettext_noop("%(round)s结束，无专家评分。"), round=name)
    else:
        reason = phrase(
            gettext_noop("%(round)s得分%(score)s分（%(n)d位专家评分，计分方法：%(method)s）。"),
            round=name,
            score=score,
            n=len(totals),
            method=Term(official_text(METHOD_LABELS[method])),
        )
    return application_move(
        application=application, to=Status.SCORED, actor=None, action="panel_close", reason=reason
    )


# --- closing a round that passes only its best N -------------------------------------------------

ROUND_NODE = "await_round"


def round_close_check(*, user, call, round_key: str) -> dict:
    """What must hold before the round is closed; the round's parameters."""
    from ... import selectors

    if not user.has_perm(MANAGE_PANELS):
        raise PermissionDenied
    waiting = selectors.applications_awaiting(call, ROUND_NODE, round_key)
    first = waiting.first()
    if first is None:
        raise ValidationError(_("本轮评审没有等待确定名单的申报。"), code="nothing_to_close")
    on_the_way = _applications_before_round(call, round_key).count()
    if on_the_way:
        raise ValidationError(
            _(
                "该批次还有%(n)d项申报尚未完成本轮评审（或其前序环节），全部完成后才能确定"
                "进入下一环节的名单。"
            )
            % {"n": on_the_way},
            code="round_open",
        )
    return stage_rules(first, round_key)


def _applications_before_round(call, round_key: str):
    from viewflow.workflow.status import PROCESS

    from ... import selectors

    waiting = selectors.applications_awaiting(call, ROUND_NODE, round_key).values("pk")
    return (
        call.applications.exclude(status=Status.DRAFT)
        .exclude(process__isnull=True)
        .exclude(process__status__in=[PROCESS.DONE, PROCESS.CANCELED])
        .exclude(pk__in=waiting)
        .exclude(panel_results__stage_key=round_key, panel_results__advanced__isnull=False)
    )


def round_ranks(results: list[PanelResult]) -> dict[int, int]:
    """{application pk: rank} by score, highest first; equal scores share a rank (1, 1, 3);
    no score ranks last."""
    ordered = sorted(results, key=lambda r: (r.score is None, -(r.score or 0)))
    ranks: dict[int, int] = {}
    previous = None
    for position, result in enumerate(ordered, 1):
        if previous is not None and result.score == previous.score:
            ranks[result.application_id] = ranks[previous.application_id]
        else:
            ranks[result.application_id] = position
        previous = result
    return ranks


def round_close(*, user, call, round_key: str, dispatch: bool = False):
    """Close an expert round that passes only its best N (`advance_top`): the N highest scores
    of the call go on (equal scores at the cut go on together); every other application ends
    with a numbered 评审结果决定书 stating its score, rank, the places and the remedies.

    The ranks are recorded first (PanelResult.rank and .advanced); the decisions are then issued
    as one batch (documents.batch), each with its application's end. A document that failed is
    listed on the batch and issued by closing the round again; the ranks stay as recorded.
    The batch runs in this process, or fans out to the worker processes when `dispatch`."""

    from ... import selectors

    stage = round_close_check(user=user, call=call, round_key=round_key)
    places = stage["advance_top"]
    with transaction.atomic():
        type(call).objects.select_for_update().get(pk=call.pk)
        tasks = {
            task.process.application.pk: task
            for task in selectors.tasks_waiting(call, ROUND_NODE)
            if task.flow_task.stage_key == round_key
        }
        results = list(
            PanelResult.objects.select_for_update()
            .filter(application_id__in=list(tasks), stage_key=round_key)
            .select_related("application__institution", "application__program_version")
        )
        undecided = [r for r in results if r.advanced is None]
        if undecided:
            ranks = round_ranks(
                list(PanelResult.objects.filter(application__call=call, stage_key=round_key))
            )
            for result in undecided:
                result.rank = ranks[result.application_id]
                result.advanced = result.rank <= places
                result.save(update_fields=["rank", "advanced"])
            audit_write(
                actor=user,
                action="round_close",
                call=call,
                data={
                    "round": round_key,
                    "places": places,
                    "ranks": {str(r.application_id): r.rank for r in undecided},
                },
            )
        for result in results:
            if result.advanced:
                application = result.application
                audit_write(
                    actor=user,
                    action="advance",
                    application=application,
                    data={"round": round_key, "rank": result.rank},
                )
                task = tasks[application.pk]
                task.flow_task.run(task)
    failing = [r for r in results if not r.advanced]
    if failing:
        _round_decisions_issue(
            user=user, call=call, stage=stage, results=failing, dispatch=dispatch
        )
    return results


def _round_decisions_issue(*, user, call, stage: dict, results, dispatch: bool) -> None:
    """A 评审结果决定书 per application that did not go on, issued as a batch; each stored with
    its application's move to 未进入下一环节 and the end of its process."""
    from documents import batch as document_batch
    from documents.models import Document

    from ...services.issuing import document_context, issue_fields

    kind = Document.Kind.ROUND_RESULT_DECISION
    everyone = PanelResult.objects.filter(
        application__call=call, stage_key=stage.get("key") or stage["type"]
    )
    ranked = everyone.count()
    cutoff = min((r.score for r in everyone if r.advanced and r.score is not None), default=None)
    name = stage.get("name") or official_text("专家评审")
    requests = []
    for result in results:
        application = result.application
        context = document_context(application, call)
        reasons = official_text(
            "你单位的申报在%(round)s中得分排名第%(rank)d位，未进入前%(places)d位。"
        ) % {"round": name, "rank": result.rank, "places": stage["advance_top"]}
        context.update(
            round={
                "name": name,
                "score": result.score,
                "rank": result.rank,
                "ranked": ranked,
                "places": stage["advance_top"],
                "cutoff": cutoff,
                "scored": result.scored,
            },
            reasons="",
        )
        requests.append(
            document_batch.BatchRequest(
                key=application.pk,
                label=application.institution.name,
                fields=issue_fields(
                    kind=kind, application=application, call=call, user=user, context=context
                ),
                data={"reason": reasons},
            )
        )

    batch = document_batch.issue_batch_start(call=call, kind=kind, user=user)
    try:
        with transaction.atomic():
            document_batch.issue_batch_prepare(
                batch=batch, requests=requests, handler=f"{__name__}.round_document_recorded"
            )
            if dispatch:
                document_batch.issue_batch_dispatch(batch)
    except BaseException as error:
        document_batch.issue_batch_fail(batch=batch, error=error)
        raise
    if not dispatch:
        document_batch.issue_batch_run(batch)


def round_document_recorded(*, batch, application, document, data) -> None:
    """The round's batch handler (documents.batch), in the stored decision's transaction: the
    audit record, the move to 未进入下一环节 and the end of the application's process."""
    from ...services.issuing import issue_audit
    from ...services.tasks import open_task

    issue_audit(user=batch.created_by, document=document, application=application, call=batch.call)
    application_move(
        application=application,
        to=Status.NOT_ADVANCED,
        actor=batch.created_by,
        action="not_advance",
        reason=data["reason"],
    )
    task = open_task(application, ROUND_NODE)
    task.flow_task.run(task)

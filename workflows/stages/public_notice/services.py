"""Publishing a call's list, objections (异议) during the period, and its close."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from stdnum.cn import ric
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from documents.models import Document
from documents.services import reason_length_check
from forms.validators import organisation_name_valid, person_name_valid

from ... import calendar, selectors
from ...flows import nodes_named
from ...models import Application, Call, NoticePeriodChange, Objection, PublicNotice
from ...programs import stage_key
from ...selectors import objections_pending_for
from ...services.advance import timer_fire
from ...services.applications import pdf_check
from ...services.audit import application_move, audit_deferred, audit_write
from ...services.handles import handle_tasks_locked, handles_run
from ...services.issuing import adverse_issue
from ...services.notifications import objection_lodged_notify
from ...services.personal_data import public_reason_check
from ...services.tasks import open_task_or_none
from ..base import stage_of_node

Status = Application.Status


NOTICE_TITLES = {
    "funding_decision": "拟资助名单公示",
    "recognition_decision": "拟认定名单公示",
    "commendation_decision": "拟表彰名单公示",
}


def stage_decision_document(application: Application) -> str:
    decision = application.program_version.stage("decision")
    return decision["document"] if decision else "funding_decision"


RUN_PUBLIC_NOTICE = "workflows.run_public_notice"


def public_notice_publish_check(*, user, call: Call) -> None:
    """What must hold before the call's list is published (the call page disables the button
    with this message)."""
    _publish_refused(user, waiting=selectors.tasks_waiting(call, "await_notice").exists())


def _publish_refused(user, *, waiting: bool) -> None:
    if not user.has_perm(RUN_PUBLIC_NOTICE):
        raise PermissionDenied
    if not waiting:
        raise ValidationError(_("该批次没有待公示的名单。"), code="nothing_to_publish")


def public_notice_publish(*, user, call: Call) -> PublicNotice:
    """Publish the list of the call's applications waiting for the notice (whatever stage
    decided them: leadership, committee or the expert panel); each application's timer closes
    the period by itself."""
    tasks = selectors.tasks_waiting_list(call, "await_notice")
    _publish_refused(user, waiting=bool(tasks))
    # One list per notice stage: the earliest stage of the program that has someone waiting.
    keys = [stage_key(s) for s in tasks[0].process.application.program["stages"]]
    first = min((task.flow_task.stage_key for task in tasks), key=keys.index)
    tasks = [task for task in tasks if task.flow_task.stage_key == first]
    applications = [task.process.application for task in tasks]
    for application in applications:
        application.call = call  # not read again for each
    stage = stage_of_node(applications[0], tasks[0].flow_task)
    now = timezone.now()
    period = calendar.period_until(now, stage["days"], stage["day_kind"])
    with transaction.atomic(), audit_deferred():  # the notice's and the moves' in one INSERT
        waiting = handle_tasks_locked(applications, "await_notice")
        notice = PublicNotice.objects.create(
            call=call,
            title=f"{call.title}{NOTICE_TITLES[stage_decision_document(applications[0])]}",
            starts_at=now,
            ends_at=period.at,
            days=stage["days"],
            day_kind=stage["day_kind"],
            ends_provisional=period.provisional,
            published_by=user,
        )
        audit_write(
            actor=user,
            action="public_notice_publish",
            call=call,
            data={"notice": notice.pk, "ends_at": notice.ends_at.isoformat()},
        )
        for application in applications:
            application.public_notice = notice
            application_move(
                application=application,
                to=Status.IN_NOTICE,
                actor=user,
                action="notice_start",
                also_saved=("public_notice",),
            )
        handles_run(waiting)  # each application's timer set to the period's end
    return notice


def objection_lodge(
    *,
    user,
    application: Application,
    capacity: str,
    organisation_name: str = "",
    real_name: str = "",
    id_number: str = "",
    phone: str,
    statement: str,
    evidence,
) -> Objection:
    """A written, signed objection with evidence, during the notice period only."""
    if not user.is_authenticated:
        raise PermissionDenied
    application = Application.objects.select_related("public_notice").get(pk=application.pk)
    notice = application.public_notice
    if application.status != Status.IN_NOTICE or notice is None or not notice.is_open():
        raise ValidationError(_("公示期已结束或该申报不在公示中，不能再提出异议。"), code="closed")
    if capacity == Objection.Capacity.ORGANISATION and not organisation_name.strip():
        raise ValidationError(_("以单位名义提出异议须填写单位名称并加盖公章。"), code="org")
    if capacity == Objection.Capacity.ORGANISATION and not organisation_name_valid(
        organisation_name
    ):
        raise ValidationError(_("请填写单位的全称。"), code="org_name")
    if capacity == Objection.Capacity.PERSON and real_name.strip():
        if not person_name_valid(real_name):
            raise ValidationError(
                _("真实姓名只能由文字组成（可含间隔号“·”），请核对后重新填写。"),
                code="person_name",
            )
    if capacity == Objection.Capacity.PERSON:
        if not id_number.strip().isascii():
            # python-stdnum reads full-width digits too; the number is kept as typed half-width.
            raise ValidationError(
                _("身份证号码请使用半角数字和字母输入（例如输入法切换到半角）。"), code="id_ascii"
            )
        if not real_name.strip() or not ric.is_valid(id_number):
            raise ValidationError(
                _("以个人名义提出异议须填写真实姓名和有效的身份证号码。"), code="person"
            )
    if not statement.strip():
        raise ValidationError(_("请写明异议的事实和理由。"), code="statement")
    reason_length_check(statement)
    if evidence is None:
        raise ValidationError(_("请上传证据材料。"), code="evidence")
    pdf_check(evidence)
    with transaction.atomic():
        objection = Objection.objects.create(
            application=application,
            lodged_by=user,
            capacity=capacity,
            organisation_name=organisation_name.strip(),
            real_name=real_name.strip(),
            id_number=id_number.strip(),
            phone=phone,
            statement=statement.strip(),
            evidence=evidence,
        )
        audit_write(
            actor=user,
            action="objection_lodge",
            application=application,
            data={"objection": objection.pk},
        )
        objection_lodged_notify(objection=objection)
    return objection


@transaction.atomic
def objection_handle(*, user, objection: Objection, upheld: bool, reason: str) -> Objection:
    """Uphold (the application drops out with reasons) or dismiss an objection."""
    if not user.has_perm("workflows.run_public_notice"):
        raise PermissionDenied
    if not reason_length_check(reason):
        raise ValidationError(_("请写明处理理由。"), code="reason_required")
    objection = Objection.objects.select_for_update().get(pk=objection.pk)
    if objection.status != Objection.Status.PENDING:
        raise ValidationError(_("该异议已处理。"), code="handled")
    objection.status = Objection.Status.UPHELD if upheld else Objection.Status.DISMISSED
    objection.handled_by = user
    objection.handled_at = timezone.now()
    objection.handling_reason = reason.strip()
    objection.save()
    application = objection.application
    audit_write(
        actor=user,
        action="objection_uphold" if upheld else "objection_dismiss",
        application=application,
        reason=reason.strip(),
        data={"objection": objection.pk},
    )
    if upheld and application.status in (Status.IN_NOTICE, Status.NOTICE_CLOSED):
        application_move(
            application=application,
            to=Status.WITHDRAWN,
            actor=user,
            action="withdraw",
            reason=reason.strip(),
        )
        notice = application.public_notice
        adverse_issue(
            kind=Document.Kind.WITHDRAWAL_DECISION,
            application=application,
            user=user,
            reasons=reason.strip(),
            notice={
                "title": notice.title,
                "starts_at": notice.starts_at,
                "ends_at": notice.ends_at,
            },
        )
    if application.status != Status.IN_NOTICE and not objections_pending_for(application):
        # The period is over and this was the last objection: the application moves on.
        waiting = open_task_or_none(application, "await_objections")
        if waiting is not None:
            waiting.flow_task.run(waiting)
    return objection


def application_notice_close(*, application: Application) -> None:
    """Called by the flow when the notice period's timer fires."""
    if application.status == Status.IN_NOTICE:
        application_move(
            application=application, to=Status.NOTICE_CLOSED, actor=None, action="notice_close"
        )


# --- adjusting a notice period ---------------------------------------------------------------


def _period_timers(notice: PublicNotice):
    """The scheduled timers of the notice's applications that close its period."""
    return Task.objects.filter(
        process__application__public_notice=notice,
        flow_task__in=nodes_named(notice.call.program_slug, "notice_period"),
        status=STATUS.SCHEDULED,
    )


def _period_change_check(*, user, notice: PublicNotice, reason: str) -> str:
    if not user.has_perm(RUN_PUBLIC_NOTICE):
        raise PermissionDenied
    if not notice.is_open():
        raise ValidationError(_("公示期已结束，不能再调整公示期。"), code="notice_closed")
    if not reason_length_check(reason):
        raise ValidationError(_("请写明调整公示期的理由。"), code="reason_required")
    return public_reason_check(reason)


def notice_period_extend(*, user, notice: PublicNotice, days: int, reason: str) -> PublicNotice:
    """Extend an open notice period by `days` more days, counted as the program counts the
    period (calendar or working days, with the holiday calendar); each application's timer
    moves to the new end. Nothing else about the applications changes."""
    if days < 1:
        raise ValidationError(_("延长天数须为正整数。"), code="days")
    with transaction.atomic():
        notice = PublicNotice.objects.select_for_update().get(pk=notice.pk)
        reason = _period_change_check(user=user, notice=notice, reason=reason)
        old = notice.ends_at
        # The period counted again from its start with more days: the same end as counting on
        # from the old end, and what a holiday calendar entered later recomputes.
        total = (notice.days or 0) + days
        period = calendar.period_until(notice.starts_at, total, notice.day_kind or "calendar")
        _period_timers(notice).update(scheduled=period.at)
        notice.days = total
        notice.ends_at = period.at
        notice.ends_provisional = period.provisional
        notice.save(update_fields=["days", "ends_at", "ends_provisional"])
        _period_change_record(
            user=user, notice=notice, kind=NoticePeriodChange.Kind.EXTEND, old=old, reason=reason
        )
    return notice


def notice_period_end(*, user, notice: PublicNotice, reason: str) -> PublicNotice:
    """End an open notice period now (refused while an objection is pending): the period's
    timers fire at once, so the list moves on as when the period runs out."""
    with transaction.atomic():
        notice = PublicNotice.objects.select_for_update().get(pk=notice.pk)
        reason = _period_change_check(user=user, notice=notice, reason=reason)
        pending = Objection.objects.filter(
            application__public_notice=notice, status=Objection.Status.PENDING
        ).count()
        if pending:
            raise ValidationError(
                _("该公示还有%(n)d件异议未处理，处理完毕后才能提前结束公示。") % {"n": pending},
                code="pending_objections",
            )
        old = notice.ends_at
        now = timezone.now()
        timers = list(_period_timers(notice))
        notice.ends_at = now
        notice.ends_provisional = False
        notice.save(update_fields=["ends_at", "ends_provisional"])
        _period_change_record(
            user=user,
            notice=notice,
            kind=NoticePeriodChange.Kind.END_EARLY,
            old=old,
            reason=reason,
        )
        for task in timers:
            task.scheduled = now
            task.save(update_fields=["scheduled"])
            with task.activation() as activation:
                timer_fire(activation)
    return notice


def _period_change_record(*, user, notice, kind, old, reason) -> NoticePeriodChange:
    change = NoticePeriodChange.objects.create(
        notice=notice,
        kind=kind,
        old_ends_at=old,
        new_ends_at=notice.ends_at,
        reason=reason,
        changed_by=user,
    )
    action = "notice_end_early" if kind == NoticePeriodChange.Kind.END_EARLY else "notice_extend"
    data = {
        "notice": notice.pk,
        "old_ends_at": old.isoformat(),
        "new_ends_at": notice.ends_at.isoformat(),
    }
    # The call's trail, and each listed application's history.
    audit_write(actor=user, action=action, call=notice.call, reason=reason, data=data)
    for application in notice.applications.all():
        audit_write(actor=user, action=action, application=application, reason=reason, data=data)
    return change

"""Publishing a call's list, objections (异议) during the period, and its close."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from stdnum.cn import ric

from documents.models import Document

from ... import calendar, selectors
from ...models import Application, Call, Objection, PublicNotice
from ...programs import stage_key
from ...selectors import objections_pending_for
from ...services.applications import pdf_check
from ...services.audit import application_move, audit_write
from ...services.issuing import adverse_issue
from ...services.notifications import objection_lodged_notify
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


def public_notice_publish(*, user, call: Call) -> PublicNotice:
    """Publish the list of the call's applications waiting for the notice (whatever stage
    decided them: leadership, committee or the expert panel); each application's timer closes
    the period by itself."""
    if not user.has_perm("workflows.run_public_notice"):
        raise PermissionDenied
    tasks = list(selectors.tasks_waiting(call, "await_notice"))
    if not tasks:
        raise ValidationError(_("该批次没有待公示的名单。"), code="nothing_to_publish")
    # One list per notice stage: the earliest stage of the program that has someone waiting.
    keys = [stage_key(s) for s in tasks[0].process.application.program["stages"]]
    first = min((task.flow_task.stage_key for task in tasks), key=keys.index)
    tasks = [task for task in tasks if task.flow_task.stage_key == first]
    applications = [task.process.application for task in tasks]
    stage = stage_of_node(applications[0], tasks[0].flow_task)
    now = timezone.now()
    period = calendar.period_until(now, stage["days"], stage["day_kind"])
    with transaction.atomic():
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
        for task, application in zip(tasks, applications, strict=True):
            application.public_notice = notice
            application.save(update_fields=["public_notice"])
            application_move(
                application=application, to=Status.IN_NOTICE, actor=user, action="notice_start"
            )
            task.flow_task.run(task)
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
    if capacity == Objection.Capacity.PERSON:
        if not real_name.strip() or not ric.is_valid(id_number):
            raise ValidationError(
                _("以个人名义提出异议须填写真实姓名和有效的身份证号码。"), code="person"
            )
    if not statement.strip():
        raise ValidationError(_("请写明异议的事实和理由。"), code="statement")
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
    if not reason.strip():
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

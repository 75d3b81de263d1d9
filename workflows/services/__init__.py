"""Every write in the application: one function per action, keyword-only, atomic, validated first.

Errors a user can fix raise `ValidationError` with a Chinese message (translated through gettext);
broken invariants raise a named domain exception. Each action writes an audit record.
"""

import hashlib
from contextlib import contextmanager
from datetime import date
from decimal import Decimal

from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from guardian.shortcuts import assign_perm
from stdnum.cn import uscc as uscc_module
from stdnum.exceptions import ValidationError as StdnumError
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from documents import batch as document_batch
from documents.amounts import amount_in_words
from documents.models import Document
from documents.services import document_issue, document_issued, document_reserve

from .. import calendar, selectors
from ..flows import flow_for
from ..models import (
    Application,
    Attachment,
    AuditRecord,
    Call,
    Institution,
    Objection,
    Payment,
    ProgramVersion,
    PublicNotice,
)
from ..permissions import APPLICANT_PERMISSION, ROLE_TASK_PERMISSION
from ..programs import COLUMN_FIELDS, issuer_code, localised, program_get, program_stage
from ..selectors import RECOMMEND, objections_pending_for, office_region_of

Status = Application.Status
PDF_MAGIC = b"%PDF-"


class IllegalTransition(Exception):
    """An application was asked to move to a status its current status does not allow."""


class TaskAlreadyDone(Exception):
    """Someone else completed the task first (or it is no longer waiting)."""


# --- audit and status ------------------------------------------------------------------------


def _official_text(message: str) -> str:
    """Text published on the public record stays Chinese, whatever language the officer uses."""
    with translation.override("zh-hans"):
        return _(message)


def audit_write(
    *,
    actor,
    action: str,
    application: Application | None = None,
    call: Call | None = None,
    from_status: str = "",
    to_status: str = "",
    reason: str = "",
    data: dict | None = None,
) -> AuditRecord:
    return AuditRecord.objects.create(
        application=application,
        call=call or (application.call if application else None),
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        from_status=from_status,
        to_status=to_status,
        reason=reason,
        data=data or {},
    )


def application_move(
    *, application: Application, to: str, actor, action: str, reason: str = ""
) -> Application:
    """The only place an application's status changes; the allowed moves are data on the model."""
    source = application.status
    if to not in Application.TRANSITIONS.get(source, set()):
        raise IllegalTransition(f"{application.pk}: {source} -> {to}")
    application.status = to
    application.save(update_fields=["status", "updated_at"])
    audit_write(
        actor=actor,
        action=action,
        application=application,
        from_status=source,
        to_status=to,
        reason=reason,
    )
    return application


# --- program versions ------------------------------------------------------------------------


def program_version_current(*, slug: str) -> ProgramVersion:
    """The stored version of the program file as it is now (created on first use)."""
    program = program_get(slug)
    version, _created = ProgramVersion.objects.get_or_create(
        slug=slug,
        sha256=program.sha256,
        defaults={"content": program.content, "source_name": program.source},
    )
    return version


# --- accounts and institutions -------------------------------------------------------------


PATENT_WEIGHTS = (2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5)


def patent_number_clean(value: str) -> str:
    """A Chinese patent (application) number, e.g. ZL202110123456.7 -> 202110123456.7.

    Twelve digits (year, type 1–3 or 8–9, serial) and the check character after the dot: the
    weighted sum (weights 2–9, 2–5) modulo 11, with 10 written X."""
    text = value.strip().upper().replace(" ", "")
    for prefix in ("ZL", "CN"):
        text = text.removeprefix(prefix)
    digits, _dot, check = text.partition(".")
    if not (len(digits) == 12 and digits.isdigit() and len(check) == 1):
        raise ValidationError(
            _("专利号格式不正确，应为12位数字加校验位，例如 ZL202110123456.7。"),
            code="patent_format",
        )
    total = sum(int(d) * w for d, w in zip(digits, PATENT_WEIGHTS, strict=True)) % 11
    if check != ("X" if total == 10 else str(total)):
        raise ValidationError(
            _("专利号校验位不正确（%(value)s），请核对。") % {"value": value}, code="patent_check"
        )
    return f"{digits}.{check}"


def uscc_clean(value: str) -> str:
    try:
        return uscc_module.validate(value.strip().upper())
    except StdnumError as error:
        raise ValidationError(
            _("统一社会信用代码无效：应为18位，且校验码正确（%(value)s）。") % {"value": value},
            code="invalid_uscc",
        ) from error


@transaction.atomic
def user_signup(*, form):
    """A new account from the sign-up form; every new account starts as an applicant."""
    user = form.save()
    user.groups.add(Group.objects.get(name="applicant"))
    audit_write(actor=user, action="user_signup", data={"user": user.pk})
    return user


@transaction.atomic
def institution_register(
    *, user, name: str, uscc: str, region_code: str, address: str = ""
) -> Institution:
    code = uscc_clean(uscc)
    if Institution.objects.filter(uscc=code).exists():
        raise ValidationError(
            _("该统一社会信用代码已登记，请联系本单位已登记的经办人添加您为成员。"),
            code="uscc_taken",
        )
    if not (region_code.isdigit() and len(region_code) == 6):
        raise ValidationError(_("地区代码应为6位数字。"), code="invalid_region")
    institution = Institution.objects.create(
        name=name.strip(), uscc=code, region_code=region_code, address=address
    )
    institution_member_add(institution=institution, user=user, actor=user)
    return institution


def institution_member_add(*, institution: Institution, user, actor) -> None:
    institution.members.add(user)
    assign_perm("workflows.view_institution", user, institution)
    assign_perm(APPLICANT_PERMISSION, user, institution)
    audit_write(
        actor=actor,
        action="institution_member_add",
        data={"institution": institution.pk, "user": user.pk},
    )


def _require_member(user, institution: Institution) -> None:
    if not user.has_perm(APPLICANT_PERMISSION, institution):
        raise PermissionDenied


# --- applications: drafts, attachments, submission ---------------------------------------------


def _fields_apply(application: Application, data: dict) -> None:
    for field in application.program["fields"]:
        name = field["name"]
        if name not in data:
            continue
        if name in COLUMN_FIELDS:
            setattr(application, name, data[name])
        else:
            value = data[name]
            application.extra[name] = value.isoformat() if isinstance(value, date) else value


@transaction.atomic
def application_create(*, user, call: Call, institution: Institution, data: dict) -> Application:
    """Save a new draft. Drafts may be saved at any time while the call is open."""
    _require_member(user, institution)
    if not call.is_open():
        raise ValidationError(_("该申报批次不在申报期内。"), code="call_closed")
    application = Application(
        call=call,
        institution=institution,
        program_version=program_version_current(slug=call.program_slug),
        created_by=user,
        extra={},
    )
    _fields_apply(application, data)
    try:
        with transaction.atomic():
            application.save()
    except IntegrityError as error:
        raise ValidationError(
            _("本单位在该批次已有同一级别的申报，请在原申报上修改。"), code="duplicate"
        ) from error
    audit_write(actor=user, action="application_create", application=application, to_status="draft")
    return application


@transaction.atomic
def application_update(*, user, application: Application, data: dict) -> Application:
    _require_member(user, application.institution)
    if not application.is_editable:
        raise ValidationError(_("申报已提交，当前不能修改。"), code="not_editable")
    _fields_apply(application, data)
    application.save()
    audit_write(actor=user, action="application_update", application=application)
    return application


def _pdf_check(upload) -> bytes:
    from django.conf import settings

    if upload.size > settings.ATTACHMENT_MAX_BYTES:
        raise ValidationError(
            _("文件“%(name)s”超过20 MB，请压缩后重新上传。") % {"name": upload.name},
            code="too_large",
        )
    upload.seek(0)
    head = upload.read(1024)
    upload.seek(0)
    if PDF_MAGIC not in head:
        raise ValidationError(
            _("文件“%(name)s”不是PDF文件（按文件内容判断），请上传PDF。") % {"name": upload.name},
            code="not_pdf",
        )
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()


@transaction.atomic
def attachment_add(*, user, application: Application, kind: str, upload) -> Attachment:
    """Store an uploaded PDF; an earlier file of the same kind is kept, marked superseded."""
    _require_member(user, application.institution)
    if not application.is_editable:
        raise ValidationError(_("申报已提交，当前不能更换材料。"), code="not_editable")
    kinds = {a["key"] for a in application.program["attachments"]}
    if kind not in kinds:
        raise ValidationError(_("未知的材料类型。"), code="unknown_kind")
    sha256 = _pdf_check(upload)
    application.attachments.filter(kind=kind, superseded=False).update(superseded=True)
    attachment = Attachment.objects.create(
        application=application,
        kind=kind,
        file=upload,
        original_name=upload.name[:255],
        sha256=sha256,
        size=upload.size,
        uploaded_by=user,
    )
    audit_write(
        actor=user,
        action="attachment_add",
        application=application,
        data={"kind": kind, "sha256": sha256, "name": attachment.original_name},
    )
    return attachment


def paid_for(
    *, institution: Institution, program_slug: str, designation: str = ""
) -> dict[str, Decimal]:
    """What an institution was already paid under a program for one designation, by tier."""
    rows = Payment.objects.filter(
        institution=institution, program_slug=program_slug, designation=designation
    )
    return {row.tier: row.amount for row in rows}


def award_amount(*, application: Application) -> tuple[Decimal, Decimal]:
    """(amount to pay now, amount paid before for lower tiers) under the program's upgrade rule."""
    program = application.program
    tier = application.program_version.tier(application.tier)
    full = Decimal(tier["amount"])
    paid = paid_for(
        institution=application.institution,
        program_slug=application.call.program_slug,
        designation=application.patent_number,
    )
    if application.tier in paid:
        raise ValidationError(
            _("该单位的“%(tier)s”认定已获资助，同一认定不重复资助。")
            % {"tier": application.tier_label},
            code="already_paid",
        )
    lower = sum(
        (
            amount
            for key, amount in paid.items()
            if application.program_version.tier(key)["rank"] < tier["rank"]
        ),
        Decimal("0.00"),
    )
    rule = program["upgrade"]["rule"]
    if lower and rule == "none":
        raise ValidationError(
            _("该单位已获较低级别资助，按本项目“从高不重复”规则不再资助。"), code="no_upgrade"
        )
    if rule == "top_up":
        return full - lower, lower
    return full, lower


def _eligibility_errors(application: Application) -> list[str]:
    errors = []
    program = application.program
    call = application.call
    rules = program["eligibility"]
    if (
        rules.get("designation_in_call_window", True)
        and application.approval_date
        and not (call.designation_from <= application.approval_date <= call.designation_to)
    ):
        errors.append(
            _("获批日期须在%(start)s至%(end)s之间（本批次受理的获批时间范围）。")
            % {"start": call.designation_from, "end": call.designation_to}
        )
    prefix = rules.get("region_prefix")
    if prefix and not application.institution.region_code.startswith(prefix):
        errors.append(_("申报单位须在本省登记注册。"))
    current = {a.kind for a in application.attachments.all() if not a.superseded}
    for attachment in program["attachments"]:
        if attachment.get("required", True) and attachment["key"] not in current:
            errors.append(_("缺少必需的申报材料：%(name)s。") % {"name": localised(attachment)})
    limit = rules.get("max_entries_per_institution")
    if limit:
        entries = (
            Application.objects.filter(call=call, institution=application.institution)
            .exclude(status=Status.DRAFT)
            .exclude(pk=application.pk)
            .count()
        )
        if entries >= limit:
            errors.append(_("同一单位在本批次最多申报%(n)d项，已达上限。") % {"n": limit})
    if rules.get("patent_not_awarded_before") and application.patent_number:
        awarded = Application.objects.filter(
            call__program_slug=call.program_slug,
            patent_number=application.patent_number,
            status__in=[Status.DECIDED, Status.LETTER_ISSUED, Status.PAID],
        ).exclude(pk=application.pk)
        if awarded.exists():
            errors.append(
                _("专利%(number)s已获得过本奖项，不能重复申报。")
                % {"number": application.patent_number}
            )
    if application.tier and program["tiers"]:
        try:
            award_amount(application=application)
        except ValidationError as error:
            errors.extend(error.messages)
    return errors


def application_submit(*, user, application: Application) -> Application:
    """Submit a draft (starts the process) or resubmit after correction (completes that task)."""
    _require_member(user, application.institution)
    now = timezone.now()
    if application.status == Status.DRAFT:
        if now >= application.call.closes_at:
            raise ValidationError(
                _("申报已于%(deadline)s截止，不能再提交。")
                % {"deadline": f"{timezone.localtime(application.call.closes_at):%Y-%m-%d %H:%M}"},
                code="deadline",
            )
    elif application.status == Status.CORRECTION:
        if application.correction_deadline and now > application.correction_deadline:
            raise ValidationError(
                _("补正期限（%(deadline)s）已过，不能再提交补正材料。")
                % {"deadline": f"{timezone.localtime(application.correction_deadline):%Y-%m-%d}"},
                code="correction_deadline",
            )
    elif application.status == Status.LAPSED:
        raise ValidationError(_("补正期限已过，未提交补正材料，申报已视为放弃。"), code="lapsed")
    else:
        raise ValidationError(_("申报已提交，请勿重复提交。"), code="already_submitted")
    errors = _eligibility_errors(application)
    if errors:
        raise ValidationError(errors)

    if application.status == Status.CORRECTION:
        task = _open_task(application, "correction")
        with _task_activation(task, user, "correction") as activation:
            application.refresh_from_db()
            application.submitted_at = now
            application.save(update_fields=["submitted_at"])
            application_move(
                application=application, to=Status.SUBMITTED, actor=user, action="resubmit"
            )
            activation.execute()
        return application

    with transaction.atomic():
        application.submitted_at = now
        application.save(update_fields=["submitted_at"])
        application_move(application=application, to=Status.SUBMITTED, actor=user, action="submit")
        flow_for(application.call.program_slug).instance.submit.run(application=application)
    return application


def application_correction_lapse(*, application: Application) -> None:
    """Called by the flow when the correction deadline passes without a resubmission."""
    if application.status == Status.CORRECTION:
        application_move(
            application=application,
            to=Status.LAPSED,
            actor=None,
            action="correction_lapse",
            reason=_official_text("逾期未提交补正材料，视为放弃申报。"),
        )


def process_link(activation, application: Application):
    """StartHandle body: save the new process and link it to the application."""
    activation.process.save()
    application.process = activation.process
    application.save(update_fields=["process"])
    return activation.process


# --- tasks ---------------------------------------------------------------------------------------


def _open_task_or_none(application: Application, node_name: str) -> Task | None:
    node = flow_for(application.call.program_slug).instance.node(node_name)
    return (
        Task.objects.filter(
            process_id=application.process_id,
            flow_task=node,
            status__in=[STATUS.NEW, STATUS.ASSIGNED],
        )
        .order_by("-created")
        .first()
    )


def _open_task(application: Application, node_name: str) -> Task:
    task = _open_task_or_none(application, node_name)
    if task is None:
        raise TaskAlreadyDone(f"application {application.pk} has no open {node_name} task")
    return task


@contextmanager
def _task_activation(task: Task, user, node_name: str):
    """Lock the process (select_for_update), make sure the task still waits for `user` at
    `node_name`, and start it. Raising inside rolls the whole step back."""
    with task.activation() as activation:
        task = activation.task
        if task.flow_task.name != node_name or task.status not in (STATUS.NEW, STATUS.ASSIGNED):
            raise TaskAlreadyDone(f"task {task.pk} is {task.status}")
        if task.status == STATUS.NEW:
            activation.assign(user)
        elif task.owner_id != user.pk:
            raise TaskAlreadyDone(f"task {task.pk} belongs to someone else")
        activation.start(request=None)
        yield activation


def task_can_act(user, task: Task) -> bool:
    """Whether `user` may complete `task` (the inbox selector uses the same rule in SQL)."""
    if task.status not in (STATUS.NEW, STATUS.ASSIGNED) or not user.is_authenticated:
        return False
    if task.owner_id:
        return task.owner_id == user.pk
    if not task.owner_permission:
        return False
    if task.owner_permission_obj_pk:
        return user.has_perm(task.owner_permission, task.owner_permission_obj)
    if task.owner_permission == RECOMMEND:
        region = office_region_of(user)
        return region is not None and task.process.application.institution.region_code.startswith(
            region.prefix
        )
    return user.has_perm(task.owner_permission)


def _require_task_permission(user, application: Application, node_name: str) -> Task:
    task = _open_task(application, node_name)
    if not task_can_act(user, task):
        raise PermissionDenied
    return task


# --- formal review -------------------------------------------------------------------------------


def _document_context(application: Application | None, call: Call) -> dict:
    program = _program_content(application, call)
    context = {
        "issuer": program["issuer"],
        "program": {
            "title": program["title"]["zh"],
            "policy_document": program["policy_basis"]["document"],
            "policy_clause": program["policy_basis"]["clause"],
            "policy_text": program["policy_basis"]["text"],
        },
        "call": {"title": call.title},
    }
    if application is not None:
        context["application"] = {
            "institution_name": application.institution.name,
            "uscc": application.institution.uscc,
            "tier_label": application.tier_label_zh,
            "approval_number": application.approval_number,
            "patent_number": application.patent_number,
            "approval_date": application.approval_date,
            "submitted_at": application.submitted_at,
            "bank_name": application.bank_name,
            "bank_account": application.bank_account,
            "account_name": application.account_name,
        }
    return context


def _program_content(application: Application | None, call: Call) -> dict:
    """The rules of the application's own program version; for a batch, the call's first one."""
    if application is not None:
        return application.program
    first = call.applications.exclude(status=Status.DRAFT).select_related("program_version")
    first = first.order_by("pk").first()
    if first is not None:
        return first.program
    return program_version_current(slug=call.program_slug).content


def _document_title(kind: str, program: dict) -> str:
    """The heading printed on the document (official text: Chinese by law); the program's
    decision stage may name its own."""
    title = program["title"]["zh"]
    decision = program_stage(program, "decision") or {}
    if kind == decision.get("document") and decision.get("title"):
        return decision["title"]
    if kind == Document.Kind.CERTIFICATE and decision.get("certificate_title"):
        return decision["certificate_title"]
    return {
        Document.Kind.FUNDING_DECISION: f"关于给予{title}的决定",
        Document.Kind.RECOGNITION_DECISION: f"关于{title}结果的决定",
        Document.Kind.COMMENDATION_DECISION: f"关于{title}的表彰决定",
        Document.Kind.CERTIFICATE: "证书",
        Document.Kind.ACCEPTANCE_NOTICE: "受理通知书",
        Document.Kind.REFUSAL_DECISION: "不予受理决定书",
        Document.Kind.DECISION_NOTICE: "资助决定通知书",
        Document.Kind.AWARD_LETTER: "奖励通知书",
    }[kind]


def _issue_fields(
    *, kind: str, application: Application | None, call: Call, user, context: dict
) -> dict:
    """What `document_issue` is given for `kind` (title and issuer from the program's rules)."""
    program = _program_content(application, call)
    return {
        "kind": kind,
        "call": call,
        "application": application,
        "institution": application.institution if application else None,
        "issued_by": user,
        "title": _document_title(kind, program),
        "context": context,
        "issuer_code": issuer_code(program, kind),
    }


def _issue(*, kind: str, application: Application | None, call: Call, user, context: dict):
    document = document_issue(
        **_issue_fields(kind=kind, application=application, call=call, user=user, context=context)
    )
    _issue_audit(user=user, document=document, application=application, call=call)
    return document


def _issue_audit(*, user, document: Document, application: Application | None, call: Call):
    audit_write(
        actor=user,
        action="document_issue",
        application=application,
        call=call,
        data={"document": document.pk, "kind": document.kind, "number": document.number},
    )


def formal_review_complete(
    *, user, application: Application, outcome: str, reason: str = ""
) -> Application:
    """受理 (accept), 补正 (return for correction with a deadline) or 不予受理 (refuse)."""
    task = _require_task_permission(user, application, "formal_review")
    reason = reason.strip()
    if outcome in ("correction", "refuse") and not reason:
        raise ValidationError(_("退回补正或不予受理时必须写明理由。"), code="reason_required")
    if outcome not in ("accept", "correction", "refuse"):
        raise ValidationError(_("请选择审查结论。"), code="outcome")
    stage = application.program_version.stage("formal_review")
    with _task_activation(task, user, "formal_review") as activation:
        application.refresh_from_db()
        if outcome == "accept":
            application_move(
                application=application,
                to=Status.ACCEPTED,
                actor=user,
                action="accept",
                reason=reason,
            )
            _issue(
                kind=Document.Kind.ACCEPTANCE_NOTICE,
                application=application,
                call=application.call,
                user=user,
                context=_document_context(application, application.call),
            )
        elif outcome == "correction":
            application.correction_reason = reason
            application.correction_deadline = calendar.working_days_after(
                timezone.now(), stage["correction_working_days"]
            )
            application.save(update_fields=["correction_reason", "correction_deadline"])
            application_move(
                application=application,
                to=Status.CORRECTION,
                actor=user,
                action="correction",
                reason=reason,
            )
        else:
            application_move(
                application=application,
                to=Status.REFUSED,
                actor=user,
                action="refuse",
                reason=reason,
            )
            context = _document_context(application, application.call)
            context["reasons"] = reason
            _issue(
                kind=Document.Kind.REFUSAL_DECISION,
                application=application,
                call=application.call,
                user=user,
                context=context,
            )
        activation.execute()
    return application


# --- leadership meeting --------------------------------------------------------------------------


def leadership_decide(*, user, decisions: list[tuple[Application, bool, str]]) -> list[Application]:
    """Approve or reject each listed application (one, several, or a call's whole list)."""
    if not user.has_perm(ROLE_TASK_PERMISSION["leadership"]):
        raise PermissionDenied
    for application, approved, reason in decisions:
        if not approved and not reason.strip():
            raise ValidationError(
                _("不通过的申报须写明理由：%(name)s。") % {"name": application.institution.name},
                code="reason_required",
            )
    done = []
    with transaction.atomic():
        for application, approved, reason in decisions:
            task = _require_task_permission(user, application, "leadership_review")
            with _task_activation(task, user, "leadership_review") as activation:
                application.refresh_from_db()
                application_move(
                    application=application,
                    to=Status.APPROVED if approved else Status.REJECTED,
                    actor=user,
                    action="leadership_approve" if approved else "leadership_reject",
                    reason=reason.strip(),
                )
                activation.execute()
            done.append(application)
    return done


# --- public notice and objections --------------------------------------------------------------


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
    applications = list(selectors.applications_awaiting(call, "await_notice"))
    if not applications:
        raise ValidationError(_("该批次没有待公示的名单。"), code="nothing_to_publish")
    stage = applications[0].program_version.stage("public_notice")
    now = timezone.now()
    flow_class = flow_for(call.program_slug)
    with transaction.atomic():
        notice = PublicNotice.objects.create(
            call=call,
            title=f"{call.title}{NOTICE_TITLES[stage_decision_document(applications[0])]}",
            starts_at=now,
            ends_at=calendar.period_end(now, stage["days"], stage["day_kind"]),
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
            application.save(update_fields=["public_notice"])
            application_move(
                application=application, to=Status.IN_NOTICE, actor=user, action="notice_start"
            )
            flow_class.instance.await_notice.run(_open_task(application, "await_notice"))
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
        from stdnum.cn import ric

        if not real_name.strip() or not ric.is_valid(id_number):
            raise ValidationError(
                _("以个人名义提出异议须填写真实姓名和有效的身份证号码。"), code="person"
            )
    if not statement.strip():
        raise ValidationError(_("请写明异议的事实和理由。"), code="statement")
    if evidence is None:
        raise ValidationError(_("请上传证据材料。"), code="evidence")
    _pdf_check(evidence)
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
    if application.status != Status.IN_NOTICE and not objections_pending_for(application):
        # The period is over and this was the last objection: the application moves on.
        waiting = _open_task_or_none(application, "await_objections")
        if waiting is not None:
            flow_for(application.call.program_slug).instance.await_objections.run(waiting)
    return objection


def application_notice_close(*, application: Application) -> None:
    """Called by the flow when the notice period's timer fires."""
    if application.status == Status.IN_NOTICE:
        application_move(
            application=application, to=Status.NOTICE_CLOSED, actor=None, action="notice_close"
        )


# --- decision -------------------------------------------------------------------------------------


def decision_issue_check(*, user, call: Call) -> None:
    """What must hold before a call's decision is issued (checked again inside the job)."""
    if not user.has_perm("workflows.issue_decision"):
        raise PermissionDenied
    if Objection.objects.filter(application__call=call, status=Objection.Status.PENDING).exists():
        raise ValidationError(
            _("该批次还有未处理的异议，处理完毕后才能印发决定。"), code="pending_objections"
        )
    if call.applications.filter(status=Status.IN_NOTICE).exists():
        raise ValidationError(_("公示期尚未结束，不能印发决定。"), code="notice_open")
    if document_batch.issue_batch_running(call):
        raise ValidationError(document_batch.BATCH_RUNNING_MESSAGE, code="batch_running")
    if not call.applications.filter(status=Status.NOTICE_CLOSED).exists():
        raise ValidationError(_("该批次没有待决定的名单。"), code="nothing_to_decide")


def _pays(program: dict) -> bool:
    return program_stage(program, "disbursement") is not None


def _years_later(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def decision_issue(*, user, call: Call) -> Document:
    """The batch decision for the call's list (funding, recognition or commendation, as the
    program's decision stage says) plus a notice or certificate per applicant.

    The numbers of the decision and of every applicant's document are reserved first. The
    applicants' documents render in worker processes while the decision renders here and is
    issued before any of them; each is then recorded, with its application's move to DECIDED, as
    it is stored (documents.batch). An application whose document failed stays where it is,
    listed in the batch's errors; issuing again completes it under the reserved number."""
    decision_issue_check(user=user, call=call)
    applications = list(
        call.applications.filter(status=Status.NOTICE_CLOSED)
        .select_related("institution", "program_version")
        .order_by("-panel_score", "pk")
    )
    stage = applications[0].program_version.stage("decision")
    batch = document_batch.issue_batch_start(call=call, kind=stage["per_applicant"], user=user)
    try:
        with document_batch.workers_started(len(applications)) as pool:
            decision = _decision_and_notices_issue(
                user=user,
                call=call,
                applications=applications,
                stage=stage,
                batch=batch,
                pool=pool,
            )
    except BaseException as error:
        document_batch.issue_batch_fail(batch=batch, error=error)
        raise
    return decision


def _decision_and_notices_issue(*, user, call, applications, stage, batch, pool):
    """The decision's number reserved with the applicants' documents; then the applicants'
    documents rendered as one batch while the decision renders here and is issued first."""
    with transaction.atomic():
        decision, decision_issue_now, requests = _decision_issue_prepare(
            user=user, call=call, applications=applications, stage=stage
        )
    flow_class = flow_for(call.program_slug)
    by_pk = {application.pk: application for application in applications}

    def decided(application_pk, document):
        application = by_pk[application_pk]
        _issue_audit(user=user, document=document, application=application, call=call)
        application_move(application=application, to=Status.DECIDED, actor=user, action="decide")
        flow_class.instance.await_decision.run(_open_task(application, "await_decision"))

    document_batch.documents_issue(
        batch=batch, requests=requests, issued=decided, pool=pool, lead=decision_issue_now
    )
    return decision if decision is not None else selectors.call_decision(call)


def _decision_issue_prepare(*, user, call, applications, stage):
    """Award amounts and validity recorded; (the decision if an earlier run issued it, else None;
    the function that issues it under its reserved number, else None; the batch requests for
    the applicants' documents, which print that number)."""
    pays = _pays(applications[0].program)
    today = timezone.localdate()
    valid_until = _years_later(today, stage["validity_years"]) if stage["validity_years"] else None
    rows = []
    for application in applications:
        amount = award_amount(application=application)[0] if pays else None
        application.award_amount = amount
        application.valid_until = valid_until
        application.save(update_fields=["award_amount", "valid_until"])
        rows.append(
            {
                "institution_name": application.institution.name,
                "uscc": application.institution.uscc,
                "tier_label": application.tier_label_zh,
                "patent_number": application.patent_number,
                "amount": amount,
                "amount_words": amount_in_words(amount) if pays else "",
            }
        )
    decision = document_issued(kind=stage["document"], call=call)
    decision_issue_now = None
    if decision is not None:
        decision_number = decision.number
    else:
        decision_context = _document_context(None, call)
        decision_context.update(
            rows=rows,
            total=sum((r["amount"] for r in rows), Decimal("0.00")) if pays else None,
            valid_until=valid_until,
            validity_years=stage["validity_years"],
        )
        fields = _issue_fields(
            kind=stage["document"],
            application=None,
            call=call,
            user=user,
            context=decision_context,
        )
        reservation = document_reserve(
            kind=fields["kind"], call=call, issuer_code=fields["issuer_code"]
        )
        decision_number = reservation.number

        def decision_issue_now():
            with transaction.atomic():
                document = document_issue(**fields, reservation=reservation)
                _issue_audit(user=user, document=document, application=None, call=call)

    requests = []
    for application in applications:
        context = _document_context(application, call)
        context.update(
            amount=application.award_amount,
            amount_words=amount_in_words(application.award_amount) if pays else "",
            decision_number=decision_number,
            valid_until=valid_until,
        )
        requests.append(
            document_batch.BatchRequest(
                key=application.pk,
                label=application.institution.name,
                fields=_issue_fields(
                    kind=stage["per_applicant"],
                    application=application,
                    call=call,
                    user=user,
                    context=context,
                ),
            )
        )
    return decision, decision_issue_now, requests


# --- disbursement -----------------------------------------------------------------------------


def award_letter_issue(*, user, application: Application) -> Document:
    task = _require_task_permission(user, application, "award_letter")
    with _task_activation(task, user, "award_letter") as activation:
        application.refresh_from_db()
        amount, lower = award_amount(application=application)
        tier_amount = Decimal(application.program_version.tier(application.tier)["amount"])
        context = _document_context(application, application.call)
        decision = selectors.call_decision(application.call)
        context.update(
            amount=amount,
            amount_words=amount_in_words(amount),
            tier_amount=tier_amount,
            previously_paid=lower or None,
            decision_number=decision.number if decision else "",
        )
        application.award_amount = amount
        application.save(update_fields=["award_amount"])
        letter = _issue(
            kind=Document.Kind.AWARD_LETTER,
            application=application,
            call=application.call,
            user=user,
            context=context,
        )
        application_move(
            application=application, to=Status.LETTER_ISSUED, actor=user, action="award_letter"
        )
        activation.execute()
    return letter


def payment_record(
    *, user, application: Application, voucher_number: str, paid_on: date
) -> Payment:
    """Record a payment: draws down the call's budget, never below zero, never twice."""
    task = _require_task_permission(user, application, "payment")
    voucher_number = voucher_number.strip()
    if not voucher_number:
        raise ValidationError(_("请填写凭证号。"), code="voucher")
    if paid_on > timezone.localdate():
        raise ValidationError(_("拨付日期不能晚于今天。"), code="future")
    with _task_activation(task, user, "payment") as activation:
        application.refresh_from_db()
        call = Call.objects.select_for_update().get(pk=application.call_id)
        amount, _lower = award_amount(application=application)
        if amount > call.budget_left:
            raise ValidationError(
                _("预算余额不足：本批次剩余¥%(left)s，本次应拨付¥%(amount)s。拨付未登记。")
                % {"left": f"{call.budget_left:,.2f}", "amount": f"{amount:,.2f}"},
                code="overdraft",
            )
        if Payment.objects.filter(
            program_slug=call.program_slug, voucher_number=voucher_number
        ).exists():
            raise ValidationError(_("该凭证号已被使用。"), code="voucher_taken")
        try:
            with transaction.atomic():
                payment = Payment.objects.create(
                    application=application,
                    institution=application.institution,
                    call=call,
                    program_slug=call.program_slug,
                    tier=application.tier,
                    designation=application.patent_number,
                    amount=amount,
                    voucher_number=voucher_number,
                    paid_on=paid_on,
                    recorded_by=user,
                )
        except IntegrityError as error:
            raise ValidationError(
                _("该单位的同一认定已拨付，不能重复拨付。"), code="already_paid"
            ) from error
        call.budget_paid += amount
        call.save(update_fields=["budget_paid"])
        audit_write(
            actor=user,
            action="payment_record",
            application=application,
            data={"amount": str(amount), "voucher": voucher_number, "paid_on": str(paid_on)},
        )
        application_move(application=application, to=Status.PAID, actor=user, action="pay")
        activation.execute()
    return payment

"""Applications: program versions, drafts, attachments, eligibility and submission."""

import hashlib

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import CharField, Value
from django.utils import timezone
from django.utils.translation import gettext as _

from documents.prepared import Prepared
from forms.fields import field_value_stored, program_field
from forms.pdf_safety import PdfProblem, pdf_inspect
from forms.validators import localised

from ..amounts import amount_rule, award_figure, designation_of, field_value, payments_for
from ..flows import flow_for, local_name
from ..models import Application, Attachment, Call, Institution, Payment, ProgramVersion
from ..permissions import APPLICANT_PERMISSION
from ..programs import COLUMN_FIELDS, program_get, program_stage
from ..stages.base import application_attach
from .accounts import require_member
from .advance import start_run, task_done
from .audit import application_move, audit_deferred, audit_write
from .tasks import open_task_locked, task_started

Status = Application.Status
PDF_MAGIC = b"%PDF-"


def program_version_current(*, slug: str) -> ProgramVersion:
    """The stored version of the program file as it is now (created on first use)."""
    program = program_get(slug)
    version, _created = ProgramVersion.objects.get_or_create(
        slug=slug,
        sha256=program.sha256,
        defaults={"content": program.content, "source_name": program.source},
    )
    return version


def _fields_apply(application: Application, data: dict) -> None:
    for field in application.program["fields"]:
        name = field["name"]
        if name not in data:
            continue
        if name in COLUMN_FIELDS:
            setattr(application, name, data[name])
        else:
            application.extra[name] = field_value_stored(data[name])


def application_create(*, user, call: Call, institution: Institution, data: dict) -> Application:
    """Save a new draft. Drafts may be saved at any time while the call is open."""
    application, _refused = draft_create(user=user, call=call, institution=institution, data=data)
    return application


def draft_create(
    *, user, call: Call, institution: Institution, data: dict, uploads: dict | None = None
) -> tuple[Application, dict[str, ValidationError]]:
    """Save a new draft with its uploaded files (`uploads`: attachment kind -> upload), as the
    application form sends them, in one transaction; the uploads refused (by kind, why) are
    left out and the draft is saved without them, so the applicant fixes only the file."""
    require_member(user, institution)
    if not call.is_open():
        raise ValidationError(_("该申报批次不在申报期内。"), code="call_closed")
    kept, refused = _uploads_stored(user, program_get(call.program_slug).content, uploads or {})
    try:
        with transaction.atomic(), audit_deferred():
            application = Application(
                call=call,
                institution=institution,
                program_version=program_version_current(slug=call.program_slug),
                created_by=user,
                extra={},
            )
            _fields_apply(application, data)
            _draft_save(application)
            audit_write(
                actor=user, action="application_create", application=application, to_status="draft"
            )
            _attachments_write(user, application, kept, replacing=False)
    except BaseException:
        _files_dropped(kept)
        raise
    return application, refused


@transaction.atomic
def application_update(*, user, application: Application, data: dict) -> Application:
    require_member(user, application.institution)
    if not application.is_editable:
        raise ValidationError(_("申报已提交，当前不能修改。"), code="not_editable")
    _fields_apply(application, data)
    _draft_save(application)
    audit_write(actor=user, action="application_update", application=application)
    return application


def _name_kept(name: str, limit: int = 255) -> str:
    """An upload's file name within the column's 255 characters, its extension kept (a 300-
    character name lost its .pdf and downloaded as a file of no type)."""
    if len(name) <= limit:
        return name
    stem, dot, extension = name.rpartition(".")
    if not dot or len(extension) > 10:
        return name[:limit]
    return stem[: limit - len(extension) - 1] + "." + extension


def _draft_save(application: Application) -> None:
    """Save a draft as typed; one that would repeat another of the institution's applications
    in the call (the same tier, or the same patent) is refused. No savepoint: the error is
    raised on, rolling the caller's whole transaction back."""
    try:
        with transaction.atomic(savepoint=False):
            application.save()
    except IntegrityError as error:
        raise ValidationError(
            _("本单位在该批次已有同一级别的申报，请在原申报上修改。"), code="duplicate"
        ) from error


def pdf_check(upload) -> str:
    """The SHA-256 of an uploaded PDF, after checking that reviewers can open it safely: its size,
    that it is a PDF (by its first bytes), readable, unencrypted, with pages, and without scripts,
    launch actions or embedded files."""
    if upload.size > settings.ATTACHMENT_MAX_BYTES:
        raise ValidationError(
            _("文件“%(name)s”超过20 MB，请压缩后重新上传。") % {"name": upload.name},
            code="too_large",
        )
    upload.seek(0)
    head = upload.read(len(PDF_MAGIC))
    upload.seek(0)
    if head != PDF_MAGIC:
        raise ValidationError(
            _("文件“%(name)s”不是PDF文件（按文件内容判断），请上传PDF。") % {"name": upload.name},
            code="not_pdf",
        )
    findings = pdf_inspect(upload)
    problems = {
        PdfProblem.DAMAGED: _("文件“%(name)s”已损坏或格式不规范，无法读取。请重新导出PDF后上传。"),
        PdfProblem.ENCRYPTED: _(
            "文件“%(name)s”已加密（设有打开密码或权限密码），审查人员可能无法打开或打印。"
            "请取消加密，另存为未加密的PDF后重新上传。"
        ),
        PdfProblem.NO_PAGES: _("文件“%(name)s”没有任何页面，请检查后重新上传。"),
        PdfProblem.TOO_COMPLEX: _(
            "文件“%(name)s”结构过于复杂（对象过多），系统无法在限定时间内完成安全检查。"
            "请重新导出或用“打印为PDF”另存后上传。"
        ),
    }
    if findings.problem:
        raise ValidationError(
            problems[findings.problem] % {"name": upload.name}, code=f"pdf_{findings.problem}"
        )
    if findings.active_content:
        raise ValidationError(
            _(
                "文件“%(name)s”含有脚本、启动外部程序的动作或嵌入的文件（%(found)s），"
                "审查人员打开时可能不安全，系统不予接收。请另存为不含这些内容的PDF"
                "（例如用“打印为PDF”）后重新上传。"
            )
            % {
                "name": upload.name,
                "found": "、".join(name.lstrip("/") for name in findings.active_content),
            },
            code="pdf_active_content",
        )
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()


def attachment_add(*, user, application: Application, kind: str, upload) -> Attachment:
    """Store an uploaded PDF; an earlier file of the same kind is kept, marked superseded. A
    refused file raises its ValidationError."""
    kept, refused = _attachments_added(user, application, {kind: upload})
    if refused:
        raise refused[kind]
    return kept[0]


def attachments_add(*, user, application: Application, uploads: dict) -> dict[str, ValidationError]:
    """Store uploaded PDFs (`uploads`: attachment kind -> upload) in one transaction, as the
    application form sends them; the earlier file of each kind is kept, marked superseded. The
    uploads refused, by kind (why); the others are stored."""
    _kept, refused = _attachments_added(user, application, uploads)
    return refused


def _attachments_added(user, application: Application, uploads: dict):
    require_member(user, application.institution)
    if not application.is_editable:
        raise ValidationError(_("申报已提交，当前不能更换材料。"), code="not_editable")
    kept, refused = _uploads_stored(user, application.program, uploads)
    try:
        with transaction.atomic(), audit_deferred():
            _attachments_write(user, application, kept, replacing=True)
    except BaseException:
        _files_dropped(kept)
        raise
    return kept, refused


def _uploads_stored(
    user, program: dict, uploads: dict
) -> tuple[list[Attachment], dict[str, ValidationError]]:
    """The unsaved attachments of the uploads that pass `pdf_check`, their files stored (before
    the transaction that records them: a file the storage refuses leaves the draft saved); and
    the uploads refused, by kind."""
    kinds = {a["key"] for a in program["attachments"]}
    kept, refused = [], {}
    for kind, upload in uploads.items():
        if kind not in kinds:
            refused[kind] = ValidationError(_("未知的材料类型。"), code="unknown_kind")
            continue
        try:
            sha256 = pdf_check(upload)
        except ValidationError as error:
            refused[kind] = error
            continue
        attachment = Attachment(
            kind=kind,
            original_name=_name_kept(upload.name),
            sha256=sha256,
            size=upload.size,
            uploaded_by=user,
        )
        try:
            attachment.file.save(upload.name, upload, save=False)
        except OSError:
            refused[kind] = ValidationError(
                _("文件“%(name)s”未能保存，请重新上传。") % {"name": attachment.original_name},
                code="not_stored",
            )
            continue
        kept.append(attachment)
    return kept, refused


def _attachments_write(
    user, application: Application, attachments: list[Attachment], *, replacing: bool
) -> None:
    """Record `attachments` (files stored) for `application` in one INSERT, each with its
    audit record; with `replacing`, the current files of the same kinds marked superseded
    first (a new draft has none)."""
    if not attachments:
        return
    if replacing:
        application.attachments.filter(
            kind__in=[a.kind for a in attachments], superseded=False
        ).update(superseded=True)
    for attachment in attachments:
        attachment.application = application
    Attachment.objects.bulk_create(attachments)
    for attachment in attachments:
        audit_write(
            actor=user,
            action="attachment_add",
            application=application,
            data={
                "kind": attachment.kind,
                "sha256": attachment.sha256,
                "name": attachment.original_name,
            },
        )


def _files_dropped(attachments: list[Attachment]) -> None:
    """The stored files of attachments whose recording failed: deleted, none left unrecorded."""
    for attachment in attachments:
        attachment.file.delete(save=False)


def _attached_and_paid(application: Application) -> tuple[set[str], dict]:
    """What a submission checks of the database, in one statement: the kinds of the
    application's current attachments, and what its institution was paid before for the same
    designation (`award_figure`'s `paid_before`). The kinds come from the application's
    prefetched attachments when a page read them (the payments are then read by
    `award_figure`)."""
    if "attachments" in getattr(application, "_prefetched_objects_cache", {}):
        return {a.kind for a in application.attachments.all() if not a.superseded}, {}
    designation = designation_of(application)
    key = (application.institution_id, application.call.program_slug, designation)
    rows = _ATTACHED_AND_PAID(
        application_id=application.pk,
        institution_id=application.institution_id,
        program_slug=application.call.program_slug,
        designation=designation,
    )
    kinds = {name for what, name, _amount in rows if what == "attached"}
    paid = {name: amount for what, name, amount in rows if what == "paid"}
    return kinds, {key: paid}


_ATTACHED_AND_PAID = Prepared(
    Payment,
    lambda application_id, institution_id, program_slug, designation: (
        payments_for(institution_id, program_slug, designation)
        .order_by()
        .values_list(Value("paid", output_field=CharField()), "tier", "amount")
        .union(
            Attachment.objects.filter(application_id=application_id, superseded=False)
            .order_by()
            .values_list(
                Value("attached", output_field=CharField()),
                "kind",
                Value(None, output_field=Payment._meta.get_field("amount")),
            ),
            all=True,
        )
    ),
)


_KINDS_ATTACHED = Prepared(
    Attachment,
    lambda application_id: (
        Attachment.objects.filter(application_id=application_id, superseded=False)
        .order_by()
        .values("kind")
    ),
)


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
    current, paid_before = _attached_and_paid(application)
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
    errors.extend(_field_errors(application))
    # What it would be paid, checked only where the program pays: a recognition's tiers may
    # carry no amount at all.
    rule = amount_rule(program)["rule"]
    pays = program_stage(program, "disbursement") is not None
    if pays and (
        (rule == "tier" and application.tier and program["tiers"])
        or (rule != "tier" and not errors)
    ):
        try:
            award_figure(application=application, paid_before=paid_before)
        except ValidationError as error:
            errors.extend(error.messages)
    return errors


# Field types whose values the submission checks again (the form checked them when typed).
CHECKED_TYPES = ("integer", "decimal", "money", "choice", "boolean", "date")


def _field_errors(application: Application) -> list[str]:
    """Values of number, amount, choice, declaration and date fields, cleaned again with the
    form's own fields: missing, out of bounds, or not an option."""
    errors = []
    program = application.program
    for field in program["fields"]:
        if field["type"] not in CHECKED_TYPES:
            continue
        try:
            program_field(field, program).clean(field_value(application, field["name"]))
        except ValidationError as error:
            errors.extend(f"{localised(field)}：{message}" for message in error.messages)
    return errors


def application_submit(*, user, application: Application) -> Application:
    """Submit a draft (starts the process) or resubmit after correction (completes that task)."""
    require_member(user, application.institution)
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
        # The one task an applicant completes after submitting: a correction.
        waiting = open_task_locked(application, owner_permission=APPLICANT_PERMISSION)
        with (
            waiting as task,
            task_started(task, user, local_name(task.flow_task), application) as activation,
        ):
            application.submitted_at = now
            application_move(
                application=application,
                to=Status.SUBMITTED,
                actor=user,
                action="resubmit",
                also_saved=("submitted_at",),
            )
            task_done(activation)
        return application

    with transaction.atomic():
        start_run(
            flow_for(application.call.program_slug).instance.submit,
            application=application,
            user=user,
            submitted_at=now,
        )
    return application


def process_link(activation, application: Application, *, user, submitted_at):
    """StartHandle body: save the new process and submit the application with it linked (one
    UPDATE)."""
    activation.process.save()
    application.process = activation.process
    application.submitted_at = submitted_at
    application_move(
        application=application,
        to=Status.SUBMITTED,
        actor=user,
        action="submit",
        also_saved=("submitted_at", "process"),
    )
    # The nodes that run next in this step, and the task-created receiver, use it as it is.
    application_attach(activation.process, application)
    return activation.process

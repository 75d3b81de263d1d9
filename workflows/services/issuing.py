"""Issuing official documents for applications and calls through the documents layer: what a
document is told about the program, the call and the applicant, its title and issuer code, and
the audit record of each issue, reissue and void (documents/ records no audit of its own)."""

from django.core.exceptions import PermissionDenied
from django.db import transaction

from documents import services as documents
from documents.models import Document
from documents.prepared import Prepared

from ..models import Application, Call
from ..programs import issuer_code
from .audit import audit_record, audit_write, audit_write_many
from .personal_data import public_reason_check

ISSUE_PERMISSION = "workflows.issue_decision"
Status = Application.Status

# The heading printed on each kind of document unless its stage names another (official text:
# Chinese by law). `{title}` is the program's title.
DEFAULT_TITLES = {
    Document.Kind.FUNDING_DECISION: "关于给予{title}的决定",
    Document.Kind.RECOGNITION_DECISION: "关于{title}结果的决定",
    Document.Kind.COMMENDATION_DECISION: "关于{title}的表彰决定",
    Document.Kind.CERTIFICATE: "{title}证书",
    Document.Kind.ACCEPTANCE_NOTICE: "受理通知书",
    Document.Kind.REFUSAL_DECISION: "不予受理决定书",
    Document.Kind.DECISION_NOTICE: "资助决定通知书",
    Document.Kind.AWARD_LETTER: "奖励通知书",
    Document.Kind.ROUND_RESULT_DECISION: "评审结果决定书",
    Document.Kind.CORRECTION_NOTICE: "补正通知书",
    Document.Kind.LAPSE_NOTICE: "终止办理告知书",
    Document.Kind.NOT_RECOMMENDED_NOTICE: "不予推荐告知书",
    Document.Kind.REJECTION_DECISION: "审议不予通过决定书",
    Document.Kind.WITHDRAWAL_DECISION: "撤销列入名单决定书",
    Document.Kind.NOT_AWARDED_DECISION: "评审未通过决定书",
}


# How a decision names each step its program took before it (official text: Chinese by law); a
# stage's own `name` (e.g. 初评) is used as it is.
PROCEDURE_WORDS = {
    "application": "申报",
    "city_recommendation": "市州推荐",
    "formal_review": "形式审查",
    "expert_review": "专家评审",
    "committee_vote": "评审委员会评定",
    "leadership_meeting": "审议",
    "public_notice": "公示",
}


def procedure_text(program: dict, *, after: str = "") -> str:
    """The steps the program's applications go through before its decision, as a decision says
    them: 申报、形式审查、专家评审、审议和公示 (only the stages the file has, in its order); with
    `after` (a stage type), only those that come after that stage."""
    steps = []
    started = not after
    for stage in program["stages"]:
        if stage["type"] == "decision":
            break
        if not started:
            started = stage["type"] == after
            continue
        word = stage.get("name") or PROCEDURE_WORDS.get(stage["type"])
        if word and word not in steps:
            steps.append(word)
    if len(steps) < 2:
        return "".join(steps)
    return "、".join(steps[:-1]) + "和" + steps[-1]


# A decision notice is named after the call's decision it tells the applicant of.
DECISION_NOTICE_TITLES = {
    Document.Kind.RECOGNITION_DECISION: "认定决定通知书",
    Document.Kind.COMMENDATION_DECISION: "表彰决定通知书",
}


def default_title(kind: str, program: dict) -> str:
    """The default heading of `kind` for `program`, without saying the program's last word
    twice (知识产权服务品牌机构表彰 gives 关于知识产权服务品牌机构表彰的决定, not
    …表彰的表彰决定, and so does a title like …表彰奖励);
    a decision notice is named after the program's decision (资助, 认定 or 表彰决定通知书)."""
    program_title = program["title"]["zh"]
    wording = DEFAULT_TITLES[kind]
    if kind == Document.Kind.DECISION_NOTICE:
        decision = next((s for s in program["stages"] if s["type"] == "decision"), {})
        wording = DECISION_NOTICE_TITLES.get(decision.get("document"), wording)
    if wording.endswith("的表彰决定") and "表彰" in program_title:
        wording = wording.replace("的表彰决定", "的决定")
    return wording.format(title=program_title)


def _submitted_in_order(call_id):
    """The call's submitted applications, first first (`call_id` may be an OuterRef)."""
    return Application.objects.filter(call_id=call_id).exclude(status=Status.DRAFT).order_by("pk")


def first_submitted_version(call_id):
    """The program version of the call's first submitted application, as a subquery."""
    return _submitted_in_order(call_id).values("program_version_id")[:1]


_FIRST_SUBMITTED = Prepared(
    Application,
    lambda call_id: _submitted_in_order(call_id).select_related("program_version")[:1],
)


def program_content(application: Application | None, call: Call) -> dict:
    """The rules of the application's own program version; for a batch, the call's first one."""
    from .applications import program_version_current

    if application is not None:
        return application.program
    first = _FIRST_SUBMITTED.first(call_id=call.pk)
    if first is not None:
        return first.program
    return program_version_current(slug=call.program_slug).content


def document_context(
    application: Application | None, call: Call, *, program: dict | None = None
) -> dict:
    """What every document says of its program, call and (for one applicant) the applicant.
    `program`: `program_content(application, call)` when the caller read it already."""
    program = program or program_content(application, call)
    context = {
        "issuer": program["issuer"],
        "program": {
            "title": program["title"]["zh"],
            "policy_document": program["policy_basis"]["document"],
            "policy_clause": program["policy_basis"]["clause"],
            "policy_text": program["policy_basis"]["text"],
            "procedure": procedure_text(program),
            "procedure_after_review": procedure_text(program, after="formal_review"),
            # How a recognition calls those it recognises: 企业 for an enterprise program
            # (知识产权优势企业认定), else 单位.
            "applicants": "企业" if "企业" in program["title"]["zh"] else "单位",
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


def issue_fields(
    *,
    kind: str,
    application: Application | None,
    call: Call,
    user,
    context: dict,
    title: str = "",
    program: dict | None = None,
) -> dict:
    """What `documents.services.document_issue` is given for `kind`: the title (the stage's own,
    else the default wording) and the issuer code from the program's rules (`program`, as in
    `document_context`)."""
    program = program or program_content(application, call)
    title = title or (program.get("document_titles") or {}).get(kind) or ""
    return {
        "kind": kind,
        "call": call,
        "application": application,
        "institution": application.institution if application else None,
        "issued_by": user,
        "title": title or default_title(kind, program),
        "context": context,
        "issuer_code": issuer_code(program, kind),
    }


def issue(
    *,
    kind: str,
    application: Application | None,
    call: Call,
    user,
    context: dict,
    title: str = "",
) -> Document:
    """Issue one document now (numbered and recorded; a background job renders and stores its
    PDF once the caller's transaction commits) and record it in the audit trail."""
    document = documents.document_issue(
        **issue_fields(
            kind=kind, application=application, call=call, user=user, context=context, title=title
        )
    )
    issue_audit(user=user, document=document, application=application, call=call)
    return document


def adverse_issue(*, kind: str, application: Application, user, reasons: str, **facts) -> Document:
    """The written decision (or notice) of an adverse outcome for one applicant: its facts, the
    officer's reasons, the program's policy basis and the remedies (the templates say them)."""
    context = document_context(application, application.call)
    context.update(reasons=reasons, **facts)
    return issue(
        kind=kind, application=application, call=application.call, user=user, context=context
    )


def issue_audit(*, user, document: Document, application: Application | None, call: Call):
    """Every issued document passes here (one at a time or in a batch): its audit record, and
    the applicant is told."""
    from .notifications import document_issued_notify

    audit_write_many(
        [issue_audit_record(user=user, document=document, application=application, call=call)]
    )
    if application is not None:
        document_issued_notify(document=document, application=application)


def issue_audit_record(*, user, document: Document, application: Application | None, call: Call):
    """The audit record of an issued document, not written yet (a batch writes many at once:
    `audit.audit_write_many`)."""
    return audit_record(
        actor=user,
        action="document_issue",
        application=application,
        call=call,
        data={"document": document.pk, "kind": document.kind, "number": document.number},
    )


def _require_issue_permission(user) -> None:
    if user is None or not user.has_perm(ISSUE_PERMISSION):
        raise PermissionDenied


def document_reissue(*, user, document: Document, reason: str) -> Document:
    """A new numbered version of `document` replacing it (documents.services), audited."""
    _require_issue_permission(user)
    reason = public_reason_check(reason)
    with transaction.atomic():
        reissued = documents.document_reissue(document=document, user=user, reason=reason)
        _document_audit(document, user, "document_reissue", reason, new=reissued.number)
    return reissued


def document_void(*, user, document: Document, reason: str) -> Document:
    """Mark `document` void (documents.services), audited."""
    _require_issue_permission(user)
    reason = public_reason_check(reason)
    with transaction.atomic():
        voided = documents.document_void(document=document, user=user, reason=reason)
        _document_audit(document, user, "document_void", reason)
    return voided


def _document_audit(document: Document, user, action: str, reason: str, **data) -> None:
    """Reissues and voids join the application's (or call's) audit trail."""
    audit_write(
        actor=user,
        action=action,
        application=document.application,
        call=document.call,
        reason=reason.strip(),
        data={"document": document.pk, "number": document.number, **data},
    )

"""Issuing a call's decision: the batch document for the list and a notice or certificate per
applicant, through the documents layer's batch issue (documents.batch)."""

from datetime import date, timedelta
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Exists, F, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from viewflow.workflow.status import PROCESS

from documents import batch as document_batch
from documents.amounts import amount_in_words
from documents.models import Document
from documents.prepared import Prepared

from ... import selectors
from ...amounts import amount_rule, award_figure, award_label_into, paid_for_many
from ...flows import node_refs, nodes_named
from ...models import Application, Call, Objection, PublicNotice
from ...programs import program_get, program_stage
from ...services import issuing
from ...services.audit import application_move, applications_move, audit_write_many
from ...services.handles import handle_tasks_locked, handles_run
from ...services.issuing import document_context, issue_audit, issue_fields, program_content
from ...services.notifications_bulk import documents_issued_notify
from ...services.tasks import open_task

Status = Application.Status
NODE = "await_decision"


def decision_issue_check(*, user, call: Call, starting: bool = False) -> int:
    """What must hold before a call's decision is issued (checked again inside the job); how
    many applications wait for it. `starting`: called by `decision_issue_start`, whose
    `issue_batch_start` looks for a live batch itself, under the call's lock."""
    if not user.has_perm("workflows.issue_decision"):
        raise PermissionDenied
    facts = _decision_facts(call)
    if (
        program_stage(program_get(call.program_slug).content, "public_notice") is not None
        and not facts["notice_published"]
    ):
        raise ValidationError(
            _("尚未发布公示：公示期满且异议处理完毕后才能印发决定。"), code="no_notice"
        )
    if facts["objections_pending"]:
        raise ValidationError(
            _("该批次还有未处理的异议，处理完毕后才能印发决定。"), code="pending_objections"
        )
    if facts["notice_open"]:
        raise ValidationError(_("公示期尚未结束，不能印发决定。"), code="notice_open")
    if not starting and document_batch.issue_batch_running(call):
        raise ValidationError(document_batch.BATCH_RUNNING_MESSAGE, code="batch_running")
    if facts["before"]:
        raise ValidationError(
            _("该批次还有%(n)d项申报尚未办结前序环节，全部办结后才能印发决定（决定包含全部名单）。")
            % {"n": facts["before"]},
            code="stages_open",
        )
    if not facts["waiting"]:
        raise _nothing_to_decide()
    return facts["waiting"]


def _nothing_to_decide() -> ValidationError:
    return ValidationError(_("该批次没有待决定的名单。"), code="nothing_to_decide")


def _decision_facts(call: Call) -> dict:
    """What `decision_issue_check` asks of the call, read in one statement: a notice published,
    objections pending, applications still on notice, how many are still on their way to the
    decision, and how many wait for it."""
    return _DECISION_FACTS.first(call_id=call.pk, nodes=node_refs(call.program_slug, NODE))


def _decision_facts_read(call_id: int, nodes: list):
    before = _counted(_before_decision(Application.objects.filter(call_id=call_id), call_id, nodes))
    return (
        Call.objects.filter(pk=call_id)
        .annotate(
            notice_published=Exists(PublicNotice.objects.filter(call_id=OuterRef("pk"))),
            objections_pending=Exists(
                Objection.objects.filter(
                    application__call_id=OuterRef("pk"), status=Objection.Status.PENDING
                )
            ),
            notice_open=Exists(
                Application.objects.filter(call_id=OuterRef("pk"), status=Status.IN_NOTICE)
            ),
            before=Coalesce(Subquery(before), 0),
            waiting=Coalesce(Subquery(_counted(selectors.applications_at(call_id, nodes))), 0),
        )
        .values("notice_published", "objections_pending", "notice_open", "before", "waiting")
    )


def _counted(applications):
    """How many `applications` are (of one call), as a subquery."""
    return applications.order_by().values("call_id").annotate(n=Count("pk")).values("n")


_DECISION_FACTS = Prepared(Call, _decision_facts_read)
# The decision's list: best panel score first, then in the order the applications came; each
# read with the program version of the call's first submitted application (the rules the
# decision is written under: services.issuing.program_content).
_AWAITING_IN_ORDER = Prepared(
    Application,
    lambda call_id, nodes: (
        selectors.applications_at(call_id, nodes)
        .annotate(
            call_program_version=Subquery(issuing.first_submitted_version(OuterRef("call_id")))
        )
        .order_by(F("panel_score").desc(nulls_last=True), "pk")
    ),
)


def applications_before_decision(call: Call):
    """The call's submitted applications still on their way to the decision: their process runs,
    they are not decided, and they do not wait for it yet. The decision lists the whole call, so
    it waits for them."""
    return _before_decision(call.applications.all(), call.pk, nodes_named(call.program_slug, NODE))


def _before_decision(applications, call_id: int, nodes: list):
    waiting = selectors.applications_at(call_id, nodes).values("pk")
    return (
        applications.exclude(status=Status.DRAFT)
        .exclude(process__isnull=True)
        .exclude(process__status__in=[PROCESS.DONE, PROCESS.CANCELED])
        .exclude(status__in=selectors.DECIDED_STATUSES)
        .exclude(pk__in=waiting)
    )


def _pays(program: dict) -> bool:
    return program_stage(program, "disbursement") is not None


def _last_day_of(years: int, start: date) -> date:
    """The last day a designation of `years` from `start` (its first day) is valid: the day
    before the anniversary (三年，自2026年12月5日至2029年12月4日), as validity is counted."""
    try:
        anniversary = start.replace(year=start.year + years)
    except ValueError:  # from 29 February: the anniversary is 1 March
        anniversary = start.replace(year=start.year + years, month=3, day=1)
    return anniversary - timedelta(days=1)


def decision_issue_start(*, user, call: Call, dispatch: bool = True):
    """Prepare the batch of the call's decision (funding, recognition or commendation, as the
    program's decision stage says) and of a notice or certificate per applicant, and fan it out
    to the worker processes (documents.batch) unless `dispatch` is False; the IssueBatch.

    Award amounts and validity are recorded, then the numbers of the decision and of every
    applicant's document reserved at once (the notices print the decision's number). The
    decision is the batch's lead: it is issued before any notice is stored. Each applicant's
    document is recorded with its application's move to DECIDED (`decision_document_recorded`)
    as it is stored; one that failed stays where it is, listed in the batch's errors, and
    issuing again completes it under the reserved number.

    A call of few applicants (`documents.batch.issue_batch_at_once`) is decided whole in one
    transaction instead (`_decision_issue_at_once`): the batch is then finished when this
    returns, its PDFs rendered by background jobs."""
    waiting = decision_issue_check(user=user, call=call, starting=True)
    if document_batch.issue_batch_at_once(waiting):
        return _decision_issue_at_once(user=user, call=call)
    applications = _AWAITING_IN_ORDER(call_id=call.pk, nodes=node_refs(call.program_slug, NODE))
    stage = applications[0].program_version.stage("decision")
    batch = document_batch.issue_batch_start(call=call, kind=stage["per_applicant"], user=user)
    try:
        with transaction.atomic():
            _decision_batch_fill(
                document_batch.issue_batch_prepare,
                batch=batch,
                user=user,
                call=call,
                applications=applications,
                stage=stage,
            )
            if dispatch:
                document_batch.issue_batch_dispatch(batch)
    except BaseException as error:
        document_batch.issue_batch_fail(batch=batch, error=error)
        raise
    return batch


def _decision_issue_at_once(*, user, call: Call):
    """The decision, every applicant's document and their moves to DECIDED recorded in one
    transaction under the call's lock (documents.batch.issue_batch_record): the list is read
    under it, so an officer who pressed the button too finds nothing left to decide. What
    fails rolls back whole and is recorded as a failed batch; issuing again starts anew."""
    batch = None
    recording = False
    try:
        with transaction.atomic():
            batch = document_batch.issue_batch_start(call=call, kind="", user=user, at_once=True)
            applications = _AWAITING_IN_ORDER(
                call_id=call.pk, nodes=node_refs(call.program_slug, NODE)
            )
            if not applications:
                raise _nothing_to_decide()
            stage = applications[0].program_version.stage("decision")
            batch.kind = stage["per_applicant"]
            recording = True
            _decision_batch_fill(
                document_batch.issue_batch_record,
                batch=batch,
                user=user,
                call=call,
                applications=applications,
                stage=stage,
            )
    except BaseException as error:
        if recording:
            document_batch.issue_batch_fail(batch=batch, error=error, at_once=True)
        raise
    return batch


def _decision_batch_fill(fill, *, batch, user, call, applications, stage) -> None:
    """The decision's and the applicants' requests made (`_decision_issue_prepare`) and given to
    `fill`: documents.batch's `issue_batch_prepare` (fanned out) or `issue_batch_record` (at
    once, where the awards are recorded with the applications' moves to DECIDED); the notices
    print the decision's number."""
    at_once = fill is document_batch.issue_batch_record
    lead, requests = _decision_issue_prepare(
        user=user, call=call, applications=applications, stage=stage, awards_saved=not at_once
    )
    fill(
        batch=batch,
        requests=requests,
        lead=lead,
        handler=RECORDED,
        lead_number_into="decision_number",
    )


def decision_issue(*, user, call: Call) -> Document:
    """`decision_issue_start` run to the end in this process (management command, rehearsal,
    demo); the decision (its PDF pending when the call was decided at once). Raises
    documents.batch.IssueBatchFailed if the decision itself could not be issued."""
    batch = decision_issue_start(user=user, call=call, dispatch=False)
    if batch.status != batch.Status.FINISHED:
        document_batch.issue_batch_run(batch)
    return selectors.call_decision(call)


def decision_documents_recorded(*, batch, stored: list[document_batch.Stored]) -> None:
    """`decision_document_recorded` for a chunk of documents at once (the batch's runner
    stores them so, documents.batch; the decision first when it is among them): their audit
    records and the applications' moves to DECIDED in one INSERT and one UPDATE, the
    applicants told in one INSERT, and their processes moved on from the decision together
    (services.handles)."""
    call = batch.call
    issued = [
        issuing.issue_audit_record(
            user=batch.created_by, document=s.document, application=s.application, call=call
        )
        for s in stored
    ]
    stored = [s for s in stored if s.application is not None]
    if not stored:
        audit_write_many(issued)
        return
    applications = [s.application for s in stored]
    for application in applications:
        if application.call_id == call.pk:
            application.call = call  # not read again for each message
    tasks = handle_tasks_locked(applications, NODE)
    applications_move(
        applications=applications,
        to=Status.DECIDED,
        actor=batch.created_by,
        action="decide",
        audited=issued,
        # Recorded here when the call is decided at once (`_decision_issue_prepare`); the same
        # values again for a fanned-out batch, which recorded them when it was prepared.
        also_saved=AWARD_FIELDS,
    )
    documents_issued_notify(issued=[(s.document, s.application) for s in stored])
    handles_run(tasks)


@document_batch.records_many(decision_documents_recorded)
def decision_document_recorded(*, batch, application, document, data) -> None:
    """The batch's handler (documents.batch), in the stored document's transaction: the audit
    record (and the applicant is told); an applicant's document moves its application to
    DECIDED and its process on."""
    issue_audit(user=batch.created_by, document=document, application=application, call=batch.call)
    if application is None:
        return
    application_move(
        application=application,
        to=Status.DECIDED,
        actor=batch.created_by,
        action="decide",
        also_saved=AWARD_FIELDS,
    )
    task = open_task(application, NODE)
    task.flow_task.run(task)


RECORDED = f"{__name__}.decision_document_recorded"
AWARD_FIELDS = ("award_amount", "valid_until")


def _decision_issue_prepare(*, user, call, applications, stage, awards_saved: bool = True):
    """Award amounts and validity set on `applications` and, with `awards_saved`, recorded (in
    bulk; else the applications' moves to DECIDED record them: `AWARD_FIELDS`); (the batch
    request of the decision; the requests of the applicants' documents, which print the
    decision's number)."""
    pays = _pays(applications[0].program)
    today = timezone.localdate()
    years = stage["validity_years"]
    valid_until = _last_day_of(years, today) if years else None
    rows = []
    awards = {}
    for application in applications:
        application.call = call
    paid_before = paid_for_many(applications) if pays else {}
    for application in applications:
        award = awards[application.pk] = (
            award_figure(application=application, paid_before=paid_before) if pays else None
        )
        amount = award.amount if award else None
        application.award_amount = amount
        application.valid_until = valid_until
        rows.append(
            {
                "institution_name": application.institution.name,
                "uscc": application.institution.uscc,
                "tier_label": (award.label if award else "") or application.tier_label_zh,
                "patent_number": application.patent_number,
                "amount": amount,
                "amount_words": amount_in_words(amount) if pays else "",
            }
        )
    if awards_saved:
        Application.objects.bulk_update(applications, list(AWARD_FIELDS))
    version = getattr(applications[0], "call_program_version", None)
    listed = [a.program_version for a in applications if a.program_version_id == version]
    program = listed[0].content if listed else program_content(None, call)
    decision_context = document_context(None, call, program=program)
    decision_context.update(
        rows=rows,
        # The list's level column: the grade of a program paying by grades; none when no row
        # has a level or a grade (a percentage of a figure).
        tier_heading="档次" if amount_rule(applications[0].program)["rule"] == "grades" else "级别",
        without_tiers=not any(r["tier_label"] for r in rows),
        total=sum((r["amount"] for r in rows), Decimal("0.00")) if pays else None,
        valid_until=valid_until,
        validity_years=stage["validity_years"],
    )
    fields = issue_fields(
        kind=stage["document"],
        application=None,
        call=call,
        user=user,
        context=decision_context,
        title=stage["title"],
        program=program,
    )
    # Numbered first with the notices, which print its number (`lead_number_into`); one an
    # earlier run issued is not issued again, and the notices print its number.
    lead = document_batch.BatchRequest(key="decision", fields=fields, label=stage["title"])
    decision_number = None

    requests = []
    for application in applications:
        context = document_context(application, call)
        award = awards[application.pk]
        if award and award.label:
            award_label_into(context, application, award.label)
        context.update(
            amount=application.award_amount,
            amount_basis=award.basis if award else "",
            amount_words=amount_in_words(application.award_amount) if pays else "",
            decision_number=decision_number,
            valid_until=valid_until,
            decision_kind=stage["document"],
        )
        requests.append(
            document_batch.BatchRequest(
                key=application.pk,
                label=application.institution.name,
                fields=issue_fields(
                    kind=stage["per_applicant"],
                    application=application,
                    call=call,
                    user=user,
                    context=context,
                    title=_applicant_title(stage),
                ),
            )
        )
    return lead, requests


def _applicant_title(stage: dict) -> str:
    """The heading of each applicant's document: the stage's certificate title for a
    certificate, else the default wording."""
    if stage["per_applicant"] == Document.Kind.CERTIFICATE:
        return stage["certificate_title"]
    return ""

"""Issuing official documents: number, record, render, store once; reissue and void.

`document_issue` is the only writer of new `Document` rows. A document is issued once per (kind,
application), or per (kind, call) for a batch document: asking again returns the current version
unchanged, so a retried workflow step never produces a second version or burns a number.

Nothing renders inside a web request. Issuing one document records it in the caller's
transaction (number, verification code, title, the archived context) with its PDF pending; when
that transaction commits, a background job (`documents.tasks.document_render_job`) renders,
signs and stores the PDF (`document_file_render`), rebuilding what the template sees from the
row (`document_render_context`). The job is idempotent: one conditional UPDATE stores the file
while the document is still pending, and a loser discards its own file. A render that fails
leaves the document pending; `documents_render_recover` (workflow_timers) enqueues it again.
Contexts outside a request that need the PDF at once render it here
(`documents_render_pending`). A batch renders in its own workers (documents.batch) through
`document_prepare`, `document_render` and `document_store`.

An issued file is never overwritten. `document_reissue` renders a new version under a new number
and verification code that `replaces` the old one; the old one keeps its file and number and is
marked superseded. `document_void` marks a document void with a reason; its number is never reused.
"""

import hashlib
import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

import segno
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, router, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from .models import Document, DocumentReservation, verification_code_new
from .numbering import document_number_next, document_numbers_next
from .prepared import Prepared
from .rendering import OFFICIAL_TIME_ZONE, render_pdf
from .signing import pdf_sign

logger = logging.getLogger(__name__)


def document_issue(
    *,
    kind: str,
    call,
    application=None,
    institution=None,
    issued_by=None,
    title: str,
    context: dict,
    numbered: bool = True,
    issuer_code: str,
    reservation: DocumentReservation | None = None,
) -> Document:
    """Issue the document `kind` for `application` (or for `call` when it is a batch document),
    under the number and verification code of its `reservation` if it has one.

    Takes the number (none when not `numbered`) and a verification code and records the
    document with `context` archived, its PDF pending; once the caller's transaction commits, a
    background job renders documents/<kind>.html from the context plus `title`, `number`,
    `issued_on` (the day in Beijing) and the verification block (`verification_code`,
    `verification_url`, `verification_qr`), stores the PDF under a new name and records its
    SHA-256 (`document_file_render`). If recording fails the number is given back.
    """
    if kind not in Document.Kind.values:
        raise ValueError(f"Unknown document kind {kind!r}.")
    # Not looked for first: the database refuses a second current document of the kind, and
    # the one issued before is read then, once the savepoint has given its number back.
    try:
        return _document_create(
            kind=kind,
            call=call,
            application=application,
            institution=institution,
            issued_by=issued_by,
            title=title,
            context=context,
            numbered=numbered,
            issuer_code=issuer_code,
            reservation=reservation,
        )
    except IntegrityError:
        # Issued before, or by a concurrent request first; ours was rolled back.
        issued = _issued_document(kind=kind, call=call, application=application)
        if issued is None:
            raise
        return issued


# A reason is printed in a document and may be published: a few paragraphs, not a file (a
# 100,000-character reason once made a 164-page decision and a 100 KB public page).
REASON_MAX_CHARS = 2000


def reason_length_check(reason: str) -> str:
    """`reason` stripped; ValidationError when it is longer than a document should print."""
    reason = reason.strip()
    if len(reason) > REASON_MAX_CHARS:
        raise ValidationError(
            _("理由不能超过%(limit)d字（现为%(count)d字），请精简后重新填写。")
            % {"limit": REASON_MAX_CHARS, "count": len(reason)},
            code="reason_too_long",
        )
    return reason


def document_reissue(
    *, document: Document, user, reason: str, context: dict | None = None
) -> Document:
    """Issue a new version of `document` under a new number and verification code.

    The new version `replaces` the old one, which keeps its file and number and is marked
    superseded. It is rendered (in the background, like any issue) from `context` when given
    (e.g. corrected data), else from the context the old version was rendered from. A document
    whose PDF is still pending is not reissued: what it says cannot be read yet; nor is a void
    one, which has no effect to correct. Who may
    reissue, and the audit record, are the caller's (the engine's) business.
    """
    reason = reason_length_check(reason)
    if not reason:
        raise ValidationError(_("重新印发必须写明理由。"), code="reason_required")
    with transaction.atomic():
        current = Document.objects.select_for_update().get(pk=document.pk)
        if current.is_void:
            # A void document has no effect: a new version would bring it back under a new
            # number. What it decided is decided again through the program's own steps.
            raise ValidationError(_("该文书已作废，不能重新印发。"), code="void")
        if current.is_superseded:
            raise ValidationError(
                _("该文书已被新版本替代，请对最新版本重新印发。"), code="superseded"
            )
        if current.is_pending:
            raise ValidationError(
                _("该文书正在生成，生成后才能重新印发，请稍后刷新再试。"), code="pending"
            )
        if context is None:
            if not current.context:
                raise ValidationError(
                    _("该文书没有存档的印发内容，无法重新印发。"), code="no_context"
                )
            context = context_decode(current.context)
        current.superseded_at = timezone.now()
        current.save(update_fields=["superseded_at"])
        reissued = _document_create(
            kind=current.kind,
            call=current.call,
            application=current.application,
            institution=current.institution,
            issued_by=user,
            title=current.title,
            context=context,
            numbered=bool(current.number),
            issuer_code=current.issuer_code or current.number.partition("〔")[0],
            replaces=current,
            reissue_reason=reason,
        )
    document.refresh_from_db()
    return reissued


def document_void(*, document: Document, user, reason: str) -> Document:
    """Mark `document` void with `reason`. It keeps its number and file (a pending one is still
    rendered, so the record shows what was voided); no one else gets the number."""
    reason = reason_length_check(reason)
    if not reason:
        raise ValidationError(_("作废必须写明理由。"), code="reason_required")
    with transaction.atomic():
        current = Document.objects.select_for_update().get(pk=document.pk)
        if current.is_void:
            raise ValidationError(_("该文书已作废。"), code="already_void")
        current.voided_at = timezone.now()
        current.void_reason = reason
        current.voided_by = user
        current.save(update_fields=["voided_at", "void_reason", "voided_by"])
    document.refresh_from_db()
    return document


def verification_url(code: str) -> str:
    """The public address of a document's verification page."""
    return settings.SITE_URL.rstrip("/") + reverse("documents:verify", args=[code])


# Error correction M, as asked, not raised to a higher level when it would fit (`boost_error`);
# a fixed data mask rather than the best of eight scored in pure Python, which took four fifths
# of the time of a QR code (about 8 ms of 10). Any of the eight masks is a valid QR code
# (ISO/IEC 18004 §7.8); the scoring only avoids patterns that trouble poor scanners, and a
# verification address (version 4, a few dozen characters) has none worth the time.
QR_OPTIONS = {"error": "m", "boost_error": False, "mask": 0}


def verification_qr(url: str) -> str:
    """A QR code for `url` as a PNG data URI, one pixel per module with the 4-module quiet zone
    (WeasyPrint fetches nothing; the template scales it up with sharp edges). A PNG, because
    WeasyPrint spends longer parsing the SVG path of a QR code than drawing the rest of a page."""
    return segno.make(url, **QR_OPTIONS).png_data_uri(scale=1)


@dataclass
class PreparedDocument:
    """A document numbered and given its verification code, ready to render and store.

    `render_context` is what the template sees (picklable: it can be rendered in a worker
    process); `context` is what is archived with the document for a reissue."""

    kind: str
    call: object
    application: object
    institution: object
    issued_by: object
    title: str
    context: dict
    issuer_code: str
    issued_at: datetime
    number: str
    verification_code: str
    render_context: dict
    replaces: Document | None = None
    reissue_reason: str = ""

    @property
    def template_name(self) -> str:
        return f"documents/{self.kind}.html"


def document_reserve(
    *, kind: str, call, application=None, issuer_code: str, numbered: bool = True
) -> DocumentReservation:
    """The number and verification code kept for document `kind` of `application` (or of `call`)
    until it is stored: the one reserved by an earlier run, else new ones. Commit the reservation
    before rendering (see DocumentReservation)."""
    reservations = DocumentReservation.objects.filter(kind=kind, call=call)
    if application is not None:
        reserved = reservations.filter(application=application).first()
    else:
        reserved = reservations.filter(application__isnull=True).first()
    if reserved is not None:
        return reserved
    issued_at = timezone.now()
    year = issued_at.astimezone(OFFICIAL_TIME_ZONE).year
    return DocumentReservation.objects.create(
        kind=kind,
        call=call,
        application=application,
        issuer_code=issuer_code,
        number=document_number_next(issuer_code=issuer_code, year=year) if numbered else "",
        verification_code=_verification_code_unused(),
        issued_at=issued_at,
    )


def documents_reserve(*, wanted: list[dict]) -> list[DocumentReservation]:
    """`document_reserve` for many documents at once, in a few queries whatever their number:
    each of `wanted` ({kind, call, application, issuer_code, numbered}) gets the reservation an
    earlier run made, else a new one; new numbers are consecutive in the order given. Call it
    in a transaction and commit before rendering."""
    reservations = documents_numbered(wanted=wanted)
    new = {id(r): r for r in reservations if r.pk is None}
    DocumentReservation.objects.bulk_create(list(new.values()))
    return reservations


def documents_numbered(*, wanted: list[dict], reserved: bool = True) -> list[DocumentReservation]:
    """The numbers and verification codes of `wanted` (as `documents_reserve`): the reservation
    an earlier run made, else a new one not saved, for documents recorded in this transaction
    (`documents_record`); new numbers are consecutive in the order given. `reserved`: False
    when the caller knows that no run reserved any (the reservations are not read)."""
    if not wanted:
        return []
    existing = {}
    kinds = {w["kind"] for w in wanted}
    calls = {w["call"].pk for w in wanted}
    reservations = DocumentReservation.objects.filter(kind__in=kinds, call_id__in=calls)
    for reservation in reservations if reserved else ():
        existing[(reservation.kind, reservation.call_id, reservation.application_id)] = reservation

    def key(w):
        application = w.get("application")
        return (w["kind"], w["call"].pk, application.pk if application is not None else None)

    missing = [w for w in wanted if key(w) not in existing]
    issued_at = timezone.now()
    year = issued_at.astimezone(OFFICIAL_TIME_ZONE).year
    numbers: dict[str, list[str]] = {}
    for code in dict.fromkeys(w["issuer_code"] for w in missing if w.get("numbered", True)):
        count = sum(1 for w in missing if w.get("numbered", True) and w["issuer_code"] == code)
        numbers[code] = document_numbers_next(issuer_code=code, year=year, count=count)[::-1]
    codes = _verification_codes_unused(len(missing))
    for w, code in zip(missing, codes, strict=True):
        existing[key(w)] = DocumentReservation(
            kind=w["kind"],
            call=w["call"],
            application=w.get("application"),
            issuer_code=w["issuer_code"],
            number=numbers[w["issuer_code"]].pop() if w.get("numbered", True) else "",
            verification_code=code,
            issued_at=issued_at,
        )
    return [existing[key(w)] for w in wanted]


def document_prepare(
    *,
    kind: str,
    call,
    application=None,
    institution=None,
    issued_by=None,
    title: str,
    context: dict,
    numbered: bool = True,
    issuer_code: str,
    replaces: Document | None = None,
    reissue_reason: str = "",
    reservation: DocumentReservation | None = None,
) -> PreparedDocument:
    """Take the next number and a verification code for a document to render (or those of its
    `reservation`). Without a reservation, call it inside the transaction that stores the
    document (`document_store`), so a failure gives the number back.

    The render context holds the verification address but not its QR code, which
    `document_render` draws (in a worker process, for a batch)."""
    if reservation is not None:
        issued_at, code, number = (
            reservation.issued_at,
            reservation.verification_code,
            reservation.number,
        )
    else:
        issued_at = timezone.now()
        code = _verification_code_unused()
        number = ""
        if numbered:
            year = issued_at.astimezone(OFFICIAL_TIME_ZONE).year
            number = document_number_next(issuer_code=issuer_code, year=year)
    return PreparedDocument(
        kind=kind,
        call=call,
        application=application,
        institution=institution,
        issued_by=issued_by,
        title=title,
        context=context,
        issuer_code=issuer_code,
        issued_at=issued_at,
        number=number,
        verification_code=code,
        render_context=render_context(
            context=context,
            title=title,
            number=number,
            issued_at=issued_at,
            verification_code=code,
            replaces_number=replaces.number if replaces else "",
        ),
        replaces=replaces,
        reissue_reason=reissue_reason,
    )


def render_context(
    *,
    context: dict,
    title: str,
    number: str,
    issued_at: datetime,
    verification_code: str,
    replaces_number: str = "",
) -> dict:
    """What a document's template sees: its `context` and what its record says (title, number,
    the day it was issued in Beijing, the verification code and address, the number it
    replaces). The QR code is drawn by `document_render`."""
    return {
        **context,
        "title": title,
        "number": number,
        "issued_on": issued_at.astimezone(OFFICIAL_TIME_ZONE).date(),
        "verification_code": verification_code,
        "verification_url": verification_url(verification_code),
        "replaces_number": replaces_number,
    }


def document_render_context(document: Document) -> dict:
    """The render context of a recorded document, rebuilt from its row (its archived context,
    number, title, issue date, verification code and the number it replaces)."""
    return render_context(
        context=context_decode(document.context),
        title=document.title,
        number=document.number,
        issued_at=document.issued_at,
        verification_code=document.verification_code,
        replaces_number=document.replaces.number if document.replaces_id else "",
    )


def document_render(template_name: str, context: dict) -> bytes:
    """The PDF of a render context from `document_prepare`, with the QR code of its verification
    address drawn in (here rather than in `document_prepare`, so a batch draws them in its
    worker processes), signed with the issuer's certificate (documents.signing)."""
    qr = verification_qr(context["verification_url"])
    pdf = render_pdf(template_name, {**context, "verification_qr": qr})
    return pdf_sign(pdf, (context.get("issuer") or {}).get("name", ""))


def document_store(
    *, prepared: PreparedDocument, pdf: bytes, reservation: DocumentReservation | None = None
) -> Document:
    """Store the rendered `pdf` of `prepared` under a fresh name and record it (in place of its
    `reservation`, which is deleted)."""
    stored_name = None
    try:
        # No savepoint: a failure here propagates (the file is discarded below) and rolls back
        # the caller's transaction or savepoint; it opens a transaction when called outside one.
        with transaction.atomic(savepoint=False):
            stored_name = _file_save(prepared.kind, prepared.issued_at, pdf)
            return _document_record(prepared, reservation, **_file_fields(stored_name, pdf))
    except BaseException:
        _discard(stored_name)
        raise


def document_record(
    *, prepared: PreparedDocument, reservation: DocumentReservation | None = None
) -> Document:
    """Record `prepared` with its PDF pending and have a background job render it once the
    caller's transaction commits (`document_render_job`)."""
    document = _document_record(prepared, reservation, render_requested_at=timezone.now())
    render_enqueue([document.pk])
    return document


def _document_record(
    prepared: PreparedDocument, reservation: DocumentReservation | None, **file_fields
) -> Document:
    if reservation is not None:
        reservation.delete()
    document = _document_row(prepared, **file_fields)
    document.save(force_insert=True)
    return document


def _document_row(prepared: PreparedDocument, **file_fields) -> Document:
    """The unsaved row of `prepared` (with its file's fields, or none while its PDF is
    pending)."""
    return Document(
        kind=prepared.kind,
        title=prepared.title,
        number=prepared.number,
        application=prepared.application,
        call=prepared.call,
        institution=prepared.institution,
        issued_by=prepared.issued_by,
        issued_at=prepared.issued_at,
        issuer_name=(prepared.context.get("issuer") or {}).get("name", ""),
        issuer_code=prepared.issuer_code,
        context=context_encode(prepared.context),
        verification_code=prepared.verification_code,
        replaces=prepared.replaces,
        reissue_reason=prepared.reissue_reason,
        **file_fields,
    )


def _file_fields(stored_name: str, pdf: bytes, rendered_at: datetime | None = None) -> dict:
    """A document's fields for its stored PDF."""
    return {
        "file": stored_name,
        "sha256": hashlib.sha256(pdf).hexdigest(),
        "size": len(pdf),
        "rendered_at": rendered_at or timezone.now(),
    }


def _file_save(kind: str, issued_at: datetime, pdf: bytes) -> str:
    """Store `pdf` under a fresh name (storage never overwrites an issued file); the name."""
    local = issued_at.astimezone(OFFICIAL_TIME_ZONE)
    return default_storage.save(
        f"documents/{local:%Y}/{local:%m}/{kind}-{uuid.uuid4().hex}.pdf", ContentFile(pdf)
    )


class RenderEnqueue:
    """Enqueues the render jobs of documents just recorded (`render_enqueue`: at once, or as an
    on-commit callback). It enqueues once however often it is called (a test runs the callbacks
    of its transaction, which never commits, as their commit would: tests/tasks_support.py)."""

    def __init__(self, document_ids: list[int]):
        self.document_ids = document_ids
        self.done = False

    def __call__(self) -> None:
        from .tasks import document_render_job

        if self.done:
            return
        self.done = True
        backend = document_render_job.get_backend()
        if len(self.document_ids) > 1 and isinstance(backend, _database_backend()):
            calls = [{"document_id": document_id} for document_id in self.document_ids]
            jobs_written(backend, document_render_job, calls)
            return
        for document_id in self.document_ids:
            document_render_job.enqueue(document_id=document_id)


def _database_backend():
    from django_tasks_db.backend import DatabaseBackend

    return DatabaseBackend


def jobs_written(backend, task, calls: list[dict]) -> None:
    """`task.enqueue(**kwargs)` for each of `calls` on the database backend (django-tasks-db),
    in one INSERT: the rows its `enqueue` writes one by one (`_task_to_db_task`), and the
    `task_enqueued` signal of each. tests/documents test that they are the rows `enqueue`
    writes."""
    from django.db.models.signals import pre_save
    from django_tasks_db.compat import normalize_json, task_enqueued
    from django_tasks_db.models import DBTaskResult

    backend.validate_task(task)
    rows = [
        DBTaskResult(
            id=backend._get_id(),
            args_kwargs=normalize_json({"args": (), "kwargs": kwargs}),
            priority=task.priority,
            task_path=task.module_path,
            queue_name=task.queue_name,
            run_after=task.run_after,
            backend_name=backend.alias,
        )
        for kwargs in calls
    ]
    using = router.db_for_write(DBTaskResult)
    for row in rows:
        # What `save()` sends first and bulk_create does not: the backend fills defaults so.
        pre_save.send(sender=DBTaskResult, instance=row, raw=False, using=using, update_fields=None)
    DBTaskResult.objects.bulk_create(rows)
    for row in rows:
        task_enqueued.send(type(backend), task_result=row.task_result)


def render_enqueue(document_ids: list[int]) -> None:
    """Enqueue the render jobs of documents just recorded. When the job queue is the database
    (`django-tasks-db`), in the recording transaction: the jobs commit with the documents, or
    roll back with them, and none is lost between a commit and its enqueue (one commit fewer).
    Otherwise (Redis) once it commits, so that a worker elsewhere finds them recorded."""
    from .tasks import document_render_job

    enqueue = RenderEnqueue(document_ids)
    if isinstance(document_render_job.get_backend(), _database_backend()):
        enqueue()
    else:
        transaction.on_commit(enqueue)


def document_file_render(*, document_id: int) -> bool:
    """Render, sign and store the PDF of a recorded document that is still pending; whether
    this call stored it (False: it was rendered already, by this or another worker).

    Safe with several workers at once: the file and its SHA-256 and size are recorded by one
    conditional UPDATE that applies only while the document is pending; a worker that loses
    the race deletes the file it stored. A render that fails raises, and leaves the document
    pending for `documents_render_recover`."""
    document = (
        Document.objects.select_related("replaces")
        .filter(pk=document_id, rendered_at__isnull=True)
        .first()
    )
    if document is None:
        return False
    pdf = document_render(f"documents/{document.kind}.html", document_render_context(document))
    stored_name = _file_save(document.kind, document.issued_at, pdf)
    try:
        stored = Document.objects.filter(pk=document.pk, rendered_at__isnull=True).update(
            **_file_fields(stored_name, pdf)
        )
    except BaseException:
        _discard(stored_name)
        raise
    if not stored:
        _discard(stored_name)  # another worker stored it first
    return bool(stored)


def documents_render_pending(ids: Iterable[int]) -> dict[int, str]:
    """Render here, one after the other, the documents of `ids` whose PDF is pending (for what
    runs outside a request and needs the PDFs at once: rehearsals, demos, commands). A failure
    is logged and the document left pending; the errors by document id."""
    failed = {}
    pending = Document.objects.filter(pk__in=list(ids), rendered_at__isnull=True)
    for document_id in pending.order_by("pk").values_list("pk", flat=True):
        try:
            document_file_render(document_id=document_id)
        except Exception as error:
            logger.exception("The PDF of document %s could not be rendered", document_id)
            failed[document_id] = f"{type(error).__name__}: {error}"
    return failed


# How many pending documents one run of `documents_render_recover` enqueues again at most.
RECOVER_MAX = 500


def documents_render_recover() -> int:
    """For `workflow_timers`: enqueue again the render of each document still pending
    `DOCUMENT_RENDER_RETRY_SECONDS` after its render was last enqueued (its job failed, or was
    lost: the process died between the commit and the enqueue); how many."""
    now = timezone.now()
    cutoff = now - timedelta(seconds=settings.DOCUMENT_RENDER_RETRY_SECONDS)
    # Every minute, and nearly always nothing to do: one statement on a partial index says so.
    stale = list(
        Document.objects.filter(rendered_at__isnull=True, render_requested_at__lt=cutoff)
        .order_by("render_requested_at")
        .values_list("pk", flat=True)[:RECOVER_MAX]
    )
    if not stale:
        return 0
    Document.objects.filter(pk__in=stale, rendered_at__isnull=True).update(render_requested_at=now)
    logger.warning("The PDFs of %s document(s) were still pending; enqueued again.", len(stale))
    render_enqueue(stale)
    return len(stale)


def documents_store(
    *, stored: list[tuple[PreparedDocument, bytes, DocumentReservation | None]]
) -> list[Document]:
    """`document_store` for many documents at once (a batch's chunk): each (prepared, pdf,
    reservation) stored under a fresh name, the reservations deleted in one statement and the
    documents recorded in one INSERT, in the order given. A failure discards every file stored
    here; one after this returns is the caller's to discard (`document_files_discard`)."""
    rows = []
    rendered_at = timezone.now()
    try:
        with transaction.atomic(savepoint=False):
            for prepared, pdf, _reservation in stored:
                name = _file_save(prepared.kind, prepared.issued_at, pdf)
                rows.append(_document_row(prepared, **_file_fields(name, pdf, rendered_at)))
            reserved = [r.pk for _p, _pdf, r in stored if r is not None]
            if reserved:
                DocumentReservation.objects.filter(pk__in=reserved).delete()
            documents = Document.objects.bulk_create(rows)
            if any(document.pk is None for document in documents):
                raise RuntimeError("the database did not return the new documents' ids")
            return documents
    except BaseException:
        document_files_discard(rows)
        raise


def documents_record(
    *, recorded: list[tuple[PreparedDocument, DocumentReservation | None]]
) -> list[Document]:
    """`document_record` for many documents at once: each (prepared, reservation) recorded
    with its PDF pending in one INSERT, the reservations that were saved deleted in one
    statement, and a background job enqueued per document once the caller's transaction
    commits; the documents, in the order given."""
    requested = timezone.now()
    saved = [r.pk for _p, r in recorded if r is not None and r.pk is not None]
    if saved:
        DocumentReservation.objects.filter(pk__in=saved).delete()
    documents = Document.objects.bulk_create(
        [_document_row(prepared, render_requested_at=requested) for prepared, _r in recorded]
    )
    if any(document.pk is None for document in documents):
        raise RuntimeError("the database did not return the new documents' ids")
    render_enqueue([document.pk for document in documents])
    return documents


def document_files_discard(documents: list[Document]) -> None:
    """Remove the files of documents that were not recorded after all (their transaction
    rolled back)."""
    for document in documents:
        _discard(document.file.name or None)


def document_issued(*, kind: str, call, application=None) -> Document | None:
    """The current document `kind` already issued for `application` (or for `call`), if any."""
    return _issued_document(kind=kind, call=call, application=application)


def _document_create(*, reservation: DocumentReservation | None = None, **fields) -> Document:
    # The one savepoint of an issue: `document_issue` rolls back to it when the document was
    # issued before, by an earlier step or a concurrent request (IntegrityError), and carries on
    # with that one (the number taken and the render job registered inside are dropped with it).
    with transaction.atomic():
        prepared = document_prepare(**fields, reservation=reservation)
        return document_record(prepared=prepared, reservation=reservation)


def _verification_code_unused() -> str:
    """A fresh code; a clash is astronomically unlikely, but the printed code must be unique."""
    while True:
        code = verification_code_new()
        if not _CODES_TAKEN(codes=[code]):
            return code


def _verification_codes_unused(count: int) -> list[str]:
    """`count` fresh, distinct codes, checked against every issued and reserved one at once."""
    codes: set[str] = set()
    while len(codes) < count:
        fresh = {verification_code_new() for _ in range(count - len(codes))} - codes
        taken = {row["verification_code"] for row in _CODES_TAKEN(codes=sorted(fresh))}
        codes |= fresh - taken
    return list(codes)


def _codes_taken(codes: list[str]):
    """Of `codes`, those printed on a document or reserved for one: both tables in one query."""
    issued = Document.objects.filter(verification_code__in=codes).values("verification_code")
    reserved = DocumentReservation.objects.filter(verification_code__in=codes)
    return issued.order_by().union(reserved.values("verification_code").order_by())


_CODES_TAKEN = Prepared(Document, _codes_taken)


def _issued_document(*, kind: str, call, application) -> Document | None:
    if application is not None:
        return _ISSUED_TO_APPLICATION.first(kind=kind, application_id=application.pk)
    return _ISSUED_FOR_CALL.first(kind=kind, call_id=call.pk)


def _current(kind: str):
    return Document.objects.filter(kind=kind, superseded_at__isnull=True).order_by(
        *Document._meta.ordering
    )


_ISSUED_TO_APPLICATION = Prepared(
    Document, lambda kind, application_id: _current(kind).filter(application_id=application_id)[:1]
)
_ISSUED_FOR_CALL = Prepared(
    Document,
    lambda kind, call_id: _current(kind).filter(call_id=call_id, application__isnull=True)[:1],
)


def _discard(stored_name: str | None) -> None:
    """Remove a file stored for a document that was not recorded."""
    if stored_name is not None:
        default_storage.delete(stored_name)


# --- the stored render context ---------------------------------------------------------------
# JSON with tagged Decimals, dates and datetimes, so a reissue renders the same values with the
# same types (the amount filters refuse anything but a Decimal).

_TYPE = "__type__"


def context_encode(value):
    if isinstance(value, dict):
        return {str(key): context_encode(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [context_encode(item) for item in value]
    if isinstance(value, Decimal):
        return {_TYPE: "decimal", "value": str(value)}
    if isinstance(value, datetime):
        return {_TYPE: "datetime", "value": value.isoformat()}
    if isinstance(value, date):
        return {_TYPE: "date", "value": value.isoformat()}
    if isinstance(value, Promise):
        return str(value)
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def context_decode(value):
    if isinstance(value, list):
        return [context_decode(item) for item in value]
    if isinstance(value, dict):
        decoder = {
            "decimal": Decimal,
            "datetime": datetime.fromisoformat,
            "date": date.fromisoformat,
        }.get(value.get(_TYPE))
        if decoder is not None and set(value) == {_TYPE, "value"}:
            return decoder(value["value"])
        return {key: context_decode(item) for key, item in value.items()}
    return value

"""Issuing one document to each of many applicants (hundreds of decision notices or certificates)
across every worker process on every machine.

A batch is prepared once, then fanned out:

- `issue_batch_start` records the batch (PENDING, holding a lease of its own while it is
  prepared); `issue_batch_prepare` reserves every number and verification code in one short
  transaction (`DocumentReservation`, numbers consecutive) and writes one `BatchItem` per document
  with what it is rendered from. The lead item is the document the others print the number of
  (the batch's decision).
- `issue_batch_dispatch` enqueues runner tasks (`documents.tasks.issue_batch_run_job`, one per
  `BATCH_CHUNK` items) through Django's Tasks API, so every `db_worker` or `rqworker` takes part;
  `issue_batch_run` runs one here instead (management commands, rehearsals, the demo, tests).
- A runner claims a chunk of `BATCH_CHUNK` items with one conditional UPDATE … RETURNING
  (pending, and no lease or an expired one; the lead first), renders them, then stores them and
  has the caller's `handler` record what they mean, in one transaction whose last statement
  checks the runner still holds every lease. A handler marked `records_many` records the whole
  chunk at once (one INSERT of documents, and whatever bulk writes the handler does); when that
  transaction fails, the chunk is stored again one document at a time, so a failure is one
  document's. A runner keeps claiming chunks until the batch is complete (work stealing): when
  only leased items are left it waits, and takes over any whose lease expires. While it works,
  a thread renews its leases every third of `BATCH_LEASE_SECONDS`, so a worker killed
  mid-document (SIGKILL) leaves a lease that expires within that time and another runner takes
  the document over. When no runner is left
  (every worker died), `workflow_timers` (cron, every minute) enqueues the batch again
  (`issue_batches_recover`).
- No document is issued twice: the document's uniqueness per (kind, application) and the lease
  check inside the storing transaction; the counters are atomic `F()` updates.
- The others wait for the lead: the chunk claimed with it is stored in its transaction, after
  it; a runner keeps the documents it rendered in memory until the lead is stored. If the lead
  fails, the batch fails and nothing else is stored; a rerun prints the reserved numbers. A
  document whose rendering or recording fails is listed in `IssueBatch.errors` and left (with
  its reservation) for a rerun; the others are issued.

A batch of few documents (at most `BATCH_AT_ONCE` applicants': `issue_batch_at_once`) is not
fanned out: `issue_batch_start(at_once=True)` and `issue_batch_record` record it whole in the
caller's transaction, each document with its PDF pending and rendered by a background job of its
own, as a document issued on its own (documents.services). No item or reservation is written
and nothing is claimed; what fails rolls the whole batch back, and a rerun starts it anew (using
any numbers an earlier fanned-out run reserved).

A batch is refused while another for the call holds a live lease (`issue_batch_running`).
Settings: `BATCH_LEASE_SECONDS` (30), `BATCH_CHUNK` (10), `BATCH_MAX_ATTEMPTS` (3: a document
whose workers died that often is failed rather than killing more), `BATCH_AT_ONCE` (10).
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import logging
import math
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, connections, transaction
from django.db.models import (
    BooleanField,
    Case,
    Exists,
    ExpressionWrapper,
    F,
    FloatField,
    IntegerField,
    Min,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.sql import UpdateQuery
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

from .prepared import Prepared

logger = logging.getLogger(__name__)

BATCH_RUNNING_MESSAGE = _("该批次的决定正在印发中，请查看印发进度。")
# How long a runner holding no documents waits before looking again.
POLL_SECONDS = 0.25
# How many rendered documents a runner keeps in memory while the lead is not stored yet.
HELD_MAX = 50


class IssueBatchFailed(Exception):
    """The batch stopped: its lead document could not be issued (nothing else was stored)."""


@dataclass
class Progress:
    done: int
    failed: int
    total: int


@dataclass
class BatchRequest:
    """What `document_issue` would be given for one document; `key` names it (the
    application's pk), `label` (e.g. the recipient's name) names it in the batch's errors, and
    `data` goes to the batch's handler with the stored document."""

    key: object
    fields: dict = field(default_factory=dict)
    label: str = ""
    data: dict = field(default_factory=dict)


_listener: contextvars.ContextVar[Callable[[Progress], None] | None] = contextvars.ContextVar(
    "document_batch_listener", default=None
)


@contextlib.contextmanager
def progress_observed(listener: Callable[[Progress], None]) -> Iterator[None]:
    """Tell `listener` of each document a batch run here (`issue_batch_run`) issues or fails."""
    token = _listener.set(listener)
    try:
        yield
    finally:
        _listener.reset(token)


def _lease() -> timedelta:
    return timedelta(seconds=settings.BATCH_LEASE_SECONDS)


# --- starting a batch ---------------------------------------------------------------------------


def latest_issue_batch(call) -> IssueBatch | None:  # noqa: F821
    """The call's most recent batch run, or None before the first one started."""
    from .models import IssueBatch

    return IssueBatch.objects.filter(call=call).order_by("-pk").first()


def issue_batch_running(call) -> bool:
    """Whether a batch for `call` is alive: being prepared or run, under a lease (its own or one
    of its documents') that has not expired."""
    return any(alive for _, alive in _unfinished(call))


def _unfinished(call) -> list[tuple[int, bool]]:
    """The call's batches not finished, each with whether it is alive (`issue_batch_running`)."""
    return list(_unfinished_batches(call.pk).annotate(alive=_alive()).values_list("pk", "alive"))


def _unfinished_batches(call_id):
    from .models import IssueBatch

    return IssueBatch.objects.filter(
        call_id=call_id, status__in=[IssueBatch.Status.PENDING, IssueBatch.Status.RUNNING]
    )


def _alive(now=None) -> ExpressionWrapper:
    """Whether a batch is alive at `now` (the present when not given): its own lease, or one of
    its documents', has not expired."""
    from .models import BatchItem

    now = now or timezone.now()
    leased_item = BatchItem.objects.filter(
        batch=OuterRef("pk"), status=BatchItem.Status.PENDING, lease_expires_at__gt=now
    )
    return ExpressionWrapper(
        Q(lease_expires_at__gt=now) | Exists(leased_item), output_field=BooleanField()
    )


def _call_locked(call) -> dict:
    """The call's row locked (one start at a time per call), read with whether it has
    unfinished batches, whether one of them is alive, and whether an earlier run reserved
    numbers for its documents: one statement, compiled once per model of call."""
    model = type(call)
    read = _CALL_LOCKED.get(model)
    if read is None:
        read = _CALL_LOCKED[model] = Prepared(model, functools.partial(_call_locked_read, model))
    return read.first(call_id=call.pk, now=timezone.now())


_CALL_LOCKED: dict = {}


def _call_locked_read(model, call_id, now):
    from .models import DocumentReservation

    unfinished = _unfinished_batches(OuterRef("pk"))
    return (
        model.objects.select_for_update(of=("self",))
        .filter(pk=call_id)
        .annotate(
            unfinished=Exists(unfinished),
            alive=Exists(unfinished.filter(_alive(now))),
            reserved=Exists(DocumentReservation.objects.filter(call_id=OuterRef("pk"))),
        )
        .values("unfinished", "alive", "reserved")
    )


def issue_batch_at_once(count: int) -> bool:
    """Whether a batch of `count` applicants' documents is recorded in one transaction
    (`issue_batch_record`) rather than fanned out: at most `BATCH_AT_ONCE` of them."""
    return count <= settings.BATCH_AT_ONCE


def issue_batch_start(*, call, kind: str, user, at_once: bool = False) -> IssueBatch:  # noqa: F821
    """Record a batch about to be prepared, unless one for the call is alive (ValidationError):
    two officers pressing the button at once start one batch. Commits at once unless the caller
    holds a transaction. `at_once`: in the caller's transaction, which then records the whole
    batch (`issue_batch_record`); the batch is returned unsaved, the call locked to the end."""
    from .models import IssueBatch

    # At once, in the caller's transaction without a savepoint: a refusal fails it whole.
    with transaction.atomic(savepoint=not at_once):
        found = _call_locked(call)
        if found["alive"]:
            raise ValidationError(BATCH_RUNNING_MESSAGE, code="batch_running")
        now = timezone.now()
        if found["unfinished"]:
            # Batches nobody works on any more (their workers died): what they issued stays
            # issued, the rest is the new batch's. (The call's lock keeps others from starting
            # one meanwhile.)
            _unfinished_batches(call.pk).update(
                status=IssueBatch.Status.FAILED, finished_at=now, lease_expires_at=None
            )
        batch = IssueBatch(
            call=call,
            kind=kind,
            created_by=user,
            status=IssueBatch.Status.PENDING,
            started_at=now,
            updated_at=now,
            lease_expires_at=now + _lease(),
        )
        # Whether `issue_batch_record` must look for numbers an earlier run reserved.
        batch.reservations_exist = found["reserved"]
        if not at_once:
            batch.save(force_insert=True)
        return batch


def issue_batch_fail(*, batch, error: BaseException, at_once: bool = False) -> None:
    """Preparing the batch stopped on an error (what was issued before stays issued). `at_once`:
    a batch recorded in one transaction (`issue_batch_record`), which rolled back with it: the
    failed batch is recorded anew."""
    from .models import IssueBatch

    now = timezone.now()
    values = {
        "status": IssueBatch.Status.FAILED,
        "finished_at": now,
        "updated_at": now,
        "lease_expires_at": None,
        "errors": [*batch.errors, {"key": None, "error": f"{type(error).__name__}: {error}"}],
    }
    if not at_once:
        IssueBatch.objects.filter(pk=batch.pk).update(**values)
        return
    IssueBatch.objects.create(
        call_id=batch.call_id,
        kind=batch.kind,
        created_by_id=batch.created_by_id,
        handler=batch.handler,
        total=batch.total,
        started_at=batch.started_at,
        **values,
    )


def issue_batch_prepare(
    *,
    batch,
    requests: list[BatchRequest],
    handler: str,
    lead: BatchRequest | None = None,
    lead_number_into: str = "",
) -> None:
    """Reserve the numbers of `lead` (if any) and every request's document, in that order, and
    write the batch's items; the batch is then RUNNING and ready to dispatch or run. A request
    whose document was issued before counts as done. `handler` is the dotted path of a
    function `handler(*, batch, application, document, data)` recording each stored document
    (application None for the lead) in the document's transaction (and, with `records_many`,
    a chunk of them at once). `lead_number_into`: the key of each request's context that
    prints the lead's number (reserved now, or its own if an earlier run issued the lead, which
    is then not issued again)."""
    from . import services
    from .models import BatchItem, IssueBatch

    pending, lead_issued = _not_issued(requests, lead)
    lead = None if lead_issued is not None else lead
    everyone = ([lead] if lead is not None else []) + pending
    # All or nothing, without a savepoint of its own inside the caller's transaction: nothing
    # here is tried again, a failure fails the caller's whole preparation.
    with transaction.atomic(savepoint=False):
        reserved = services.documents_reserve(wanted=_wanted(everyone))
        _lead_number_into(pending, lead_issued or (lead and reserved[0].number), lead_number_into)
        BatchItem.objects.bulk_create(
            [
                BatchItem(
                    batch=batch,
                    position=position,
                    is_lead=request is lead,
                    kind=request.fields["kind"],
                    application=request.fields.get("application"),
                    label=request.label or str(request.key),
                    fields=_fields_encode(request.fields),
                    data=request.data,
                )
                for position, request in enumerate(everyone)
            ]
        )
        now = timezone.now()
        values = {
            "handler": handler,
            "total": len(requests),
            "done": len(requests) - len(pending),
            "status": IssueBatch.Status.RUNNING,
            "updated_at": now,
            "lease_expires_at": now + _lease(),
        }
        IssueBatch.objects.filter(pk=batch.pk).update(**values)
    for name, value in values.items():  # what was written, without reading the row again
        setattr(batch, name, value)


def issue_batch_record(
    *,
    batch,
    requests: list[BatchRequest],
    handler: str,
    lead: BatchRequest | None = None,
    lead_number_into: str = "",
) -> None:
    """`issue_batch_prepare` and the whole run of a batch of few documents
    (`issue_batch_at_once`) in the caller's transaction, with the batch from
    `issue_batch_start(at_once=True)`: the numbers of `lead` and every request's document taken
    (those an earlier run reserved kept), the documents recorded with their PDFs pending (one
    background job renders each once the transaction commits, as a document issued on its own)
    and the handler's record of them; the batch is recorded finished. Nothing is rendered here,
    and no item or reservation is written: what fails rolls back the whole batch, which is then
    issued again from the start (`issue_batch_fail(at_once=True)` records why)."""
    from . import services
    from .models import IssueBatch

    pending, lead_issued = _not_issued(requests, lead)
    lead = None if lead_issued is not None else lead
    everyone = ([lead] if lead is not None else []) + pending
    with transaction.atomic(savepoint=False):
        numbered = services.documents_numbered(
            wanted=_wanted(everyone), reserved=getattr(batch, "reservations_exist", True)
        )
        _lead_number_into(pending, lead_issued or (lead and numbered[0].number), lead_number_into)
        now = timezone.now()
        batch.handler = handler
        batch.total = batch.done = len(requests)
        batch.status = IssueBatch.Status.FINISHED
        batch.updated_at = batch.finished_at = now
        batch.lease_expires_at = None
        batch.save(force_insert=True)
        documents = services.documents_record(
            recorded=[
                (services.document_prepare(**r.fields, reservation=reservation), reservation)
                for r, reservation in zip(everyone, numbered, strict=True)
            ]
        )
        recorded = import_string(handler)
        many = getattr(recorded, "many", None)
        stored = [
            Stored(r.fields.get("application"), document, r.data)
            for r, document in zip(everyone, documents, strict=True)
        ]
        if many is not None:
            many(batch=batch, stored=stored)
        else:
            for one in stored:
                recorded(
                    batch=batch, application=one.application, document=one.document, data=one.data
                )
    _progress_tell(batch.pk)


def _not_issued(
    requests: list[BatchRequest], lead: BatchRequest | None = None
) -> tuple[list[BatchRequest], str | None]:
    """The requests whose document was not issued before (by an earlier run), and the number of
    `lead` if it was issued before (None if not); in one query."""
    from .models import Document

    wanted = Q(
        kind__in={r.fields["kind"] for r in requests},
        application_id__in=[r.fields["application"].pk for r in requests],
    )
    if lead is not None:
        wanted |= Q(
            kind=lead.fields["kind"], call_id=lead.fields["call"].pk, application__isnull=True
        )
    if not requests and lead is None:
        return [], None
    issued = {
        (kind, application): number
        for kind, application, number in Document.objects.filter(
            wanted, superseded_at__isnull=True
        ).values_list("kind", "application_id", "number")
    }
    pending = [r for r in requests if (r.fields["kind"], r.fields["application"].pk) not in issued]
    lead_issued = issued.get((lead.fields["kind"], None)) if lead is not None else None
    return pending, lead_issued


def _wanted(requests: list[BatchRequest]) -> list[dict]:
    """What `documents_reserve` is asked for the requests' documents."""
    return [
        {
            "kind": r.fields["kind"],
            "call": r.fields["call"],
            "application": r.fields.get("application"),
            "issuer_code": r.fields["issuer_code"],
            "numbered": r.fields.get("numbered", True),
        }
        for r in requests
    ]


def _lead_number_into(pending, number: str | None, key: str) -> None:
    """Print the lead's `number` into each pending request's context (under `key`)."""
    if number and key:
        for request in pending:
            request.fields["context"][key] = number


def _fields_encode(fields: dict) -> dict:
    from .services import context_encode

    institution = fields.get("institution")
    return {
        "title": fields["title"],
        "institution": institution.pk if institution is not None else None,
        "issuer_code": fields["issuer_code"],
        "numbered": fields.get("numbered", True),
        "context": context_encode(fields["context"]),
    }


def issue_batch_dispatch(batch) -> int:
    """Enqueue the batch's runners (one per `BATCH_CHUNK` documents left) once the caller's
    transaction commits; how many."""
    from .models import BatchItem, IssueBatch
    from .tasks import issue_batch_run_job

    left = BatchItem.objects.filter(batch=batch, status=BatchItem.Status.PENDING).count()
    runners = max(1, math.ceil(left / max(1, settings.BATCH_CHUNK)))
    IssueBatch.objects.filter(pk=batch.pk).update(lease_expires_at=timezone.now() + _lease())

    def enqueue():
        for _runner in range(runners):
            issue_batch_run_job.enqueue(batch_id=batch.pk)

    transaction.on_commit(enqueue)
    return runners


def issue_batches_recover() -> int:
    """For `workflow_timers`: enqueue again each running batch that has documents left but
    nobody working on them (every lease expired: its workers died or were never started), and
    fail a batch whose preparation died. How many batches were enqueued."""
    from .models import BatchItem, IssueBatch

    now = timezone.now()
    lapsed = Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=now)
    live = [IssueBatch.Status.PENDING, IssueBatch.Status.RUNNING]
    # Every minute, and nearly always nothing to do: one statement says so.
    if not IssueBatch.objects.filter(lapsed, status__in=live).exists():
        return 0
    IssueBatch.objects.filter(status=IssueBatch.Status.PENDING, lease_expires_at__lt=now).update(
        status=IssueBatch.Status.FAILED, finished_at=now, lease_expires_at=None
    )
    orphaned = (
        IssueBatch.objects.filter(status=IssueBatch.Status.RUNNING)
        .filter(Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=now))
        .exclude(items__status=BatchItem.Status.PENDING, items__lease_expires_at__gt=now)
    )
    count = 0
    for batch in orphaned:
        if not batch.items.filter(status=BatchItem.Status.PENDING).exists():
            _batch_finish(batch.pk)
            continue
        logger.warning("Batch %s had nobody working on it; enqueued again.", batch.pk)
        issue_batch_dispatch(batch)
        count += 1
    return count


# --- running a batch ----------------------------------------------------------------------------


def worker_name() -> str:
    """This process on this machine, plus a token per run (a lease names its runner)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


@dataclass
class _Held:
    item: object
    prepared: object
    reservation: object
    pdf: bytes
    seconds: float


def issue_batch_run(
    batch, *, worker: str | None = None, count_each: bool | None = None
) -> IssueBatch:  # noqa: F821
    """Run the batch here until it is complete: claim documents (the lead first), render and
    store them; wait for, and take over, documents leased by runners elsewhere. Returns the
    batch as it ended. Raises IssueBatchFailed if the batch failed on its lead.

    `count_each`: add each stored document to the batch's `done` at once (the worker jobs, so
    that the progress page moves; and whenever a `progress_observed` listener watches, the
    default then). Otherwise `done` is written once, when the batch finishes: it is then the
    batch's total less its failed documents."""
    from .models import IssueBatch

    worker = worker or worker_name()
    batch_id = batch if isinstance(batch, int) else batch.pk
    if count_each is None:
        count_each = _listener.get() is not None
    with _lease_renewed(worker):
        _run(batch_id, worker, count_each=count_each)
    ended = IssueBatch.objects.get(pk=batch_id)
    if ended.status == IssueBatch.Status.FAILED and any(e.get("lead") for e in ended.errors):
        raise IssueBatchFailed("; ".join(e["error"] for e in ended.errors if e.get("lead")))
    return ended


def _run(batch_id: int, worker: str, *, count_each: bool) -> None:
    from .models import BatchItem

    held: list[_Held] = []
    lead_done = False
    while True:
        # Once the lead is stored and nothing waits for it, the claim itself checks that the
        # batch still runs.
        if held or not lead_done:
            running, lead = _state(batch_id)
            lead_done = lead == "done"
            if held and lead != "waiting":
                _held_store(held, worker, lead_failed=lead == "failed", count_each=count_each)
                held = []
            if not running:
                _release(held, worker)
                return
        items = _claim(batch_id, worker, lead_only=len(held) >= HELD_MAX)
        if items:
            rendered = _render(items, worker)
            leads = [outcome.item for outcome in rendered if outcome.item.is_lead]
            if leads:
                # The lead (first) and the chunk claimed with it, stored together; what could
                # not be stored once the lead was not waits for it.
                held += _store_many(rendered, worker, count_each=count_each)
                lead_done = leads[0].status == BatchItem.Status.DONE
            else:
                held += rendered
            if lead_done and held:
                # Stored, the lead stays stored: nothing to wait for or look at again.
                _held_store(held, worker, lead_failed=False, count_each=count_each)
                held = []
            if (
                lead_done
                and len(items) < settings.BATCH_CHUNK
                and _batch_finish(batch_id, if_complete=True)
            ):
                return  # a short chunk was the last: no claim that would find nothing
            continue
        lead_done = False  # nothing claimed: the batch may have stopped; look again
        if held:
            time.sleep(POLL_SECONDS)
            continue
        if _batch_finish(batch_id, if_complete=True):
            return
        unfinished = BatchItem.objects.filter(batch_id=batch_id, status=BatchItem.Status.PENDING)
        # Only documents leased by other runners are left: wait for them, and take over any
        # whose lease expires.
        expires = unfinished.aggregate(first=Min("lease_expires_at"))["first"]
        wait = (expires - timezone.now()).total_seconds() if expires else 0
        time.sleep(min(max(wait, 0.05), POLL_SECONDS * 4))


def _state_read(batch_id: int):
    from .models import BatchItem, IssueBatch

    lead = BatchItem.objects.filter(batch_id=OuterRef("pk"), is_lead=True).values("status")[:1]
    return (
        IssueBatch.objects.filter(pk=batch_id)
        .annotate(lead=Subquery(lead))
        .values("status", "lead")
        .order_by()
    )


_STATE = Prepared("documents.IssueBatch", _state_read)


def _state(batch_id: int) -> tuple[bool, str]:
    """Whether the batch still runs, and its lead: "done" (stored, or the batch has none),
    "failed", or "waiting"; in one query."""
    from .models import BatchItem, IssueBatch

    row = _STATE.first(batch_id=batch_id)
    if row is None:
        return False, "done"
    status, lead_status = row["status"], row["lead"]
    running = status == IssueBatch.Status.RUNNING
    if lead_status is None or lead_status == BatchItem.Status.DONE:
        return running, "done"
    return running, "failed" if lead_status == BatchItem.Status.FAILED else "waiting"


def _claimed(pks: list):
    from .models import BatchItem

    return (
        BatchItem.objects.select_related(
            "batch__call", "batch__created_by", "application__institution"
        )
        .filter(pk__in=pks)
        .order_by(*BatchItem._meta.ordering)
    )


_CLAIMED = Prepared("documents.BatchItem", _claimed)


def _claim(batch_id: int, worker: str, *, lead_only: bool = False) -> list:
    """The next `BATCH_CHUNK` documents nobody holds a live lease on (the lead first), leased
    to `worker` in one conditional UPDATE while the batch runs; empty if none. Two runners
    choosing the same documents at once get each its own: the UPDATE checks the lease again
    row by row."""
    from .models import BatchItem, IssueBatch

    now = timezone.now()
    free = Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=now)
    candidates = BatchItem.objects.filter(batch_id=batch_id, status=BatchItem.Status.PENDING)
    if lead_only:
        candidates = candidates.filter(is_lead=True)
    chosen = candidates.filter(free).order_by("-is_lead", "position").values("pk")
    claimed = _update_returning(
        BatchItem.objects.filter(pk__in=chosen[: max(1, settings.BATCH_CHUNK)])
        .filter(status=BatchItem.Status.PENDING)
        .filter(free)
        .filter(Exists(IssueBatch.objects.filter(pk=batch_id, status=IssueBatch.Status.RUNNING))),
        lease_owner=worker,
        lease_expires_at=now + _lease(),
        attempts=F("attempts") + 1,
    )
    if not claimed:
        return []
    items = []
    for item in _CLAIMED(pks=claimed):
        if item.attempts > settings.BATCH_MAX_ATTEMPTS:
            _fail(item, worker, RuntimeError("worker processes died on this document"))
            continue
        items.append(item)
    return items


def _update_returning(queryset, **values) -> list:
    """`queryset.update(**values)` that answers which rows it changed (their primary keys), in
    the one statement: UPDATE … RETURNING (PostgreSQL; SQLite from 3.35). Django's `update`
    answers a count only."""
    query = queryset.query.chain(UpdateQuery)
    query.add_update_values(values)
    compiler = query.get_compiler(queryset.db)
    compiler.pre_sql_setup()
    sql, params = compiler.as_sql()
    database = connections[queryset.db]
    pk = database.ops.quote_name(queryset.model._meta.pk.column)
    with database.cursor() as cursor:
        cursor.execute(f"{sql} RETURNING {pk}", params)
        return [row[0] for row in cursor.fetchall()]


def _render(items: list, worker: str) -> list[_Held]:
    """Render the claimed documents (their reservations read at once); a document issued
    before is marked done, one that fails is recorded, and neither is returned."""
    from . import services
    from .models import BatchItem, DocumentReservation

    batch = items[0].batch
    wanted = Q(application_id__in=[i.application_id for i in items if i.application_id])
    if any(i.application_id is None for i in items):
        wanted |= Q(application__isnull=True)
    reservations = {
        (r.kind, r.application_id): r
        for r in DocumentReservation.objects.filter(
            wanted, call_id=batch.call_id, kind__in={i.kind for i in items}
        )
    }
    rendered = []
    for item in items:
        reservation = reservations.get((item.kind, item.application_id))
        if reservation is None:
            # Stored with its document: the document was issued (by an earlier run), or the
            # reservation is lost and the document cannot be issued under its number.
            already = services.document_issued(
                kind=item.kind, call=batch.call, application=item.application
            )
            if already is not None:
                BatchItem.objects.filter(pk=item.pk, lease_owner=worker).update(
                    status=BatchItem.Status.DONE, document=already, lease_expires_at=None
                )
            else:
                _fail(item, worker, DocumentReservation.DoesNotExist("no reserved number"))
            continue
        try:
            fields = item.fields
            prepared = services.document_prepare(
                kind=item.kind,
                call=batch.call,
                application=item.application,
                institution=_institution(item, fields["institution"]),
                issued_by=batch.created_by,
                title=fields["title"],
                context=services.context_decode(fields["context"]),
                numbered=fields["numbered"],
                issuer_code=fields["issuer_code"],
                reservation=reservation,
            )
            started = time.perf_counter()
            pdf = services.document_render(prepared.template_name, prepared.render_context)
        except Exception as error:
            _fail(item, worker, error)
            continue
        rendered.append(_Held(item, prepared, reservation, pdf, time.perf_counter() - started))
    return rendered


def _institution(item, pk):
    """The recipient institution: the application's own (read with the item) when it is the
    one named, else read."""
    from .models import Document

    if pk is None:
        return None
    application = item.application
    if application is not None and application.institution_id == pk:
        return application.institution
    return Document._meta.get_field("institution").related_model.objects.get(pk=pk)


def _held_store(held: list[_Held], worker: str, *, lead_failed: bool, count_each: bool) -> None:
    if lead_failed:
        _release(held, worker)
        return
    chunk = max(1, settings.BATCH_CHUNK)
    for start in range(0, len(held), chunk):
        _store_many(held[start : start + chunk], worker, count_each=count_each)


def _release(held: list[_Held], worker: str) -> None:
    """Give back documents rendered but not stored (the batch stopped): a rerun takes them."""
    from .models import BatchItem

    BatchItem.objects.filter(pk__in=[h.item.pk for h in held], lease_owner=worker).update(
        lease_owner="", lease_expires_at=None, attempts=F("attempts") - 1
    )


@dataclass
class Stored:
    """A document a runner stored, told to the batch's handler for many (`records_many`)."""

    application: object
    document: object
    data: dict


def records_many(many: Callable) -> Callable:
    """Give a batch handler its companion for a chunk: `many(*, batch, stored: list[Stored])`
    records every document of the chunk at once, in their one transaction. A runner stores a
    chunk with it; when anything in that transaction fails, it stores the chunk's documents
    again one at a time with the handler itself, so a failure is the one document's."""

    def mark(handler: Callable) -> Callable:
        handler.many = many
        return handler

    return mark


def _store_many(outcomes: list[_Held], worker: str, *, count_each: bool) -> list[_Held]:
    """Store the documents (the lead, if among them, first) and record them (the handler's
    `many`) in one transaction, if this runner still holds every one's lease: the items'
    conditional UPDATE, last in the transaction, answers which (and locks them to the
    commit); if any lease was lost, or anything failed (a document stored meanwhile by
    someone else breaks the uniqueness of (kind, application)), the transaction rolls back and
    the documents are stored one at a time (`_one_by_one`), each under its own lease check.
    Returns those left to store once the lead is: none, unless the lead was not stored here."""
    from . import services
    from .models import BatchItem, IssueBatch

    outcomes = sorted(outcomes, key=lambda outcome: not outcome.item.is_lead)
    batch = outcomes[0].item.batch
    many = getattr(import_string(batch.handler), "many", None)
    if many is None:
        return _one_by_one(outcomes, worker, count_each=count_each)
    documents = []
    try:
        with transaction.atomic():
            documents = services.documents_store(
                stored=[(o.prepared, o.pdf, o.reservation) for o in outcomes]
            )
            many(
                batch=batch,
                stored=[
                    Stored(o.item.application, document, o.item.data)
                    for o, document in zip(outcomes, documents, strict=True)
                ],
            )
            pks = [o.item.pk for o in outcomes]
            held = _update_returning(
                BatchItem.objects.filter(
                    pk__in=pks, status=BatchItem.Status.PENDING, lease_owner=worker
                ),
                status=BatchItem.Status.DONE,
                lease_expires_at=None,
                document=Case(
                    *(
                        When(pk=o.item.pk, then=Value(d.pk))
                        for o, d in zip(outcomes, documents, strict=True)
                    ),
                    output_field=IntegerField(),
                ),
                render_seconds=Case(
                    *(When(pk=o.item.pk, then=Value(o.seconds)) for o in outcomes),
                    output_field=FloatField(),
                ),
            )
            if len(held) != len(pks):
                raise _LeaseLost
            counted = sum(not o.item.is_lead for o in outcomes)
            if count_each and counted:
                IssueBatch.objects.filter(pk=batch.pk).update(
                    done=F("done") + counted, updated_at=timezone.now()
                )
    except Exception as error:
        services.document_files_discard(documents)
        for outcome in outcomes:
            # As the rollback left them (the handler may have changed them in memory).
            if outcome.item.application is not None:
                outcome.item.application.refresh_from_db()
        logger.info(
            "Batch %s: storing %d documents at once failed (%s); one at a time now.",
            batch.pk,
            len(outcomes),
            error,
        )
        return _one_by_one(outcomes, worker, count_each=count_each)
    for outcome in outcomes:
        outcome.item.status = BatchItem.Status.DONE  # as committed
    _progress_tell(batch.pk)
    return []


def _one_by_one(outcomes: list[_Held], worker: str, *, count_each: bool) -> list[_Held]:
    """`_store` each (the lead first); those after a lead that was not stored are returned."""
    for position, outcome in enumerate(outcomes):
        stored = _store(outcome, worker, count_each=count_each)
        if outcome.item.is_lead and not stored:
            return outcomes[position + 1 :]
    return []


class _LeaseLost(Exception):
    """Another runner took the document over meanwhile (our lease had expired)."""


def _store(outcome: _Held, worker: str, *, count_each: bool) -> bool:
    """Store the document and record it (the batch's handler) in one transaction, if this
    runner still holds the lease: the item's conditional UPDATE, last in the transaction,
    says so by its row count (and locks the row to the commit); without the lease the whole
    transaction rolls back, the document with it. Whether it was stored here."""
    from . import services
    from .models import BatchItem, IssueBatch

    item = outcome.item
    batch = item.batch
    try:
        with transaction.atomic():
            document = services.document_store(
                prepared=outcome.prepared, pdf=outcome.pdf, reservation=outcome.reservation
            )
            import_string(batch.handler)(
                batch=batch, application=item.application, document=document, data=item.data
            )
            held = BatchItem.objects.filter(
                pk=item.pk, status=BatchItem.Status.PENDING, lease_owner=worker
            ).update(
                status=BatchItem.Status.DONE,
                document=document,
                lease_expires_at=None,
                render_seconds=outcome.seconds,
            )
            if not held:
                raise _LeaseLost
            # `done` counts the applicants' documents (the lead is not one of `total`).
            if count_each and not item.is_lead:
                IssueBatch.objects.filter(pk=batch.pk).update(
                    done=F("done") + 1, updated_at=timezone.now()
                )
    except _LeaseLost:
        return False
    except IntegrityError:
        # The document was stored by someone else first (the uniqueness of (kind, application)).
        if services.document_issued(kind=item.kind, call=batch.call, application=item.application):
            BatchItem.objects.filter(pk=item.pk, status=BatchItem.Status.PENDING).update(
                status=BatchItem.Status.DONE, lease_expires_at=None
            )
            return False
        _fail(item, worker, RuntimeError("the document could not be recorded"))
        return False
    except Exception as error:
        _fail(item, worker, error)
        return False
    item.status = BatchItem.Status.DONE  # as committed
    _progress_tell(batch.pk)
    return True


def _fail(item, worker: str, error: BaseException) -> None:
    """The document was not issued: listed on the batch with its reserved number. A lead that
    fails stops the batch."""
    from .models import BatchItem, DocumentReservation, IssueBatch

    logger.error("Document %s for %s was not issued: %s", item.kind, item.label, error)
    text = f"{type(error).__name__}: {error}"
    reserved = (
        DocumentReservation.objects.filter(
            kind=item.kind, call_id=item.batch.call_id, application=item.application
        )
        .values_list("number", flat=True)
        .first()
    )
    with transaction.atomic():
        failed = BatchItem.objects.filter(
            pk=item.pk, status=BatchItem.Status.PENDING, lease_owner=worker
        ).update(status=BatchItem.Status.FAILED, error=text, lease_expires_at=None)
        if not failed:
            return
        batch = IssueBatch.objects.select_for_update().get(pk=item.batch_id)
        batch.errors = [
            *batch.errors,
            {
                "key": item.label,
                "error": text,
                "reserved_number": reserved or "",
                "lead": item.is_lead,
            },
        ]
        batch.updated_at = timezone.now()
        fields = ["errors", "updated_at"]
        if item.is_lead:
            batch.status = IssueBatch.Status.FAILED
            batch.finished_at = timezone.now()
            batch.lease_expires_at = None
            fields += ["status", "finished_at", "lease_expires_at"]
        else:
            batch.failed += 1
            fields.append("failed")
        batch.save(update_fields=fields)
    _progress_tell(item.batch_id)


def _batch_finish(batch_id: int, *, if_complete: bool = False) -> bool:
    """Mark the running batch finished (only when no document is left to issue, if
    `if_complete`: the row count answers that); whether it was. Every document is then done
    or failed, so `done` is the total less the failed ones (whatever was counted on the way)."""
    from .models import BatchItem, IssueBatch

    now = timezone.now()
    batches = IssueBatch.objects.filter(pk=batch_id, status=IssueBatch.Status.RUNNING)
    if if_complete:
        left = BatchItem.objects.filter(batch_id=OuterRef("pk"), status=BatchItem.Status.PENDING)
        batches = batches.exclude(Exists(left))
    finished = batches.update(
        status=IssueBatch.Status.FINISHED,
        finished_at=now,
        updated_at=now,
        lease_expires_at=None,
        done=F("total") - F("failed"),
    )
    if finished:
        _progress_tell(batch_id)
    return bool(finished)


def _progress_tell(batch_id: int) -> None:
    listener = _listener.get()
    if listener is not None:
        from .models import IssueBatch

        done, failed, total = IssueBatch.objects.values_list("done", "failed", "total").get(
            pk=batch_id
        )
        listener(Progress(done, failed, total))


@contextlib.contextmanager
def _lease_renewed(worker: str) -> Iterator[None]:
    """Renew `worker`'s leases every third of the lease from a thread of its own while the
    block runs (rendering a long document holds the main thread for seconds). Not inside a
    transaction (a test's): the thread's connection would wait for the caller's locks."""
    if connection.in_atomic_block:
        yield
        return
    stop = threading.Event()

    def renew():
        from django.db import connection as own

        from .models import BatchItem

        try:
            while not stop.wait(settings.BATCH_LEASE_SECONDS / 3):
                try:
                    BatchItem.objects.filter(
                        lease_owner=worker,
                        status=BatchItem.Status.PENDING,
                        lease_expires_at__isnull=False,
                    ).update(lease_expires_at=timezone.now() + _lease())
                except Exception:  # a busy database: the next round tries again
                    logger.exception("Renewing the leases of %s failed", worker)
        finally:
            own.close()

    thread = threading.Thread(target=renew, name=f"lease-{worker}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()

"""Issuing one document to each of many applicants (hundreds of decision notices or certificates).

Worker processes only turn (template, context) into PDF bytes, without touching the database; this
process numbers, stores and records every document (`documents.services`).

- Numbers and verification codes are reserved for the whole batch in one short transaction
  (`DocumentReservation`) and committed before anything is rendered. Each rendered document is then
  stored, and recorded by the caller's `issued` callback, in a transaction of its own: the progress
  page sees it at once, other staff issuing documents never wait for the batch, and a run that
  stops half-way keeps what it issued. Its rerun prints the reserved numbers: none is lost.
- A document already issued for (kind, application) is skipped: running a batch again issues no
  duplicates.
- A document whose rendering fails (in a worker and again in this process), or whose recording
  fails, is listed in `IssueBatch.errors` and left for a rerun; the others are issued.
- Progress goes to the `IssueBatch` row (at most every `PROGRESS_SAVE_SECONDS`, and at the end)
  and to any listener installed with `progress_observed` (the management command's progress bar,
  the benchmark) after every document.

Each worker keeps one FontConfiguration (documents.rendering). WeasyPrint's memory is not handed
back within a process, so a worker lives for at most `DOCUMENT_WORKER_TASKS` documents: the batch
runs in generations of `DOCUMENT_WORKERS × DOCUMENT_WORKER_TASKS` documents, each with a fresh pool.
(Not `max_tasks_per_child`: on Python 3.11 a pool using it stops spawning replacements and hangs
for good once its workers retire, CPython gh-115634.)

The workers start (`workers_started`) while the caller issues the batch's own decision, so they
have loaded WeasyPrint and the fonts by the time the first document is ready for them.

Settings (config/settings/base.py): `DOCUMENT_WORKERS` (2; 0 renders in this process),
`DOCUMENT_POOL_MIN` (20: smaller batches render in this process, a pool is not worth starting)
and `DOCUMENT_WORKER_TASKS` (300).
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import multiprocessing
import os
import resource
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

logger = logging.getLogger(__name__)

BATCH_RUNNING_MESSAGE = _("该批次的决定正在印发中，请查看印发进度。")


@dataclass
class Rendered:
    """One document rendered: by which process, how long it took, that process's peak memory."""

    pid: int
    seconds: float
    max_rss_kb: int


@dataclass
class Progress:
    done: int
    failed: int
    total: int
    rendered: Rendered | None = None


@dataclass
class BatchRequest:
    """What `document_issue` would be given for one document; `key` names it in the result and
    `label` (e.g. the recipient's name) in the batch's errors."""

    key: object
    fields: dict = field(default_factory=dict)
    label: str = ""


_listener: contextvars.ContextVar[Callable[[Progress], None] | None] = contextvars.ContextVar(
    "document_batch_listener", default=None
)


@contextlib.contextmanager
def progress_observed(listener: Callable[[Progress], None]) -> Iterator[None]:
    """Tell `listener` of each document a batch run inside the block issues or fails."""
    token = _listener.set(listener)
    try:
        yield
    finally:
        _listener.reset(token)


# --- worker processes ---------------------------------------------------------------------------


def _worker_start(settings_module: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", settings_module)
    import django

    django.setup()


def _render(template_name: str, context: dict) -> tuple[bytes, Rendered]:
    from . import services

    started = time.perf_counter()
    pdf = services.document_render(template_name, context)
    seconds = time.perf_counter() - started
    return pdf, Rendered(pid=os.getpid(), seconds=seconds, max_rss_kb=_peak_rss_kb())


def _peak_rss_kb() -> int:
    """This process's peak resident memory. VmHWM belongs to the current program image, unlike
    getrusage's ru_maxrss, which a spawned worker inherits from the parent it was forked from."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _workers(count: int) -> int:
    """How many worker processes render `count` documents (0: render in this process)."""
    workers = settings.DOCUMENT_WORKERS
    if workers <= 0 or count < settings.DOCUMENT_POOL_MIN:
        return 0
    return workers


def _warm_up() -> None:
    """Load WeasyPrint, the CJK fonts and this process's FontConfiguration."""
    from weasyprint import HTML

    from .rendering import font_configuration

    HTML(string='<p style="font-family: serif">公文</p>').write_pdf(
        font_config=font_configuration()
    )


@contextlib.contextmanager
def workers_started(count: int) -> Iterator[ProcessPoolExecutor | None]:
    """Worker processes for a batch of `count` documents (None when they render in this
    process), started and warming up while the caller gets on; pass it to `documents_issue`."""
    workers = _workers(count)
    if not workers:
        yield None
        return
    pool = _pool(workers)
    try:
        for _ in range(workers):
            pool.submit(_warm_up)
        yield pool
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _pool(workers: int) -> ProcessPoolExecutor:
    # spawn: a fresh interpreter per worker (no inherited locks, database connections or memory
    # peaks from the parent).
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_worker_start,
        initargs=(settings.SETTINGS_MODULE,),
    )


# --- the batch ----------------------------------------------------------------------------------


def latest_issue_batch(call) -> IssueBatch | None:  # noqa: F821
    """The call's most recent batch run, or None before the first one started."""
    from .models import IssueBatch

    return IssueBatch.objects.filter(call=call).order_by("-pk").first()


BATCH_STALE_AFTER = timedelta(minutes=10)


def issue_batch_running(call) -> bool:
    """Whether a batch for `call` is running: started, not finished, and reporting progress."""
    from .models import IssueBatch

    return IssueBatch.objects.filter(
        call=call,
        status=IssueBatch.Status.RUNNING,
        updated_at__gte=timezone.now() - BATCH_STALE_AFTER,
    ).exists()


def issue_batch_start(*, call, kind: str, user) -> IssueBatch:  # noqa: F821
    """Record a batch about to run, unless one for the call is running already (ValidationError):
    two officers pressing the button at once start one batch. Commits at once unless the caller
    holds a transaction."""
    from .models import IssueBatch

    with transaction.atomic():
        type(call).objects.select_for_update().get(pk=call.pk)  # one start at a time per call
        if issue_batch_running(call):
            raise ValidationError(BATCH_RUNNING_MESSAGE, code="batch_running")
        now = timezone.now()
        # A run that stopped reporting died with its process: what it issued stays issued.
        IssueBatch.objects.filter(call=call, status=IssueBatch.Status.RUNNING).update(
            status=IssueBatch.Status.FAILED, finished_at=now
        )
        return IssueBatch.objects.create(
            call=call,
            kind=kind,
            created_by=user,
            status=IssueBatch.Status.RUNNING,
            started_at=now,
            updated_at=now,
        )


def issue_batch_fail(*, batch, error: BaseException) -> None:
    """The run stopped on an error (what it issued before stays issued): say so on the batch."""
    batch.status = batch.Status.FAILED
    batch.finished_at = timezone.now()
    batch.errors = [*batch.errors, {"key": None, "error": f"{type(error).__name__}: {error}"}]
    _progress_save(batch, force=True)


def documents_issue(
    *,
    batch,
    requests: list[BatchRequest],
    issued: Callable[[object, object], None],
    pool: ProcessPoolExecutor | None = None,
    lead: Callable[[], object] | None = None,
) -> dict:
    """Issue each request's document; {key: Document} for those issued now or before. Each new
    document is stored and handed to `issued(key, document)` (which records what it means) in one
    transaction; failed ones are missing from the result and listed in `batch.errors`. Call it
    outside any transaction: it commits as it goes.

    `lead` issues the document the others depend on (the batch's decision, whose reserved number
    they print): it runs here once the workers have their documents, so it renders while they
    do, and before any of theirs is stored. If it fails, none is, and the error propagates."""
    from . import services

    results: dict = {}
    pending = []
    for request in requests:
        already = services.document_issued(
            kind=request.fields["kind"],
            call=request.fields["call"],
            application=request.fields.get("application"),
        )
        if already is not None:
            results[request.key] = already
        else:
            pending.append(request)
    batch.total = len(requests)
    batch.done = len(results)
    _progress_save(batch, force=True)

    with transaction.atomic():
        reservations = {
            request.key: services.document_reserve(
                kind=request.fields["kind"],
                call=request.fields["call"],
                application=request.fields.get("application"),
                issuer_code=request.fields["issuer_code"],
                numbered=request.fields.get("numbered", True),
            )
            for request in pending
        }
    labels = {request.key: request.label or str(request.key) for request in pending}
    prepared = {
        request.key: services.document_prepare(
            **request.fields, reservation=reservations[request.key]
        )
        for request in pending
    }
    for key, outcome in _rendered(prepared, pool, lead):
        if isinstance(outcome, BaseException):
            _failure_record(batch, labels[key], prepared[key], outcome)
            continue
        pdf, rendered = outcome
        try:
            with transaction.atomic():
                document = services.document_store(
                    prepared=prepared[key], pdf=pdf, reservation=reservations[key]
                )
                issued(key, document)
        except Exception as error:
            _failure_record(batch, labels[key], prepared[key], error)
            continue
        results[key] = document
        batch.done += 1
        _progress_save(batch, rendered)
    batch.status = batch.Status.FINISHED
    batch.finished_at = timezone.now()
    _progress_save(batch, force=True)
    return results


def _rendered(prepared: dict, started: ProcessPoolExecutor | None, lead=None):
    """(key, (pdf, Rendered)) or (key, exception) per prepared document, as they complete. The
    first generation of documents goes to the `started` pool (if any), each later one to a fresh
    pool; `lead()` runs once the first generation is submitted. A render that failed in a worker
    (or a worker that died) is tried once more here."""
    workers = _workers(len(prepared))
    if not workers:
        if lead is not None:
            lead()
        for key, document in prepared.items():
            yield key, _render_safely(document)
        return
    keys = list(prepared)
    generation = workers * settings.DOCUMENT_WORKER_TASKS
    for start in range(0, len(keys), generation):
        pool = started if start == 0 and started is not None else _pool(workers)
        try:
            futures = {
                pool.submit(_render, prepared[key].template_name, prepared[key].render_context): key
                for key in keys[start : start + generation]
            }
            if start == 0 and lead is not None:
                lead()
            for future in as_completed(futures):
                key = futures[future]
                try:
                    yield key, future.result()
                except Exception as error:
                    logger.warning("Rendering %s failed in a worker (%s); trying here.", key, error)
                    yield key, _render_safely(prepared[key])
        finally:
            if pool is not started:
                pool.shutdown(wait=True, cancel_futures=True)


def _render_safely(document):
    try:
        return _render(document.template_name, document.render_context)
    except Exception as error:
        return error


def _failure_record(batch, label: str, document, error: Exception) -> None:
    logger.error("Document %s for %s was not issued: %s", document.kind, label, error)
    batch.failed += 1
    batch.errors = [
        *batch.errors,
        {
            "key": label,
            "error": f"{type(error).__name__}: {error}",
            "reserved_number": document.number,
        },
    ]
    _progress_save(batch, force=True)


PROGRESS_SAVE_SECONDS = 0.5


def _progress_save(batch, rendered: Rendered | None = None, *, force: bool = False) -> None:
    """Tell the listener; record the batch's progress on its row when `force`d or when the last
    record is `PROGRESS_SAVE_SECONDS` old (a write per document would cost more than the page
    gains)."""
    now = time.monotonic()
    if force or now - getattr(batch, "_saved_at", 0.0) >= PROGRESS_SAVE_SECONDS:
        type(batch).objects.filter(pk=batch.pk).update(
            updated_at=timezone.now(),
            total=batch.total,
            done=batch.done,
            failed=batch.failed,
            errors=batch.errors,
            status=batch.status,
            finished_at=batch.finished_at,
        )
        batch._saved_at = now
    listener = _listener.get()
    if listener is not None:
        listener(Progress(batch.done, batch.failed, batch.total, rendered))

"""Issuing one document to each of many applicants (hundreds of decision notices or certificates).

The parent process numbers, stores and records every document (`documents.services`); worker
processes only turn (template, context) into PDF bytes, without touching the database. Each worker
keeps one FontConfiguration and is replaced after `DOCUMENT_WORKER_TASKS` documents, because
WeasyPrint's memory is not handed back within a process.

- A document already issued for (kind, application) is skipped: running a batch again issues no
  duplicates.
- A document whose rendering fails (in a worker and again in this process) is recorded in
  `IssueBatch.errors` and left out; the others are issued. Its number is already taken and is
  listed in the error as unused (numbers are never reused).
- Progress goes to the `IssueBatch` row as each document is stored, and to any listener installed
  with `progress_observed` (the management command's progress bar, the benchmark).

Settings: `DOCUMENT_WORKERS` (2; 0 renders in this process), `DOCUMENT_POOL_MIN` (20: smaller
batches render in this process, a pool is not worth starting) and `DOCUMENT_WORKER_TASKS` (200).
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

from django.conf import settings
from django.utils import timezone

from .rendering import render_pdf

logger = logging.getLogger(__name__)


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
    """What `document_issue` would be given for one document; `key` names it in the result."""

    key: object
    fields: dict = field(default_factory=dict)


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
    started = time.perf_counter()
    pdf = render_pdf(template_name, context)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return pdf, Rendered(pid=os.getpid(), seconds=seconds, max_rss_kb=peak)


def _pool(count: int) -> ProcessPoolExecutor | None:
    workers = getattr(settings, "DOCUMENT_WORKERS", 2)
    if workers <= 0 or count < getattr(settings, "DOCUMENT_POOL_MIN", 20):
        return None
    # spawn: a fresh interpreter per worker (no inherited locks, database connections or memory
    # peaks from the parent), recycled after DOCUMENT_WORKER_TASKS documents.
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_worker_start,
        initargs=(settings.SETTINGS_MODULE,),
        max_tasks_per_child=getattr(settings, "DOCUMENT_WORKER_TASKS", 200),
    )


# --- the batch ----------------------------------------------------------------------------------


def latest_issue_batch(call) -> IssueBatch | None:  # noqa: F821
    """The call's most recent batch run, or None before the first one started."""
    from .models import IssueBatch

    return IssueBatch.objects.filter(call=call).order_by("-pk").first()


def issue_batch_start(*, call, kind: str, user) -> IssueBatch:  # noqa: F821
    """Record a batch about to run (committed at once unless the caller holds a transaction)."""
    from .models import IssueBatch

    return IssueBatch.objects.create(
        call=call,
        kind=kind,
        created_by=user,
        status=IssueBatch.Status.RUNNING,
        started_at=timezone.now(),
    )


def issue_batch_fail(*, batch, error: BaseException) -> None:
    """The whole run was aborted (its transaction rolled back): say so on the batch."""
    batch.status = batch.Status.FAILED
    batch.finished_at = timezone.now()
    batch.errors = [*batch.errors, {"key": None, "error": f"{type(error).__name__}: {error}"}]
    _progress_save(batch)


def documents_issue(*, batch, requests: list[BatchRequest]) -> dict:
    """Issue each request's document; {key: Document} for those issued or already issued.
    Failed ones are missing from the result and listed in `batch.errors`. Call inside the
    transaction that also records what the documents mean (the caller's)."""
    from . import services

    results: dict = {}
    pending = []
    for request in requests:
        issued = services.document_issued(
            kind=request.fields["kind"],
            call=request.fields["call"],
            application=request.fields.get("application"),
        )
        if issued is not None:
            results[request.key] = issued
        else:
            pending.append(request)
    batch.total = len(requests)
    batch.done = len(results)
    _progress_save(batch)

    prepared = {request.key: services.document_prepare(**request.fields) for request in pending}
    pool = _pool(len(prepared))
    try:
        for key, outcome in _rendered(pool, prepared):
            if isinstance(outcome, BaseException):
                _failure_record(batch, key, prepared[key], outcome)
                continue
            pdf, rendered = outcome
            results[key] = services.document_store(prepared=prepared[key], pdf=pdf)
            batch.done += 1
            _progress_save(batch, rendered)
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
    batch.status = batch.Status.FINISHED
    batch.finished_at = timezone.now()
    _progress_save(batch)
    return results


def _rendered(pool, prepared: dict):
    """(key, (pdf, Rendered)) or (key, exception) per prepared document, as they complete. A
    render that failed in a worker (or a worker that died) is tried once more in this process."""
    if pool is None:
        for key, document in prepared.items():
            yield key, _render_safely(document)
        return
    futures = {
        pool.submit(_render, document.template_name, document.render_context): key
        for key, document in prepared.items()
    }
    for future in as_completed(futures):
        key = futures[future]
        try:
            yield key, future.result()
        except Exception as error:
            logger.warning("Rendering %s failed in a worker (%s); trying here.", key, error)
            yield key, _render_safely(prepared[key])


def _render_safely(document):
    try:
        return _render(document.template_name, document.render_context)
    except Exception as error:
        return error


def _failure_record(batch, key, document, error: Exception) -> None:
    logger.error("Document %s for %s was not issued: %s", document.kind, key, error)
    batch.failed += 1
    batch.errors = [
        *batch.errors,
        {
            "key": str(key),
            "error": f"{type(error).__name__}: {error}",
            "unused_number": document.number,
        },
    ]
    _progress_save(batch)


def _progress_save(batch, rendered: Rendered | None = None) -> None:
    """Record the batch's progress. Within the run's transaction the page sees it at commit;
    the management command and the benchmark follow it live through the listener."""
    type(batch).objects.filter(pk=batch.pk).update(
        total=batch.total,
        done=batch.done,
        failed=batch.failed,
        errors=batch.errors,
        status=batch.status,
        finished_at=batch.finished_at,
    )
    listener = _listener.get()
    if listener is not None:
        listener(Progress(batch.done, batch.failed, batch.total, rendered))

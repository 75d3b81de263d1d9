"""Benchmark: a call's decision plus one notice per applicant (BENCH_RECIPIENTS, 500) rendered in
DOCUMENT_WORKERS (2) worker processes: wall time, slowest document, peak RSS per worker.

Run with `.venv/bin/python bench/batch.py`. Setting up the call (every application accepted,
which renders an acceptance notice each) takes longer than the measured part.
"""

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django  # noqa: E402

django.setup()

from django.test import override_settings  # noqa: E402

from bench.support import database_ready  # noqa: E402

RECIPIENTS = int(os.environ.get("BENCH_RECIPIENTS", "500"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))


def main():
    from documents.batch import latest_issue_batch, progress_observed
    from workflows import demo
    from workflows.stages.decision.services import decision_issue

    database_ready()
    cast = demo.cast_make()
    started = time.perf_counter()
    call, _applications = demo.call_awaiting_decision(
        cast=cast, count=RECIPIENTS, first_serial=700000, title="基准：批量印发"
    )
    print(f"set-up of {RECIPIENTS} applications: {time.perf_counter() - started:.1f} s")

    rendered = []
    with (
        override_settings(DOCUMENT_WORKERS=WORKERS),
        progress_observed(lambda event: event.rendered and rendered.append(event.rendered)),
    ):
        started, cpu = time.perf_counter(), time.process_time()
        decision_issue(user=cast.notice_officer, call=call)
        wall, parent_cpu = time.perf_counter() - started, time.process_time() - cpu
    batch = latest_issue_batch(call)
    print(
        f"decision + {batch.total} notices with {WORKERS} workers: {wall:.1f} s "
        f"({batch.done} issued, {batch.failed} failed)"
    )
    seconds = sorted(r.seconds for r in rendered)
    print(
        f"notice render in a worker: median {statistics.median(seconds):.3f} s, "
        f"slowest {seconds[-1]:.3f} s"
    )
    print(f"this process's CPU time during the run: {parent_cpu:.1f} s")
    peaks = {}
    for r in rendered:
        peaks[r.pid] = max(peaks.get(r.pid, 0), r.max_rss_kb)
    for pid, kb in sorted(peaks.items()):
        print(f"worker {pid}: peak RSS {kb / 1024:.0f} MB")
    # The batch decision itself (one table of every recipient) is rendered in this process.
    from documents.rendering import render_pdf
    from documents.services import context_decode
    from workflows import selectors

    decision = selectors.call_decision(call)
    context = {
        **context_decode(decision.context),
        "title": decision.title,
        "issued_on": decision.issued_at.date(),
    }
    started = time.perf_counter()
    render_pdf(f"documents/{decision.kind}.html", context)
    print(f"batch decision ({batch.total} rows) re-rendered: {time.perf_counter() - started:.2f} s")


if __name__ == "__main__":
    main()

"""Benchmark: a batch of BENCH_RECIPIENTS certificates (500 and 5000 by default, comma-separated)
led by the decision listing every recipient (a row each, as the decision stage's), issued by
1, 2 and 4 real `manage.py db_worker` processes (BENCH_WORKERS) on a throw-away database: wall
time from dispatch to the batch's end, documents/s, the lead's pages and render time.
BENCH_BACKEND=rq uses `manage.py rqworker` processes against Redis (REDIS_URL, database 3 by
default) instead.

Run with `.venv/bin/python bench/batch.py`; e.g. `BENCH_RECIPIENTS=500 bench/batch.py`. The
workers are started and warmed up (WeasyPrint, fonts) before the clock starts. The batch's
handler records nothing beyond the document (the decision stage's also moves each application
and its viewflow process: see tests/documents/test_batch_queries.py for its queries).
"""

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django  # noqa: E402

django.setup()

from bench.support import database_ready  # noqa: E402

RECIPIENTS = [int(n) for n in os.environ.get("BENCH_RECIPIENTS", "500,5000").split(",")]
WORKERS = [int(n) for n in os.environ.get("BENCH_WORKERS", "1,2,4").split(",")]
BACKEND = os.environ.get("BENCH_BACKEND", "database")
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/3")


def main():
    from django.test import override_settings

    from documents import batch as document_batch
    from documents.models import Document
    from tests.documents.batches import (
        DB_WORKER,
        RQ_WORKER,
        batch_prepared,
        database_url,
        finished,
        workers,
    )
    from workflows.permissions import roles_sync

    database_ready()
    roles_sync()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": database_url(),
    }
    command = DB_WORKER
    overrides = {}
    if BACKEND == "rq":
        import redis

        redis.Redis.from_url(REDIS_URL).flushdb()
        env.update(TASK_BACKEND="rq", REDIS_URL=REDIS_URL)
        command = RQ_WORKER
        overrides = {
            "TASKS": {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}},
            "RQ_QUEUES": {"default": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 3600}},
        }
    print(f"backend: {BACKEND}, CPUs: {os.cpu_count()}")
    for recipients in RECIPIENTS:
        for count in WORKERS:
            started = time.perf_counter()
            batch = batch_prepared(recipients)
            prepared = time.perf_counter() - started
            with workers(command, count, env), override_settings(**overrides):
                time.sleep(3)  # the workers start, import Django and poll
                started = time.perf_counter()
                document_batch.issue_batch_dispatch(batch)
                batch = finished(batch, timeout=4 * 3600)
                wall = time.perf_counter() - started
            lead = batch.items.get(is_lead=True)
            lead_pages = _pages(Document.objects.get(pk=lead.document_id))
            owners = {item.lease_owner.split(":")[1] for item in batch.items.all()}
            print(
                f"{recipients:>5} recipients, {count} worker(s): {wall:7.1f} s "
                f"({recipients / wall:5.1f} documents/s; {batch.done} issued, "
                f"{batch.failed} failed; {len(owners)} processes took part; "
                f"lead ({lead_pages} pages) rendered in {lead.render_seconds:.1f} s; "
                f"preparation {prepared:.1f} s)",
                flush=True,
            )


def _pages(document) -> int:
    from pypdf import PdfReader

    with document.file.open("rb") as pdf:
        return len(PdfReader(pdf).pages)


if __name__ == "__main__":
    main()

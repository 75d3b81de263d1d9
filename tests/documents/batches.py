"""Batches issued by real worker processes, for tests/documents/test_batch_workers.py and
bench/batch.py: a prepared batch of certificates led by the decision listing them, the worker
processes, waiting for the batch to end."""

import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.db import connection

from documents import batch as document_batch
from documents.models import IssueBatch
from tests.documents.contexts import certificate_context, recognition_decision_context
from tests.factories import ApplicationFactory, CallFactory, UserFactory

BASE_DIR = Path(settings.BASE_DIR)


def recorded(*, batch, application, document, data) -> None:
    """The test batches' handler (imported by the workers): the document row is the record."""


def database_url() -> str:
    """The test database, as the workers' DATABASE_URL."""
    config = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{config['NAME']}"
    password = f":{config['PASSWORD']}" if config.get("PASSWORD") else ""
    return (
        f"postgres://{config['USER']}{password}@{config['HOST'] or '127.0.0.1'}:"
        f"{config['PORT'] or 5432}/{config['NAME']}"
    )


@contextmanager
def workers(command: list[str], count: int, env: dict):
    """`count` worker processes running `manage.py <command>`, stopped at the end."""
    started = [
        subprocess.Popen(
            [sys.executable, str(BASE_DIR / "manage.py"), *command],
            cwd=BASE_DIR,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        for _ in range(count)
    ]
    try:
        yield started
    finally:
        for process in started:
            if process.poll() is None:
                process.kill()
        for process in started:
            process.wait(timeout=30)


DB_WORKER = ["db_worker", "--interval", "0.2", "--no-startup-delay", "--no-reload"]
RQ_WORKER = [
    "rqworker",
    "default",
    "--job-class",
    "django_tasks_rq.Job",
    "--worker-class",
    "rq.worker.SimpleWorker",
]


def batch_prepared(count: int) -> IssueBatch:
    """A certificate for each of `count` applications, led by the decision listing them."""
    officer = UserFactory(role="notice_officer")
    call = CallFactory()
    applications = ApplicationFactory.create_batch(count, call=call)
    batch = document_batch.issue_batch_start(call=call, kind="certificate", user=officer)

    def fields(kind, application, context, title):
        return {
            "kind": kind,
            "call": call,
            "application": application,
            "institution": application.institution if application else None,
            "issued_by": officer,
            "title": title,
            "context": context,
            "issuer_code": "黔市监知",
        }

    # The decision lists every recipient, as the decision stage's does (one row each).
    rows = [
        {
            "institution_name": application.institution.name,
            "uscc": application.institution.uscc,
            "tier_label": "",
            "patent_number": "",
            "amount": None,
            "amount_words": "",
        }
        for application in applications
    ]
    lead = document_batch.BatchRequest(
        key="decision",
        fields=fields(
            "recognition_decision", None, recognition_decision_context(rows=rows), "认定决定"
        ),
    )
    requests = [
        document_batch.BatchRequest(
            key=application.pk,
            label=application.institution.name,
            fields=fields("certificate", application, certificate_context(), "证书"),
        )
        for application in applications
    ]
    document_batch.issue_batch_prepare(
        batch=batch, requests=requests, lead=lead, handler=f"{__name__}.recorded"
    )
    return batch


def finished(batch: IssueBatch, timeout: float) -> IssueBatch:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        batch.refresh_from_db()
        if batch.status != IssueBatch.Status.RUNNING:
            return batch
        time.sleep(0.3)
    raise AssertionError(f"batch not finished after {timeout} s: {batch.done}/{batch.total}")

"""Running the background jobs the code under test enqueued (the database backend, as in
development and production), here in the test's process and transaction: what
`manage.py db_worker --batch` does, without closing the test's connection."""

from django.db import connection, transaction
from django.test import TestCase
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

from documents.services import RenderEnqueue


def documents_enqueue_committed() -> None:
    """Enqueue the rendering of the documents recorded so far, as the commit of the request
    that recorded them would (a test's transaction never commits). Each enqueues once: those a
    test already ran (`django_capture_on_commit_callbacks(execute=True)`) do nothing."""
    for _savepoints, callback, _robust in list(connection.run_on_commit):
        if isinstance(callback, RenderEnqueue):
            callback()


def tasks_run(limit: int = 10_000) -> list[DBTaskResult]:
    """Run every job that is ready, including those the jobs enqueue, until none is left; the
    finished jobs' rows (status, errors) in the order they ran. The documents recorded by the
    test's requests so far count as committed: their rendering is enqueued first."""
    documents_enqueue_committed()
    worker = Worker(
        queue_names=["*"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="tests",
        excluded_queue_names=[],
    )
    ran = []
    for _ in range(limit):
        # Claimed under a row lock, as db_worker does (a transactional test runs in autocommit).
        with transaction.atomic():
            result = DBTaskResult.objects.ready().get_locked()
            if result is not None:
                result.claim(worker.worker_id)
        if result is None:
            return ran
        # A job's commit runs its on-commit callbacks (e.g. enqueueing a batch's runners); the
        # test's own transaction never commits, so run them as the job ends.
        with TestCase.captureOnCommitCallbacks(execute=True):
            worker.run_task(result)
        result.refresh_from_db()
        ran.append(result)
    raise RuntimeError(f"more than {limit} jobs: one enqueues itself?")

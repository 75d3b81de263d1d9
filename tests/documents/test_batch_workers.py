"""A batch issued by real worker processes: two `manage.py db_worker`, two `manage.py rqworker`
(Redis database 3), and one worker SIGKILLed in the middle of a batch.

The workers are other processes, so the batch is committed (a transactional test) in a database
they can open: the SQLite test database is a file (config/settings/test.py), the PostgreSQL one
is reached under its test name. They inherit the test run's media and signing folders."""

import os
import signal
import time

import pytest
from django.test import override_settings

from documents import batch as document_batch
from documents.models import BatchItem, Document, DocumentReservation, IssueBatch
from tests.documents.batches import (
    DB_WORKER,
    RQ_WORKER,
    batch_prepared,
    database_url,
    finished,
    workers,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.workers]

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/3")
LEASE_SECONDS = 6


def worker_env(**extra) -> dict:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": database_url(),
        "BATCH_LEASE_SECONDS": str(LEASE_SECONDS),
        **extra,
    }


def pid_of(item: BatchItem) -> int:
    return int(item.lease_owner.split(":")[1])


def assert_issued_once(batch: IssueBatch, count: int) -> None:
    """Every document issued once, under the numbers reserved for the batch, each used once."""
    assert (batch.status, batch.done, batch.failed, batch.total) == ("finished", count, 0, count)
    documents = Document.objects.filter(call=batch.call)
    assert documents.count() == count + 1
    assert documents.filter(kind="certificate").values("application").distinct().count() == count
    numbers = sorted(
        int(n.partition("〕")[2][:-1]) for n in documents.values_list("number", flat=True)
    )
    assert numbers == list(range(numbers[0], numbers[0] + count + 1))
    assert not DocumentReservation.objects.filter(call=batch.call).exists()


def test_two_database_workers_share_a_batch():
    batch = batch_prepared(40)
    with workers(DB_WORKER, 2, worker_env()) as running:
        document_batch.issue_batch_dispatch(batch)  # not in a transaction: enqueued at once
        batch = finished(batch, timeout=90)
    assert_issued_once(batch, 40)
    pids = {pid_of(item) for item in batch.items.all()}
    assert pids == {process.pid for process in running}  # both took part, nobody else


def redis_reachable() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.exceptions.RedisError:
        return False


def test_two_rq_workers_share_a_batch():
    if not redis_reachable():
        pytest.skip(f"Redis is not reachable at {REDIS_URL} (.ci/run starts Debian's redis-server)")
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    rq = {
        "TASKS": {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}},
        "RQ_QUEUES": {"default": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 600}},
    }
    batch = batch_prepared(40)
    env = worker_env(TASK_BACKEND="rq", REDIS_URL=REDIS_URL)
    with workers(RQ_WORKER, 2, env) as running, override_settings(**rq):
        document_batch.issue_batch_dispatch(batch)
        batch = finished(batch, timeout=90)
    assert_issued_once(batch, 40)
    assert {pid_of(item) for item in batch.items.all()} == {process.pid for process in running}


def test_a_worker_killed_mid_batch_is_taken_over_within_a_minute():
    """SIGKILL one of two database workers while it holds a document: its lease expires and the
    other worker issues that document too; no document twice, every reserved number once."""
    batch = batch_prepared(30)
    with workers(DB_WORKER, 2, worker_env()) as running:
        document_batch.issue_batch_dispatch(batch)
        deadline = time.monotonic() + 60
        victim = None
        while victim is None and time.monotonic() < deadline:
            held = BatchItem.objects.filter(
                batch=batch, status="pending", lease_expires_at__isnull=False
            ).exclude(lease_owner="")
            owners = {pid_of(item) for item in held}
            done = BatchItem.objects.filter(batch=batch, status="done").count()
            if done >= 3 and owners:
                candidate = next(p for p in running if p.pid in owners)
                # Stopped, then asked again: on a busy machine it may have stored its
                # documents since, and a worker holding none would be taken over by no one.
                os.kill(candidate.pid, signal.SIGSTOP)
                if held.filter(lease_owner__contains=f":{candidate.pid}:").exists():
                    victim = candidate
                else:
                    os.kill(candidate.pid, signal.SIGCONT)
            else:
                time.sleep(0.05)
        assert victim is not None, "no worker held a document"
        os.kill(victim.pid, signal.SIGKILL)
        killed_at = time.monotonic()
        batch = finished(batch, timeout=60)
        took = time.monotonic() - killed_at
    assert took < 60
    assert_issued_once(batch, 30)
    taken_over = batch.items.filter(attempts__gt=1)
    assert taken_over.exists()
    assert all(pid_of(item) != victim.pid for item in taken_over)

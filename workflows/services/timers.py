"""What cron runs every minute (`manage.py workflow_timers`), safe on several machines at once.

`timers_run` fires viewflow's due timers (a notice period that ends), then sends the reminders
and escalations (`notifications.deadlines_sweep`) when `NOTIFY_SWEEP_EVERY` has passed since the
last sweep of any machine (a reminder is due days ahead: reading every deadline every minute would
send nothing more). Each piece is idempotent on its own: viewflow
re-reads a timer under its process's row lock (`select_for_update_lock`) and fires it only while
it is still scheduled, and every reminder or escalation carries a dedupe key that a unique
constraint holds to one message per person. `single_run` adds a lock around the whole run so
that only one machine does the work at a time and the others exit at once instead of queuing
on row locks: PostgreSQL's session advisory lock, which dies with the session of a crashed
process; elsewhere (SQLite) a `CommandLease` row with an expiry.
"""

import hashlib
import logging
import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, connection
from django.utils import timezone
from viewflow.workflow.exceptions import FlowLockFailed
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS
from viewflow.workflow.timers import fire_due_conditions, fire_due_start_timers

from ..models import CommandLease
from .advance import timer_fire
from .notifications import deadlines_sweep
from .tasks import task_locked

logger = logging.getLogger(__name__)

TIMERS_COMMAND = "workflow_timers"
SWEEP = "deadlines_sweep"
# Longer than any run (a run renews it between its steps); a crashed holder's lease lapses
# after this, so the command runs again at the latest this long after a crash.
LEASE = timedelta(minutes=10)


def timers_run(*, renew=lambda: None) -> dict[str, int]:
    """Fire due timers, then send reminders and escalations when a sweep is due; the count of
    each. `renew` is called between the steps (it extends the caller's lease)."""
    counts = {
        "timers": timers_fire_due(),
        "started": fire_due_start_timers(),
        "conditions": fire_due_conditions(),
        "reminders": 0,
        "overdue": 0,
    }
    if sweep_due():
        renew()
        sent = deadlines_sweep()
        counts.update(reminders=sent["reminder"], overdue=sent["overdue"])
    return counts


def timers_fire_due() -> int:
    """viewflow's `fire_due_timers`, each timer's process moved on by services.advance: every
    due timer re-read under its process's lock and fired only while still scheduled; one whose
    process another dispatcher holds is left to the next run; one broken flow does not stop the
    others. The number fired."""
    fired = 0
    due = Task.objects.filter(
        flow_task_type="TIMER", status=STATUS.SCHEDULED, scheduled__lte=timezone.now()
    ).order_by("scheduled")
    for task in due:
        try:
            with task_locked(task) as activation:
                start = getattr(activation, "start", None)
                if start is None:  # its node was renamed or removed: it can never fire
                    logger.warning("Timer task %s has no node %r", task.pk, task.flow_task)
                    continue
                if start.can_proceed():
                    timer_fire(activation)
                    fired += 1
        except FlowLockFailed:
            logger.info("Timer task %s is locked by another dispatcher, skipped", task.pk)
        except Exception:
            logger.exception("Timer task %s failed to fire", task.pk)
    return fired


def sweep_due() -> bool:
    """Whether this run sweeps the deadlines: it takes the sweep's lease for
    `NOTIFY_SWEEP_EVERY` and keeps it, so no run on any machine sweeps again before it lapses.
    One upsert; a sweep that fails is simply done by the next run after the lease."""
    return _lease_take(SWEEP, _holder(), settings.NOTIFY_SWEEP_EVERY)


def _holder() -> str:
    """This run's name on a lease: host, process and a nonce."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@contextmanager
def single_run(name: str = TIMERS_COMMAND, *, lease: timedelta = LEASE) -> Iterator:
    """Run the body in one process at a time among all sharing the database. Yields a `renew`
    callable when this process holds the run, None when another process does."""
    if connection.vendor == "postgresql":
        with _advisory_lock(name) as held:
            yield (lambda: None) if held else None
        return
    holder = _holder()
    if not _lease_take(name, holder, lease):
        yield None
        return
    try:
        yield lambda: _lease_take(name, holder, lease)
    finally:
        _lease_release(name, holder)


def advisory_key(name: str) -> int:
    """A stable signed 64-bit key for `name` (Python's own hash() differs per process)."""
    digest = hashlib.sha256(f"ipgrants:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@contextmanager
def _advisory_lock(name: str) -> Iterator[bool]:
    key = advisory_key(name)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        held = cursor.fetchone()[0]
    try:
        yield held
    finally:
        if held:
            try:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
            except DatabaseError:
                pass  # the session is gone, and its lock with it


def _lease_take(name: str, holder: str, lease: timedelta) -> bool:
    """Take or extend the lease `name` for `holder` unless another holder's lease is current:
    one upsert whose UPDATE applies only to our own or an expired lease. A single statement is
    atomic in SQLite (it holds the write lock throughout), so two processes cannot both take
    the lease; the row count says whether we hold it."""
    now = timezone.now()
    table = connection.ops.quote_name(CommandLease._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (name, holder, expires_at) VALUES (%s, %s, %s) "
            "ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, "
            f"expires_at = excluded.expires_at WHERE {table}.holder = excluded.holder "
            f"OR {table}.expires_at <= %s",
            [name, holder, *map(connection.ops.adapt_datetimefield_value, [now + lease, now])],
        )
        return cursor.rowcount == 1


def _lease_release(name: str, holder: str) -> None:
    """Free the lease (one statement: a queryset's delete() wraps itself in a transaction)."""
    table = connection.ops.quote_name(CommandLease._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE name = %s AND holder = %s", [name, holder])

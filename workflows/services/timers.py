"""What cron runs every minute (`manage.py workflow_timers`), safe on several machines at once.

`timers_run` fires viewflow's due timers (a notice period that ends), then sends the reminders
and escalations (`notifications.deadlines_sweep`). Each piece is idempotent on its own: viewflow
re-reads a timer under its process's row lock (`select_for_update_lock`) and fires it only while
it is still scheduled, and every reminder or escalation carries a dedupe key that a unique
constraint holds to one message per person. `single_run` adds a lock around the whole run so
that only one machine does the work at a time and the others exit at once instead of queuing
on row locks: PostgreSQL's session advisory lock, which dies with the session of a crashed
process; elsewhere (SQLite) a `CommandLease` row with an expiry.
"""

import hashlib
import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from viewflow.workflow.timers import fire_due_conditions, fire_due_start_timers, fire_due_timers

from ..models import CommandLease
from .notifications import deadlines_sweep

TIMERS_COMMAND = "workflow_timers"
# Longer than any run (a run renews it between its steps); a crashed holder's lease lapses
# after this, so the command runs again at the latest this long after a crash.
LEASE = timedelta(minutes=10)


def timers_run(*, renew=lambda: None) -> dict[str, int]:
    """Fire due timers, then send reminders and escalations; the count of each.
    `renew` is called between the steps (it extends the caller's lease)."""
    counts = {
        "timers": fire_due_timers(),
        "started": fire_due_start_timers(),
        "conditions": fire_due_conditions(),
    }
    renew()
    sent = deadlines_sweep()
    counts.update(reminders=sent["reminder"], overdue=sent["overdue"])
    return counts


@contextmanager
def single_run(name: str = TIMERS_COMMAND, *, lease: timedelta = LEASE) -> Iterator:
    """Run the body in one process at a time among all sharing the database. Yields a `renew`
    callable when this process holds the run, None when another process does."""
    if connection.vendor == "postgresql":
        with _advisory_lock(name) as held:
            yield (lambda: None) if held else None
        return
    holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    if not _lease_take(name, holder, lease):
        yield None
        return
    try:
        yield lambda: _lease_take(name, holder, lease)
    finally:
        CommandLease.objects.filter(name=name, holder=holder).delete()


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
    """Take or extend the lease `name` for `holder` unless another holder's lease is current.
    Its first statement writes, so SQLite takes its write lock (waiting for another writer)
    before reading anything: two processes cannot both take the lease."""
    now = timezone.now()
    with transaction.atomic():
        taken = (
            CommandLease.objects.filter(name=name)
            .filter(Q(holder=holder) | Q(expires_at__lte=now))
            .update(holder=holder, expires_at=now + lease)
        )
        if taken:
            return True
        try:
            with transaction.atomic():
                CommandLease.objects.create(name=name, holder=holder, expires_at=now + lease)
        except IntegrityError:
            return False  # another holder's lease is current
    return True

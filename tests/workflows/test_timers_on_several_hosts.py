"""`manage.py workflow_timers` run by cron on several machines at once: two real processes
start at the same moment against the same database; each due timer fires once, each reminder
and escalation is sent (and emailed) once, and both exit successfully. With the lock one of
them does the work and the other says another run is in progress; without it (the work of
`services.timers.timers_run` in both processes at once) the items are still done once. A lock
left by a crashed run does not stop the next one.

On PostgreSQL the processes share the test database; on SQLite the in-memory test database is
copied to a file for them and copied back for the assertions."""

import email
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import timedelta
from email.header import decode_header, make_header
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from workflows import calendar, demo
from workflows.models import Application, CommandLease, Notification
from workflows.services.timers import TIMERS_COMMAND, advisory_key
from workflows.stages.formal_review.services import formal_review_complete

pytestmark = [pytest.mark.django_db(transaction=True)]

Kind = Notification.Kind
ANOTHER = "Another workflow_timers is running"

# Each process: Django set up, then wait for the go file so both start their run together.
RUN = """
import json, sys, time
from pathlib import Path
import django
django.setup()
from django.core.management import call_command
from workflows.services.timers import timers_run
Path(sys.argv[1] + ".ready").touch()
while not Path(sys.argv[2]).exists():
    time.sleep(0.005)
if sys.argv[3] == "command":
    call_command("workflow_timers")
else:
    print(json.dumps(timers_run()))
"""


@pytest.fixture
def due(settings):
    """Two notice periods ended with their timers due, a correction deadline two working days
    away, a formal review task thirty days old; everyone has an email address."""
    settings.NOTIFY_TASK_WORKING_DAYS = {"workflows.formal_review": 5}
    cast = demo.cast_make(prefix="t-", expert_count=0, logins=False)
    noticed = []
    for serial in (1, 2):
        call = demo.call_make(title=f"定时测试批次{serial}")
        application, _notice = demo.application_in_notice(cast=cast, call=call, serial=serial)
        noticed.append(application)
        past = timezone.now() - timedelta(seconds=1)
        call.public_notices.update(ends_at=past)
        Task.objects.filter(
            process__application=application, flow_task_type="TIMER", scheduled__isnull=False
        ).update(scheduled=past)
    call = demo.call_make(title="定时测试批次3")
    correcting = demo.application_submitted(cast=cast, call=call, serial=3)
    formal_review_complete(
        user=cast.formal_reviewer, application=correcting, outcome="correction", reason="补充。"
    )
    Application.objects.filter(pk=correcting.pk).update(
        correction_deadline=calendar.working_days_until(timezone.now(), 2).at
    )
    waiting = demo.application_submitted(cast=cast, call=call, serial=4)
    Task.objects.filter(process_id=waiting.process_id, flow_task_type="HUMAN").update(
        created=timezone.now() - timedelta(days=30)
    )
    from django.contrib.auth import get_user_model

    for user in get_user_model().objects.all():
        user.email = f"{user.username}@example.cn"
        user.save(update_fields=["email"])
    return {"noticed": noticed, "last": Notification.objects.order_by("-pk").first().pk}


class Database:
    """The database the processes use, as DATABASE_URL; on SQLite a file copied both ways."""

    def __init__(self, folder: Path):
        self.file = folder / "shared.sqlite3"

    def url(self) -> str:
        s = connection.settings_dict
        if connection.vendor == "postgresql":
            password = f":{s['PASSWORD']}" if s["PASSWORD"] else ""
            port = s["PORT"] or 5432
            return f"postgres://{s['USER']}{password}@{s['HOST'] or '127.0.0.1'}:{port}/{s['NAME']}"
        connection.ensure_connection()
        with sqlite3.connect(self.file) as target:
            connection.connection.backup(target)
        return f"sqlite:///{self.file}"

    def back(self) -> None:
        if connection.vendor == "sqlite":
            with sqlite3.connect(self.file) as source:
                source.backup(connection.connection)


def run_together(tmp_path: Path, mode: str, count: int = 2) -> list[subprocess.CompletedProcess]:
    database = Database(tmp_path)
    mails = tmp_path / "mail"
    mails.mkdir(exist_ok=True)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.timers_settings",
        "DATABASE_URL": database.url(),
        "TEST_EMAIL_DIR": str(mails),
    }
    go = tmp_path / "go"
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", RUN, str(tmp_path / f"p{n}"), str(go), mode],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(count)
    ]
    deadline = time.monotonic() + 120
    while not all((tmp_path / f"p{n}.ready").exists() for n in range(count)):
        assert time.monotonic() < deadline, "the processes did not start"
        assert all(p.poll() is None for p in processes), [p.communicate() for p in processes]
        time.sleep(0.01)
    go.touch()
    done = []
    for process in processes:
        out, err = process.communicate(timeout=300)
        done.append(subprocess.CompletedProcess(process.args, process.returncode, out, err))
    database.back()
    return done


def emails_sent(folder: Path) -> list[tuple[str, str]]:
    """(to, subject) of every email the processes wrote."""
    sent = []
    for path in sorted((folder / "mail").iterdir()):
        for chunk in path.read_bytes().split(b"\n" + b"-" * 79 + b"\n"):
            if chunk.strip():
                message = email.message_from_bytes(chunk)
                sent.append((message["To"], str(make_header(decode_header(message["Subject"])))))
    return sent


def assert_done_once(due, tmp_path):
    # Each timer fired once: the notice periods are over, each process moved on once.
    for application in due["noticed"]:
        application.refresh_from_db()
        assert application.status == Application.Status.NOTICE_CLOSED
        timers = Task.objects.filter(process_id=application.process_id, flow_task_type="TIMER")
        assert [t.status for t in timers] == [STATUS.DONE]
        after = Task.objects.filter(previous__in=timers)
        assert after.count() == 1, list(after)
    new = Notification.objects.filter(pk__gt=due["last"])
    reminders = new.filter(kind=Kind.REMINDER)
    escalations = new.filter(kind=Kind.OVERDUE)
    assert reminders.count() >= 1 and escalations.count() >= 1
    keys = list(new.exclude(dedupe_key="").values_list("recipient_id", "dedupe_key"))
    assert len(keys) == len(set(keys))
    # Every message emailed, each once.
    sent = emails_sent(tmp_path)
    assert len(sent) == len(set(sent)), sent
    assert sorted(sent) == sorted((n.recipient.email, n.title) for n in new)
    assert not new.filter(emailed_at__isnull=True).exists()
    return reminders.count(), escalations.count()


def counted(text: str, what: str) -> int:
    for line in text.splitlines():
        for part in line.split(", "):
            if part.endswith(what):
                return int(part.split()[0])
    return 0


def test_two_hosts_running_the_command_at_once_do_each_thing_once(due, tmp_path):
    done = run_together(tmp_path, "command")

    assert [d.returncode for d in done] == [0, 0], "\n".join(d.stderr for d in done)
    reminders, escalations = assert_done_once(due, tmp_path)
    outputs = [d.stdout for d in done]
    # Usually one run holds the lock and the other says so; on a busy machine the second may
    # start after the first ended and find nothing due. Either way the sums are exact.
    assert all(ANOTHER in out or "timer(s) fired" in out for out in outputs), outputs
    assert sum(counted(out, "timer(s) fired") for out in outputs) == 2
    assert sum(counted(out, "reminder(s) sent") for out in outputs) == reminders
    assert sum(counted(out, "overdue escalation(s) sent") for out in outputs) == escalations
    # The run's own lease released; the sweep's stays until the next sweep is due.
    assert not CommandLease.objects.filter(name=TIMERS_COMMAND).exists()


def test_without_the_lock_the_work_itself_is_still_done_once(due, tmp_path):
    done = run_together(tmp_path, "unlocked")

    assert [d.returncode for d in done] == [0, 0], "\n".join(d.stderr for d in done)
    reminders, escalations = assert_done_once(due, tmp_path)
    counts = [json.loads(d.stdout.strip().splitlines()[-1]) for d in done]
    assert sum(c["timers"] for c in counts) == 2, counts
    assert sum(c["reminders"] for c in counts) == reminders, counts
    assert sum(c["overdue"] for c in counts) == escalations, counts


def timers_command(tmp_path) -> subprocess.CompletedProcess:
    database = Database(tmp_path)
    (tmp_path / "mail").mkdir(exist_ok=True)
    done = subprocess.run(
        [sys.executable, "manage.py", "workflow_timers"],
        cwd=settings.BASE_DIR,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.timers_settings",
            "DATABASE_URL": database.url(),
            "TEST_EMAIL_DIR": str(tmp_path / "mail"),
        },
        capture_output=True,
        text=True,
        timeout=300,
    )
    database.back()
    return done


@pytest.mark.skipif(connection.vendor != "postgresql", reason="advisory locks are PostgreSQL's")
def test_a_run_in_progress_elsewhere_is_respected_and_a_crashed_one_blocks_nothing(due, tmp_path):
    """Another host holds the lock: this run does nothing. That host dies (kill -9): its lock
    dies with its session, and the next run does the work."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import django, sys, time; django.setup()\n"
            "from django.db import connection\n"
            "connection.cursor().execute('SELECT pg_advisory_lock(%s)', [int(sys.argv[1])])\n"
            "print('held', flush=True); time.sleep(600)\n",
            str(advisory_key(TIMERS_COMMAND)),
        ],
        cwd=settings.BASE_DIR,
        env={**os.environ, "DATABASE_URL": Database(tmp_path).url()},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        skipped = timers_command(tmp_path)
        assert skipped.returncode == 0 and ANOTHER in skipped.stdout
        assert Notification.objects.filter(pk__gt=due["last"]).count() == 0
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    ran = timers_command(tmp_path)
    assert ran.returncode == 0, ran.stderr
    assert "2 timer(s) fired" in ran.stdout
    assert_done_once(due, tmp_path)


@pytest.mark.skipif(connection.vendor == "postgresql", reason="PostgreSQL uses advisory locks")
def test_a_current_lease_is_respected_and_an_expired_one_blocks_nothing(due, tmp_path):
    """A lease held by a run elsewhere stops this one; the lease of a run that crashed (past
    its expiry) does not."""
    lease = CommandLease.objects.create(
        name=TIMERS_COMMAND,
        holder="other-host:4242:abcd",
        expires_at=timezone.now() + timedelta(minutes=5),
    )
    skipped = timers_command(tmp_path)
    assert skipped.returncode == 0 and ANOTHER in skipped.stdout
    assert Notification.objects.filter(pk__gt=due["last"]).count() == 0

    CommandLease.objects.filter(pk=lease.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    ran = timers_command(tmp_path)
    assert ran.returncode == 0, ran.stderr
    assert "2 timer(s) fired" in ran.stdout
    assert_done_once(due, tmp_path)
    assert not CommandLease.objects.filter(name=TIMERS_COMMAND).exists()

"""The engine's transitions stay near viewflow's own cost: each step of a tech-transfer
application from draft to paid sends at most the statements it sends today (bench/engine.py
measures them against a bare viewflow flow). A change that adds a query to a transition fails
here with the step's name and the statements it sent, so the cost is added on purpose or not
at all.

Transactions commit as in production (`transactional_db`): the services' own transactions are
outermost, as in a request, and what runs on commit is counted. Documents are rendered and
signed for real; rendering sends no query."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from workflows import demo
from workflows.models import Application, Notification

# Statements per step (savepoints, their releases, BEGIN and COMMIT included), for the second
# application of the database: the first also creates the program version, the year's number
# sequence and the day's first notices of work. Before issue 13 the lifecycle sent 460; 330
# before the batch fan-out and the timers' lock (which added 44); 346 before documents were
# rendered in the background, 345 after; 303; now 299. Issuing one document records it and
# enqueues its rendering on commit (one INSERT of the job), and takes its number in one upsert
# that returns it; a message's recipients are one statement; a human step reads its task,
# process and application in one query under the lock; the decision checks its call in one
# statement and its batch works a chunk at a time. A human step writes the rows of the path after
# its task (the gateways passed, the task arrived at) in one INSERT and their links in another,
# and the task itself in one UPDATE (services.advance): 239, down from 295. A human step finds,
# checks and starts its task in one read under the lock (task_taken, one read fewer); a document
# is not looked for before it is issued (the constraint answers a second issue); a timer reads
# its task, process and application in one query; the notice reads its list once: 225. A
# batch's start writes nothing when no stale batch is left, its documents' codes are checked in
# one statement and its preparation takes no savepoint: 221. A call of few applicants is decided
# in one transaction: 208. A step's audit records are written together when it ends (a document's
# and the application's move, the notice's and its applications' moves; one INSERT fewer in the
# correction, the acceptance, the notice, the award letter and the payment): 203. The start task
# is written with the first stage's task: 202; a timer's start with its end: 201; a batch's
# start locks its call and looks for its unfinished batches in one statement: 200; and asks
# whether its lead and its documents were issued before in one: 199. A message is written by
# one INSERT … SELECT that picks its recipients (no read of them before): 187. The draft and
# its files are recorded in one transaction, as the form sends them: 176. The render jobs of the
# documents of a call decided at once are written in one INSERT: 174. The payment reads its
# call with the award letter's date and the voucher's use (172); the decision reads the call's
# program with its list, asks for reserved numbers only when its call has some, and records
# the awards with the moves to DECIDED (169); a submission reads its attachments and what was
# paid before in one statement (167, bare viewflow's count). On SQLite a step does not read
# its process's row to lock it (SQLite has no row locks: flows.ProcessLock): 160 there.
# The ceilings are PostgreSQL's; on SQLite each step in `LOCKING` sends one statement fewer.
CEILINGS = {
    # The draft, its two files and their three audit records (18 when each file was a
    # transaction of its own).
    "draft with two attachments": 7,
    # The process, its start task and the first stage's task written without viewflow's
    # second save of the process, its lock of a process nobody else can see yet, and two
    # savepoints (19 before); the start task in the same INSERT as the stage's (13 before).
    # The attachments' kinds and the payments made before read in one statement (11 before).
    "submit": 10,
    # The correction's task and the timer of its deadline (OnTimeout) written with the gateway
    # before them in one INSERT (30 before).
    "formal review: correction": 16,
    "resubmit": 15,
    "formal review: accept": 17,
    "leadership approve": 13,
    # The applications' await_notice tasks locked in one statement and moved on together, each
    # timer written scheduled at the period's end (23 before).
    "public notice publish": 11,
    # workflow_timers' lease (SQLite: one upsert, one delete), one statement saying no batch
    # needs recovering (56 right after the merge of both) and one saying no document's PDF is
    # left pending (45 before), one saying the deadlines were swept less than ten minutes ago
    # (44 when every run read them all).
    # The timer, the function that closes the notice, the two gateways and the task waiting for
    # the decision written as a human step's path is (services.advance): 39 before. The timer's
    # start written with its end (services.advance.timer_fire): 24 before.
    "notice period closes (timer)": 22,
    # documents.batch run here, a chunk at a time: claimed in one UPDATE … RETURNING, the lead
    # stored with its chunk (its number reserved with the notices'), the documents, audit
    # records and notices each one INSERT, the await_decision tasks moved on together (86
    # before the chunks, 98 right after the batch fan-out); the call's readiness (a notice
    # published, no objection pending, nothing still on notice or on its way) read in one
    # statement (51 before); a short chunk that was the last finishes the batch without a
    # claim that would find nothing (47 before); a batch's start marks stale batches failed
    # only when it found some (46 before); the verification codes checked against both tables
    # in one statement, and the batch prepared without a savepoint of its own (45 before). A
    # call of at most BATCH_AT_ONCE applicants is decided in one transaction: no batch items,
    # reservations, claim or finish, each PDF rendered by a job of its own (42 before); the
    # call locked in the statement that asks whether a batch of it is unfinished or alive (29);
    # whether the decision and the notices were issued before asked in one statement (28); the
    # messages' recipients picked by their INSERT (27); the two render jobs in one INSERT (25).
    # The call's program read with its list (23), reserved numbers looked for only when the call
    # has some (22), the awards recorded with the moves to DECIDED (21).
    "decision (batch doc + notice)": 21,
    "award letter": 19,
    # One statement reads the award letter's date: a payment dated before it is refused (24
    # before). The call is locked in the statement that reads the letter's date and whether
    # the voucher was used (18 before).
    "payment": 16,
}
# The steps that lock their process (flows.ProcessLock): one statement fewer on SQLite.
LOCKING = {
    "formal review: correction",
    "resubmit",
    "formal review: accept",
    "leadership approve",
    "notice period closes (timer)",
    "award letter",
    "payment",
}
# Per lifecycle (bare viewflow takes 16): 36 before issue 13, 18 before the decision's chunks,
# 17 before services.advance, 14 before it wrote the submission's, the notice's and the timer's
# paths too, 8 before it armed a task's deadline timer itself, 6 before a batch's preparation
# took none.
SAVEPOINT_CEILING = 5


@pytest.fixture
def cast(settings):
    """The demo's cast after one lifecycle (the program version, the year's number sequence
    and the day's first notices of work exist). Production's sweep of the deadlines, at most
    once in ten minutes: that lifecycle's timer sweeps, a measured one's finds the sweep done."""
    settings.NOTIFY_SWEEP_EVERY = timedelta(minutes=10)
    cast = demo.cast_make(logins=False)
    demo.lifecycle_paid(
        cast=cast,
        call=demo.call_make(title="预热批次"),
        institution=demo.institution_make(user=cast.applicant, serial=700001),
    )
    return cast


@pytest.mark.django_db(transaction=True)
def test_each_transition_of_a_lifecycle_stays_under_its_query_ceiling(cast):
    sent: dict[str, list[str]] = {}

    def step(name, func, **kwargs):
        with CaptureQueriesContext(connection) as captured:
            result = func(**kwargs)
        sent[name] = [query["sql"] for query in captured.captured_queries]
        return result

    application = demo.lifecycle_paid(
        cast=cast,
        call=demo.call_make(title="计数批次"),
        institution=demo.institution_make(user=cast.applicant, serial=700002),
        step=step,
    )

    # The lifecycle really ran: paid, and the applicant was told along the way.
    application.refresh_from_db()
    assert application.status == Application.Status.PAID
    assert Notification.objects.filter(recipient=cast.applicant, application=application).count()
    assert list(sent) == list(demo.LIFECYCLE_STEPS)
    ceilings = {
        name: ceiling - (name in LOCKING and connection.vendor == "sqlite")
        for name, ceiling in CEILINGS.items()
    }
    over = {
        name: (len(statements), ceilings[name])
        for name, statements in sent.items()
        if len(statements) > ceilings[name]
    }
    assert not over, "\n".join(
        [f"{name}: {n} statements, ceiling {ceiling}" for name, (n, ceiling) in over.items()]
        + ["", *(f"--- {name}\n" + "\n".join(sent[name]) for name in over)]
    )
    savepoints = sum(
        sql.lstrip().upper().startswith("SAVEPOINT")
        for statements in sent.values()
        for sql in statements
    )
    assert savepoints <= SAVEPOINT_CEILING, f"{savepoints} savepoints per lifecycle"


# Statements per lifecycle of applications that share their call (each application's own steps,
# the call's notice, its close and its decision once): at most bare viewflow's 167 for the
# same lifecycle (bench/engine.py); 165.2 for a call of ten, 163.3 since it is decided at once,
# 158.3 since a step writes its audit records together, 157.3 since the start task is written
# with the first stage's, 156.3 since a timer's start is written with its end; 133 since
# messages pick their recipients in their INSERT, the draft and its files are one transaction,
# the render jobs of a call decided at once are one INSERT and the steps above read less
# (133.1 here on PostgreSQL, 126 on SQLite).
IN_CALL_CEILING = 133.1


@pytest.mark.django_db(transaction=True)
def test_applications_sharing_a_call_cost_no_more_statements_than_bare_viewflow(cast):
    institutions = [
        demo.institution_make(user=cast.applicant, serial=700010 + n) for n in range(10)
    ]
    with CaptureQueriesContext(connection) as captured:
        applications = demo.lifecycles_paid(
            cast=cast, call=demo.call_make(title="十项批次"), institutions=institutions
        )

    assert {a.pk for a in applications} == set(
        Application.objects.filter(
            pk__in=[a.pk for a in applications], status=Application.Status.PAID
        ).values_list("pk", flat=True)
    )
    per_lifecycle = len(captured) / len(applications)
    assert per_lifecycle <= IN_CALL_CEILING, f"{per_lifecycle:.1f} statements per lifecycle"

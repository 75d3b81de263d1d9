"""Benchmark: the engine's transitions against bare viewflow.

One run prints, on SQLite and (when it answers) on PostgreSQL:

- the tech-transfer grant's lifecycles per second (draft, two attachments, submit, correction,
  resubmit, accept, leadership, notice published and closed by the timer, decision, award letter,
  payment: `workflows.demo.lifecycle_paid`, one application alone in its call) against a bare
  viewflow 2.4 flow of the same nodes (`bench/bareflow`), in interleaved rounds (project, bare,
  project, bare…), with the medians and their ratio;
- queries, row writes and savepoints per task for both, and the project's queries per transition;
- the same for `BENCH_CALL` (10) applications sharing one call (`workflows.demo.lifecycles_paid`:
  each application's own steps one by one, the call's notice, its close and its decision once,
  as a call runs) against as many bare lifecycles, interleaved round by round. The bare flow
  has no call: each of its processes runs its notice and decision handles alone.

What is stubbed: only what makes the PDF, WeasyPrint's rendering
(`documents.services.render_pdf`), the PDF signature (`documents.services.pdf_sign`) and the QR
code image drawn into it (`documents.services.verification_qr`); a minimal PDF stands in for
their output. Everything else of issuing a document counts: the number taken, the verification
code, the document row, its audit record and notifications, and the enqueued render job. That
job's work (the stubbed PDF, the stored file) is the background worker's, as in production;
the benchmark does it after each round, timed apart, and prints the rate with it added too.
Both calls measured here are decided at once (at most `BATCH_AT_ONCE` applicants,
documents.batch): their decision's and notices' PDFs are rendered by such jobs too.

Run: `make bench` or `.venv/bin/python bench/engine.py` (`BENCH_ROUNDS`, `BENCH_BATCH`).
PostgreSQL: the server of `DATABASE_URL`, else 127.0.0.1:5432 when `pg_isready` answers; the
benchmark creates and drops its own database (`test_<name>_bench`).
"""

import io
import os
import shutil
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BATCH = int(os.environ.get("BENCH_BATCH", "10"))
CALL_SIZE = int(os.environ.get("BENCH_CALL", "10"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
PG_DEFAULT = "postgres://postgres@127.0.0.1:5432/ipgrants"


# --- the driver: one child process per database ------------------------------------------------


def main() -> None:
    if "--child" in sys.argv:
        child()
        return
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.settings"}
    runs = [("SQLite", {k: v for k, v in environment.items() if k != "DATABASE_URL"})]
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres") and _postgres_answers():
        url = PG_DEFAULT
    if url.startswith("postgres"):
        runs.append(("PostgreSQL", {**environment, "DATABASE_URL": url}))
    else:
        print("PostgreSQL not reachable: SQLite only.")
    for label, env in runs:
        print(f"\n===== {label} =====", flush=True)
        subprocess.run([sys.executable, __file__, "--child"], env=env, check=True)


def _postgres_answers() -> bool:
    if shutil.which("pg_isready") is None:
        return False
    probe = subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1", "-p", "5432"], check=False)
    return probe.returncode == 0


# --- measuring in one database ----------------------------------------------------------------


def child() -> None:
    import django

    django.setup()
    from django.db import connection

    from bench.support import database_ready

    original = connection.settings_dict["NAME"]
    if connection.vendor != "sqlite":
        connection.settings_dict["TEST"]["NAME"] = f"test_{original}_bench"
    database_ready()
    try:
        measure_all()
    finally:
        if connection.vendor != "sqlite":
            from django.test.utils import teardown_databases

            teardown_databases([(connection, original, True)], verbosity=0)


@contextmanager
def pdfs_stubbed():
    """WeasyPrint and the signature replaced by a minimal PDF, and the QR code drawn into the
    PDF by a fixed image; nothing else."""
    from documents import services as documents
    from workflows.demo import MINIMAL_PDF

    render, sign, qr = documents.render_pdf, documents.pdf_sign, documents.verification_qr
    documents.render_pdf = lambda template_name, context: MINIMAL_PDF
    documents.pdf_sign = lambda pdf, issuer_name: pdf
    documents.verification_qr = lambda url: "data:image/png;base64,"
    try:
        yield
    finally:
        documents.render_pdf, documents.pdf_sign, documents.verification_qr = render, sign, qr


@contextmanager
def project_receivers_off():
    """The bare flow runs without the project's receiver of viewflow's task rows (it tells
    people of work arriving): no project code around it."""
    from django.db.models.signals import post_save

    from workflows.services.notifications import task_saved

    post_save.disconnect(task_saved, dispatch_uid="workflows.task_saved")
    try:
        yield
    finally:
        post_save.connect(task_saved, dispatch_uid="workflows.task_saved")


class Lifecycles:
    """Both lifecycles, prepared outside the clock (a call and an institution per project
    lifecycle) and run inside it."""

    def __init__(self):
        from workflows import demo

        self.demo = demo
        self.cast = demo.cast_make()
        self.serial = 500000

    def project_prepared(self):
        self.serial += 1
        call = self.demo.call_make(title=f"基准{self.serial}")
        institution = self.demo.institution_make(user=self.cast.applicant, serial=self.serial)
        return call, institution

    def project(self, prepared, step=None):
        call, institution = prepared
        return self.demo.lifecycle_paid(
            cast=self.cast, call=call, institution=institution, step=step
        )

    def call_prepared(self, size: int):
        """A call and `size` institutions, for `size` lifecycles in one call."""
        call, first = self.project_prepared()
        others = []
        for _ in range(size - 1):
            self.serial += 1
            others.append(self.demo.institution_make(user=self.cast.applicant, serial=self.serial))
        return call, [first, *others]

    def project_call(self, prepared, step=None):
        call, institutions = prepared
        return self.demo.lifecycles_paid(
            cast=self.cast, call=call, institutions=institutions, step=step
        )

    def bare(self, step=None):
        return bare_lifecycle(self.cast, step=step)


BARE_STEPS = (
    "submit (start)",
    "formal review: correction",
    "resubmit",
    "formal review: accept",
    "leadership approve",
    "public notice publish",
    "notice period closes (timer)",
    "decision",
    "award letter",
    "payment",
)


def bare_lifecycle(cast, step=None):
    """The bare flow driven as viewflow's own views drive it: a human task is found, locked
    (the process row), checked against the user's permission, assigned, started, the process
    saved with the decision (viewflow's UpdateProcessView) and executed; a Handle runs under its
    own lock; the timer fires through viewflow's dispatcher."""
    from django.core.management import call_command
    from django.db import transaction
    from django.utils import timezone
    from viewflow.management.commands.workflow_timers import Command as ViewflowTimers
    from viewflow.workflow.models import Task
    from viewflow.workflow.status import STATUS

    from bench.bareflow.flows import BareGrantFlow

    step = step or (lambda name, func, **kwargs: func(**kwargs))
    flow = BareGrantFlow.instance

    def human(*, process, node, user, status):
        with transaction.atomic():
            task = Task.objects.get(
                process_id=process.pk, flow_task=node, status__in=[STATUS.NEW, STATUS.ASSIGNED]
            )
            with task.activation() as activation:
                if not node.can_assign(user, activation.task):
                    raise PermissionError(node)
                activation.assign(user)
                activation.start(None)
                activation.process.data["status"] = status
                activation.process.save()
                activation.execute()

    def handle(*, process, node):
        task = Task.objects.get(process_id=process.pk, flow_task=node, status=STATUS.NEW)
        node.run(task)

    def timer_fires(*, process):
        Task.objects.filter(process_id=process.pk, flow_task_type="TIMER").filter(
            status=STATUS.SCHEDULED
        ).update(scheduled=timezone.now() - timedelta(seconds=1))
        call_command(ViewflowTimers(stdout=io.StringIO()))

    process = step("submit (start)", flow.start.run)
    step(
        "formal review: correction",
        human,
        process=process,
        node=flow.formal_review,
        user=cast.formal_reviewer,
        status="correction",
    )
    step(
        "resubmit",
        human,
        process=process,
        node=flow.correction,
        user=cast.applicant,
        status="submitted",
    )
    step(
        "formal review: accept",
        human,
        process=process,
        node=flow.formal_review,
        user=cast.formal_reviewer,
        status="accepted",
    )
    step(
        "leadership approve",
        human,
        process=process,
        node=flow.leadership_review,
        user=cast.leadership,
        status="approved",
    )
    step("public notice publish", handle, process=process, node=flow.await_notice)
    step("notice period closes (timer)", timer_fires, process=process)
    step("decision", handle, process=process, node=flow.await_decision)
    for name, status in (("award letter", "letter_issued"), ("payment", "paid")):
        step(
            name,
            human,
            process=process,
            node=getattr(flow, name.replace(" ", "_")),
            user=cast.finance_officer,
            status=status,
        )
    process.refresh_from_db()
    assert process.data["status"] == "paid" and process.finished is not None, process.data
    return process


class StatementCounter:
    """Statements per step: all of them (savepoints and their releases included, as the
    database sees them), the row writes (INSERT/UPDATE/DELETE) and the savepoints taken."""

    def __init__(self):
        self.rows: dict[str, list[int]] = {}

    def step(self, name, func, **kwargs):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            result = func(**kwargs)
        statements = [q["sql"].lstrip().upper() for q in captured.captured_queries]
        savepoints = sum(s.startswith("SAVEPOINT") for s in statements)
        writes = sum(s.startswith(("INSERT", "UPDATE", "DELETE")) for s in statements)
        queries = len(statements)
        row = self.rows.setdefault(name, [0, 0, 0])
        row[0] += queries
        row[1] += writes
        row[2] += savepoints
        return result

    def totals(self) -> tuple[int, int, int]:
        return tuple(sum(row[i] for row in self.rows.values()) for i in range(3))


def worker_share() -> float:
    """Seconds the background worker spends on the documents the round recorded with their PDFs
    pending (each issued on its own, and those of a call decided at once): what
    `document_render_job` does for each, run here one after the other with the PDF stubbed as
    above."""
    from documents.models import Document
    from documents.services import documents_render_pending

    pending = list(Document.objects.filter(rendered_at__isnull=True).values_list("pk", flat=True))
    started = time.perf_counter()
    failed = documents_render_pending(pending)
    assert not failed, failed
    return time.perf_counter() - started


def tasks_of(process) -> int:
    from viewflow.workflow.models import Task

    return Task.objects.filter(process_id=process.pk).count()


def measure_all() -> None:
    from django.db import connection

    lifecycles = Lifecycles()
    with pdfs_stubbed():
        # Warm-up: imports, template loading, first rows of each table.
        lifecycles.project(lifecycles.project_prepared())
        with project_receivers_off():
            lifecycles.bare()

        project = StatementCounter()
        application = lifecycles.project(lifecycles.project_prepared(), step=project.step)
        project_tasks = tasks_of(application.process)
        bare = StatementCounter()
        with project_receivers_off():
            process = lifecycles.bare(step=bare.step)
        bare_tasks = tasks_of(process)

        print(
            "Queries per transition, one tech-transfer application (PDF rendering and signing "
            "stubbed; queries are every statement sent, savepoints and their release included):"
        )
        print(f"  {'transition':<36} {'queries':>7} {'writes':>7} {'savepts':>7}")
        for name, (queries, writes, savepoints) in project.rows.items():
            print(f"  {name:<36} {queries:>7} {writes:>7} {savepoints:>7}")
        p_queries, p_writes, p_savepoints = project.totals()
        print(f"  {'total for one lifecycle':<36} {p_queries:>7} {p_writes:>7} {p_savepoints:>7}")
        print("\nBare viewflow, the same lifecycle:")
        for name, (queries, writes, savepoints) in bare.rows.items():
            print(f"  {name:<36} {queries:>7} {writes:>7} {savepoints:>7}")
        b_queries, b_writes, b_savepoints = bare.totals()
        print(f"  {'total for one lifecycle':<36} {b_queries:>7} {b_writes:>7} {b_savepoints:>7}")
        print(f"\n  {'per task':<24} {'tasks':>6} {'queries':>8} {'writes':>7} {'savepts':>8}")
        for label, tasks, queries, writes, savepoints in (
            ("project", project_tasks, p_queries, p_writes, p_savepoints),
            ("bare viewflow", bare_tasks, b_queries, b_writes, b_savepoints),
        ):
            print(
                f"  {label:<24} {tasks:>6} {queries / tasks:>8.1f} {writes / tasks:>7.1f} "
                f"{savepoints / tasks:>8.1f}"
            )
        print(
            f"  bound on the ratio at these counts: {b_queries / p_queries:.2f}x (bare's "
            "statements over the project's: the ratio if each project statement cost no more "
            "than one of bare viewflow's)"
        )

        in_call = StatementCounter()
        applications = lifecycles.project_call(
            lifecycles.call_prepared(CALL_SIZE), step=in_call.step
        )
        c_queries, c_writes, c_savepoints = in_call.totals()
        c_tasks = sum(tasks_of(a.process) for a in applications)
        print(
            f"\n{CALL_SIZE} applications in one call (each application's steps its own; the "
            "call's notice, its close and its decision once), per lifecycle:"
        )
        print(
            f"  {'project':<24} {c_tasks / CALL_SIZE:>6.0f} {c_queries / CALL_SIZE:>8.1f} "
            f"{c_writes / CALL_SIZE:>7.1f} {c_savepoints / CALL_SIZE:>8.1f}  (queries per "
            f"task {c_queries / c_tasks:.1f})"
        )

        print(
            f"\nLifecycles per second, draft to paid, each application alone in its call "
            f"({ROUNDS} interleaved rounds of {BATCH} each; {connection.vendor}):"
        )

        def alone():
            prepared = [lifecycles.project_prepared() for _ in range(BATCH)]
            return lambda: [lifecycles.project(one) for one in prepared]

        rates_print(interleaved(lifecycles, alone, BATCH))
        print(
            f"\nLifecycles per second, {CALL_SIZE} applications in one call against "
            f"{CALL_SIZE} bare lifecycles ({ROUNDS} interleaved rounds; {connection.vendor}):"
        )

        def sharing():
            prepared = lifecycles.call_prepared(CALL_SIZE)
            return lambda: lifecycles.project_call(prepared)

        rates_print(interleaved(lifecycles, sharing, CALL_SIZE))


def interleaved(lifecycles, prepare, count: int) -> dict[str, list[float]]:
    """`ROUNDS` rounds of the project's `count` lifecycles (`prepare()` sets them up outside
    the clock and returns what runs them) then `count` bare ones; the rates of each round, and
    the project's with the worker's share added."""
    rates = {"project": [], "bare": [], "with worker": []}
    for round_no in range(ROUNDS):
        run = prepare()
        started = time.perf_counter()
        run()
        transitions = time.perf_counter() - started
        rates["project"].append(count / transitions)
        rates["with worker"].append(count / (transitions + worker_share()))
        with project_receivers_off():
            started = time.perf_counter()
            for _ in range(count):
                lifecycles.bare()
            rates["bare"].append(count / (time.perf_counter() - started))
        print(
            f"  round {round_no + 1}: project {rates['project'][-1]:6.2f}/s, "
            f"bare viewflow {rates['bare'][-1]:6.2f}/s",
            flush=True,
        )
    return rates


def rates_print(rates: dict[str, list[float]]) -> None:
    project_rate = statistics.median(rates["project"])
    bare_rate = statistics.median(rates["bare"])
    with_worker = statistics.median(rates["with worker"])
    print(
        f"  median: project {project_rate:.2f}/s, bare viewflow {bare_rate:.2f}/s, "
        f"ratio {project_rate / bare_rate:.2f}x"
    )
    print(
        f"  with the worker's share (each pending document's job: its stored file, the PDF and "
        f"its QR code stubbed): {with_worker:.2f}/s, ratio {with_worker / bare_rate:.2f}x"
    )


if __name__ == "__main__":
    main()

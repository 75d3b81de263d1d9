"""Benchmark: the application list and the inbox with BENCH_APPLICATIONS (10,000) applications,
through HTTP as a formal reviewer, and the ranking of BENCH_PANELS (2,000) scored panels and an
expert's seats: milliseconds (median of BENCH_RUNS) and queries per page, for the first page and
for filtered, searched and sorted pages. The goal is under 200 ms each.

Run on PostgreSQL with a database name of your own (the test machinery creates
`test_<name>` and drops it at the end):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_lists \\
    DJANGO_SETTINGS_MODULE=config.settings.test .venv/bin/python bench/lists.py

The applications are made with bulk_create from one real submitted application (its process and
its formal-review task are copied), so that half of them wait in the reviewer's inbox.
"""

import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import (  # noqa: E402
    CaptureQueriesContext,
    setup_databases,
    setup_test_environment,
    teardown_databases,
    teardown_test_environment,
)

APPLICATIONS = int(os.environ.get("BENCH_APPLICATIONS", "10000"))
PANELS = int(os.environ.get("BENCH_PANELS", "2000"))
RUNS = int(os.environ.get("BENCH_RUNS", "7"))
GOAL_MS = 200


def database_ready():
    import tempfile

    if connection.vendor == "sqlite":
        folder = tempfile.mkdtemp(prefix="ipgrants-bench-")
        connection.settings_dict["TEST"]["NAME"] = str(Path(folder) / "bench.sqlite3")
    setup_test_environment()
    config = setup_databases(verbosity=0, interactive=False)
    print(f"Database: {connection.vendor} ({connection.settings_dict['NAME']})")
    return config


def copied(row, **changes):
    """An unsaved copy of a row (every concrete field but its id), with `changes`."""
    values = {
        f.attname: getattr(row, f.attname) for f in row._meta.concrete_fields if not f.primary_key
    }
    values.update(changes)
    return type(row)(**values)


def applications_made(count: int):
    """`count` applications over four calls, two programs and four cities, half of them
    submitted and waiting at the formal review (each with its own process and task)."""
    from viewflow.workflow.models import Process, Task
    from viewflow.workflow.status import STATUS

    from workflows import demo
    from workflows.models import Application, Institution

    cast = demo.cast_make()
    calls = [
        demo.call_make(title=f"基准：列表 第{n}批", slug=slug)
        for n, slug in enumerate(["tech_transfer_agency", "ip_operating_institution"] * 2, 1)
    ]
    template = demo.application_submitted(cast=cast, call=calls[0], serial=1)
    task = Task.objects.get(process_id=template.process_id, status=STATUS.NEW)
    process = template.process
    versions = {
        call.pk: demo.services.program_version_current(slug=call.program_slug) for call in calls
    }
    cities = list(demo.DEMO_CITIES)
    institutions = Institution.objects.bulk_create(
        [
            Institution(
                name=f"贵州基准单位{n}号",
                uscc=demo.uscc_make(100000 + n, cities[n % len(cities)]),
                region_code=cities[n % len(cities)],
            )
            for n in range(count)
        ],
        batch_size=2000,
    )
    waiting = count // 2
    processes = Process.objects.bulk_create(
        [copied(process) for _n in range(waiting)], batch_size=2000
    )
    Task.objects.bulk_create([copied(task, process_id=p.pk) for p in processes], batch_size=2000)
    others = [
        Application.Status.DRAFT,
        Application.Status.ACCEPTED,
        Application.Status.APPROVED,
        Application.Status.REFUSED,
        Application.Status.PAID,
    ]
    now = template.created_at
    rows = []
    for n, institution in enumerate(institutions):
        call = calls[n % len(calls)]
        in_inbox = n < waiting
        rows.append(
            Application(
                call=call,
                institution=institution,
                program_version=versions[call.pk],
                process=processes[n] if in_inbox else None,
                status=Application.Status.SUBMITTED if in_inbox else others[n % len(others)],
                tier="provincial",
                created_by=cast.applicant,
                created_at=now - timedelta(minutes=50 * n),
                extra=template.extra,
            )
        )
    Application.objects.bulk_create(rows, batch_size=2000)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return cast, calls, institutions


def panels_made(cast, count: int):
    """A recognition call with `count` applications scored by panels of five of the pool."""
    import random
    from decimal import Decimal

    from workflows import demo
    from workflows.models import Application, Institution, PanelResult, PanelSeat

    call = demo.call_make(slug="ip_advantage_enterprise", title="基准：专家评审排名")
    version = demo.services.program_version_current(slug=call.program_slug)
    institutions = Institution.objects.bulk_create(
        [
            Institution(
                name=f"贵州基准企业{n}号",
                uscc=demo.uscc_make(500000 + n, "520300"),
                region_code="520300",
            )
            for n in range(count)
        ],
        batch_size=2000,
    )
    applications = Application.objects.bulk_create(
        [
            Application(
                call=call,
                institution=institution,
                program_version=version,
                status=Application.Status.SCORED,
                created_by=cast.applicant,
            )
            for institution in institutions
        ],
        batch_size=2000,
    )
    draw = random.Random(2026)
    seats, results = [], []
    for application in applications:
        totals = [Decimal(draw.randint(5000, 9500)) / 100 for _n in range(5)]
        for expert, total in zip(draw.sample(cast.experts, 5), totals, strict=True):
            seats.append(
                PanelSeat(
                    application=application,
                    expert=expert,
                    status=PanelSeat.Status.SCORED,
                    total=total,
                )
            )
        results.append(
            PanelResult(
                application=application,
                stage_key="expert_review",
                score=(sum(totals) / 5).quantize(Decimal("0.01")),
                scored=5,
            )
        )
    PanelSeat.objects.bulk_create(seats, batch_size=2000)
    PanelResult.objects.bulk_create(results, batch_size=2000)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return call


def measured(client: Client, url: str) -> tuple[float, int, int]:
    """(median ms, queries, bytes) of GET url."""
    client.get(url)  # warm-up: templates, program files
    times = []
    for _run in range(RUNS):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    return statistics.median(times), len(queries), len(response.content)


def main():
    from django.urls import reverse

    config = database_ready()
    try:
        started = time.perf_counter()
        cast, calls, institutions = applications_made(APPLICATIONS)
        call = panels_made(cast, PANELS)
        print(
            f"set-up of {APPLICATIONS} applications and {PANELS} scored panels: "
            f"{time.perf_counter() - started:.1f} s"
        )
        client = Client()
        client.force_login(cast.formal_reviewer)
        listing, inbox = reverse("application_list"), reverse("inbox")
        someone = institutions[APPLICATIONS // 3]
        day = (calls[0].opens_at - timedelta(days=30)).date().isoformat()
        pages = [
            ("application list, first page", listing),
            ("… status submitted", f"{listing}?status=submitted"),
            ("… q by name (one match)", f"{listing}?q={someone.name}"),
            ("… q by name fragment (1,111 matches)", f"{listing}?q=单位1"),
            ("… q by credit code", f"{listing}?q={someone.uscc}"),
            (
                "… program + call + city + status + dates",
                f"{listing}?program={calls[1].program_slug}&call={calls[1].pk}&city=5203"
                f"&status=approved&date_from={day}",
            ),
            ("… sorted by institution, page 40", f"{listing}?sort=institution&page=40"),
            ("… last page", f"{listing}?page=200"),
            ("inbox, first page", inbox),
            ("inbox, page 50", f"{inbox}?page=50"),
            (f"ranking of {PANELS} panels, first page", reverse("ranking", args=[call.pk])),
            ("… page 20", f"{reverse('ranking', args=[call.pk])}?page=20"),
            ("… q by name", f"{reverse('ranking', args=[call.pk])}?q=企业1234号"),
        ]
        print(f"\n{'page':<44} {'ms':>8} {'queries':>8} {'KB':>6}")
        slow = []
        expert = Client()
        expert.force_login(cast.experts[0].user)
        seats = reverse("expert_seats")
        pages = [(label, url, client) for label, url in pages] + [
            (f"an expert's seats ({cast.experts[0].seats.count()}), first page", seats, expert),
            ("… status scored, page 10", f"{seats}?status=scored&page=10", expert),
        ]
        for label, url, browser in pages:
            ms, queries, size = measured(browser, url)
            print(f"{label:<44} {ms:>8.1f} {queries:>8} {size / 1024:>6.0f}")
            if ms >= GOAL_MS:
                slow.append(label)
        started = time.perf_counter()
        response = client.get(f"{listing}?status=submitted&export=xlsx")
        elapsed = (time.perf_counter() - started) * 1000
        print(
            f"\nexport of {APPLICATIONS // 2} submitted applications (xlsx): "
            f"{elapsed:.0f} ms, {len(response.content) / 1024:.0f} KB"
        )
        print(f"\ngoal < {GOAL_MS} ms: " + ("met" if not slow else f"missed by {', '.join(slow)}"))
    finally:
        connection.close()
        teardown_databases(config, verbosity=0)
        teardown_test_environment()


if __name__ == "__main__":
    main()

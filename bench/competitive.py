"""Benchmark: full IP advantage-enterprise recognition lifecycles (city recommendation, formal
review, a five-expert panel, leadership, public notice, recognition decision and certificate) per
second on SQLite, and the SQL queries each transition costs.

Run with `make bench` or `.venv/bin/python bench/competitive.py`."""

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import (  # noqa: E402
    CaptureQueriesContext,
    setup_databases,
    setup_test_environment,
)

SLUG = "ip_advantage_enterprise"
BATCH = int(os.environ.get("BENCH_BATCH", "12"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))


def transitions_measured(cast, call) -> dict[str, int]:
    from workflows import demo, services
    from workflows.models import PanelSeat
    from workflows.services import expert_review, recommendation

    counts: dict[str, int] = {}

    def measure(name, func, **kwargs):
        with CaptureQueriesContext(connection) as queries:
            result = func(**kwargs)
        counts[name] = counts.get(name, 0) + len(queries)
        return result

    institution = demo.institution_make(user=cast.applicant, serial=900001)
    application = measure(
        "draft with attachments",
        demo.application_draft,
        user=cast.applicant,
        call=call,
        institution=institution,
    )
    measure("submit", services.application_submit, user=cast.applicant, application=application)
    measure(
        "city recommendation",
        recommendation.recommendation_decide,
        user=cast.city_office,
        application=application,
        recommended=True,
        reason="",
    )
    measure(
        "formal review: accept (+PDF, panel drawn)",
        services.formal_review_complete,
        user=cast.formal_reviewer,
        application=application,
        outcome="accept",
    )
    rubric = application.program["rubric"]
    for n, seat in enumerate(application.seats.select_related("expert__user"), 1):
        user = seat.expert.user
        seat = measure(
            f"expert {n}: declare", expert_review.seat_declare, user=user, seat=seat, conflict=False
        )
        measure(
            f"expert {n}: score" + (" (closes the panel)" if n == 5 else ""),
            expert_review.seat_score,
            user=user,
            seat=seat,
            points={c["key"]: c["max_points"] * 0.8 for c in rubric},
            comment="材料翔实。",
        )
    assert application.seats.filter(status=PanelSeat.Status.SCORED).count() == 5
    measure(
        "leadership approve",
        services.leadership_decide,
        user=cast.leadership,
        decisions=[(application, True, "")],
    )
    measure(
        "public notice publish", services.public_notice_publish, user=cast.notice_officer, call=call
    )
    measure("notice period closes (timer)", demo.notice_expire, call=call)
    measure(
        "recognition decision + certificate",
        services.decision_issue,
        user=cast.notice_officer,
        call=call,
    )
    return counts


def main():
    from workflows import demo

    folder = tempfile.mkdtemp(prefix="ipgrants-bench-")
    if connection.vendor == "sqlite":
        connection.settings_dict["TEST"]["NAME"] = str(Path(folder) / "bench.sqlite3")
    setup_test_environment()
    setup_databases(verbosity=0, interactive=False)
    print(f"Database: {connection.vendor}")

    cast = demo.cast_make()
    counts = transitions_measured(cast, demo.call_make(slug=SLUG, title="基准：逐步"))
    print("\nQueries per transition (one enterprise, five-expert panel):")
    for name, n in counts.items():
        print(f"  {name:<44} {n:>4}")
    print(f"  {'total for one lifecycle':<44} {sum(counts.values()):>4}")

    rates = []
    serial = 100
    for round_no in range(ROUNDS):
        call = demo.call_make(slug=SLUG, title=f"基准批次{round_no}")
        started = time.perf_counter()
        demo.competitive_batch_run(
            cast=cast, call=call, branches=["recognised"] * BATCH, serial_start=serial
        )
        elapsed = time.perf_counter() - started
        serial += BATCH
        rates.append(BATCH / elapsed)
        print(f"round {round_no + 1}: {BATCH} recognitions in {elapsed:.2f} s")
    print(
        f"\nFull advantage-enterprise lifecycles per second (batch of {BATCH}, 5 experts each, "
        f"3 PDFs each incl. the batch decision): median {statistics.median(rates):.2f}, "
        f"min {min(rates):.2f}, max {max(rates):.2f}"
    )


if __name__ == "__main__":
    main()

"""Benchmark: full tech-transfer-agency grant lifecycles per second on SQLite, and the number of
SQL queries each transition costs.

Run with `make bench` (SQLite file database in a temporary folder; PostgreSQL when DATABASE_URL
names one). Every lifecycle goes through the services, renders its real PDFs (acceptance notice,
decision notice, award letter, plus the batch decision) and passes viewflow's timer.
"""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django  # noqa: E402

django.setup()

from bench.support import QueryCounter, batches_timed, database_ready  # noqa: E402

BATCH = int(os.environ.get("BENCH_BATCH", "20"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))


def transitions_measured(cast, call):
    """One application step by step (`workflows.demo.lifecycle_paid`); queries per transition."""
    from workflows import demo

    counter = QueryCounter()
    institution = demo.institution_make(user=cast.applicant, serial=900001)
    demo.lifecycle_paid(
        cast=cast,
        call=call,
        institution=institution,
        step=lambda name, func, **kwargs: counter.measure(name, func, **kwargs),
    )
    return counter


def main():
    from workflows import demo

    database_ready()
    cast = demo.cast_make()
    counter = transitions_measured(cast, demo.call_make(title="基准：逐步"))
    counter.report("Queries per transition (one application, national tier):")
    print(
        f"\nFull grant lifecycles (batch of {BATCH}, draft to paid, 5 PDFs each incl. the "
        "batch decision):"
    )
    batches_timed(
        run=lambda n: demo.batch_run(
            cast=cast,
            call=demo.call_make(title=f"基准批次{n}"),
            branches=["paid"] * BATCH,
            serial_start=100 + n * BATCH,
        ),
        batch=BATCH,
        rounds=ROUNDS,
        label="paid lifecycles",
    )


if __name__ == "__main__":
    main()

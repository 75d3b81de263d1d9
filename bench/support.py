"""What the benchmarks share: a throw-away database, query counting, timed batches."""

import statistics
import tempfile
import time
from pathlib import Path

from django.db import connection
from django.test.utils import CaptureQueriesContext, setup_databases, setup_test_environment


def database_ready() -> None:
    """A fresh test database (an SQLite file, not memory, so that timings are realistic)."""
    if connection.vendor == "sqlite":
        folder = tempfile.mkdtemp(prefix="ipgrants-bench-")
        connection.settings_dict["TEST"]["NAME"] = str(Path(folder) / "bench.sqlite3")
    setup_test_environment()
    setup_databases(verbosity=0, interactive=False)
    print(f"Database: {connection.vendor}")


class QueryCounter:
    """`counter.measure(name, func, **kwargs)` runs func and adds up its queries under name."""

    def __init__(self):
        self.counts: dict[str, int] = {}

    def measure(self, name: str, func, **kwargs):
        with CaptureQueriesContext(connection) as queries:
            result = func(**kwargs)
        self.counts[name] = self.counts.get(name, 0) + len(queries)
        return result

    def report(self, heading: str) -> None:
        print(f"\n{heading}")
        for name, n in self.counts.items():
            print(f"  {name:<44} {n:>4}")
        print(f"  {'total for one lifecycle':<44} {sum(self.counts.values()):>4}")


def batches_timed(*, run, batch: int, rounds: int, label: str) -> list[float]:
    """Run `run(round_no)` (one batch of `batch` lifecycles) `rounds` times; lifecycles/s."""
    rates = []
    for round_no in range(rounds):
        started = time.perf_counter()
        run(round_no)
        elapsed = time.perf_counter() - started
        rates.append(batch / elapsed)
        print(f"round {round_no + 1}: {batch} {label} in {elapsed:.2f} s")
    print(
        f"median {statistics.median(rates):.2f} lifecycles/s, "
        f"min {min(rates):.2f}, max {max(rates):.2f}"
    )
    return rates

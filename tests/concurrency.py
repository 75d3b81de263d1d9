"""Real concurrency on PostgreSQL, for tests: threads with their own connections race for the
same rows. SQLite serialises writers on its own (IMMEDIATE transactions), so these tests run in
the PostgreSQL pass of `make test`."""

import threading

import pytest
from django.db import connection, connections

POSTGRES_ONLY = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs PostgreSQL row locks (PostgreSQL pass)"
    ),
]


def race(*actions):
    """Run the actions at the same moment in threads; return what each returned or raised."""
    barrier = threading.Barrier(len(actions))
    results = [None] * len(actions)

    def run(i, action):
        try:
            barrier.wait()
            results[i] = action()
        except Exception as error:  # noqa: BLE001 - the outcome is what the test compares
            results[i] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results

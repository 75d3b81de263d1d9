"""What a call's decision costs in queries: a fixed number per batch plus at most three per
application, both to prepare it (awards, reservations, items and contexts are done in bulk) and
for the whole batch run to its end (each chunk of documents claimed, stored, audited and
announced, and its applications and their processes moved on, in bulk)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from documents import batch as document_batch
from workflows import demo
from workflows.models import Application
from workflows.stages.decision.services import decision_issue_start

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fanned_out(settings):
    """Both calls fan out, as calls of more than `BATCH_AT_ONCE` applicants do (the cost of a
    call decided at once: test_batch_at_once.py)."""
    settings.BATCH_AT_ONCE = 0


def statements(count: int, first_serial: int, *, run: bool) -> int:
    """Every statement of preparing a decision for `count` applications, and with `run`, of
    running the whole batch here to its end."""
    cast = demo.cast_make()
    call, applications = demo.call_awaiting_decision(
        cast=cast, count=count, first_serial=first_serial, title=f"查询计数{count}{run}"
    )
    with CaptureQueriesContext(connection) as queries:
        batch = decision_issue_start(user=cast.notice_officer, call=call, dispatch=False)
        if run:
            batch = document_batch.issue_batch_run(batch)
    if not run:
        assert batch.items.count() == count + 1  # the decision and a notice each
        return len(queries)
    assert (batch.status, batch.done, batch.failed) == ("finished", count, 0)
    decided = Application.objects.filter(pk__in=[a.pk for a in applications])
    assert set(decided.values_list("status", flat=True)) == {Application.Status.DECIDED}
    return len(queries)


def test_preparing_the_decision_costs_at_most_three_queries_per_application():
    small = statements(5, 300, run=False)
    large = statements(15, 400, run=False)
    print(f"prepare: {small} queries for 5, {large} for 15")
    assert large - small <= 3 * 10, (small, large)


def test_the_whole_decision_batch_costs_at_most_three_queries_per_application():
    small = statements(5, 500, run=True)
    large = statements(15, 600, run=True)
    print(f"whole batch: {small} queries for 5, {large} for 15")
    assert large - small <= 3 * 10, (small, large)

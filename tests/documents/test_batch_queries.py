"""What preparing a call's decision costs in queries: a fixed number per batch plus at most
three per application (awards, reservations, items and contexts are done in bulk)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from workflows import demo
from workflows.stages.decision.services import decision_issue_start

pytestmark = pytest.mark.django_db


def queries_to_prepare(count: int, first_serial: int) -> int:
    cast = demo.cast_make()
    call, _applications = demo.call_awaiting_decision(
        cast=cast, count=count, first_serial=first_serial, title=f"查询计数{count}"
    )
    with CaptureQueriesContext(connection) as queries:
        batch = decision_issue_start(user=cast.notice_officer, call=call, dispatch=False)
    assert batch.items.count() == count + 1  # the decision and a notice each
    return len(queries)


def test_preparing_the_decision_costs_at_most_three_queries_per_application():
    small = queries_to_prepare(5, 300)
    large = queries_to_prepare(15, 400)
    print(f"prepare: {small} queries for 5, {large} for 15")
    assert large - small <= 3 * 10, (small, large)

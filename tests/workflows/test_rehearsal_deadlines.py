"""A rehearsal's report marks a deadline 暂定 as the pages do, when it counts through a year whose
holidays were not entered yet (it printed 2027-01-01 23:59 as if certain)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import ApplicationFactory
from workflows.models import Application
from workflows.rehearsal import _deadlines

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("provisional", [True, False])
def test_a_provisional_deadline_is_reported_as_provisional(provisional):
    application = ApplicationFactory(status=Application.Status.LAPSED)
    Application.objects.filter(pk=application.pk).update(
        correction_deadline=timezone.now() + timedelta(days=30),
        correction_deadline_provisional=provisional,
    )
    application.refresh_from_db()
    (deadline,) = _deadlines(application)
    assert deadline["what"] == "补正期限"
    assert deadline["when"].endswith("（暂定）") is provisional

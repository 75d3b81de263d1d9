"""Background jobs of the decision stage, through Django's Tasks API (the `django-tasks`
backport). Development and tests run them at once (immediate backend); production runs
`manage.py db_worker`."""

from django.contrib.auth import get_user_model
from django_tasks import task

from ...models import Call
from .services import decision_issue


@task()
def decision_issue_job(*, user_id: int, call_id: int) -> int:
    """Issue a call's decision and every applicant's notice or certificate; returns the
    decision's pk."""
    user = get_user_model().objects.get(pk=user_id)
    call = Call.objects.get(pk=call_id)
    return decision_issue(user=user, call=call).pk

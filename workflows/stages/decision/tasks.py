"""Background jobs of the decision stage, through Django's Tasks API (the `django-tasks`
backport), run by `manage.py db_worker` or `manage.py rqworker` (README, More than one
machine)."""

from django.contrib.auth import get_user_model
from django_tasks import task

from ...models import Call
from .services import decision_issue_start


@task()
def decision_issue_job(*, user_id: int, call_id: int) -> int:
    """Prepare a call's decision and every applicant's notice or certificate, and fan them out
    to the worker processes as a batch (documents.batch); returns the batch's pk."""
    user = get_user_model().objects.get(pk=user_id)
    call = Call.objects.get(pk=call_id)
    return decision_issue_start(user=user, call=call).pk

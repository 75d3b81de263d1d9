"""Background jobs of the expert review stage (Django's Tasks API)."""

from django.contrib.auth import get_user_model
from django_tasks import task

from ...models import Call
from .services import round_close


@task()
def round_close_job(*, user_id: int, call_id: int, round_key: str) -> int:
    """Close an expert round of a call and fan the decisions of those who did not go on out to
    the worker processes (documents.batch); returns how many applications it ranked."""
    user = get_user_model().objects.get(pk=user_id)
    call = Call.objects.get(pk=call_id)
    return len(round_close(user=user, call=call, round_key=round_key, dispatch=True))

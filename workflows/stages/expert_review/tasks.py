"""Background jobs of the expert review stage (Django's Tasks API)."""

from django.contrib.auth import get_user_model
from django_tasks import task

from ...models import Call
from .services import round_close


@task()
def round_close_job(*, user_id: int, call_id: int, round_key: str) -> int:
    """Close an expert round of a call; returns how many applications it decided."""
    user = get_user_model().objects.get(pk=user_id)
    return len(round_close(user=user, call=Call.objects.get(pk=call_id), round_key=round_key))

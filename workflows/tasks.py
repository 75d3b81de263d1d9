"""The engine's background jobs (Django's Tasks API). Development and tests run them at once
(immediate backend); production runs `manage.py db_worker`."""

from pathlib import Path

from django.conf import settings
from django.utils import timezone
from django_tasks import task

from .models import ProgramRehearsal
from .rehearsal import rehearse_isolated


@task()
def program_rehearse_job(*, rehearsal_id: int, language: str | None = None) -> bool:
    """Rehearse the program file on a throw-away database and keep the report, written in the
    language of the person who asked for it."""
    rehearsal = ProgramRehearsal.objects.get(pk=rehearsal_id)
    path = Path(settings.PROGRAMS_DIR) / f"{rehearsal.program_slug}.toml"
    try:
        report = rehearse_isolated(path, language=language)
    except Exception as error:  # the page says so; the job does not die silently
        report = {"ok": False, "crashed": f"{type(error).__name__}: {error}", "branches": []}
    rehearsal.report = report
    rehearsal.ok = bool(report.get("ok"))
    rehearsal.sha256 = report.get("sha256", "")
    rehearsal.status = ProgramRehearsal.Status.FINISHED
    rehearsal.finished_at = timezone.now()
    rehearsal.save()
    return rehearsal.ok


@task()
def notifications_email_job(*, notification_ids: list[int]) -> int:
    """Email the messages just written (services.notifications.notify enqueues this after the
    transaction that wrote them commits); returns the number of emails sent."""
    from .services.notifications import notifications_email

    return notifications_email(notification_ids=notification_ids)

"""The audit trail and the one writer of an application's status."""

from django.utils import translation
from django.utils.translation import gettext as _

from ..models import Application, AuditRecord, Call


class IllegalTransition(Exception):
    """An application was asked to move to a status its current status does not allow."""


def official_text(message: str) -> str:
    """Text published on the public record stays Chinese, whatever language the officer uses."""
    with translation.override("zh-hans"):
        return _(message)


def audit_write(
    *,
    actor,
    action: str,
    application: Application | None = None,
    call: Call | None = None,
    from_status: str = "",
    to_status: str = "",
    reason: str = "",
    data: dict | None = None,
) -> AuditRecord:
    return AuditRecord.objects.create(
        application=application,
        # The call's id, never `application.call`: loading the call costs a query per record.
        call_id=call.pk if call is not None else (application.call_id if application else None),
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        from_status=from_status,
        to_status=to_status,
        reason=reason,
        data=data or {},
    )


def application_move(
    *,
    application: Application,
    to: str,
    actor,
    action: str,
    reason: str = "",
    also_saved: tuple[str, ...] = (),
) -> Application:
    """The only place an application's status changes; the allowed moves are data on the model.
    `also_saved`: other fields the step changed, saved in the same UPDATE."""
    source = application.status
    if to not in Application.TRANSITIONS.get(source, set()):
        raise IllegalTransition(f"{application.pk}: {source} -> {to}")
    application.status = to
    application.save(update_fields=["status", "updated_at", *also_saved])
    audit_write(
        actor=actor,
        action=action,
        application=application,
        from_status=source,
        to_status=to,
        reason=reason,
    )
    from .notifications import application_moved_notify

    application_moved_notify(application=application, to=to, reason=reason)
    return application

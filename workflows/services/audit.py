"""The audit trail and the one writer of an application's status."""

from contextlib import contextmanager
from contextvars import ContextVar

from django.db.models import Case, Value, When
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from .. import audit_chain
from ..models import Application, AuditRecord, Call
from ..wording import Phrase


class IllegalTransition(Exception):
    """An application was asked to move to a status its current status does not allow."""


def official_text(message: str | Phrase) -> str:
    """Text published on the public record stays Chinese, whatever language the officer uses."""
    with translation.override("zh-hans"):
        return str(message) if isinstance(message, Phrase) else _(message)


def audit_record(
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
    """An audit record not written yet (`audit_write_many` writes many in one INSERT)."""
    return AuditRecord(
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


# The records of a step written when it ends (`audit_deferred`), None outside one.
_deferred: ContextVar[list[AuditRecord] | None] = ContextVar("audit_deferred", default=None)


@contextmanager
def audit_deferred():
    """Keep the audit records written inside (`audit_write`, `audit_write_many`) and write
    them in one INSERT, in the order written, when the block ends without an error: a step
    that issues a document and moves its application writes both records together. Inside
    another such block, the outer one writes them."""
    if _deferred.get() is not None:
        yield
        return
    token = _deferred.set([])
    try:
        yield
        records = _deferred.get()
    finally:
        _deferred.reset(token)
    if records:
        audit_write_many(records)


def audit_write(**fields) -> AuditRecord:
    """Write one audit record (at the end of the step inside `audit_deferred`); `fields` as
    `audit_record` takes them."""
    record = audit_record(**fields)
    audit_write_many([record])
    return record


def audit_write_many(records: list[AuditRecord]) -> list[AuditRecord]:
    """Write `records` (from `audit_record`) in one INSERT, chained in the order given: each
    hashed here as `AuditRecord.save` hashes one, the database's trigger links them row by
    row (workflows.audit_chain). Inside `audit_deferred`, when the block ends."""
    pending = _deferred.get()
    if pending is not None:
        pending.extend(records)
        return records
    if len(records) == 1:
        records[0].save()
        return records
    for record in records:
        record.data = audit_chain.data_normalise(record.data)
        record.content_hash = audit_chain.record_content_hash(record)
    return AuditRecord.objects.bulk_create(records)


def application_move(
    *,
    application: Application,
    to: str,
    actor,
    action: str,
    reason: str | Phrase = "",
    also_saved: tuple[str, ...] = (),
) -> Application:
    """The only place an application's status changes; the allowed moves are data on the model.
    `also_saved`: other fields the step changed, saved in the same UPDATE. A reason the system
    writes is a `Phrase`: recorded in Chinese, its wording kept so that the audit trail reads it
    in the reader's language (`AuditRecord.reason_shown`)."""
    data = {}
    if isinstance(reason, Phrase):
        data = {"reason_wording": reason.stored()}
        reason = official_text(reason)
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
        data=data,
    )
    from .notifications import application_moved_notify

    application_moved_notify(application=application, to=to, reason=reason)
    return application


def _each_own(applications: list[Application], name: str):
    """An UPDATE's value of field `name` that gives each of `applications` its own (what
    `bulk_update` writes)."""
    field = Application._meta.get_field(name)
    values = [Value(getattr(a, field.attname), output_field=field) for a in applications]
    if len(set(getattr(a, field.attname) for a in applications)) == 1:
        return values[0]
    whens = [When(pk=a.pk, then=value) for a, value in zip(applications, values, strict=True)]
    return Case(*whens, output_field=field)


def applications_move(
    *,
    applications: list[Application],
    to: str,
    actor,
    action: str,
    audited: list[AuditRecord] = (),
    also_saved: tuple[str, ...] = (),
) -> list[Application]:
    """`application_move` for many applications at once (a batch's chunk), each allowed the
    move as one alone: their status in one UPDATE, their audit records in one INSERT after
    `audited` (other records of the same step), and whoever is told of the move told.
    `also_saved`: other fields the step set on each, saved in the same UPDATE (each row its
    own value)."""
    if not applications:
        return applications
    moves = []
    for application in applications:
        if to not in Application.TRANSITIONS.get(application.status, set()):
            raise IllegalTransition(f"{application.pk}: {application.status} -> {to}")
        moves.append(
            audit_record(
                actor=actor,
                action=action,
                application=application,
                from_status=application.status,
                to_status=to,
            )
        )
    now = timezone.now()
    values = {name: _each_own(applications, name) for name in also_saved}
    updated = Application.objects.filter(pk__in=[a.pk for a in applications]).update(
        status=to, updated_at=now, **values
    )
    if updated != len(applications):
        raise IllegalTransition(f"{len(applications) - updated} of the applications are gone")
    for application in applications:
        application.status, application.updated_at = to, now
    audit_write_many([*audited, *moves])
    from .notifications import STATUS_NEWS, application_moved_notify

    if to in STATUS_NEWS:
        for application in applications:
            application_moved_notify(application=application, to=to)
    return applications

"""What an application says, as pages show it: the program file's fields in the file's order with
the file's labels, each value written for a reader (¥ and two places, 2026年3月5日, 是/否, a
choice by its label, — when empty), the attachments under the file's attachment types, and what
changed since a correction was asked for. Every page that shows an application uses these, so no
page shows another program's columns."""

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from documents.rendering import chinese_date as official_date
from forms.fields import field_value_stored
from forms.validators import english_active, localised

from .programs import COLUMN_FIELDS

EMPTY = "—"


def field_raw(application, name: str):
    """The value of one of the program's fields, where the application keeps it."""
    if name in COLUMN_FIELDS:
        return getattr(application, name, None)
    return (application.extra or {}).get(name)


def fields_stored(application) -> dict:
    """{field name: value as stored in JSON} of every field of the application's program."""
    return {
        item["name"]: field_value_stored(field_raw(application, item["name"]))
        for item in application.program["fields"]
    }


def _date_of(value) -> date | None:
    """The office's date of a stored value (a date, a moment, ISO text); None for text that is
    not a date."""
    if isinstance(value, datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return value


def chinese_date(value) -> str:
    day = _date_of(value)
    return official_date(day) if day else value


def reader_date(value) -> str:
    """A date as the page's reader writes it: 2025年1月31日 in Chinese, Jan. 31, 2025 in English."""
    if not english_active():
        return chinese_date(value)
    day = _date_of(value)
    return date_format(day, "DATE_FORMAT") if day else value


def value_text(item: dict, value, program: dict) -> str:
    """How a reader sees the value of the field `item` of `program`."""
    kind = item["type"]
    if kind in ("declaration", "boolean"):
        return str(_("是")) if value in (True, "true", "True", "on", 1) else str(_("否"))
    if value is None or value == "":
        return EMPTY
    if kind == "tier":
        tier = next((t for t in program.get("tiers", []) if t["key"] == value), None)
        return localised(tier) if tier else str(value)
    if kind == "choice":
        option = next((o for o in item.get("options", []) if o["key"] == value), None)
        return localised(option) if option else str(value)
    if kind == "date":
        return reader_date(value)
    if kind in ("money", "decimal", "integer"):
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            return str(value)
        if kind == "money":
            return f"¥{number:,.2f}"
        return format(number.normalize(), ",f") if kind == "decimal" else f"{number:,.0f}"
    return str(value)


@dataclass
class FieldRow:
    name: str
    label: str
    text: str
    kind: str
    long: bool = False


def field_rows(application, *, leave_out=()) -> list[FieldRow]:
    """The program's fields in the file's order, labelled and written for a reader."""
    program = application.program
    return [
        FieldRow(
            name=item["name"],
            label=localised(item),
            text=value_text(item, field_raw(application, item["name"]), program),
            kind=item["type"],
            long=item["type"] == "textarea",
        )
        for item in program["fields"]
        if item["name"] not in leave_out
    ]


@dataclass
class AttachmentRow:
    kind: str
    label: str
    required: bool
    files: list = field(default_factory=list)


def attachment_rows(application, attachments=None) -> list[AttachmentRow]:
    """One row per attachment type of the program file, in its order, with the files uploaded
    for it (current versions); files of a type the file no longer lists come last."""
    if attachments is None:
        attachments = application.attachments.filter(superseded=False)
    by_kind: dict[str, list] = {}
    for attachment in attachments:
        by_kind.setdefault(attachment.kind, []).append(attachment)
    rows = [
        AttachmentRow(
            kind=item["key"],
            label=localised(item),
            required=item.get("required", True),
            files=by_kind.pop(item["key"], []),
        )
        for item in application.program["attachments"]
    ]
    rows += [
        AttachmentRow(kind=kind, label=kind, required=False, files=files)
        for kind, files in by_kind.items()
    ]
    return rows


@dataclass
class Change:
    label: str
    before: str
    after: str


def correction_changes(application) -> dict | None:
    """What the applicant changed since the last correction was asked for: fields (old → new)
    and attachments uploaded since. None when no correction was ever asked for."""
    if application.correction_started_at is None:
        return None
    snapshot = application.correction_snapshot or {}
    before = snapshot.get("fields")
    program = application.program
    changed = []
    if before is not None:
        now = fields_stored(application)
        for item in program["fields"]:
            name = item["name"]
            if before.get(name) != now.get(name):
                changed.append(
                    Change(
                        label=localised(item),
                        before=value_text(item, before.get(name), program),
                        after=value_text(item, now.get(name), program),
                    )
                )
    labels = {item["key"]: localised(item) for item in program["attachments"]}
    uploaded = [
        (labels.get(a.kind, a.kind), a)
        for a in application.attachments.filter(
            uploaded_at__gte=application.correction_started_at
        ).order_by("uploaded_at")
    ]
    return {
        "reason": application.correction_reason,
        "deadline": application.correction_deadline,
        "started_at": application.correction_started_at,
        "fields_known": before is not None,
        "fields": changed,
        "attachments": uploaded,
    }

"""Stored files nothing refers to. An upload is stored before its row is written; when the
transaction that writes the row rolls back (a check that failed after the upload, a crash, an
outer step that failed), the file stays behind with no row naming it. `orphaned_files_remove`
(`manage.py files_orphaned_remove`, cron daily) finds such files in the folders the app stores
into and removes those old enough that no transaction can still be about to record them."""

from datetime import datetime, timedelta

from django.core.files.storage import default_storage
from django.utils import timezone

from documents.models import Document

from ..models import Attachment, Objection

# Each folder the app stores into, and the file fields that name what is in it.
STORED = {
    "attachments": [(Attachment, "file")],
    "objections": [(Objection, "evidence")],
    "documents": [(Document, "file")],
}
# A file younger than this may belong to a transaction still running (a batch's worker stores
# the PDF, then records it under a lease of 30 s).
GRACE = timedelta(hours=1)


def orphaned_files(*, now: datetime | None = None) -> list[str]:
    """The names of the stored files that no row names, stored more than GRACE before `now`."""
    before = (now or timezone.now()) - GRACE
    orphans = []
    for folder, fields in STORED.items():
        named = set()
        for model, field in fields:
            named.update(
                model.objects.filter(**{f"{field}__startswith": f"{folder}/"}).values_list(
                    field, flat=True
                )
            )
        for name in _files_under(folder):
            if name not in named and default_storage.get_modified_time(name) < before:
                orphans.append(name)
    return orphans


def orphaned_files_remove(*, now: datetime | None = None, dry_run: bool = False) -> list[str]:
    """Remove (unless `dry_run`) the files `orphaned_files` finds; their names."""
    orphans = orphaned_files(now=now)
    if not dry_run:
        for name in orphans:
            default_storage.delete(name)
    return orphans


def _files_under(folder: str):
    if not default_storage.exists(folder):
        return
    directories, files = default_storage.listdir(folder)
    for name in files:
        yield f"{folder}/{name}"
    for directory in directories:
        yield from _files_under(f"{folder}/{directory}")

"""Issuing official documents: number, render, store once, record.

`document_issue` is the only writer of `Document`. A document is issued once per (kind,
application), or per (kind, call) for a batch document: asking again returns the first one
unchanged, so a retried workflow step never produces a second version or burns a number.
"""

import hashlib
import uuid

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import Document
from .numbering import document_number_next
from .rendering import OFFICIAL_TIME_ZONE, render_pdf


def document_issue(
    *,
    kind: str,
    call,
    application=None,
    institution=None,
    issued_by=None,
    title: str,
    context: dict,
    numbered: bool = True,
    issuer_code: str,
) -> Document:
    """Issue the document `kind` for `application` (or for `call` when it is a batch document).

    Adds `title`, `number` ("" when not `numbered`) and `issued_on` (today in Beijing) to
    `context`, renders documents/<kind>.html, stores the PDF under a new name and records its
    SHA-256. Numbering, storing and recording happen in one transaction: if any step fails the
    number is given back and the stored file removed.
    """
    if kind not in Document.Kind.values:
        raise ValueError(f"Unknown document kind {kind!r}.")
    issued = _issued_document(kind=kind, call=call, application=application)
    if issued is not None:
        return issued

    issued_at = timezone.now()
    local = issued_at.astimezone(OFFICIAL_TIME_ZONE)
    stored_name = None
    try:
        with transaction.atomic():
            number = (
                document_number_next(issuer_code=issuer_code, year=local.year) if numbered else ""
            )
            pdf = render_pdf(
                f"documents/{kind}.html",
                {**context, "title": title, "number": number, "issued_on": local.date()},
            )
            # A fresh name per document: storage never overwrites an issued file.
            stored_name = default_storage.save(
                f"documents/{local:%Y}/{local:%m}/{kind}-{uuid.uuid4().hex}.pdf",
                ContentFile(pdf),
            )
            return Document.objects.create(
                kind=kind,
                title=title,
                number=number,
                application=application,
                call=call,
                institution=institution,
                file=stored_name,
                sha256=hashlib.sha256(pdf).hexdigest(),
                size=len(pdf),
                issued_by=issued_by,
                issued_at=issued_at,
            )
    except IntegrityError:
        # A concurrent request issued the same document first; ours was rolled back.
        _discard(stored_name)
        issued = _issued_document(kind=kind, call=call, application=application)
        if issued is None:
            raise
        return issued
    except BaseException:
        _discard(stored_name)
        raise


def _issued_document(*, kind: str, call, application) -> Document | None:
    if application is not None:
        return Document.objects.filter(kind=kind, application=application).first()
    return Document.objects.filter(kind=kind, call=call, application__isnull=True).first()


def _discard(stored_name: str | None) -> None:
    """Remove a file stored for a document that was not recorded."""
    if stored_name is not None:
        default_storage.delete(stored_name)

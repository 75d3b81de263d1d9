"""Document numbers (发文字号) per GB/T 9704: issuer code, full year in 〔〕, sequence, 号.

One sequence per issuer code and year, kept in `DocumentSequence`. The row is locked while a number
is taken, so concurrent issuers queue and no number is handed out twice; a transaction that rolls
back after taking a number gives it back.
"""

from django.db import IntegrityError, transaction

from .models import DocumentSequence


def document_number_next(*, issuer_code: str, year: int) -> str:
    """Take the next number of `issuer_code` in `year`, e.g. "黔市监知〔2026〕12号"."""
    return document_numbers_next(issuer_code=issuer_code, year=year, count=1)[0]


def document_numbers_next(*, issuer_code: str, year: int, count: int) -> list[str]:
    """Take the next `count` consecutive numbers of `issuer_code` in `year` at once (a batch's
    reservations: one lock, one update)."""
    if not issuer_code.strip():
        raise ValueError("A document number needs an issuer code.")
    if not 1000 <= year <= 9999:
        raise ValueError(f"Year {year} is not a four-digit year.")
    sequences = DocumentSequence.objects.select_for_update()
    # No savepoint: nothing here rolls back and carries on (a failure rolls back the caller's
    # whole transaction, giving the number back); it opens the transaction when called outside
    # one, for the row lock.
    with transaction.atomic(savepoint=False):
        try:
            sequence = sequences.get(issuer_code=issuer_code, year=year)
        except DocumentSequence.DoesNotExist:
            try:
                # A savepoint that guards the retry below: a concurrent first number of the
                # year may create the row before us.
                with transaction.atomic():
                    DocumentSequence.objects.create(issuer_code=issuer_code, year=year)
            except IntegrityError:
                pass  # created by the other transaction; lock that row below
            sequence = sequences.get(issuer_code=issuer_code, year=year)
        first = sequence.last_number + 1
        sequence.last_number += count
        sequence.save(update_fields=["last_number"])
    return [f"{issuer_code}〔{year}〕{n}号" for n in range(first, first + count)]

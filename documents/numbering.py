"""Document numbers (发文字号) per GB/T 9704: issuer code, full year in 〔〕, sequence, 号.

One sequence per issuer code and year, kept in `DocumentSequence`. A number is taken by one UPDATE
that locks the row until the transaction ends, so concurrent issuers queue and no number is
handed out twice; a transaction that rolls back after taking a number gives it back.
"""

from django.db import IntegrityError, connection, transaction

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
    # No savepoint: nothing here rolls back and carries on (a failure rolls back the caller's
    # whole transaction, giving the number back); it opens the transaction when called outside
    # one, for the row lock.
    with transaction.atomic(savepoint=False):
        last = _sequence_advance(issuer_code, year, count)
        if last is None:  # the year's first number
            try:
                # A savepoint that guards the retry below: a concurrent first number of the
                # year may create the row before us.
                with transaction.atomic():
                    DocumentSequence.objects.create(
                        issuer_code=issuer_code, year=year, last_number=count
                    )
                last = count
            except IntegrityError:
                last = _sequence_advance(issuer_code, year, count)  # created by the other one
    first = last - count + 1
    return [f"{issuer_code}〔{year}〕{n}号" for n in range(first, first + count)]


def _sequence_advance(issuer_code: str, year: int, count: int) -> int | None:
    """Add `count` to the sequence's last number in one statement, which locks the row to the
    end of the transaction (a concurrent issuer's UPDATE waits, then adds to what we wrote);
    the new last number, or None when the year has no sequence yet."""
    table = connection.ops.quote_name(DocumentSequence._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET last_number = last_number + %s "
            "WHERE issuer_code = %s AND year = %s RETURNING last_number",
            [count, issuer_code, year],
        )
        row = cursor.fetchone()
    return row[0] if row else None

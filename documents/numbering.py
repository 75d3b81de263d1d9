"""Document numbers (发文字号) per GB/T 9704: issuer code, full year in 〔〕, sequence, 号.

One sequence per issuer code and year, kept in `DocumentSequence`. The row is locked while a number
is taken (by the one upsert that takes it), so concurrent issuers queue and no number is handed
out twice; a transaction that rolls back after taking a number gives it back.
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
    if _upsert_returns():
        last = _sequence_advanced(issuer_code=issuer_code, year=year, count=count)
    else:
        last = _sequence_advanced_locked(issuer_code=issuer_code, year=year, count=count)
    return [f"{issuer_code}〔{year}〕{n}号" for n in range(last - count + 1, last + 1)]


def _upsert_returns() -> bool:
    """Whether the database returns rows from an upsert (PostgreSQL; SQLite from 3.35, which
    Django's own inserts use RETURNING for too)."""
    return connection.features.can_return_columns_from_insert


def _sequence_advanced(*, issuer_code: str, year: int, count: int) -> int:
    """The sequence created at `count` or moved on by `count`, in one statement (an upsert that
    returns the new last number: PostgreSQL, SQLite 3.35+). It holds the row's lock (SQLite:
    the database's write lock) until the caller's transaction ends."""
    table = connection.ops.quote_name(DocumentSequence._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (issuer_code, year, last_number) VALUES (%s, %s, %s)"
            " ON CONFLICT (issuer_code, year)"
            f" DO UPDATE SET last_number = {table}.last_number + excluded.last_number"
            " RETURNING last_number",
            [issuer_code, year, count],
        )
        return cursor.fetchone()[0]


def _sequence_advanced_locked(*, issuer_code: str, year: int, count: int) -> int:
    """`_sequence_advanced` for a database that cannot return from an upsert: lock the row,
    creating it first if this is the year's first number."""
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
        sequence.last_number += count
        sequence.save(update_fields=["last_number"])
    return sequence.last_number

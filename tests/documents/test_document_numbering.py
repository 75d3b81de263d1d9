"""Document numbers: one gap-free sequence per issuer code and year."""

import threading

import pytest
from django.db import connection, transaction

from documents import numbering
from documents.models import DocumentSequence
from documents.numbering import document_number_next


@pytest.fixture(params=["upsert", "row lock"])
def numbering_way(request, monkeypatch):
    """Both ways of taking a number: the one upsert returning it (PostgreSQL, SQLite 3.35+) and
    the locked read and update of a database that cannot return from an upsert."""
    if request.param == "row lock":
        # The module's switch: every thread takes the same way.
        monkeypatch.setattr(numbering, "_upsert_returns", lambda: False)
    return request.param


def test_numbers_count_up_per_issuer_and_year(db, numbering_way):
    taken = [
        document_number_next(issuer_code="黔市监知", year=2026),
        document_number_next(issuer_code="黔市监知", year=2026),
        document_number_next(issuer_code="黔财教", year=2026),
        document_number_next(issuer_code="黔市监知", year=2027),
        document_number_next(issuer_code="黔市监知", year=2026),
    ]

    assert taken == [
        "黔市监知〔2026〕1号",
        "黔市监知〔2026〕2号",
        "黔财教〔2026〕1号",
        "黔市监知〔2027〕1号",
        "黔市监知〔2026〕3号",
    ]
    assert DocumentSequence.objects.count() == 3


def test_a_rolled_back_transaction_gives_its_number_back(db, numbering_way):
    document_number_next(issuer_code="黔市监知", year=2026)
    with pytest.raises(RuntimeError), transaction.atomic():
        document_number_next(issuer_code="黔市监知", year=2026)
        raise RuntimeError("rendering failed")

    assert document_number_next(issuer_code="黔市监知", year=2026) == "黔市监知〔2026〕2号"


@pytest.mark.parametrize(("issuer_code", "year"), [("", 2026), ("  ", 2026), ("黔市监知", 26)])
def test_refuses_numbers_that_gb_t_9704_does_not_allow(db, issuer_code, year):
    with pytest.raises(ValueError):
        document_number_next(issuer_code=issuer_code, year=year)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_issuers_never_share_a_number(numbering_way):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL row locks")
    taken = []
    start = threading.Barrier(8)

    def take():
        start.wait()
        try:
            for _ in range(5):
                taken.append(document_number_next(issuer_code="黔市监知", year=2026))
        finally:
            connection.close()

    threads = [threading.Thread(target=take) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(taken) == sorted(f"黔市监知〔2026〕{n}号" for n in range(1, 41))

"""document_issue: numbered and recorded at once, rendered and stored once with its SHA-256 by a
background job, and issued only once."""

import hashlib
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from documents.models import Document, DocumentSequence
from documents.rendering import OFFICIAL_TIME_ZONE
from documents.services import document_issue
from tests.documents.contexts import CONTEXTS
from tests.documents.pdfs import compact, document_pdf, pdf_text
from tests.factories import CallFactory
from tests.tasks_support import tasks_run
from workflows import services as workflow_services

ISSUER_CODE = "黔市监知"


@pytest.fixture(autouse=True)
def media_root(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def application(applicant, call, institution):
    return workflow_services.application_create(
        user=applicant,
        call=call,
        institution=institution,
        data={
            "tier": "national",
            "approval_number": "国科火字〔2025〕88号",
            "approval_date": call.designation_from + timedelta(days=30),
            "bank_name": "中国工商银行贵阳分行",
            "account_name": institution.name,
            "bank_account": "2402000109200012345",
            "contact_name": "张敏",
            "contact_phone": "0851-85550000",
        },
    )


def issue(kind, *, call, application=None, title=None, numbered=True, context=None, user=None):
    return document_issue(
        kind=kind,
        call=call,
        application=application,
        institution=application.institution if application else None,
        issued_by=user,
        title=title or Document.Kind(kind).label,
        context=context or CONTEXTS[kind](),
        numbered=numbered,
        issuer_code=ISSUER_CODE,
    )


def stored_files(media_root) -> list:
    return sorted(path for path in media_root.rglob("*") if path.is_file())


def stored_pdf(document: Document) -> bytes:
    return document_pdf(document)


def beijing_year() -> int:
    return timezone.now().astimezone(OFFICIAL_TIME_ZONE).year


def test_issues_a_numbered_document_and_records_its_hash(application, formal_reviewer):
    document = issue(
        "acceptance_notice", call=application.call, application=application, user=formal_reviewer
    )

    year = beijing_year()
    assert document.number == f"{ISSUER_CODE}〔{year}〕1号"
    # Recorded at once; the PDF is the background job's.
    assert document.is_pending and document.file.name == "" and document.size is None
    pdf = stored_pdf(document)
    assert re.fullmatch(
        rf"documents/{year}/\d\d/acceptance_notice-[0-9a-f]{{32}}\.pdf", document.file.name
    )
    assert document.sha256 == hashlib.sha256(pdf).hexdigest()
    assert document.size == len(pdf)
    assert document.issued_by == formal_reviewer
    assert document.institution == application.institution
    text = compact(pdf_text(pdf))
    assert document.number in text
    assert "受理通知书" in text


def test_asking_again_returns_the_first_document_unchanged(application, media_root):
    first = issue("acceptance_notice", call=application.call, application=application)

    again = issue(
        "acceptance_notice", call=application.call, application=application, title="另一个标题"
    )

    assert again.pk == first.pk
    assert again.title == "受理通知书"
    assert Document.objects.count() == 1
    tasks_run()
    assert len(stored_files(media_root)) == 1
    assert DocumentSequence.objects.get(issuer_code=ISSUER_CODE).last_number == 1


def test_batch_document_is_issued_once_per_call(call, media_root):
    first = issue("funding_decision", call=call)
    again = issue("funding_decision", call=call)
    other = issue("funding_decision", call=CallFactory())

    assert again.pk == first.pk
    assert first.application is None
    assert first.number == f"{ISSUER_CODE}〔{beijing_year()}〕1号"
    assert other.number == f"{ISSUER_CODE}〔{beijing_year()}〕2号"
    tasks_run()
    assert len(stored_files(media_root)) == 2


def test_unnumbered_document_takes_no_number(application):
    document = issue("award_letter", call=application.call, application=application, numbered=False)

    assert document.number == ""
    assert not DocumentSequence.objects.exists()
    assert f"{ISSUER_CODE}〔" not in compact(pdf_text(stored_pdf(document)))


def test_a_failed_render_leaves_the_document_pending_with_its_number_and_no_file(
    application, media_root, caplog
):
    context = {**CONTEXTS["award_letter"](), "amount": 1000000.0}  # a float, not a Decimal
    document = issue(
        "award_letter", call=application.call, application=application, context=context
    )

    (job,) = tasks_run()

    assert job.status == "FAILED"
    assert "could not be rendered" in caplog.text and str(document.pk) in caplog.text
    document.refresh_from_db()
    assert document.is_pending and document.file.name == ""
    assert document.number == f"{ISSUER_CODE}〔{beijing_year()}〕1号"
    assert stored_files(media_root) == []
    # The number stays taken: the next document gets the next one.
    other = issue("acceptance_notice", call=application.call, application=application)
    assert other.number == f"{ISSUER_CODE}〔{beijing_year()}〕2号"


def test_losing_a_race_returns_the_winner_and_discards_its_own_file(application, media_root):
    winner = issue("acceptance_notice", call=application.call, application=application)
    # A second issue does not look first: like a request that raced the first one, it takes a
    # number, loses at the database's constraint, and gives the number back.
    loser = issue("acceptance_notice", call=application.call, application=application)

    assert loser.pk == winner.pk
    tasks_run()
    winner.refresh_from_db()
    assert stored_files(media_root) == [media_root / winner.file.name]
    assert DocumentSequence.objects.get(issuer_code=ISSUER_CODE).last_number == 1
    assert Document.objects.filter(kind="acceptance_notice").count() == 1


def test_number_year_and_date_are_taken_in_beijing_time(application, monkeypatch):
    # 16:30 UTC on New Year's Eve is already 1 January in Guiyang.
    monkeypatch.setattr(timezone, "now", lambda: datetime(2026, 12, 31, 16, 30, tzinfo=UTC))

    document = issue("acceptance_notice", call=application.call, application=application)

    assert document.number == f"{ISSUER_CODE}〔2027〕1号"
    text = compact(pdf_text(stored_pdf(document)))
    assert document.file.name.startswith("documents/2027/01/")
    assert "2027年1月1日" in text


def test_unknown_kind_is_refused(call):
    with pytest.raises(ValueError):
        document_issue(
            kind="membership_card",
            call=call,
            title="证书",
            context={"total": Decimal("0")},
            issuer_code=ISSUER_CODE,
        )

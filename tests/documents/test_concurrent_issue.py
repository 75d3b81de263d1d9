"""Several staff issuing documents at once, on PostgreSQL (threads with their own connections):
numbers stay unique and gapless, and a batch shows its progress while it runs."""

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from documents import batch as document_batch
from documents import services as document_services
from documents.models import Document
from tests.concurrency import POSTGRES_ONLY, race
from workflows import demo
from workflows.stages.decision.services import decision_issue
from workflows.stages.formal_review.services import formal_review_complete

pytestmark = POSTGRES_ONLY


def call_awaiting_decision(cast, count: int, first_serial: int):
    call, _applications = demo.call_awaiting_decision(
        cast=cast, count=count, first_serial=first_serial, title=f"并发印发测试{first_serial}"
    )
    return call


def test_reviewers_and_a_batch_issuing_at_once_get_unique_gapless_numbers(monkeypatch):
    """Five reviewers accept applications (each an acceptance notice) while a decision batch
    runs, and one reviewer's acceptance fails after its notice was numbered: every number under
    the issuer's code is used exactly once, from 1 without a gap."""
    cast = demo.cast_make()
    batch_call = call_awaiting_decision(cast, 3, 800)
    review_call = demo.call_make(title="并发受理测试")
    submitted = [
        demo.application_submitted(cast=cast, call=review_call, serial=900 + i) for i in range(6)
    ]
    failing = submitted[-1]
    real_record = document_services.document_record

    def record_or_fail(*, prepared, reservation=None):
        if prepared.application == failing:  # numbered, then the request fails
            raise RuntimeError("disk full")
        return real_record(prepared=prepared, reservation=reservation)

    monkeypatch.setattr(document_services, "document_record", record_or_fail)

    def accept(application):
        return lambda: formal_review_complete(
            user=cast.formal_reviewer, application=application, outcome="accept"
        )

    results = race(
        lambda: decision_issue(user=cast.notice_officer, call=batch_call),
        *(accept(application) for application in submitted),
    )
    assert isinstance(results[-1], RuntimeError)
    assert not any(isinstance(result, Exception) for result in results[:-1]), results

    year = timezone.localdate().year
    numbers = Document.objects.filter(number__startswith="黔市监知〔").values_list(
        "number", flat=True
    )
    sequence = sorted(int(re.fullmatch(rf"黔市监知〔{year}〕(\d+)号", n)[1]) for n in numbers)
    # 3 + 5 acceptance notices, the decision, 3 decision notices.
    assert sequence == list(range(1, 13))
    assert not Document.objects.filter(application=failing).exists()


def test_the_progress_page_shows_documents_as_they_are_issued():
    """While the batch runs, another request (its own connection) already sees the documents
    issued so far: the batch is stored a chunk (`BATCH_CHUNK`) at a time, so a call of more
    applicants than a chunk is seen part-way."""
    count = settings.BATCH_CHUNK + 2
    cast = demo.cast_make()
    call = call_awaiting_decision(cast, count, 700)
    seen = []

    def look(progress):
        def page():
            client = Client()
            client.force_login(cast.notice_officer)
            url = reverse("documents:batch_progress", args=[call.pk])
            return client.get(url).content.decode()

        if 0 < progress.done < progress.total and not seen:
            seen.append((progress.done, *race(page)))

    with document_batch.progress_observed(look):
        decision_issue(user=cast.notice_officer, call=call)
    ((done, shown),) = seen
    assert f"已印发 {done} / {count}" in shown


def test_two_officers_pressing_issue_at_once_start_one_batch():
    """One batch runs; the other officer is told it is running (or, if it already finished,
    that nothing is left to decide). Every applicant has one notice."""
    cast = demo.cast_make()
    call = call_awaiting_decision(cast, 3, 600)
    first, second = race(
        lambda: decision_issue(user=cast.notice_officer, call=call),
        lambda: decision_issue(user=cast.notice_officer, call=call),
    )
    outcomes = sorted([first, second], key=lambda r: isinstance(r, Exception))
    assert isinstance(outcomes[0], Document), outcomes
    assert isinstance(outcomes[1], ValidationError), outcomes
    assert outcomes[1].code in {"batch_running", "nothing_to_decide"}
    for application in call.applications.all():
        assert application.documents.filter(kind="decision_notice").count() == 1

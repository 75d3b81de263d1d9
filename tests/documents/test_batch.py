"""Batch issue of the per-applicant documents: progress, a failed document, reruns, worker pool."""

import io
import os
import signal
from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from documents import batch as document_batch
from documents import services as document_services
from documents.models import Document, DocumentReservation, IssueBatch
from tests.documents.pdfs import compact, pdf_text
from workflows import demo, services
from workflows.models import Application
from workflows.stages.decision import services as decision_services
from workflows.stages.decision.services import decision_issue

pytestmark = pytest.mark.django_db


def call_awaiting_decision(count: int):
    """A new cast and a call whose `count` applications await the decision: (cast, call, apps)."""
    cast = demo.cast_make()
    call, applications = demo.call_awaiting_decision(
        cast=cast, count=count, first_serial=500, title="批量印发测试"
    )
    return cast, call, applications


def notices_of(application):
    return Document.objects.filter(application=application, kind=Document.Kind.DECISION_NOTICE)


def test_every_applicant_gets_one_notice_and_the_batch_shows_it():
    cast, call, applications = call_awaiting_decision(3)
    events = []
    with document_batch.progress_observed(events.append):
        decision_issue(user=cast.notice_officer, call=call)
    batch = IssueBatch.objects.get(call=call)
    assert (batch.status, batch.done, batch.failed, batch.total) == ("finished", 3, 0, 3)
    assert batch.finished_at is not None
    assert events[-1].done == 3
    for application in applications:
        application.refresh_from_db()
        assert application.status == Application.Status.DECIDED
        assert notices_of(application).count() == 1


def numbers_of(call) -> list[int]:
    """The sequence numbers of the call's documents under the issuer's code, sorted."""
    return sorted(
        int(number.partition("〕")[2].removesuffix("号"))
        for number in Document.objects.filter(
            call=call, number__startswith="黔市监知〔"
        ).values_list("number", flat=True)
    )


@pytest.mark.parametrize("failing", ["render", "record"])
def test_a_failed_document_is_reported_and_a_rerun_issues_it_under_its_reserved_number(
    monkeypatch, failing
):
    """A document that cannot be rendered, or whose recording fails, is listed with the
    recipient's name; the others are issued. Its number stays reserved, and the rerun issues
    that document alone, under that number: the call's numbers have no gap."""
    cast, call, applications = call_awaiting_decision(3)
    broken = applications[1]
    real_render = document_services.document_render
    real_move = services.application_move

    def render_or_fail(template_name, context):
        if context.get("application", {}).get("institution_name") == broken.institution.name:
            raise RuntimeError("font missing")
        return real_render(template_name, context)

    def move_or_fail(*, application, **kwargs):
        if application.pk == broken.pk:
            raise RuntimeError("flow task missing")
        return real_move(application=application, **kwargs)

    if failing == "render":
        monkeypatch.setattr(document_services, "document_render", render_or_fail)
    else:
        monkeypatch.setattr(decision_services, "application_move", move_or_fail)
    decision_issue(user=cast.notice_officer, call=call)
    batch = IssueBatch.objects.get(call=call)
    assert (batch.done, batch.failed, batch.status) == (2, 1, "finished")
    (error,) = batch.errors
    assert error["key"] == broken.institution.name
    assert ("font missing" if failing == "render" else "flow task missing") in error["error"]
    broken.refresh_from_db()
    assert broken.status == Application.Status.NOTICE_CLOSED
    assert not notices_of(broken).exists()
    first_numbers = {
        a.pk: list(notices_of(a).values_list("number", flat=True)) for a in applications
    }

    monkeypatch.undo()
    decision_issue(user=cast.notice_officer, call=call)
    for application in applications:
        application.refresh_from_db()
        assert application.status == Application.Status.DECIDED
        assert notices_of(application).count() == 1
    assert (
        list(notices_of(applications[0]).values_list("number", flat=True))
        == first_numbers[applications[0].pk]
    )
    assert notices_of(broken).get().number == error["reserved_number"]
    assert Document.objects.filter(call=call, application__isnull=True).count() == 1
    assert IssueBatch.objects.filter(call=call).latest("pk").done == 1
    numbers = numbers_of(call)
    assert numbers == list(range(numbers[0], numbers[0] + len(numbers)))


def test_a_decision_that_fails_stores_no_notice_and_the_rerun_keeps_its_number(monkeypatch):
    """The notices print the decision's number, so none is issued before the decision is: a
    decision that cannot be rendered stops the batch, and the rerun issues the decision and the
    notices under the numbers reserved the first time."""
    cast, call, applications = call_awaiting_decision(2)
    real_render = document_services.document_render

    def render_or_fail(template_name, context):
        if template_name == "documents/funding_decision.html":
            raise RuntimeError("table too wide")
        return real_render(template_name, context)

    monkeypatch.setattr(document_services, "document_render", render_or_fail)
    with pytest.raises(RuntimeError, match="table too wide"):
        decision_issue(user=cast.notice_officer, call=call)
    assert IssueBatch.objects.get(call=call).status == "failed"
    assert not Document.objects.filter(call=call, kind__in=["funding_decision", "decision_notice"])
    reserved = {
        (r.application_id or "decision"): r.number
        for r in DocumentReservation.objects.filter(call=call)
    }
    assert set(reserved) == {"decision", *(a.pk for a in applications)}
    assert all(
        a.status == Application.Status.NOTICE_CLOSED for a in Application.objects.filter(call=call)
    )

    monkeypatch.undo()
    decision = decision_issue(user=cast.notice_officer, call=call)
    assert decision.number == reserved["decision"]
    for application in applications:
        notice = notices_of(application).get()
        assert notice.number == reserved[application.pk]
        assert decision.number in compact(pdf_text(notice.file.read()))
    assert not DocumentReservation.objects.filter(call=call).exists()


def test_a_running_batch_is_not_started_twice_but_one_that_stopped_reporting_is(client):
    """Pressing "issue" while the call's batch runs leads to its progress page; a batch whose
    process died (no progress for ten minutes) no longer blocks the call."""
    cast, call, applications = call_awaiting_decision(2)
    running = IssueBatch.objects.create(
        call=call,
        kind="decision_notice",
        status="running",
        started_at=timezone.now(),
        updated_at=timezone.now(),
    )
    client.force_login(cast.notice_officer)
    response = client.post(
        reverse("call_manage", args=[call.pk]), {"action": "decide", "confirm": "1"}
    )
    assert response.url == reverse("documents:batch_progress", args=[call.pk])
    shown = [str(m) for m in get_messages(response.wsgi_request)]
    assert shown == ["该批次的决定正在印发中，请查看印发进度。"]
    assert not notices_of(applications[0]).exists()

    IssueBatch.objects.filter(pk=running.pk).update(
        updated_at=timezone.now() - timedelta(minutes=11)
    )
    response = client.post(
        reverse("call_manage", args=[call.pk]), {"action": "decide", "confirm": "1"}
    )
    assert all(notices_of(a).count() == 1 for a in applications)
    running.refresh_from_db()
    assert running.status == "failed"
    assert IssueBatch.objects.filter(call=call).latest("pk").status == "finished"


@override_settings(DOCUMENT_WORKERS=2, DOCUMENT_POOL_MIN=1)
def test_worker_processes_render_the_documents():
    cast, call, applications = call_awaiting_decision(3)
    events = []
    with document_batch.progress_observed(events.append):
        decision_issue(user=cast.notice_officer, call=call)
    rendered = [event.rendered for event in events if event.rendered]
    assert len(rendered) == 3
    assert all(r.pid != os.getpid() for r in rendered)
    for application in applications:
        document = notices_of(application).get()
        assert document.file.read().startswith(b"%PDF")


@override_settings(DOCUMENT_WORKERS=2, DOCUMENT_POOL_MIN=1, DOCUMENT_WORKER_TASKS=2)
def test_workers_are_replaced_after_their_quota_and_the_batch_finishes():
    """Seven documents, two workers, two documents per worker: fresh workers take over (on
    Python 3.11 a pool with max_tasks_per_child hangs here, CPython gh-115634)."""
    cast, call, applications = call_awaiting_decision(7)
    events = []

    def too_long(signum, frame):
        raise TimeoutError("the batch hung")

    previous = signal.signal(signal.SIGALRM, too_long)
    signal.alarm(240)
    try:
        with document_batch.progress_observed(events.append):
            decision_issue(user=cast.notice_officer, call=call)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    rendered = [event.rendered for event in events if event.rendered]
    assert len(rendered) == 7
    assert len({r.pid for r in rendered}) >= 3  # at least one worker was replaced
    assert all(notices_of(a).count() == 1 for a in applications)


def test_progress_page_is_for_staff_and_404_for_an_unknown_call(client):
    cast, call, _applications = call_awaiting_decision(2)
    url = reverse("documents:batch_progress", args=[call.pk])
    client.force_login(cast.notice_officer)
    waiting = client.get(url)
    assert waiting.status_code == 200
    assert 'http-equiv="refresh" content="2"' in waiting.content.decode()

    decision_issue(user=cast.notice_officer, call=call)
    finished = client.get(url).content.decode()
    assert "已印发 2 / 2" in finished
    assert 'http-equiv="refresh"' not in finished
    assert client.get(reverse("documents:batch_progress", args=[call.pk + 999])).status_code == 404
    client.force_login(cast.applicant)
    assert client.get(url).status_code == 403


def test_management_command_issues_the_batch():
    cast, call, applications = call_awaiting_decision(2)
    out, err = io.StringIO(), io.StringIO()
    call_command("issue_batch", call.pk, user=cast.notice_officer.username, stdout=out, stderr=err)
    assert "2/2 issued, 0 failed" in out.getvalue()
    assert all(notices_of(a).count() == 1 for a in applications)

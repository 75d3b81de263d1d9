"""Batch issue of the per-applicant documents: progress, a failed document, reruns, worker pool."""

import io
import os

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse

from documents import batch as document_batch
from documents.models import Document, IssueBatch
from workflows import demo, services
from workflows.models import Application

pytestmark = pytest.mark.django_db


def call_awaiting_decision(count: int):
    """A call whose `count` applications went through their notice period: (cast, call, apps)."""
    cast = demo.cast_make()
    call = demo.call_make(title="批量印发测试")
    applications = [
        demo.application_submitted(cast=cast, call=call, serial=500 + i) for i in range(count)
    ]
    for application in applications:
        services.formal_review_complete(
            user=cast.formal_reviewer, application=application, outcome="accept"
        )
    services.leadership_decide(
        user=cast.leadership, decisions=[(a, True, "") for a in applications]
    )
    services.public_notice_publish(user=cast.notice_officer, call=call)
    demo.notice_expire(call)
    return cast, call, applications


def notices_of(application):
    return Document.objects.filter(application=application, kind=Document.Kind.DECISION_NOTICE)


def test_every_applicant_gets_one_notice_and_the_batch_shows_it():
    cast, call, applications = call_awaiting_decision(3)
    events = []
    with document_batch.progress_observed(events.append):
        services.decision_issue(user=cast.notice_officer, call=call)
    batch = IssueBatch.objects.get(call=call)
    assert (batch.status, batch.done, batch.failed, batch.total) == ("finished", 3, 0, 3)
    assert batch.finished_at is not None
    assert events[-1].done == 3
    for application in applications:
        application.refresh_from_db()
        assert application.status == Application.Status.DECIDED
        assert notices_of(application).count() == 1


def test_a_failed_document_is_reported_and_a_rerun_issues_only_that_one(monkeypatch):
    cast, call, applications = call_awaiting_decision(3)
    broken = applications[1]
    real_render = document_batch.render_pdf

    def render_or_fail(template_name, context):
        if context["application"]["institution_name"] == broken.institution.name:
            raise RuntimeError("font missing")
        return real_render(template_name, context)

    monkeypatch.setattr(document_batch, "render_pdf", render_or_fail)
    services.decision_issue(user=cast.notice_officer, call=call)
    batch = IssueBatch.objects.get(call=call)
    assert (batch.done, batch.failed, batch.status) == (2, 1, "finished")
    assert batch.errors[0]["key"] == str(broken.pk)
    assert "font missing" in batch.errors[0]["error"]
    broken.refresh_from_db()
    assert broken.status == Application.Status.NOTICE_CLOSED
    assert not notices_of(broken).exists()
    first_numbers = {
        a.pk: list(notices_of(a).values_list("number", flat=True)) for a in applications
    }

    monkeypatch.setattr(document_batch, "render_pdf", real_render)
    services.decision_issue(user=cast.notice_officer, call=call)
    for application in applications:
        application.refresh_from_db()
        assert application.status == Application.Status.DECIDED
        assert notices_of(application).count() == 1
    assert (
        list(notices_of(applications[0]).values_list("number", flat=True))
        == first_numbers[applications[0].pk]
    )
    assert Document.objects.filter(call=call, application__isnull=True).count() == 1
    assert IssueBatch.objects.filter(call=call).latest("pk").done == 1


@override_settings(DOCUMENT_WORKERS=2, DOCUMENT_POOL_MIN=1)
def test_worker_processes_render_the_documents():
    cast, call, applications = call_awaiting_decision(3)
    events = []
    with document_batch.progress_observed(events.append):
        services.decision_issue(user=cast.notice_officer, call=call)
    rendered = [event.rendered for event in events if event.rendered]
    assert len(rendered) == 3
    assert all(r.pid != os.getpid() for r in rendered)
    for application in applications:
        document = notices_of(application).get()
        assert document.file.read().startswith(b"%PDF")


def test_progress_page_is_for_staff_and_404_for_an_unknown_call(client):
    cast, call, _applications = call_awaiting_decision(2)
    url = reverse("documents:batch_progress", args=[call.pk])
    client.force_login(cast.notice_officer)
    waiting = client.get(url)
    assert waiting.status_code == 200
    assert 'http-equiv="refresh" content="2"' in waiting.content.decode()

    services.decision_issue(user=cast.notice_officer, call=call)
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

"""Batch issue of the per-applicant documents: progress, a failed document, reruns, fan-out to
runner jobs, leases taken over. (Real worker processes: test_batch_workers.py.)"""

import io
from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from documents import batch as document_batch
from documents import services as document_services
from documents.models import BatchItem, Document, DocumentReservation, IssueBatch
from tests.documents.pdfs import compact, pdf_text
from workflows import demo
from workflows.models import Application
from workflows.services import issuing
from workflows.stages.decision import services as decision_services
from workflows.stages.decision.services import decision_issue

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fanned_out(settings):
    """These calls are small enough to be decided in one transaction (test_batch_at_once.py):
    here every batch fans out, as a call of more than `BATCH_AT_ONCE` applicants does."""
    settings.BATCH_AT_ONCE = 0


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
    real_record = issuing.issue_audit_record

    def render_or_fail(template_name, context):
        if context.get("application", {}).get("institution_name") == broken.institution.name:
            raise RuntimeError("font missing")
        return real_render(template_name, context)

    def record_or_fail(*, application, **kwargs):
        # Recording fails whether the runner records the chunk at once or one at a time.
        if application is not None and application.pk == broken.pk:
            raise RuntimeError("audit record refused")
        return real_record(application=application, **kwargs)

    if failing == "render":
        monkeypatch.setattr(document_services, "document_render", render_or_fail)
    else:
        monkeypatch.setattr(issuing, "issue_audit_record", record_or_fail)
    decision_issue(user=cast.notice_officer, call=call)
    batch = IssueBatch.objects.get(call=call)
    assert (batch.done, batch.failed, batch.status) == (2, 1, "finished")
    (error,) = batch.errors
    assert error["key"] == broken.institution.name
    assert ("font missing" if failing == "render" else "audit record refused") in error["error"]
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


def test_a_chunk_that_cannot_be_recorded_at_once_is_recorded_one_at_a_time(monkeypatch):
    """When recording a chunk at once fails late (the applications already moved, in memory
    and in the rolled-back transaction), the runner stores its documents one at a time: every
    applicant is decided once, with one notice, and nothing is listed as failed."""
    cast, call, applications = call_awaiting_decision(3)

    def handles_fail(tasks):
        raise RuntimeError("the processes could not be moved on together")

    monkeypatch.setattr(decision_services, "handles_run", handles_fail)
    decision_issue(user=cast.notice_officer, call=call)
    batch = IssueBatch.objects.get(call=call)
    assert (batch.status, batch.done, batch.failed, batch.errors) == ("finished", 3, 0, [])
    for application in applications:
        application.refresh_from_db()
        assert application.status == Application.Status.DECIDED
        assert notices_of(application).count() == 1
        assert application.audit.filter(action="decide").count() == 1
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
    with pytest.raises(document_batch.IssueBatchFailed, match="table too wide"):
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


def test_the_decide_button_fans_the_batch_out_to_jobs_and_renders_nothing_itself(
    client, settings, tasks_run
):
    """The web request only enqueues the job; the job prepares the batch and enqueues its
    runners (one per BATCH_CHUNK documents), which the workers run."""
    settings.BATCH_CHUNK = 2
    cast, call, applications = call_awaiting_decision(5)
    client.force_login(cast.notice_officer)
    response = client.post(
        reverse("call_manage", args=[call.pk]), {"action": "decide", "confirm": "1"}
    )
    assert response.url == reverse("documents:batch_progress", args=[call.pk])
    assert not Document.objects.filter(call=call, kind="decision_notice").exists()
    ran = tasks_run()
    paths = [job.task_path.rsplit(".", 1)[1] for job in ran]
    # (The render jobs of the documents of the call's earlier stages ran first.)
    paths = paths[paths.index("decision_issue_job") :]
    assert paths.count("issue_batch_run_job") == 3  # 5 documents in chunks of 2
    assert all(job.status == "SUCCESSFUL" for job in ran)
    batch = IssueBatch.objects.get(call=call)
    assert (batch.status, batch.done, batch.failed, batch.total) == ("finished", 5, 0, 5)
    assert all(notices_of(a).count() == 1 for a in applications)
    numbers = numbers_of(call)
    assert numbers == list(range(numbers[0], numbers[0] + len(numbers)))


def started_batch(call, user):
    """The call's batch prepared (items and reservations) but not run."""
    return decision_services.decision_issue_start(user=user, call=call, dispatch=False)


def test_a_live_lease_blocks_a_rerun_and_an_expired_one_does_not(client):
    """While a worker holds a lease on one of the batch's documents, pressing "issue" leads to
    the progress page; once the lease has expired (the worker died, no ten-minute wait), the
    call's decision is issued again and completes."""
    cast, call, applications = call_awaiting_decision(2)
    batch = started_batch(call, cast.notice_officer)
    item = batch.items.get(is_lead=True)
    BatchItem.objects.filter(pk=item.pk).update(
        lease_owner="elsewhere:1:dead", lease_expires_at=timezone.now() + timedelta(seconds=20)
    )
    IssueBatch.objects.filter(pk=batch.pk).update(lease_expires_at=None)
    client.force_login(cast.notice_officer)
    response = client.post(
        reverse("call_manage", args=[call.pk]), {"action": "decide", "confirm": "1"}
    )
    assert response.url == reverse("documents:batch_progress", args=[call.pk])
    shown = [str(m) for m in get_messages(response.wsgi_request)]
    assert shown == ["该批次的决定正在印发中，请查看印发进度。"]

    reserved = DocumentReservation.objects.get(call=call, application=None).number
    BatchItem.objects.filter(pk=item.pk).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )
    decision = decision_issue(user=cast.notice_officer, call=call)
    batch.refresh_from_db()
    assert batch.status == "failed"  # the abandoned batch; the new one issued everything
    assert IssueBatch.objects.filter(call=call).latest("pk").status == "finished"
    assert decision.number == reserved
    assert all(notices_of(a).count() == 1 for a in applications)


def test_a_runner_takes_over_a_document_whose_lease_expired(settings):
    """A worker claimed the decision and died (its lease is left): a runner waits for the
    lease to expire, then issues it, and the batch completes with each number used once."""
    settings.BATCH_LEASE_SECONDS = 1
    cast, call, applications = call_awaiting_decision(3)
    batch = started_batch(call, cast.notice_officer)
    lead = batch.items.get(is_lead=True)
    BatchItem.objects.filter(pk=lead.pk).update(
        lease_owner="elsewhere:1:dead",
        lease_expires_at=timezone.now() + timedelta(seconds=1),
        attempts=1,
    )
    document_batch.issue_batch_run(batch)
    lead.refresh_from_db()
    assert (lead.status, lead.attempts) == ("done", 2)
    assert lead.lease_owner != "elsewhere:1:dead"
    batch.refresh_from_db()
    assert (batch.status, batch.done, batch.failed) == ("finished", 3, 0)
    assert all(notices_of(a).count() == 1 for a in applications)
    numbers = numbers_of(call)
    assert numbers == list(range(numbers[0], numbers[0] + len(numbers)))


def test_workflow_timers_enqueue_a_batch_nobody_works_on(
    tasks_run, django_capture_on_commit_callbacks
):
    """Every worker died: cron's `workflow_timers` finds the running batch whose leases all
    expired and enqueues it again; a live batch is left alone."""
    cast, call, applications = call_awaiting_decision(2)
    tasks_run()  # the acceptance notices issued on the way
    batch = started_batch(call, cast.notice_officer)
    call_command("workflow_timers", stdout=io.StringIO())
    assert tasks_run() == []  # the batch's own lease is live: someone is about to run it

    IssueBatch.objects.filter(pk=batch.pk).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        call_command("workflow_timers", stdout=io.StringIO())
    ran = tasks_run()
    assert [job.task_path.rsplit(".", 1)[1] for job in ran] == ["issue_batch_run_job"]
    batch.refresh_from_db()
    assert (batch.status, batch.done) == ("finished", 2)
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

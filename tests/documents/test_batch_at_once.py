"""A call of few applicants (at most `BATCH_AT_ONCE`) is decided in one transaction: the
decision, every applicant's notice and their applications' moves recorded together, each PDF
rendered afterwards by a background job as a document issued on its own. What fails rolls back
whole and is shown as a failed batch; issuing again starts anew, under the numbers an earlier
fanned-out run reserved. (The fan-out of larger calls: test_batch.py.)"""

import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from documents import batch as document_batch
from documents import services as document_services
from documents.models import BatchItem, Document, DocumentReservation, DocumentSequence, IssueBatch
from tests.documents.pdfs import compact, pdf_text
from workflows import demo
from workflows.models import Application
from workflows.services import issuing
from workflows.stages.decision.services import decision_issue, decision_issue_start

pytestmark = pytest.mark.django_db


def call_awaiting_decision(count: int, first_serial: int = 800):
    cast = demo.cast_make()
    call, applications = demo.call_awaiting_decision(
        cast=cast, count=count, first_serial=first_serial, title=f"一次印发测试{first_serial}"
    )
    return cast, call, applications


def documents_of(call):
    return Document.objects.filter(call=call, kind__in=["funding_decision", "decision_notice"])


def test_the_decide_button_decides_a_small_call_in_one_job_and_workers_render_each_pdf(
    client, tasks_run
):
    cast, call, applications = call_awaiting_decision(3)
    client.force_login(cast.notice_officer)
    response = client.post(
        reverse("call_manage", args=[call.pk]), {"action": "decide", "confirm": "1"}
    )
    assert response.url == reverse("documents:batch_progress", args=[call.pk])
    assert not documents_of(call).exists()  # the request only enqueued the job

    ran = tasks_run()
    paths = [job.task_path.rsplit(".", 1)[1] for job in ran]
    # The decision's job records everything, then a job per document renders its PDF (the
    # jobs before it render the documents of the call's earlier stages). No batch runner.
    assert paths.count("decision_issue_job") == 1
    assert set(paths) == {"decision_issue_job", "document_render_job"}, paths
    assert not documents_of(call).filter(rendered_at__isnull=True).exists()
    assert all(job.status == "SUCCESSFUL" for job in ran)
    batch = IssueBatch.objects.get(call=call)
    assert (batch.status, batch.done, batch.failed, batch.total) == ("finished", 3, 0, 3)
    assert not BatchItem.objects.filter(batch=batch).exists()
    assert not DocumentReservation.objects.filter(call=call).exists()

    decision = Document.objects.get(call=call, kind="funding_decision")
    for application in applications:
        application.refresh_from_db()
        assert application.status == Application.Status.DECIDED
        notice = Document.objects.get(application=application, kind="decision_notice")
        assert notice.rendered_at is not None
        # The notice prints the decision's number, and its own.
        text = compact(pdf_text(notice.file.read()))
        assert decision.number in text and notice.number in text
    # The decision first, then the notices in the decision's order: consecutive numbers.
    numbers = [
        int(number.partition("〕")[2].removesuffix("号"))
        for number in documents_of(call).order_by("pk").values_list("number", flat=True)
    ]
    assert numbers == list(range(numbers[0], numbers[0] + 4))

    progress = client.get(reverse("documents:batch_progress", args=[call.pk]))
    assert progress.status_code == 200
    assert "3/3" in progress.content.decode().replace(" ", "")


def test_a_failure_rolls_the_whole_decision_back_and_shows_it_and_the_rerun_issues_all(
    monkeypatch, client
):
    cast, call, applications = call_awaiting_decision(3, first_serial=820)
    broken = applications[1]
    real_record = issuing.issue_audit_record
    sequence_before = list(DocumentSequence.objects.values_list("issuer_code", "last_number"))

    def record_or_fail(*, application, **kwargs):
        if application is not None and application.pk == broken.pk:
            raise RuntimeError("audit record refused")
        return real_record(application=application, **kwargs)

    monkeypatch.setattr(issuing, "issue_audit_record", record_or_fail)
    with pytest.raises(RuntimeError, match="audit record refused"):
        decision_issue(user=cast.notice_officer, call=call)

    # Nothing of it stays: no document, no number taken, no application moved.
    assert not documents_of(call).exists()
    assert (
        list(DocumentSequence.objects.values_list("issuer_code", "last_number")) == sequence_before
    )
    assert {a.status for a in Application.objects.filter(call=call)} == {
        Application.Status.NOTICE_CLOSED
    }
    # The officer sees why on the batch's page.
    batch = IssueBatch.objects.get(call=call)
    assert batch.status == "failed" and batch.finished_at is not None
    assert "audit record refused" in batch.errors[0]["error"]
    client.force_login(cast.notice_officer)
    page = client.get(reverse("documents:batch_progress", args=[call.pk]))
    assert "audit record refused" in page.content.decode()

    monkeypatch.undo()
    decision = decision_issue(user=cast.notice_officer, call=call)
    assert decision.kind == "funding_decision"
    assert all(
        a.status == Application.Status.DECIDED for a in Application.objects.filter(call=call)
    )
    assert IssueBatch.objects.filter(call=call).latest("pk").status == "finished"


def test_a_rerun_of_a_fanned_out_batch_that_now_fits_keeps_the_reserved_numbers(
    monkeypatch, settings
):
    """A larger batch failed on one notice (its number reserved); once few enough are left, the
    rerun is decided at once and issues that notice under its reserved number."""
    settings.BATCH_AT_ONCE = 0
    cast, call, applications = call_awaiting_decision(3, first_serial=840)
    broken = applications[2]
    real_render = document_services.document_render

    def render_or_fail(template_name, context):
        if context.get("application", {}).get("institution_name") == broken.institution.name:
            raise RuntimeError("font missing")
        return real_render(template_name, context)

    monkeypatch.setattr(document_services, "document_render", render_or_fail)
    decision_issue(user=cast.notice_officer, call=call)
    reserved = DocumentReservation.objects.get(call=call, application=broken)

    monkeypatch.undo()
    settings.BATCH_AT_ONCE = 10
    decision_issue(user=cast.notice_officer, call=call)
    rerun = IssueBatch.objects.filter(call=call).latest("pk")
    assert not rerun.items.exists()  # decided at once
    notice = Document.objects.get(application=broken, kind="decision_notice")
    assert (notice.number, notice.verification_code) == (
        reserved.number,
        reserved.verification_code,
    )
    assert not DocumentReservation.objects.filter(call=call).exists()
    # The decision issued by the first run is not issued again; the notice prints its number.
    decision = Document.objects.get(call=call, kind="funding_decision")
    assert notice.context["decision_number"] == decision.number


def test_a_call_larger_than_batch_at_once_fans_out(settings):
    settings.BATCH_AT_ONCE = 2
    cast, call, _applications = call_awaiting_decision(3, first_serial=860)
    batch = decision_issue_start(user=cast.notice_officer, call=call, dispatch=False)
    assert batch.status == "running"
    assert batch.items.count() == 4  # the decision and three notices, for the runners


def test_a_second_officer_finds_nothing_left_to_decide():
    cast, call, _applications = call_awaiting_decision(2, first_serial=880)
    decision_issue(user=cast.notice_officer, call=call)
    with pytest.raises(Exception, match="没有待决定的名单"):
        decision_issue(user=cast.notice_officer, call=call)
    assert IssueBatch.objects.filter(call=call).count() == 1
    assert documents_of(call).count() == 3


def statements(count: int, first_serial: int) -> int:
    cast, call, _applications = call_awaiting_decision(count, first_serial=first_serial)
    with CaptureQueriesContext(connection) as queries:
        batch = decision_issue_start(user=cast.notice_officer, call=call)
    assert (batch.status, batch.done) == ("finished", count)
    return len(queries)


def test_deciding_at_once_costs_a_fixed_number_of_queries_plus_at_most_three_per_application(
    settings,
):
    settings.BATCH_AT_ONCE = 20
    small = statements(5, 900)
    large = statements(15, 920)
    print(f"at once: {small} queries for 5, {large} for 15")
    assert large - small <= 3 * 10, (small, large)


def test_a_batch_recorded_at_once_tells_the_progress_listener():
    cast, call, _applications = call_awaiting_decision(2, first_serial=940)
    events = []
    with document_batch.progress_observed(events.append):
        decision_issue(user=cast.notice_officer, call=call)
    assert (events[-1].done, events[-1].failed, events[-1].total) == (2, 0, 2)


def test_the_management_command_renders_the_pdfs_of_a_call_decided_at_once():
    cast, call, applications = call_awaiting_decision(2, first_serial=960)
    out, err = io.StringIO(), io.StringIO()
    call_command("issue_batch", call.pk, user=cast.notice_officer.username, stdout=out, stderr=err)
    assert "2/2 issued, 0 failed" in out.getvalue()
    assert documents_of(call).count() == 3
    assert not documents_of(call).filter(rendered_at__isnull=True).exists()
    for notice in documents_of(call).filter(kind="decision_notice"):
        assert notice.file.read().startswith(b"%PDF")


def test_the_progress_page_says_which_pdfs_are_still_being_rendered(client, tasks_run):
    cast, call, _applications = call_awaiting_decision(2, first_serial=980)
    tasks_run()  # the PDFs of the call's earlier stages
    decision_issue_start(user=cast.notice_officer, call=call)
    client.force_login(cast.notice_officer)
    page = client.get(reverse("documents:batch_progress", args=[call.pk])).content.decode()
    assert "3 份文书的 PDF 正在生成" in page
    assert 'http-equiv="refresh"' in page  # it looks again until they are there

    tasks_run()
    page = client.get(reverse("documents:batch_progress", args=[call.pk])).content.decode()
    assert "正在生成" not in page and 'http-equiv="refresh"' not in page
    assert "已印发 2 / 2" in page

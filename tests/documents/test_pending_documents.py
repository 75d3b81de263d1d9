"""A document issued one at a time is recorded at once and its PDF rendered by a background job:
the job stores it once however many workers run it, a failed or lost job is enqueued again by
workflow_timers, and until the PDF is there the verification page shows the record and says
the PDF is being prepared. Real database, real PDFs, the job queue run by the test."""

import io
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from documents import services
from documents.models import Document
from documents.services import RenderEnqueue, document_issue, document_render_context
from documents.tasks import document_render_job
from tests.documents.contexts import CONTEXTS
from tests.documents.pdfs import compact, document_pdf, pdf_text
from workflows.services.issuing import document_reissue, document_void

ISSUER_CODE = "黔市监知"
PENDING = "文书正在生成，请稍后刷新"


@pytest.fixture(autouse=True)
def media_root(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def stored_files(media_root) -> list:
    return sorted(path for path in media_root.rglob("*") if path.is_file())


def acceptance_notice_issue(call, institution):
    return document_issue(
        kind="acceptance_notice",
        call=call,
        institution=institution,
        title="受理通知书",
        context=CONTEXTS["acceptance_notice"](),
        issuer_code=ISSUER_CODE,
    )


@pytest.fixture
def notice(call, institution):
    """An acceptance notice just issued: recorded, its PDF pending."""
    return acceptance_notice_issue(call, institution)


def enqueue_lost() -> None:
    """The render job is lost: with Redis, the process that recorded the documents died between
    the commit and the enqueue; with the database as the queue, the job's row is gone (a queue
    purged by hand)."""
    for _savepoints, callback, _robust in connection.run_on_commit:
        if isinstance(callback, RenderEnqueue):
            callback.done = True
    DBTaskResult.objects.filter(task_path=document_render_job.module_path).delete()


def test_with_the_database_as_queue_the_job_commits_and_rolls_back_with_the_document(
    call, institution
):
    """The render job is written in the transaction that records the document: no commit of
    its own, and nothing left behind by a step that rolls back."""
    jobs = DBTaskResult.objects.filter(task_path=document_render_job.module_path)
    with pytest.raises(RuntimeError), transaction.atomic():
        acceptance_notice_issue(call, institution)
        assert jobs.count() == 1  # before any commit
        raise RuntimeError("the step failed after issuing")
    assert not jobs.exists()
    assert not Document.objects.filter(kind="acceptance_notice").exists()


def test_the_jobs_of_documents_recorded_together_are_the_rows_enqueue_writes_and_run(
    call, institution, other_institution, tasks_run
):
    """Documents recorded together (a call decided at once) have their render jobs written in
    one INSERT: each the row the backend's own `enqueue` writes, and each run by the worker."""
    from documents.services import jobs_written

    one = acceptance_notice_issue(call, institution)
    two = acceptance_notice_issue(call, other_institution)
    jobs = DBTaskResult.objects.filter(task_path=document_render_job.module_path)
    jobs.delete()
    document_render_job.enqueue(document_id=one.pk)
    (alone,) = jobs
    jobs.delete()
    jobs_written(
        document_render_job.get_backend(),
        document_render_job,
        [{"document_id": one.pk}, {"document_id": two.pk}],
    )
    together = list(jobs.order_by("enqueued_at", "id"))
    assert len(together) == 2 and len({job.id for job in together}) == 2
    same = ["status", "priority", "task_path", "queue_name", "backend_name", "run_after"]
    for job in together:
        assert [getattr(job, f) for f in same] == [getattr(alone, f) for f in same]
    assert [job.args_kwargs for job in together] == [
        alone.args_kwargs,
        {"args": [], "kwargs": {"document_id": two.pk}},
    ]

    assert {job.status for job in tasks_run()} == {"SUCCESSFUL"}
    for document in (one, two):
        document.refresh_from_db()
        assert not document.is_pending


# --- the job ------------------------------------------------------------------------------------


def test_the_job_renders_the_pdf_the_record_describes(notice, tasks_run):
    assert notice.is_pending and not notice.file and notice.sha256 == ""

    (job,) = tasks_run()

    assert job.status == "SUCCESSFUL" and job.return_value is True
    notice.refresh_from_db()
    assert not notice.is_pending and notice.rendered_at >= notice.issued_at
    text = compact(pdf_text(document_pdf(notice)))
    assert notice.number in text and "受理通知书" in text
    assert f"验证码：{notice.verification_code}" in text


def test_two_jobs_store_one_file_and_the_second_changes_nothing(notice, tasks_run, media_root):
    document_render_job.enqueue(document_id=notice.pk)  # e.g. enqueued again by the timers

    first, second = tasks_run()

    assert (first.return_value, second.return_value) == (True, False)
    notice.refresh_from_db()
    assert stored_files(media_root) == [media_root / notice.file.name]


def test_a_worker_that_loses_the_race_deletes_its_own_file(notice, media_root, monkeypatch):
    """Two workers render the same document at once: the one whose UPDATE comes second finds
    the document no longer pending and discards the file it stored."""
    render = services.document_render
    other_worker = []

    def render_while_another_worker_stores_it(template_name, context):
        if not other_worker:
            other_worker.append("started")
            monkeypatch.setattr(services, "document_render", render)
            other_worker.append(services.document_file_render(document_id=notice.pk))
        return render(template_name, context)

    monkeypatch.setattr(services, "document_render", render_while_another_worker_stores_it)

    assert services.document_file_render(document_id=notice.pk) is False

    assert other_worker == ["started", True]
    notice.refresh_from_db()
    assert stored_files(media_root) == [media_root / notice.file.name]


def test_the_render_context_rebuilt_from_the_row_is_the_one_prepared(notice):
    prepared = services.document_prepare(
        kind="acceptance_notice",
        call=notice.call,
        institution=notice.institution,
        title="受理通知书",
        context=CONTEXTS["acceptance_notice"](),
        issuer_code=ISSUER_CODE,
    )
    notice.issued_at, notice.number = prepared.issued_at, prepared.number
    notice.verification_code = prepared.verification_code

    assert document_render_context(notice) == prepared.render_context


# --- recovery -----------------------------------------------------------------------------------


def test_workflow_timers_enqueue_again_a_document_left_pending(notice, tasks_run, settings):
    enqueue_lost()
    assert tasks_run() == []
    out = io.StringIO()
    call_command("workflow_timers", stdout=out)
    assert tasks_run() == []  # not yet: its job may still be on its way
    assert "pending document" not in out.getvalue()

    retry = timedelta(seconds=settings.DOCUMENT_RENDER_RETRY_SECONDS + 1)
    Document.objects.filter(pk=notice.pk).update(render_requested_at=timezone.now() - retry)
    out = io.StringIO()
    call_command("workflow_timers", stdout=out)
    call_command("workflow_timers", stdout=io.StringIO())  # once, however often cron runs

    assert "1 pending document PDF(s) enqueued again" in out.getvalue()
    (job,) = tasks_run()
    assert job.return_value is True
    notice.refresh_from_db()
    assert notice.number in compact(pdf_text(document_pdf(notice)))


def test_a_failed_render_is_retried_by_the_timers_once_the_cause_is_gone(
    notice, tasks_run, monkeypatch, settings
):
    def broken(template_name, context):
        raise OSError("the storage is not mounted")

    monkeypatch.setattr(services, "document_render", broken)
    (failed,) = tasks_run()
    assert failed.status == "FAILED"
    notice.refresh_from_db()
    assert notice.is_pending

    monkeypatch.undo()
    retry = timedelta(seconds=settings.DOCUMENT_RENDER_RETRY_SECONDS + 1)
    Document.objects.filter(pk=notice.pk).update(render_requested_at=timezone.now() - retry)
    call_command("workflow_timers", stdout=io.StringIO())
    (job,) = tasks_run()

    assert job.status == "SUCCESSFUL"
    notice.refresh_from_db()
    assert not notice.is_pending


# --- the verification page while the PDF is pending ----------------------------------------------


def test_the_verification_page_shows_the_record_and_says_the_pdf_is_coming(notice, tasks_run):
    url = reverse("documents:verify", args=[notice.verification_code])

    response = Client().get(url)

    assert response.status_code == 200
    page = response.content.decode()
    assert notice.number in page and "受理通知书" in page and PENDING in page
    assert "SHA-256" not in page

    tasks_run()
    page = Client().get(url).content.decode()
    assert PENDING not in page
    notice.refresh_from_db()
    assert notice.sha256 in page


def test_no_uploaded_file_matches_a_pending_document(notice, tasks_run):
    # The very PDF it will be, rendered elsewhere from the same record.
    pdf = services.document_render(
        "documents/acceptance_notice.html", document_render_context(notice)
    )
    upload = SimpleUploadedFile("文书.pdf", pdf, content_type="application/pdf")

    response = Client().post(
        reverse("documents:verify", args=[notice.verification_code]), {"file": upload}
    )

    page = response.content.decode()
    assert "文件与存档不一致" in page and "文件与存档一致</strong>" not in page
    assert PENDING in page


# --- reissue and void ---------------------------------------------------------------------------


def test_a_pending_document_is_not_reissued_until_its_pdf_is_there(
    notice, notice_officer, tasks_run
):
    with pytest.raises(ValidationError, match="正在生成"):
        document_reissue(document=notice, user=notice_officer, reason="银行账号有误")
    notice.refresh_from_db()
    assert not notice.is_superseded
    assert Document.objects.count() == 1

    tasks_run()
    new = document_reissue(document=notice, user=notice_officer, reason="银行账号有误")

    assert new.is_pending and new.replaces == notice
    assert f"替代{notice.number}" in compact(pdf_text(document_pdf(new)))


def test_a_pending_document_may_be_voided_and_is_still_rendered(notice, notice_officer, tasks_run):
    document_void(document=notice, user=notice_officer, reason="误发")
    tasks_run()

    notice.refresh_from_db()
    assert notice.is_void and not notice.is_pending
    page = Client().get(reverse("documents:verify", args=[notice.verification_code]))
    assert "已作废" in page.content.decode()

"""Files go through Django's STORAGES, never a local path: with `default` switched to Django's
InMemoryStorage (standing in for object storage shared by several machines), the whole path of
an application works through HTTP — attachments uploaded and downloaded, a correction notice
and an acceptance notice issued, downloaded and verified by upload and by code, an objection's
evidence lodged and opened, the withdrawal decision when it is upheld — and every file is in
that storage while MEDIA_ROOT stays empty."""

import pytest
from django.core.files.storage import InMemoryStorage, default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from tests.workflows import http_steps as steps
from workflows.demo import MINIMAL_PDF
from workflows.models import Application, Attachment, Objection

pytestmark = pytest.mark.django_db

Status = Application.Status


@pytest.fixture
def object_storage(settings, tmp_path):
    """The default storage in memory; MEDIA_ROOT an empty folder nothing may write to."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ROOT.mkdir()
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    }
    return settings.MEDIA_ROOT


def stored_names(storage=default_storage, folder: str = "") -> set[str]:
    """Every file name in `storage`, walking its folders."""
    folders, files = storage.listdir(folder)
    names = {f"{folder}{name}" for name in files}
    for sub in folders:
        names |= stored_names(storage, f"{folder}{sub}/")
    return names


def stored_bytes(name: str) -> bytes:
    with default_storage.open(name, "rb") as stored:
        return stored.read()


def test_the_whole_path_keeps_every_file_in_the_configured_storage(
    object_storage, clients, call, institution
):
    assert isinstance(Attachment.file.field.storage, InMemoryStorage)

    # The applicant uploads both attachments with the draft and submits; a reviewer returns it
    # for correction (a correction notice), the applicant resubmits, it is accepted.
    application = steps.application_submitted(clients.applicant, call)
    attachments = list(Attachment.objects.filter(application=application))
    assert len(attachments) == len(steps.REQUIRED_ATTACHMENTS)
    detail = clients.applicant.get(reverse("application_detail", args=[application.pk]))
    for href in steps.hrefs(detail, "attachment_download"):
        assert steps.download(clients.reviewer, href) == MINIMAL_PDF

    steps.formal_review(clients.reviewer, application, "correction", reason="请补充营业执照副本。")
    correction = steps.squeeze(steps.document_text(clients.applicant, application, "补正通知书"))
    assert "营业执照副本" in correction
    steps.draft_edit(
        clients.applicant,
        application,
        uploads={"business_licence": steps.pdf_file("营业执照副本.pdf")},
    )
    steps.submit(clients.applicant, application)
    response = steps.formal_review(clients.reviewer, application, "accept")
    assert "形式审查结论已提交。" in steps.messages_shown(response)

    # The applicant downloads the acceptance notice (a worker rendered it meanwhile); anyone
    # verifies it by upload and by code.
    steps.tasks_run()
    detail = clients.applicant.get(reverse("application_detail", args=[application.pk]))
    acceptance_href = steps.link_to(detail, "document_download", "受理通知书")
    acceptance_pdf = steps.download(clients.applicant, acceptance_href)
    assert "现予以受理" in steps.squeeze(steps.pdf_text(acceptance_pdf))
    document = application.documents.get(kind="acceptance_notice")
    assert stored_bytes(document.file.name) == acceptance_pdf

    public = Client()
    verify = reverse("documents:verify", args=[document.verification_code])
    typed = public.get(reverse("documents:verify_lookup"), {"code": document.verification_code})
    assert typed.status_code == 302 and typed.url == verify
    assert document.number in steps.page(public.get(verify))
    checked = steps.page(
        public.post(
            verify, {"file": SimpleUploadedFile("文书.pdf", acceptance_pdf, "application/pdf")}
        )
    )
    assert "文件与存档一致" in checked and "文件与存档不一致" not in checked
    assert "电子签名有效" in checked

    # Leadership approves, the notice is published, an organisation objects with evidence; the
    # notice officer opens the evidence and upholds it (a withdrawal decision is issued).
    steps.leadership_one_by_one(clients.leader, call, {application: ("approve", "")})
    steps.call_manage(clients.notice, call, "publish")
    evidence = MINIMAL_PDF.replace(b"%PDF-1.4", b"%PDF-1.4\n% evidence")
    response = steps.objection_lodge(
        clients.applicant,
        steps.notice_of(call),
        application,
        evidence=steps.pdf_file("证明材料.pdf", evidence),
    )
    assert response.status_code == 200
    objection = Objection.objects.get(application=application)
    assert stored_bytes(objection.evidence.name) == evidence
    manage = clients.notice.get(reverse("call_manage", args=[call.pk]))
    (evidence_href,) = steps.hrefs(manage, "objection_evidence")
    assert steps.download(clients.notice, evidence_href) == evidence
    steps.objection_handle(clients.notice, objection, "uphold", "经核实，异议成立。")
    application.refresh_from_db()
    steps.tasks_run()
    withdrawal = application.documents.get(kind="withdrawal_decision")
    assert steps.download(
        clients.applicant, reverse("document_download", args=[withdrawal.pk])
    ) == stored_bytes(withdrawal.file.name)

    # Every file is in the configured storage, under the names the database records, and
    # nothing was written to MEDIA_ROOT.
    recorded = {
        *(a.file.name for a in Attachment.objects.filter(application=application)),
        *(d.file.name for d in application.documents.all()),
        objection.evidence.name,
    }
    # Two attachments and the corrected licence, correction and acceptance notices, the
    # evidence and the withdrawal decision.
    assert len(recorded) == 7
    assert recorded <= stored_names()
    assert list(object_storage.iterdir()) == []


def test_a_deployment_points_the_file_storage_elsewhere_from_its_environment(tmp_path):
    """FILE_STORAGE_BACKEND and FILE_STORAGE_OPTIONS (JSON) choose where a process stores the
    files: here a folder standing in for an NFS mount shared by several machines."""
    import json
    import os
    import subprocess
    import sys

    from django.conf import settings

    shared = tmp_path / "nfs"
    script = (
        "import django; django.setup()\n"
        "from django.core.files.base import ContentFile\n"
        "from documents.models import Document\n"
        "print(Document.file.field.storage.save('documents/x.pdf', ContentFile(b'%PDF-1.4')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=settings.BASE_DIR,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "FILE_STORAGE_BACKEND": "django.core.files.storage.FileSystemStorage",
            "FILE_STORAGE_OPTIONS": json.dumps({"location": str(shared)}),
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "documents/x.pdf"
    assert (shared / "documents" / "x.pdf").read_bytes() == b"%PDF-1.4"


def test_files_left_by_a_rolled_back_upload_are_removed_after_an_hour(
    settings, tmp_path, applicant, institution, call
):
    """An attachment stored by a step that then failed has no row; `files_orphaned_remove`
    removes it once it is an hour old, and keeps every file a row names and any younger one."""
    from datetime import timedelta
    from io import StringIO

    from django.core.management import call_command
    from django.db import transaction
    from django.utils import timezone

    from workflows import services
    from workflows.demo import pdf_upload
    from workflows.services.files import orphaned_files_remove

    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    }
    application = services.application_create(
        user=applicant, call=call, institution=institution, data={}
    )
    kept = services.attachment_add(
        user=applicant, application=application, kind="approval_document", upload=pdf_upload()
    )

    class StepFailed(Exception):
        pass

    with pytest.raises(StepFailed), transaction.atomic():
        lost = services.attachment_add(
            user=applicant, application=application, kind="business_licence", upload=pdf_upload()
        )
        raise StepFailed
    assert not Attachment.objects.filter(pk=lost.pk).exists()
    assert default_storage.exists(lost.file.name)  # stored before the rollback

    # Young: kept (a transaction may still be about to record it).
    out = StringIO()
    call_command("files_orphaned_remove", stdout=out)
    assert default_storage.exists(lost.file.name)
    assert "已删除0个" in out.getvalue()

    later = timezone.now() + timedelta(hours=2)
    assert orphaned_files_remove(now=later, dry_run=True) == [lost.file.name]
    assert default_storage.exists(lost.file.name)
    assert orphaned_files_remove(now=later) == [lost.file.name]
    assert not default_storage.exists(lost.file.name)
    assert default_storage.exists(kept.file.name)
    assert stored_bytes(kept.file.name) == MINIMAL_PDF

"""Nothing renders inside a web request: the request that issues a document records it (number,
verification code, the applicant told), and a background worker renders, signs and stores its
PDF. Until then every page that lists or links the document shows its number and title and
says the PDF is being prepared; its download address answers a page saying so (202)."""

import html

import pytest
from django.test import Client
from django.urls import reverse

from documents import services as documents
from documents.models import Document
from tests.documents.pdfs import qr_modules_of, qr_modules_printed
from tests.workflows import http_steps as steps

pytestmark = pytest.mark.django_db

PENDING = "文书正在生成，请稍后刷新"


@pytest.fixture
def renders(monkeypatch):
    """Every PDF rendered (documents.services.document_render), by verification code."""
    rendered = []
    render = documents.document_render

    def counted(template_name, context):
        rendered.append(context["verification_code"])
        return render(template_name, context)

    monkeypatch.setattr(documents, "document_render", counted)
    return rendered


def test_the_request_records_the_correction_notice_and_a_worker_renders_it(
    clients, call, institution, renders, tasks_run
):
    application = steps.application_submitted(clients.applicant, call)

    response = steps.formal_review(clients.reviewer, application, "correction", "营业执照不清晰。")

    assert "形式审查结论已提交。" in steps.messages_shown(response)
    notice = application.documents.get(kind=Document.Kind.CORRECTION_NOTICE)
    # Recorded by the request: numbered, with its code; no PDF rendered in it.
    assert notice.number and notice.verification_code
    assert notice.is_pending and not notice.file and renders == []

    # The applicant sees the document and that its PDF is on its way, with no link to it yet.
    detail = steps.page(clients.applicant.get(reverse("application_detail", args=[application.pk])))
    assert notice.title in detail and notice.number in detail and PENDING in detail
    assert reverse("document_download", args=[notice.pk]) not in detail
    # Its download address (e.g. bookmarked) answers a page saying so, never a broken file.
    waiting = clients.applicant.get(reverse("document_download", args=[notice.pk]))
    assert waiting.status_code == 202
    assert waiting["Content-Type"].startswith("text/html")
    assert waiting["Retry-After"] == waiting["Refresh"] == "5"
    text = html.unescape(waiting.content.decode())
    assert PENDING in text and notice.number in text
    # So does the public verification page, which shows the record.
    verify = html.unescape(
        Client().get(reverse("documents:verify", args=[notice.verification_code])).content.decode()
    )
    assert notice.number in verify and PENDING in verify

    tasks_run()  # a worker renders it

    assert renders == [notice.verification_code]
    pdf = steps.download(clients.applicant, reverse("document_download", args=[notice.pk]))
    text = steps.squeeze(steps.pdf_text(pdf))
    assert notice.number in text and "营业执照不清晰。" in text and institution.name in text
    url = documents.verification_url(notice.verification_code)
    assert qr_modules_printed(pdf) == qr_modules_of(url)
    detail = steps.page(clients.applicant.get(reverse("application_detail", args=[application.pk])))
    assert PENDING not in detail
    assert steps.link_to(
        clients.applicant.get(reverse("application_detail", args=[application.pk])),
        "document_download",
        notice.title,
    ) == reverse("document_download", args=[notice.pk])


def test_the_document_list_says_which_pdfs_are_being_prepared(
    clients, call, institution, tasks_run
):
    application = steps.application_submitted(clients.applicant, call)
    steps.formal_review(clients.reviewer, application, "accept")
    notice = application.documents.get(kind=Document.Kind.ACCEPTANCE_NOTICE)

    listing = steps.page(clients.reviewer.get(reverse("document_list")))
    assert notice.number in listing and PENDING in listing
    assert reverse("document_download", args=[notice.pk]) not in listing
    home = steps.page(clients.applicant.get(reverse("home")))
    assert notice.title in home and PENDING in home

    tasks_run()

    listing = steps.page(clients.reviewer.get(reverse("document_list")))
    assert PENDING not in listing
    assert reverse("document_download", args=[notice.pk]) in listing


def test_staff_are_told_a_pending_document_cannot_be_reissued_yet(
    clients, call, institution, tasks_run
):
    application = steps.application_submitted(clients.applicant, call)
    steps.formal_review(clients.reviewer, application, "accept")
    notice = application.documents.get(kind=Document.Kind.ACCEPTANCE_NOTICE)
    detail_url = reverse("application_detail", args=[application.pk])
    assert "重新印发" not in steps.page(clients.notice.get(detail_url))

    response = clients.notice.post(
        reverse("documents:document_reissue", args=[notice.pk]),
        {"reason": "单位名称有误"},
        HTTP_REFERER="http://testserver" + detail_url,
        follow=True,
    )

    assert "该文书正在生成，生成后才能重新印发，请稍后刷新再试。" in steps.messages_shown(response)
    assert application.documents.count() == 1
    tasks_run()
    assert "重新印发" in steps.page(clients.notice.get(detail_url))

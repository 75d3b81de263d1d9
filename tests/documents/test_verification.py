"""Verification codes and QR codes on issued documents, the public /verify/<code>/ page, reissue
and void: through document_issue with real PDFs and the HTTP test client."""

import hashlib
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from documents.models import VERIFICATION_ALPHABET, Document, verification_code_new
from documents.services import context_decode, context_encode, document_issue
from tests.documents.contexts import CONTEXTS
from tests.documents.pdfs import (
    compact,
    document_pdf,
    pdf_text,
    qr_modules_of,
    qr_modules_printed,
)
from tests.factories import UserFactory
from workflows import services as workflow_services
from workflows.services.issuing import document_reissue, document_void

ISSUER_CODE = "黔市监知"
ISSUER_NAME = "贵州省市场监督管理局"


@pytest.fixture(autouse=True)
def media_root(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.SITE_URL = "https://ip.example.gov.cn"
    return settings.MEDIA_ROOT


@pytest.fixture
def notice_officer(db):
    return UserFactory(username="notice_officer", role="notice_officer")


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


def issue(kind, *, call, application=None):
    return document_issue(
        kind=kind,
        call=call,
        application=application,
        institution=application.institution if application else None,
        title=Document.Kind(kind).label,
        context=CONTEXTS[kind](),
        issuer_code=ISSUER_CODE,
    )


def stored_pdf(document: Document) -> bytes:
    return document_pdf(document)


def verify_url(document_or_code) -> str:
    code = getattr(document_or_code, "verification_code", document_or_code)
    return reverse("documents:verify", args=[code])


def upload(content: bytes) -> dict:
    return {"file": SimpleUploadedFile("文书.pdf", content, content_type="application/pdf")}


@pytest.fixture
def notice(application):
    """An acceptance notice whose PDF the background job has rendered."""
    notice = issue("acceptance_notice", call=application.call, application=application)
    document_pdf(notice)
    return notice


# --- codes printed on the document -----------------------------------------------------------


def test_codes_are_short_and_unambiguous():
    codes = {verification_code_new() for _ in range(200)}
    assert len(codes) == 200
    for code in codes:
        assert len(code) == 10
        assert set(code) <= set(VERIFICATION_ALPHABET)
        assert not set(code) & set("01OIL")


def test_issued_document_prints_its_code_address_and_qr(notice):
    pdf = stored_pdf(notice)
    text = compact(pdf_text(pdf))

    assert f"验证码：{notice.verification_code}" in text
    assert f"https://ip.example.gov.cn/verify/{notice.verification_code}/" in text
    # The printed QR code is the one of the verification address, module for module.
    url = f"https://ip.example.gov.cn/verify/{notice.verification_code}/"
    assert qr_modules_printed(pdf) == qr_modules_of(url)
    assert notice.issuer_name == ISSUER_NAME


def test_certificate_prints_its_code_and_stays_on_one_page(application):
    certificate = issue("certificate", call=application.call, application=application)
    pages = pdf_text(stored_pdf(certificate)).split("\f")
    pages = [page for page in pages if page.strip()]

    assert len(pages) == 1
    assert certificate.verification_code in compact(pages[0])


def test_every_document_gets_its_own_code(application, call):
    notice = issue("acceptance_notice", call=application.call, application=application)
    decision = issue("funding_decision", call=call)

    assert notice.verification_code != decision.verification_code


def test_stored_context_round_trips_decimals_and_dates():
    context = CONTEXTS["award_letter"]()

    assert context_decode(context_encode(context)) == context


# --- the public page -------------------------------------------------------------------------


def test_anonymous_visitor_sees_what_was_issued(notice):
    response = Client().get(verify_url(notice))

    assert response.status_code == 200
    page = response.content.decode()
    assert notice.number in page
    assert ISSUER_NAME in page
    assert notice.institution.name in page
    assert notice.sha256 in page
    assert "年" in page and "月" in page  # the Chinese date
    assert 'name="csrfmiddlewaretoken"' in page


def test_code_is_found_whatever_the_case(notice):
    response = Client().get(verify_url(notice.verification_code.lower()))

    assert response.status_code == 200
    assert notice.number in response.content.decode()


def test_the_lookup_box_takes_a_code_typed_full_width_or_in_groups(notice):
    """A Chinese input method types the code full-width (Ｕ９…)."""
    code = notice.verification_code
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in code[:5]) + " - " + code[5:].lower()
    response = Client().get(reverse("documents:verify_lookup"), {"code": full_width}, follow=True)
    assert response.status_code == 200
    assert notice.number in response.content.decode()


@pytest.mark.parametrize("typed", ["<script>x</script>", "a/b", "../..", "５２０１？"])
def test_the_lookup_box_answers_not_found_for_what_no_code_could_be(notice, typed):
    """A tag or a slash typed into the box answered 500 (no address can be made of it)."""
    response = Client().get(reverse("documents:verify_lookup"), {"code": typed})
    assert response.status_code == 404
    page = response.content.decode()
    assert "未找到该验证码对应的文书" in page and "<script>x" not in page


def test_the_same_file_is_confirmed(notice):
    response = Client().post(verify_url(notice), upload(stored_pdf(notice)))

    page = response.content.decode()
    assert response.status_code == 200
    assert "文件与存档一致" in page
    assert "文件与存档不一致" not in page


def test_a_different_file_is_refused(notice):
    altered = stored_pdf(notice) + b"\n% altered"

    response = Client().post(verify_url(notice), upload(altered))

    assert "文件与存档不一致" in response.content.decode()


def test_the_upload_form_is_csrf_protected(notice):
    client = Client(enforce_csrf_checks=True)

    response = client.post(verify_url(notice), upload(stored_pdf(notice)))

    assert response.status_code == 403


def test_oversized_upload_is_refused(notice, monkeypatch):
    from documents import verification, views

    monkeypatch.setattr(verification, "UPLOAD_MAX_BYTES", 100)
    monkeypatch.setattr(views, "UPLOAD_MAX_BYTES", 100)

    response = Client().post(verify_url(notice), upload(b"x" * 101))

    page = response.content.decode()
    assert "文件不能超过20 MB" in page
    assert "文件与存档" not in page


def test_a_request_declaring_more_than_the_limit_is_refused_unread(notice, monkeypatch):
    """A body declared larger than 20 MB is refused before it is parsed, with the message and
    the form offered again (it answered 500 once)."""
    from documents import views

    monkeypatch.setattr(views, "REQUEST_MAX_BYTES", 1000)

    response = Client().post(verify_url(notice), upload(b"%PDF-" + b"x" * 2000))

    assert response.status_code == 200
    page = response.content.decode()
    assert "文件不能超过20 MB" in page
    assert 'type="file"' in page
    assert "文件与存档" not in page


def test_a_content_length_that_is_not_a_number_is_not_an_error(notice):
    response = Client().post(verify_url(notice), upload(stored_pdf(notice)), CONTENT_LENGTH="many")

    assert response.status_code < 500


def test_unknown_code_says_so_plainly(notice):
    response = Client().get(verify_url("ABCDEFGHJK"))

    assert response.status_code == 404
    assert "未找到该验证码对应的文书" in response.content.decode()
    assert notice.sha256 not in response.content.decode()


# --- reissue and void ------------------------------------------------------------------------


def test_reissue_creates_a_new_version_that_replaces_the_old(notice, notice_officer):
    old_file, old_sha = notice.file.name, notice.sha256

    new = document_reissue(document=notice, user=notice_officer, reason="银行账号有误，更正后重发")

    notice.refresh_from_db()
    assert new.replaces == notice
    assert new.number != notice.number
    assert new.verification_code != notice.verification_code
    assert new.reissue_reason == "银行账号有误，更正后重发"
    assert (notice.file.name, notice.sha256) == (old_file, old_sha)
    assert hashlib.sha256(stored_pdf(notice)).hexdigest() == old_sha
    assert notice.is_superseded
    text = compact(pdf_text(stored_pdf(new)))
    assert new.verification_code in text
    assert f"替代{notice.number}" in text
    # Asking for the document again returns the current version.
    assert issue("acceptance_notice", call=notice.call, application=notice.application) == new


def test_old_version_page_says_superseded_and_links_the_new_one(notice, notice_officer):
    new = document_reissue(document=notice, user=notice_officer, reason="更正单位名称")

    page = Client().get(verify_url(notice)).content.decode()

    assert "已被新版本替代" in page
    assert "更正单位名称" in page
    assert f'href="{verify_url(new)}"' in page


def test_reissue_needs_a_reason_and_the_current_version(notice, notice_officer):
    with pytest.raises(ValidationError):
        document_reissue(document=notice, user=notice_officer, reason="  ")
    document_reissue(document=notice, user=notice_officer, reason="更正")

    with pytest.raises(ValidationError):
        document_reissue(document=notice, user=notice_officer, reason="再次更正")
    assert Document.objects.count() == 2


def test_void_keeps_the_number_and_it_is_not_reused(notice, notice_officer, call):
    document_void(document=notice, user=notice_officer, reason="误发")

    notice.refresh_from_db()
    assert notice.is_void
    assert notice.voided_by == notice_officer
    page = Client().get(verify_url(notice)).content.decode()
    assert "已作废" in page
    assert "误发" in page
    assert notice.number in page
    next_document = issue("funding_decision", call=call)
    assert next_document.number != notice.number
    assert not Document.objects.filter(number=notice.number).exclude(pk=notice.pk).exists()


def test_a_void_document_is_not_reissued(notice, notice_officer):
    """A void document has no effect; reissuing it would bring it back under a new number."""
    document_void(document=notice, user=notice_officer, reason="误发")
    with pytest.raises(ValidationError) as refused:
        document_reissue(document=notice, user=notice_officer, reason="更正")
    assert refused.value.messages == ["该文书已作废，不能重新印发。"]
    assert Document.objects.count() == 1
    notice.refresh_from_db()
    assert notice.is_void and not notice.is_superseded


def test_the_applicants_home_and_the_verification_page_say_a_document_is_void(
    notice, notice_officer, applicant, client_for
):
    """The home page's 收到的文书 listed a voided notice like any other; the verification page
    headed it 受理通知书（受理通知书）."""
    home = client_for(applicant).get(reverse("home")).content.decode()
    assert notice.number in home and "已作废" not in home
    document_void(document=notice, user=notice_officer, reason="误发")
    home = client_for(applicant).get(reverse("home")).content.decode()
    assert notice.number in home and "已作废" in home
    page = Client().get(verify_url(notice)).content.decode()
    assert "受理通知书（受理通知书）" not in page and "受理通知书" in page


def test_applicant_may_not_reissue_or_void_in_the_service(notice, applicant):
    with pytest.raises(PermissionDenied):
        document_void(document=notice, user=applicant, reason="误发")
    with pytest.raises(PermissionDenied):
        document_reissue(document=notice, user=applicant, reason="更正")


@pytest.mark.parametrize("action", ["document_reissue", "document_void"])
def test_staff_acts_through_the_view_and_returns_to_the_page(
    action, notice, notice_officer, client_for
):
    client = client_for(notice_officer)
    referrer = "http://testserver" + reverse("application_detail", args=[notice.application.pk])

    response = client.post(
        reverse(f"documents:{action}", args=[notice.pk]),
        {"reason": "更正"},
        HTTP_REFERER=referrer,
    )

    assert response.status_code == 302
    assert response["Location"] == referrer
    notice.refresh_from_db()
    assert notice.is_superseded if action == "document_reissue" else notice.is_void


@pytest.mark.parametrize("action", ["document_reissue", "document_void"])
def test_empty_reason_is_refused_in_chinese(action, notice, notice_officer, client_for):
    client = client_for(notice_officer)

    response = client.post(
        reverse(f"documents:{action}", args=[notice.pk]), {"reason": ""}, follow=True
    )

    assert "必须写明理由" in response.content.decode()
    notice.refresh_from_db()
    assert not notice.is_void and not notice.is_superseded
    assert Document.objects.count() == 1


@pytest.mark.parametrize("action", ["document_reissue", "document_void"])
def test_applicant_of_the_institution_gets_403(action, notice, applicant, client_for):
    response = client_for(applicant).post(
        reverse(f"documents:{action}", args=[notice.pk]), {"reason": "更正"}
    )

    assert response.status_code == 403
    notice.refresh_from_db()
    assert not notice.is_void and not notice.is_superseded


@pytest.mark.parametrize("action", ["document_reissue", "document_void"])
def test_document_the_user_may_not_see_is_404(action, notice, other_applicant, client_for):
    response = client_for(other_applicant).post(
        reverse(f"documents:{action}", args=[notice.pk]), {"reason": "更正"}
    )

    assert response.status_code == 404
    notice.refresh_from_db()
    assert not notice.is_void and not notice.is_superseded


@pytest.mark.parametrize("action", ["document_reissue", "document_void"])
def test_anonymous_user_is_sent_to_login(action, notice):
    response = Client().post(reverse(f"documents:{action}", args=[notice.pk]), {"reason": "更正"})

    assert response.status_code == 302
    assert reverse("login") in response["Location"]

"""Every issued PDF carries a PAdES signature made with the issuer's certificate, so that a PDF
reader shows it genuine and unchanged; the verification page checks the signature as well as the
archived hash and says plainly which failed. Development and tests sign with a throw-away CA."""

import html

import pytest
from django.test import Client
from django.urls import reverse
from pypdf import PdfReader

from documents import signing
from documents.checks import check_signing
from documents.signing import pdf_signature_check
from tests.documents.pdfs import document_pdf
from tests.factories import CallFactory
from workflows import demo
from workflows.stages.formal_review.services import formal_review_complete

pytestmark = pytest.mark.django_db


@pytest.fixture
def notice():
    cast = demo.cast_make()
    application = demo.application_submitted(cast=cast, call=CallFactory(), serial=5101)
    formal_review_complete(user=cast.formal_reviewer, application=application, outcome="accept")
    return application.documents.get(kind="acceptance_notice")


def stored(document) -> bytes:
    return document_pdf(document)


def checked(document, data: bytes) -> str:
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = Client().post(
        reverse("documents:verify", args=[document.verification_code]),
        {"file": SimpleUploadedFile("held.pdf", data, content_type="application/pdf")},
    )
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def test_an_issued_document_is_signed_by_its_issuer(notice):
    data = stored(notice)
    check = pdf_signature_check(data)
    assert check.valid and "贵州省市场监督管理局" in check.signer
    field = PdfReader(__import__("io").BytesIO(data)).get_fields()[signing.FIELD_NAME]
    assert field["/V"]["/SubFilter"] == "/ETSI.CAdES.detached"  # PAdES
    byte_range = field["/V"]["/ByteRange"]
    assert byte_range[0] == 0 and byte_range[2] + byte_range[3] == len(data)  # the whole file


def test_the_page_says_the_file_is_the_archived_one_and_its_signature_holds(notice):
    page = checked(notice, stored(notice))
    assert "文件与存档一致" in page and "电子签名有效" in page
    assert "由Organization: 贵州省市场监督管理局" in page or "贵州省市场监督管理局签署" in page


def test_a_file_changed_by_one_byte_fails_both_checks(notice):
    data = bytearray(stored(notice))
    data[len(data) // 3] ^= 0x01
    page = checked(notice, bytes(data))
    assert "文件与存档不一致" in page and "电子签名无效" in page


def test_a_file_changed_after_signing_by_an_appended_update_fails_the_signature(notice):
    """A reader that saves the PDF again appends a revision: the signature no longer covers the
    whole file."""
    import io

    from pyhanko.pdf_utils.generic import DictionaryObject, NameObject, TextStringObject
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(io.BytesIO(stored(notice)))
    writer.trailer["/Info"] = writer.add_object(
        DictionaryObject({NameObject("/Title"): TextStringObject("改过的标题")})
    )
    out = io.BytesIO()
    writer.write(out)
    check = pdf_signature_check(out.getvalue())
    assert check.signed and check.intact and not check.whole_file and not check.valid
    page = checked(notice, out.getvalue())
    assert "文件与存档不一致" in page and "电子签名无效" in page


def test_a_signature_from_another_ca_is_not_trusted(notice, settings, tmp_path):
    """The same document signed by a certificate this site does not trust."""
    from documents.services import document_render

    settings.DOCUMENT_SIGNING_DIR = tmp_path / "another-ca"
    signing.signer_for.cache_clear()
    try:
        from documents.services import context_decode

        context = {
            **context_decode(notice.context),
            "verification_code": notice.verification_code,
            "verification_url": "http://127.0.0.1:8000/",
            "title": notice.title,
            "number": notice.number,
            "issued_on": notice.issued_at.date(),
        }
        forged = document_render("documents/acceptance_notice.html", context)
    finally:
        signing.signer_for.cache_clear()
    check = pdf_signature_check(forged)
    assert check.signed and check.intact and not check.trusted
    page = checked(notice, forged)
    assert "签名证书不受信任" in page


def test_an_office_signs_with_its_own_certificate(settings, tmp_path):
    """DOCUMENT_SIGNER names PEM files (here made like an office's, by another CA)."""
    settings.DOCUMENT_SIGNING_DIR = tmp_path / "office-ca"
    signing.signer_for.cache_clear()
    signing._throwaway_signer("贵州省市场监督管理局")
    folder = tmp_path / "office-ca"
    leaf = next(folder.glob("issuer-*.cert.pem"))
    settings.DOCUMENT_SIGNER = {
        "key": str(leaf.with_name(leaf.name.replace(".cert.", ".key."))),
        "cert": str(leaf),
        "chain": [str(folder / "ca.cert.pem")],
        "passphrase": "",
    }
    settings.DOCUMENT_SIGNING_THROWAWAY_CA = False
    settings.DOCUMENT_TRUST_ROOTS = [str(folder / "ca.cert.pem")]
    signing.signer_for.cache_clear()
    signing.trust_roots.cache_clear()
    try:
        from documents.rendering import render_pdf
        from tests.documents.contexts import CONTEXTS

        pdf = render_pdf("documents/acceptance_notice.html", CONTEXTS["acceptance_notice"]())
        signed = signing.pdf_sign(pdf, "任一印发机关")
        assert pdf_signature_check(signed).valid
        settings.DOCUMENT_TRUST_ROOTS = []
        signing.trust_roots.cache_clear()
        assert not pdf_signature_check(signed).trusted
    finally:
        signing.signer_for.cache_clear()
        signing.trust_roots.cache_clear()


def test_start_up_refuses_without_a_signing_identity(settings):
    settings.DOCUMENT_SIGNING_THROWAWAY_CA = False
    settings.DOCUMENT_SIGNER = None
    settings.DOCUMENT_SIGNERS = {}
    assert [error.id for error in check_signing(None)] == ["documents.E002"]


@pytest.mark.parametrize(
    ("issuer", "signer"),
    [
        # 27 characters, 81 bytes: X.509 takes at most 64 bytes in a name.
        (
            "黔南布依族苗族自治州市场监督管理局（黔南州知识产权局）",
            "黔南布依族苗族自治州市场监督管理局",
        ),
        (
            "黔东南苗族侗族自治州黎平县市场监督管理局知识产权服务中心",
            "黔东南苗族侗族自治州黎平县市场监督管理局",
        ),
    ],
)
def test_an_issuer_with_a_long_name_still_signs(issuer, signer):
    """The name is the certificate's subject: a long one is cut to what X.509 holds (a bracketed
    second name dropped whole), not refused with a traceback on every document."""
    from weasyprint import HTML

    signed = signing.pdf_sign(HTML(string="<p>通知</p>").write_pdf(), issuer)
    check = pdf_signature_check(signed)
    assert check.valid and signer in check.signer

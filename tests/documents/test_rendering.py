"""The official document templates rendered to PDF and read back with pdftotext, and the
URL fetcher that keeps WeasyPrint away from the network and the file system."""

import base64
import http.server
import threading
from datetime import UTC, date, datetime
from decimal import Decimal
from io import BytesIO

import pytest
from PIL import Image
from pypdf import PdfReader

from documents.rendering import (
    RefusedURLError,
    chinese_date,
    render_pdf,
    safe_url_fetcher,
    static_file_path,
)
from tests.documents.contexts import (
    CONTEXTS,
    NUMBER,
    application_context,
    award_certificate_application,
    award_letter_context,
    certificate_context,
    commendation_decision_context,
    commendation_rows,
    recognition_decision_context,
)
from tests.documents.pdfs import compact, pdf_fonts, pdf_image_count, pdf_text


def render(kind: str, context: dict | None = None) -> bytes:
    return render_pdf(f"documents/{kind}.html", context or CONTEXTS[kind]())


def test_acceptance_notice():
    text = compact(pdf_text(render("acceptance_notice")))

    assert "受理通知书" in text
    assert NUMBER in text
    assert "贵州黔创技术转移中心有限公司：" in text
    assert "你单位于2026年3月1日提交的技术转移机构经费资助申报材料收悉" in text
    assert "予以受理" in text
    assert "91520100MA6DK1234X" in text
    assert "贵州省市场监督管理局2026年3月5日" in text


def test_refusal_decision_states_reasons_and_remedies():
    text = pdf_text(render("refusal_decision"))

    assert NUMBER in text
    # Each line of the reasons is a paragraph of its own.
    assert any(line.strip().startswith("1. 获批日期不在") for line in text.splitlines())
    assert any(line.strip().startswith("2. 未提供营业执照") for line in text.splitlines())
    assert (
        "如不服本决定，可以自收到本决定书之日起六十日内向贵州省人民政府申请行政复议，"
        "或者在六个月内依法向人民法院提起行政诉讼。"
    ) in compact(text)


def test_funding_decision_cites_policy_and_attaches_the_list():
    pages = pdf_text(render("funding_decision"), layout=False).split("\f")
    text = compact("".join(pages))

    assert "贵州省市场监督管理局文件" in text
    assert NUMBER in text
    assert "《贵州省专利转化运用专项行动实施方案（2023—2025年）》二（三）3规定" in text
    assert "资助金额合计人民币壹佰叁拾万元整（¥1,300,000.00）" in text
    attachment = attachment_of([compact(page) for page in pages])
    assert "序号单位名称统一社会信用代码级别资助金额（元）" in attachment
    assert "1贵州黔创技术转移中心有限公司91520100MA6DK1234X国家级1,000,000.00" in attachment
    assert "2遵义市技术转移服务中心12520300MB1234567Y省级300,000.00" in attachment
    assert "合计1,300,000.00" in attachment


def test_decision_notice():
    text = compact(pdf_text(render("decision_notice")))

    assert NUMBER in text
    assert "资助决定（黔市监知〔2026〕11号）" in text
    assert "资助金额：人民币壹佰万元整（¥1,000,000.00）" in text


def test_award_letter_shows_amount_in_words_and_figures():
    pdf = render("award_letter")
    text = compact(pdf_text(pdf))

    assert "贵州黔创技术转移中心有限公司" in text
    assert "资助金额：人民币壹佰万元整（¥1,000,000.00）" in text
    assert "银行账号：2402000109200012345" in text
    assert "就高补差" not in text
    assert len(pdf) < 1_000_000


def test_a_grant_whose_form_asks_for_a_patent_is_still_worded_as_a_grant():
    """A grant may ask for a patent number: its letter cites the 资助决定 and the 资助金额 (a
    patent award's letter, which commends, names the patent and its 奖励金额)."""
    application = application_context(patent_number="202110123456.7")
    grant = compact(
        pdf_text(
            render(
                "award_letter",
                award_letter_context(application=application, decision_kind="funding_decision"),
            )
        )
    )
    award = compact(
        pdf_text(
            render(
                "award_letter",
                award_letter_context(
                    application=application, decision_kind="commendation_decision"
                ),
            )
        )
    )

    assert "和资助决定" in grant and "资助金额：" in grant
    assert "表彰" not in grant and "奖励金额" not in grant
    assert "和表彰决定" in award and "专利号：ZL202110123456.7" in award
    assert "奖励金额：" in award


@pytest.mark.parametrize(
    ("kind", "body", "reads", "never"),
    [
        ("rejection_decision", {"meeting": "局务会"}, "经局务会审议，未获通过", "审议审议"),
        (
            "rejection_decision",
            {"meeting": "厅（局）长办公会审议"},
            "经厅（局）长办公会审议，未获通过",
            "审议审议",
        ),
        (
            "not_awarded_decision",
            {"committee": "认定委员会审定", "outcome_word": "认定"},
            "经认定委员会审定，未获通过",
            "审定表决",
        ),
        (
            "not_awarded_decision",
            {"committee": "评审委员会", "outcome_word": "授予奖励"},
            "经评审委员会表决，未获通过",
            "表决表决",
        ),
    ],
)
def test_a_body_named_with_what_it_does_is_not_given_the_verb_twice(kind, body, reads, never):
    text = compact(pdf_text(render(kind, {**CONTEXTS[kind](), **body})))

    assert reads in text and never not in text


def test_a_paid_commendation_without_tiers_does_not_claim_to_pay_by_tier():
    rows = [{**row, "tier_label": "", "patent_number": ""} for row in commendation_rows()]
    text = compact(
        pdf_text(render("commendation_decision", commendation_decision_context(rows=rows)))
    )
    tiered = compact(pdf_text(render("commendation_decision")))

    assert "予以表彰，并给予奖励，奖金合计" in text and "等级" not in text
    assert "并按奖项等级给予奖励" in tiered


def test_award_letter_for_an_upgrade_deducts_what_was_paid():
    context = award_letter_context(
        amount=Decimal("700000.00"), previously_paid=Decimal("300000.00")
    )
    text = compact(pdf_text(render("award_letter", context)))

    assert (
        "按就高补差原则，扣除已拨付的人民币叁拾万元整（¥300,000.00），"
        "本次拨付人民币柒拾万元整（¥700,000.00）"
    ) in text
    assert "资助标准为人民币壹佰万元整（¥1,000,000.00）" in text


def pages_of(pdf: bytes) -> list[str]:
    """Each page's text without white space (table cells read block by block)."""
    return [compact(page) for page in pdf_text(pdf, layout=False).split("\f") if page.strip()]


def attachment_of(pages: list[str]) -> str:
    """The attachment's text without the 版记 at the foot of its page (the text extraction puts
    its lines among the table's last cells)."""
    page = next(page for page in pages if page.startswith("附件1"))
    return page.replace("贵州省市场监督管理局", "").replace("2026年3月5日印发", "")


def test_recognition_decision_lists_the_enterprises_and_the_validity():
    pages = pages_of(render("recognition_decision"))
    text = "".join(pages)

    assert "贵州省市场监督管理局文件" in text
    assert NUMBER in text
    assert "关于2026年度贵州省知识产权优势企业认定结果的决定" in text
    assert "各有关单位：" in text
    assert "《贵州省专利转化运用专项行动实施方案（2023—2025年）》二（二）2规定" in text
    assert "现决定附件所列2家企业通过知识产权优势企业认定。" in text
    assert "认定有效期三年，自2026年3月5日至2029年3月5日。" in text
    assert "贵州省市场监督管理局2026年3月5日" in text
    attachment = attachment_of(pages)
    assert "认定企业名单" in attachment
    assert "序号企业名称统一社会信用代码" in attachment
    assert "1贵州黔丰新材料股份有限公司91520100MA6DK5678Y" in attachment
    assert "2遵义红城智能装备有限公司91520300MA6EK1234Z" in attachment
    # A recognition that pays nothing prints no amount anywhere.
    assert "¥" not in text
    assert "人民币" not in text
    assert "合计" not in attachment


def test_recognition_without_expiry_states_no_validity():
    context = recognition_decision_context(validity_years=0, valid_until=None)
    text = "".join(pages_of(render("recognition_decision", context)))

    assert "通过知识产权优势企业认定。" in text
    assert "有效期" not in text


def test_recognition_with_a_reward_prints_the_amounts():
    rows = recognition_decision_context()["rows"]
    for row, amount in zip(rows, ("200000.00", "100000.00"), strict=True):
        row.update(
            tier_label="示范企业" if amount[0] == "2" else "优势企业", amount=Decimal(amount)
        )
    context = recognition_decision_context(
        rows=rows, total=Decimal("300000.00"), validity_years=5, valid_until=date(2031, 3, 5)
    )
    pages = pages_of(render("recognition_decision", context))
    text = "".join(pages)

    assert "奖励金额合计人民币叁拾万元整（¥300,000.00）" in text
    assert "认定有效期五年，自2026年3月5日至2031年3月5日。" in text
    attachment = attachment_of(pages)
    assert "序号企业名称统一社会信用代码认定类别奖励金额（元）" in attachment
    assert "1贵州黔丰新材料股份有限公司91520100MA6DK5678Y示范企业200,000.00" in attachment
    assert "合计300,000.00" in attachment


def test_commendation_decision_lists_tiers_patents_patentees_and_bonuses():
    pages = pages_of(render("commendation_decision"))
    text = "".join(pages)

    assert "贵州省市场监督管理局文件" in text
    assert NUMBER in text
    assert "关于第五届贵州省专利奖的表彰决定" in text
    assert "二（二）2规定：“大力实施知识产权优势企业培育工程，开展专利奖评选表彰活动" in text
    assert "共评出获奖专利2项" in text
    assert "奖金合计人民币贰拾伍万元整（¥250,000.00）" in text
    attachment = attachment_of(pages)
    assert "获奖名单" in attachment
    assert "序号奖项等级专利号专利权人奖金（元）" in attachment
    for cells in (
        ("1", "专利金奖", "ZL202110123456.7", "贵州黔丰新材料股份有限公司", "200,000.00"),
        ("2", "专利优秀奖", "ZL201920654321.X", "遵义红城智能装备有限公司", "50,000.00"),
    ):
        # Cells that wrap come out one after the other: check the order, not adjacency.
        position = 0
        for cell in cells:
            position = attachment.index(cell, position) + len(cell)
    assert "合计250,000.00" in attachment


def test_commendation_decision_without_bonus_prints_no_amounts():
    rows = commendation_decision_context()["rows"]
    for row in rows:
        row.update(amount=None, amount_words="")
    context = commendation_decision_context(rows=rows, total=None)
    pages = pages_of(render("commendation_decision", context))
    text = "".join(pages)

    assert "予以表彰。" in text
    assert "ZL202110123456.7" in attachment_of(pages)
    assert "¥" not in text
    assert "奖金" not in text
    assert "合计" not in text


def page_sizes(pdf: bytes) -> list[tuple[float, float]]:
    return [
        (float(page.mediabox.width), float(page.mediabox.height))
        for page in PdfReader(BytesIO(pdf)).pages
    ]


def test_recognition_certificate_is_one_landscape_page():
    pdf = render("certificate")
    text = compact(pdf_text(pdf))

    ((width, height),) = page_sizes(pdf)
    assert width > height  # A4 landscape
    assert round(width / 72 * 25.4) == 297
    assert text.startswith("贵州省知识产权优势企业贵州黔丰新材料股份有限公司")
    assert "通过知识产权优势企业认定，特发此证。" in text
    assert "有效期至2029年3月5日" in text
    assert "贵州省市场监督管理局2026年3月5日" in text
    assert "证书编号：黔市监知〔2026〕13号" in text
    assert "专利号" not in text


def test_certificate_names_the_designation_when_the_program_has_tiers():
    application = {**certificate_context()["application"], "tier_label": "省级知识产权示范企业"}
    text = compact(pdf_text(render("certificate", certificate_context(application=application))))

    assert "被认定为省级知识产权示范企业，特发此证。" in text


def test_award_certificate_shows_tier_and_patent_and_no_expiry():
    context = certificate_context(
        title="专利奖证书", application=award_certificate_application(), valid_until=None
    )
    pdf = render("certificate", context)
    text = compact(pdf_text(pdf))

    assert len(page_sizes(pdf)) == 1
    assert text.startswith("专利奖证书贵州黔丰新材料股份有限公司")
    assert "你单位的专利荣获专利金奖，特发此证。" in text
    assert "奖项等级：专利金奖" in text
    assert "专利号：ZL202110123456.7" in text
    assert "证书编号：黔市监知〔2026〕13号" in text
    assert "有效期" not in text


@pytest.mark.parametrize("kind", CONTEXTS)
def test_fonts_are_embedded_as_subsets(kind):
    fonts = pdf_fonts(render(kind))

    assert fonts
    assert all(fonts.values()), fonts
    # "ABCDEF+Name": only the glyphs used, never the whole CJK font.
    assert all(name[7] == "+" for name in fonts), fonts


def test_amount_that_cannot_be_printed_stops_rendering():
    with pytest.raises(TypeError):
        render("award_letter", award_letter_context(amount=1000000.0))


def test_user_text_is_printed_not_interpreted(settings):
    settings.DOCUMENT_SEALS = {}  # no image but what the text would smuggle in
    name = '<img src="file:///etc/passwd">贵州黔创技术转移中心'
    context = {**CONTEXTS["acceptance_notice"](), "application": application_context()}
    context["application"]["institution_name"] = name
    pdf = render("acceptance_notice", context)

    assert name.replace(" ", "") in compact(pdf_text(pdf))
    assert pdf_image_count(pdf) == 0


@pytest.fixture
def png(tmp_path):
    path = tmp_path / "seal.png"
    Image.new("RGB", (8, 8), "red").save(path)
    return path


@pytest.fixture
def static_dir(tmp_path, settings):
    directory = tmp_path / "static"
    (directory / "documents").mkdir(parents=True)
    settings.STATICFILES_DIRS = [directory]
    return directory


@pytest.fixture
def probe_template(tmp_path, settings):
    """`probe_template(html)` -> name of a template (in a temporary DIRS entry) with that body."""
    directory = tmp_path / "templates"
    directory.mkdir()
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [directory]}]

    def write(body: str) -> str:
        (directory / "probe.html").write_text(
            f"<!DOCTYPE html><html lang='zh-CN'><body><p>探针</p>{body}</body></html>"
        )
        return "probe.html"

    return write


@pytest.fixture
def http_server(png):
    """A local HTTP server that records every request it gets."""
    requests = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            requests.append(self.path)
            body = png.read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", requests
    server.shutdown()
    server.server_close()


def test_network_and_file_urls_are_not_fetched(probe_template, http_server, png):
    base, requests = http_server
    template = probe_template(
        f'<img src="{base}/seal.png">'
        f'<img src="{png.as_uri()}">'
        f'<div style="background: url({base}/background.png)">背景</div>'
        f'<link rel="stylesheet" href="{base}/style.css">'
    )

    pdf = render_pdf(template, {})

    assert requests == []
    assert pdf_image_count(pdf) == 0
    assert "探针" in pdf_text(pdf)


def test_project_static_files_and_data_urls_are_embedded(probe_template, static_dir, png):
    (static_dir / "documents" / "seal.png").write_bytes(png.read_bytes())
    buffer = BytesIO()
    Image.new("RGB", (8, 8), "blue").save(buffer, format="PNG")
    data_url = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
    template = probe_template(f'<img src="static:documents/seal.png"><img src="{data_url}">')

    assert pdf_image_count(render_pdf(template, {})) == 2


def test_relative_references_are_not_resolved_against_the_file_system(probe_template, png):
    template = probe_template(f'<img src="{png.name}"><img src="../../../../{png}">')

    assert pdf_image_count(render_pdf(template, {})) == 0


@pytest.mark.parametrize(
    "url",
    [
        "static:../secret.txt",
        "static:/../secret.txt",
        "static:documents/%2e%2e/%2e%2e/secret.txt",
        "static://localhost/documents/seal.png",
        "static:documents/missing.png",
    ],
)
def test_static_urls_cannot_leave_the_static_directories(static_dir, url):
    (static_dir.parent / "secret.txt").write_text("secret")

    with pytest.raises(RefusedURLError):
        static_file_path(url)


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "http://127.0.0.1:9/x.png", "https://example.com/x.png"]
)
def test_fetcher_refuses_other_schemes(url):
    with pytest.raises(RefusedURLError):
        safe_url_fetcher(url)


@pytest.mark.parametrize(
    ("value", "printed"),
    [
        (date(2026, 3, 5), "2026年3月5日"),
        (date(2026, 12, 31), "2026年12月31日"),
        (datetime(2026, 12, 31, 16, 0, tzinfo=UTC), "2027年1月1日"),
        (datetime(2026, 12, 31, 15, 59, tzinfo=UTC), "2026年12月31日"),
    ],
)
def test_chinese_date_is_the_beijing_date_without_leading_zeros(value, printed):
    assert chinese_date(value) == printed

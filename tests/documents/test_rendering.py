"""The five official document templates rendered to PDF and read back with pdftotext, and the
URL fetcher that keeps WeasyPrint away from the network and the file system."""

import base64
import http.server
import threading
from datetime import UTC, date, datetime
from decimal import Decimal
from io import BytesIO

import pytest
from PIL import Image

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
    award_letter_context,
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
    attachment = next(compact(page) for page in pages if compact(page).startswith("附件"))
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


def test_user_text_is_printed_not_interpreted():
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

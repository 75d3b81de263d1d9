"""GB/T 9704-2012 layout, measured on a real PDF with pdfplumber: type area, sizes, lines of 28
characters, 22 lines a page, page numbers on the outer side, attachments on a new page.

Measured exceptions, by design: page numbers (14 pt, in the bottom margin) and the verification
block (QR and code, in the bottom margin of the last page) lie outside the type area; the masthead
and title take whole lines of the 22-line grid (checked on the first page)."""

import collections
import io
from decimal import Decimal
from pathlib import Path

import pdfplumber
import pytest
from django.template.loader import render_to_string
from weasyprint import HTML
from weasyprint.text.fonts import FontConfiguration

from documents.rendering import render_pdf
from tests.documents.contexts import CONTEXTS

MM = 72 / 25.4
LEFT, TOP, WIDTH, HEIGHT = 28 * MM, 37 * MM, 156 * MM, 225 * MM
TOLERANCE = 0.5  # pt: justified lines end within the letter spacing of the edge


@pytest.fixture(scope="module")
def pages():
    context = CONTEXTS["funding_decision"]()
    context["program"]["policy_text"] = "对新获批的国家级、省级技术转移机构给予经费资助。" * 40
    context["rows"] = context["rows"] * 25
    context["total"] = sum((row["amount"] for row in context["rows"]), Decimal("0.00"))
    pdf = render_pdf("documents/funding_decision.html", context)
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        yield [(page.width, page.height, list(page.chars)) for page in document.pages]


def lines_of(chars):
    lines = collections.OrderedDict()
    for char in sorted(chars, key=lambda c: (round(c["top"]), c["x0"])):
        lines.setdefault(round(char["top"]), []).append(char)
    return [("".join(c["text"] for c in line), line) for line in lines.values()]


def is_margin_text(text: str, line) -> bool:
    return text.strip().startswith("—") or "验证码" in text or "查验" in text


def test_a4_pages(pages):
    for width, height, _chars in pages:
        assert abs(width - 210 * MM) < 1 and abs(height - 297 * MM) < 1


def test_every_text_line_lies_inside_the_type_area(pages):
    for number, (_w, _h, chars) in enumerate(pages, 1):
        for text, line in lines_of(chars):
            if is_margin_text(text, line):
                continue
            assert min(c["x0"] for c in line) >= LEFT - TOLERANCE, (number, text)
            assert max(c["x1"] for c in line) <= LEFT + WIDTH + TOLERANCE, (number, text)
            assert min(c["top"] for c in line) >= TOP - TOLERANCE, (number, text)
            assert max(c["bottom"] for c in line) <= TOP + HEIGHT + TOLERANCE, (number, text)


def test_title_is_22_pt_and_body_16_pt(pages):
    _w, _h, chars = pages[0]
    sizes = [round(line[0]["size"]) for text, line in lines_of(chars) if "经费资助" in text]
    title = [round(line[0]["size"]) for text, line in lines_of(chars) if text == "资助决定"]
    assert title == [22]
    assert len(sizes) > 5 and set(sizes) == {16}


def test_a_full_line_holds_28_characters(pages):
    """Counting the two-character indent of a paragraph's first line."""
    _w, _h, chars = pages[1]
    em = WIDTH / 28
    full = [
        len(line) + round((min(c["x0"] for c in line) - LEFT) / em)
        for text, line in lines_of(chars)
        if round(line[0]["size"]) == 16
        and not is_margin_text(text, line)
        and all(ord(c["text"]) > 0x2E80 for c in line)
        and max(c["x1"] for c in line) > LEFT + WIDTH - 2 * MM
    ]
    assert len(full) > 10, "a page of running text has full lines"
    assert set(full) == {28}


def test_a_full_body_page_holds_22_lines(pages):
    _w, _h, chars = pages[1]
    body = [
        line
        for text, line in lines_of(chars)
        if round(line[0]["size"]) == 16 and not is_margin_text(text, line)
    ]
    assert len(body) == 22


def baselines_of_body_lines(chars, page_height) -> list[float]:
    """The baseline (pt from the top of the page) of each 16 pt line of the type area."""
    return [
        page_height - line[0]["matrix"][5]
        for text, line in lines_of(chars)
        if round(line[0]["size"]) == 16 and not is_margin_text(text, line)
    ]


def test_the_first_page_fills_the_22_line_grid(pages):
    """The masthead and the title take whole lines of the 22-line grid, so the first page's body
    lines stand where a full page's lines stand, down to the 22nd."""
    full = baselines_of_body_lines(pages[1][2], pages[1][1])
    assert len(full) == 22
    pitch = (full[-1] - full[0]) / 21
    assert abs(pitch - HEIGHT / 22) < 0.05
    # The first 16 pt line is the document number: two lines below the issuer mark, which the
    # standard puts 35 mm down, off the grid. The red line under it ends line 8.
    number, *first = baselines_of_body_lines(pages[0][2], pages[0][1])
    assert 6 < (number - full[0]) / pitch < 7
    places = [(baseline - full[0]) / pitch for baseline in first]
    assert all(abs(place - round(place)) < 0.02 for place in places), places
    assert round(places[-1]) == 21, "the body runs down to the 22nd line"
    # Title on line 11 (two lines below the red line), addressee on line 13.
    assert round(places[0]) == 12


def test_page_numbers_alternate_outer_sides(pages):
    positions = {}
    for number, (_width, _h, chars) in enumerate(pages, 1):
        for text, line in lines_of(chars):
            if text.strip().startswith("—") and round(line[0]["size"]) == 14:
                positions[number] = min(c["x0"] for c in line)
                assert min(c["top"] for c in line) > TOP + HEIGHT, "below the type area"
    assert positions[1] > pages[0][0] / 2, "odd pages: right"
    even = [n for n in positions if n % 2 == 0]
    assert even and all(positions[n] < pages[n - 1][0] / 2 for n in even), "even pages: left"


def test_attachments_start_on_a_new_page_headed_attachment_1(pages):
    starts = [lines_of(chars)[0][0].strip() for _w, _h, chars in pages]
    assert any(text.startswith("附件1") for text in starts)


def test_a_notice_to_one_applicant_keeps_the_grid_too():
    """A decision notice is a letter (信函格式, GB/T 9704 §10.1): the number under the red double
    line (7/8 of a character below it, off the grid), the addressee on line 5 and the body down
    to the 22nd line, each on the grid of a full page."""
    context = CONTEXTS["decision_notice"]()
    context["program"]["policy_document"] = "关于知识产权专项资金管理的实施办法" * 120
    pdf = render_pdf("documents/decision_notice.html", context)
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        first, second = document.pages[:2]
        full = baselines_of_body_lines(second.chars, second.height)
        number, *lines = baselines_of_body_lines(first.chars, first.height)
    assert len(full) == 22
    pitch = (full[-1] - full[0]) / 21
    places = [(baseline - full[0]) / pitch for baseline in lines]
    assert all(abs(place - round(place)) < 0.02 for place in places), places
    assert 0.5 < (number - full[0]) / pitch < 1
    assert (round(places[0]), round(places[-1])) == (4, 21)


LICENSED_STAND_IN = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


@pytest.mark.skipif(not LICENSED_STAND_IN.exists(), reason="needs DejaVu Sans (fonts-dejavu-core)")
@pytest.mark.parametrize(
    ("family", "element"),
    [
        ("FangSong", '<p class="probe">Body 2026</p>'),
        ("FZXiaoBiaoSong-B05S", '<h1 class="title probe">Title 2026</h1>'),
        ("SimHei", '<h2 class="probe">Heading 2026</h2>'),
        ("KaiTi", '<h3 class="probe">Subheading 2026</h3>'),
    ],
)
def test_a_licensed_typeface_comes_first_where_it_is_installed(family, element):
    """仿宋, 小标宋, 黑体 and 楷体 lead their stacks: a deployment that has the font uses it (here
    DejaVu Sans stands in under the licensed name), one without falls back to Noto CJK."""
    css = render_to_string("documents/document.css")
    face = f'@font-face {{ font-family: "{family}"; src: url("{LICENSED_STAND_IN.as_uri()}"); }}'
    other = '<p class="other">Other 2026</p>'
    html = f"<html><head><style>{face}{css}</style></head><body>{element}{other}</body></html>"
    pdf = HTML(string=html).write_pdf(font_config=FontConfiguration())
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        fonts = {}
        for text, line in lines_of(document.pages[0].chars):
            fonts[text.split()[0]] = {c["fontname"].partition("+")[2] for c in line}
    probe = next(name for name in fonts if name != "Other")
    # WeasyPrint names an embedded @font-face font after its family.
    assert fonts[probe] == {family}, fonts
    body = {family} if family == "FangSong" else {"Noto-Serif-CJK-SC"}
    assert fonts["Other"] == body, fonts

"""GB/T 9704-2012 throughout, measured with pdfplumber on every kind of official document (公文):
no text outside the type area but the page numbers (and a letter's issuer name, which §10.1 puts
30 mm from the top), a page number on every page (§7.5; a letter's first page has none), the
verification code as the 附注 inside the type area (§7.3.6), the 版记 at the foot of a
decision's last page (§7.4), the letter format's red issuer name and double lines (§10.1), the
seal over the issuer's name and date (§7.3.5), and a joint document's issuers and seals."""

import io
import re

import pdfplumber
import pytest

from documents.models import Document
from documents.services import document_render
from tests.documents.contexts import CONTEXTS

MM = 72 / 25.4
LEFT, TOP, RIGHT, BOTTOM = 28 * MM, 37 * MM, (28 + 156) * MM, (37 + 225) * MM
TOLERANCE = 0.6
KINDS = sorted(kind for kind in Document.Kind.values if kind != "certificate")
LETTERS = {
    "acceptance_notice",
    "award_letter",
    "correction_notice",
    "decision_notice",
    "lapse_notice",
    "not_recommended_notice",
}
FOLIO_RE = re.compile(r"^—\s*(\d+)\s*—$")
RED = (1, 0, 0)


def render(kind: str, **changes) -> list:
    context = CONTEXTS[kind]()
    context.update(
        verification_code="7KQ3MXR2TD",
        verification_url="http://127.0.0.1:8000/verify/7KQ3MXR2TD/",
        **changes,
    )
    pdf = document_render(f"documents/{kind}.html", context)
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        return [
            {
                "chars": list(page.chars),
                "rects": list(page.rects) + list(page.lines),
                "images": list(page.images),
                "curves": list(page.curves),
            }
            for page in document.pages
        ]


def lines_of(chars) -> list[tuple[str, list]]:
    lines: dict[int, list] = {}
    for char in sorted(chars, key=lambda c: (round(c["top"]), c["x0"])):
        lines.setdefault(round(char["top"]), []).append(char)
    return [("".join(c["text"] for c in line).strip(), line) for line in lines.values()]


def is_red(char) -> bool:
    color = tuple(round(v) for v in (char.get("non_stroking_color") or ())[:3])
    return color == RED


@pytest.fixture(scope="module", params=KINDS)
def kind_pages(request):
    return request.param, render(request.param)


def test_no_text_lies_outside_the_type_area(kind_pages):
    kind, pages = kind_pages
    for number, page in enumerate(pages, 1):
        for text, line in lines_of(page["chars"]):
            if FOLIO_RE.match(text):
                continue
            if kind in LETTERS and number == 1 and all(is_red(c) for c in line):
                continue  # §10.1: the letter's issuer name, 30 mm from the top
            assert min(c["x0"] for c in line) >= LEFT - TOLERANCE, (kind, number, text)
            assert max(c["x1"] for c in line) <= RIGHT + TOLERANCE, (kind, number, text)
            assert min(c["top"] for c in line) >= TOP - TOLERANCE, (kind, number, text)
            assert max(c["bottom"] for c in line) <= BOTTOM + TOLERANCE, (kind, number, text)


def test_every_page_carries_its_number(kind_pages):
    kind, pages = kind_pages
    for number, page in enumerate(pages, 1):
        folios = [
            (text, line)
            for text, line in lines_of(page["chars"])
            if FOLIO_RE.match(text) and min(c["top"] for c in line) > BOTTOM
        ]
        if kind in LETTERS and number == 1:
            assert folios == [], (kind, "a letter's first page shows no number")
            continue
        assert len(folios) == 1, (kind, number)
        text, line = folios[0]
        assert FOLIO_RE.match(text).group(1) == str(number)
        assert round(line[0]["size"]) == 14  # 4号
        # 7 mm below the type area; outer side, one character in.
        assert abs(min(c["top"] for c in line) - (BOTTOM + 7 * MM)) < 2 * MM
        if number % 2:
            assert abs(max(c["x1"] for c in line) - (RIGHT - 14)) < 2
        else:
            assert abs(min(c["x0"] for c in line) - (LEFT + 14)) < 2


def test_the_verification_code_is_the_note_under_the_date(kind_pages):
    """In parentheses, inside the type area, after the date (on its page or the next)."""
    kind, pages = kind_pages
    found = [
        (n, min(c["top"] for c in line), text, line)
        for n, page in enumerate(pages, 1)
        for text, line in lines_of(page["chars"])
        if "验证码" in text
    ]
    assert len(found) == 1, kind
    number, top, text, line = found[0]
    assert text.startswith("（验证码：7KQ3MXR2TD")
    assert TOP <= top and max(c["bottom"] for c in line) <= BOTTOM
    dates = [
        (n, min(c["top"] for c in date_line))
        for n, page in enumerate(pages, 1)
        for text, date_line in lines_of(page["chars"])
        if re.fullmatch(r"2026年3月5日", text)
    ]
    assert dates and (number, top) > dates[-1], kind


def test_a_decision_ends_with_its_imprint_at_the_foot_of_the_last_page(kind_pages):
    kind, pages = kind_pages
    printed = [
        line for text, line in lines_of(pages[-1]["chars"]) if text.endswith("2026年3月5日印发")
    ]
    if kind in LETTERS:
        assert printed == [], kind  # §10.1: a letter's 版记 has no 印发机关 and 印发日期
        return
    (line,) = printed
    assert round(line[0]["size"]) == 14  # 4号
    assert "".join(c["text"] for c in line).startswith("贵州省市场监督管理局")
    assert BOTTOM - 12 * MM < max(c["bottom"] for c in line) <= BOTTOM + TOLERANCE
    rules = [
        r
        for r in pages[-1]["rects"]
        if r["width"] > 150 * MM and BOTTOM - 25 * MM < r["top"] < BOTTOM + 1
    ]
    assert len(rules) >= 2, kind  # the separator lines above and below


def test_the_imprint_names_who_receives_a_copy():
    context = CONTEXTS["rejection_decision"]()
    issuer = {**context["issuer"], "copy_to": ["贵州省财政厅", "各市州市场监督管理局"]}
    pages = render("rejection_decision", issuer=issuer)
    texts = [text for text, _line in lines_of(pages[-1]["chars"])]
    assert "抄送：贵州省财政厅，各市州市场监督管理局。" in texts


def test_a_letter_has_the_red_issuer_name_and_double_lines():
    pages = render("acceptance_notice")
    first = pages[0]
    mark = [line for text, line in lines_of(first["chars"]) if text == "贵州省市场监督管理局"]
    assert mark and all(is_red(c) for c in mark[0])
    assert abs(min(c["top"] for c in mark[0]) - 30 * MM) < 2 * MM
    red_rules = sorted(
        r["top"]
        for r in first["rects"]
        if r["width"] > 165 * MM
        and tuple(
            round(v) for v in (r.get("stroking_color") or r.get("non_stroking_color") or ())[:3]
        )
        == RED
    )
    assert len(red_rules) >= 2
    assert red_rules[0] < TOP + 15 * MM  # under the issuer name
    assert abs(red_rules[-1] - (297 - 20) * MM) < 3 * MM  # 20 mm from the foot


def seals_of(pages) -> list[tuple[int, dict]]:
    """(page number, image) of each seal: the image 42 mm across (the QR code is 16 mm)."""
    return [
        (n, image)
        for n, page in enumerate(pages, 1)
        for image in page["images"]
        if abs(image["width"] - 42 * MM) < 2 * MM
    ]


def test_the_seal_is_printed_over_the_issuer_and_date(settings):
    settings.DOCUMENT_SEALS = {"贵州省市场监督管理局": "documents/seals/specimen.png"}
    pages = render("rejection_decision")
    ((number, seal),) = seals_of(pages)
    chars = pages[number - 1]["chars"]
    name = [line for text, line in lines_of(chars) if text == "贵州省市场监督管理局"][-1]
    date = [line for text, line in lines_of(chars) if text == "2026年3月5日"][-1]
    centre_x = (min(c["x0"] for c in name) + max(c["x1"] for c in name)) / 2
    assert abs((seal["x0"] + seal["x1"]) / 2 - centre_x) < 3 * MM
    for line in (name, date):  # §7.3.5: the seal presses on the name and the date
        assert seal["top"] < min(c["top"] for c in line) < seal["bottom"]
    settings.DOCUMENT_SEALS = {}
    assert seals_of(render("rejection_decision")) == []


def test_a_joint_document_names_every_issuer_with_its_seal(settings):
    settings.DOCUMENT_SEALS = {
        "贵州省市场监督管理局": "documents/seals/specimen.png",
        "贵州省财政厅": "documents/seals/specimen.png",
    }
    context = CONTEXTS["funding_decision"]()
    issuer = {**context["issuer"], "joint": [{"name": "贵州省财政厅"}]}
    pages = render("funding_decision", issuer=issuer)
    mark = [
        (text, line)
        for text, line in lines_of(pages[0]["chars"])
        if all(is_red(c) for c in line) and min(c["top"] for c in line) < 100 * MM
    ]
    # The mark names both, the lead first, with 文件 beside them (§7.2.4).
    assert [text for text, _line in mark] == ["贵州省市场监督管理局", "文件", "贵州省财政厅"]
    assert min(c["x0"] for c in mark[1][1]) > max(c["x1"] for c in mark[0][1])
    # A seal on each issuer's name (§7.3.5), the two side by side on one row.
    seals = seals_of(pages)
    assert len(seals) == 2 and seals[0][0] == seals[1][0]
    number = seals[0][0]
    chars = pages[number - 1]["chars"]
    names = {
        text: line
        for text, line in lines_of(chars)
        for name in ("贵州省市场监督管理局", "贵州省财政厅")
        if name in text
    }
    assert names
    lead, other = sorted((s for _n, s in seals), key=lambda s: s["x0"])
    assert lead["x1"] <= other["x0"] + 1  # they neither overlap nor cross
    assert LEFT - 1 <= lead["x0"] and other["x1"] <= RIGHT + 1


LONG_NAME = "贵州省市场监督管理局（贵州省知识产权局）"


@pytest.mark.parametrize("kind", ["award_letter", "rejection_decision"])
def test_a_long_issuer_name_is_set_smaller_on_one_line_not_broken(kind):
    """A letter's mark (22 pt) and a decision's (30 pt, with 文件) broke a 20-character name over
    two lines, the second crossed by the letter's red rule; the mark is set smaller instead."""
    context = CONTEXTS[kind]()
    issuer = {**context["issuer"], "name": LONG_NAME}
    pages = render(kind, issuer=issuer)
    red = [
        (text, line)
        for text, line in lines_of(pages[0]["chars"])
        if line and all(is_red(c) for c in line) and min(c["top"] for c in line) < 100 * MM
    ]
    assert len(red) == 1, [text for text, _line in red]
    text, line = red[0]
    assert text.replace(" ", "").startswith(LONG_NAME)
    assert LEFT - 1 <= min(c["x0"] for c in line) and max(c["x1"] for c in line) <= RIGHT + 1


def test_a_joint_signature_with_a_long_name_does_not_run_into_the_next(settings):
    """Two to a row, a 20-character lead name ran into 贵州省财政厅 beside it; it now wraps
    inside its half of the row."""
    settings.DOCUMENT_SEALS = {}
    context = CONTEXTS["funding_decision"]()
    issuer = {**context["issuer"], "name": LONG_NAME, "joint": [{"name": "贵州省财政厅"}]}
    pages = render("funding_decision", issuer=issuer)
    chars = [c for page in pages for c in page["chars"] if not is_red(c)]
    other = next(
        line for text, line in lines_of(chars) if text.endswith("贵州省财政厅") and len(text) < 40
    )
    neighbour = [c for c in other if c["x0"] >= max(c["x0"] for c in other) - 6 * 16]
    left_of_it = [c for c in other if c not in neighbour]
    assert left_of_it, "the lead's name shares the row"
    assert max(c["x1"] for c in left_of_it) < min(c["x0"] for c in neighbour) - 2 * MM


# --- what the demo writes -------------------------------------------------------------------------


@pytest.mark.django_db
def test_every_document_the_demo_machinery_writes_keeps_to_the_standard(
    tmp_path, monkeypatch, settings
):
    """`make demo` runs every program through the rehearsal machinery: run it here on a grant,
    the patent award and a two-round award, and measure every 公文 issued (certificates have a
    layout of their own): each kind appears, no text lies outside the type area, every page
    that should carry its number does."""
    from tests.programs_support import program_installed, program_text
    from workflows import demo, programs
    from workflows.rehearsal import rehearse

    program_installed(
        tmp_path, monkeypatch, settings, {"award_two_rounds": program_text("award_two_rounds")}
    )
    try:
        cast = demo.cast_make(expert_count=10, logins=False)
        for n, slug in enumerate(("tech_transfer_agency", "patent_award", "award_two_rounds")):
            assert rehearse(cast=cast, slug=slug, serial_start=1 + 1000 * n)["ok"]
    finally:
        programs.programs_loaded.cache_clear()
    documents = Document.objects.exclude(kind="certificate")
    assert set(documents.values_list("kind", flat=True)) == set(KINDS) - {
        "recognition_decision",  # the recognition programs issue these; their layout is the
    }  # commendation decision's, measured above
    for document in documents:
        with document.file.open("rb") as stored, pdfplumber.open(stored) as pdf:
            for number, page in enumerate(pdf.pages, 1):
                lines = lines_of(page.chars)
                folios = [t for t, line in lines if FOLIO_RE.match(t)]
                letter_first = document.kind in LETTERS and number == 1
                assert folios == ([] if letter_first else [f"— {number} —"]) or (
                    not letter_first and len(folios) == 1
                ), (document.kind, number, folios)
                for text, line in lines:
                    if FOLIO_RE.match(text) or (letter_first and all(is_red(c) for c in line)):
                        continue
                    inside = (
                        min(c["x0"] for c in line) >= LEFT - TOLERANCE
                        and max(c["x1"] for c in line) <= RIGHT + TOLERANCE
                        and min(c["top"] for c in line) >= TOP - TOLERANCE
                        and max(c["bottom"] for c in line) <= BOTTOM + TOLERANCE
                    )
                    assert inside, (document.kind, document.number, number, text)


def test_an_issuer_without_a_configured_seal_is_warned_of(settings):
    """An issuer missing from DOCUMENT_SEALS (a joint one the office forgot) went unsealed
    beside the others without a word; the system check names it."""
    from workflows.checks import issuer_seals_check

    settings.DOCUMENT_SEALS = {"贵州省财政厅": "documents/seals/specimen.png"}
    warnings = issuer_seals_check(None)
    assert warnings and all(w.id == "workflows.W014" for w in warnings)
    assert any("'贵州省市场监督管理局'" in w.msg for w in warnings)
    settings.DOCUMENT_SEALS = {"贵州省市场监督管理局": "documents/seals/specimen.png"}
    assert issuer_seals_check(None) == []
    settings.DOCUMENT_SEALS = {}
    assert issuer_seals_check(None) == []


def test_a_long_title_never_leaves_one_character_alone_on_its_last_line():
    """关于知识产权优势示范企业分级认定结果的决定 broke as …结果的决 / 定."""
    title = "关于知识产权优势示范企业分级认定结果的决定"
    pages = render("recognition_decision", title=title)
    body = [c for c in pages[0]["chars"] if not is_red(c) and c["size"] > 20]
    lines = [text for text, _line in lines_of(body) if text]
    assert "".join(lines) == title
    assert len(lines) == 2 and len(lines[-1]) >= 3, lines


def test_a_grants_list_keeps_serials_codes_and_a_long_tier_readable():
    """序号 broke over two lines, and a long tier name (国家级知识产权运营服务机构) ran to five
    lines of an 18 mm column; each credit code still sits on one line."""
    from tests.documents.contexts import funding_rows

    label = "国家级知识产权运营服务机构"
    row = {**funding_rows()[0], "tier_label": label, "uscc": "91520100000000002Q"}
    pages = render("funding_decision", rows=[row], total=row["amount"])
    table = [c for page in pages for c in page["chars"] if c["size"] < 13]  # the list, 12 pt
    texts = [text for text, _line in lines_of(table)]
    header = next(text for text in texts if "单位名称" in text)
    assert header.startswith("序号"), header
    assert any("91520100000000002Q" in text for text in texts), texts
    header_top = min(c["top"] for c in table if c["text"] == "序")
    tier_tops = {round(c["top"]) for c in table if c["text"] in label and c["top"] > header_top + 5}
    assert 1 <= len(tier_tops) <= 3, texts


def test_a_reason_with_no_break_in_it_wraps_inside_the_type_area_and_prints_whole():
    """Reasons of 3,000 characters with a long unbroken run printed 46 of them: the rest ran
    off the page and was clipped. An administrative decision's reasons print in full."""
    run = "A" * 600 + "0123456789" * 30
    pages = render("refusal_decision", reasons=f"材料不全：{run}。")
    chars = [c for page in pages for c in page["chars"] if c["text"] in "A0123456789"]
    assert sum(c["text"] == "A" for c in chars) >= 600
    assert all(LEFT - TOLERANCE <= c["x0"] and c["x1"] <= RIGHT + TOLERANCE for c in chars)


def certificate_seals(pages) -> list[dict]:
    """The seals of a certificate: its images larger than the 16 mm QR code."""
    return [image for image in pages[0]["images"] if image["width"] > 18 * MM]


def test_a_certificate_carries_its_issuers_seal_over_the_name_and_date(settings):
    """A certificate is sealed like a decision (§7.3.5): it printed the name and date alone."""
    settings.DOCUMENT_SEALS = {"贵州省市场监督管理局": "documents/seals/specimen.png"}
    pages = render("certificate")
    (seal,) = certificate_seals(pages)
    lines = dict(lines_of(pages[0]["chars"]))
    name, date = lines["贵州省市场监督管理局"], lines["2026年3月5日"]
    centre_x = (min(c["x0"] for c in name) + max(c["x1"] for c in name)) / 2
    assert abs((seal["x0"] + seal["x1"]) / 2 - centre_x) < 3 * MM
    for line in (name, date):
        assert seal["top"] < min(c["top"] for c in line) < seal["bottom"]
    settings.DOCUMENT_SEALS = {}
    assert certificate_seals(render("certificate")) == []


def test_a_joint_certificate_names_every_issuer_each_under_its_seal(settings):
    """Four issuers: each named, each seal on its own name, no seal on another's, and nothing
    over the verification note or the certificate's text."""
    settings.DOCUMENT_SEALS = {
        name: "documents/seals/specimen.png"
        for name in (
            "贵州省市场监督管理局",
            "贵州省财政厅",
            "贵州省人力资源和社会保障厅",
            "贵州省教育厅",
        )
    }
    context = CONTEXTS["certificate"]()
    joint = [{"name": n} for n in ("贵州省财政厅", "贵州省人力资源和社会保障厅", "贵州省教育厅")]
    pages = render("certificate", issuer={**context["issuer"], "joint": joint})
    assert len(pages) == 1
    lines = lines_of(pages[0]["chars"])
    printed = "".join(text for text, _line in lines).replace(" ", "")
    assert all(name in printed for name in settings.DOCUMENT_SEALS), printed
    seals = certificate_seals(pages)
    assert len(seals) == 4
    for n, one in enumerate(seals):
        assert not [other for other in seals[n + 1 :] if overlapping(one, other)]
    kept_clear = [c for text, line in lines if "验证码" in text or "有效期至" in text for c in line]
    assert kept_clear
    for seal in seals:
        assert not [char["text"] for char in kept_clear if overlapping(seal, char)]


def overlapping(one: dict, other: dict) -> bool:
    return (
        one["x0"] < other["x1"]
        and other["x0"] < one["x1"]
        and one["top"] < other["bottom"]
        and other["top"] < one["bottom"]
    )


def test_the_verification_note_never_stands_alone_on_a_letters_last_page():
    """A letter whose text ended low on its page put its verification note alone on a second
    page (§7.3.5.1: the lines are set closer instead). Whatever the number of items, the note
    stays under the date, on a page that holds text."""
    reasons = "获批文件扫描件不清晰，请重新上传清晰完整的扫描件并加盖单位公章。"
    pages_seen = set()
    for items in range(1, 13):
        pages = render("correction_notice", reasons="\n".join([reasons] * items))
        pages_seen.add(len(pages))
        texts = [text for text, _line in lines_of(pages[-1]["chars"]) if not FOLIO_RE.match(text)]
        own = [text for text in texts if "验证码" not in text and "/verify/" not in text]
        assert own, f"{items} items: the last page holds only {texts}"
    assert pages_seen == {1, 2}  # the letters did run onto a second page


FOUR_ISSUERS = (
    "贵州省市场监督管理局",
    "贵州省财政厅",
    "贵州省人力资源和社会保障厅",
    "贵州省科学技术厅",
)


def joint_of(names: tuple[str, ...], kind: str = "funding_decision") -> dict:
    context = CONTEXTS[kind]()
    return {**context["issuer"], "name": names[0], "joint": [{"name": n} for n in names[1:]]}


def test_a_joint_mark_keeps_each_name_on_one_line_spread_to_the_longest(settings):
    """§7.2.4 with four issuers: at 30 pt 贵州省人力资源和社会保障厅 broke, its 厅 alone on a
    line. The mark is set at the size that keeps the longest name beside 文件 inside the type
    area, and every name spreads to the same width (分散对齐), the lead first."""
    settings.DOCUMENT_SEALS = {}
    pages = render("funding_decision", issuer=joint_of(FOUR_ISSUERS))
    mark = [
        (text.replace(" ", ""), line)
        for text, line in lines_of(pages[0]["chars"])
        if line and all(is_red(c) for c in line) and min(c["top"] for c in line) < 140 * MM
    ]
    names = [(text, line) for text, line in mark if text != "文件"]
    assert [text for text, _line in names] == list(FOUR_ISSUERS), [t for t, _l in mark]
    lefts = [min(c["x0"] for c in line) for _text, line in names]
    rights = [max(c["x1"] for c in line) for _text, line in names]
    assert max(lefts) - min(lefts) <= 1 and max(rights) - min(rights) <= 2, (lefts, rights)
    (suffix,) = [line for text, line in mark if text == "文件"]
    assert min(c["x0"] for c in suffix) > max(rights)
    every = [c for _t, line in mark for c in line]
    assert LEFT - 1 <= min(c["x0"] for c in every) and max(c["x1"] for c in every) <= RIGHT + 1


@pytest.mark.parametrize("kind", ["funding_decision", "award_letter"])
@pytest.mark.parametrize("count", [3, 4])
def test_joint_seals_in_rows_never_touch_and_the_last_covers_the_date(settings, kind, count):
    """§7.3.5.2: each seal on its own issuer's name, no two seals touching, none over the text
    above the signature, and the last one over the date: three issuers put the third alone on
    the right of its row, over the date (a seal of a row below used to cover the row above's
    names)."""
    names = FOUR_ISSUERS[:count]
    settings.DOCUMENT_SEALS = {name: "documents/seals/specimen.png" for name in names}
    pages = render(kind, issuer=joint_of(names, kind))
    seals = seals_of(pages)
    assert len(seals) == count and len({number for number, _seal in seals}) == 1
    number = seals[0][0]
    placed = [seal for _n, seal in seals]
    for n, one in enumerate(placed):
        assert not [other for other in placed[n + 1 :] if overlapping(one, other)]
        assert LEFT - 1 <= one["x0"] and one["x1"] <= RIGHT + 1
    lines = [(t.replace(" ", ""), line) for t, line in lines_of(pages[number - 1]["chars"])]
    for name in names:
        line = next(line for text, line in lines if name in text)
        text = "".join(c["text"] for c in line)
        own = line[text.index(name) : text.index(name) + len(name)]
        mine = [seal for seal in placed if overlapping(seal, own[len(own) // 2])]
        assert len(mine) == 1, name  # its own seal, and only that one
    date = next(line for text, line in lines if re.fullmatch(r"\d{4}年\d{1,2}月\d{1,2}日", text))
    assert overlapping(placed[-1], date[len(date) // 2])
    top = min(seal["top"] for seal in placed)
    above = [line for text, line in lines if max(c["bottom"] for c in line) <= top + 1]
    assert above and not [
        c["text"] for line in above for c in line for seal in placed if overlapping(seal, c)
    ]

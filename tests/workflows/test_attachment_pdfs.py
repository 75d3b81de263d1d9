"""Attachments reviewers could not open, or could open only at risk, are refused at upload with a
message saying why, and the draft keeps the file it had: a file that does not start as a PDF, one
no reader can read, one without pages, an encrypted one, and a script hidden behind a damaged
cross-reference, where a check that follows the cross-reference does not look but a reader that
repairs the file does, and a file built to keep the check busy. Ordinary PDFs, from pypdf and from
WeasyPrint, are still accepted. Every file is a real PDF written with pypdf (or WeasyPrint, or
byte by byte where a writer would not write it so)."""

import io
import zlib
from collections.abc import Callable

import pytest
from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    IndirectObject,
    NameObject,
    NumberObject,
    StreamObject,
    TextStringObject,
)

from forms.pdf_safety import MAX_OBJECTS, PdfProblem, pdf_inspect
from tests.workflows import http_steps as steps
from workflows.models import Application

pytestmark = pytest.mark.django_db

Damage = Callable[[bytes], bytes] | None  # done to a stream's data


# --- PDFs -----------------------------------------------------------------------------------------


def cut_short(data: bytes) -> bytes:
    """The data broken off after its first bytes."""
    return data[:10]


def garbled(data: bytes) -> bytes:
    """Data of the same length that no longer decompresses."""
    return bytes(len(data))


def open_script() -> DictionaryObject:
    """An open action that runs JavaScript."""
    return DictionaryObject(
        {NameObject("/S"): NameObject("/JavaScript"), NameObject("/JS"): TextStringObject("1")}
    )


def pdf_written(pages: int = 1, *, script: bool = False, password: str | None = None) -> bytes:
    """A PDF of blank A4 pages as pypdf writes it (a cross-reference table, no object streams)."""
    writer = PdfWriter()
    for _page in range(pages):
        writer.add_blank_page(595, 842)
    if script:
        writer.root_object[NameObject("/OpenAction")] = open_script()
    if password is not None:
        writer.encrypt(user_password=password, owner_password="owner")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def written(item) -> bytes:
    """An object as it is written in a file."""
    buffer = io.BytesIO()
    item.write_to_stream(buffer)
    return buffer.getvalue()


def object_stream(number: int, objects: dict[int, bytes]) -> bytes:
    """Indirect object `number`: a compressed object stream holding `objects` (number -> object
    as written)."""
    index, body = [], b""
    for inner, item in objects.items():
        index.append(f"{inner} {len(body)}")
        body += item + b"\n"
    head = (" ".join(index) + "\n").encode()
    data = zlib.compress(head + body)
    return (
        f"{number} 0 obj\n<</Type/ObjStm/N {len(objects)}/First {len(head)}"
        f"/Filter/FlateDecode/Length {len(data)}>>stream\n".encode()
        + data
        + b"\nendstream\nendobj\n"
    )


def xref_stream(number: int, at: int, entries: dict, trailer: str, damage: Damage = None) -> bytes:
    """Indirect object `number`, written at byte `at`: a compressed cross-reference stream listing
    `entries` (number -> (type, field, field)) with `damage` done to its data, then the end of the
    file pointing to it."""
    entries = entries | {number: (1, at, 0)}
    rows = b"".join(
        bytes([kind]) + first.to_bytes(4, "big") + second.to_bytes(2, "big")
        for kind, first, second in (entries[n] for n in sorted(entries))
    )
    data = zlib.compress(rows)
    if damage:
        data = damage(data)
    index = " ".join(f"{n} 1" for n in sorted(entries))
    return (
        f"{number} 0 obj\n<</Type/XRef/Size {max(entries) + 1}/Index[{index}]/W[1 4 2]{trailer}"
        f"/Filter/FlateDecode/Length {len(data)}>>stream\n".encode()
        + data
        + f"\nendstream\nendobj\nstartxref\n{at}\n%%EOF\n".encode()
    )


def pdf_packed(pdf: bytes, *, damage: Damage = None) -> bytes:
    """`pdf` saved as PDF 1.5 writers save it: its dictionaries, the catalogue among them, in one
    compressed object stream, the cross-reference in a compressed xref stream (with `damage` done
    to that stream's data)."""
    reader = PdfReader(io.BytesIO(pdf))
    holder = int(reader.trailer["/Size"])
    objects = {n: reader.get_object(n) for n in range(1, holder)}
    packed = {n: written(item) for n, item in objects.items() if not isinstance(item, StreamObject)}
    out = io.BytesIO()
    out.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    entries = {}
    for number, item in objects.items():
        if number not in packed:
            entries[number] = (1, out.tell(), 0)
            out.write(f"{number} 0 obj\n".encode() + written(item) + b"\nendobj\n")
    entries |= {number: (2, holder, i) for i, number in enumerate(packed)}
    entries[holder] = (1, out.tell(), 0)
    out.write(object_stream(holder, packed))
    root = reader.trailer.raw_get("/Root").idnum
    out.write(xref_stream(holder + 1, out.tell(), entries, f"/Root {root} 0 R", damage))
    return out.getvalue()


def pdf_updated_unlisted(pdf: bytes, *, spelling: dict[bytes, bytes] | None = None) -> bytes:
    """`pdf` with an update appended: a new catalogue, opening with a script, and a page tree of
    the first page only, in an object stream, listed by an xref stream whose data is garbled.
    PDFium (Chrome's reader) repairs the file, finds the objects and shows the new catalogue (one
    page); pypdf follows the earlier cross-reference to the old one. `spelling` rewrites names in
    the new catalogue (e.g. with `#xx` escapes)."""
    reader = PdfReader(io.BytesIO(pdf))
    root = reader.trailer.raw_get("/Root").idnum
    size = int(reader.trailer["/Size"])
    holder, pages = size, size + 1
    catalogue = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Catalog"),
            NameObject("/Pages"): IndirectObject(pages, 0, None),
            NameObject("/OpenAction"): open_script(),
        }
    )
    first_page = reader.trailer["/Root"]["/Pages"].raw_get("/Kids")[0]
    tree = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Pages"),
            NameObject("/Kids"): ArrayObject([first_page]),
            NameObject("/Count"): NumberObject(1),
        }
    )
    catalogue_written = written(catalogue)
    for name, spelt in (spelling or {}).items():
        catalogue_written = catalogue_written.replace(name, spelt)
    update = object_stream(holder, {root: catalogue_written, pages: written(tree)})
    start = len(pdf) + 1
    entries = {root: (2, holder, 0), holder: (1, start, 0), pages: (2, holder, 1)}
    previous = int(pdf.rsplit(b"startxref", 1)[1].split()[0])
    trailer = f"/Root {root} 0 R/Prev {previous}"
    return (
        pdf
        + b"\n"
        + update
        + xref_stream(pages + 1, start + len(update), entries, trailer, garbled)
    )


def pdf_from_weasyprint(pages: int) -> bytes:
    """A PDF as the documents are rendered (WeasyPrint: object streams, an xref stream)."""
    from weasyprint import HTML

    body = "".join(
        f'<p style="break-before: page">第{n}页：技术转移机构批复文件。</p>' for n in range(pages)
    )
    return HTML(string=f"<html><body>{body}</body></html>").write_pdf()


def pdf_of_many_objects(count: int) -> bytes:
    """One page and `count` more tiny objects, none of them listed (a reader, and the check, must
    find each in the bytes): what a file made to keep a checker busy looks like."""
    parts = [
        b"%PDF-1.4\n1 0 obj <</Type/Catalog/Pages 2 0 R>> endobj\n"
        b"2 0 obj <</Type/Pages/Kids[3 0 R]/Count 1>> endobj\n"
        b"3 0 obj <</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>> endobj\n"
    ]
    parts += [b"%d 0 obj 1 endobj\n" % number for number in range(4, count + 4)]
    parts.append(b"trailer <</Root 1 0 R>>\n%%EOF\n")
    return b"".join(parts)


def executable_carrying(pdf: bytes) -> bytes:
    """A Windows program (`MZ` header) with `pdf` appended from byte 502."""
    return b"MZ" + b"\0" * 500 + pdf


# --- uploading ------------------------------------------------------------------------------------


def upload_refused(clients, call, content: bytes) -> list[str]:
    """Replace the draft's approval document by `content` (approval-new.pdf): the upload is refused,
    the draft keeps its earlier file. Returns what the form says about the new file."""
    application, _page = steps.draft_create(clients.applicant, call)
    uploads = {"approval_document": steps.pdf_file("approval-new.pdf", content)}
    response = steps.draft_edit(clients.applicant, application, uploads=uploads)
    assert "草稿已保存。" not in steps.messages_shown(response)
    application.refresh_from_db()
    assert application.status == Application.Status.DRAFT
    stored = application.attachments.filter(kind="approval_document")
    assert [attachment.original_name for attachment in stored] == ["approval_document.pdf"]
    return [error for error in steps.form_errors(response) if "approval-new.pdf" in error]


def test_a_program_with_a_pdf_inside_is_not_a_pdf(clients, call):
    """A PDF starts with %PDF-: a file that only carries one further on is something else."""
    errors = upload_refused(clients, call, executable_carrying(pdf_written()))
    assert any("不是PDF" in error for error in errors), errors


def test_a_file_no_reader_can_read_is_refused_as_damaged(clients, call):
    errors = upload_refused(clients, call, b"%PDF-1.7\n%%EOF")
    assert any("已损坏或格式不规范" in error and "重新导出PDF" in error for error in errors), errors


def test_a_pdf_without_pages_is_refused(clients, call):
    errors = upload_refused(clients, call, pdf_written(pages=0))
    assert any("没有任何页面" in error for error in errors), errors


@pytest.mark.parametrize("password", ["secret", ""], ids=["open_password", "permissions_only"])
def test_an_encrypted_pdf_is_refused_even_when_it_opens_without_a_password(clients, call, password):
    """Reviewers must open, print and keep the file; an encrypted one is refused, also when only
    a permissions password is set (its content cannot be checked without decrypting it, and an
    archived file may carry no encryption)."""
    errors = upload_refused(clients, call, pdf_written(password=password))
    assert any("已加密" in error and "未加密的PDF" in error for error in errors), errors


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(
            lambda: pdf_packed(pdf_written(pages=2, script=True), damage=cut_short),
            id="catalogue_in_an_object_stream_xref_stream_cut_short",
        ),
        pytest.param(
            lambda: pdf_updated_unlisted(pdf_written(pages=2)),
            id="update_in_an_object_stream_xref_stream_garbled",
        ),
        pytest.param(
            lambda: pdf_updated_unlisted(
                pdf_written(pages=2),
                spelling={b"/JavaScript": b"/Java#53cript", b"/JS": b"/J#53"},
            ),
            id="the_same_with_names_spelt_in_hex_escapes",
        ),
    ],
)
def test_a_script_behind_a_damaged_cross_reference_is_refused(clients, call, content):
    """Readers repair a damaged file from the objects they find in it and run its open action;
    the check finds the script there too."""
    errors = upload_refused(clients, call, content())
    assert any("不予接收" in error and "JavaScript" in error for error in errors), errors


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(lambda: steps.MINIMAL_PDF, id="smallest_pdf_without_a_cross_reference"),
        pytest.param(lambda: pdf_written(pages=3), id="pypdf_three_pages"),
        pytest.param(lambda: pdf_packed(pdf_written(pages=3)), id="pypdf_in_object_streams"),
        pytest.param(lambda: pdf_from_weasyprint(pages=3), id="weasyprint_three_pages"),
    ],
)
def test_ordinary_pdfs_are_accepted(clients, call, content):
    application, _page = steps.draft_create(clients.applicant, call)
    uploads = {"approval_document": steps.pdf_file("approval-new.pdf", content())}
    response = steps.draft_edit(clients.applicant, application, uploads=uploads)
    assert "草稿已保存。" in steps.messages_shown(response), steps.form_errors(response)
    current = application.attachments.get(kind="approval_document", superseded=False)
    assert current.original_name == "approval-new.pdf"


def test_a_file_built_to_keep_the_check_busy_is_refused_as_too_complex(clients, call):
    """More objects than any scan has (pypdf's repair alone would take seconds): refused at once,
    with what to do, and the draft keeps its file."""
    errors = upload_refused(clients, call, pdf_of_many_objects(MAX_OBJECTS + 1))
    assert any("结构过于复杂" in error and "打印为PDF" in error for error in errors), errors


def test_the_check_stops_when_its_time_is_up():
    """The walk and the search of object streams give up when the budget is spent, whatever the
    file (here an ordinary one, with no time at all): too complex, never a pass."""
    pdf = io.BytesIO(pdf_packed(pdf_written(pages=3)))
    assert pdf_inspect(pdf).problem is None
    assert pdf_inspect(pdf, seconds=0).problem == PdfProblem.TOO_COMPLEX

"""Reading generated PDFs in tests: text through pdftotext, fonts and images through pypdf;
the stored PDF of an issued document once the background job has rendered it."""

import subprocess
from io import BytesIO

import segno
from django.core.files.storage import default_storage
from pypdf import PdfReader

from documents.services import QR_OPTIONS
from tests.tasks_support import tasks_run


def document_pdf(document) -> bytes:
    """The stored PDF of an issued `document`: the background jobs enqueued so far run first
    (its rendering among them: a document issued one at a time is recorded with its PDF
    pending), as a worker would have run them by the time a user downloads it. Refreshes
    `document` (its file, SHA-256 and size)."""
    tasks_run()
    document.refresh_from_db()
    assert not document.is_pending, f"the PDF of {document} was not rendered"
    with default_storage.open(document.file.name) as stored:
        return stored.read()


def pdf_text(pdf: bytes, *, layout: bool = True) -> str:
    """The text pdftotext extracts; pages are separated by form feeds.

    `layout=True` keeps the lines as printed; `layout=False` reads block by block, so the cells of
    a table whose cells wrap come out one after the other instead of interleaved.
    """
    return subprocess.run(
        ["pdftotext", *(["-layout"] if layout else []), "-", "-"],
        input=pdf,
        capture_output=True,
        check=True,
        timeout=30,
    ).stdout.decode()


def compact(text: str) -> str:
    """Text without white space, so phrases match across the line breaks of the layout."""
    return "".join(text.split())


def pdf_fonts(pdf: bytes) -> dict[str, bool]:
    """Base font name -> whether the font program is embedded, for every font the pages use."""
    fonts = {}
    for page in PdfReader(BytesIO(pdf)).pages:
        for font in page["/Resources"].get("/Font", {}).values():
            font = font.get_object()
            descendants = font.get("/DescendantFonts")
            described = descendants[0].get_object() if descendants else font
            descriptor = described["/FontDescriptor"].get_object()
            fonts[str(font["/BaseFont"])] = any(
                key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3")
            )
    return fonts


def pdf_image_count(pdf: bytes) -> int:
    return sum(len(page.images) for page in PdfReader(BytesIO(pdf)).pages)


def qr_modules_printed(pdf: bytes) -> list[list[bool]]:
    """The QR code image beside the verification code, one pixel per module: True where dark."""
    # The smallest image of the page: the seal (when one is configured) is larger.
    images = [
        image
        for page in PdfReader(BytesIO(pdf)).pages
        for image in page.images
        if "验证码" in page.extract_text()
    ]
    image = min(images, key=lambda image: image.image.width)
    picture = image.image.convert("L")
    return [
        [picture.getpixel((x, y)) < 128 for x in range(picture.width)]
        for y in range(picture.height)
    ]


def qr_modules_of(url: str) -> list[list[bool]]:
    """The modules of the QR code for `url` (error correction M, the product's mask), with its
    4-module quiet zone."""
    qr = segno.make(url, **QR_OPTIONS)
    assert qr.error == "M"
    return [[bool(module) for module in row] for row in qr.matrix_iter()]

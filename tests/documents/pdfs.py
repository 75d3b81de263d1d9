"""Reading generated PDFs in tests: text through pdftotext, fonts and images through pypdf."""

import subprocess
from io import BytesIO

from pypdf import PdfReader


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

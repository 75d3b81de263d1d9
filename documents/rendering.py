"""PDF rendering: a Django template in, PDF bytes out, through WeasyPrint.

- Templates are rendered with Django's autoescaping, so user text never becomes markup.
- WeasyPrint fetches every URL it meets (`<img src>`, CSS `url()`, `<link>`). `safe_url_fetcher`
  serves only files from the project's own static directories, addressed as `static:<path>`
  (e.g. `<img src="static:documents/seal.png">`), and `data:` URLs, which carry their content
  inline and touch neither the network nor the file system (a QR code as an SVG data URI, say).
  Anything else (http(s)://, file://, ftp://, relative paths) is refused: WeasyPrint logs a
  warning, leaves the resource out and still renders the document.
- One `FontConfiguration` per process (building one per document costs hundreds of MB), and no
  `full_fonts`: HarfBuzz subsets the CJK fonts to the glyphs used (see `documents.checks`).
"""

import functools
import mimetypes
import threading
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo

from django.apps import apps
from django.conf import settings
from django.template.loader import render_to_string
from weasyprint import CSS, HTML
from weasyprint.formatting_structure import boxes
from weasyprint.text import ffi
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

# Official dates are Beijing dates, whatever time zone a user's request has activated.
OFFICIAL_TIME_ZONE = ZoneInfo("Asia/Shanghai")

STATIC_SCHEME = "static"
# Fixed base for relative references. urllib does not join relative paths onto an unknown
# scheme, so a relative `src` stays relative and is refused instead of reaching the file system.
BASE_URL = f"{STATIC_SCHEME}:/"

# Pango's font map behind the shared FontConfiguration is not documented as thread-safe:
# renders in one process take turns (run more worker processes for throughput).
_render_lock = threading.Lock()


class RefusedURLError(ValueError):
    """A document referred to a resource outside the project's static files."""


class SafeURLFetcher(URLFetcher):
    """WeasyPrint URL fetcher that serves `static:` files of the project and `data:` URLs only.

    WeasyPrint 70 expects a `URLFetcher` (it reads the instance's `_fail_on_errors`); a
    subclass overriding `fetch` is its documented extension point. Errors are non-fatal:
    WeasyPrint skips the resource with a warning.
    """

    def __init__(self) -> None:
        super().__init__(allowed_protocols={STATIC_SCHEME, "data"}, fail_on_errors=False)

    def fetch(self, url: str, headers: dict | None = None) -> URLFetcherResponse:
        scheme = url.partition(":")[0].lower()
        if scheme == "data":
            return super().fetch(url, headers)
        if scheme == STATIC_SCHEME:
            path = static_file_path(url)
            content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            return URLFetcherResponse(
                url, body=path.read_bytes(), headers={"Content-Type": content_type}
            )
        raise RefusedURLError(f"Documents may only refer to static: or data: URLs, not {url!r}.")


safe_url_fetcher = SafeURLFetcher()


def static_roots() -> list[tuple[str, Path]]:
    """(prefix, directory) pairs a `static:` URL may read from: STATICFILES_DIRS and the
    documents app's own `static/` directory."""
    roots = []
    for entry in settings.STATICFILES_DIRS:
        prefix, directory = entry if isinstance(entry, (list, tuple)) else ("", entry)
        roots.append((prefix.strip("/"), Path(directory).resolve()))
    roots.append(("", Path(apps.get_app_config("documents").path, "static").resolve()))
    return roots


def static_file_path(url: str) -> Path:
    """The file a `static:` URL names, or RefusedURLError if it is not inside a static root."""
    parts = urlsplit(url)
    if parts.netloc or parts.query:
        raise RefusedURLError(f"Malformed static URL {url!r}.")
    relative = unquote(parts.path).lstrip("/")
    for prefix, root in static_roots():
        if prefix:
            if not relative.startswith(prefix + "/"):
                continue
            candidate = root / relative.removeprefix(prefix + "/")
        else:
            candidate = root / relative
        candidate = candidate.resolve()
        if candidate.is_relative_to(root) and candidate.is_file():
            return candidate
    raise RefusedURLError(f"No static file for {url!r}.")


@functools.cache
def font_configuration() -> FontConfiguration:
    """The process-wide FontConfiguration, built at the first render."""
    return FontConfiguration()


# GB/T 9704 §7.3.5.1: where the last page would hold nothing of the document but its 附注 (the
# verification note), the lines are set closer (调整行距) to bring the note back under the date:
# 24 lines to the type area instead of 22, else 26. A 版记 at the foot of a page of its own is the
# standard's layout (§7.4) and is left so.
CLOSER_LINES = (
    "html { line-height: 9.375mm !important; }",
    "html { line-height: 8.654mm !important; }",
)


def render_pdf(template_name: str, context: dict) -> bytes:
    """Render a Django template (autoescaped) to PDF bytes with embedded, subsetted fonts. The
    issuers' seal images (settings.DOCUMENT_SEALS: {issuer name: static path}) are given as
    `seals`. A document whose last page would carry only its verification note is set again
    with closer lines (CLOSER_LINES, in turn), and the first setting that keeps the note with the
    text is the one printed; failing that, the usual one."""
    context = {"seals": getattr(settings, "DOCUMENT_SEALS", {}), **context}
    html = HTML(
        string=render_to_string(template_name, context),
        base_url=BASE_URL,
        url_fetcher=safe_url_fetcher,
    )
    with _render_lock:
        document = html.render(font_config=font_configuration())
        for lines in CLOSER_LINES if _note_alone(document) else ():
            closer = html.render(font_config=font_configuration(), stylesheets=[CSS(string=lines)])
            if not _note_alone(closer):
                document = closer
                break
        return document.write_pdf()


def _note_alone(document) -> bool:
    """Whether the last of several pages holds the verification note and nothing else of the
    document (its page number, in the margin, aside)."""
    if len(document.pages) < 2:
        return False
    return set(_texts_in_note(document.pages[-1]._page_box)) == {True}


def _texts_in_note(box, in_note: bool = False) -> Iterator[bool]:
    """For each piece of text under `box` (margin boxes skipped), whether it is the note's."""
    if isinstance(box, boxes.MarginBox):
        return
    element = getattr(box, "element", None)
    in_note = in_note or (
        element is not None and "verification" in (element.get("class") or "").split()
    )
    if isinstance(box, boxes.TextBox):
        if box.text.strip():
            yield in_note
        return
    for child in getattr(box, "children", ()):
        yield from _texts_in_note(child, in_note)


def harfbuzz_subset_available() -> bool:
    """Whether WeasyPrint loaded libharfbuzz-subset (else it subsets CJK fonts ~50× slower)."""
    return ffi.harfbuzz_subset is not None


def chinese_date(value: date | datetime) -> str:
    """A date as official documents print it: 2026年3月5日 (Beijing date, no leading zeros)."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(OFFICIAL_TIME_ZONE)
        value = value.date()
    return f"{value.year}年{value.month}月{value.day}日"


def text_ems(text: str, narrow: float = 0.5) -> float:
    """About how many ems `text` takes set in a Chinese face: a Chinese character (or a
    full-width sign) one em, any other character `narrow` of one. For sizing a line before it
    is drawn (a document's mark, a flow chart's boxes)."""
    return sum(1.0 if ord(char) > 0x2E7F else narrow for char in str(text or ""))

"""What an uploaded PDF must be for reviewers to open it safely: readable, unencrypted, with pages,
and carrying no scripts (/JavaScript, /JS), launch actions (/Launch) or embedded files
(/EmbeddedFile, /EmbeddedFiles). Reviewers open the attachments in their own PDF readers, and those
readers repair a damaged file by finding every object in its bytes, so the check does not trust the
file's cross-reference alone: `pypdf` walks the objects from the catalogue, and the names are also
searched in the bytes of the file and of every object stream written in it, listed or not.

The check has a budget (`CHECK_SECONDS`, and at most `MAX_OBJECTS` objects): a file built to keep
it busy (a million tiny objects, or arrays of references a reader must follow) is refused as too
complex instead of holding a web process for tens of seconds."""

import logging
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from enum import StrEnum
from io import BytesIO

from pypdf import PdfReader
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    IndirectObject,
    NameObject,
    StreamObject,
    read_object,
)

ACTIVE_KEYS = {"/JS", "/JavaScript", "/EmbeddedFile", "/EmbeddedFiles", "/RichMedia"}
ACTIVE_ACTIONS = {"/JavaScript", "/Launch", "/ImportData", "/RichMediaExecute"}
ACTIVE_NAMES = ACTIVE_KEYS | ACTIVE_ACTIONS | {"/FileAttachment"}
# A scanned application document has a few thousand objects; more than this is not an attachment
# a reviewer needs, and the walk must stay cheap.
MAX_OBJECTS = 100_000
# Wall-clock seconds the check may take after pypdf has read the file (which the object limit
# above bounds); an ordinary 20 MB scan takes well under one.
CHECK_SECONDS = 3.0

# A name as written in the file: a slash, then anything up to whitespace or a delimiter. `#xx`
# writes a character by its hex code (/Java#53cript is /JavaScript).
NAME = re.compile(rb"/([^\s\x00/<>\[\](){}%]*)")
HEX_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
OBJECT_HEADER = re.compile(rb"(?<!\d)\d+\s+\d+\s+obj\b\s*")
# A cross-reference said to start at byte 0, where none is, makes pypdf rebuild it from the objects.
REBUILD = b"\nstartxref\n0\n%%EOF\n"


class PdfProblem(StrEnum):
    """Why reviewers could not open the file."""

    DAMAGED = "damaged"  # pypdf cannot read it, or an object stream in it cannot be decoded
    ENCRYPTED = "encrypted"  # an open or a permissions password, empty or not
    NO_PAGES = "no_pages"
    TOO_COMPLEX = "too_complex"  # more objects, or more work to check, than the budget allows


class _OverBudget(Exception):
    pass


class _Budget:
    """The check's deadline, looked at in its loops."""

    def __init__(self, seconds: float):
        self.ends = time.monotonic() + seconds

    def check(self) -> None:
        if time.monotonic() > self.ends:
            raise _OverBudget


@dataclass(frozen=True)
class PdfFindings:
    """What an uploaded file turned out to be: a problem that keeps reviewers from opening it (None
    when there is none), and the kinds of active content it carries (empty when none)."""

    problem: PdfProblem | None = None
    active_content: list[str] = field(default_factory=list)


def pdf_inspect(stream, *, seconds: float = CHECK_SECONDS) -> PdfFindings:
    """Read the uploaded PDF as reviewers' readers would and say what stands in their way."""
    with _pypdf_quiet():
        return _inspected(stream, _Budget(seconds))


@contextmanager
def _pypdf_quiet():
    """pypdf warns of every file it repairs (incorrect startxref pointer): an upload is not a
    fault of the server's, and the finding says what matters."""
    logger = logging.getLogger("pypdf")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _inspected(stream, budget: _Budget) -> PdfFindings:
    stream.seek(0)
    data = stream.read()
    stream.seek(0)
    # Every object ends in `endobj`; pypdf's repair reads each one, so count them first.
    if data.count(b"endobj") > MAX_OBJECTS:
        return PdfFindings(problem=PdfProblem.TOO_COMPLEX)
    # pypdf raises many kinds of error on a malformed file; any of them means the file is not one
    # a reviewer's reader would show as it was meant to be.
    try:
        reader = _reader(data)
        if reader.is_encrypted:
            return PdfFindings(problem=PdfProblem.ENCRYPTED)
        if not len(reader.pages):
            return PdfFindings(problem=PdfProblem.NO_PAGES)
        found = _walked(reader.trailer["/Root"], budget)
        for contents in [data, *_object_streams(data, reader, budget)]:
            found |= _names_in(contents)
    except _OverBudget:
        return PdfFindings(problem=PdfProblem.TOO_COMPLEX)
    except Exception:
        return PdfFindings(problem=PdfProblem.DAMAGED)
    return PdfFindings(active_content=sorted(found))


def _reader(data: bytes) -> PdfReader:
    """pypdf's reading of the file; when pypdf cannot follow the file's cross-reference to a
    catalogue with pages, its reading after rebuilding the cross-reference from the objects it
    finds, as readers repair a file (the smallest valid PDFs have no cross-reference at all)."""
    with suppress(Exception):
        reader = PdfReader(BytesIO(data), strict=False)
        if reader.is_encrypted or len(reader.pages):
            return reader
    return PdfReader(BytesIO(data + REBUILD), strict=False)


def _object_streams(data: bytes, reader: PdfReader, budget: _Budget) -> Iterator[bytes]:
    """The decoded contents of every object stream written in the file, whether its
    cross-reference lists it or not (a repairing reader finds them all). Like pypdf's own repair,
    text that only looks like an object is passed over; an object stream that cannot be decoded
    raises, as what it holds cannot be checked. Only objects with a stream (the keyword before
    their `endobj`) are read."""
    buffer = BytesIO(data)
    for count, header in enumerate(OBJECT_HEADER.finditer(data)):
        if count == MAX_OBJECTS:
            raise _OverBudget
        if count % 256 == 0:
            budget.check()
        end = data.find(b"endobj", header.end())
        if data.find(b"stream", header.end(), len(data) if end < 0 else end) < 0:
            continue
        buffer.seek(header.end())
        try:
            item = read_object(buffer, reader)
        except Exception:
            continue
        if isinstance(item, StreamObject) and "/First" in item:  # /First: where its objects begin
            yield item.get_data()


def _names_in(data: bytes) -> set[str]:
    """The active names written in `data`."""
    return {_name_read(written) for written in set(NAME.findall(data))} & ACTIVE_NAMES


def _name_read(written: bytes) -> str:
    """A name as a reader reads it, `#xx` escapes turned into the characters they stand for."""
    return "/" + HEX_ESCAPE.sub(lambda code: bytes([int(code[1], 16)]), written).decode("latin-1")


def _walked(root, budget: _Budget) -> set[str]:
    found: set[str] = set()
    seen: set[tuple[int, int]] = set()
    todo = [root]
    walked = 0
    while todo and walked < MAX_OBJECTS:
        if walked % 256 == 0:
            budget.check()
        item = todo.pop()
        if isinstance(item, IndirectObject):
            key = (item.idnum, item.generation)
            if key in seen:
                continue
            seen.add(key)
            try:
                item = item.get_object()
            except Exception:  # a dangling reference: nothing to look at
                continue
        walked += 1
        if isinstance(item, DictionaryObject):
            for name, value in item.items():
                if name in ACTIVE_KEYS:
                    found.add(name)
                if name == "/S" and isinstance(value, NameObject) and value in ACTIVE_ACTIONS:
                    found.add(str(value))
                if name == "/Subtype" and value == "/FileAttachment":
                    found.add("/FileAttachment")
                if name != "/Parent":
                    todo.append(value)
        elif isinstance(item, ArrayObject):
            todo.extend(item)
    return found

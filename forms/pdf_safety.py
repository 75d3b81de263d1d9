"""What an uploaded PDF may not carry: scripts (/JavaScript, /JS), launch actions (/Launch) and
embedded files (/EmbeddedFile, /EmbeddedFiles). Reviewers open the attachments in their own PDF
readers, so such content is refused at upload, checked with `pypdf` by walking the document's
objects from its catalogue (names inside compressed object streams included)."""

import re

from pypdf import PdfReader
from pypdf.errors import PdfReadError
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject

ACTIVE_KEYS = {"/JS", "/JavaScript", "/EmbeddedFile", "/EmbeddedFiles", "/RichMedia"}
ACTIVE_ACTIONS = {"/JavaScript", "/Launch", "/ImportData", "/RichMediaExecute"}
# A scanned application document has a few thousand objects; more than this is not an attachment
# a reviewer needs, and the walk must stay cheap.
MAX_OBJECTS = 200_000


# The same names written plainly in the file: PDF readers repair files pypdf cannot parse, so a
# damaged file is searched as bytes too.
RAW_NAMES = re.compile(rb"/(JavaScript|JS|Launch|EmbeddedFiles?|RichMedia)(?=[\s/<>\[\]()%]|$)")


def pdf_active_content(stream) -> list[str]:
    """The kinds of active content found in the PDF (empty when it carries none)."""
    stream.seek(0)
    found = {"/" + m.decode() for m in RAW_NAMES.findall(stream.read())}
    stream.seek(0)
    try:
        reader = PdfReader(stream, strict=False)
        root = reader.trailer["/Root"]
    except (PdfReadError, KeyError, ValueError, TypeError):
        return sorted(found)  # unparseable: what the bytes show is all there is to see
    finally:
        stream.seek(0)
    found |= _walked(root)
    stream.seek(0)
    return sorted(found)


def _walked(root) -> set[str]:
    found: set[str] = set()
    seen: set[tuple[int, int]] = set()
    todo = [root]
    walked = 0
    while todo and walked < MAX_OBJECTS:
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

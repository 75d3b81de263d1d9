"""Public verification of issued documents: find a document by the code printed on it, and check
whether a file someone holds is byte-identical to the archived one."""

import hashlib
import hmac
import unicodedata
from dataclasses import dataclass

from .models import VERIFICATION_ALPHABET, Document
from .signing import SignatureCheck, pdf_signature_check

UPLOAD_MAX_BYTES = 20 * 1024 * 1024


def verification_code_normalize(code: str) -> str:
    """The code as stored: upper case, half-width (a code typed with a Chinese input method comes
    full-width: Ｕ９…), without the spaces or dashes people type between groups."""
    half = unicodedata.normalize("NFKC", code)
    return "".join(half.split()).replace("-", "").upper()


def document_by_verification_code(code: str) -> Document | None:
    code = verification_code_normalize(code)
    if not code or any(char not in VERIFICATION_ALPHABET for char in code):
        return None
    return (
        Document.objects.select_related("institution", "replaces")
        .filter(verification_code=code)
        .first()
    )


def sha256_of_chunks(chunks) -> tuple[str, int]:
    """(hex SHA-256, size in bytes) of a stream of byte chunks."""
    digest = hashlib.sha256()
    size = 0
    for chunk in chunks:
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


def document_file_matches(document: Document, upload) -> bool:
    """Whether `upload` (a Django UploadedFile) has exactly the bytes of the archived file."""
    sha256, size = sha256_of_chunks(upload.chunks())
    return size == document.size and hmac.compare_digest(sha256, document.sha256)


@dataclass(frozen=True)
class FileCheck:
    """The two checks of a file someone holds: the archived hash and the PDF's own signature."""

    matches: bool
    signature: SignatureCheck


def document_file_check(document: Document, upload) -> FileCheck:
    data = b"".join(upload.chunks())
    matches = len(data) == document.size and hmac.compare_digest(
        hashlib.sha256(data).hexdigest(), document.sha256
    )
    return FileCheck(matches=matches, signature=pdf_signature_check(data))

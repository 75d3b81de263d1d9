"""PAdES signatures on every issued PDF (pyHanko), so that any PDF reader shows a document
genuine and unchanged, and the verification page can check the signature as well as the
archived hash.

Keys and certificates come from settings, never from the repository:

- `DOCUMENT_SIGNER`: the office's default signing identity, {"key": PEM key file, "cert": PEM
  certificate file, "chain": [PEM files of the intermediate certificates], "passphrase": the key's
  passphrase or ""}; `DOCUMENT_SIGNERS` gives an issuer (by name) an identity of its own.
- `DOCUMENT_TRUST_ROOTS`: PEM files of the root certificates the verification page trusts.
- `DOCUMENT_SIGNING_THROWAWAY_CA` (development and tests): a throw-away CA made on first use in
  `DOCUMENT_SIGNING_DIR`, and a certificate from it for each issuer.

A national electronic seal (GB/T 38540, SM2) needs a provider's signing device or service: it
would be another kind of identity here (a pyHanko `Signer` that calls the provider), chosen in
`signer_for`; the rest of the project only calls `pdf_sign` and `pdf_signature_check`.
"""

import asyncio
import datetime
import functools
import hashlib
import io
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.conf import settings
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.errors import SignatureValidationError
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

FIELD_NAME = "IssuerSignature"
THROWAWAY_CA_NAME = "开发测试用根证书（非正式）"


# --- identities --------------------------------------------------------------------------------


@functools.cache
def signer_for(issuer_name: str) -> signers.Signer | None:
    """The signing identity of an issuer: its own, the office's, or (development and tests) one
    from the throw-away CA; None when none is configured (the start-up check refuses that in
    production)."""
    configured = getattr(settings, "DOCUMENT_SIGNERS", {}).get(issuer_name) or getattr(
        settings, "DOCUMENT_SIGNER", None
    )
    if configured:
        return signers.SimpleSigner.load(
            key_file=configured["key"],
            cert_file=configured["cert"],
            ca_chain_files=tuple(configured.get("chain") or ()),
            key_passphrase=(configured.get("passphrase") or "").encode() or None,
        )
    if getattr(settings, "DOCUMENT_SIGNING_THROWAWAY_CA", False):
        return _throwaway_signer(issuer_name)
    return None


def signing_configured() -> bool:
    return bool(
        getattr(settings, "DOCUMENT_SIGNER", None)
        or getattr(settings, "DOCUMENT_SIGNERS", {})
        or getattr(settings, "DOCUMENT_SIGNING_THROWAWAY_CA", False)
    )


@functools.cache
def trust_roots() -> tuple:
    """The root certificates the verification page trusts."""
    roots = [_load_asn1_cert(Path(path)) for path in getattr(settings, "DOCUMENT_TRUST_ROOTS", [])]
    if getattr(settings, "DOCUMENT_SIGNING_THROWAWAY_CA", False):
        roots.append(_load_asn1_cert(_throwaway_ca()[1]))
    return tuple(roots)


def _load_asn1_cert(path: Path) -> asn1_x509.Certificate:
    certificate = x509.load_pem_x509_certificate(path.read_bytes())
    return asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))


# --- the throw-away CA of development and tests -------------------------------------------


def _folder() -> Path:
    folder = Path(settings.DOCUMENT_SIGNING_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _write_once(path: Path, data: bytes) -> None:
    """Write `path` unless another process wrote it first (then keep theirs)."""
    temporary = path.with_suffix(f".{os.getpid()}.tmp")
    temporary.write_bytes(data)
    try:
        os.link(temporary, path)
    except FileExistsError:
        pass
    finally:
        temporary.unlink()


def _new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _key_pem(key) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


# X.509 caps a common or organisation name at 64 (RFC 5280 ub-common-name); the library counts
# the UTF-8 bytes, so 21 Chinese characters.
NAME_LIMIT = 64


def name_fitted(text: str, limit: int = NAME_LIMIT) -> str:
    """`text` cut to the longest start that X.509 takes as a name (贵州省市场监督管理局（贵州省
    知识产权局）… is longer); a bracketed second name is dropped first, whole."""
    if len(text.encode()) <= limit:
        return text
    for bracket in ("（", "("):
        head = text.split(bracket, 1)[0]
        if head and len(head.encode()) <= limit:
            return head
    fitted = text
    while len(fitted.encode()) > limit:
        fitted = fitted[:-1]
    return fitted


def _certificate(subject: str, public_key, issuer_name: x509.Name, issuer_key, ca: bool):
    now = datetime.datetime.now(datetime.UTC)
    fitted = name_fitted(subject)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, fitted),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, fitted),
        ]
    )
    usage = x509.KeyUsage(
        digital_signature=True,
        content_commitment=not ca,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer_name if not ca else name)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(usage, critical=True)
        .sign(issuer_key, hashes.SHA256())
    )


def _throwaway_ca() -> tuple[Path, Path]:
    """(key file, certificate file) of the throw-away CA, made on first use."""
    folder = _folder()
    key_path, cert_path = folder / "ca.key.pem", folder / "ca.cert.pem"
    if not cert_path.exists():
        key = _new_key()
        certificate = _certificate(THROWAWAY_CA_NAME, key.public_key(), None, key, ca=True)
        _write_once(key_path, _key_pem(key))
        if key_path.read_bytes() == _key_pem(key):
            _write_once(cert_path, certificate.public_bytes(serialization.Encoding.PEM))
    while not cert_path.exists():  # another process is writing it
        pass
    return key_path, cert_path


def _throwaway_signer(issuer_name: str) -> signers.SimpleSigner:
    ca_key_path, ca_cert_path = _throwaway_ca()
    stem = "issuer-" + hashlib.sha256(issuer_name.encode()).hexdigest()[:16]
    key_path, cert_path = _folder() / f"{stem}.key.pem", _folder() / f"{stem}.cert.pem"
    if not cert_path.exists():
        ca_key = serialization.load_pem_private_key(ca_key_path.read_bytes(), password=None)
        ca_certificate = x509.load_pem_x509_certificate(ca_cert_path.read_bytes())
        key = _new_key()
        certificate = _certificate(
            issuer_name, key.public_key(), ca_certificate.subject, ca_key, ca=False
        )
        _write_once(key_path, _key_pem(key))
        if key_path.read_bytes() == _key_pem(key):
            _write_once(cert_path, certificate.public_bytes(serialization.Encoding.PEM))
        while not cert_path.exists():
            pass
    key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    return signers.SimpleSigner(
        signing_cert=_load_asn1_cert(cert_path),
        signing_key=asn1_keys.PrivateKeyInfo.load(
            key.private_bytes(
                serialization.Encoding.DER,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        ),
        cert_registry=SimpleCertificateStore.from_certs([_load_asn1_cert(ca_cert_path)]),
    )


# --- signing and checking ----------------------------------------------------------------------


def pdf_sign(pdf: bytes, issuer_name: str) -> bytes:
    """The PDF with the issuer's PAdES signature over the whole file (unchanged when no identity
    is configured)."""
    signer = signer_for(issuer_name)
    if signer is None:
        return pdf
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    metadata = signers.PdfSignatureMetadata(
        field_name=FIELD_NAME,
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256",
        reason="印发公文",
        name=issuer_name,
    )
    sign = functools.partial(signers.sign_pdf, writer, metadata, signer=signer)
    if _event_loop_running():
        # pyHanko signs through asyncio.run(), which refuses to start inside a running loop
        # (an ASGI server's, a browser driver's): sign in a thread of its own, which has none.
        with ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(sign).result().getvalue()
    return sign().getvalue()


def _event_loop_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


@dataclass(frozen=True)
class SignatureCheck:
    """What a PDF's signature says: whether it is signed, the signature matches the bytes and
    covers the whole file (nothing changed after signing), the certificate is trusted, by whom."""

    signed: bool
    intact: bool = False
    whole_file: bool = False
    trusted: bool = False
    signer: str = ""

    @property
    def valid(self) -> bool:
        return self.signed and self.intact and self.whole_file and self.trusted


def pdf_signature_check(data: bytes) -> SignatureCheck:
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        signatures = reader.embedded_signatures
    except Exception:  # not a PDF pyHanko can read: nothing is signed
        return SignatureCheck(signed=False)
    if not signatures:
        return SignatureCheck(signed=False)
    signature = signatures[-1]
    try:
        status = validate_pdf_signature(
            signature, ValidationContext(trust_roots=list(trust_roots()), allow_fetching=False)
        )
    except (SignatureValidationError, ValueError, KeyError):
        return SignatureCheck(signed=True)
    return SignatureCheck(
        signed=True,
        intact=bool(status.intact and status.valid),
        whole_file=status.coverage == SignatureCoverageLevel.ENTIRE_FILE,
        trusted=bool(status.trusted),
        signer=status.signing_cert.subject.human_friendly if status.signing_cert else "",
    )

"""Keys, names, dates and signature algorithms of signed X.509 objects, read fail-closed for the revocation checks.

Shared by the CRL (:mod:`mssante.pki._crl`) and OCSP (:mod:`mssante.pki._ocsp`) readers and the checker: each
helper answers None (or a safe text) for what it cannot read instead of raising.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta, timezone
from typing import TypeAlias

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from cryptography.x509 import ocsp

from mssante.errors import InvalidInput

__all__ = [
    "DEFAULT_CLOCK_SKEW",
    "aware_utc",
]

DEFAULT_CLOCK_SKEW = timedelta(minutes=5)
"""How far a ``thisUpdate`` may be after the time checked, to allow for clocks that disagree."""

_WEAK_HASHES = (hashes.SHA1, hashes.MD5)
# The key algorithms IGC Santé and the OCSP/CRL signers of the trust space use. DSA is not among them (and is
# deprecated by cryptography): a DSA key is an unsupported algorithm, reported as such (_unsupported_key).
_PUBLIC_KEY_TYPES = (
    rsa.RSAPublicKey,
    ec.EllipticCurvePublicKey,
    ed25519.Ed25519PublicKey,
    ed448.Ed448PublicKey,
)
_CertificateKey: TypeAlias = (
    rsa.RSAPublicKey | ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey | ed448.Ed448PublicKey
)
_PARSE_ERRORS = (
    ValueError,
    TypeError,
    KeyError,  # a name whose string type cryptography 45 does not know
    OverflowError,
    UnsupportedAlgorithm,
    x509.InvalidVersion,
    x509.DuplicateExtension,
    x509.UnsupportedGeneralNameType,
)


def aware_utc(at: object) -> datetime:
    """``at`` in UTC; :class:`~mssante.errors.InvalidInput` when it is not a timezone-aware datetime."""
    if not isinstance(at, datetime) or at.utcoffset() is None:
        raise InvalidInput(f"the time checked must be a timezone-aware datetime, not {at!r}")
    return at.astimezone(timezone.utc)


def _printable(text: str, limit: int = 300) -> str:
    """``text`` with control and other non-printable characters escaped, cut at ``limit``: safe in a log line."""
    shown = "".join(char if char.isprintable() else ascii(char)[1:-1] for char in text[: limit + 1])
    return shown if len(shown) <= limit else shown[:limit] + "..."


def _when(moment: datetime | None) -> str:
    return "none" if moment is None else moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _name(name: x509.Name) -> str:
    try:
        return name.rfc4514_string() or "(empty name)"
    except ValueError:  # pragma: no cover - an attribute cryptography cannot render
        return repr(name)


def _extension(owner: x509.Certificate | x509.CertificateRevocationList, kind: type[x509.ExtensionType]) -> object:
    """The value of an extension, or None when absent or unreadable."""
    try:
        return owner.extensions.get_extension_for_class(kind).value
    except (x509.ExtensionNotFound, ValueError):
        return None


def _key_usage(cert: x509.Certificate) -> x509.KeyUsage | None:
    value = _extension(cert, x509.KeyUsage)
    return value if isinstance(value, x509.KeyUsage) else None


def _public_key(cert: x509.Certificate) -> _CertificateKey | None:
    try:
        key = cert.public_key()
    except _PARSE_ERRORS:
        return None
    return key if isinstance(key, _PUBLIC_KEY_TYPES) else None


def _unsupported_key(cert: x509.Certificate) -> str:
    """`` (its key ... is not supported)`` when the key of ``cert`` cannot verify anything here, else ``""``."""
    if _public_key(cert) is not None:
        return ""
    try:
        algorithm = type(cert.public_key()).__name__.removesuffix("PublicKey").lstrip("_") or "unknown"
    except _PARSE_ERRORS:
        algorithm = "unreadable"
    return f" (its key algorithm, {algorithm}, is not supported: RSA, ECDSA and EdDSA are)"


def _key_der(key: _CertificateKey) -> bytes:
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _computed_key_id(cert: x509.Certificate) -> bytes | None:
    """SHA-1 of the subject public key BIT STRING: the OCSP responder key hash (RFC 6960 §4.2.1)."""
    key = _public_key(cert)
    if key is None:
        return None
    try:
        return x509.SubjectKeyIdentifier.from_public_key(key).digest
    except _PARSE_ERRORS:  # pragma: no cover - every key type above is supported
        return None


def _subject_key_id(cert: x509.Certificate) -> bytes | None:
    """The SKI extension of ``cert``, or the RFC 5280 method-1 identifier of its key when it has none."""
    value = _extension(cert, x509.SubjectKeyIdentifier)
    if isinstance(value, x509.SubjectKeyIdentifier):
        return value.digest
    return _computed_key_id(cert)


def _weak_hash(signed: x509.Certificate | x509.CertificateRevocationList | ocsp.OCSPResponse) -> str | None:
    """The name of the weak hash (SHA-1, MD5) ``signed`` is signed with, or None."""
    try:
        algorithm = signed.signature_hash_algorithm
    except UnsupportedAlgorithm:
        return None
    return algorithm.name if isinstance(algorithm, _WEAK_HASHES) else None


def _algorithm(signed: x509.Certificate | x509.CertificateRevocationList | ocsp.OCSPResponse) -> str:
    oid = signed.signature_algorithm_oid
    return getattr(oid, "_name", None) or oid.dotted_string


def _valid_at(cert: x509.Certificate, at: datetime) -> bool:
    return cert.not_valid_before_utc <= at <= cert.not_valid_after_utc


def _is_ca(cert: x509.Certificate) -> bool:
    value = _extension(cert, x509.BasicConstraints)
    return isinstance(value, x509.BasicConstraints) and value.ca


def _uris(names: Iterable[x509.GeneralName] | None) -> list[str]:
    return [name.value for name in names or () if isinstance(name, x509.UniformResourceIdentifier)]


@contextlib.contextmanager
def _tolerant() -> Iterator[None]:
    """Ignore the warnings ``cryptography`` emits on merely odd encodings (name lengths, serial signs).

    A CRL or OCSP response is judged by its signature, not by the style of its names; without this, a caller
    running with warnings as errors would get a ``UserWarning`` out of a parse.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # CryptographyDeprecationWarning is one too
        yield

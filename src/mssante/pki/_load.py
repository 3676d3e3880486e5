"""Reading certificates from PEM, DER, PKCS#7 (with a BER fallback) and PKCS#12, bounded."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator

import attrs
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.hazmat.primitives.serialization import pkcs7, pkcs12
from cryptography.utils import CryptographyDeprecationWarning

from mssante.errors import InvalidInput
from mssante.pki import _codes
from mssante.report import Finding, Report

__all__ = [
    "MAX_CERTIFICATES",
    "MAX_INPUT_BYTES",
    "Pkcs12Bundle",
    "load_certificate",
    "load_certificates",
    "load_pkcs12",
]

MAX_INPUT_BYTES = 4 * 1024 * 1024
"""No certificate file of this PKI is near this size (the 8 IGC Santé CAs fit in 20 kB)."""

MAX_CERTIFICATES = 64
"""No chain or bundle of this PKI holds more certificates than this."""

_PEM_BLOCK = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----\r?\n(.*?)-----END \1-----", re.DOTALL)


def _refuse(code_finding: Finding, subject: str) -> InvalidInput:
    return InvalidInput(code_finding.message, Report(findings=[code_finding], subject=subject))


def _check_size(data: bytes, what: str) -> None:
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError(f"certificates are read from bytes, not {type(data).__name__}")
    if len(data) > MAX_INPUT_BYTES:
        raise _refuse(_codes.TOO_LARGE(f"{what} has {len(data)} bytes; at most {MAX_INPUT_BYTES} are read"), what)


def _der_elements(data: bytes, start: int, end: int) -> Iterator[tuple[int, int, int, int]]:
    """(tag, header start, content start, end) of each BER element in data[start:end] (definite lengths)."""
    position = start
    while position < end:
        if data[position : position + 2] == b"\x00\x00":  # end of an indefinite-length content
            return
        tag = data[position]
        cursor = position + 1
        if tag & 0x1F == 0x1F:
            raise ValueError("multi-byte tags do not occur in PKCS#7 certificate bags")
        first = data[cursor]
        cursor += 1
        if first == 0x80:
            length = -1
        elif first & 0x80:
            size = first & 0x7F
            if size == 0 or size > 4:
                raise ValueError("unsupported length")
            length = int.from_bytes(data[cursor : cursor + size], "big")
            cursor += size
        else:
            length = first
        if length < 0:
            inner_end = _indefinite_end(data, cursor, end)
            yield tag, position, cursor, inner_end
            position = inner_end + 2
            continue
        if cursor + length > end:
            raise ValueError("truncated")
        yield tag, position, cursor, cursor + length
        position = cursor + length


def _indefinite_end(data: bytes, start: int, end: int) -> int:
    last = start
    for _tag, _header, _content, element_end in _der_elements(data, start, end):
        last = element_end
    if data[last : last + 2] != b"\x00\x00":
        raise ValueError("unterminated indefinite length")
    return last


def _child(data: bytes, start: int, end: int, index: int) -> tuple[int, int, int, int]:
    for position, element in enumerate(_der_elements(data, start, end)):
        if position == index:
            return element
    raise ValueError("missing element")


def certificates_from_ber_pkcs7(der: bytes) -> list[x509.Certificate]:
    """The certificates of a PKCS#7 SignedData read leniently (BER, unsorted SET OF), each parsed strictly."""
    _, _, content, end = _child(der, 0, len(der), 0)  # ContentInfo
    _, _, explicit, explicit_end = _child(der, content, end, 1)  # [0] EXPLICIT content
    _, _, signed, signed_end = _child(der, explicit, explicit_end, 0)  # SignedData
    for tag, _header, bag, bag_end in _der_elements(der, signed, signed_end):
        if tag == 0xA0:  # certificates [0] IMPLICIT SET OF Certificate
            return [
                x509.load_der_x509_certificate(der[header:element_end])
                for _tag, header, _content, element_end in _der_elements(der, bag, bag_end)
            ]
    return []


def _pkcs7(der: bytes) -> list[x509.Certificate]:
    with warnings.catch_warnings():
        # The official IGC Santé .p7b has an unsorted SET OF: cryptography falls back to BER with a warning.
        warnings.simplefilter("ignore", UserWarning)
        try:
            return pkcs7.load_der_pkcs7_certificates(der)
        except ValueError:
            return certificates_from_ber_pkcs7(der)


def unreadable_parts(certificate: x509.Certificate) -> list[Finding]:
    """Findings for the parts of a certificate that do not parse (``cryptography`` parses them lazily)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", CryptographyDeprecationWarning)
            _ = (certificate.subject, certificate.issuer, certificate.serial_number)
        _ = (certificate.not_valid_before_utc, certificate.not_valid_after_utc)
        certificate.public_key()
    except CryptographyDeprecationWarning as warning:  # a serial number that is not a positive integer
        return [_codes.UNREADABLE(f"the certificate breaks RFC 5280: {warning}")]
    # TypeError: a name attribute cryptography refuses; KeyError: a string type it does not know (cryptography 45)
    except (ValueError, TypeError, KeyError, UnsupportedAlgorithm) as error:
        return [_codes.UNREADABLE(f"the certificate does not parse: {error}")]
    try:
        _ = list(certificate.extensions)
    except (ValueError, TypeError, KeyError, UnsupportedAlgorithm, x509.DuplicateExtension) as error:
        return [_codes.UNPARSABLE_EXTENSION(f"an extension cannot be parsed: {error}")]
    return []


def load_certificates(data: bytes, *, what: str = "the input") -> list[x509.Certificate]:
    """Every certificate in ``data``: PEM (certificates or PKCS#7), DER certificate, or DER PKCS#7.

    Bounded: more than :data:`MAX_INPUT_BYTES` or :data:`MAX_CERTIFICATES` is refused. Anything
    unreadable raises :class:`~mssante.errors.InvalidInput` with an ``MSS-PKI-001`` finding.
    """
    _check_size(data, what)
    data = bytes(data)
    try:
        # Some cryptography releases warn as they parse (a serial number that is not a positive integer), others
        # only when the part is read (unreadable_parts): either way it is a finding, not a warning to the caller.
        with warnings.catch_warnings():
            warnings.simplefilter("error", CryptographyDeprecationWarning)
            if b"-----BEGIN" in data:
                certificates = _from_pem(data, what)
            else:
                try:
                    certificates = [x509.load_der_x509_certificate(data)]
                except ValueError:
                    certificates = _pkcs7(data)
    except InvalidInput:
        raise
    except CryptographyDeprecationWarning as warning:
        raise _refuse(_codes.UNREADABLE(f"{what} breaks RFC 5280: {warning}"), what) from None
    except (ValueError, IndexError, UnsupportedAlgorithm, x509.InvalidVersion) as error:
        raise _refuse(_codes.UNREADABLE(f"{what} is not a readable certificate: {error}"), what) from None
    if not certificates:
        raise _refuse(_codes.UNREADABLE(f"{what} holds no certificate"), what)
    for certificate in certificates[:MAX_CERTIFICATES]:
        if problems := unreadable_parts(certificate):
            raise _refuse(problems[0], what)
    if len(certificates) > MAX_CERTIFICATES:
        raise _refuse(_codes.TOO_LARGE(f"{what} holds {len(certificates)} certificates; at most {MAX_CERTIFICATES}"),
                      what)  # fmt: skip
    return certificates


def _from_pem(data: bytes, what: str) -> list[x509.Certificate]:
    if data.count(b"-----BEGIN") > MAX_CERTIFICATES:  # also bounds the regex below to linear work per block
        raise _refuse(_codes.TOO_LARGE(f"{what} holds more than {MAX_CERTIFICATES} PEM blocks"), what)
    certificates: list[x509.Certificate] = []
    blocks = 0
    for match in _PEM_BLOCK.finditer(data):
        blocks += 1
        label = match.group(1)
        if label in (b"CERTIFICATE", b"X509 CERTIFICATE", b"TRUSTED CERTIFICATE"):
            certificates.append(x509.load_pem_x509_certificate(match.group(0).replace(b"TRUSTED ", b"")))
        elif label == b"PKCS7":
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                try:
                    certificates += pkcs7.load_pem_pkcs7_certificates(match.group(0))
                except ValueError:
                    import base64  # noqa: PLC0415

                    certificates += certificates_from_ber_pkcs7(base64.b64decode(match.group(2)))
    if not blocks:
        raise ValueError("no PEM block")
    return certificates


def load_certificate(data: bytes, *, what: str = "the input") -> x509.Certificate:
    """The first certificate in ``data`` (the leaf, by convention); see :func:`load_certificates`."""
    return load_certificates(data, what=what)[0]


@attrs.frozen(kw_only=True)
class Pkcs12Bundle:
    """The content of a PKCS#12 file: the private key, its certificate and the other certificates."""

    key: PrivateKeyTypes | None
    certificate: x509.Certificate | None
    additional: tuple[x509.Certificate, ...]


def load_pkcs12(data: bytes, password: bytes | None = None, *, what: str = "the PKCS#12 file") -> Pkcs12Bundle:
    """Open a PKCS#12 (``.p12``/``.pfx``) file; a wrong password or damage gives ``MSS-PKI-020``."""
    _check_size(data, what)
    try:
        key, certificate, additional = pkcs12.load_key_and_certificates(bytes(data), password)
    except (ValueError, TypeError) as error:
        raise _refuse(_codes.BAD_PKCS12(f"{what} cannot be opened: {error}"), what) from None
    if len(additional) > MAX_CERTIFICATES:
        raise _refuse(_codes.TOO_LARGE(f"{what} holds {len(additional)} certificates"), what)
    return Pkcs12Bundle(key=key, certificate=certificate, additional=tuple(additional))

"""Reading certificates from PEM, DER, PKCS#7 (with a BER fallback) and PKCS#12, bounded."""

from __future__ import annotations

import itertools
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
from mssante.pki import codes as _codes
from mssante.report import Finding, Report

__all__ = [
    "MAX_BER_DEPTH",
    "MAX_BER_ELEMENTS",
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

MAX_BER_DEPTH = 32
"""The deepest nesting the BER reader of PKCS#7 follows: a certificate's parts lie about 10 deep in a bag."""

MAX_BER_ELEMENTS = 100_000
"""The most BER element headers the PKCS#7 reader reads in one input (the official ``.p7b`` needs a handful)."""

_PEM_BLOCK = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----\r?\n(.*?)-----END \1-----", re.DOTALL)


def _refuse(code_finding: Finding, subject: str) -> InvalidInput:
    return InvalidInput(code_finding.message, Report(findings=[code_finding], subject=subject))


def _check_size(data: bytes, what: str) -> None:
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError(f"certificates are read from bytes, not {type(data).__name__}")
    if len(data) > MAX_INPUT_BYTES:
        raise _refuse(_codes.TOO_LARGE(f"{what} has {len(data)} bytes; at most {MAX_INPUT_BYTES} are read"), what)


class _Ber:
    """The tag-and-length framing of BER: enough to find the certificates of a PKCS#7 bag.

    Read without recursion, within :data:`MAX_BER_DEPTH` and :data:`MAX_BER_ELEMENTS`; each
    certificate found is then parsed strictly by ``cryptography``. An element is given as (tag,
    header start, content start, content end); an indefinite-length content ends where its
    end-of-contents octets start. Those ends are found in one pass, with a stack of the open
    elements, and kept, so no indefinite-length content is scanned twice.
    """

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.headers = 0
        """How many element headers were read: what :data:`MAX_BER_ELEMENTS` bounds."""
        self._ends: dict[int, int] = {}  # content start of an indefinite-length element -> its content end

    def _header(self, position: int, end: int) -> tuple[int, int, int]:
        """The tag, content start and length (-1: indefinite) of the element at ``position``, within ``end``."""
        self.headers += 1
        if self.headers > MAX_BER_ELEMENTS:
            raise ValueError(f"more than {MAX_BER_ELEMENTS} BER elements")
        data = self.data
        if position + 2 > end:
            raise ValueError("truncated")
        tag, first = data[position], data[position + 1]
        if tag & 0x1F == 0x1F:
            raise ValueError("multi-byte tags do not occur in PKCS#7 certificate bags")
        cursor = position + 2
        if first == 0x80:
            if not tag & 0x20:
                raise ValueError("a primitive element has no indefinite length")
            return tag, cursor, -1
        length = first
        if first & 0x80:
            size = first & 0x7F
            if size > 4:
                raise ValueError("unsupported length")
            length = int.from_bytes(data[cursor : cursor + size], "big")
            cursor += size
        if cursor + length > end:
            raise ValueError("truncated")
        return tag, cursor, length

    def elements(self, start: int, end: int, *, depth: int) -> Iterator[tuple[int, int, int, int]]:
        """Each element of ``data[start:end]``, a content at nesting ``depth`` (the input's elements are at 1)."""
        position = start
        while position < end:
            if self.data[position : position + 2] == b"\x00\x00":  # end of an indefinite-length content
                return
            tag, content, length = self._header(position, end)
            if length >= 0:
                yield tag, position, content, content + length
                position = content + length
            else:
                content_end = self._indefinite_end(content, end, depth)
                yield tag, position, content, content_end
                position = content_end + 2

    def _indefinite_end(self, start: int, end: int, depth: int) -> int:
        """Where the content that starts at ``start``, of an indefinite-length element at ``depth``, ends."""
        if start in self._ends:
            return self._ends[start]
        data = self.data
        open_contents = [start]  # the indefinite-length elements entered and not yet closed, innermost last
        position = start
        while True:
            if position + 2 > end:
                raise ValueError("unterminated indefinite length")
            if data[position] == 0 and data[position + 1] == 0:
                self._ends[open_contents.pop()] = position
                if not open_contents:
                    return position
                position += 2
                continue
            _tag, content, length = self._header(position, end)
            if length >= 0:
                position = content + length  # a definite length is stepped over, not entered
                continue
            if depth + len(open_contents) > MAX_BER_DEPTH:
                raise ValueError(f"BER nested deeper than {MAX_BER_DEPTH} elements")
            open_contents.append(content)
            position = content

    def child(self, start: int, end: int, index: int, *, depth: int) -> tuple[int, int, int, int]:
        """The element number ``index`` of ``data[start:end]``."""
        for position, element in enumerate(self.elements(start, end, depth=depth)):
            if position == index:
                return element
        raise ValueError("missing element")


def certificates_from_ber_pkcs7(der: bytes) -> list[x509.Certificate]:
    """The certificates of a PKCS#7 SignedData read leniently (BER, unsorted SET OF), each parsed strictly.

    At most ``MAX_CERTIFICATES + 1`` are parsed (:func:`load_certificates` refuses that many); an
    input nested deeper than :data:`MAX_BER_DEPTH` or with more than :data:`MAX_BER_ELEMENTS`
    elements raises ``ValueError``, as anything else it cannot read.
    """
    ber = _Ber(der)
    _, _, content, end = ber.child(0, len(der), 0, depth=1)  # ContentInfo
    _, _, explicit, explicit_end = ber.child(content, end, 1, depth=2)  # [0] EXPLICIT content
    _, _, signed, signed_end = ber.child(explicit, explicit_end, 0, depth=3)  # SignedData
    for tag, _header, bag, bag_end in ber.elements(signed, signed_end, depth=4):
        if tag == 0xA0:  # certificates [0] IMPLICIT SET OF Certificate
            return [
                x509.load_der_x509_certificate(der[header:element_end])
                for _tag, header, _content, element_end in itertools.islice(
                    ber.elements(bag, bag_end, depth=5), MAX_CERTIFICATES + 1
                )
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

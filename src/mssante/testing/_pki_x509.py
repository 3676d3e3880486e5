"""The small X.509 parts the test PKI builds with: moments, names, key usages, extensions, serials, DER."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Protocol

from cryptography import x509

__all__ = [
    "RSA_BITS",
    "add_years",
    "der",
    "der_integer",
    "distribution_points",
    "general_names",
    "key_identifier_of",
    "make_key_usage",
    "make_name",
    "private_extension",
    "random_serial",
    "url_escape",
    "utc",
]

RSA_BITS = 2048
"""The size of the keys made (the real CAs have RSA-4096): fast enough for a test session."""


def utc(moment: datetime, what: str) -> datetime:
    """``moment`` in UTC, to the second; ValueError for a naive datetime (``what`` names it)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} must be a timezone-aware datetime, not {moment!r}")
    return moment.astimezone(timezone.utc).replace(microsecond=0)


def add_years(moment: datetime, years: int) -> datetime:
    """``moment`` ``years`` later (earlier when negative); 29 February becomes the 28th."""
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:  # 29 February
        return moment.replace(year=moment.year + years, day=28)


def make_name(*attributes: tuple[x509.ObjectIdentifier, str]) -> x509.Name:
    """A name of single-valued RDNs, in the order given."""
    return x509.Name([x509.NameAttribute(oid, value) for oid, value in attributes])


def url_escape(text: str) -> str:
    """``text`` with its spaces written ``%20``, as in the IGC Santé URLs."""
    return text.replace(" ", "%20")


def der(tag: int, content: bytes) -> bytes:
    """One DER TLV; the GIP-CPS extension values are single primitives."""
    size = len(content)
    if size < 0x80:
        return bytes((tag, size)) + content
    length = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes((tag, 0x80 | len(length))) + length + content


def der_integer(value: int) -> bytes:
    """A DER INTEGER."""
    return der(0x02, value.to_bytes(value.bit_length() // 8 + 1, "big", signed=True))


def private_extension(oid: x509.ObjectIdentifier, value: bytes) -> x509.UnrecognizedExtension:
    """An extension cryptography does not know (the GIP-CPS ones), its DER value given."""
    return x509.UnrecognizedExtension(oid, value)


def random_serial() -> int:
    """16 random bytes, positive, like the serials of IGC Santé leaves."""
    return 1 + secrets.randbelow(2**127 - 1)


def make_key_usage(
    *,
    digital_signature: bool = False,
    content_commitment: bool = False,
    key_encipherment: bool = False,
    key_cert_sign: bool = False,
    crl_sign: bool = False,
) -> x509.KeyUsage:
    """A key usage with the bits named, the others off."""
    return x509.KeyUsage(
        digital_signature=digital_signature,
        content_commitment=content_commitment,
        key_encipherment=key_encipherment,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=key_cert_sign,
        crl_sign=crl_sign,
        encipher_only=False,
        decipher_only=False,
    )


def distribution_points(*urls: str) -> list[x509.DistributionPoint]:
    """One distribution point per URL (CRL or delta CRL)."""
    return [x509.DistributionPoint([x509.UniformResourceIdentifier(url)], None, None, None) for url in urls]


def general_names(names: Sequence[str | x509.GeneralName]) -> tuple[x509.GeneralName, ...]:
    """Host names as DNS names; general names as given."""
    return tuple(x509.DNSName(name) if isinstance(name, str) else name for name in names)


class _HasCertificate(Protocol):
    @property
    def certificate(self) -> x509.Certificate: ...


def key_identifier_of(holder: _HasCertificate) -> x509.SubjectKeyIdentifier:
    """The subject key identifier of the certificate of a CA or of an issued certificate."""
    return holder.certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value

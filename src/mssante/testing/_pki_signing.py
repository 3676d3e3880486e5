"""Certificates and CRLs signed with the hash asked for, SHA-1 included for the legacy variants.

cryptography refuses to sign with SHA-1, so a SHA-1 signature is made by signing with SHA-256, then replacing the
algorithm (same length) and the signature (same key, same length) in the DER.
"""

from __future__ import annotations

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

__all__ = ["sign_certificate", "sign_crl"]

_SHA256_RSA = bytes.fromhex("300d06092a864886f70d01010b0500")
_SHA1_RSA = bytes.fromhex("300d06092a864886f70d0101050500")
_SIGNING_HASHES = (hashes.SHA224, hashes.SHA256, hashes.SHA384, hashes.SHA512)


def _tlv(data: bytes, offset: int) -> tuple[int, int]:
    """Where the content of the TLV at ``offset`` starts and where the TLV ends."""
    length, start = data[offset + 1], offset + 2
    if length & 0x80:
        count = length & 0x7F
        length, start = int.from_bytes(data[start : start + count], "big"), start + count
    return start, start + length


def _resign_sha1(der: bytes, key: rsa.RSAPrivateKey) -> bytes:
    """Re-sign a SHA-256/RSA certificate or CRL with SHA-1 (``SEQUENCE {tbs, algorithm, signature}``)."""
    tbs_start, _ = _tlv(der, 0)
    tbs_content, tbs_end = _tlv(der, tbs_start)
    inner = tbs_content
    while der[inner] != 0x30:  # the TBS signature field is its first SEQUENCE (after version and serial)
        inner = _tlv(der, inner)[1]
    if der[inner : inner + len(_SHA256_RSA)] != _SHA256_RSA or der[tbs_end : tbs_end + len(_SHA256_RSA)] != (
        _SHA256_RSA
    ):
        raise ValueError("only a sha256WithRSAEncryption signature can be redone with SHA-1")
    tbs = der[tbs_start:inner] + _SHA1_RSA + der[inner + len(_SHA1_RSA) : tbs_end]
    signature = key.sign(tbs, padding.PKCS1v15(), hashes.SHA1())  # noqa: S303 - the legacy variant on purpose
    bits = tbs_end + len(_SHA256_RSA)
    bits_content, end = _tlv(der, bits)
    if end != len(der) or end - bits_content != len(signature) + 1:
        raise ValueError("unexpected signature layout")
    return der[:tbs_start] + tbs + _SHA1_RSA + der[bits:bits_content] + b"\x00" + signature


def sign_certificate(
    builder: x509.CertificateBuilder, key: rsa.RSAPrivateKey, algorithm: hashes.HashAlgorithm
) -> x509.Certificate:
    """The certificate of ``builder`` signed by ``key`` with ``algorithm`` (SHA-1 or SHA-2)."""
    if isinstance(algorithm, hashes.SHA1):
        der = builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)
        return x509.load_der_x509_certificate(_resign_sha1(der, key))
    if not isinstance(algorithm, _SIGNING_HASHES):
        raise ValueError(f"cannot sign with {algorithm.name}: use SHA-1 or SHA-2")
    return builder.sign(key, algorithm)


def sign_crl(
    builder: x509.CertificateRevocationListBuilder, key: rsa.RSAPrivateKey, algorithm: hashes.HashAlgorithm
) -> bytes:
    """The DER CRL of ``builder`` signed by ``key`` with ``algorithm`` (SHA-1 or SHA-2)."""
    if isinstance(algorithm, hashes.SHA1):
        return _resign_sha1(builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER), key)
    if not isinstance(algorithm, _SIGNING_HASHES):
        raise ValueError(f"cannot sign with {algorithm.name}: use SHA-1 or SHA-2")
    return builder.sign(key, algorithm).public_bytes(serialization.Encoding.DER)

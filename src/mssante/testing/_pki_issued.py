"""A certificate the test PKI issued, with its key and chain, and the files it is written to (PEM, PKCS#12)."""

from __future__ import annotations

from pathlib import Path

import attrs
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12

__all__ = ["IssuedCertificate"]


@attrs.frozen(kw_only=True, eq=False)
class IssuedCertificate:
    """A certificate with its private key, the ``chain`` a peer presents (leaf first) and its ``anchor``.

    ``chain`` holds the leaf then its intermediate CA; the root is the ``anchor``, not part of it.
    """

    certificate: x509.Certificate
    key: rsa.RSAPrivateKey
    chain: tuple[x509.Certificate, ...]
    anchor: x509.Certificate

    @property
    def intermediates(self) -> tuple[x509.Certificate, ...]:
        """The chain without the leaf."""
        return self.chain[1:]

    def pem(self) -> bytes:
        """The chain in PEM, leaf first (what a TLS server or client presents)."""
        return b"".join(certificate.public_bytes(serialization.Encoding.PEM) for certificate in self.chain)

    def key_pem(self) -> bytes:
        """The private key, PKCS#8 PEM, not encrypted."""
        return self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    def write(self, directory: str | Path, name: str) -> tuple[Path, Path]:
        """Write :meth:`pem` to ``<directory>/<name>.pem`` and the key to ``<name>.key`` (mode 0600); both paths."""
        certificate, key = Path(directory) / f"{name}.pem", Path(directory) / f"{name}.key"
        key.touch(mode=0o600)
        key.chmod(0o600)
        key.write_bytes(self.key_pem())
        certificate.write_bytes(self.pem())
        return certificate, key

    def pkcs12(self, password: bytes | None = None, *, name: bytes | None = None) -> bytes:
        """A PKCS#12 file with the key, the certificate and its intermediates; encrypted when given a password."""
        encryption: serialization.KeySerializationEncryption = (
            serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
        )
        return pkcs12.serialize_key_and_certificates(
            name, self.key, self.certificate, list(self.intermediates) or None, encryption
        )

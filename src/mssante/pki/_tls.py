"""TLS contexts for MSSanté: TLS 1.2 or later, strong suites, IGC Santé anchors only, and a peer check."""

from __future__ import annotations

import datetime as dt
import os
import ssl
from collections.abc import Sequence

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from mssante.pki._anchors import TrustStore
from mssante.pki._profiles import Purpose
from mssante.pki._revocation import RevocationChecker
from mssante.pki._types import RevocationMode
from mssante.pki._verify import CertificateReport, verify

__all__ = ["TLS12_CIPHERS", "check_peer", "client_context", "server_context"]

TLS12_CIPHERS: tuple[str, ...] = (
    "ECDHE-ECDSA-AES256-GCM-SHA384",
    "ECDHE-RSA-AES256-GCM-SHA384",
    "ECDHE-ECDSA-CHACHA20-POLY1305",
    "ECDHE-RSA-CHACHA20-POLY1305",
    "ECDHE-ECDSA-AES128-GCM-SHA256",
    "ECDHE-RSA-AES128-GCM-SHA256",
    "DHE-RSA-AES256-GCM-SHA384",
    "DHE-RSA-AES128-GCM-SHA256",
)
"""TLS 1.2 suites offered: forward secrecy and AEAD only (ANSSI-style). TLS 1.3 suites are all AEAD."""

_Path = str | os.PathLike[str]


def _base(protocol: int, store: TrustStore, ciphers: Sequence[str]) -> ssl.SSLContext:
    context = ssl.SSLContext(protocol)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers(":".join(ciphers))
    context.options |= ssl.OP_NO_COMPRESSION | ssl.OP_NO_RENEGOTIATION
    context.verify_mode = ssl.CERT_REQUIRED
    # Trust the environment's IGC Santé hierarchy only: never the system store, never a partial chain.
    context.verify_flags &= ~getattr(ssl, "VERIFY_X509_PARTIAL_CHAIN", 0)
    pem = b"".join(c.public_bytes(serialization.Encoding.PEM) for c in (*store.anchors, *store.intermediates))
    context.load_verify_locations(cadata=pem.decode("ascii"))
    return context


def client_context(
    store: TrustStore,
    *,
    certificate: _Path | None = None,
    key: _Path | None = None,
    password: bytes | None = None,
    ciphers: Sequence[str] = TLS12_CIPHERS,
) -> ssl.SSLContext:
    """An ``SSLContext`` to connect to an MSSanté server: host name checked, the store's anchors only.

    ``certificate`` and ``key`` (PEM files) authenticate this side (mutual TLS). OpenSSL's checks
    are the first gate; run :func:`check_peer` after the handshake for the full IGC Santé validation.
    """
    context = _base(ssl.PROTOCOL_TLS_CLIENT, store, ciphers)
    context.check_hostname = True
    if certificate is not None:
        context.load_cert_chain(certificate, key, password)
    return context


def server_context(
    store: TrustStore,
    *,
    certificate: _Path,
    key: _Path | None = None,
    password: bytes | None = None,
    require_client_certificate: bool = True,
    ciphers: Sequence[str] = TLS12_CIPHERS,
) -> ssl.SSLContext:
    """An ``SSLContext`` for an MSSanté server: its certificate, and the clients' certificates required by default."""
    context = _base(ssl.PROTOCOL_TLS_SERVER, store, ciphers)
    context.verify_mode = ssl.CERT_REQUIRED if require_client_certificate else ssl.CERT_OPTIONAL
    context.load_cert_chain(certificate, key, password)
    return context


def check_peer(
    connection: ssl.SSLSocket | ssl.SSLObject,
    *,
    purpose: Purpose | str,
    store: TrustStore,
    at: dt.datetime,
    host: str | None = None,
    revocation: RevocationChecker | RevocationMode | str = RevocationMode.HARD,
) -> CertificateReport | None:
    """Run :func:`~mssante.pki.verify` on the certificate the peer presented; None when it presented none."""
    der = connection.getpeercert(binary_form=True)
    if not der:
        return None
    intermediates: list[x509.Certificate] = []
    unverified = getattr(connection, "get_unverified_chain", None)  # Python 3.13+
    if unverified is not None:
        chain = unverified() or []
        intermediates = [x509.load_der_x509_certificate(bytes(item)) for item in chain[1:]]
    return verify(
        x509.load_der_x509_certificate(der),
        purpose=purpose,
        store=store,
        at=at,
        host=host,
        intermediates=intermediates,
        revocation=revocation,
    )

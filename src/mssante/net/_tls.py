"""TLS contexts for MSSanté: TLS 1.2 or later, strong suites, IGC Santé anchors only, and a peer check."""

from __future__ import annotations

import datetime as dt
import os
import secrets
import ssl
import tempfile
from collections.abc import Sequence

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from mssante._files import check_regular
from mssante.errors import InvalidInput
from mssante.pki import CertificateReport, Pkcs12Bundle, Purpose, RevocationChecker, RevocationMode, TrustStore, verify

__all__ = ["TLS12_CIPHERS", "check_peer", "client_context", "presented_chain", "server_context"]

TLS12_CIPHERS: tuple[str, ...] = (
    "ECDHE-ECDSA-AES256-GCM-SHA384",
    "ECDHE-RSA-AES256-GCM-SHA384",
    "ECDHE-ECDSA-CHACHA20-POLY1305",
    "ECDHE-RSA-CHACHA20-POLY1305",
    "ECDHE-ECDSA-AES128-GCM-SHA256",
    "ECDHE-RSA-AES128-GCM-SHA256",
)
"""TLS 1.2 suites offered: ECDHE forward secrecy and AEAD only (ANSSI-style); TLS 1.3 suites are all AEAD.

Finite-field DHE is left out: Python loads no DH parameters, so a server could never negotiate it.
"""

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


def _load_identity(
    context: ssl.SSLContext, certificate: _Path | Pkcs12Bundle, key: _Path | None, password: bytes | None
) -> None:
    if not isinstance(certificate, Pkcs12Bundle):
        for path in (certificate, key):  # OpenSSL would block on a FIFO and read a device for ever
            if path is not None:
                check_regular(path)
        context.load_cert_chain(certificate, key, password)
        return
    if key is not None or password is not None:
        raise ValueError("a Pkcs12Bundle holds its own key, already decrypted: give no key and no password with it")
    if certificate.key is None or certificate.certificate is None:
        raise InvalidInput("the PKCS#12 bundle needs both a private key and its certificate to authenticate")
    # ssl loads a key only from a file: write it encrypted under a one-time password that stays in memory, to a
    # file only this user can read (mkstemp: 0600, O_EXCL), and delete it at once.
    secret = secrets.token_urlsafe(32).encode("ascii")
    pem = b"".join(
        c.public_bytes(serialization.Encoding.PEM) for c in (certificate.certificate, *certificate.additional)
    ) + certificate.key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(secret),
    )
    descriptor, path = tempfile.mkstemp(prefix="mssante-", suffix=".pem")
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(pem)
        context.load_cert_chain(path, password=secret)
    finally:
        os.unlink(path)


def client_context(
    store: TrustStore,
    *,
    certificate: _Path | Pkcs12Bundle | None = None,
    key: _Path | None = None,
    password: bytes | None = None,
    ciphers: Sequence[str] = TLS12_CIPHERS,
) -> ssl.SSLContext:
    """An ``SSLContext`` to connect to an MSSanté server: host name checked, the store's anchors only.

    ``certificate`` authenticates this side (mutual TLS): a PEM file with the chain, leaf first, and the
    ``key`` file (or the key in the same file, ``password`` if encrypted), or a :class:`Pkcs12Bundle`
    from :func:`~mssante.pki.load_pkcs12`. OpenSSL's checks are the first gate; run :func:`check_peer`
    after the handshake for the full IGC Santé validation.
    """
    if certificate is None and (key is not None or password is not None):
        raise ValueError("a key or password was given without the certificate it goes with")
    context = _base(ssl.PROTOCOL_TLS_CLIENT, store, ciphers)
    context.check_hostname = True
    if certificate is not None:
        _load_identity(context, certificate, key, password)
    return context


def server_context(
    store: TrustStore,
    *,
    certificate: _Path | Pkcs12Bundle,
    key: _Path | None = None,
    password: bytes | None = None,
    require_client_certificate: bool = True,
    ciphers: Sequence[str] = TLS12_CIPHERS,
) -> ssl.SSLContext:
    """An ``SSLContext`` for an MSSanté server: its certificate, and the clients' certificates required by default.

    ``certificate``, ``key`` and ``password`` are as for :func:`client_context`; a chain without the
    intermediate is completed from the store's. Without ``require_client_certificate`` a client may
    present none (:func:`check_peer` then returns None), but one it presents must still validate.
    """
    context = _base(ssl.PROTOCOL_TLS_SERVER, store, ciphers)
    context.verify_mode = ssl.CERT_REQUIRED if require_client_certificate else ssl.CERT_OPTIONAL
    _load_identity(context, certificate, key, password)
    return context


def presented_chain(
    connection: ssl.SSLSocket | ssl.SSLObject,
) -> tuple[x509.Certificate, list[x509.Certificate]] | None:
    """The certificate the peer presented and the others it sent (Python 3.13+; unverified: candidates for
    the path only), or None when it presented none."""
    der = connection.getpeercert(binary_form=True)
    if not der:
        return None
    intermediates: list[x509.Certificate] = []
    unverified = getattr(connection, "get_unverified_chain", None)
    if unverified is not None:  # the leaf is dropped wherever it stands
        intermediates = [x509.load_der_x509_certificate(bytes(item)) for item in unverified() or () if item != der]
    return x509.load_der_x509_certificate(der), intermediates


def check_peer(
    connection: ssl.SSLSocket | ssl.SSLObject,
    *,
    purpose: Purpose | str,
    store: TrustStore,
    at: dt.datetime,
    host: str | None = None,
    revocation: RevocationChecker | RevocationMode | str = RevocationMode.HARD,
) -> CertificateReport | None:
    """Run :func:`~mssante.pki.verify` on the certificate the peer presented; None when it presented none.

    For the ``server`` purpose ``host`` defaults to the name the connection was opened for (``server_hostname``).
    """
    purpose = Purpose(purpose)
    presented = presented_chain(connection)
    if presented is None:
        return None
    if host is None and purpose is Purpose.SERVER:
        host = connection.server_hostname
    certificate, intermediates = presented  # candidates only: verify() builds the path to the store's anchors
    return verify(
        certificate,
        purpose=purpose,
        store=store,
        at=at,
        host=host,
        intermediates=intermediates,
        revocation=revocation,
    )

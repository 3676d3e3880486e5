"""The server's certificate, judged the same way by every client session once TLS is up.

``revocation`` is a :class:`~mssante.pki.RevocationChecker` given by the caller (CRLs or OCSP answers already
in hand), a mode, or a :class:`~mssante.pki.CrlFetcher` (:class:`~mssante.pki.AsyncCrlFetcher` for the async
sessions): then the CRLs of the certificate the server presented, and of the CAs above it, are fetched (through
the fetcher's cache) at each connection, before the certificate is judged.
"""

from __future__ import annotations

import datetime as dt
import ssl

from cryptography import x509

from mssante.errors import TransportError
from mssante.pki import (
    AsyncCrlFetcher,
    CrlFetcher,
    Purpose,
    RevocationChecker,
    RevocationMode,
    TrustStore,
    check_peer,
)
from mssante.report import Finding, Report, Severity
from mssante.transport import _audit, codes

__all__ = ["Revocation", "Source", "async_checker_of", "checker_of", "judge_server", "peer_certificate", "source_of"]

Revocation = RevocationChecker | RevocationMode | str | CrlFetcher | AsyncCrlFetcher
"""What the sessions take as ``revocation``: a checker, a mode, or a fetcher of the peer's CRLs."""

Source = RevocationChecker | CrlFetcher | AsyncCrlFetcher
Tls = ssl.SSLSocket | ssl.SSLObject


def source_of(revocation: Revocation, *, asynchronous: bool = False) -> Source:
    """A checker or a fetcher: a mode (``hard``, ``soft``, ``off``) becomes a checker without CRLs.

    A sync session takes a :class:`~mssante.pki.CrlFetcher`, an async one an :class:`~mssante.pki.AsyncCrlFetcher`
    (a sync fetcher would stop its event loop while it downloads): the other is a TypeError.
    """
    wrong = CrlFetcher if asynchronous else AsyncCrlFetcher
    if isinstance(revocation, wrong):
        right = "AsyncCrlFetcher" if asynchronous else "CrlFetcher"
        raise TypeError(f"this session fetches CRLs with {right}, not {type(revocation).__name__}")
    if isinstance(revocation, RevocationChecker | CrlFetcher | AsyncCrlFetcher):
        return revocation
    return RevocationChecker(mode=RevocationMode(revocation))


def peer_certificate(tls: Tls) -> x509.Certificate | None:
    """The certificate the peer presented, if any."""
    der = tls.getpeercert(binary_form=True)
    return x509.load_der_x509_certificate(der) if der else None


def checker_of(
    source: Source, tls: Tls, *, store: TrustStore, at: dt.datetime
) -> tuple[RevocationChecker, list[Finding]]:
    """The checker to judge the peer of ``tls`` with (sync sessions): the given one, or one fetched for it."""
    if isinstance(source, RevocationChecker):
        return source, []
    if isinstance(source, AsyncCrlFetcher):  # pragma: no cover - refused by source_of
        raise TypeError("an AsyncCrlFetcher serves the async sessions")
    certificate = peer_certificate(tls)
    if certificate is None:
        return RevocationChecker(), []
    return source.checker_for(certificate, store=store, at=at)


async def async_checker_of(
    source: Source, tls: Tls, *, store: TrustStore, at: dt.datetime
) -> tuple[RevocationChecker, list[Finding]]:
    """:func:`checker_of` for the async sessions: an :class:`~mssante.pki.AsyncCrlFetcher` is awaited."""
    if not isinstance(source, AsyncCrlFetcher):
        return checker_of(source, tls, store=store, at=at)
    certificate = peer_certificate(tls)
    if certificate is None:
        return RevocationChecker(), []
    return await source.checker_for(certificate, store=store, at=at)


def judge_server(
    tls: Tls,
    *,
    server: str,
    host: str,
    store: TrustStore,
    at: dt.datetime,
    revocation: RevocationChecker,
    notes: list[Finding] | None = None,
) -> None:
    """Check the server certificate of ``tls`` for ``host`` (audited); TransportError if refused, its report the
    findings of the certificate check (``MSS-PKI-*``, ``MSS-REV-*``), or ``MSS-TRN-008`` when none was presented.

    ``notes`` are what fetching the CRLs said: a failed download is told (and reported) with the refusal it explains.
    """
    cipher = tls.cipher()
    report = check_peer(tls, purpose=Purpose.SERVER, store=store, at=at, host=host, revocation=revocation)
    fetching = [note for note in notes or () if note.severity is not Severity.INFO]
    if report is None:
        reason, subject = "the server presented no certificate", ""
        findings = [codes.NO_SERVER_CERTIFICATE(f"{host} presented no certificate", where=server)]
    else:
        subject = report.certificate.subject.rfc4514_string()
        reason = "; ".join(str(finding) for finding in report.report.errors)
        if fetching and not report.ok:
            reason += " (fetching the CRLs: " + "; ".join(str(note) for note in fetching) + ")"
        findings = [*report.report.findings, *fetching]
    ok = report is not None and report.ok
    _audit.tls(
        server, peer_subject=subject, protocol=tls.version(), cipher=cipher[0] if cipher else None, ok=ok,
        reason=reason,
    )  # fmt: skip
    if not ok:
        refusal = Report(findings=findings, subject=f"the server certificate of {server}")
        raise TransportError(f"the server certificate of {host} is refused: {reason}", refusal)

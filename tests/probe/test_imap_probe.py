"""``probe_server`` against the test IMAP server: configured right, it passes; each misconfiguration gives its
finding; the probe never logs in."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from mssante.pki import RevocationChecker, TrustStore
from mssante.probe import ProbeReport, probe_server
from mssante.testing import IssuedCertificate, TestPki
from tests.probe.servers import ImapOptions, context, imap


def _probe(
    port: int, *, store: TrustStore, now: dt.datetime, crls: RevocationChecker, host: str = "localhost"
) -> ProbeReport:
    return probe_server(host, port, role="imap", store=store, at=now, revocation=crls, timeout=5.0)


def _server(pki: TestPki, store: TrustStore, directory: Path, issued: IssuedCertificate | None = None) -> object:
    return context(store, issued or pki.server(["localhost"]), directory, "imap", require_client_certificate=False)


def test_a_well_configured_imap_server_passes(
    pki: TestPki, store: TrustStore, directory: Path, now: dt.datetime, crls: RevocationChecker
) -> None:
    with imap(context(store, pki.server(["localhost"]), directory, "imap", require_client_certificate=False)) as port:
        report = _probe(port, store=store, now=now, crls=crls)
    assert report.ok, str(report)
    assert not report.report.warnings, str(report)
    assert [check.name for check in report.checks] == [
        "greeting", "starttls-offered", "login-disabled", "tls-handshake", "tls-versions", "cipher-suites",
        "server-certificate", "authentication",
    ]  # fmt: skip
    assert "AUTH XOAUTH2" in report.check("authentication").findings[0].message


@pytest.mark.parametrize(
    ("case", "options", "code"),
    [
        ("LOGIN allowed before TLS", ImapOptions(login_disabled=False), "MSS-PRB-017"),
        ("AUTH=PLAIN before TLS", ImapOptions(plain_before_tls=True), "MSS-PRB-007"),
    ],
)
def test_each_imap_misconfiguration_gives_its_finding(
    pki: TestPki,
    store: TrustStore,
    directory: Path,
    now: dt.datetime,
    crls: RevocationChecker,
    case: str,
    options: ImapOptions,
    code: str,
) -> None:
    tls = context(store, pki.server(["localhost"]), directory, "imap", require_client_certificate=False)
    with imap(tls, options) as port:
        report = _probe(port, store=store, now=now, crls=crls)
    assert code in report.check("login-disabled").codes
    assert not report.ok


def test_an_imap_server_without_starttls(store: TrustStore, now: dt.datetime, crls: RevocationChecker) -> None:
    with imap(None) as port:  # no TLS: LOGIN allowed in plain text, and said so
        report = _probe(port, store=store, now=now, crls=crls)
    assert report.check("starttls-offered").codes == ("MSS-PRB-005",)
    assert [check.name for check in report.checks] == ["greeting", "starttls-offered", "login-disabled"]


def test_an_imap_server_with_an_expired_certificate(
    pki: TestPki, store: TrustStore, directory: Path, now: dt.datetime, crls: RevocationChecker
) -> None:
    expired = pki.server(["localhost"], expired=True)
    with imap(context(store, expired, directory, "imap-expired", require_client_certificate=False)) as port:
        report = _probe(port, store=store, now=now, crls=crls)
    assert "MSS-PKI-007" in report.check("server-certificate").codes


def test_the_local_operators_imap_server_passes(tmp_path: Path) -> None:
    """The testing kit's IMAP server announces LOGINDISABLED before STARTTLS, as RFC 9051 §6.2.3 asks."""
    from mssante.testing import LocalOperator  # noqa: PLC0415 (needs aiosmtpd)

    with LocalOperator() as operator:
        client = operator.client_certificate(tmp_path)
        report = probe_server(
            operator.host, operator.imap_port, role="imap", store=operator.trust_store, at=now_utc(),
            client_certificate=client, revocation=operator.revocation, timeout=5.0,
        )  # fmt: skip
    assert report.ok, str(report)
    assert report.check("login-disabled").codes == ()
    assert {finding.code for finding in report.report.warnings} <= {"MSS-PKI-021"}  # its PKI is IGC Santé TEST


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)

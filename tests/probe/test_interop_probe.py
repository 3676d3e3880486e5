"""``probe_server`` against the Postfix + Dovecot pair of the interop tests: Postfix with the suites MSSanté allows
passes as an MX and as a submission server, Postfix with its default suites is told, Dovecot passes as IMAP."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from mssante.net import TLS12_CIPHERS
from mssante.pki import RevocationChecker, TrustStore
from mssante.probe import ProbeReport, probe_server
from mssante.testing import CA_NAMES, TestPki
from tests.transport.mta import Dovecot, Postfix, TlsFiles, require_mta, running

DOMAIN = "hopital.mssante.fr"
RECIPIENT = f"dr.martin@{DOMAIN}"
HARDENED = (
    ("smtpd_tls_protocols", ">=TLSv1.2"),
    ("smtpd_tls_mandatory_protocols", ">=TLSv1.2"),
    ("smtpd_tls_mandatory_ciphers", "high"),
    ("tls_high_cipherlist", ":".join(TLS12_CIPHERS)),
)
"""What an operator's Postfix says to offer TLS 1.2 and later, with the suites of :data:`TLS12_CIPHERS` only."""


@pytest.fixture(scope="module")
def servers(pki: TestPki, directory: Path) -> Iterator[tuple[Postfix, Postfix, Dovecot]]:
    """Dovecot, a hardened Postfix and a Postfix with its default suites."""
    require_mta()
    certificate, key = pki.server(["localhost"], organisation="OPERATEUR-A").write(directory, "mx")
    cas, crls = directory / "cas.pem", directory / "crls.pem"
    cas.write_bytes(b"".join(item.public_bytes(Encoding.PEM) for item in [*pki.anchors, *pki.intermediates]))
    crls.write_bytes(b"".join(x509.load_der_x509_crl(pki.crl(name)).public_bytes(Encoding.PEM) for name in CA_NAMES))
    tls = TlsFiles(certificate=certificate, key=key, cas=cas, crls=crls)
    dovecot = Dovecot(tls, users=[RECIPIENT])
    with running(dovecot):
        hardened = Postfix(tls, domain=DOMAIN, recipients=[RECIPIENT], lmtp_port=dovecot.lmtp_port, settings=HARDENED)
        plain = Postfix(tls, domain=DOMAIN, recipients=[RECIPIENT], lmtp_port=dovecot.lmtp_port)
        with running(hardened), running(plain):
            yield hardened, plain, dovecot


Probe = Callable[[int, str], ProbeReport]


@pytest.fixture
def probe(store: TrustStore, now: dt.datetime, crls: RevocationChecker, client: tuple[Path, Path]) -> Probe:
    """``probe_server`` on a port of localhost in a role, with the test PKI and the client certificate."""

    def run(port: int, role: str) -> ProbeReport:
        return probe_server(
            "localhost", port, role=role, store=store, at=now, client_certificate=client, revocation=crls, timeout=10.0
        )

    return run


def test_a_hardened_postfix_passes_as_an_mx_and_a_submission_server(
    servers: tuple[Postfix, Postfix, Dovecot], probe: Probe
) -> None:
    hardened, _, _ = servers
    mx = probe(hardened.relay_port, "mx")
    assert mx.ok, str(mx)
    assert not mx.report.warnings, str(mx)
    submission = probe(hardened.submission_port, "submission")
    assert submission.ok, str(submission)


def test_postfix_with_its_default_suites_is_told(servers: tuple[Postfix, Postfix, Dovecot], probe: Probe) -> None:
    _, plain, _ = servers
    report = probe(plain.relay_port, "mx")
    assert not report.ok
    assert [check.name for check in report.checks if not check.ok] == ["cipher-suites"]
    assert "TLS 1.2 AES128-SHA" in [finding.message for finding in report.check("cipher-suites").errors]


def test_dovecot_passes_as_imap(servers: tuple[Postfix, Postfix, Dovecot], probe: Probe) -> None:
    _, _, dovecot = servers
    report = probe(dovecot.imap_port, "imap")
    assert report.ok, str(report)
    assert "AUTH EXTERNAL" in report.check("authentication").findings[0].message

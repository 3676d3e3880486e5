"""End to end: an address's servers found in DNS (SRV records pointing at a local operator), then used to send.

The name the server certificate must match is the SRV target: the session is given it as its host, and checks the
certificate against it. The local operator's certificate is for ``localhost``: a target ``localhost`` is accepted,
a target that names the same server otherwise (``127.0.0.1``) is refused in the TLS handshake.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from mssante.autoconfig import Server, Tls, discover
from mssante.errors import SecurityWarning, TransportError
from mssante.message import compose
from mssante.testing import LocalOperator
from mssante.transport import ImapMailbox, Submission
from tests.dns_server import DnsServers, Zone, dns_servers

SENDER = "secretariat@hopital.mssante.fr"
RECIPIENT = "dr.martin@hopital.mssante.fr"
SENDER_TOKEN, RECIPIENT_TOKEN = "token-du-secretariat", "token-du-dr-martin"
AT = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.timezone.utc)


@pytest.fixture(scope="module")
def operator() -> Iterator[LocalOperator]:
    with LocalOperator() as running:
        running.add_user(SENDER, token=SENDER_TOKEN)
        running.add_user(RECIPIENT, token=RECIPIENT_TOKEN)
        yield running


@pytest.fixture(scope="module")
def servers(operator: LocalOperator) -> Iterator[DnsServers]:
    zones = [
        Zone(
            "hopital.mssante.fr",
            [
                f"_submission._tcp SRV 0 1 {operator.smtp_port} localhost.",
                f"_imap._tcp SRV 0 1 {operator.imap_port} localhost.",
                "_submissions._tcp SRV 0 0 0 .",
                "_imaps._tcp SRV 0 0 0 .",
            ],
            signed=True,
        ),
        Zone("ailleurs.test", [f"_submission._tcp SRV 0 1 {operator.smtp_port} 127.0.0.1."]),
    ]
    with dns_servers(zones) as running:
        yield running


def found_submission(address: str, servers: DnsServers) -> Server:
    with pytest.warns(SecurityWarning):
        found = discover(address, nameserver=servers.resolver, allow_private=True)
    assert found.submission is not None
    return found.submission


def submission(server: Server, operator: LocalOperator, directory: Path) -> Submission:
    return Submission(
        server.host,
        server.port,
        store=operator.trust_store,
        client_certificate=operator.client_certificate(directory),
        username=SENDER,
        token=lambda: SENDER_TOKEN,
        revocation=operator.revocation,
        timeout=10.0,
    )


def test_a_loopback_target_is_refused_by_default(servers: DnsServers) -> None:
    found = discover(SENDER, nameserver=servers.resolver)
    assert found.submission is None
    assert found.imap is None
    assert [f.code for f in found.report.errors] == ["MSS-SRV-008", "MSS-SRV-008"]


def test_send_and_read_with_the_servers_found(servers: DnsServers, operator: LocalOperator, tmp_path: Path) -> None:
    with pytest.warns(SecurityWarning):
        found = discover(SENDER, nameserver=servers.resolver, allow_private=True)
    assert found.submission is not None
    assert found.imap is not None
    assert found.submission.to_dict() == {"host": "localhost", "port": operator.smtp_port, "tls": "starttls"}
    assert found.imap.to_dict() == {"host": "localhost", "port": operator.imap_port, "tls": "starttls"}
    assert found.submission.validated
    assert found.submission.tls is Tls.STARTTLS
    mail = compose(sender=SENDER, to=[RECIPIENT], nil="DEV000001", at=AT, subject="Autoconfiguration", text="Bonjour")
    with submission(found.submission, operator, tmp_path) as smtp:
        result = smtp.send(mail)
    assert result.ok
    assert result.accepted == (RECIPIENT,)
    with ImapMailbox(
        found.imap.host,
        found.imap.port,
        store=operator.trust_store,
        client_certificate=operator.client_certificate(tmp_path),
        username=RECIPIENT,
        token=lambda: RECIPIENT_TOKEN,
        revocation=operator.revocation,
        timeout=10.0,
    ) as box:
        fetched = box.fetch(box.unseen()[-1])
    assert fetched.message.subject == "Autoconfiguration"


def test_a_target_the_certificate_does_not_match_is_refused(
    servers: DnsServers, operator: LocalOperator, tmp_path: Path
) -> None:
    server = found_submission("secretariat@ailleurs.test", servers)
    assert (server.host, server.port) == ("127.0.0.1", operator.smtp_port)
    with pytest.raises(TransportError) as caught, submission(server, operator, tmp_path) as smtp:
        smtp.connect()
    # the certificate names localhost, not the target: refused in the TLS handshake
    assert caught.value.report.codes == ("MSS-TRN-007",)
    assert "not valid for '127.0.0.1'" in caught.value.report.findings[0].message

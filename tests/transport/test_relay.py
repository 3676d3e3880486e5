"""Relay against a real aiosmtpd server on 127.0.0.1: STARTTLS, mutual TLS, the MX checked on the allow-list."""

from __future__ import annotations

import datetime as dt
import socket
import ssl
import threading
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path

import dns.exception
import dns.resolver
import pytest
from aiosmtpd.controller import Controller

from mssante.errors import InvalidAddress, TransportError
from mssante.message import compose
from mssante.pki import RevocationChecker, TrustStore
from mssante.testing import IssuedCertificate, TestPki
from mssante.transport._relay import MxResolver, Relay, resolve_mx
from mssante.transport._results import Delivery, Envelope
from mssante.trustspace import AllowList, OperatorDn
from tests.transport import test_bcc as bcc
from tests.transport.conftest import tls, write
from tests.transport.smtp_server import Recorder

SENDER = "dr.sender@operateur.mssante.fr"
LISTED = "hopital-a.mssante.fr"
ALSO_LISTED = "hopital-b.mssante.fr"
OTHER_OPERATOR = "hopital-c.mssante.fr"  # listed, but with another operator's certificate
UNLISTED = "inconnu.mssante.fr"


@pytest.fixture(scope="module")
def mx_certificate(pki: TestPki) -> IssuedCertificate:
    return pki.server(["localhost"], organisation="OPERATEUR-A")


@pytest.fixture(scope="module")
def client(pki: TestPki, files: Path) -> tuple[Path, Path]:
    """The sending operator's server certificate, used as client certificate."""
    written = write(pki.server(["relay.operateur.mssante.fr"], organisation="OPERATEUR"), files, "client")
    return written.certificate, written.key


@pytest.fixture(scope="module")
def server_tls(store: TrustStore, mx_certificate: IssuedCertificate, files: Path) -> ssl.SSLContext:
    return tls(store, write(mx_certificate, files, "server"))


def entry(domain: str, dn: OperatorDn) -> str:
    return (
        f"<Domaine><Nom>{domain}</Nom><Description>{domain}</Description>"
        f"<DNCertificatOperateur>{dn}</DNCertificatOperateur><ResponsableContact>r</ResponsableContact>"
        "<SupportContact>s</SupportContact><DateMAJ>2026-06-01T00:00:00Z</DateMAJ></Domaine>"
    )


@pytest.fixture(scope="module")
def allowlist(pki: TestPki, mx_certificate: IssuedCertificate) -> AllowList:
    listed = OperatorDn.from_name(mx_certificate.certificate.subject)
    other = OperatorDn.from_name(pki.server(["mx.autre.example"], organisation="AUTRE").certificate.subject)
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?><ListeBlancheMSSante xmlns="https://listeblanche.mssante.fr/schema">'
        "<DateDeGeneration>2026-06-01T00:00:00Z</DateDeGeneration><ListeDomaines>"
        f"{entry(LISTED, listed)}{entry(ALSO_LISTED, listed)}{entry(OTHER_OPERATOR, other)}"
        "</ListeDomaines></ListeBlancheMSSante>"
    )
    return AllowList.parse(xml.encode())


MakeRelay = Callable[[MxResolver], Relay]


@pytest.fixture
def make_relay(
    server: Controller, allowlist: AllowList, store: TrustStore, crls: RevocationChecker, client: tuple[Path, Path]
) -> MakeRelay:
    """A relay to the test server (whatever the MX says, its port) with the given resolver."""

    def make(resolver: MxResolver) -> Relay:
        return Relay(
            allowlist=allowlist,
            store=store,
            client_certificate=client,
            revocation=crls,
            resolver=resolver,
            port=server.port,
            timeout=5,
        )

    return make


def to_localhost(domain: str) -> list[tuple[int, str]]:
    return [(10, "localhost")]


def message(*to: str) -> EmailMessage:
    return compose(
        sender=SENDER,
        to=list(to),
        nil="DEV000001",
        at=dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.timezone.utc),
        subject="Compte rendu",
        text="Compte rendu en pièce jointe.",
    )


def test_relay_to_a_listed_domain(server: Controller, recorder: Recorder, make_relay: MakeRelay) -> None:
    to = (f"dr.martin@{LISTED}", f"dr.durand@{LISTED}")
    [result] = make_relay(to_localhost).send(message(*to))
    assert result.ok, result
    assert result.accepted == to
    assert result.server == f"localhost:{server.port}"
    [received] = recorder.messages
    assert received.sender == SENDER
    assert received.recipients == list(to)
    assert b"Compte rendu" in received.data


def test_an_unlisted_domain_is_refused_without_connecting(recorder: Recorder, make_relay: MakeRelay) -> None:
    def no_lookup(domain: str) -> list[tuple[int, str]]:
        raise AssertionError(f"resolved {domain}")

    [result] = make_relay(no_lookup).send(message(f"x@{UNLISTED}"))
    assert result.rejected == (f"x@{UNLISTED}",)
    assert "MSS-WL-011" in result.recipients[0].reply
    assert "allow-list" in result.recipients[0].reply
    assert recorder.mail_peers == []


def test_a_server_certificate_not_listed_for_the_domain_is_refused(recorder: Recorder, make_relay: MakeRelay) -> None:
    [result] = make_relay(to_localhost).send(message(f"x@{OTHER_OPERATOR}"))
    [outcome] = result.recipients
    assert outcome.delivery is Delivery.REJECTED
    assert "MSS-WL-013" in outcome.reply
    assert recorder.mail_peers == []  # nothing after the TLS check: no MAIL FROM
    assert recorder.messages == []


def test_the_next_mx_when_the_first_is_unreachable(recorder: Recorder, make_relay: MakeRelay) -> None:
    tried: list[str] = []

    def two_mx(domain: str) -> list[tuple[int, str]]:
        tried.append(domain)
        return [(20, "localhost"), (10, "127.0.0.2")]  # the preferred one refuses connections

    [result] = make_relay(two_mx).send(message(f"x@{LISTED}"))
    assert result.ok, result
    assert tried == [LISTED]
    assert len(recorder.messages) == 1


def test_no_mx_reachable_is_deferred(make_relay: MakeRelay) -> None:
    [result] = make_relay(lambda domain: [(10, "127.0.0.2")]).send(message(f"x@{LISTED}"))
    assert result.deferred == (f"x@{LISTED}",)
    assert "127.0.0.2" in result.recipients[0].reply


def test_a_dns_failure_is_deferred(recorder: Recorder, make_relay: MakeRelay) -> None:
    def failing(domain: str) -> list[tuple[int, str]]:
        raise OSError("SERVFAIL")

    [result] = make_relay(failing).send(message(f"x@{LISTED}"))
    assert result.deferred == (f"x@{LISTED}",)
    assert "SERVFAIL" in result.recipients[0].reply
    assert recorder.mail_peers == []


def test_no_route_is_rejected(make_relay: MakeRelay) -> None:
    [result] = make_relay(lambda domain: []).send(message(f"x@{LISTED}"))
    assert result.rejected == (f"x@{LISTED}",)


def test_two_domains_give_two_results(recorder: Recorder, make_relay: MakeRelay) -> None:
    a, b, c = f"a@{LISTED}", f"b@{ALSO_LISTED}", f"c@{LISTED.upper()}"
    results = make_relay(to_localhost).send(message(a, b), Envelope(sender=SENDER, recipients=(a, b, c)))
    checked = f"c@{LISTED}"  # the domain checked is the one sent: lower-case A-labels
    assert [result.accepted for result in results] == [(a, checked), (b,)]
    assert sorted(tuple(m.recipients) for m in recorder.messages) == [(a, checked), (b,)]
    assert recorder.connections == 2


@pytest.mark.parametrize(
    "hostile",
    [
        f"evil@attacker.example, dr.martin@{LISTED}",
        f"<evil@attacker.example> dr.martin@{LISTED}",
        f"dr.martin@{LISTED}\r\nRCPT TO:<evil@attacker.example>",
    ],
    ids=["list", "angle", "crlf"],
)
def test_a_recipient_string_cannot_lead_outside_the_allow_list(
    hostile: str, recorder: Recorder, make_relay: MakeRelay
) -> None:
    with pytest.raises(InvalidAddress) as refused:
        make_relay(to_localhost).send(message(f"dr.martin@{LISTED}"), Envelope(sender=SENDER, recipients=(hostile,)))
    assert "MSS-ADR-003" in refused.value.report.codes
    assert recorder.commands == []  # no connection carried it
    assert recorder.messages == []


def test_the_mx_receives_the_address_whose_domain_was_checked(recorder: Recorder, make_relay: MakeRelay) -> None:
    envelope = Envelope(sender=SENDER, recipients=[f"Dr.Martin@{LISTED.upper()}"])
    [result] = make_relay(to_localhost).send(message(f"dr.martin@{LISTED}"), envelope)
    assert result.accepted == (f"Dr.Martin@{LISTED}",)
    assert recorder.commands[1:] == [f"RCPT TO:<{envelope.recipients[0]}>"]
    assert recorder.commands[0].split(" ")[:2] == ["MAIL", f"FROM:<{SENDER}>"]


def test_at_must_be_aware(allowlist: AllowList, store: TrustStore, client: tuple[Path, Path]) -> None:
    with pytest.raises(ValueError, match="timezone"):
        Relay(allowlist=allowlist, store=store, client_certificate=client, at=dt.datetime(2026, 1, 1))


def test_an_mx_whose_certificate_fails_the_handshake_is_refused(recorder: Recorder, make_relay: MakeRelay) -> None:
    # The certificate names localhost, not 127.0.0.1: refused in the handshake, before MAIL.
    [result] = make_relay(lambda domain: [(10, "127.0.0.1")]).send(message(f"x@{LISTED}"))
    assert result.rejected == (f"x@{LISTED}",)
    assert "handshake" in result.recipients[0].reply
    assert recorder.mail_peers == []


class _Mx:
    def __init__(self, preference: int, exchange: str) -> None:
        self.preference = preference
        self.exchange = exchange


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (
            [_Mx(20, "mx2.example.org."), _Mx(10, "mx1.example.org.")],
            [(10, "mx1.example.org"), (20, "mx2.example.org")],
        ),
        ([_Mx(0, ".")], []),
        (dns.resolver.NoAnswer, [(0, "example.org")]),
        (dns.resolver.NXDOMAIN, []),
    ],
    ids=["sorted", "null-mx", "no-mx", "nxdomain"],
)
def test_default_resolver(monkeypatch: pytest.MonkeyPatch, answer: object, expected: list[tuple[int, str]]) -> None:
    def resolve(self: dns.resolver.Resolver, name: str, kind: str) -> object:
        assert (name, kind) == ("example.org", "MX")
        if isinstance(answer, type) and issubclass(answer, Exception):
            raise answer
        return answer

    monkeypatch.setattr(dns.resolver.Resolver, "resolve", resolve)
    assert resolve_mx("example.org") == expected


def test_default_resolver_failure_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    def resolve(self: dns.resolver.Resolver, name: str, kind: str) -> object:
        raise dns.exception.Timeout

    monkeypatch.setattr(dns.resolver.Resolver, "resolve", resolve)
    with pytest.raises(TransportError, match="cannot resolve"):
        resolve_mx("example.org")


@pytest.mark.parametrize("variant", bcc.VARIANTS)
def test_bcc_never_reaches_the_mx(variant: str, recorder: Recorder, make_relay: MakeRelay) -> None:
    # the variants of tests/transport/test_bcc.py, the addresses moved to a listed domain
    hidden, recipients = bcc.VARIANTS[variant]
    data, expected = (
        value.replace(b"@hopital.mssante.fr", f"@{LISTED}".encode()) for value in (bcc.mail(hidden), bcc.EXPECTED)
    )
    [result] = make_relay(to_localhost).send(data)
    [received] = recorder.messages
    assert received.data == expected
    listed = [address.replace("@hopital.mssante.fr", f"@{LISTED}") for address in (bcc.TO, *recipients)]
    assert received.recipients == listed
    assert result.accepted == tuple(listed)


class _TricklingMx:
    """A port where every client is greeted one byte at a time, for ever (until the test ends): a slow MX."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.listener.getsockname()[1]
        self.accepted = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            self.accepted += 1
            threading.Thread(target=self._trickle, args=(connection,), daemon=True).start()

    def _trickle(self, connection: socket.socket) -> None:
        with connection:
            for byte in b"220-mx.example please wait\r\n" * 100:
                if self.stop.wait(0.02):
                    return
                try:
                    connection.sendall(bytes([byte]))
                except OSError:
                    return

    def close(self) -> None:
        self.stop.set()
        self.listener.close()
        self.thread.join(5)


def test_the_mx_hosts_of_a_domain_share_one_deadline(
    allowlist: AllowList, store: TrustStore, crls: RevocationChecker, client: tuple[Path, Path]
) -> None:
    """Three MX hosts that each trickle their greeting: the first takes the whole max_duration, and the others are
    not tried (the domain is deferred after one max_duration, not three)."""
    mx = _TricklingMx()
    try:
        relay = Relay(
            allowlist=allowlist, store=store, client_certificate=client, revocation=crls,
            resolver=lambda domain: [(10, "127.0.0.1"), (20, "localhost"), (30, "127.0.0.1")],
            port=mx.port, timeout=5, max_duration=0.5,
        )  # fmt: skip
        [result] = relay.send(message(f"dr.a@{LISTED}"))
    finally:
        mx.close()
    assert mx.accepted == 1
    assert result.recipients[0].delivery is Delivery.DEFERRED
    assert "the deadline passed" in result.recipients[0].reply
    assert "trying the MX of" in result.recipients[0].reply

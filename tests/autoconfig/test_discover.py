"""Discovery against a real DNS service on loopback: NSD serving the zones, Unbound validating them (DNSSEC)."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable, Iterator

import pytest

from mssante.autoconfig import Servers, Tls, async_discover, discover
from mssante.errors import InvalidInput
from mssante.net._autoconfig import describe, parse_nameserver
from mssante.report import Severity
from tests import dns_server
from tests.dns_server import DnsServers, Zone, dns_servers

ZONES = [
    Zone(
        "signed.test",
        [
            "_submissions._tcp SRV 0 1 465 smtp.signed.test.",
            "_submission._tcp SRV 0 0 0 .",
            "_imaps._tcp SRV 0 1 993 imap.operator.test.",
            "_imap._tcp SRV 10 1 143 imap2.signed.test.",
            "_imap._tcp SRV 0 1 143 imap1.signed.test.",
            "smtp A 90.0.0.25",
            "imap1 A 90.0.0.143",
            "imap2 AAAA 2a01::143",
        ],
        signed=True,
    ),
    Zone(
        "plain.test",
        ["_submission._tcp SRV 0 1 587 smtp.plain.test.", "smtp A 90.0.0.26", '_imaps._tcp TXT "no SRV here"'],
    ),
    Zone("bogus.test", ["_imaps._tcp SRV 0 1 993 imap.bogus.test."], bogus=True),
    Zone("private.test", ["_imap._tcp SRV 0 1 143 mail.private.test.", "mail A 10.0.0.1"]),
]


@pytest.fixture(scope="module")
def servers() -> Iterator[DnsServers]:
    with dns_servers(ZONES) as running:
        yield running


def codes(found: Servers) -> list[str]:
    return [finding.code for finding in found.report.findings]


def test_a_signed_zone_is_reported_validated(servers: DnsServers) -> None:
    found = discover("dr.martin@signed.test", nameserver=servers.resolver)
    assert found.submission is not None
    assert found.submission.to_dict() == {"host": "smtp.signed.test", "port": 465, "tls": "implicit"}
    assert found.submission.validated
    assert codes(found).count("MSS-SRV-004") == 4
    assert "MSS-SRV-005" not in codes(found)
    assert "MSS-SRV-002" in codes(found)  # _submission._tcp: "." target, not offered
    # imaps (priority 0, implicit) first, then the STARTTLS records by priority
    assert [(s.host, s.port, s.tls) for s in found.imap_candidates] == [
        ("imap.operator.test", 993, Tls.IMPLICIT),
        ("imap1.signed.test", 143, Tls.STARTTLS),
        ("imap2.signed.test", 143, Tls.STARTTLS),
    ]
    outside = [f for f in found.report.findings if f.code == "MSS-SRV-006"]
    assert [f.severity for f in outside] == [Severity.INFO]  # outside the domain, but DNSSEC-validated
    assert codes(found).count("MSS-SRV-012") == 1  # imap.operator.test has no address
    assert found.ok


def test_an_unsigned_zone_is_not_validated(servers: DnsServers) -> None:
    found = discover("plain.test", nameserver=servers.resolver)
    assert found.submission is not None
    assert not found.submission.validated
    assert found.submission.to_dict() == {"host": "smtp.plain.test", "port": 587, "tls": "starttls"}
    assert "MSS-SRV-005" in codes(found)
    assert "MSS-SRV-004" not in codes(found)
    assert found.imap is None
    assert codes(found).count("MSS-SRV-001") == 3


def test_the_authoritative_server_alone_validates_nothing(servers: DnsServers) -> None:
    found = discover("signed.test", nameserver=servers.authoritative)
    assert found.submission is not None
    assert not found.submission.validated
    assert "MSS-SRV-004" not in codes(found)


def test_a_bogus_signature_is_undetermined_not_unpublished(servers: DnsServers) -> None:
    found = discover("bogus.test", nameserver=servers.resolver)
    assert codes(found) == ["MSS-SRV-003"] * 4
    assert not found.ok
    assert not found.published


def test_no_records_is_not_published(servers: DnsServers) -> None:
    found = discover("nobody@nothing.signed.test", nameserver=servers.resolver)
    assert codes(found) == ["MSS-SRV-001"] * 4
    assert found.ok
    assert not found.published


def test_a_target_resolving_to_a_private_address_is_refused(servers: DnsServers) -> None:
    found = discover("private.test", nameserver=servers.resolver)
    assert found.imap is None
    assert "MSS-SRV-008" in codes(found)
    with pytest.warns(Warning, match="tests only"):
        allowed = discover("private.test", nameserver=servers.resolver, allow_private=True)
    assert allowed.imap is not None
    assert allowed.imap.host == "mail.private.test"


@pytest.mark.parametrize("domain", ["signed.test", "plain.test", "bogus.test", "nothing.signed.test", "private.test"])
def test_the_async_shell_gives_the_same_servers(servers: DnsServers, domain: str) -> None:
    found = asyncio.run(async_discover(domain, nameserver=servers.resolver))
    assert found == discover(domain, nameserver=servers.resolver)


def test_the_async_shell_is_held_to_the_deadline() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))
        port = silent.getsockname()[1]
        started = time.monotonic()
        found = asyncio.run(async_discover("example.org", nameserver=f"127.0.0.1:{port}", lifetime=0.3))
        elapsed = time.monotonic() - started
    assert elapsed < 2.0
    assert codes(found) == ["MSS-SRV-003"] * 4


@pytest.mark.parametrize(
    ("text", "expected"),
    [("127.0.0.1", ("127.0.0.1", 53)), ("127.0.0.1:5353", ("127.0.0.1", 5353)), ("::1", ("::1", 53)),
     ("[::1]:5353", ("::1", 5353)), ("[::1]", ("::1", 53))],
)  # fmt: skip
def test_name_server_forms(text: str, expected: tuple[str, int]) -> None:
    assert parse_nameserver(text) == expected


def test_a_silent_name_server_is_held_to_the_deadline() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))
        port = silent.getsockname()[1]
        started = time.monotonic()
        found = discover("example.org", nameserver=f"127.0.0.1:{port}", lifetime=0.4)
        elapsed = time.monotonic() - started
    assert elapsed < 2.0
    assert codes(found) == ["MSS-SRV-003"] * 4
    assert "deadline" in found.report.findings[-1].message or "timed out" in found.report.findings[-1].message


@pytest.mark.parametrize("nameserver", ["ns.example.org", "127.0.0.1:0", "127.0.0.1:dns", "[::1]x", "1.2.3.4:99999"])
def test_a_bad_nameserver_is_refused(nameserver: str) -> None:
    with pytest.raises(InvalidInput):
        discover("example.org", nameserver=nameserver)


def test_a_bad_lifetime_is_refused() -> None:
    with pytest.raises(ValueError, match="lifetime"):
        discover("example.org", nameserver="127.0.0.1", lifetime=0)


def test_failures_are_told_in_a_few_words() -> None:
    import dns.exception  # noqa: PLC0415 (the shell's library: loaded by the tests that use the shell)
    import dns.resolver  # noqa: PLC0415

    kinds: list[Callable[..., dns.exception.DNSException]] = [
        dns.resolver.NoResolverConfiguration,
        dns.exception.Timeout,
        dns.exception.FormError,
    ]
    said = [describe(kind()) for kind in kinds]
    assert said[:2] == ["no name server configured", "timed out"]
    assert said[2].startswith("FormError: ")


def test_missing_dns_servers_skip_or_fail_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dns_server, "_NSD", "/nonexistent/nsd")
    assert "nsd unbound" in (dns_server.missing() or "")
    monkeypatch.delenv(dns_server.REQUIRE, raising=False)
    with pytest.raises(pytest.skip.Exception):
        dns_server.require_dns()
    monkeypatch.setenv(dns_server.REQUIRE, "1")
    with pytest.raises(pytest.fail.Exception):
        dns_server.require_dns()

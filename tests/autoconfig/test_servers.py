"""The pure rule of autoconfiguration: SRV answers given as values, the servers and findings that follow."""

from __future__ import annotations

import random

import pytest

import mssante.autoconfig as autoconfig
from mssante.autoconfig import (
    MAX_RECORDS,
    Lookup,
    Servers,
    Service,
    SrvAnswer,
    SrvRecord,
    Tls,
    choose_servers,
    domain_of,
    order_records,
    targets_to_resolve,
)
from mssante.errors import InvalidAddress, InvalidInput, SecurityWarning
from mssante.report import Severity

ADDRESS = "dr.martin@hopital.example.org"


def srv(priority: int, weight: int, port: int, target: str) -> SrvRecord:
    return SrvRecord(priority=priority, weight=weight, port=port, target=target)


def answer(service: Service, *records: SrvRecord, validated: bool = False) -> SrvAnswer:
    return SrvAnswer(service=service, records=records, validated=validated)


def missing(*services: Service) -> list[SrvAnswer]:
    return [SrvAnswer(service=service, lookup=Lookup.NOT_FOUND) for service in services]


def codes(servers: Servers) -> list[str]:
    return [finding.code for finding in servers.report.findings]


def test_the_public_names() -> None:
    assert sorted(autoconfig.__all__) == sorted([
        "MAX_ADDRESSES", "MAX_RECORDS", "MAX_TARGETS", "Lookup", "Server", "Servers", "Service", "SrvAnswer",
        "SrvRecord", "Tls", "async_discover", "choose_servers", "discover", "domain_of", "order_records",
        "targets_to_resolve",
    ])  # fmt: skip
    assert callable(autoconfig.discover)
    assert callable(autoconfig.async_discover)


def test_services_name_their_query_kind_and_tls() -> None:
    assert Service.SUBMISSIONS.query_name("example.org") == "_submissions._tcp.example.org"
    assert [(s.kind, s.tls) for s in Service] == [
        ("submission", Tls.IMPLICIT), ("submission", Tls.STARTTLS), ("imap", Tls.IMPLICIT), ("imap", Tls.STARTTLS),
    ]  # fmt: skip
    assert str(Tls.IMPLICIT) == "implicit"
    assert str(Service.IMAP) == "_imap._tcp"
    assert str(Lookup.FAILED) == "failed"


def test_a_published_server_is_found_with_its_tls_mode() -> None:
    servers = choose_servers(
        ADDRESS,
        [
            answer(Service.SUBMISSION, srv(0, 1, 587, "SMTP.hopital.example.org."), validated=True),
            answer(Service.IMAPS, srv(0, 1, 993, "imap.hopital.example.org.")),
            *missing(Service.SUBMISSIONS, Service.IMAP),
        ],
    )
    assert servers.domain == "hopital.example.org"
    assert servers.submission is not None
    assert servers.imap is not None
    assert (servers.submission.host, servers.submission.port, servers.submission.tls) == (
        "smtp.hopital.example.org", 587, Tls.STARTTLS,
    )  # fmt: skip
    assert servers.submission.validated
    assert not servers.imap.validated
    assert servers.imap.to_dict() == {"host": "imap.hopital.example.org", "port": 993, "tls": "implicit"}
    assert servers.ok
    assert servers.published
    assert codes(servers).count("MSS-SRV-001") == 2
    assert "MSS-SRV-004" in codes(servers)
    assert "MSS-SRV-005" in codes(servers)
    payload = servers.to_dict()
    assert payload["submission"] == {"host": "smtp.hopital.example.org", "port": 587, "tls": "starttls"}
    assert payload["ok"] is True
    assert payload["domain"] == "hopital.example.org"


def test_nothing_published_is_info_not_an_error() -> None:
    servers = choose_servers("example.org", missing(*Service))
    assert servers.submission is None
    assert servers.imap is None
    assert servers.ok
    assert not servers.published
    assert codes(servers) == ["MSS-SRV-001"] * 4
    assert servers.to_dict()["submission"] is None
    empty = choose_servers("example.org", [answer(Service.IMAP)])  # an answer without records
    assert codes(empty) == ["MSS-SRV-001"]


def test_a_dot_target_means_not_offered() -> None:
    servers = choose_servers("example.org", [answer(Service.IMAP, srv(0, 0, 0, "."))])
    assert servers.imap is None
    assert codes(servers) == ["MSS-SRV-005", "MSS-SRV-002"]
    assert servers.ok


def test_a_failed_lookup_is_undetermined_not_unpublished() -> None:
    failed = SrvAnswer(service=Service.SUBMISSION, lookup=Lookup.FAILED, reason="SERVFAIL")
    servers = choose_servers("example.org", [failed])
    assert codes(servers) == ["MSS-SRV-003"]
    assert not servers.ok
    assert "SERVFAIL" in servers.report.findings[0].message


def test_candidates_by_priority_then_implicit_tls_first() -> None:
    servers = choose_servers(
        "example.org",
        [
            answer(Service.SUBMISSION, srv(10, 0, 587, "b.example.org"), srv(0, 0, 587, "a.example.org")),
            answer(Service.SUBMISSIONS, srv(0, 0, 465, "c.example.org"), srv(20, 0, 465, "d.example.org")),
        ],
    )
    assert [(s.host, s.port) for s in servers.submission_candidates] == [
        ("c.example.org", 465), ("a.example.org", 587), ("b.example.org", 587), ("d.example.org", 465),
    ]  # fmt: skip
    assert servers.imap_candidates == ()


def test_weighted_order_follows_rfc_2782() -> None:
    records = [srv(0, 0, 1, "zero.example.org"), srv(0, 60, 2, "heavy.example.org"), srv(0, 30, 3, "light.example.org"),
               srv(5, 100, 4, "later.example.org")]  # fmt: skip
    assert [r.port for r in order_records(records)] == [2, 3, 1, 4]  # heaviest first without a random source
    first = [order_records(records, random=random.Random(seed))[0].port for seed in range(200)]
    assert set(first) <= {1, 2, 3}
    assert first.count(2) > first.count(3) > first.count(1)
    assert order_records(records, random=random.Random(7)) == order_records(records, random=random.Random(7))
    assert sorted(r.port for r in order_records(records, random=random.Random(1))) == [1, 2, 3, 4]
    assert order_records(records, random=random.Random(1))[-1].port == 4


def test_a_target_outside_the_domain_is_reported_with_its_dnssec_status() -> None:
    unsigned = choose_servers(ADDRESS, [answer(Service.IMAPS, srv(0, 1, 993, "imap.operator.example.net"))])
    outside = [f for f in unsigned.report.findings if f.code == "MSS-SRV-006"]
    assert [f.severity for f in outside] == [Severity.WARNING]
    assert "imap.operator.example.net" in outside[0].message
    assert "NOT validated" in outside[0].message
    assert unsigned.imap is not None
    assert unsigned.imap.host == "imap.operator.example.net"
    signed = choose_servers(
        ADDRESS, [answer(Service.IMAPS, srv(0, 1, 993, "imap.operator.example.net"), validated=True)]
    )
    assert [f.severity for f in signed.report.findings if f.code == "MSS-SRV-006"] == [Severity.INFO]
    inside = choose_servers(ADDRESS, [answer(Service.IMAPS, srv(0, 1, 993, "hopital.example.org"))])
    assert "MSS-SRV-006" not in codes(inside)


def test_ip_literals_and_private_targets_are_refused() -> None:
    answers = [
        answer(Service.SUBMISSION, srv(0, 1, 587, "192.0.2.10"), srv(1, 1, 587, "localhost.")),
        answer(Service.IMAP, srv(0, 1, 143, "imap.example.org"), srv(1, 1, 143, "public.example.org")),
    ]
    addresses = {"imap.example.org": ["10.1.2.3"], "public.example.org": ["2001:4860::1"]}
    servers = choose_servers("example.org", answers, addresses=addresses)
    assert servers.submission is None
    assert [s.host for s in servers.imap_candidates] == ["public.example.org"]
    assert codes(servers).count("MSS-SRV-007") == 1
    assert codes(servers).count("MSS-SRV-008") == 2
    assert not servers.ok


def test_an_ipv4_mapped_loopback_is_private() -> None:
    answers = [answer(Service.IMAP, srv(0, 1, 143, "imap.example.org"))]
    servers = choose_servers("example.org", answers, addresses={"imap.example.org": ["::ffff:127.0.0.1"]})
    assert codes(servers)[-1] == "MSS-SRV-008"


def test_private_targets_kept_when_allowed_with_a_security_warning() -> None:
    answers = [answer(Service.SUBMISSION, srv(0, 1, 2525, "127.0.0.1"), srv(1, 1, 2526, "mail.localhost"))]
    with pytest.warns(SecurityWarning, match="tests only"):
        servers = choose_servers("example.org", answers, allow_private=True)
    assert [(s.host, s.port) for s in servers.submission_candidates] == [("127.0.0.1", 2525), ("mail.localhost", 2526)]
    assert codes(servers).count("MSS-SRV-009") == 2
    assert servers.ok


def test_unusable_records_are_ignored() -> None:
    answers = [answer(Service.IMAP, srv(0, 1, 0, "imap.example.org"), srv(0, 1, 143, "bad_name!.example.org"),
                      srv(0, 1, 143, "ok.example.org"))]  # fmt: skip
    servers = choose_servers("example.org", answers)
    assert [s.host for s in servers.imap_candidates] == ["ok.example.org"]
    assert codes(servers).count("MSS-SRV-010") == 2
    with pytest.warns(SecurityWarning):
        allowed = choose_servers("example.org", [answer(Service.IMAP, srv(0, 1, 0, "127.0.0.1"))], allow_private=True)
    assert allowed.imap is None
    assert "MSS-SRV-010" in codes(allowed)


def test_too_many_records_are_bounded() -> None:
    many = [srv(0, 1, 1000 + n, f"h{n}.example.org") for n in range(MAX_RECORDS + 5)]
    servers = choose_servers("example.org", [answer(Service.IMAP, *many)])
    assert len(servers.imap_candidates) == MAX_RECORDS
    assert "MSS-SRV-011" in codes(servers)


def test_a_target_without_address_is_kept_with_a_warning() -> None:
    answers = [answer(Service.IMAP, srv(0, 1, 143, "imap.example.org"))]
    servers = choose_servers("example.org", answers, addresses={})
    assert servers.imap is not None
    assert "MSS-SRV-012" in codes(servers)


def test_targets_to_resolve_are_host_names_once() -> None:
    answers = [
        answer(Service.SUBMISSION, srv(0, 1, 587, "mail.example.org"), srv(0, 1, 587, "127.0.0.1")),
        answer(Service.IMAP, srv(0, 1, 143, "mail.example.org"), srv(0, 1, 143, "localhost"), srv(0, 0, 0, ".")),
        SrvAnswer(service=Service.IMAPS, lookup=Lookup.FAILED),
    ]
    assert targets_to_resolve(answers) == ["mail.example.org"]


def test_domains_and_records_are_checked() -> None:
    assert domain_of("Dr.Martin@Hopital.Example.ORG") == "hopital.example.org"
    assert domain_of("example.org.") == "example.org"
    with pytest.raises(InvalidAddress):
        domain_of("nobody@")
    with pytest.raises(InvalidInput):
        choose_servers("not a domain", [])
    with pytest.raises(ValueError, match="16-bit"):
        srv(0, 1, 70000, "x.example.org")
    assert srv(0, 1, 1, "X.Example.ORG.").target == "x.example.org"
    assert srv(0, 0, 0, ".").target == ""

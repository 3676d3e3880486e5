"""``probe_domain`` against a real DNS service on loopback (NSD and a validating Unbound) and an MX on 127.0.0.1:
the MX records and their DNSSEC status, the SRV records, the allow-list entry, the certificate each MX presents."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from aiosmtpd.controller import Controller

from mssante.errors import InvalidInput
from mssante.pki import RevocationChecker, TrustStore
from mssante.probe import DomainReport, probe_domain
from mssante.testing import TestPki
from mssante.trustspace import AllowList, OperatorDn
from tests.dns_server import DnsServers, Zone, dns_servers
from tests.probe.servers import ProbedRecorder, context, smtp

PUBLIC = "93.184.215.14"  # a public address the SRV targets resolve to: never connected to
MX_HOST = "mx.operateur.example.test"


def _zone(name: str, *, mx: bool = True, srv: bool = True, signed: bool = True, bogus: bool = False) -> Zone:
    records: list[str] = []
    if mx:
        records.append(f"@ MX 10 {MX_HOST}.")
    if srv:
        records += [f"_submission._tcp SRV 0 1 587 smtp.{name}.", f"_imap._tcp SRV 0 1 143 imap.{name}.",
                    f"smtp A {PUBLIC}", f"imap A {PUBLIC}"]  # fmt: skip
    return Zone(name, records, signed=signed, bogus=bogus)


ZONES = [
    _zone("listed.test"),
    _zone("unsigned.test", signed=False),
    _zone("nomx.test", mx=False),
    _zone("nosrv.test", srv=False),
    _zone("unlisted.test"),
    _zone("otherdn.test"),
    _zone("bogus.test", bogus=True),
    Zone("operateur.example.test", ["mx A 127.0.0.1"], signed=True),
]


@pytest.fixture(scope="module")
def dns() -> Iterator[DnsServers]:
    with dns_servers(ZONES) as servers:
        yield servers


@pytest.fixture(scope="module")
def mx(pki: TestPki, store: TrustStore, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Controller]:
    issued = pki.server([MX_HOST], organisation="OPERATEUR-A")
    tls = context(store, issued, tmp_path_factory.mktemp("mx"), "mx")
    with smtp(ProbedRecorder(), tls=tls) as controller:
        yield controller


@pytest.fixture(scope="module")
def allow_list(pki: TestPki) -> AllowList:
    """The list: every test domain but unlisted.test with the MX's DN, otherdn.test with another operator's."""
    listed = OperatorDn.from_name(pki.server([MX_HOST], organisation="OPERATEUR-A").certificate.subject)
    other = OperatorDn.from_name(pki.server(["mx.autre.test"], organisation="AUTRE").certificate.subject)
    entries = [(name, listed) for name in ("listed.test", "unsigned.test", "nomx.test", "nosrv.test", "bogus.test")]
    entries.append(("otherdn.test", other))
    domaines = "".join(
        f"<Domaine><Nom>{name}</Nom><Description>T</Description><DNCertificatOperateur>{dn}</DNCertificatOperateur>"
        "<ResponsableContact>r</ResponsableContact><SupportContact>s</SupportContact>"
        "<DateMAJ>2026-06-01T00:00:00Z</DateMAJ></Domaine>"
        for name, dn in entries
    )
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?><ListeBlancheMSSante xmlns="https://listeblanche.mssante.fr/schema">'
        f"<DateDeGeneration>2026-06-01T00:00:00Z</DateDeGeneration><ListeDomaines>{domaines}</ListeDomaines>"
        "</ListeBlancheMSSante>"
    )
    return AllowList.parse(xml.encode())


def _probe(
    domain: str, dns: DnsServers, mx: Controller, allow_list: AllowList, store: TrustStore, now: dt.datetime,
    crls: RevocationChecker,
) -> DomainReport:  # fmt: skip
    return probe_domain(domain, store=store, at=now, allow_list=allow_list, nameserver=dns.resolver,
                        revocation=crls, mx_port=mx.port, timeout=5.0)  # fmt: skip


@pytest.fixture
def probe(
    dns: DnsServers, mx: Controller, allow_list: AllowList, store: TrustStore, now: dt.datetime, crls: RevocationChecker
) -> object:
    return lambda domain: _probe(domain, dns, mx, allow_list, store, now, crls)


def test_a_well_configured_domain(probe: object) -> None:
    report = probe("listed.test")  # type: ignore[operator]
    assert report.ok, str(report)
    assert not report.probe.report.warnings, str(report)
    assert report.listed is True
    assert [host.name for host in report.mx] == [MX_HOST]
    assert report.mx[0].addresses == ("127.0.0.1",)
    assert report.mx[0].subject is not None
    assert "MSS-WL-014" in report.probe.check("mx-certificates").codes
    answer = report.to_dict()
    assert answer["listed"] is True
    assert [check["name"] for check in answer["checks"]] == [
        "mx-records", "srv-records", "allow-list", "mx-certificates",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("domain", "check", "code"),
    [
        ("unsigned.test", "mx-records", "MSS-PRB-028"),
        ("nomx.test", "mx-records", "MSS-PRB-026"),
        ("bogus.test", "mx-records", "MSS-PRB-027"),
        ("unlisted.test", "allow-list", "MSS-WL-011"),
        ("otherdn.test", "mx-certificates", "MSS-WL-013"),
    ],
)
def test_each_domain_misconfiguration_gives_its_finding(probe: object, domain: str, check: str, code: str) -> None:
    report = probe(domain)  # type: ignore[operator]
    assert code in report.probe.check(check).codes, str(report)


def test_a_domain_without_srv_records(probe: object) -> None:
    report = probe("nosrv.test")  # type: ignore[operator]
    assert report.probe.check("srv-records").codes, str(report)
    assert report.probe.check("mx-certificates").ok


@pytest.mark.parametrize("nameserver", ["ns.example.test", "127.0.0.1:0", "127.0.0.1:x", "[::1]:99999"])
def test_a_name_server_that_is_not_ip_port(nameserver: str, store: TrustStore, now: dt.datetime) -> None:
    with pytest.raises(InvalidInput, match="IP\\[:PORT\\]"):
        probe_domain("listed.test", store=store, at=now, nameserver=nameserver)

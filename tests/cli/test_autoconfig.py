"""`mssante autoconfig ADDRESS`: the servers of an address's domain from DNS SRV records, asked of a local DNS."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.cli.running import run, run_json
from tests.dns_server import DnsServers, Zone, dns_servers

ZONES = [
    Zone(
        "operateur.test",
        [
            "_submissions._tcp SRV 0 1 465 smtp.operateur.test.",
            "_imap._tcp SRV 0 1 143 imap.operateur.test.",
            "smtp A 90.0.0.25",
            "imap A 90.0.0.143",
        ],
        signed=True,
    ),
    Zone("local.test", ["_submission._tcp SRV 0 1 2525 localhost."]),
]


@pytest.fixture(scope="module")
def servers() -> Iterator[DnsServers]:
    with dns_servers(ZONES) as running:
        yield running


def test_the_servers_found(servers: DnsServers) -> None:
    status, payload = run_json("autoconfig", "dr.martin@operateur.test", "--nameserver", servers.resolver)
    assert status == 0
    assert payload["submission"] == {"host": "smtp.operateur.test", "port": 465, "tls": "implicit"}
    assert payload["imap"] == {"host": "imap.operateur.test", "port": 143, "tls": "starttls"}
    assert payload["ok"] is True
    assert payload["domain"] == "operateur.test"
    assert "MSS-SRV-004" in [finding["code"] for finding in payload["findings"]]


def test_the_lines_for_humans(servers: DnsServers) -> None:
    status, out, err = run("autoconfig", "operateur.test", "--nameserver", servers.resolver)
    assert status == 0
    assert err == ""
    lines = out.splitlines()
    assert lines[:2] == ["submission: smtp.operateur.test:465 (implicit)", "imap: imap.operateur.test:143 (starttls)"]
    assert any("MSS-SRV-001" in line for line in lines[2:])


def test_nothing_published_exits_1(servers: DnsServers) -> None:
    status, payload = run_json("autoconfig", "x@nothing.operateur.test", "--nameserver", servers.resolver)
    assert status == 1
    assert payload["submission"] is None
    assert payload["imap"] is None


def test_a_loopback_target_is_refused_unless_allowed(servers: DnsServers) -> None:
    status, payload = run_json("autoconfig", "local.test", "--nameserver", servers.resolver)
    assert status == 1
    assert payload["submission"] is None
    assert "MSS-SRV-008" in [finding["code"] for finding in payload["findings"]]
    status, out, err = run("autoconfig", "local.test", "--nameserver", servers.resolver, "--allow-private", "--json")
    assert status == 0
    assert "mssante: warning:" in err
    assert "tests only" in err
    assert '"host": "localhost"' in out


@pytest.mark.parametrize(
    "arguments",
    [
        ["not a domain", "--nameserver", "127.0.0.1"],
        ["example.org", "--nameserver", "ns.example.org"],
        ["example.org", "--nameserver", "127.0.0.1", "--lifetime", "0"],
        ["example.org", "--lifetime", "soon"],
        [],
    ],
)
def test_usage_errors_exit_2(arguments: list[str]) -> None:
    status, out, err = run("autoconfig", *arguments)
    assert status == 2
    assert out == ""
    assert err.startswith("mssante")

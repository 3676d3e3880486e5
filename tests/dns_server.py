"""A real DNS service on loopback for tests: an authoritative NSD and a validating Unbound, on free 127.0.0.1 ports.

Nothing of the system's configuration is read or changed: both run in the foreground from a temporary directory
(their own configuration, zone files, pid and log files). :func:`dns_servers` writes the zones it is given, signs
those marked ``signed`` with a fresh ECDSA P-256 key (dnspython's ``dns.dnssec.sign_zone``, NSEC chain included),
starts NSD serving them all, then Unbound with a stub zone to NSD for each and, for each signed zone, a trust
anchor (its DS), so that an answer from a signed zone comes back with the AD flag set, an answer from an unsigned
zone without it, and an answer from a ``bogus`` zone (signed, but whose trust anchor is another key's) as SERVFAIL.

Ask the authoritative server directly (:attr:`DnsServers.authoritative`) for plain answers, the resolver
(:attr:`DnsServers.resolver`) for validated ones; both are ``IP:PORT`` strings. Tests skip when ``nsd`` or
``unbound`` is missing, and fail then when ``MSSANTE_REQUIRE_MTA`` is set (CI)::

    with dns_servers([Zone("example.test", ["_imaps._tcp SRV 0 1 993 imap.example.test."])]) as servers:
        ...  # ask servers.resolver
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import socket
import subprocess
import tempfile
import time
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

__all__ = ["DNS_PACKAGES", "DnsError", "DnsServers", "Zone", "dns_servers", "missing", "require_dns"]

DNS_PACKAGES = "nsd unbound"
REQUIRE = "MSSANTE_REQUIRE_MTA"
"""When set (CI), missing DNS servers fail the tests that need them instead of skipping them."""

_NSD = "/usr/sbin/nsd"
_UNBOUND = "/usr/sbin/unbound"
_START_SECONDS = 10.0


class DnsError(RuntimeError):
    """A server did not start; the message ends with the last lines of its log."""


@dataclasses.dataclass(frozen=True)
class Zone:
    """A zone to serve: its ``name`` and its records as zone-file lines relative to it (``@``, ``_imap._tcp``...).

    The SOA, an NS (``ns.<name>``) and its A record (127.0.0.1) are added. ``signed``: signed, with a trust anchor
    in the resolver; ``bogus``: signed, with a trust anchor of another key (its answers do not validate).
    """

    name: str
    records: Sequence[str] = ()
    signed: bool = False
    bogus: bool = False


@dataclasses.dataclass(frozen=True)
class DnsServers:
    """The running servers: ``authoritative`` (NSD) and ``resolver`` (Unbound, validating), each ``IP:PORT``."""

    authoritative: str
    resolver: str
    directory: Path


def missing() -> str | None:
    """Why the DNS servers cannot run here, or None."""
    absent = [path for path in (_NSD, _UNBOUND) if not os.access(path, os.X_OK)]
    if absent:
        return f"{', '.join(absent)} not installed (apt-get install {DNS_PACKAGES})"
    return None


def require_dns() -> None:
    """Skip the calling test (fail it when ``MSSANTE_REQUIRE_MTA`` is set) without NSD or Unbound."""
    reason = missing()
    if reason is None:
        return
    if os.environ.get(REQUIRE):
        pytest.fail(f"{REQUIRE} is set but the DNS tests cannot run: {reason}", pytrace=False)
    pytest.skip(reason)


def free_port() -> int:
    """A port free on 127.0.0.1 for both UDP and TCP right now."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind(("127.0.0.1", 0))
            port: int = udp.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
                try:
                    tcp.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port
    raise DnsError("no free port on 127.0.0.1")  # pragma: no cover


def _zone_text(zone: Zone) -> tuple[str, str | None]:
    """The zone file of ``zone`` (signed when asked) and the DS its trust anchor holds (None when unsigned)."""
    with warnings.catch_warnings():  # dnspython's DSA support imports a deprecated name of cryptography
        warnings.simplefilter("ignore")
        import dns.dnssec  # noqa: PLC0415 (only the DNS tests need it)
        import dns.dnssectypes  # noqa: PLC0415
        import dns.name  # noqa: PLC0415
        import dns.rdatatype  # noqa: PLC0415
        import dns.zone  # noqa: PLC0415
        from cryptography.hazmat.primitives.asymmetric import ec  # noqa: PLC0415
    origin = zone.name.rstrip(".") + "."
    lines = [
        f"$ORIGIN {origin}",
        "$TTL 60",
        f"@ SOA ns.{origin} hostmaster.{origin} 1 3600 600 86400 60",
        f"@ NS ns.{origin}",
        "ns A 127.0.0.1",
        *zone.records,
    ]
    text = "\n".join(lines) + "\n"
    if not (zone.signed or zone.bogus):
        return text, None
    parsed = dns.zone.from_text(text, origin=origin, relativize=False)
    algorithm = dns.dnssectypes.Algorithm.ECDSAP256SHA256
    key = ec.generate_private_key(ec.SECP256R1())
    dnskey = dns.dnssec.make_dnskey(key.public_key(), algorithm, flags=257)
    now = int(time.time())
    dns.dnssec.sign_zone(parsed, keys=[(key, dnskey)], inception=now - 3600, expiration=now + 86400)
    anchor_key = dnskey
    if zone.bogus:  # the anchor names another key: nothing of the zone validates
        anchor_key = dns.dnssec.make_dnskey(ec.generate_private_key(ec.SECP256R1()).public_key(), algorithm, flags=257)
    ds = dns.dnssec.make_ds(dns.name.from_text(origin), anchor_key, "SHA256")
    return parsed.to_text(relativize=False), f"{origin} DS {ds.to_text()}"


def _wait_answering(port: int, name: str, process: subprocess.Popen[bytes], log: Path) -> None:
    """Return once the server on ``port`` answers a query for ``name``; raise :class:`DnsError` when it cannot."""
    import dns.message  # noqa: PLC0415
    import dns.query  # noqa: PLC0415

    deadline = time.monotonic() + _START_SECONDS
    query = dns.message.make_query(name, "SOA")
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            dns.query.udp(query, "127.0.0.1", port=port, timeout=0.2)
        except (OSError, dns.exception.DNSException):
            time.sleep(0.02)
            continue
        return
    tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
    raise DnsError(f"the DNS server on port {port} did not start: {tail}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:  # pragma: no cover
            process.kill()
            process.wait()


@contextlib.contextmanager
def dns_servers(zones: Sequence[Zone]) -> Iterator[DnsServers]:
    """Start NSD serving ``zones`` and Unbound validating them; stop both and delete their files on exit."""
    require_dns()
    import dns.exception  # noqa: F401, PLC0415 (loaded before the polling loop names it)

    with contextlib.ExitStack() as stack:
        directory = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="mssante-dns-")))
        os.chmod(directory, 0o755)
        anchors: list[str] = []
        nsd_zones: list[str] = []
        stubs: list[str] = []
        nsd_port, unbound_port = free_port(), free_port()
        for zone in zones:
            name = zone.name.rstrip(".")
            text, anchor = _zone_text(zone)
            (directory / f"{name}.zone").write_text(text)
            nsd_zones.append(f'zone:\n  name: "{name}"\n  zonefile: "{directory}/{name}.zone"\n')
            stubs.append(f'stub-zone:\n  name: "{name}"\n  stub-addr: 127.0.0.1@{nsd_port}\n')
            if anchor is not None:
                anchors.append(f'  trust-anchor: "{anchor}"\n')
        nsd_conf = directory / "nsd.conf"
        nsd_conf.write_text(
            "server:\n"
            f'  ip-address: 127.0.0.1@{nsd_port}\n  port: {nsd_port}\n  username: ""\n  chroot: ""\n'
            f'  zonesdir: "{directory}"\n  database: ""\n  zonelistfile: "{directory}/zone.list"\n'
            f'  xfrdfile: "{directory}/xfrd.state"\n  xfrdir: "{directory}"\n  pidfile: "{directory}/nsd.pid"\n'
            f'  logfile: "{directory}/nsd.log"\n  server-count: 1\n  verbosity: 0\n  hide-version: yes\n'
            "  reuseport: no\n  tcp-count: 16\n"
            "remote-control:\n  control-enable: no\n" + "".join(nsd_zones)
        )
        nsd_log = directory / "nsd.log"
        nsd = subprocess.Popen(
            [_NSD, "-d", "-c", str(nsd_conf)], stdout=subprocess.DEVNULL, stderr=stack.enter_context(nsd_log.open("ab"))
        )
        stack.callback(_stop, nsd)
        _wait_answering(nsd_port, zones[0].name if zones else ".", nsd, nsd_log)
        unbound_conf = directory / "unbound.conf"
        unbound_log = directory / "unbound.log"
        unbound_conf.write_text(
            "server:\n"
            f'  interface: 127.0.0.1\n  port: {unbound_port}\n  do-daemonize: no\n  username: ""\n'
            f'  chroot: ""\n  directory: "{directory}"\n  pidfile: "{directory}/unbound.pid"\n'
            f'  use-syslog: no\n  logfile: "{unbound_log}"\n  verbosity: 0\n  num-threads: 1\n'
            "  do-not-query-localhost: no\n  access-control: 127.0.0.0/8 allow\n"
            '  module-config: "validator iterator"\n  qname-minimisation: no\n  so-reuseport: no\n'
            "  outgoing-range: 64\n  num-queries-per-thread: 32\n  msg-cache-size: 1m\n  rrset-cache-size: 1m\n"
            "  key-cache-size: 1m\n  neg-cache-size: 1m\n  infra-cache-numhosts: 100\n"
            "  val-log-level: 0\n  harden-dnssec-stripped: yes\n  do-ip6: no\n  prefetch: no\n"
            '  local-zone: "test." nodefault\n'  # Unbound answers NXDOMAIN for test. by default (RFC 6761)
            + "".join(anchors)
            + "remote-control:\n  control-enable: no\n"
            + "".join(stubs)
        )
        unbound = subprocess.Popen(
            [_UNBOUND, "-d", "-c", str(unbound_conf)],
            stdout=subprocess.DEVNULL,
            stderr=stack.enter_context(unbound_log.open("ab")),
        )
        stack.callback(_stop, unbound)
        _wait_answering(unbound_port, zones[0].name if zones else ".", unbound, unbound_log)
        yield DnsServers(
            authoritative=f"127.0.0.1:{nsd_port}", resolver=f"127.0.0.1:{unbound_port}", directory=directory
        )


def _smoke() -> None:  # pragma: no cover - a manual check: python -m tests.dns_server
    import dns.flags  # noqa: PLC0415
    import dns.message  # noqa: PLC0415
    import dns.query  # noqa: PLC0415

    zones = [
        Zone("signed.test", ["_imaps._tcp SRV 0 1 993 imap.signed.test.", "imap A 192.0.2.1"], signed=True),
        Zone("plain.test", ["_imaps._tcp SRV 0 1 993 imap.plain.test."]),
        Zone("bogus.test", ["_imaps._tcp SRV 0 1 993 imap.bogus.test."], bogus=True),
    ]
    started = time.monotonic()
    with dns_servers(zones) as servers:
        print("started in", round(time.monotonic() - started, 3), servers)
        port = int(servers.resolver.rsplit(":", 1)[1])
        for zone in ("signed.test", "plain.test", "bogus.test", "nothing.signed.test"):
            query = dns.message.make_query(f"_imaps._tcp.{zone}", "SRV", want_dnssec=True)
            answer = dns.query.udp(query, "127.0.0.1", port=port, timeout=2)
            print(zone, dns.rcode.to_text(answer.rcode()), bool(answer.flags & dns.flags.AD), answer.answer[:1])
        stopping = time.monotonic()
    print("stopped in", round(time.monotonic() - stopping, 3))
    shutil.rmtree(servers.directory, ignore_errors=True)


if __name__ == "__main__":  # pragma: no cover
    _smoke()

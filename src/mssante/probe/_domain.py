"""``probe_domain``: what the trust space sees of a domain: its MX records (and whether DNSSEC validated them), the
SRV records of its clients (RFC 6186, by :func:`mssante.autoconfig.discover`), its entry on the ANS allow-list, and
whether the certificate each MX presents is one of the operator certificates listed for it.

Each MX is reached up to its TLS handshake after STARTTLS, then QUIT: nothing else is sent.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import time
from typing import Any

import attrs
import dns.exception
import dns.flags
import dns.rdatatype
import dns.resolver
from cryptography import x509

from mssante.autoconfig import discover
from mssante.errors import InvalidInput
from mssante.net import TLS12_CIPHERS
from mssante.pki import CrlFetcher, RevocationChecker, RevocationMode, TrustStore
from mssante.probe import codes
from mssante.probe._dialogues import smtp_dialogue
from mssante.probe._judge import failed
from mssante.probe._result import ProbeCheck, ProbeReport
from mssante.probe._server import DEFAULT_MAX_DURATION, DEFAULT_TIMEOUT, judge_certificate, probe_context
from mssante.report import Finding
from mssante.trustspace import AllowList

__all__ = ["MAX_MX", "DomainReport", "MxHost", "probe_domain"]

MAX_MX = 5
"""MX hosts a domain probe connects to (the most preferred)."""
_MAX_ADDRESSES = 4
_EDNS_PAYLOAD = 1232


@attrs.frozen(kw_only=True)
class MxHost:
    """One MX of the domain: its name, its preference, its addresses, and the subject of the certificate it presented
    (None when none was seen)."""

    name: str
    preference: int
    addresses: tuple[str, ...] = ()
    subject: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """``{"name", "preference", "addresses", "subject"}``."""
        return {"name": self.name, "preference": self.preference, "addresses": list(self.addresses),
                "subject": self.subject}  # fmt: skip


@attrs.frozen(kw_only=True)
class DomainReport:
    """What a domain probe found: the checks, the MX hosts, whether the allow-list lists the domain (None: no list
    given) and the operator DNs it lists for it."""

    probe: ProbeReport
    mx: tuple[MxHost, ...] = ()
    listed: bool | None = None
    operators: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """True when every check is ok."""
        return self.probe.ok

    def to_dict(self) -> dict[str, Any]:
        """``{"ok", "findings", "checks", "mx", "listed", "operators"}``: the JSON form of the command line."""
        return {**self.probe.to_dict(), "mx": [host.to_dict() for host in self.mx], "listed": self.listed,
                "operators": list(self.operators)}  # fmt: skip

    def __str__(self) -> str:
        return str(self.probe)


def _resolver(nameserver: str | None) -> dns.resolver.Resolver:
    """A resolver asking with the DO bit and AD (RFC 6840 §5.7), of ``nameserver`` (``IP[:PORT]``) only if given."""
    resolver = dns.resolver.Resolver(configure=nameserver is None)
    if nameserver is not None:
        address, _, port = nameserver.rpartition(":") if nameserver.count(":") == 1 else (nameserver, "", "")
        if nameserver.startswith("["):
            address, _, port = nameserver[1:].partition("]:")
        try:
            ipaddress.ip_address(address)
        except ValueError:
            raise InvalidInput(f"the name server {nameserver!r} is not IP[:PORT]") from None
        if port and not (port.isdigit() and 0 < int(port) < 65536):
            raise InvalidInput(f"the name server {nameserver!r} is not IP[:PORT]")
        resolver.nameservers = [address]
        resolver.port = int(port) if port else 53
    resolver.use_edns(0, dns.flags.DO, _EDNS_PAYLOAD)
    resolver.flags = dns.flags.RD | dns.flags.AD
    return resolver


def _describe(error: dns.exception.DNSException) -> str:
    if isinstance(error, dns.resolver.NoNameservers):
        return "no name server answered (SERVFAIL or refused: a DNSSEC validation failure gives SERVFAIL)"
    if isinstance(error, dns.exception.Timeout):
        return "no answer in time"
    return f"{type(error).__name__}: {error}"


def _mx(
    resolver: dns.resolver.Resolver, domain: str, deadline: float
) -> tuple[list[tuple[int, str]], bool, list[Finding]]:
    """The MX records (preference, host) in order of preference, whether they were validated, and the findings."""
    try:
        answer = resolver.resolve(domain + ".", "MX", lifetime=max(deadline - time.monotonic(), 0.001),
                                  raise_on_no_answer=False, search=False)  # fmt: skip
    except dns.resolver.NXDOMAIN:
        return [], False, [codes.NO_MX(f"{domain} does not exist (NXDOMAIN)")]
    except dns.exception.DNSException as error:
        return [], False, [codes.DNS_FAILED(f"MX {domain}: {_describe(error)}")]
    records = sorted(
        (int(rdata.preference), rdata.exchange.to_text(omit_final_dot=True).lower())
        for rdata in (answer.rrset or ())
        if rdata.rdtype == dns.rdatatype.MX
    )
    validated = bool(answer.response.flags & dns.flags.AD)
    findings: list[Finding] = []
    usable = [(preference, host) for preference, host in records if host not in ("", ".")]
    if not usable:
        findings.append(codes.NO_MX(f"{domain} publishes no MX record" + (" (a null MX)" if records else "")))
    else:
        hosts = ", ".join(f"{host} ({preference})" for preference, host in usable)
        findings.append(codes.MX_RECORDS(f"{domain}: {hosts}"))
        if not validated:
            findings.append(codes.MX_NOT_VALIDATED(f"the MX answer for {domain} does not carry the AD flag"))
    if len(usable) > MAX_MX:
        findings.append(codes.MX_LIMIT(f"{len(usable)} MX hosts: the first {MAX_MX} are probed"))
    return usable[:MAX_MX], validated, findings


def _addresses(resolver: dns.resolver.Resolver, host: str, deadline: float) -> list[str]:
    found: list[str] = []
    for kind in ("A", "AAAA"):
        left = deadline - time.monotonic()
        if left <= 0:
            break
        try:
            answer = resolver.resolve(host + ".", kind, lifetime=left, raise_on_no_answer=False, search=False)
        except dns.exception.DNSException:
            continue
        found += [rdata.to_text() for rdata in list(answer.rrset or ())[:_MAX_ADDRESSES]]
    return found


def probe_domain(
    domain: str,
    *,
    store: TrustStore,
    at: dt.datetime,
    allow_list: AllowList | None = None,
    nameserver: str | None = None,
    revocation: RevocationChecker | RevocationMode | str | CrlFetcher = RevocationMode.HARD,
    revocation_mode: RevocationMode | str = RevocationMode.HARD,
    mx_port: int = 25,
    timeout: float = DEFAULT_TIMEOUT,
    max_duration: float = DEFAULT_MAX_DURATION,
) -> DomainReport:
    """Probe ``domain``: its MX and SRV records, its allow-list entry, the certificate of each of its MX hosts.

    ``nameserver`` (``IP[:PORT]``) is the only DNS server asked (default: the system's); a validating resolver is
    needed for the answers to be reported DNSSEC-validated. ``allow_list`` is the ANS list to judge the domain and
    the MX certificates by (without it, the certificates are judged by :func:`mssante.pki.verify` only). Each MX
    host (the first :data:`MAX_MX`) is reached on ``mx_port`` at the addresses the DNS gives, within ``timeout``
    seconds, the whole probe within ``max_duration``. ``revocation`` and ``revocation_mode`` are as for
    :func:`~mssante.probe.probe_server`.
    """
    domain = domain.strip().rstrip(".").lower()
    end = time.monotonic() + max_duration
    resolver = _resolver(nameserver)
    records, _, mx_findings = _mx(resolver, domain, min(time.monotonic() + timeout, end))
    checks = [ProbeCheck(name="mx-records", findings=mx_findings)]
    servers = discover(domain, nameserver=nameserver, lifetime=max(min(timeout, end - time.monotonic()), 0.001))
    checks.append(ProbeCheck(name="srv-records", findings=servers.report.findings))
    listed: bool | None = None
    operators: tuple[str, ...] = ()
    if allow_list is None:
        checks.append(ProbeCheck(name="allow-list", findings=[codes.NOT_OBSERVED("no allow-list was given")]))
    else:
        decision = allow_list.check_domain(domain, at=at)
        listed, operators = decision.listed, tuple(sorted(str(dn) for dn in decision.operators))
        checks.append(ProbeCheck(name="allow-list", findings=decision.report.findings))
    hosts: list[MxHost] = []
    certificates: list[Finding] = []
    context = probe_context(ciphers=":".join(TLS12_CIPHERS), identity=None)
    for preference, name in records:
        addresses = _addresses(resolver, name, min(time.monotonic() + timeout, end))
        host, findings = _mx_host(
            name, preference, addresses, mx_port=mx_port, deadline=min(time.monotonic() + timeout, end),
            context=context, domain=domain, allow_list=allow_list, store=store, at=at, revocation=revocation,
            revocation_mode=revocation_mode,
        )  # fmt: skip
        hosts.append(host)
        certificates += [finding.located(name) for finding in findings]
    if records:
        checks.append(ProbeCheck(name="mx-certificates", findings=certificates))
    report = ProbeReport(subject=f"domain {domain}", checks=checks)
    return DomainReport(probe=report, mx=tuple(hosts), listed=listed, operators=operators)


def _mx_host(
    name: str,
    preference: int,
    addresses: list[str],
    *,
    mx_port: int,
    deadline: float,
    context: Any,
    domain: str,
    allow_list: AllowList | None,
    store: TrustStore,
    at: dt.datetime,
    revocation: RevocationChecker | RevocationMode | str | CrlFetcher,
    revocation_mode: RevocationMode | str,
) -> tuple[MxHost, list[Finding]]:
    if not addresses:
        return MxHost(name=name, preference=preference), [codes.UNREACHABLE(f"{name} has no address")]
    dialogue = smtp_dialogue(name, mx_port, deadline=deadline, context=context, address=addresses[0])
    host = MxHost(name=name, preference=preference, addresses=tuple(addresses))
    handshake = dialogue.handshake
    if handshake is None or not handshake.certificate:
        if dialogue.failure is not None and dialogue.failure.step not in ("secure-ehlo", "secure-mail"):
            return host, [failed(dialogue.failure)]
        if dialogue.ehlo is not None and "STARTTLS" not in dialogue.ehlo.keywords:
            return host, [codes.NO_STARTTLS(f"{name} does not offer STARTTLS")]
        return host, [codes.NO_SERVER_CERTIFICATE(f"{name} presented no certificate")]
    certificate = x509.load_der_x509_certificate(handshake.certificate)
    host = attrs.evolve(host, subject=certificate.subject.rfc4514_string())
    judged = judge_certificate(
        handshake.certificate, name, store=store, at=at, revocation=revocation, revocation_mode=revocation_mode
    )
    findings = list(judged.findings)
    if allow_list is not None:
        decision = allow_list.check_operator(domain, certificate.subject, at=at)
        findings = [f for f in decision.report.findings if f.code not in ("MSS-WL-011", "MSS-WL-012")] + findings
    return host, findings

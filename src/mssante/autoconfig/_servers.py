"""From the SRV answers of a domain to its submission and IMAP servers, with the findings that judge them (pure).

RFC 6186 publishes a domain's mail services as SRV records: ``_submissions._tcp`` (implicit TLS, RFC 8314) and
``_submission._tcp`` (STARTTLS) for submission, ``_imaps._tcp`` (implicit TLS) and ``_imap._tcp`` (STARTTLS) for
IMAP. :func:`choose_servers` takes what the DNS answered for each (:class:`SrvAnswer`: the records, whether the
resolver validated them with DNSSEC, or that there was no such name, or that the DNS could not answer) and gives
the :class:`Servers`: for each kind, the candidates in the order to try them (lowest priority first, implicit TLS
first at the same priority, RFC 2782's weighted order within), the first one as ``submission`` / ``imap``.

The name a session connects to is the SRV target, and the server certificate must match that name: the sessions
(:class:`~mssante.transport.Submission`, :class:`~mssante.transport.ImapMailbox`) check the certificate against
the host they are given, so give them :attr:`Server.host`. A target outside the address's domain is reported
(``MSS-SRV-006``): the trust in that name then rests on the DNS answer, which only DNSSEC secures (RFC 7817 §3).
A target that is an IP address, ``localhost`` or a loopback, private, link-local or reserved address is refused,
unless ``allow_private`` (which emits a :class:`~mssante.errors.SecurityWarning`) keeps it, for tests.
"""

from __future__ import annotations

import enum
import ipaddress
import random as _random
import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from mssante.addresses import normalise_domain
from mssante.autoconfig import codes
from mssante.errors import InvalidInput, SecurityWarning
from mssante.report import Finding, Report, Severity

__all__ = [
    "MAX_ADDRESSES",
    "MAX_RECORDS",
    "MAX_TARGETS",
    "Lookup",
    "Server",
    "Servers",
    "Service",
    "SrvAnswer",
    "SrvRecord",
    "Tls",
    "choose_servers",
    "domain_of",
    "order_records",
    "targets_to_resolve",
]

MAX_RECORDS = 16
"""The SRV records of one answer that are read; more are reported (``MSS-SRV-011``) and ignored."""
MAX_TARGETS = 8
"""The distinct targets whose addresses are looked up."""
MAX_ADDRESSES = 16
"""The addresses of one target that are read."""


class Tls(str, enum.Enum):
    """How a session secures its connection: ``starttls`` (a plain connection upgraded) or ``implicit`` (TLS from
    the first byte, ports 465 and 993)."""

    STARTTLS = "starttls"
    IMPLICIT = "implicit"

    def __str__(self) -> str:
        return self.value


class Service(str, enum.Enum):
    """The SRV labels of RFC 6186 and RFC 8314, prefixed to the domain in the query."""

    SUBMISSIONS = "_submissions._tcp"
    SUBMISSION = "_submission._tcp"
    IMAPS = "_imaps._tcp"
    IMAP = "_imap._tcp"

    def __str__(self) -> str:
        return self.value

    @property
    def kind(self) -> str:
        """``submission`` or ``imap``."""
        return "submission" if self in (Service.SUBMISSIONS, Service.SUBMISSION) else "imap"

    @property
    def tls(self) -> Tls:
        """The TLS mode of the service's port."""
        return Tls.IMPLICIT if self in (Service.SUBMISSIONS, Service.IMAPS) else Tls.STARTTLS

    def query_name(self, domain: str) -> str:
        """The name asked: ``_submission._tcp.example.org``."""
        return f"{self.value}.{domain}"


class Lookup(str, enum.Enum):
    """What the DNS did with a query: ``answer`` (records, maybe none), ``not-found`` (NXDOMAIN or no SRV record)
    or ``failed`` (SERVFAIL, timeout, refused: nothing can be said)."""

    ANSWER = "answer"
    NOT_FOUND = "not-found"
    FAILED = "failed"

    def __str__(self) -> str:
        return self.value


def _port(_: object, attribute: attrs.Attribute[int], value: int) -> None:
    if not 0 <= value <= 65535:
        raise ValueError(f"{attribute.name} is a 16-bit number, not {value}")


def _target(text: object) -> str:
    return str(text).strip().lower().rstrip(".")


@attrs.frozen(kw_only=True)
class SrvRecord:
    """One SRV record (RFC 2782): ``priority`` and ``weight`` (0-65535), ``port``, ``target`` as read (a trailing
    dot dropped, lower case; ``"."`` becomes ``""``: the service is not offered)."""

    priority: int = attrs.field(validator=_port)
    weight: int = attrs.field(validator=_port)
    port: int = attrs.field(validator=_port)
    target: str = attrs.field(converter=_target)


def _records(records: Iterable[SrvRecord]) -> tuple[SrvRecord, ...]:
    return tuple(records)


@attrs.frozen(kw_only=True)
class SrvAnswer:
    """What the DNS answered for one service: ``lookup``, the ``records`` of an answer, ``validated`` when the
    resolver set the AD flag (it validated the answer with DNSSEC), ``reason`` of a failure."""

    service: Service = attrs.field(converter=Service)
    lookup: Lookup = attrs.field(default=Lookup.ANSWER, converter=Lookup)
    records: tuple[SrvRecord, ...] = attrs.field(default=(), converter=_records)
    validated: bool = False
    reason: str = ""


@attrs.frozen(kw_only=True)
class Server:
    """A server to connect to: ``host`` (the SRV target, the name its certificate must match), ``port``, ``tls``,
    the ``service`` that published it and whether that answer was DNSSEC-``validated``."""

    host: str
    port: int
    tls: Tls = attrs.field(converter=Tls)
    service: Service = attrs.field(converter=Service)
    validated: bool = False

    def to_dict(self) -> dict[str, Any]:
        """``host``, ``port``, ``tls`` (``starttls`` or ``implicit``)."""
        return {"host": self.host, "port": self.port, "tls": self.tls.value}


@attrs.frozen(kw_only=True)
class Servers:
    """The servers found for ``domain``: candidates of each kind in the order to try them, and the report.

    ``submission`` and ``imap`` are the first candidates (None when the domain publishes none usable).
    """

    domain: str
    submission_candidates: tuple[Server, ...] = ()
    imap_candidates: tuple[Server, ...] = ()
    report: Report = attrs.field(factory=Report)

    @property
    def submission(self) -> Server | None:
        """The submission server to try first, or None."""
        return self.submission_candidates[0] if self.submission_candidates else None

    @property
    def imap(self) -> Server | None:
        """The IMAP server to try first, or None."""
        return self.imap_candidates[0] if self.imap_candidates else None

    @property
    def ok(self) -> bool:
        """No error: every answer could be read and no target was refused."""
        return self.report.ok

    @property
    def published(self) -> bool:
        """At least one usable server was found."""
        return bool(self.submission_candidates or self.imap_candidates)

    def to_dict(self) -> dict[str, Any]:
        """``domain``, ``submission`` and ``imap`` (``{host, port, tls}`` or None), ``ok`` and ``findings``."""
        return {
            "domain": self.domain,
            "submission": self.submission.to_dict() if self.submission else None,
            "imap": self.imap.to_dict() if self.imap else None,
            "ok": self.ok,
            "findings": [finding.to_dict() for finding in self.report.findings],
        }


def domain_of(address: str) -> str:
    """The domain of ``address`` (an address or a bare domain) as lower-case A-labels.

    Raises :class:`~mssante.errors.InvalidAddress` when it is not a host name.
    """
    text = address.strip()
    domain = text.rpartition("@")[2].rstrip(".")
    return normalise_domain(domain)


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return None


def _is_private(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return not address.is_global or address.is_multicast


def _is_localhost(name: str) -> bool:
    return name == "localhost" or name.endswith(".localhost")


def targets_to_resolve(answers: Iterable[SrvAnswer]) -> list[str]:
    """The targets whose addresses (A, AAAA) should be looked up: host names, neither ``localhost`` nor an IP
    address, each once, at most :data:`MAX_TARGETS`."""
    found: dict[str, None] = {}
    for answer in answers:
        if answer.lookup is not Lookup.ANSWER:
            continue
        for record in answer.records[:MAX_RECORDS]:
            target = record.target
            if target and _ip(target) is None and not _is_localhost(target) and record.port:
                found.setdefault(target)
    return list(found)[:MAX_TARGETS]


def order_records(records: Sequence[SrvRecord], *, random: _random.Random | None = None) -> list[SrvRecord]:
    """``records`` in the order to try them (RFC 2782): by priority, then by weight within a priority.

    With ``random``, the weighted random selection of RFC 2782 (zero weights first, then a draw over the running
    sum), reproducible for a seeded :class:`random.Random`; without, heaviest first (then by target and port).
    """
    ordered: list[SrvRecord] = []
    for priority in sorted({record.priority for record in records}):
        group = [record for record in records if record.priority == priority]
        if random is None:
            ordered.extend(sorted(group, key=lambda record: (-record.weight, record.target, record.port)))
            continue
        left = sorted(group, key=lambda record: record.weight != 0)  # zero weights first (stable)
        while left:
            total = sum(record.weight for record in left)
            draw = random.randint(0, total)
            running = 0
            for index, record in enumerate(left):
                running += record.weight
                if running >= draw:
                    ordered.append(left.pop(index))
                    break
    return ordered


def choose_servers(
    address: str,
    answers: Iterable[SrvAnswer],
    *,
    addresses: Mapping[str, Sequence[str]] | None = None,
    allow_private: bool = False,
    random: _random.Random | None = None,
) -> Servers:
    """The submission and IMAP servers of ``address``'s domain, from the SRV ``answers`` (one per service asked).

    ``addresses`` maps a target to the addresses it resolves to (:func:`targets_to_resolve` says which to look
    up); without it, targets are judged by name only. ``allow_private`` keeps targets that are IP addresses or
    loopback or private ones (emits a :class:`~mssante.errors.SecurityWarning`): for tests on one machine.
    ``random`` gives RFC 2782's weighted random order (see :func:`order_records`). Raises
    :class:`~mssante.errors.InvalidAddress` when ``address`` has no valid domain.
    """
    domain = domain_of(address)
    if allow_private:
        warnings.warn(
            "SRV targets that are IP addresses, localhost or private addresses are accepted: a DNS answer can then "
            "point the client at its own network (use for tests only)",
            SecurityWarning,
            stacklevel=2,
        )
    judge = _Judge(domain=domain, addresses=addresses, allow_private=allow_private)
    candidates: dict[str, list[tuple[int, int, int, Server]]] = {"submission": [], "imap": []}
    for answer in answers:
        usable = judge.answer(answer)
        rank = 0 if answer.service.tls is Tls.IMPLICIT else 1  # RFC 8314 §3: implicit TLS preferred
        for position, record in enumerate(order_records(usable, random=random)):
            server = Server(
                host=record.target,
                port=record.port,
                tls=answer.service.tls,
                service=answer.service,
                validated=answer.validated,
            )
            candidates[answer.service.kind].append((record.priority, rank, position, server))
    return Servers(
        domain=domain,
        submission_candidates=tuple(entry[3] for entry in sorted(candidates["submission"], key=_key)),
        imap_candidates=tuple(entry[3] for entry in sorted(candidates["imap"], key=_key)),
        report=Report(findings=judge.findings, subject=domain),
    )


def _key(entry: tuple[int, int, int, Server]) -> tuple[int, int, int]:
    return entry[0], entry[1], entry[2]


@attrs.define(kw_only=True)
class _Judge:
    """Judges the answers of one domain; what it says goes to ``findings``."""

    domain: str
    addresses: Mapping[str, Sequence[str]] | None
    allow_private: bool
    findings: list[Finding] = attrs.field(factory=list)

    def answer(self, answer: SrvAnswer) -> list[SrvRecord]:
        """The usable records of ``answer``."""
        domain, findings = self.domain, self.findings
        where = answer.service.query_name(domain)
        if answer.lookup is Lookup.FAILED:
            reason = f": {answer.reason}" if answer.reason else ""
            findings.append(codes.UNDETERMINED(f"the DNS did not answer for {where}{reason}", where=where))
            return []
        if answer.lookup is Lookup.NOT_FOUND or not answer.records:
            findings.append(codes.NOT_PUBLISHED(f"{domain} publishes no {answer.service} record", where=where))
            return []
        findings.append(codes.VALIDATED(where=where) if answer.validated else codes.NOT_VALIDATED(where=where))
        records = answer.records
        if len(records) > MAX_RECORDS:
            message = f"{len(records)} SRV records or more; the first {MAX_RECORDS} are read"
            findings.append(codes.TOO_MANY(message, where=where))
            records = records[:MAX_RECORDS]
        usable: list[SrvRecord] = []
        for record in records:
            if not record.target:
                findings.append(codes.NOT_OFFERED(f"{domain} does not offer {answer.service}", where=where))
            elif self.target(record, validated=answer.validated, where=where):
                usable.append(record)
        return usable

    def target(self, record: SrvRecord, *, validated: bool, where: str) -> bool:
        """Whether ``record``'s target may be used."""
        domain, findings = self.domain, self.findings
        target = record.target
        shown = f"{target}:{record.port}"
        if _ip(target) is not None:
            if not self.allow_private:
                findings.append(codes.IP_LITERAL(f"the target {target} is an IP address: refused", where=where))
                return False
            findings.append(codes.PRIVATE_ALLOWED(f"the target {target} is an IP address (allowed)", where=where))
            return _judge_port(record, where, findings)
        try:
            target = normalise_domain(target) if not _is_localhost(target) else target
        except InvalidInput:
            findings.append(codes.BAD_RECORD(f"the target {target!r} is not a host name", where=where))
            return False
        if not _judge_port(record, where, findings):
            return False
        private = _private_reason(target, self.addresses)
        if private:
            if not self.allow_private:
                findings.append(codes.PRIVATE_TARGET(f"the target {shown} {private}: refused", where=where))
                return False
            findings.append(codes.PRIVATE_ALLOWED(f"the target {shown} {private} (allowed)", where=where))
        elif self.addresses is not None and not self.addresses.get(target):
            findings.append(codes.NO_ADDRESS(f"the target {target} has no address", where=where))
        if target != domain and not target.endswith("." + domain):
            trust = "validated" if validated else "NOT validated"
            findings.append(
                codes.OUTSIDE_DOMAIN(
                    f"the target {target} is outside {domain}: its certificate must match {target}; the DNS "
                    f"answer naming it was {trust} by DNSSEC",
                    where=where,
                    severity=Severity.INFO if validated else None,
                )
            )
        return True


def _judge_port(record: SrvRecord, where: str, findings: list[Finding]) -> bool:
    if record.port == 0:
        findings.append(codes.BAD_RECORD(f"the record for {record.target} has port 0", where=where))
        return False
    return True


def _private_reason(target: str, addresses: Mapping[str, Sequence[str]] | None) -> str:
    """Why ``target`` points at this machine or its network ('' when it does not, as far as is known)."""
    if _is_localhost(target):
        return "is localhost"
    for text in (addresses or {}).get(target, ())[:MAX_ADDRESSES]:
        address = _ip(text)
        if address is not None and _is_private(address):
            return f"resolves to {address}, not a public address"
    return ""

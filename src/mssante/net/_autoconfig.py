"""What the two autoconfiguration shells share without I/O: the resolver's settings and reading its answers.

The resolver asks with the EDNS DO bit set (and AD in the query, RFC 6840 §5.7) so that a validating resolver says
with the AD flag whether it validated the answer; each query gets what is left of one wall-clock deadline.
"""

from __future__ import annotations

import ipaddress
from typing import Any

import dns.exception
import dns.flags
import dns.rdatatype
import dns.resolver

from mssante.autoconfig import MAX_ADDRESSES, MAX_RECORDS, Lookup, Service, SrvAnswer, SrvRecord
from mssante.errors import InvalidInput

__all__ = [
    "DEFAULT_LIFETIME",
    "EDNS_PAYLOAD",
    "addresses_of",
    "configure",
    "failed",
    "parse_nameserver",
    "srv_answer",
]

DEFAULT_LIFETIME = 10.0
"""The most a whole discovery may take, in seconds."""
EDNS_PAYLOAD = 1232
"""The UDP payload size advertised (a larger answer comes over TCP, within dnspython's 65535-byte bound)."""
_TRY_SECONDS = 2.0


def parse_nameserver(text: str) -> tuple[str, int]:
    """``IP``, ``IP:PORT``, ``[IPv6]:PORT`` or a bare IPv6 address as an address and a port (53 by default).

    Raises :class:`~mssante.errors.InvalidInput` for anything else (a host name included: the resolver is asked by
    address).
    """
    value = text.strip()
    host, port = value, "53"
    if value.startswith("["):
        host, _, rest = value[1:].partition("]")
        if rest:
            if not rest.startswith(":"):
                raise InvalidInput(f"{text!r} is not IP[:PORT]")
            port = rest[1:]
    elif value.count(":") == 1:
        host, _, port = value.partition(":")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise InvalidInput(f"{text!r} is not IP[:PORT]: the name server is given by its address") from None
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise InvalidInput(f"{text!r} is not IP[:PORT]: bad port")
    return str(address), int(port)


def configure(resolver: Any, nameserver: str | None) -> None:
    """Set ``resolver`` (a dnspython resolver, sync or async) for discovery: DO bit, AD asked, ``nameserver``."""
    if nameserver is not None:
        address, port = parse_nameserver(nameserver)
        resolver.nameservers = [address]
        resolver.port = port
    resolver.use_edns(0, dns.flags.DO, EDNS_PAYLOAD)
    resolver.flags = dns.flags.RD | dns.flags.AD
    resolver.timeout = _TRY_SECONDS
    resolver.cache = None


def failed(service: Service, reason: str) -> SrvAnswer:
    """The answer of a query the DNS could not answer."""
    return SrvAnswer(service=service, lookup=Lookup.FAILED, reason=reason)


def describe(error: dns.exception.DNSException) -> str:
    """Why a query failed, in a few words (SERVFAIL, timeout...)."""
    if isinstance(error, dns.resolver.NoNameservers):
        return "no name server answered (SERVFAIL or refused; a DNSSEC validation failure gives SERVFAIL)"
    if isinstance(error, dns.exception.Timeout):
        return "timed out"
    if isinstance(error, dns.resolver.NoResolverConfiguration):
        return "no name server configured"
    return f"{type(error).__name__}: {error}"


def srv_answer(service: Service, answer: dns.resolver.Answer) -> SrvAnswer:
    """The :class:`SrvAnswer` of a dnspython answer (``raise_on_no_answer=False``): records bounded, AD flag."""
    validated = bool(answer.response.flags & dns.flags.AD)
    if answer.rrset is None:
        return SrvAnswer(service=service, lookup=Lookup.NOT_FOUND, validated=validated)
    records = [
        SrvRecord(
            priority=int(getattr(rdata, "priority", 0)),
            weight=int(getattr(rdata, "weight", 0)),
            port=int(getattr(rdata, "port", 0)),
            target=str(getattr(rdata, "target", "")),
        )
        for index, rdata in enumerate(answer.rrset)
        if index <= MAX_RECORDS  # one more than read: the rule reports that there were more
    ]
    return SrvAnswer(service=service, records=tuple(records), validated=validated)


def addresses_of(answer: dns.resolver.Answer) -> list[str]:
    """The addresses of an A or AAAA answer, bounded."""
    if answer.rrset is None or answer.rrset.rdtype not in (dns.rdatatype.A, dns.rdatatype.AAAA):
        return []
    return [rdata.to_text() for rdata in list(answer.rrset)[:MAX_ADDRESSES]]

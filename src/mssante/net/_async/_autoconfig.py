"""Discovering an address's submission and IMAP servers in DNS SRV records (RFC 6186), over dnspython.

Each service of :class:`~mssante.autoconfig.Service` is asked, then the addresses of the targets found (to refuse
one that points at this machine or its network), all within one wall-clock deadline; the answers go to
:func:`~mssante.autoconfig.choose_servers`. NXDOMAIN and an empty answer mean "not published"; SERVFAIL (a DNSSEC
validation failure included), a timeout or a refusal mean "could not be determined" (``MSS-SRV-003``), never "not
published".
"""

from __future__ import annotations

import random as _random
import time

import dns.exception
import dns.resolver

from mssante.autoconfig import (
    Lookup,
    Servers,
    Service,
    SrvAnswer,
    choose_servers,
    domain_of,
    targets_to_resolve,
)
from mssante.net._autoconfig import DEFAULT_LIFETIME, addresses_of, configure, describe, failed, srv_answer
from mssante.net._dns_async import Resolver

__all__ = ["async_discover"]


async def async_discover(
    address: str,
    *,
    nameserver: str | None = None,
    lifetime: float = DEFAULT_LIFETIME,
    allow_private: bool = False,
    random: _random.Random | None = None,
) -> Servers:
    """The submission and IMAP servers of ``address``'s domain (an address or a bare domain), from DNS SRV records.

    ``nameserver`` (``IP[:PORT]``) is the only server asked (default: the system's resolvers); a validating
    resolver is needed for the answers to be reported DNSSEC-validated. ``lifetime`` bounds the whole discovery, in
    seconds. ``allow_private`` and ``random`` are those of :func:`~mssante.autoconfig.choose_servers`. DNS failures
    become findings; raises :class:`~mssante.errors.InvalidInput` for a bad ``address`` or ``nameserver``.
    """
    domain = domain_of(address)
    if not lifetime > 0:
        raise ValueError("lifetime is a number of seconds above 0")
    deadline = time.monotonic() + lifetime
    try:
        resolver = Resolver(configure=nameserver is None)
    except dns.exception.DNSException as error:
        return choose_servers(domain, [failed(service, describe(error)) for service in Service])
    configure(resolver, nameserver)
    answers = [await _srv(resolver, service, domain, deadline) for service in Service]
    addresses = {target: await _addresses(resolver, target, deadline) for target in targets_to_resolve(answers)}
    return choose_servers(domain, answers, addresses=addresses, allow_private=allow_private, random=random)


async def _srv(resolver: Resolver, service: Service, domain: str, deadline: float) -> SrvAnswer:
    left = deadline - time.monotonic()
    if left <= 0:
        return failed(service, "the deadline passed before it was asked")
    try:
        answer = await resolver.resolve(
            service.query_name(domain) + ".", "SRV", lifetime=left, raise_on_no_answer=False, search=False
        )
    except dns.resolver.NXDOMAIN:
        return SrvAnswer(service=service, lookup=Lookup.NOT_FOUND)
    except dns.exception.DNSException as error:
        return failed(service, describe(error))
    return srv_answer(service, answer)


async def _addresses(resolver: Resolver, target: str, deadline: float) -> list[str]:
    found: list[str] = []
    for kind in ("A", "AAAA"):
        left = deadline - time.monotonic()
        if left <= 0:
            break
        try:
            answer = await resolver.resolve(target + ".", kind, lifetime=left, raise_on_no_answer=False, search=False)
        except dns.exception.DNSException:
            continue
        found += addresses_of(answer)
    return found

"""Finding an address's submission and IMAP servers from DNS SRV records (RFC 6186, RFC 8314).

:func:`choose_servers` is the pure rule: from the SRV answers of the domain (:class:`SrvAnswer`, given as values)
to the :class:`Servers` to use, each :class:`Server` with its ``host``, ``port`` and ``tls`` mode (``starttls`` or
``implicit``), and a report whose findings (``MSS-SRV-*``, :mod:`mssante.autoconfig.codes`) say what was not
published, not offered, not DNSSEC-validated, outside the address's domain or refused. The name a server
certificate must match is the SRV target, :attr:`Server.host`, which is what the sessions connect to and check.

:func:`discover` and :func:`async_discover` ask the DNS (dnspython, a wall-clock deadline, the DNSSEC AD flag) and
apply the rule: they are I/O shells of :mod:`mssante.net`, re-exported here lazily.
"""

from typing import TYPE_CHECKING

from mssante._lazy import lazy
from mssante.autoconfig._servers import (
    MAX_ADDRESSES,
    MAX_RECORDS,
    MAX_TARGETS,
    Lookup,
    Server,
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

if TYPE_CHECKING:
    from mssante.net._async._autoconfig import async_discover
    from mssante.net._sync._autoconfig import discover

if not TYPE_CHECKING:
    __getattr__, __dir__ = lazy(
        __name__,
        globals(),
        {
            "async_discover": "mssante.net._async._autoconfig",
            "discover": "mssante.net._sync._autoconfig",
        },
    )

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
    "async_discover",
    "choose_servers",
    "discover",
    "domain_of",
    "order_records",
    "targets_to_resolve",
]

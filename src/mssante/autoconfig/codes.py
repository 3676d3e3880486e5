"""Finding codes of finding a domain's submission and IMAP servers in DNS SRV records (``MSS-SRV-*``).

Each meaning gives its source: RFC 6186 (SRV records for email submission and access), RFC 2782 (SRV), RFC 8314
(implicit TLS, ``_submissions._tcp``), RFC 7817 (the name the server certificate must match), RFC 4035 (the AD flag
of a validating resolver), RFC 6761 (``localhost``).
"""

from __future__ import annotations

from mssante.report import Severity, define_code

ERROR, WARNING, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO

NOT_PUBLISHED = define_code(
    "MSS-SRV-001",
    INFO,
    "no SRV record for this service (NXDOMAIN or no answer): the domain does not publish it (RFC 6186 §3)",
)
NOT_OFFERED = define_code(
    "MSS-SRV-002",
    INFO,
    'the SRV target is ".": the service is decidedly not offered for this domain (RFC 2782; RFC 6186 §3)',
)
UNDETERMINED = define_code(
    "MSS-SRV-003",
    ERROR,
    "the DNS gave no answer (SERVFAIL, timeout, refused, a DNSSEC validation failure): whether the service is "
    "published could not be determined, which is not the same as not published (RFC 6186 §4)",
)
VALIDATED = define_code(
    "MSS-SRV-004",
    INFO,
    "the answer was validated by DNSSEC (the resolver set the AD flag, RFC 4035 §3.2.3): the SRV target may serve "
    "as the name the server certificate must match (RFC 6186 §6; RFC 7817 §3)",
)
NOT_VALIDATED = define_code(
    "MSS-SRV-005",
    INFO,
    "the answer was not validated by DNSSEC (no AD flag from the resolver, RFC 4035 §3.2.3): an attacker on the "
    "path could have changed it (RFC 6186 §6)",
)
OUTSIDE_DOMAIN = define_code(
    "MSS-SRV-006",
    WARNING,
    "the SRV target is outside the address's domain: the server certificate must match the target host, and the "
    "trust in that name rests on the DNS answer, which only DNSSEC secures (RFC 6186 §6; RFC 7817 §3)",
)
IP_LITERAL = define_code(
    "MSS-SRV-007",
    ERROR,
    "the SRV target is an IP address, not a host name (RFC 2782: the target is a domain name): refused",
)
PRIVATE_TARGET = define_code(
    "MSS-SRV-008",
    ERROR,
    "the SRV target is a loopback, private, link-local or reserved address, or resolves to one (localhost: "
    "RFC 6761 §6.3): refused, a DNS answer must not point the client at its own network",
)
PRIVATE_ALLOWED = define_code(
    "MSS-SRV-009",
    WARNING,
    "the SRV target is an IP address or a loopback or private one, kept because the caller allowed it explicitly",
)
BAD_RECORD = define_code(
    "MSS-SRV-010",
    ERROR,
    "the SRV record is unusable (a target that is not a host name, or port 0): it is ignored (RFC 2782)",
)
TOO_MANY = define_code(
    "MSS-SRV-011",
    WARNING,
    "the answer holds more SRV records (or target addresses) than the bound: the others are ignored",
)
NO_ADDRESS = define_code(
    "MSS-SRV-012",
    WARNING,
    "the SRV target has no address (A or AAAA) or it could not be resolved: the session will resolve it again",
)

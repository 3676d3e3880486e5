"""Finding codes of the transports (``MSS-TRN-*``): why a session could not be opened, or a message not sent or read.

Every :class:`~mssante.errors.TransportError` the transports raise carries a report with at least one of these
codes, or, for a server certificate refused after the handshake, the ``MSS-PKI-*`` and ``MSS-REV-*`` codes of the
certificate check. Each meaning gives its source: the RFC section, or the MSSanté rule, that makes it a refusal.
"""

from __future__ import annotations

from collections.abc import Iterable

from mssante.errors import TransportError
from mssante.report import Code, Finding, Report, Severity, define_code

__all__ = ["failure"]

ERROR = Severity.ERROR

UNREACHABLE = define_code(
    "MSS-TRN-001",
    ERROR,
    "the server cannot be reached: its name does not resolve, or the TCP connection is refused or times out "
    "(submission port, RFC 6409 §3.1; IMAP, RFC 9051 §2.1; an MX, RFC 5321 §5.1)",
)
NO_GREETING = define_code(
    "MSS-TRN-002",
    ERROR,
    "the server did not greet: no 220 greeting (RFC 5321 §3.1, §4.2) or no IMAP OK or PREAUTH greeting (RFC 9051 §7.1)",
)
NO_STARTTLS = define_code(
    "MSS-TRN-003",
    ERROR,
    "the server does not offer STARTTLS: MSSanté mail is never sent nor read in plain text (RFC 3207 §4, "
    "RFC 9051 §6.2.1; ANS, DST MSSanté: TLS on every exchange)",
)
STARTTLS_REFUSED = define_code(
    "MSS-TRN-004", ERROR, "the server answered STARTTLS with a refusal (RFC 3207 §4: 454; RFC 9051 §6.2.1: NO or BAD)"
)
TLS_FAILED = define_code(
    "MSS-TRN-005",
    ERROR,
    "the TLS handshake failed: no protocol version or cipher suite in common, or the connection broke during it "
    "(RFC 8446 §6.2; TLS 1.2 or later only, RFC 8996)",
)
CLIENT_CERTIFICATE_REFUSED = define_code(
    "MSS-TRN-006",
    ERROR,
    "the server refused this side's client certificate, or required one and none was given: a certificate alert; "
    "the session ended, or EHLO refused, right after the handshake, as a TLS 1.3 server or an MTA requiring client "
    "certificates ends it; or the certificate refused as credentials (SASL EXTERNAL) (RFC 8446 §4.4.2.4, §6.2; "
    "RFC 3207 §4.1; RFC 4422 Appendix A; ANS, DST MSSanté: an IGC Santé authentication certificate on every session)",
)
SERVER_CERTIFICATE_REFUSED = define_code(
    "MSS-TRN-007",
    ERROR,
    "the server certificate was refused in the TLS handshake for a reason no certificate finding names (the "
    "OpenSSL X509_V_ERR_* reason is given; RFC 5280 §6)",
)
NO_SERVER_CERTIFICATE = define_code(
    "MSS-TRN-008", ERROR, "the server presented no certificate: it cannot be authenticated (RFC 8446 §4.4.2)"
)
EHLO_REFUSED = define_code("MSS-TRN-009", ERROR, "the server refused EHLO before STARTTLS (RFC 5321 §4.1.1.1)")
MECHANISM_NOT_OFFERED = define_code(
    "MSS-TRN-010",
    ERROR,
    "the server does not offer the authentication configured (SASL XOAUTH2, PLAIN or EXTERNAL, or IMAP LOGIN: "
    "RFC 4954 §3, RFC 9051 §6.2.2)",
)
LOGIN_REFUSED = define_code(
    "MSS-TRN-011",
    ERROR,
    "the server refused the authentication (RFC 4954 §6: 535; RFC 9051 §6.2.2, §6.2.3: NO)",
)
NO_LOGIN = define_code(
    "MSS-TRN-012",
    ERROR,
    "the server asks for a login and none is configured: a token (XOAUTH2), a password or the client certificate "
    "(SASL EXTERNAL) (RFC 9051 §3.1)",
)
CLOSED = define_code(
    "MSS-TRN-013",
    ERROR,
    "the server closed the connection, or broke the protocol, while the session was being opened (RFC 5321 §3.8, "
    "RFC 9051 §7.1.5)",
)
DEADLINE = define_code(
    "MSS-TRN-014",
    ERROR,
    "an operation of the session passed its deadline (max_duration) and the connection was dropped: a peer that "
    "trickles its bytes cannot hold a session longer (mssante bound; RFC 5321 §4.5.3.2)",
)
SELECT_REFUSED = define_code(
    "MSS-TRN-015", ERROR, "the server refused to open the folder (IMAP SELECT, RFC 9051 §6.3.2)"
)
COMMAND_FAILED = define_code(
    "MSS-TRN-016",
    ERROR,
    "the server refused a mailbox command, or the connection was lost during it (RFC 9051 §7.1: NO, BAD or BYE)",
)
MESSAGE_UNAVAILABLE = define_code(
    "MSS-TRN-017",
    ERROR,
    "the message cannot be fetched: no message has the UID, or the server gave no size or no content for it "
    "(RFC 9051 §6.4.5, §6.4.9)",
)
MESSAGE_TOO_LARGE = define_code(
    "MSS-TRN-018",
    ERROR,
    "the message is larger than the mailbox reads (max_bytes, from its RFC822.SIZE): it was not fetched "
    "(mssante bound; RFC 9051 §7.5.2)",
)
DNS_FAILED = define_code(
    "MSS-TRN-019",
    ERROR,
    "the MX of the domain cannot be resolved now: DNS failed otherwise than by saying the domain does not exist "
    "(RFC 5321 §5.1)",
)
NO_SENDER = define_code(
    "MSS-TRN-020",
    ERROR,
    "the message has no From address and no envelope was given: there is no MAIL FROM to send "
    "(RFC 5321 §3.3, RFC 5322 §3.6.2)",
)
NO_RECIPIENT = define_code(
    "MSS-TRN-021",
    ERROR,
    "the message has no recipient: no To, Cc or Bcc, and no envelope recipient (RFC 5321 §3.3, RFC 5322 §3.6.3)",
)

RECIPIENT_REJECTED = define_code(
    "MSS-TRN-022",
    ERROR,
    "the server refused the message for a recipient for good: a 5xx reply to RCPT or to the data, or not sent "
    "because of such a refusal (RFC 5321 §4.2.1, §4.2.2)",
)
RECIPIENT_DEFERRED = define_code(
    "MSS-TRN-023",
    ERROR,
    "the message was not delivered to a recipient now: a 4xx reply, or the connection lost or past its deadline "
    "before the server took it; send it again later (RFC 5321 §4.2.1, §4.5.4.1)",
)

TOKEN_ENDED = define_code(
    "MSS-TRN-024",
    ERROR,
    "the Pro Santé Connect session that gave this session its token ended: the token could not be refreshed, the "
    "connection was dropped and the user must log in again (ANS, Référentiel #2 MSSanté: SC.MSS/CONF.10, "
    "SC.MSS/CONF.11)",
)


def failure(code: Code, message: str, *, server: str = "", findings: Iterable[Finding] = ()) -> TransportError:
    """A :class:`~mssante.errors.TransportError` saying ``message``, whose report holds the finding of ``code``
    (the same message, where: ``server``) and then ``findings``."""
    report = Report(findings=[code(message, where=server), *findings], subject=server or "transport")
    return TransportError(message, report)

"""Finding codes of the conformance probes (``MSS-PRB-*``): what a live server, or a message, shows of its setup.

Each meaning gives its source: the RFC section, or the MSSanté rule, that makes it a defect. The server
certificate itself is judged by :func:`mssante.pki.verify` (``MSS-PKI-*``, ``MSS-REV-*``) and a message by
:func:`mssante.message.lint` (``MSS-MSG-*``, ``MSS-XDM-*``...): those codes are not repeated here.
"""

from __future__ import annotations

from mssante.report import Severity, define_code

__all__: list[str] = []

ERROR, WARNING, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO

UNREACHABLE = define_code(
    "MSS-PRB-001",
    ERROR,
    "the server cannot be reached: its name does not resolve, or the TCP connection is refused or times out "
    "(RFC 5321 §5.1; RFC 6409 §3.1; RFC 9051 §2.1)",
)
NO_GREETING = define_code(
    "MSS-PRB-002",
    ERROR,
    "the server does not greet as its protocol says: no SMTP 220 greeting (RFC 5321 §4.2, §4.3.1) or no IMAP OK "
    "greeting (RFC 9051 §7.1)",
)
NAMES_DIFFER = define_code(
    "MSS-PRB-003",
    WARNING,
    "the host name of the SMTP greeting is not the one of the EHLO answer (RFC 5321 §4.1.1.1, §4.2: both name "
    "the server)",
)
EHLO_REFUSED = define_code("MSS-PRB-004", ERROR, "the server does not answer EHLO with 250 (RFC 5321 §4.1.1.1)")
NO_STARTTLS = define_code(
    "MSS-PRB-005",
    ERROR,
    "the server does not offer STARTTLS, or refuses it: MSSanté mail never travels in plain text (RFC 3207 §4, "
    "RFC 9051 §6.2.1; ANS, DST MSSanté: TLS on every exchange)",
)
PLAIN_MAIL_ACCEPTED = define_code(
    "MSS-PRB-006",
    ERROR,
    "the server accepts MAIL FROM before STARTTLS: TLS is offered, not required (RFC 3207 §4: 530 before "
    "STARTTLS; ANS, DST MSSanté: TLS on every exchange)",
)
PLAIN_AUTH_OFFERED = define_code(
    "MSS-PRB-007",
    ERROR,
    "the server offers authentication before TLS: credentials could travel in plain text (RFC 4954 §4, "
    "RFC 8314 §3; RFC 9051 §6.2.3 LOGINDISABLED)",
)
TLS_FAILED = define_code(
    "MSS-PRB-008",
    ERROR,
    "the TLS handshake after STARTTLS failed with TLS 1.2 or later and the suites MSSanté allows (RFC 8446 §6.2; "
    "RFC 8996; ANS SC.MSS/CONF.01, CONF.03)",
)
OLD_TLS_ACCEPTED = define_code(
    "MSS-PRB-009",
    ERROR,
    "the server completes a handshake in a TLS version below 1.2 (RFC 8996 §2-3: TLS 1.0 and 1.1 MUST NOT be "
    "negotiated; ANS SC.MSS/CONF.01: TLS 1.2 minimum)",
)
SUITE_NOT_ALLOWED = define_code(
    "MSS-PRB-010",
    ERROR,
    "the server accepts a TLS 1.2 cipher suite outside the configured list (ANS SC.MSS/CONF.03: allowed suites "
    "only; mssante.net.TLS12_CIPHERS: ECDHE and AEAD)",
)
SUITES_ACCEPTED = define_code("MSS-PRB-011", INFO, "the TLS versions and cipher suites the server accepts")
NO_SERVER_CERTIFICATE = define_code(
    "MSS-PRB-012", ERROR, "the server presented no certificate: it cannot be authenticated (RFC 8446 §4.4.2)"
)
ANONYMOUS_CLIENT_ACCEPTED = define_code(
    "MSS-PRB-013",
    ERROR,
    "the MX accepts MAIL FROM from a client that presented no certificate (ANS, Référentiel #2: operators "
    "authenticate each other with IGC Santé certificates on port 25; RFC 3207 §4.1)",
)
OUTSIDER_CLIENT_ACCEPTED = define_code(
    "MSS-PRB-014",
    ERROR,
    "the MX accepts MAIL FROM from a client whose certificate is outside IGC Santé and the allow-list (ANS, "
    "Référentiel #2: IGC Santé is the only CA allowed; the operator DNs of the allow-list)",
)
NO_SIZE = define_code(
    "MSS-PRB-015",
    WARNING,
    "the server does not announce SIZE after STARTTLS: a sender cannot know its limit before sending (RFC 1870 §4; "
    "Ségur MSS/va1.13: the operator's maximum size)",
)
NO_DSN = define_code(
    "MSS-PRB-016",
    WARNING,
    "the server does not announce DSN after STARTTLS: delivery status notifications cannot be asked for "
    "(RFC 3461 §4; Ségur MSS/va1.15)",
)
NO_LOGINDISABLED = define_code(
    "MSS-PRB-017",
    ERROR,
    "the IMAP server does not announce LOGINDISABLED before STARTTLS: LOGIN would send a password in plain text "
    "(RFC 9051 §6.2.3, §7.2.2; RFC 3501 §6.2.3)",
)
NO_MECHANISM = define_code(
    "MSS-PRB-018",
    WARNING,
    "the server offers no SASL mechanism after STARTTLS that an MSSanté client uses (XOAUTH2 for Pro Santé "
    "Connect, EXTERNAL for a client certificate, PLAIN) (RFC 4954 §3; RFC 9051 §6.2.2; ANS, API LPS)",
)
MECHANISMS = define_code("MSS-PRB-019", INFO, "the authentication mechanisms the server offers after STARTTLS")
NOT_OBSERVED = define_code(
    "MSS-PRB-020",
    INFO,
    "a check could not be made: what it needs was not reached (e.g. the EHLO after STARTTLS of an MX that requires "
    "a client certificate, when no --cert is given)",
)
DEADLINE = define_code(
    "MSS-PRB-021",
    ERROR,
    "the server did not answer within the deadline, or trickled its answer past it (RFC 5321 §4.5.3.2 timeouts)",
)
MALFORMED = define_code(
    "MSS-PRB-022",
    ERROR,
    "the server's answer is malformed: a line too long, too many lines, no reply code, or the connection closed "
    "in the middle (RFC 5321 §4.2, §4.5.3.1.5; RFC 9051 §2.2)",
)
CLIENT_REFUSED = define_code(
    "MSS-PRB-023",
    ERROR,
    "the server refused the IGC Santé client certificate given to the probe (RFC 8446 §4.4.2.4; RFC 3207 §4.1)",
)
PDF_A_CONFORMANCE = define_code(
    "MSS-PRB-025",
    WARNING,
    "a PDF attachment identified as PDF/A-1 gives no conformance level A or B in its XMP metadata "
    "(pdfaid:conformance, ISO 19005-1 6.7.11; ECO.2.1.1)",
)
NO_MX = define_code(
    "MSS-PRB-026",
    ERROR,
    "the domain publishes no MX record: no operator can deliver its mail (RFC 5321 §5.1; ANS: the MX of each "
    "domain of the allow-list)",
)
DNS_FAILED = define_code(
    "MSS-PRB-027",
    ERROR,
    "the MX records could not be had: SERVFAIL (a DNSSEC validation failure included), a timeout or a refusal "
    "(RFC 1035 §4.1.1; RFC 4035 §5.5)",
)
MX_NOT_VALIDATED = define_code(
    "MSS-PRB-028",
    WARNING,
    "the MX answer is not DNSSEC-validated (no AD flag from a validating resolver): a forged MX cannot be told "
    "apart (RFC 4035 §3.2.3; RFC 7672 §2.2)",
)
MX_LIMIT = define_code("MSS-PRB-029", INFO, "the domain publishes more MX hosts than the probe connects to")
MX_RECORDS = define_code("MSS-PRB-030", INFO, "the MX hosts of the domain, in order of preference")
OCSP_FAILED = define_code(
    "MSS-PRB-031",
    WARNING,
    "the OCSP responder a certificate names (authority information access) gave no usable answer: unreachable, "
    "timed out, an HTTP error or not an OCSP response; the CRLs alone decide its status (RFC 6960 §2.3, §4.2; "
    "RFC 5280 §4.2.2.1)",
)
TEST_MESSAGE_ACCEPTED = define_code(
    "MSS-PRB-032",
    INFO,
    "the server accepted the test message sent, on request, to a mailbox of the operator's own (RFC 5321 §4.2.5)",
)
TEST_MESSAGE_REFUSED = define_code(
    "MSS-PRB-033",
    ERROR,
    "the server refused or deferred the test message sent, on request, to a mailbox of the operator's own, or "
    "refused the session that carries it (RFC 5321 §4.2.2, §4.2.3; RFC 4954 §6)",
)

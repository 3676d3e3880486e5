"""What a probe saw of a server, as plain values: the input of the judgement (:mod:`mssante.probe._judge`).

Nothing here touches the network: the probe shells fill these values, the tests may build them by hand.
"""

from __future__ import annotations

import enum

import attrs

from mssante.report import Report

__all__ = ["Failure", "Handshake", "ImapDialogue", "Role", "ServerObservation", "SmtpDialogue", "SmtpReply"]


class Role(str, enum.Enum):
    """What the endpoint is: an MX (port 25, between operators), a submission server (587) or an IMAP server."""

    MX = "mx"
    SUBMISSION = "submission"
    IMAP = "imap"

    @classmethod
    def of_port(cls, port: int) -> Role:
        """The role a port usually has: 25 an MX, 143 and 993 IMAP, any other submission."""
        if port == 25:
            return cls.MX
        if port in (143, 993):
            return cls.IMAP
        return cls.SUBMISSION


@attrs.frozen(kw_only=True)
class Failure:
    """Where a dialogue stopped: the ``step`` and why (``kind``: unreachable, deadline, malformed, closed, tls)."""

    step: str
    kind: str
    detail: str


@attrs.frozen(kw_only=True)
class SmtpReply:
    """An SMTP reply: its code and its lines."""

    code: int
    lines: tuple[str, ...] = ()

    @property
    def positive(self) -> bool:
        """A 2xx reply."""
        return 200 <= self.code < 300

    @property
    def keywords(self) -> dict[str, str]:
        """The EHLO keywords (upper case) after the first line, each with its parameters."""
        found: dict[str, str] = {}
        for line in self.lines[1:]:
            keyword, _, parameters = line.strip().partition(" ")
            found[keyword.upper()] = parameters.strip()
        return found

    @property
    def host(self) -> str:
        """The first word of the first line: the host name a greeting or an EHLO answer gives."""
        words = self.lines[0].split() if self.lines else []
        return words[0].lower().rstrip(".") if words else ""

    def __str__(self) -> str:
        return f"{self.code} {' / '.join(self.lines)}".strip()


@attrs.frozen(kw_only=True)
class Handshake:
    """A TLS handshake that completed: the version, the suite, the server certificate (DER) if any."""

    version: str
    cipher: str
    certificate: bytes | None = None


@attrs.frozen(kw_only=True)
class SmtpDialogue:
    """One SMTP connection, as far as it went; ``client`` says which certificate it presented."""

    client: str = "none"
    greeting: SmtpReply | None = None
    ehlo: SmtpReply | None = None
    plain_mail: SmtpReply | None = None
    starttls: SmtpReply | None = None
    handshake: Handshake | None = None
    secure_ehlo: SmtpReply | None = None
    secure_mail: SmtpReply | None = None
    failure: Failure | None = None


@attrs.frozen(kw_only=True)
class ImapDialogue:
    """One IMAP connection: the greeting, CAPABILITY before and after STARTTLS; ``client`` as for SMTP."""

    client: str = "none"
    greeting: str | None = None
    capabilities: tuple[str, ...] | None = None
    starttls: str | None = None
    handshake: Handshake | None = None
    secure_capabilities: tuple[str, ...] | None = None
    failure: Failure | None = None


@attrs.frozen(kw_only=True)
class ServerObservation:
    """Everything a probe of one endpoint saw.

    ``main`` is the dialogue with the client certificate given (or none); for an MX, ``anonymous`` is one without
    a certificate and ``outsider`` one with a certificate outside IGC Santé (None when not tried). ``old_versions``
    maps TLS 1.0 and 1.1 to whether a handshake completed (None: not observed). ``suites`` are the TLS 1.2 suites
    the server accepted (None: not observed), ``allowed_suites`` the configured list. ``certificate`` is the
    judgement of the server certificate (:func:`mssante.pki.verify`), None when none was seen.
    """

    host: str
    port: int
    role: Role
    main: SmtpDialogue | ImapDialogue
    anonymous: SmtpDialogue | None = None
    outsider: SmtpDialogue | None = None
    old_versions: tuple[tuple[str, bool | None], ...] = ()
    suites: tuple[str, ...] | None = None
    allowed_suites: tuple[str, ...] = ()
    certificate: Report | None = None
    notes: tuple[str, ...] = ()

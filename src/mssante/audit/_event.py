"""One audit event: who, when, on which node, with which peer and certificate, what became of it.

The fields are a closed list: nothing else can be stored, so a secret or a message body has no field to land in.
Every text is cleaned at construction (:func:`clean`): secrets the SDK can recognise (bearer tokens, JSON Web
Tokens, ``password=…``-style pairs) are replaced by ``[secret]``, control characters (NUL and line ends included) are
written as escapes, and the length is bounded. An event that exists is fit to be kept.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from mssante._secrets import REDACTED, scrub

__all__ = [
    "DETAIL_KEYS",
    "KINDS",
    "MAX_RECIPIENTS",
    "AuditEvent",
    "Outcome",
    "RecipientOutcome",
    "clean",
    "format_time",
    "parse_time",
]

KINDS = frozenset(
    {"connect", "tls", "authenticate", "send", "deliver", "fetch", "delete", "move", "quit", "reset", "policy"}
)
"""The kinds the SDK records: those of the transports' sessions (outbound), and ``policy`` and ``deliver``
(inbound). A kind outside this list is kept as long as it is a short lower-case word."""

DETAIL_KEYS = frozenset(
    {"mechanism", "protocol", "cipher", "folder", "uid", "size", "to", "action", "reply", "fingerprint", "omitted"}
)
"""The only keys of :attr:`AuditEvent.details`: what some kinds add (the TLS version, the IMAP folder...)."""

MAX_RECIPIENTS = 1000
"""The most recipients one event lists; the count of those left out is in ``details["omitted"]``."""

_MAX_TEXT = 320  # an address (254), a host name (253), a Message-ID, a DN mostly fit
_MAX_REASON = 1000
_MAX_CODES = 20
_KIND = re.compile(r"[a-z][a-z0-9_-]{0,31}")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_SECRETS = (
    # key=value or key: value where the key names a secret (a password, a token, an API key...)
    re.compile(
        r"(?i)\b((?:pass(?:word|wd)?|pwd|secret|(?:access|refresh|id)?_?token|api[_-]?key|authorization|"
        r"client_secret)\s*[=:]\s*(?:(?:basic|bearer|digest|negotiate)\s+)?)(\"[^\"]*\"|'[^']*'|[^\s,;&]+)"
    ),
    re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*"),  # a JSON Web Token
    re.compile(r"\bdXNlcj[A-Za-z0-9+/=]{8,}"),  # base64 of "user=...\x01auth=Bearer ..." (SASL XOAUTH2)
)


def clean(value: object, *, limit: int = _MAX_TEXT) -> str:
    """``value`` as text fit for the trail: secrets scrubbed, control characters escaped, at most ``limit`` long."""
    text = value if isinstance(value, str) else str(value)
    if len(text) > 4 * limit:  # what is cut anyway is not scanned
        text = text[: 4 * limit]
    text = scrub(text, ())
    for pattern in _SECRETS:
        text = pattern.sub(lambda match: (match.group(1) if match.re.groups else "") + REDACTED, text)
    text = _CONTROL.sub(_escape, text)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _optional_text(value: object) -> str | None:
    return None if value is None else clean(value)


def _optional_code(value: object) -> str | None:
    return None if value is None else clean(value, limit=40)


def _optional_subject(value: object) -> str | None:
    return None if value is None else clean(value, limit=1024)


def _text(value: object) -> str:
    return clean(value)


def _reason(value: object) -> str:
    return clean(value, limit=_MAX_REASON)


def format_time(at: dt.datetime) -> str:
    """``at`` as ISO 8601 in UTC, fixed width, with a ``Z``: text order is time order."""
    return at.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str) -> dt.datetime:
    """An ISO 8601 time with its offset (``Z`` too) as a UTC datetime; ValueError when naive or malformed."""
    value = dt.datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text)
    if value.utcoffset() is None:
        raise ValueError(f"{text!r} has no time zone")
    return value.astimezone(dt.timezone.utc)


def _utc(value: object) -> dt.datetime:
    if not isinstance(value, dt.datetime) or value.utcoffset() is None:
        raise ValueError("an audit event's time must be a timezone-aware datetime")
    return value.astimezone(dt.timezone.utc)


def _kind(value: object) -> str:
    text = str(value)
    if not _KIND.fullmatch(text):
        raise ValueError(f"{clean(text, limit=40)!r} is not an audit event kind (a short lower-case word)")
    return text


def _sha256(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).replace(":", "").strip().lower()
    if not _SHA256.fullmatch(text):
        raise ValueError("a certificate fingerprint must be a SHA-256 digest (64 hexadecimal digits)")
    return text


def _port(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 65536:
        raise ValueError(f"{clean(value, limit=40)!r} is not a port")
    return value


def _codes(values: Iterable[object]) -> tuple[str, ...]:
    if isinstance(values, (str, bytes)):
        values = (values,)
    return tuple(clean(value, limit=40) for value in list(values)[:_MAX_CODES] if value is not None and value != "")


def _details(values: Mapping[str, object] | Iterable[tuple[str, object]]) -> tuple[tuple[str, str], ...]:
    items = dict(values)
    unknown = sorted(set(items) - DETAIL_KEYS)
    if unknown:
        raise ValueError(f"audit details may only be {sorted(DETAIL_KEYS)}, not {unknown}")
    return tuple(sorted((key, clean(value)) for key, value in items.items() if value is not None))


class Outcome(str, enum.Enum):
    """What became of what the event records."""

    OK = "ok"
    """Done, accepted."""
    REFUSED = "refused"
    """A peer, a policy or a check said no (the reason and codes say why)."""
    FAILED = "failed"
    """It could not be done: a dropped connection, an error."""

    def __str__(self) -> str:
        return self.value


@attrs.frozen(kw_only=True)
class RecipientOutcome:
    """One recipient of a message and what became of it (``accepted``, ``rejected``, ``deferred``, a policy action)."""

    address: str = attrs.field(converter=_text)
    status: str = attrs.field(converter=_text)
    code: str | None = attrs.field(default=None, converter=_optional_code)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: ``address``, ``status``, ``code``."""
        return {"address": self.address, "status": self.status, "code": self.code}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RecipientOutcome:
        """The recipient of :meth:`to_dict`."""
        return cls(address=data["address"], status=data["status"], code=data.get("code"))


def _recipients(values: Iterable[RecipientOutcome]) -> tuple[RecipientOutcome, ...]:
    items = tuple(values)
    if any(not isinstance(item, RecipientOutcome) for item in items):
        raise TypeError("recipients must be RecipientOutcome values")
    return items


@attrs.frozen(kw_only=True)
class AuditEvent:
    """One event of the audit trail (never a secret, never message content).

    ``peer`` is the other end: the server a session talked to, or the client an inbound decision was about.
    ``certificate_subject`` and ``certificate_sha256`` are the peer's certificate (its subject DN and the SHA-256
    digest of its DER form), never a key. ``codes`` are the reply codes and finding codes (``MSS-*``) that say
    why. ``details`` holds the few extra facts some kinds carry, under the keys of :data:`DETAIL_KEYS` only.
    """

    kind: str = attrs.field(converter=_kind)
    at: dt.datetime = attrs.field(converter=_utc)
    node: str = attrs.field(converter=_text)
    peer: str = attrs.field(default="", converter=_text)
    port: int | None = attrs.field(default=None, converter=_port)
    user: str | None = attrs.field(default=None, converter=_optional_text)
    sender: str | None = attrs.field(default=None, converter=_optional_text)
    certificate_subject: str | None = attrs.field(default=None, converter=_optional_subject)
    certificate_sha256: str | None = attrs.field(default=None, converter=_sha256)
    outcome: Outcome = attrs.field(default=Outcome.OK, converter=Outcome)
    reason: str = attrs.field(default="", converter=_reason)
    codes: tuple[str, ...] = attrs.field(default=(), converter=_codes)
    message_id: str | None = attrs.field(default=None, converter=_optional_text)
    recipients: tuple[RecipientOutcome, ...] = attrs.field(default=(), converter=_recipients)
    details: tuple[tuple[str, str], ...] = attrs.field(default=(), converter=_details)

    @recipients.validator
    def _bounded(self, attribute: attrs.Attribute[tuple[RecipientOutcome, ...]], value: tuple[object, ...]) -> None:
        if len(value) > MAX_RECIPIENTS:
            raise ValueError(f"an audit event lists at most {MAX_RECIPIENTS} recipients (the others are counted)")

    @property
    def detail(self) -> dict[str, str]:
        """:attr:`details` as a mapping."""
        return dict(self.details)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form exported for an auditor: stable keys, the time in ISO 8601 UTC."""
        return {
            "at": format_time(self.at),
            "kind": self.kind,
            "node": self.node,
            "peer": self.peer,
            "port": self.port,
            "user": self.user,
            "sender": self.sender,
            "certificate": (
                None
                if self.certificate_subject is None and self.certificate_sha256 is None
                else {"subject": self.certificate_subject, "sha256": self.certificate_sha256}
            ),
            "outcome": self.outcome.value,
            "reason": self.reason,
            "codes": list(self.codes),
            "message_id": self.message_id,
            "recipients": [recipient.to_dict() for recipient in self.recipients],
            "details": dict(self.details),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AuditEvent:
        """The event of :meth:`to_dict` (a line of an export read back)."""
        certificate = data.get("certificate") or {}
        return cls(
            kind=data["kind"],
            at=parse_time(data["at"]),
            node=data["node"],
            peer=data.get("peer", ""),
            port=data.get("port"),
            user=data.get("user"),
            sender=data.get("sender"),
            certificate_subject=certificate.get("subject"),
            certificate_sha256=certificate.get("sha256"),
            outcome=data.get("outcome", "ok"),
            reason=data.get("reason", ""),
            codes=data.get("codes", ()),
            message_id=data.get("message_id"),
            recipients=[RecipientOutcome.from_dict(item) for item in data.get("recipients", ())],
            details=data.get("details", {}),
        )

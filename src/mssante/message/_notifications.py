"""Acknowledgements of MSSanté mail: MDN (RFC 8098, CI-SIS forms), the CI-SIS KO mail, and DSN (RFC 3464).

The MDN is the "accusé de lecture" and the CI-SIS integration report: :func:`build_mdn` writes it
(``multipart/report`` with the human text, the ``message/disposition-notification`` block, the original
message whole, then the original's ``IHE_XDM.zip`` and PDF again), by default in the form of the CI-SIS
volet (the error inside ``Disposition``: ``processed/Error: 902^…``), on request in the RFC 8098 form
(``processed/error`` and a separate ``Error:`` field); :func:`parse_disposition_notification` reads both.
An MDN is not sent automatically when the sender's Disposition-Notification-To differs from its
Return-Path (RFC 8098 §2.1): :func:`build_mdn` then raises :class:`MdnNeedsConfirmation` until the caller
says the user confirmed. :func:`build_ko_mail` writes the plain mail the volet uses when no MDN was asked
for. :class:`IntegrationError` gives the meaning of the volet's error codes (900 and 901: a replacement or
a deletion refused). The DSN is the "accusé de réception": :func:`parse_delivery_status` reads the
``message/delivery-status`` block of a bounce or a delivery report, :func:`build_dsn` writes one.

Everything here is pure: bytes and values in, values and :class:`email.message.EmailMessage` out.
"""

from __future__ import annotations

import datetime as dt
import enum
import io
import re
import secrets
import types
from collections.abc import Iterable, Iterator, Mapping
from email import policy as email_policy
from email.errors import HeaderParseError, MessageError
from email.generator import BytesGenerator
from email.header import decode_header, make_header
from email.message import EmailMessage, Message, MIMEPart
from email.parser import BytesParser
from email.policy import Policy
from email.utils import collapse_rfc2231_value, format_datetime, getaddresses, parseaddr, parsedate_to_datetime
from typing import Any

import attrs

from mssante.errors import InvalidInput
from mssante.message import _notification_codes as codes
from mssante.message._headers import KO_PREFIX, MSG_ID, UNSAFE_IN_HEADER
from mssante.message._mime import MAX_DEPTH, MAX_PARTS
from mssante.message._report_types import DSN_REPORT_TYPES, DSN_TYPES, MDN_REPORT_TYPES, MDN_TYPES
from mssante.report import Code, Finding, Report, Severity, define_code

__all__ = [
    "ACTION_MODES",
    "DISPOSITION_TYPES",
    "DSN_ACTIONS",
    "INTEGRATION_ERRORS",
    "KO_SUBJECT_PREFIX",
    "MAX_BLOCK_BYTES",
    "MAX_DSN_RECIPIENTS",
    "MAX_MDN_FIELDS",
    "MDN_FORMS",
    "MESSAGE_ERRORS",
    "SENDING_MODES",
    "Disposition",
    "Dsn",
    "DsnRecipient",
    "IntegrationError",
    "Mdn",
    "MdnNeedsConfirmation",
    "build_dsn",
    "build_ko_mail",
    "build_mdn",
    "ko_code",
    "mdn_needs_confirmation",
    "parse_delivery_status",
    "parse_disposition_notification",
    "parse_report",
    "report_block",
]

INTEGRATION_ERRORS: Mapping[str, str] = types.MappingProxyType(
    {
        "900": "Version du document incorrecte lors d'une demande de remplacement/suppression",
        "901": "Auteur non autorisé à remplacer ou supprimer un document",
        "902": "Identifiant patient inconnu",
        "903": "INS non présent dans le document",
        "904": "L'INS transmis ne correspond pas exactement à celui stocké dans la base du consommateur",
        "905": "L'INS transmis n'est pas complet",
        "906": "Erreur 'Autre'",
    }
)
"""The CI-SIS application error codes (table applicationErrorCondition of the HL7v2 volet) and their labels."""

MESSAGE_ERRORS: Mapping[str, str] = types.MappingProxyType(
    {
        "100": "Segment sequence error",
        "101": "Required field missing",
        "102": "Data type error",
        "103": "Table value not found",
        "198": "Non-conformant cardinality",
        "199": "Other HL7 Error",
        "200": "Unsupported message type",
        "201": "Unsupported event code",
        "202": "Unsupported processing",
        "203": "Unsupported version",
        "207": "Application error",
    }
)
"""The HL7 error codes the volet lists (table messageErrorCondition, its code 0 "Message accepted" left out: no
error) and their labels, for an integration that failed on the HL7 message itself."""

MDN_FORMS = ("volet", "rfc8098")
"""How :func:`build_mdn` writes an error: ``volet``, the CI-SIS form ``processed/Error: <code>^<label>`` inside
``Disposition`` (what ANS's receivers parse; not RFC 8098 syntax), or ``rfc8098``, ``processed/error`` and a
separate ``Error: <code>^<label>`` field."""


def _known_label(code: str) -> str | None:
    return INTEGRATION_ERRORS.get(code) or MESSAGE_ERRORS.get(code)


class IntegrationError(enum.Enum):
    """What a CI-SIS application error code (900 to 906) means, as the volet's table applicationErrorCondition says.

    900 and 901 answer a replacement or a deletion (``annule et remplace``, ``suppression``): the version sent is
    not the latest the receiver holds, or the sender may not replace or delete that document.

    >>> IntegrationError.of("901").about_replacement_or_deletion
    True
    """

    STALE_VERSION = "900"
    """The version of the document is not the latest the receiver holds (replacement or deletion)."""
    NOT_AUTHORISED = "901"
    """The sender is not the author of the document, nor of the author's organisation (replacement or deletion)."""
    UNKNOWN_PATIENT = "902"
    NO_INS = "903"
    INS_MISMATCH = "904"
    INS_INCOMPLETE = "905"
    OTHER = "906"

    @property
    def code(self) -> str:
        """The code as written in an MDN or a KO mail (``"900"``)."""
        return self.value

    @property
    def label(self) -> str:
        """The label of the volet's table."""
        return INTEGRATION_ERRORS[self.value]

    @property
    def about_replacement_or_deletion(self) -> bool:
        """True for 900 and 901: the receiver refused to replace or delete a document sent earlier."""
        return self in (IntegrationError.STALE_VERSION, IntegrationError.NOT_AUTHORISED)

    @classmethod
    def of(cls, code: str | None) -> IntegrationError | None:
        """The meaning of ``code`` (``"900"``, or as a subject writes it, ``" 900 "``); None for another code."""
        try:
            return cls((code or "").strip())
        except ValueError:
            return None


KO_SUBJECT_PREFIX = KO_PREFIX
"""The subject prefix of a negative MDN or KO mail, followed by ``[<code>] `` and the original subject."""

ACTION_MODES = ("automatic-action", "manual-action")
SENDING_MODES = ("MDN-sent-automatically", "MDN-sent-manually")
DISPOSITION_TYPES = ("displayed", "deleted", "dispatched", "processed")
DSN_ACTIONS = ("failed", "delayed", "delivered", "relayed", "expanded")

MAX_BLOCK_BYTES = 1024 * 1024
"""The largest disposition-notification or delivery-status block read (1 MiB)."""
MAX_MDN_FIELDS = 200
"""The most fields read in a disposition-notification block."""
MAX_DSN_RECIPIENTS = 1000
"""The most per-recipient groups read in a delivery-status block."""
_MAX_GROUP_FIELDS = 200
_WIDTH = 78
_MAX_LINE = 998  # RFC 5322 §2.1.1

_UNSAFE = UNSAFE_IN_HEADER  # never accepted in a header value we write
# Characters refused in a block we read: the same, less CR and LF which end lines there.
_BLOCK_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029]")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_FIELD = re.compile(r"([!-9;-~]+)[ \t]*:(.*)", re.DOTALL)
_TYPED = re.compile(r"([A-Za-z0-9][A-Za-z0-9.+_-]*)[ \t]*;[ \t]*(.*)", re.DOTALL)
_DISPOSITION = re.compile(
    r"([A-Za-z-]+)[ \t]*/[ \t]*([A-Za-z-]+)[ \t]*;[ \t]*([A-Za-z-]+)(?:[ \t]*/[ \t]*(.*))?", re.DOTALL
)
_LEGACY_ERROR = re.compile(r"error[ \t]*:(.*)", re.DOTALL | re.IGNORECASE)
_ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+")
_ERROR_CODE = re.compile(r"[A-Za-z0-9_.-]{1,32}")
_STATUS = re.compile(r"([245])\.([0-9]{1,3})\.([0-9]{1,3})(?:[ \t]*\(.*\))?", re.DOTALL)
_STATUS_VALUE = re.compile(r"[245]\.[0-9]{1,3}\.[0-9]{1,3}")
_FIELD_NAME = re.compile(r"[!-9;-~]+")
_MESSAGE_ID = MSG_ID
_MAX_REFERENCES = 20
_FOLD_AT = re.compile(r"(?<=\S) ")
_ENCODED_WORD = re.compile(r"=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=")
_UNFOLD = re.compile(r"\r?\n(?=[ \t])")

# Codes of a report that carries no block at all (declared here: the MSS-MDN and MSS-DSN areas go on).
MDN_NO_BLOCK = define_code(
    "MSS-MDN-009",
    Severity.ERROR,
    "a multipart/report of type disposition-notification has no message/disposition-notification part: a read "
    "receipt without its block",
)
DSN_NO_BLOCK = define_code(
    "MSS-DSN-014",
    Severity.ERROR,
    "a multipart/report of type delivery-status has no message/delivery-status part: a delivery report without "
    "its block",
)

_ACTION_BY_KEY = {mode.lower(): mode for mode in ACTION_MODES}
_SENDING_BY_KEY = {mode.lower(): mode for mode in SENDING_MODES}


# --- validation shared by the value objects and the builders -------------------------------------------------


def _check_line(what: str, value: str) -> str:
    if match := _UNSAFE.search(value):
        raise ValueError(f"{what} holds U+{ord(match.group()):04X} (a line break or control character): {value[:80]!r}")
    return value


def _one_line(instance: object, attribute: attrs.Attribute[Any], value: str | None) -> None:
    if value is not None:
        _check_line(attribute.name, value)


def _one_line_required(instance: object, attribute: attrs.Attribute[Any], value: str) -> None:
    if not value.strip():
        raise ValueError(f"{attribute.name} is empty")
    _check_line(attribute.name, value)


def _aware(instance: object, attribute: attrs.Attribute[Any], value: dt.datetime | None) -> None:
    if value is not None and value.utcoffset() is None:
        raise ValueError(f"{attribute.name} must be timezone-aware")


def _as_fields(pairs: Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    fields = tuple((str(name), str(value)) for name, value in pairs)
    for name, value in fields:
        if not _FIELD_NAME.fullmatch(name):
            raise ValueError(f"{name[:80]!r} is not a field name")
        _check_line(name, value)
    return fields


# --- MDN values ------------------------------------------------------------------------------------------------


def _modifier(instance: Disposition, attribute: attrs.Attribute[Any], value: str | None) -> None:
    if value is not None and not all(_ATOM.fullmatch(part) for part in value.split(",")):
        raise ValueError(f"disposition modifier {value[:80]!r} is not a comma-separated list of atoms")


def _error_code(instance: Disposition, attribute: attrs.Attribute[Any], value: str | None) -> None:
    if value is None:
        if instance.error_label is not None:
            raise ValueError("an error label needs an error code")
        return
    if not _ERROR_CODE.fullmatch(value):
        raise ValueError(f"error code {value[:80]!r} is not 1 to 32 letters, digits, '.', '_' or '-'")
    if not instance.is_error:
        raise ValueError("an error code needs the 'error' disposition modifier")


def _error_label(instance: Disposition, attribute: attrs.Attribute[Any], value: str | None) -> None:
    if value is None:
        return
    _check_line("error_label", value)
    if "^" in value or not value.strip() or value != value.strip():
        raise ValueError(f"error label {value[:80]!r} is empty, padded or holds '^' (the field separator)")


@attrs.frozen(kw_only=True)
class Disposition:
    """The ``Disposition`` of an MDN (RFC 8098 §3.2.6), with the CI-SIS error code and label.

    ``str()`` gives the field value, e.g. ``automatic-action/MDN-sent-automatically; processed/error``.
    """

    action_mode: str = attrs.field(default="automatic-action", validator=attrs.validators.in_(ACTION_MODES))
    sending_mode: str = attrs.field(default="MDN-sent-automatically", validator=attrs.validators.in_(SENDING_MODES))
    type: str = attrs.field(default="processed", validator=attrs.validators.in_(DISPOSITION_TYPES))
    modifier: str | None = attrs.field(default=None, validator=_modifier)
    error_code: str | None = attrs.field(default=None, validator=_error_code)
    error_label: str | None = attrs.field(default=None, validator=_error_label)

    @classmethod
    def processed(cls) -> Disposition:
        """The CI-SIS success: ``automatic-action/MDN-sent-automatically; processed``."""
        return cls()

    @classmethod
    def integration_error(cls, code: str, label: str | None = None) -> Disposition:
        """The CI-SIS failure ``processed/error`` with ``code`` and its label, from the volet's tables by default.

        The volet's codes are those of :data:`INTEGRATION_ERRORS` (900-906) and :data:`MESSAGE_ERRORS` (the HL7
        errors); ValueError for another code given without a label: the receiver could not tell what it means.
        """
        label = label or _known_label(code)
        if label is None:
            raise ValueError(
                f"error code {code[:40]!r} is not in the volet's tables (900 to 906, or an HL7 error): give its label"
            )
        return cls(modifier="error", error_code=code, error_label=label)

    @property
    def meaning(self) -> IntegrationError | None:
        """What the error code means when it is one of the volet's 900 to 906 (None otherwise)."""
        return IntegrationError.of(self.error_code) if self.error_code else None

    def field_value(self, form: str = "rfc8098") -> str:
        """The ``Disposition`` field in ``form`` (:data:`MDN_FORMS`).

        ``rfc8098`` is ``str(self)``: ``automatic-action/MDN-sent-automatically; processed/error``. ``volet``
        writes an error with its code inside the field, as the CI-SIS volet does:
        ``automatic-action/MDN-sent-automatically; processed/Error: 902^Identifiant patient inconnu``.
        """
        if form not in MDN_FORMS:
            raise ValueError(f"form is one of {', '.join(MDN_FORMS)}, not {form!r}")
        if form == "rfc8098" or self.modifiers != ("error",) or not self.error_code:
            return str(self)
        label = self.error_label or _known_label(self.error_code)
        error = f"{self.error_code}^{label}" if label else self.error_code
        return f"{self.action_mode}/{self.sending_mode}; {self.type}/Error: {error}"

    @property
    def modifiers(self) -> tuple[str, ...]:
        """The disposition modifiers, in order (``("error",)`` for an error)."""
        return tuple(self.modifier.split(",")) if self.modifier else ()

    @property
    def is_error(self) -> bool:
        """True when the modifiers say ``error``."""
        return "error" in self.modifiers

    def __str__(self) -> str:
        modifier = f"/{self.modifier}" if self.modifier else ""
        return f"{self.action_mode}/{self.sending_mode}; {self.type}{modifier}"


@attrs.frozen(kw_only=True)
class Mdn:
    """A parsed MDN: the fields of its ``message/disposition-notification`` block and its human text.

    Addresses are given without their ``rfc822;`` type. ``error`` is the text of the ``Error`` field (or of
    the older CI-SIS ``processed/Error: …`` form); the code and label read from it are on :attr:`disposition`.
    ``extension_fields`` keeps every other field (``MDN-Gateway``, ``X-…``, repeated ``Error``) in order.
    """

    final_recipient: str = attrs.field(validator=_one_line_required)
    disposition: Disposition = attrs.field(validator=attrs.validators.instance_of(Disposition))
    reporting_ua: str | None = attrs.field(default=None, validator=_one_line)
    original_recipient: str | None = attrs.field(default=None, validator=_one_line)
    original_message_id: str | None = attrs.field(default=None, validator=_one_line)
    error: str | None = attrs.field(default=None, validator=_one_line)
    human_text: str = ""
    extension_fields: tuple[tuple[str, str], ...] = attrs.field(default=(), converter=_as_fields)

    @property
    def is_error(self) -> bool:
        """True when the disposition is an error."""
        return self.disposition.is_error

    @property
    def error_code(self) -> str | None:
        """The CI-SIS error code (``"902"``), if any."""
        return self.disposition.error_code

    @property
    def error_label(self) -> str | None:
        """The error label sent with the code, if any."""
        return self.disposition.error_label

    @property
    def meaning(self) -> IntegrationError | None:
        """What the error code means when it is one of the volet's 900 to 906 (None otherwise).

        ``mdn.meaning.about_replacement_or_deletion`` tells a refused replacement or deletion (900, 901).
        """
        return self.disposition.meaning


# --- DSN values ------------------------------------------------------------------------------------------------


def _status(instance: DsnRecipient, attribute: attrs.Attribute[Any], value: str) -> None:
    if not _STATUS_VALUE.fullmatch(value):
        raise ValueError(f"status {value[:80]!r} is not class.subject.detail with class 2, 4 or 5 (RFC 3463)")


@attrs.frozen(kw_only=True)
class DsnRecipient:
    """One per-recipient group of a DSN (RFC 3464 §2.3); addresses and MTAs without their ``rfc822;``/``dns;`` type.

    ``diagnostic_code`` is the text after the type (``550 5.1.1 <x@y>: Recipient address rejected``) and
    ``diagnostic_type`` the type itself (``smtp``, ``X-Postfix``).
    """

    final_recipient: str = attrs.field(validator=_one_line_required)
    action: str = attrs.field(validator=attrs.validators.in_(DSN_ACTIONS))
    status: str = attrs.field(validator=_status)
    original_recipient: str | None = attrs.field(default=None, validator=_one_line)
    diagnostic_code: str | None = attrs.field(default=None, validator=_one_line)
    diagnostic_type: str | None = attrs.field(default=None, validator=_one_line)
    remote_mta: str | None = attrs.field(default=None, validator=_one_line)
    last_attempt_date: dt.datetime | None = attrs.field(default=None, validator=_aware)
    will_retry_until: dt.datetime | None = attrs.field(default=None, validator=_aware)
    final_log_id: str | None = attrs.field(default=None, validator=_one_line)
    extension_fields: tuple[tuple[str, str], ...] = attrs.field(default=(), converter=_as_fields)

    @property
    def status_class(self) -> str:
        """``success`` (2.x.x), ``persistent`` (4.x.x, transient failure) or ``permanent`` (5.x.x, failure)."""
        return {"2": "success", "4": "persistent", "5": "permanent"}[self.status[0]]


def _as_recipients(values: Iterable[DsnRecipient]) -> tuple[DsnRecipient, ...]:
    return tuple(values)


def _recipients(instance: Dsn, attribute: attrs.Attribute[Any], value: tuple[DsnRecipient, ...]) -> None:
    if not value:
        raise ValueError("a DSN has at least one recipient")
    if not all(isinstance(recipient, DsnRecipient) for recipient in value):
        raise TypeError("recipients must be DsnRecipient values")


@attrs.frozen(kw_only=True)
class Dsn:
    """A parsed DSN: the per-message fields of its ``message/delivery-status`` block, its recipients, its text."""

    reporting_mta: str = attrs.field(validator=_one_line_required)
    recipients: tuple[DsnRecipient, ...] = attrs.field(converter=_as_recipients, validator=_recipients)
    arrival_date: dt.datetime | None = attrs.field(default=None, validator=_aware)
    original_envelope_id: str | None = attrs.field(default=None, validator=_one_line)
    received_from_mta: str | None = attrs.field(default=None, validator=_one_line)
    dsn_gateway: str | None = attrs.field(default=None, validator=_one_line)
    human_text: str = ""
    extension_fields: tuple[tuple[str, str], ...] = attrs.field(default=(), converter=_as_fields)

    @property
    def failed(self) -> tuple[DsnRecipient, ...]:
        """The recipients whose Action is ``failed``."""
        return tuple(recipient for recipient in self.recipients if recipient.action == "failed")


# --- reading blocks --------------------------------------------------------------------------------------------


@attrs.frozen
class _Kind:
    """The codes and limits of one kind of block."""

    what: str
    too_large: Code
    control: Code
    bad_line: Code
    too_many_fields: Code
    max_fields: int
    too_many_groups: Code | None = None
    max_groups: int = 0


_MDN_KIND = _Kind(
    "disposition-notification",
    codes.MDN_TOO_LARGE,
    codes.MDN_CONTROL,
    codes.MDN_BAD_LINE,
    codes.MDN_TOO_MANY_FIELDS,
    MAX_MDN_FIELDS,
)
_DSN_KIND = _Kind(
    "delivery-status",
    codes.DSN_TOO_LARGE,
    codes.DSN_CONTROL,
    codes.DSN_BAD_LINE,
    codes.DSN_TOO_MANY_FIELDS,
    _MAX_GROUP_FIELDS,
    codes.DSN_TOO_MANY_RECIPIENTS,
    MAX_DSN_RECIPIENTS + 1,
)

_Field = tuple[str, str, int]  # name as written, unfolded value, line number


def _refuse(kind: _Kind, finding: Finding) -> InvalidInput:
    report = Report(findings=(finding,), subject=f"message/{kind.what}")
    return InvalidInput(f"not a {kind.what} block: {finding.message}", report)


def _decode_block(block: bytes, kind: _Kind) -> str:
    if not isinstance(block, (bytes, bytearray, memoryview)):
        raise TypeError(f"a {kind.what} block is bytes, not {type(block).__name__}")
    data = bytes(block)
    if len(data) > MAX_BLOCK_BYTES:
        raise _refuse(kind, kind.too_large(f"the block has {len(data)} bytes; at most {MAX_BLOCK_BYTES}"))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")  # legacy 8-bit senders; never fails, never yields C1
    text = text.removeprefix("\ufeff")
    if match := _BLOCK_CONTROL.search(text):
        line = text.count("\n", 0, match.start()) + 1
        raise _refuse(
            kind,
            kind.control(f"U+{ord(match.group()):04X} on line {line} has no place in a field", where=f"line {line}"),
        )
    return text


def _read_groups(text: str, kind: _Kind) -> list[list[_Field]]:
    """The blank-line separated groups of fields, unfolded; raises on the first structural fault."""
    groups: list[list[_Field]] = []
    group: list[_Field] = []
    name = ""
    value: list[str] = []
    start = 0
    total = 0

    def close_field() -> None:
        nonlocal name
        if name:
            group.append((name, "".join(value).strip(" \t"), start))
            name = ""

    for number, line in enumerate(_LINE_BREAK.split(text), start=1):
        if not line.strip(" \t"):
            close_field()
            if group:
                groups.append(group)
                group = []
                if kind.too_many_groups is not None and len(groups) > kind.max_groups:
                    raise _refuse(
                        kind,
                        kind.too_many_groups(
                            f"more than {kind.max_groups - 1} recipient groups", where=f"line {number}"
                        ),
                    )
            continue
        if line[0] in " \t":
            if not name:
                raise _refuse(kind, kind.bad_line("a folded line continues no field", where=f"line {number}"))
            value.append(line)
            continue
        close_field()
        match = _FIELD.fullmatch(line)
        if match is None:
            raise _refuse(kind, kind.bad_line(f"{line[:60]!r} is not a 'Name: value' field", where=f"line {number}"))
        total = len(group) + 1 if kind.too_many_groups is not None else total + 1
        if total > kind.max_fields:
            raise _refuse(kind, kind.too_many_fields(f"more than {kind.max_fields} fields", where=f"line {number}"))
        name, value, start = match.group(1), [match.group(2)], number
    close_field()
    if group:
        groups.append(group)
    return groups


def _typed(value: str) -> tuple[str | None, str]:
    """(type, rest) of a ``type; value`` field (``rfc822;a@b``, ``dns; mx``, ``smtp; 550 …``)."""
    match = _TYPED.fullmatch(value)
    if match is None:
        return None, value
    return match.group(1), match.group(2).strip(" \t")


def _address(value: str) -> str:
    address = _typed(value)[1]
    if address.startswith("<") and address.endswith(">"):
        address = address[1:-1].strip(" \t")
    return address


def _decoded_words(value: str) -> str:
    """``value`` with its RFC 2047 encoded words decoded, when that yields a clean single line."""
    if not _ENCODED_WORD.search(value):
        return value
    try:
        decoded = str(make_header(decode_header(value)))
    except (HeaderParseError, LookupError, UnicodeError, ValueError, TypeError):
        return value
    return value if _UNSAFE.search(decoded) else decoded


# --- MDN parsing -----------------------------------------------------------------------------------------------

_MDN_SINGLE = ("reporting-ua", "original-recipient", "final-recipient", "original-message-id", "disposition")
_MDN_NAMES = {
    "reporting-ua": "Reporting-UA",
    "original-recipient": "Original-Recipient",
    "final-recipient": "Final-Recipient",
    "original-message-id": "Original-Message-ID",
    "disposition": "Disposition",
}


def _split_error(text: str) -> tuple[str | None, str | None]:
    """The (code, label) of a CI-SIS error text ``code^label[^…]``; (None, None) when it has no code."""
    parts = text.split("^")
    code = parts[0].strip(" \t")
    if not _ERROR_CODE.fullmatch(code) or (len(parts) == 1 and not code.isdigit()):
        return None, None
    label = parts[1].strip(" \t") if len(parts) > 1 else ""
    return code, label or None


def _parse_disposition(value: str, line: int) -> tuple[Disposition, str | None]:
    """The disposition and, for the older CI-SIS form, the error text it carries."""

    def bad(message: str) -> InvalidInput:
        return _refuse(_MDN_KIND, codes.MDN_BAD_DISPOSITION(message, where=f"line {line}"))

    match = _DISPOSITION.fullmatch(value)
    if match is None:
        raise bad(f"{value[:80]!r} is not 'action-mode/sending-mode; disposition-type[/modifier]'")
    action, sending, kind, modifiers = match.groups()
    if action.lower() not in _ACTION_BY_KEY:
        raise bad(f"action mode {action!r} is neither automatic-action nor manual-action")
    if sending.lower() not in _SENDING_BY_KEY:
        raise bad(f"sending mode {sending!r} is neither MDN-sent-automatically nor MDN-sent-manually")
    if kind.lower() not in DISPOSITION_TYPES:
        raise bad(f"disposition type {kind!r} is not displayed, deleted, dispatched or processed")
    legacy_error: str | None = None
    modifier: str | None = None
    if modifiers is not None:
        if legacy := _LEGACY_ERROR.fullmatch(modifiers.strip(" \t")):
            modifier, legacy_error = "error", legacy.group(1).strip(" \t")
        else:
            parts = [part.strip(" \t").lower() for part in modifiers.split(",")]
            if not all(_ATOM.fullmatch(part) for part in parts):
                raise bad(f"disposition modifier {modifiers[:80]!r} is not 'error' or a list of atoms")
            modifier = ",".join(parts)
    disposition = Disposition(
        action_mode=_ACTION_BY_KEY[action.lower()],
        sending_mode=_SENDING_BY_KEY[sending.lower()],
        type=kind.lower(),
        modifier=modifier,
    )
    return disposition, legacy_error


def parse_disposition_notification(block: bytes, *, human_text: str = "") -> Mdn:
    """Read the content of a ``message/disposition-notification`` part (RFC 8098 §3).

    Folded lines, CRLF or LF, ``rfc822;`` address types (removed from the values) and both CI-SIS error
    encodings are accepted. ``human_text`` is the text of the report's first part, kept on the result.
    Raises :class:`~mssante.errors.InvalidInput` (codes ``MSS-MDN-*``) on a block that is too large, holds
    more than :data:`MAX_MDN_FIELDS` fields, is not made of fields, or lacks a valid Disposition or
    Final-Recipient.
    """
    text = _decode_block(block, _MDN_KIND)
    fields = [field for group in _read_groups(text, _MDN_KIND) for field in group]
    single: dict[str, tuple[str, int]] = {}
    errors: list[str] = []
    extensions: list[tuple[str, str]] = []
    for name, value, line in fields:
        key = name.lower()
        if key in _MDN_SINGLE:
            if key in single:
                raise _refuse(
                    _MDN_KIND, codes.MDN_REPEATED(f"{_MDN_NAMES[key]} appears more than once", where=f"line {line}")
                )
            single[key] = (value, line)
        elif key == "error" and not errors:
            errors.append(value)
        else:
            extensions.append((name, value))
    for required in ("disposition", "final-recipient"):
        if required not in single:
            raise _refuse(_MDN_KIND, codes.MDN_MISSING(f"the block has no {_MDN_NAMES[required]} field"))
    final = _address(single["final-recipient"][0])
    if not final:
        line = single["final-recipient"][1]
        raise _refuse(_MDN_KIND, codes.MDN_EMPTY("Final-Recipient has no address", where=f"line {line}"))
    disposition, legacy_error = _parse_disposition(*single["disposition"])
    error = errors[0] if errors else legacy_error
    if error is not None and disposition.is_error:
        code, label = _split_error(error)
        disposition = attrs.evolve(disposition, error_code=code, error_label=label)
    original = _address(single["original-recipient"][0]) if "original-recipient" in single else None
    return Mdn(
        final_recipient=final,
        disposition=disposition,
        reporting_ua=(single["reporting-ua"][0] or None) if "reporting-ua" in single else None,
        original_recipient=original or None,
        original_message_id=(single["original-message-id"][0] or None) if "original-message-id" in single else None,
        error=error or None,
        human_text=human_text,
        extension_fields=extensions,
    )


# --- DSN parsing -----------------------------------------------------------------------------------------------

_MESSAGE_FIELDS = ("original-envelope-id", "reporting-mta", "dsn-gateway", "received-from-mta", "arrival-date")
_RECIPIENT_FIELDS = (
    "original-recipient",
    "final-recipient",
    "action",
    "status",
    "remote-mta",
    "diagnostic-code",
    "last-attempt-date",
    "final-log-id",
    "will-retry-until",
)


class _Group:
    """The known fields of a DSN group, the others in order, and the findings on them."""

    def __init__(self, fields: list[_Field], known: tuple[str, ...], where: str) -> None:
        self.values: dict[str, str] = {}
        self.lines: dict[str, int] = {}
        self.extensions: list[tuple[str, str]] = []
        self.findings: list[Finding] = []
        self.where = where
        for name, value, line in fields:
            key = name.lower()
            if key not in known:
                self.extensions.append((name, value))
            elif key in self.values:
                self.findings.append(
                    codes.DSN_REPEATED(f"{name} appears more than once", where=f"{where}, line {line}")
                )
            else:
                self.values[key], self.lines[key] = value, line

    def at(self, name: str) -> str:
        return f"{self.where}, line {self.lines[name]}" if name in self.lines else self.where

    def text(self, name: str) -> str | None:
        value = self.values.get(name)
        return value or None

    def typed(self, name: str) -> tuple[str | None, str | None]:
        if (value := self.values.get(name)) is None:
            return None, None
        kind, rest = _typed(value)
        return kind, rest or None

    def date(self, name: str) -> dt.datetime | None:
        if not (value := self.values.get(name)):
            return None
        try:
            parsed = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError, OverflowError):
            parsed = None
        if parsed is None:
            self.findings.append(codes.DSN_BAD_DATE(f"{value[:60]!r} is not a date", where=self.at(name)))
            return None
        return parsed if parsed.utcoffset() is not None else parsed.replace(tzinfo=dt.timezone.utc)


def _recipient(group: _Group) -> DsnRecipient | None:
    for required, title in (("final-recipient", "Final-Recipient"), ("action", "Action"), ("status", "Status")):
        if required not in group.values:
            group.findings.append(codes.DSN_MISSING(f"the recipient group has no {title} field", where=group.where))
        elif not group.values[required]:
            group.findings.append(codes.DSN_EMPTY(f"{title} is empty", where=group.at(required)))
    final = _address(group.values.get("final-recipient", ""))
    if "final-recipient" in group.values and group.values["final-recipient"] and not final:
        group.findings.append(codes.DSN_EMPTY("Final-Recipient has no address", where=group.at("final-recipient")))
    action = group.values.get("action", "").lower()
    if action and action not in DSN_ACTIONS:
        group.findings.append(codes.DSN_BAD_ACTION(f"Action {action[:40]!r} is not known", where=group.at("action")))
    status_text = group.values.get("status", "")
    status = _STATUS.fullmatch(status_text)
    if status_text and status is None:
        group.findings.append(
            codes.DSN_BAD_STATUS(f"Status {status_text[:40]!r} is not like 5.1.1", where=group.at("status"))
        )
    diagnostic_type, diagnostic = group.typed("diagnostic-code")
    original = _address(group.values["original-recipient"]) if "original-recipient" in group.values else ""
    last_attempt = group.date("last-attempt-date")
    retry_until = group.date("will-retry-until")
    if group.findings or status is None or not final or action not in DSN_ACTIONS:
        return None
    return DsnRecipient(
        final_recipient=final,
        action=action,
        status=".".join(status.groups()),
        original_recipient=original or None,
        diagnostic_code=diagnostic,
        diagnostic_type=diagnostic_type if diagnostic else None,
        remote_mta=group.typed("remote-mta")[1],
        last_attempt_date=last_attempt,
        will_retry_until=retry_until,
        final_log_id=group.text("final-log-id"),
        extension_fields=group.extensions,
    )


def parse_delivery_status(block: bytes, *, human_text: str = "") -> Dsn:
    """Read the content of a ``message/delivery-status`` part (RFC 3464 §2).

    The block is a group of per-message fields, a blank line, then one group per recipient; folded lines,
    CRLF or LF are accepted. ``dns;``/``rfc822;`` types are removed from MTA names and addresses; fields the
    RFC does not name (``X-Postfix-Sender``, ``X-Display-Name``, …) are kept in ``extension_fields``.
    Raises :class:`~mssante.errors.InvalidInput` (codes ``MSS-DSN-*``, every finding in its report) on a block
    that is too large, has more than :data:`MAX_DSN_RECIPIENTS` recipients, or misses or garbles a required field.
    """
    text = _decode_block(block, _DSN_KIND)
    groups = _read_groups(text, _DSN_KIND)
    if not groups:
        raise _refuse(_DSN_KIND, codes.DSN_NO_REPORTING_MTA("the block is empty"))
    message = _Group(groups[0], _MESSAGE_FIELDS, "per-message fields")
    findings = message.findings
    reporting_mta = message.typed("reporting-mta")[1]
    if reporting_mta is None:
        findings.append(codes.DSN_NO_REPORTING_MTA(where=message.where))
    arrival = message.date("arrival-date")
    if len(groups) == 1:
        findings.append(codes.DSN_NO_RECIPIENT())
    recipients: list[DsnRecipient] = []
    for number, fields in enumerate(groups[1:], start=1):
        group = _Group(fields, _RECIPIENT_FIELDS, f"recipient {number}")
        if (recipient := _recipient(group)) is not None:
            recipients.append(recipient)
        findings.extend(group.findings)
    report = Report(findings=findings, subject="message/delivery-status")
    report.raise_for_errors(InvalidInput, "not a delivery-status block")
    assert reporting_mta is not None  # the report has an error otherwise
    return Dsn(
        reporting_mta=reporting_mta,
        recipients=tuple(recipients),
        arrival_date=arrival,
        original_envelope_id=message.text("original-envelope-id"),
        received_from_mta=message.typed("received-from-mta")[1],
        dsn_gateway=message.typed("dsn-gateway")[1],
        human_text=human_text,
        extension_fields=message.extensions,
    )


# --- reading reports out of parsed mail ------------------------------------------------------------------------


def _header_block(part: Message) -> str:
    lines = [f"{name}: {value}" for name, value in part.raw_items()]
    text = "\r\n".join(lines)
    body = part.get_payload()
    if isinstance(body, str) and body.strip():
        text += "\r\n\r\n" + body
    return text


def _is_mime_field(name: str) -> bool:
    key = name.lower()
    return key.startswith("content-") or key == "mime-version"


def report_block(part: Message) -> bytes:
    """The content of a ``message/disposition-notification`` or ``message/delivery-status`` part, as bytes.

    The :mod:`email` parser splits these parts into header-only sub-messages; this gives back the block
    as it was sent (field names, values and folding kept), ready for the ``parse_*`` functions.
    """
    payload = part.get_payload()
    if isinstance(payload, list):
        text = "\r\n\r\n".join(_header_block(sub) for sub in payload if isinstance(sub, Message))
        own = [(name, value) for name, value in part.raw_items() if not _is_mime_field(name)]
        if own and not text.strip():
            # The fields follow Content-Type with no blank line between (as the volet's own example writes them):
            # the parser took them for the part's header; they are the block.
            text = "\r\n".join(f"{name}: {value}" for name, value in own)
        return text.encode("utf-8", "surrogateescape")
    data = part.get_payload(decode=True)
    return data if isinstance(data, bytes) else b""


def _text_of(part: Message) -> str:
    data = part.get_payload(decode=True)
    if not isinstance(data, bytes):
        return ""
    charset = part.get_content_charset() or "utf-8"
    try:
        return data.decode(charset, errors="replace")
    except LookupError:
        return data.decode("utf-8", errors="replace")


def _walk(message: Message, max_depth: int = MAX_DEPTH) -> Iterator[Message]:
    """The parts of ``message``, depth first: at most :data:`~mssante.message._mime.MAX_PARTS` of them, none deeper
    than ``max_depth`` (the top level is 0), the bounds within which :func:`~mssante.message.parse` reads."""
    stack: list[tuple[Message, int]] = [(message, 0)]
    seen = 0
    while stack and seen < MAX_PARTS:
        part, depth = stack.pop()
        seen += 1
        yield part
        payload = part.get_payload()
        if isinstance(payload, list) and depth < max_depth and part.get_content_maintype() == "multipart":
            stack.extend((child, depth + 1) for child in reversed(payload) if isinstance(child, Message))


def parse_report(message: Message) -> Mdn | Dsn | None:
    """The MDN or DSN carried by ``message`` (its first ``multipart/report``), or None when it carries neither.

    The human text is the report's first ``text/plain`` part. Raises :class:`~mssante.errors.InvalidInput`
    when the machine-readable block is malformed, or missing from a report whose ``report-type`` is
    ``disposition-notification`` (``MSS-MDN-009``) or ``delivery-status`` (``MSS-DSN-014``).
    """
    for part in _walk(message, MAX_DEPTH - 1):  # the report's own parts are one level deeper
        if part.get_content_type() != "multipart/report":
            continue
        children = [child for child in part.get_payload() if isinstance(child, Message)]
        human = next((_text_of(child) for child in children if child.get_content_type() == "text/plain"), "")
        for child in children:
            kind = child.get_content_type()
            if kind in MDN_TYPES:
                return parse_disposition_notification(report_block(child), human_text=human)
            if kind in DSN_TYPES:
                return parse_delivery_status(report_block(child), human_text=human)
        declared = report_type(part)
        if declared in MDN_REPORT_TYPES:
            raise _refuse(_MDN_KIND, MDN_NO_BLOCK(f"the report (report-type={declared}) has no block"))
        if declared in DSN_REPORT_TYPES:
            raise _refuse(_DSN_KIND, DSN_NO_BLOCK(f"the report (report-type={declared}) has no block"))
    return None


# --- building --------------------------------------------------------------------------------------------------


def _original_header(original: Message, name: str, *, decode: bool = False) -> str | None:
    """A header of the original, unfolded, or None; ValueError when it would inject lines.

    ``decode`` decodes the RFC 2047 words a compat32 message leaves encoded (only for unstructured text:
    a decoded display name could change how an address list reads).
    """
    value = original.get(name)
    if value is None:
        return None
    text = str(value).encode("utf-8", "surrogateescape").decode("utf-8", errors="replace")
    text = _UNFOLD.sub("", text)
    if decode:
        text = _decoded_words(text)
    return _check_line(f"the original's {name} header", text).strip()


def _mailbox(what: str, value: str) -> tuple[str, str]:
    """(header value, bare address) of a mailbox given as ``a@b`` or ``Name <a@b>``."""
    _check_line(what, value)
    address = parseaddr(value)[1]
    if "@" not in address or any(char.isspace() for char in address):
        raise ValueError(f"{what} {value[:80]!r} is not an e-mail address")
    return value.strip(), address


def _bare_address(what: str, value: str) -> str:
    _check_line(what, value)
    address = value.strip()
    if not address or any(char.isspace() or char in "<>;," for char in address) or "@" not in address:
        raise ValueError(f"{what} {value[:80]!r} is not a bare e-mail address")
    return address


def _checked_time(at: dt.datetime) -> dt.datetime:
    if at.utcoffset() is None:
        raise ValueError("at must be a timezone-aware datetime")
    return at


def _message_id(message_id: str | None, sender_address: str) -> str:
    if message_id is None:
        domain = sender_address.rpartition("@")[2]
        return f"<{secrets.token_hex(16)}@{domain}>"
    _check_line("message_id", message_id)
    if not _MESSAGE_ID.fullmatch(message_id.strip()):
        raise ValueError(f"message_id {message_id[:80]!r} is not <left@right>")
    return message_id.strip()


def _copy(message: Message) -> EmailMessage:
    """An independent copy of ``message``, serialised and read back (bodies and attachments kept byte for byte)."""
    buffer = io.BytesIO()
    try:
        BytesGenerator(buffer, mangle_from_=False, policy=message.policy).flatten(message)
    except (MessageError, LookupError, UnicodeError, ValueError, TypeError) as error:
        raise ValueError(f"the original message cannot be serialised: {error}") from error
    copy = BytesParser(policy=email_policy.default).parsebytes(buffer.getvalue())
    assert isinstance(copy, EmailMessage)  # the default policy makes EmailMessage objects
    return copy


def _thread(target: EmailMessage, original: Message) -> str | None:
    """Set In-Reply-To and References from the original; give back its Message-ID."""
    original_id = _original_header(original, "Message-ID")
    if original_id and _MESSAGE_ID.fullmatch(original_id):
        # Written raw: the default policy would RFC 2047-encode a long identifier, which breaks threading.
        target.set_raw("In-Reply-To", _raw_field("In-Reply-To", original_id))
        earlier = (_original_header(original, "References") or "").split()
        references = [*(ref for ref in earlier if _MESSAGE_ID.fullmatch(ref)), original_id][-_MAX_REFERENCES:]
        target.set_raw("References", _raw_field("References", " ".join(references)))
    return original_id or None


def _envelope(
    *, target: EmailMessage, sender: str, to: str, subject: str, at: dt.datetime, message_id: str | None
) -> None:
    header, address = _mailbox("sender", sender)
    target["From"] = header
    target["To"] = _check_line("to", to)
    target["Subject"] = _check_line("subject", subject)
    target["Date"] = format_datetime(_checked_time(at))
    target.set_raw("Message-ID", _raw_field("Message-ID", _message_id(message_id, address)))
    target["MIME-Version"] = "1.0"
    target["Auto-Submitted"] = "auto-replied"


def _ko_subject(code: str | None, subject: str) -> str:
    prefix = f"{KO_SUBJECT_PREFIX}[{code}]" if code else KO_SUBJECT_PREFIX
    return f"{prefix} {subject}".rstrip()


def _fold(head: int, value: str) -> str:
    """``value`` folded before spaces so that no line is longer than 78 characters when it can be.

    Each fold goes before a space that follows a non-space: unfolding (removing the line breaks) gives
    ``value`` back, and no continuation line is blank.
    """
    lines: list[str] = []
    begin, room, last = 0, _WIDTH - head, 0  # start of the current line, its room, the last cut seen
    for match in _FOLD_AT.finditer(value):
        cut = match.start()
        if cut - begin > room:
            end = last if last > begin else cut  # the last cut that fits, else this one (a long word)
            lines.append(value[begin:end])
            begin, room = end, _WIDTH
            if cut - begin > room:
                lines.append(value[begin:cut])
                begin = cut
        last = cut
    if len(value) - begin > room and last > begin:
        lines.append(value[begin:last])
        begin = last
    lines.append(value[begin:])
    return "\n".join(lines)


class _RawField(str):
    """A field written exactly as given: UTF-8 bytes (as surrogate escapes), folded by us.

    Having a ``name`` and a ``fold`` makes it a header object for :class:`email.policy.EmailPolicy`,
    which then writes it as it is instead of refolding or RFC 2047-encoding it.
    """

    name: str

    def fold(self, *, policy: Policy) -> str:
        return f"{self.name}: " + policy.linesep.join(self.split("\n")) + policy.linesep


def _raw_field(name: str, value: str, *, fold: bool = True) -> _RawField:
    written = _fold(len(name) + 2, value) if fold else value
    field = _RawField(written.encode("utf-8").decode("ascii", "surrogateescape"))
    field.name = name
    return field


def _notification_part(fields: list[tuple[str, str]]) -> MIMEPart:
    block = Message(policy=email_policy.default)
    for name, value in fields:
        # The Disposition on one line, as the volet writes it (a receiver may not unfold it); within RFC 5322's 998.
        one_line = name == "Disposition" and len(name) + 2 + len(value.encode()) <= _MAX_LINE
        block.set_raw(name, _raw_field(name, value, fold=not one_line))
    part = MIMEPart(policy=email_policy.default)
    part["Content-Type"] = "message/disposition-notification"
    ascii_only = all(value.isascii() for _, value in fields)
    part["Content-Transfer-Encoding"] = "7bit" if ascii_only else "8bit"
    part.set_payload([block])
    return part


def _mdn_text(disposition: Disposition, subject: str, final: str, *, include_original: bool) -> str:
    quoted = f"« {subject} »" if subject else "ci-dessous"
    if disposition.is_error:
        if disposition.error_code:
            label = disposition.error_label or INTEGRATION_ERRORS.get(disposition.error_code, "")
            text = (
                f"Le message {quoted} n’a pas pu être intégré automatiquement.\n\n"
                f"- Erreur détectée : {label}\n- Code d’erreur : {disposition.error_code}\n"
            )
        else:
            text = f"Le message {quoted} n’a pas pu être traité par {final}.\n"
    else:
        done = {
            "processed": f"a été traité par {final}",
            "displayed": f"a été affiché pour {final}",
            "dispatched": f"a été transmis par {final}, sans avoir nécessairement été affiché",
            "deleted": f"a été supprimé par {final}",
        }[disposition.type]
        text = f"Le message {quoted} {done}.\n"
    if include_original:
        text += "\nLe courriel d’origine est joint à cet accusé, avec ses pièces jointes.\n"
    return text


def report_type(message: Message) -> str:
    """The ``report-type`` parameter of a ``multipart/report``, lower-case; empty when it has none."""
    try:
        value = message.get_param("report-type")
    except (HeaderParseError, LookupError, UnicodeError, ValueError, TypeError, IndexError):
        return ""
    if isinstance(value, tuple):
        value = collapse_rfc2231_value(value)
    return value.strip().lower() if isinstance(value, str) else ""


def _is_mdn(message: Message) -> bool:
    return message.get_content_type() == "multipart/report" and report_type(message) in MDN_REPORT_TYPES


class MdnNeedsConfirmation(InvalidInput):
    """An MDN that may not be sent automatically: the user must confirm it first (RFC 8098 §2.1).

    Raised by :func:`build_mdn` for an automatic MDN (``MDN-sent-automatically``) when the original's
    Disposition-Notification-To differs from its Return-Path, when it has no Return-Path, or when it names
    several addresses (:func:`mdn_needs_confirmation`). Its report holds ``MSS-MDN-010``. Once the user has
    confirmed, call again with ``confirmed=True`` (or send the MDN as ``MDN-sent-manually``, which says the user
    gave permission); when nobody can be asked, send no MDN.
    """


def _is_document(part: Message) -> bool:
    """The original's ``IHE_XDM.zip`` or a PDF: what the volet asks the MDN to carry again."""
    name = (_safe_filename(part.get_filename()) or "").casefold()
    kind = part.get_content_type()
    return name == "ihe_xdm.zip" or kind == "application/pdf" or name.endswith(".pdf")


def _attachment_part(part: Message) -> MIMEPart:
    """A copy of an attachment as a top-level part: base64 for binary content, its file name kept."""
    holder = EmailMessage(policy=email_policy.default)
    _attach(holder, part)
    (copy,) = holder.iter_attachments()
    assert isinstance(copy, MIMEPart)  # the default policy makes MIMEPart objects
    return copy


def build_mdn(
    *,
    original: Message,
    reporting_ua: str,
    final_recipient: str,
    disposition: Disposition,
    at: dt.datetime,
    sender: str,
    human_text: str | None = None,
    include_original: bool = True,
    message_id: str | None = None,
    form: str = "volet",
    attach_documents: bool = True,
    confirmed: bool = False,
) -> EmailMessage:
    """The MDN answering ``original``, in the CI-SIS volet's form (RFC 8098, RFC 6522).

    ``multipart/report; report-type=disposition-notification`` with the human text (French by default, with the
    error code and label on error), the ``message/disposition-notification`` block (Reporting-UA,
    Original-Recipient, Final-Recipient, Original-Message-ID, Disposition), the original whole as
    ``message/rfc822`` (``include_original``), then, as the volet's example shows, the original's ``IHE_XDM.zip``
    and PDF again as top-level parts (``attach_documents``). It goes to the original's
    ``Disposition-Notification-To``; its subject is the original's, prefixed with
    ``[KO Intégration système !][<code>]`` on error. Original-Recipient is the original's ``Original-Recipient``
    header, else ``final_recipient`` (the volet requires the field).

    An error is written as ``form`` says (:data:`MDN_FORMS`): ``volet`` (the default) writes it inside the
    Disposition, ``…; processed/Error: 902^Identifiant patient inconnu``, the form ANS's receivers parse (not RFC
    8098 syntax); ``rfc8098`` writes ``…; processed/error`` and a separate ``Error: 902^…`` field.

    An automatic MDN (``MDN-sent-automatically``) is refused with :class:`MdnNeedsConfirmation` when the original's
    Disposition-Notification-To differs from its Return-Path (or it has none, or several addresses): RFC 8098
    §2.1 and the volet ask the user to confirm first. ``confirmed=True`` says the user did.

    The block is written as UTF-8 (``8bit`` when not ASCII), exactly as given: serialise the result with
    ``as_bytes()``. Raises ValueError when the original asks for no MDN (:func:`build_ko_mail` writes the volet's
    mail then) or is itself an MDN, when the error code is in none of the volet's tables and has no label, when
    ``at`` is naive, or when any value bound for a header holds a line break or control character.
    """
    _checked_time(at)
    if form not in MDN_FORMS:
        raise ValueError(f"form is one of {', '.join(MDN_FORMS)}, not {form!r}")
    if _is_mdn(original):
        raise ValueError("an MDN is never sent in answer to an MDN (RFC 8098 §3)")
    notify_to = _original_header(original, "Disposition-Notification-To")
    if not notify_to:
        raise ValueError(
            "the original asks for no MDN: it has no Disposition-Notification-To header (the volet's KO mail, "
            "build_ko_mail, answers it instead)"
        )
    if not isinstance(disposition, Disposition):
        raise TypeError("disposition must be a Disposition")
    if disposition.sending_mode == "MDN-sent-automatically" and not confirmed and mdn_needs_confirmation(original):
        return_path = _original_header(original, "Return-Path") or "none"
        finding = codes.MDN_NEEDS_CONFIRMATION(
            f"Disposition-Notification-To is {notify_to[:120]!r}, Return-Path {return_path[:120]!r}: the user "
            "confirms this MDN first (confirmed=True), or none is sent",
            where="Disposition-Notification-To",
        )
        raise MdnNeedsConfirmation(
            f"this MDN needs the user's confirmation: {finding.message}",
            Report(findings=(finding,), subject="message/disposition-notification"),
        )
    label = disposition.error_label
    if disposition.error_code and label is None:
        label = _known_label(disposition.error_code)
        if label is None:
            raise ValueError(
                f"error code {disposition.error_code[:40]!r} is not in the volet's tables (900 to 906, or an HL7 "
                "error): give its label"
            )
    agent = _check_line("reporting_ua", reporting_ua).strip()
    if not agent:
        raise ValueError("reporting_ua is empty")
    final = _bare_address("final_recipient", final_recipient)
    original_recipient_header = _original_header(original, "Original-Recipient")
    original_recipient = _address(original_recipient_header) if original_recipient_header else final
    subject = _original_header(original, "Subject", decode=True) or ""

    mdn = EmailMessage(policy=email_policy.default)
    subject_out = _ko_subject(disposition.error_code, subject) if disposition.is_error else subject
    _envelope(target=mdn, sender=sender, to=notify_to, subject=subject_out, at=at, message_id=message_id)
    original_id = _thread(mdn, original)

    fields = [
        ("Reporting-UA", agent),
        ("Original-Recipient", f"rfc822;{original_recipient}"),
        ("Final-Recipient", f"rfc822;{final}"),
    ]
    if original_id:
        fields.append(("Original-Message-ID", original_id))
    written = attrs.evolve(disposition, error_label=label) if label != disposition.error_label else disposition
    fields.append(("Disposition", written.field_value(form)))
    if form == "rfc8098" and disposition.error_code:
        fields.append(("Error", f"{disposition.error_code}^{label}" if label else disposition.error_code))

    text = (
        human_text if human_text is not None else _mdn_text(written, subject, final, include_original=include_original)
    )
    human = MIMEPart(policy=email_policy.default)
    human.set_content(text, charset="utf-8")
    parts: list[Message | str] = [human, _notification_part(fields)]
    if include_original:
        enclosed = MIMEPart(policy=email_policy.default)
        enclosed.set_content(_copy(original))
        parts.append(enclosed)
    if attach_documents:
        parts += [_attachment_part(part) for part in _attachments(original) if _is_document(part)]
    mdn["Content-Type"] = "multipart/report; report-type=disposition-notification"
    mdn.set_payload(parts)
    return mdn


def _dsn_fields(dsn: Dsn) -> list[list[tuple[str, str]]]:
    """The groups of the ``message/delivery-status`` block of ``dsn``: per-message, then one per recipient."""

    def date(value: dt.datetime) -> str:
        return format_datetime(value)

    head: list[tuple[str, str]] = []
    if dsn.original_envelope_id:
        head.append(("Original-Envelope-Id", dsn.original_envelope_id))
    head.append(("Reporting-MTA", f"dns;{dsn.reporting_mta}"))
    if dsn.dsn_gateway:
        head.append(("DSN-Gateway", f"dns;{dsn.dsn_gateway}"))
    if dsn.received_from_mta:
        head.append(("Received-From-MTA", f"dns;{dsn.received_from_mta}"))
    if dsn.arrival_date is not None:
        head.append(("Arrival-Date", date(dsn.arrival_date)))
    head.extend(dsn.extension_fields)
    groups = [head]
    for recipient in dsn.recipients:
        group: list[tuple[str, str]] = []
        if recipient.original_recipient:
            group.append(("Original-Recipient", f"rfc822;{recipient.original_recipient}"))
        group.append(("Final-Recipient", f"rfc822;{recipient.final_recipient}"))
        group.append(("Action", recipient.action))
        group.append(("Status", recipient.status))
        if recipient.remote_mta:
            group.append(("Remote-MTA", f"dns;{recipient.remote_mta}"))
        if recipient.diagnostic_code:
            group.append(("Diagnostic-Code", f"{recipient.diagnostic_type or 'smtp'};{recipient.diagnostic_code}"))
        if recipient.last_attempt_date is not None:
            group.append(("Last-Attempt-Date", date(recipient.last_attempt_date)))
        if recipient.final_log_id:
            group.append(("Final-Log-ID", recipient.final_log_id))
        if recipient.will_retry_until is not None:
            group.append(("Will-Retry-Until", date(recipient.will_retry_until)))
        group.extend(recipient.extension_fields)
        groups.append(group)
    return groups


def _delivery_status_part(groups: list[list[tuple[str, str]]]) -> MIMEPart:
    blocks: list[Message | str] = []
    for fields in groups:
        block = Message(policy=email_policy.default)
        for name, value in fields:
            block.set_raw(name, _raw_field(name, value))
        blocks.append(block)
    part = MIMEPart(policy=email_policy.default)
    part["Content-Type"] = "message/delivery-status"
    ascii_only = all(value.isascii() for fields in groups for _, value in fields)
    part["Content-Transfer-Encoding"] = "7bit" if ascii_only else "8bit"
    part.set_payload(blocks)
    return part


def _dsn_outcome(dsn: Dsn) -> str:
    actions = {recipient.action for recipient in dsn.recipients}
    if "failed" in actions:
        return "Échec de remise"
    if "delayed" in actions:
        return "Remise différée"
    return "Remise effectuée"


def _dsn_text(dsn: Dsn, subject: str) -> str:
    quoted = f"« {subject} »" if subject else "ci-dessous"
    done = {
        "failed": "n’a pas pu être remis",
        "delayed": "n’a pas encore pu être remis ; de nouvelles tentatives suivront",
        "delivered": "a été remis",
        "relayed": "a été relayé vers un système qui ne renvoie pas d’accusé",
        "expanded": "a été remis et redistribué",
    }
    lines = [f"Rapport de remise du message {quoted}, établi par {dsn.reporting_mta} :", ""]
    for recipient in dsn.recipients:
        line = f"- {recipient.final_recipient} : {done[recipient.action]} ({recipient.status})"
        if recipient.diagnostic_code:
            line += f" ; {recipient.diagnostic_code}"
        lines.append(line)
    return "\n".join(lines) + "\n"


def _header_text(original: Message) -> str:
    """The header section of ``original`` as it would be sent, without the body."""
    policy = original.policy.clone(linesep="\n")
    try:  # the headers only: a body that cannot be written again (8-bit text read headers-only) has no say here
        head = b"".join(policy.fold_binary(name, value) for name, value in original.raw_items())
    except (MessageError, LookupError, UnicodeError, ValueError, TypeError) as error:
        raise ValueError(f"the original message cannot be serialised: {error}") from error
    return head.decode("utf-8", errors="replace")


def build_dsn(
    *,
    dsn: Dsn,
    sender: str,
    at: dt.datetime,
    original: Message | None = None,
    to: str | None = None,
    subject: str | None = None,
    human_text: str | None = None,
    message_id: str | None = None,
) -> EmailMessage:
    """The DSN ``dsn`` as a mail (RFC 3464, RFC 6522): the counterpart of :func:`parse_delivery_status`.

    ``multipart/report; report-type=delivery-status`` with the human text (``human_text``, else the DSN's own,
    else a French summary per recipient), the ``message/delivery-status`` block written from ``dsn``
    (``dns;`` and ``rfc822;`` types added, ``smtp;`` for a diagnostic without type) and, when ``original`` is
    given, its header section as ``text/rfc822-headers`` (what ``RET=HDRS`` asks for). It goes to ``to``,
    else the original's Return-Path, else its From; the subject names the outcome and the original's subject.

    Raises ValueError when there is nobody to write to, when ``at`` is naive, or when a value bound for a
    header holds a line break or control character.
    """
    if not isinstance(dsn, Dsn):
        raise TypeError("dsn must be a Dsn")
    _checked_time(at)
    recipient = to
    if recipient is None and original is not None:
        return_path = _original_header(original, "Return-Path")
        returned = _address(return_path) if return_path else ""
        recipient = returned or _original_header(original, "From")
    if not recipient:
        raise ValueError("there is nobody to send the DSN to: give `to` or an original with Return-Path or From")
    original_subject = (_original_header(original, "Subject", decode=True) or "") if original is not None else ""
    if subject is None:
        subject = f"{_dsn_outcome(dsn)} : {original_subject}" if original_subject else _dsn_outcome(dsn)
    groups = _dsn_fields(dsn)

    report = EmailMessage(policy=email_policy.default)
    _envelope(target=report, sender=sender, to=recipient, subject=subject, at=at, message_id=message_id)
    text = human_text if human_text is not None else (dsn.human_text or _dsn_text(dsn, original_subject))
    human = MIMEPart(policy=email_policy.default)
    human.set_content(text, charset="utf-8")
    parts: list[Message | str] = [human, _delivery_status_part(groups)]
    if original is not None:
        headers = MIMEPart(policy=email_policy.default)
        headers.set_content(_header_text(original), subtype="rfc822-headers", charset="utf-8")
        parts.append(headers)
    report["Content-Type"] = "multipart/report; report-type=delivery-status"
    report.set_payload(parts)
    return report


def mdn_needs_confirmation(original: Message) -> bool:
    """True when an MDN may not be sent automatically: Disposition-Notification-To differs from Return-Path.

    RFC 8098 §2.1 asks for the user's confirmation then (loop prevention); a missing Return-Path counts
    as different.
    """
    notify_to = original.get_all("Disposition-Notification-To") or []
    return_path = original.get_all("Return-Path") or []
    notify = {address.lower() for _, address in getaddresses([str(value) for value in notify_to]) if address}
    returns = {address.lower() for _, address in getaddresses([str(value) for value in return_path]) if address}
    return not notify or not returns or not notify <= returns


def _safe_filename(name: str | None) -> str | None:
    if name is None:
        return None
    cleaned = _UNSAFE.sub("_", name).strip()
    return cleaned or None


def _attachments(message: Message) -> list[Message]:
    """The attachments of ``message`` in order: parts with a filename or ``Content-Disposition: attachment``."""
    found: list[Message] = []
    for part in _walk(message):
        if part is message or part.get_content_maintype() == "multipart":
            continue
        if part.get_content_disposition() == "attachment" or part.get_filename():
            found.append(part)
    return found


def _attach(target: EmailMessage, part: Message) -> None:
    filename = _safe_filename(part.get_filename())
    if part.get_content_type() == "message/rfc822" and isinstance(part.get_payload(), list):
        enclosed = part.get_payload(0)
        if isinstance(enclosed, Message):
            target.add_attachment(_copy(enclosed), filename=filename)
            return
    data = part.get_payload(decode=True)
    if not isinstance(data, bytes):
        data = b""
    maintype, subtype = part.get_content_type().split("/", 1)
    if maintype == "message":
        maintype, subtype = "application", "octet-stream"
    target.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)


_KO_SUBJECT = re.compile(
    r"\s*\[\s*(?:KO\s+int[ée]gration\s+syst[èe]me|erreur\s+d[’']int[ée]gration)\s*!?\s*\]\s*\[\s*([^\]\s]{1,32})\s*\]",
    re.IGNORECASE,
)


def ko_code(subject: str) -> str | None:
    """The error code a KO subject starts with, else None.

    Both prefixes of the volet are read: ``[KO Intégration système !][902] …`` (its text, what
    :func:`build_ko_mail` and :func:`build_mdn` write) and ``[Erreur d’intégration !][902] …`` (its example of
    the plain mail). :meth:`IntegrationError.of` gives the meaning of the code.
    """
    match = _KO_SUBJECT.match(subject)
    return match.group(1) if match else None


def _ko_text(code: str, label: str, *, attachments: bool, embedded: bool) -> str:
    text = (
        "Bonjour,\n\n"
        "Le document envoyé n’a pas pu être intégré correctement dans le système.\n"
        "Voici les détails de l’erreur rencontrée :\n\n"
        f"- Erreur détectée : {label}\n"
        f"- Code d’erreur : {code}\n\n"
    )
    if embedded and attachments:
        text += (
            "Vous trouverez en pièce jointe :\n"
            "1. Le message original contenant le document soumis.\n"
            "2. Les fichiers liés (archive ZIP et PDF associés au message original).\n\n"
        )
    elif embedded:
        text += "Vous trouverez en pièce jointe le courriel d’origine, avec son contenu.\n\n"
    elif attachments:
        text += "Vous trouverez en pièces jointes les fichiers du courriel d’origine.\n\n"
    return text + (
        "Veuillez vérifier les informations fournies et soumettre à nouveau les documents après correction.\n"
        "Si le problème persiste, contactez le service destinataire.\n"
    )


def build_ko_mail(
    *,
    original: Message,
    code: str,
    sender: str,
    at: dt.datetime,
    label: str | None = None,
    message_id: str | None = None,
    to: str | None = None,
    embed_original: bool = False,
) -> EmailMessage:
    """The plain KO mail of the CI-SIS volet, sent when the original asked for no MDN.

    It goes to ``to``, else the original's Reply-To, else its From; its subject is
    ``[KO Intégration système !][<code>] <original subject>``; its French text gives the code and label (the
    label of the volet's tables by default). The original's attachments (``IHE_XDM.zip``, the PDF, …) are
    attached again; with ``embed_original`` the original is attached whole as ``message/rfc822`` too, before them,
    as the volet's example shows (``message_original.eml``, then ``IHE_XDM.zip`` and the PDF).

    Raises ValueError when the code is in none of the volet's tables (900 to 906, the HL7 errors) and no label is
    given, when a value bound for a header (code, label, sender, ...) holds a line break or control character,
    when ``at`` is naive, or when there is nobody to write to.
    """
    _check_line("code", code)
    if not _ERROR_CODE.fullmatch(code):
        raise ValueError(f"code {code[:80]!r} is not 1 to 32 letters, digits, '.', '_' or '-'")
    label = label if label is not None else _known_label(code)
    if label is None:
        raise ValueError(
            f"error code {code!r} is not in the volet's tables (900 to 906, or an HL7 error): give its label"
        )
    _check_line("label", label)
    _checked_time(at)
    recipient = to or _original_header(original, "Reply-To") or _original_header(original, "From")
    if not recipient:
        raise ValueError("the original has neither Reply-To nor From: give `to`")
    subject = _ko_subject(code, _original_header(original, "Subject", decode=True) or "")

    mail = EmailMessage(policy=email_policy.default)
    _envelope(target=mail, sender=sender, to=recipient, subject=subject, at=at, message_id=message_id)
    _thread(mail, original)
    attachments = _attachments(original)
    mail.set_content(
        _ko_text(code, label.strip(), attachments=bool(attachments), embedded=embed_original), charset="utf-8"
    )
    if embed_original:
        mail.add_attachment(_copy(original), filename="message_original.eml")
    for part in attachments:
        _attach(mail, part)
    return mail

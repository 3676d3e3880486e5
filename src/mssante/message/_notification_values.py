"""The values of read receipts and delivery reports: :class:`Disposition`, :class:`Mdn`, :class:`Dsn`,
:class:`DsnRecipient`, and the CI-SIS error codes (:data:`INTEGRATION_ERRORS`, :class:`IntegrationError`).

Each value is validated at construction: no field holds a line break or a control character, so a value can be
written into a mail as it is.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
import types
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from mssante.message._headers import KO_PREFIX, UNSAFE_IN_HEADER

__all__ = [
    "ACTION_MODES",
    "ATOM",
    "DISPOSITION_TYPES",
    "DSN_ACTIONS",
    "ERROR_CODE",
    "INTEGRATION_ERRORS",
    "KO_SUBJECT_PREFIX",
    "MDN_FORMS",
    "MESSAGE_ERRORS",
    "SENDING_MODES",
    "Disposition",
    "Dsn",
    "DsnRecipient",
    "IntegrationError",
    "Mdn",
    "check_line",
    "known_label",
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


def known_label(code: str) -> str | None:
    """The label of ``code`` in the volet's tables (:data:`INTEGRATION_ERRORS`, :data:`MESSAGE_ERRORS`), or None."""
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

ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+")
ERROR_CODE = re.compile(r"[A-Za-z0-9_.-]{1,32}")
_STATUS_VALUE = re.compile(r"[245]\.[0-9]{1,3}\.[0-9]{1,3}")
_FIELD_NAME = re.compile(r"[!-9;-~]+")


def check_line(what: str, value: str) -> str:
    """``value``, when it holds no line break or control character (ValueError naming ``what`` otherwise)."""
    if match := UNSAFE_IN_HEADER.search(value):
        raise ValueError(f"{what} holds U+{ord(match.group()):04X} (a line break or control character): {value[:80]!r}")
    return value


def _one_line(instance: object, attribute: attrs.Attribute[Any], value: str | None) -> None:
    if value is not None:
        check_line(attribute.name, value)


def _one_line_required(instance: object, attribute: attrs.Attribute[Any], value: str) -> None:
    if not value.strip():
        raise ValueError(f"{attribute.name} is empty")
    check_line(attribute.name, value)


def _aware(instance: object, attribute: attrs.Attribute[Any], value: dt.datetime | None) -> None:
    if value is not None and value.utcoffset() is None:
        raise ValueError(f"{attribute.name} must be timezone-aware")


def _as_fields(pairs: Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    fields = tuple((str(name), str(value)) for name, value in pairs)
    for name, value in fields:
        if not _FIELD_NAME.fullmatch(name):
            raise ValueError(f"{name[:80]!r} is not a field name")
        check_line(name, value)
    return fields


def _modifier(instance: Disposition, attribute: attrs.Attribute[Any], value: str | None) -> None:
    if value is not None and not all(ATOM.fullmatch(part) for part in value.split(",")):
        raise ValueError(f"disposition modifier {value[:80]!r} is not a comma-separated list of atoms")


def _error_code(instance: Disposition, attribute: attrs.Attribute[Any], value: str | None) -> None:
    if value is None:
        if instance.error_label is not None:
            raise ValueError("an error label needs an error code")
        return
    if not ERROR_CODE.fullmatch(value):
        raise ValueError(f"error code {value[:80]!r} is not 1 to 32 letters, digits, '.', '_' or '-'")
    if not instance.is_error:
        raise ValueError("an error code needs the 'error' disposition modifier")


def _error_label(instance: Disposition, attribute: attrs.Attribute[Any], value: str | None) -> None:
    if value is None:
        return
    check_line("error_label", value)
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
        label = label or known_label(code)
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
        label = self.error_label or known_label(self.error_code)
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

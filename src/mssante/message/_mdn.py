"""Read receipts (MDN, RFC 8098) in the CI-SIS volet's forms: :func:`parse_disposition_notification` reads the
block, :func:`build_mdn` writes the receipt answering a message.

The MDN is the "accusé de lecture" and the CI-SIS integration report: :func:`build_mdn` writes it
(``multipart/report`` with the human text, the ``message/disposition-notification`` block, the original
message whole, then the original's ``IHE_XDM.zip`` and PDF again), by default in the form of the CI-SIS
volet (the error inside ``Disposition``: ``processed/Error: 902^…``), on request in the RFC 8098 form
(``processed/error`` and a separate ``Error:`` field); :func:`parse_disposition_notification` reads both.
An MDN is not sent automatically when the sender's Disposition-Notification-To differs from its
Return-Path (RFC 8098 §2.1): :func:`build_mdn` then raises :class:`MdnNeedsConfirmation` until the caller
says the user confirmed.
"""

from __future__ import annotations

import datetime as dt
import re
from email import policy as email_policy
from email.message import EmailMessage, Message, MIMEPart
from email.utils import getaddresses

import attrs

from mssante.errors import InvalidInput
from mssante.message import notification_codes as codes
from mssante.message._notification_values import (
    ACTION_MODES,
    ATOM,
    DISPOSITION_TYPES,
    ERROR_CODE,
    INTEGRATION_ERRORS,
    MDN_FORMS,
    SENDING_MODES,
    Disposition,
    Mdn,
    check_line,
    known_label,
)
from mssante.message._replies import (
    attach,
    attachment_name,
    attachments_of,
    bare_address,
    checked_time,
    copy_message,
    envelope,
    ko_subject,
    original_header,
    raw_field,
    thread,
)
from mssante.message._report_reading import MDN_KIND, bare_value, decode_block, read_groups, refuse, report_type
from mssante.message._report_types import MDN_REPORT_TYPES
from mssante.report import Report

__all__ = ["MdnNeedsConfirmation", "build_mdn", "mdn_needs_confirmation", "parse_disposition_notification"]

_MAX_LINE = 998  # RFC 5322 §2.1.1
_DISPOSITION = re.compile(
    r"([A-Za-z-]+)[ \t]*/[ \t]*([A-Za-z-]+)[ \t]*;[ \t]*([A-Za-z-]+)(?:[ \t]*/[ \t]*(.*))?", re.DOTALL
)
_LEGACY_ERROR = re.compile(r"error[ \t]*:(.*)", re.DOTALL | re.IGNORECASE)

_ACTION_BY_KEY = {mode.lower(): mode for mode in ACTION_MODES}
_SENDING_BY_KEY = {mode.lower(): mode for mode in SENDING_MODES}


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
    if not ERROR_CODE.fullmatch(code) or (len(parts) == 1 and not code.isdigit()):
        return None, None
    label = parts[1].strip(" \t") if len(parts) > 1 else ""
    return code, label or None


def _parse_disposition(value: str, line: int) -> tuple[Disposition, str | None]:
    """The disposition and, for the older CI-SIS form, the error text it carries."""

    def bad(message: str) -> InvalidInput:
        return refuse(MDN_KIND, codes.MDN_BAD_DISPOSITION(message, where=f"line {line}"))

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
            if not all(ATOM.fullmatch(part) for part in parts):
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
    text = decode_block(block, MDN_KIND)
    fields = [field for group in read_groups(text, MDN_KIND) for field in group]
    single: dict[str, tuple[str, int]] = {}
    errors: list[str] = []
    extensions: list[tuple[str, str]] = []
    for name, value, line in fields:
        key = name.lower()
        if key in _MDN_SINGLE:
            if key in single:
                raise refuse(
                    MDN_KIND, codes.MDN_REPEATED(f"{_MDN_NAMES[key]} appears more than once", where=f"line {line}")
                )
            single[key] = (value, line)
        elif key == "error" and not errors:
            errors.append(value)
        else:
            extensions.append((name, value))
    for required in ("disposition", "final-recipient"):
        if required not in single:
            raise refuse(MDN_KIND, codes.MDN_MISSING(f"the block has no {_MDN_NAMES[required]} field"))
    final = bare_value(single["final-recipient"][0])
    if not final:
        line = single["final-recipient"][1]
        raise refuse(MDN_KIND, codes.MDN_EMPTY("Final-Recipient has no address", where=f"line {line}"))
    disposition, legacy_error = _parse_disposition(*single["disposition"])
    error = errors[0] if errors else legacy_error
    if error is not None and disposition.is_error:
        code, label = _split_error(error)
        disposition = attrs.evolve(disposition, error_code=code, error_label=label)
    original = bare_value(single["original-recipient"][0]) if "original-recipient" in single else None
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


def _notification_part(fields: list[tuple[str, str]]) -> MIMEPart:
    block = Message(policy=email_policy.default)
    for name, value in fields:
        # The Disposition on one line, as the volet writes it (a receiver may not unfold it); within RFC 5322's 998.
        one_line = name == "Disposition" and len(name) + 2 + len(value.encode()) <= _MAX_LINE
        block.set_raw(name, raw_field(name, value, fold=not one_line))
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
    name = (attachment_name(part.get_filename()) or "").casefold()
    kind = part.get_content_type()
    return name == "ihe_xdm.zip" or kind == "application/pdf" or name.endswith(".pdf")


def _attachment_part(part: Message) -> MIMEPart:
    """A copy of an attachment as a top-level part: base64 for binary content, its file name kept."""
    holder = EmailMessage(policy=email_policy.default)
    attach(holder, part)
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
    checked_time(at)
    if form not in MDN_FORMS:
        raise ValueError(f"form is one of {', '.join(MDN_FORMS)}, not {form!r}")
    if _is_mdn(original):
        raise ValueError("an MDN is never sent in answer to an MDN (RFC 8098 §3)")
    notify_to = original_header(original, "Disposition-Notification-To")
    if not notify_to:
        raise ValueError(
            "the original asks for no MDN: it has no Disposition-Notification-To header (the volet's KO mail, "
            "build_ko_mail, answers it instead)"
        )
    if not isinstance(disposition, Disposition):
        raise TypeError("disposition must be a Disposition")
    if disposition.sending_mode == "MDN-sent-automatically" and not confirmed and mdn_needs_confirmation(original):
        return_path = original_header(original, "Return-Path") or "none"
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
        label = known_label(disposition.error_code)
        if label is None:
            raise ValueError(
                f"error code {disposition.error_code[:40]!r} is not in the volet's tables (900 to 906, or an HL7 "
                "error): give its label"
            )
    agent = check_line("reporting_ua", reporting_ua).strip()
    if not agent:
        raise ValueError("reporting_ua is empty")
    final = bare_address("final_recipient", final_recipient)
    original_recipient_header = original_header(original, "Original-Recipient")
    original_recipient = bare_value(original_recipient_header) if original_recipient_header else final
    subject = original_header(original, "Subject", decode=True) or ""

    mdn = EmailMessage(policy=email_policy.default)
    subject_out = ko_subject(disposition.error_code, subject) if disposition.is_error else subject
    envelope(target=mdn, sender=sender, to=notify_to, subject=subject_out, at=at, message_id=message_id)
    original_id = thread(mdn, original)

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
        enclosed.set_content(copy_message(original))
        parts.append(enclosed)
    if attach_documents:
        parts += [_attachment_part(part) for part in attachments_of(original) if _is_document(part)]
    mdn["Content-Type"] = "multipart/report; report-type=disposition-notification"
    mdn.set_payload(parts)
    return mdn


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

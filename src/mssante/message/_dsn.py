"""Delivery reports (DSN, RFC 3464), the "accusé de réception": :func:`parse_delivery_status` reads the
``message/delivery-status`` block of a bounce or a delivery report, :func:`build_dsn` writes one.
"""

from __future__ import annotations

import datetime as dt
import re
from email import policy as email_policy
from email.errors import MessageError
from email.message import EmailMessage, Message, MIMEPart
from email.utils import format_datetime, parsedate_to_datetime

from mssante.errors import InvalidInput
from mssante.message import notification_codes as codes
from mssante.message._notification_values import DSN_ACTIONS, Dsn, DsnRecipient
from mssante.message._replies import checked_time, envelope, original_header, raw_field
from mssante.message._report_reading import DSN_KIND, Field, bare_value, decode_block, read_groups, refuse, typed
from mssante.report import Finding, Report

__all__ = ["build_dsn", "parse_delivery_status"]

_STATUS = re.compile(r"([245])\.([0-9]{1,3})\.([0-9]{1,3})(?:[ \t]*\(.*\))?", re.DOTALL)


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

    def __init__(self, fields: list[Field], known: tuple[str, ...], where: str) -> None:
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
        kind, rest = typed(value)
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
    final = bare_value(group.values.get("final-recipient", ""))
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
    original = bare_value(group.values["original-recipient"]) if "original-recipient" in group.values else ""
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
    text = decode_block(block, DSN_KIND)
    groups = read_groups(text, DSN_KIND)
    if not groups:
        raise refuse(DSN_KIND, codes.DSN_NO_REPORTING_MTA("the block is empty"))
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
            block.set_raw(name, raw_field(name, value))
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
    checked_time(at)
    recipient = to
    if recipient is None and original is not None:
        return_path = original_header(original, "Return-Path")
        returned = bare_value(return_path) if return_path else ""
        recipient = returned or original_header(original, "From")
    if not recipient:
        raise ValueError("there is nobody to send the DSN to: give `to` or an original with Return-Path or From")
    original_subject = (original_header(original, "Subject", decode=True) or "") if original is not None else ""
    if subject is None:
        subject = f"{_dsn_outcome(dsn)} : {original_subject}" if original_subject else _dsn_outcome(dsn)
    groups = _dsn_fields(dsn)

    report = EmailMessage(policy=email_policy.default)
    envelope(target=report, sender=sender, to=recipient, subject=subject, at=at, message_id=message_id)
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

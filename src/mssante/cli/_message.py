"""``mssante message inspect | lint | compose`` and ``mssante mdn parse | build | ko``: MSSanté messages."""

from __future__ import annotations

import argparse
import email
import email.policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from mssante._files import atomic_write
from mssante.cli._contract import EXIT_INVALID, EXIT_OK, Outcome, UsageError
from mssante.cli._inputs import parse_time, read_bounded
from mssante.cli._xdm import metadata_overrides, package_summary
from mssante.errors import InvalidInput
from mssante.message import (
    Attachment,
    Disposition,
    IntegrationError,
    MdnNeedsConfirmation,
    Message,
    MimeLimits,
    build_ko_mail,
    build_mdn,
    compose,
    declared_report_type,
    ko_code,
    lint,
    parse,
)
from mssante.report import Finding, Report, Severity
from mssante.xdm import MAX_CDA_BYTES, Package

__all__ = ["run_compose", "run_inspect", "run_lint", "run_mdn_build", "run_mdn_ko", "run_mdn_parse"]

_MAX_MESSAGE = MimeLimits().max_bytes


def _read_message(path: str) -> Message:
    return parse(read_bounded(path, limit=_MAX_MESSAGE))


def _lines(findings: tuple[Finding, ...] | list[Finding]) -> list[str]:
    shown = [finding for finding in findings if finding.severity is not Severity.INFO]
    lines = [f"  {finding}" for finding in shown]
    if hidden := len(findings) - len(shown):
        lines.append(f"  and {hidden} info finding(s): see --json")
    return lines


def _summary(message: Message) -> dict[str, Any]:
    patient = message.patient
    return {
        "subject": message.subject,
        "from": message.sender.address if message.sender else None,
        "to": [mailbox.address for mailbox in message.to],
        "cc": [mailbox.address for mailbox in message.cc],
        "message_id": message.message_id,
        "in_reply_to": message.in_reply_to,
        "kind": message.kind,
        "headers": {name: list(message.mime.get_all(name))
                    for name in ("X-MSS-CODECDA", "X-MSS-INS", "X-MSS-NIL", "X-MSS-MES") if message.mime.get_all(name)},
        "attachments": [{"filename": part.filename, "content_type": part.content_type, "size": part.size}
                        for part in message.attachments],
        "xdm": [{"attachment": part.filename, "submission_sets": package_summary(package)}
                for part, package in message.packages],
        "patient": None if patient is None else {
            "ins": patient.ins.value if patient.ins else None,
            "authority": patient.ins.authority.value if patient.ins and patient.ins.authority else None,
            "patient_id": patient.patient_id,
            "family": patient.family,
            "given": patient.given,
            "birth_date": patient.birth_date.isoformat() if patient.birth_date else None,
            "gender": patient.gender,
            "qualified": patient.qualified,
        },
    }  # fmt: skip


def run_inspect(args: argparse.Namespace) -> Outcome:
    """``mssante message inspect EML``."""
    message = _read_message(args.eml)
    report = Report(findings=message.findings, subject=args.eml)
    summary = _summary(message)
    payload = {**report.to_dict(), **summary}
    headers = "; ".join(f"{name}: {', '.join(values)}" for name, values in summary["headers"].items())
    lines = [
        f"subject      {_shown(summary['subject'])}",
        f"from         {_shown(summary['from'])}",
        f"to           {_shown(', '.join(summary['to']))}",
        f"kind         {summary['kind']}",
        f"headers      {_shown(headers)}",
    ]
    for part, item in zip(message.attachments, summary["attachments"], strict=True):
        name = item["filename"] or f"(no file name, part {part.path})"
        lines.append(f"attachment   {name} ({item['content_type']}, {item['size']} bytes)")
    if patient := summary["patient"]:
        who = " ".join(part for part in (patient["family"], patient["given"]) if part) or "(no name)"
        identifier = f"INS {patient['ins']}" if patient["ins"] else f"patient id {_shown(patient['patient_id'])}"
        lines.append(f"patient      {who}, {identifier}")
    lines += _lines(report.findings)
    return payload, lines, EXIT_OK if report.ok else EXIT_INVALID


def run_lint(args: argparse.Namespace) -> Outcome:
    """``mssante message lint EML``."""
    message = _read_message(args.eml)
    report = lint(message, environment=args.env)
    payload = {**report.to_dict(), "subject": message.subject, "kind": message.kind, "environment": args.env}
    errors, warnings = len(report.errors), len(report.warnings)
    lines = [
        f"{'compliant' if report.ok else 'not compliant':13} {args.eml} ({errors} error(s), {warnings} warning(s))"
    ]
    lines += _lines(report.findings)
    return payload, lines, EXIT_OK if report.ok else EXIT_INVALID


def _write(path: Path, data: bytes) -> None:
    try:
        atomic_write(path, data, mode=0o644)
    except OSError as error:
        raise OSError(f"cannot write {path}: {error.strerror or error}") from None


def run_compose(args: argparse.Namespace) -> Outcome:
    """``mssante message compose``."""
    at = parse_time(args.at)
    package = None
    if args.cda:
        documents = [read_bounded(path, limit=MAX_CDA_BYTES) for path in args.cda]
        overrides = metadata_overrides(args.metadata)
        package = Package.from_cda(documents, at=at, recipients=args.to, document=overrides.get("document"),
                                   submission_set=overrides.get("submission_set"))  # fmt: skip
    elif args.metadata:
        raise UsageError("mssante: --metadata describes the documents of --cda: give --cda too")
    text = read_bounded(args.text_file, limit=_MAX_MESSAGE).decode("utf-8") if args.text_file else (args.text or "")
    attachments = [Attachment(filename=Path(path).name, content=read_bounded(path, limit=_MAX_MESSAGE))
                   for path in args.attach or ()]  # fmt: skip
    mail = compose(
        sender=(args.sender_name or "", args.sender) if args.sender_name else args.sender,
        to=args.to, cc=args.cc or (), nil=args.nil, at=at, subject=args.subject, text=text, xdm=package,
        pdf=read_bounded(args.pdf, limit=_MAX_MESSAGE) if args.pdf else None, attachments=attachments,
        read_receipt=args.read_receipt, no_reply=args.no_reply,
    )  # fmt: skip
    data = mail.as_bytes()
    report = lint(data)
    _write(Path(args.out), data)
    payload = {**report.to_dict(), "path": args.out, "size": len(data), "message_id": mail["Message-ID"],
               "subject": str(mail["Subject"])}  # fmt: skip
    lines = [f"wrote {args.out} ({len(data)} bytes), subject {_shown(mail['Subject'])}", *_lines(report.findings)]
    return payload, lines, EXIT_OK if report.ok else EXIT_INVALID


def _meaning(meaning: IntegrationError | None) -> dict[str, Any] | None:
    """What a volet error code means: its name, its label, whether it refuses a replacement or a deletion."""
    if meaning is None:
        return None
    return {"code": meaning.code, "name": meaning.name, "label": meaning.label,
            "replacement_or_deletion": meaning.about_replacement_or_deletion}  # fmt: skip


def _notification_summary(message: Message) -> dict[str, Any]:
    """The ``mdn parse`` answer: what the report's block says, or only its kind when the block does not read."""
    if message.kind == "mdn":
        mdn = message.mdn
        if mdn is None:  # an MDN whose block is broken or missing: the findings say why
            return {"kind": "mdn", "original_message_id": message.in_reply_to, "disposition": None, "error": None,
                    "final_recipient": None, "meaning": None}  # fmt: skip
        return {
            "kind": "mdn",
            "original_message_id": mdn.original_message_id or message.in_reply_to,
            "disposition": str(mdn.disposition),
            "error": mdn.error or (f"{mdn.disposition.error_code}^{mdn.disposition.error_label}"
                                   if mdn.disposition.error_code else None),
            "final_recipient": mdn.final_recipient,
            "meaning": _meaning(mdn.meaning),
        }  # fmt: skip
    if message.kind == "dsn":
        dsn = message.dsn
        items = dsn.recipients if dsn is not None else ()
        recipients = [{"final_recipient": item.final_recipient, "action": item.action, "status": item.status,
                       "diagnostic_code": item.diagnostic_code} for item in items]  # fmt: skip
        failed = [item for item in items if item.action in ("failed", "delayed")]
        return {
            "kind": "dsn",
            "original_message_id": message.mime.get("Original-Message-ID") or message.in_reply_to,
            "action": items[0].action if items else None,
            "error": failed[0].diagnostic_code if failed else None,
            "recipients": recipients,
        }
    code = ko_code(message.subject or "") if message.mime.content_type != "multipart/report" else None
    if code is not None:  # the volet's plain KO mail, sent when no MDN was asked for
        return {"kind": "ko", "original_message_id": message.in_reply_to, "error": code,
                "meaning": _meaning(IntegrationError.of(code))}  # fmt: skip
    if message.mime.content_type == "multipart/report":
        declared = declared_report_type(message.mime) or "none given"
        raise InvalidInput(
            f"not an MDN nor a DSN: a multipart/report of report-type {declared} (an MDN is a report of type "
            "disposition-notification, a DSN one of type delivery-status)"
        )
    raise InvalidInput(
        f"not an MDN nor a DSN: a {message.mime.content_type} message, not a report (an MDN is a multipart/report; "
        "report-type=disposition-notification, a DSN a multipart/report; report-type=delivery-status)"
    )


def _shown(value: object) -> str:
    """A value as a person reads it: ``-`` for what is absent."""
    return "-" if value is None or value == "" else str(value)


def run_mdn_parse(args: argparse.Namespace) -> Outcome:
    """``mssante mdn parse EML``."""
    message = _read_message(args.eml)
    summary = _notification_summary(message)
    report = Report(findings=message.findings, subject=args.eml)
    payload = {**report.to_dict(), **summary}
    lines = [f"{key:20} {_shown(value)}" for key, value in summary.items() if key != "recipients"]
    lines += [f"recipient            {_shown(item['final_recipient'])} {_shown(item['action'])} "
              f"{_shown(item['status'])}" for item in summary.get("recipients", [])]  # fmt: skip
    lines += _lines(report.findings)
    return payload, lines, EXIT_OK if report.ok else EXIT_INVALID


def _original(path: str) -> EmailMessage:
    original = email.message_from_bytes(read_bounded(path, limit=_MAX_MESSAGE), policy=email.policy.default)
    assert isinstance(original, EmailMessage)  # the default policy makes EmailMessage objects
    return original


def run_mdn_build(args: argparse.Namespace) -> Outcome:
    """``mssante mdn build EML``."""
    original = _original(args.eml)
    if not original.get("Disposition-Notification-To"):
        raise InvalidInput(
            f"{args.eml} asks for no MDN: it has no Disposition-Notification-To header; write the volet's KO mail "
            "instead, with mssante mdn ko"
        )
    if args.error:
        disposition = Disposition.integration_error(args.error, args.label)
    elif args.label:
        raise UsageError("mssante: --label goes with --error")
    else:
        disposition = Disposition.processed()
    try:
        mdn = build_mdn(
            original=original, reporting_ua=args.reporting_ua, final_recipient=args.final_recipient,
            disposition=disposition, at=parse_time(args.at), sender=args.sender, form=args.form,
            attach_documents=not args.no_attachments, confirmed=args.confirmed,
        )  # fmt: skip
    except MdnNeedsConfirmation as refusal:  # a verdict on the original, not a usage error
        report = refusal.report
        hint = "send it once the user has confirmed it, with --confirmed; without confirmation no MDN is sent"
        payload = {**report.to_dict(), "path": None, "needs_confirmation": True, "hint": hint}
        return payload, [f"not written: {args.out}", *_lines(report.findings), hint], EXIT_INVALID
    data = mdn.as_bytes()
    _write(Path(args.out), data)
    written = disposition.field_value(args.form)
    payload = {"ok": True, "findings": [], "path": args.out, "size": len(data), "to": str(mdn["To"]),
               "disposition": written, "form": args.form, "needs_confirmation": False}  # fmt: skip
    return payload, [f"wrote {args.out}: {written} to {mdn['To']}"], EXIT_OK


def run_mdn_ko(args: argparse.Namespace) -> Outcome:
    """``mssante mdn ko EML``."""
    original = _original(args.eml)
    mail = build_ko_mail(
        original=original, code=args.error, label=args.label, sender=args.sender, at=parse_time(args.at),
        to=args.to, embed_original=args.embed_original,
    )  # fmt: skip
    data = mail.as_bytes()
    _write(Path(args.out), data)
    meaning = IntegrationError.of(args.error)
    payload = {"ok": True, "findings": [], "path": args.out, "size": len(data), "to": str(mail["To"]),
               "subject": str(mail["Subject"]), "error": args.error, "meaning": _meaning(meaning)}  # fmt: skip
    return payload, [f"wrote {args.out}: {mail['Subject']} to {mail['To']}"], EXIT_OK

"""Judging a message against the MSSanté rules: each rule a function, each finding a stable code with its source.

A read receipt (MDN) or a delivery report (DSN) is not a message a professional writes: it is judged by the
rules of a notification (:data:`NOTIFICATION_RULES`), not by those of a message (:data:`RULES`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from email.message import EmailMessage

from mssante.addresses import Address
from mssante.errors import InvalidAddress, InvalidInput
from mssante.message import _codes
from mssante.message._headers import X_MSS_CODECDA, X_MSS_INS, X_MSS_MES, X_MSS_NIL
from mssante.message._mime import MimeLimits
from mssante.message._parse import Message, parse
from mssante.report import Finding, Report
from mssante.xdm import ENVIRONMENTS, Budget, validate

__all__ = ["NOTIFICATION_RULES", "RULES", "lint"]

Rule = Callable[[Message], Iterator[Finding]]


def _nil(message: Message) -> Iterator[Finding]:
    if not message.nil:
        yield _codes.NO_NIL("set X-MSS-NIL to the product reference of convergence.esante.gouv.fr", where=X_MSS_NIL)


def _single_headers(message: Message) -> Iterator[Finding]:
    for name in (X_MSS_INS, X_MSS_NIL, X_MSS_MES, "Subject", "Message-ID"):
        if len(message.mime.get_all(name)) > 1:
            yield _codes.REPEATED_HEADER(f"{name} appears {len(message.mime.get_all(name))} times", where=name)


def _identity(message: Message) -> Iterator[Finding]:
    yield from _addressing(message, starts_conversation=True)


def _notification_identity(message: Message) -> Iterator[Finding]:
    # A notification answers a message: a patient (MSS-C) address may send it (a read receipt, MSS-MSG-022 aside).
    yield from _addressing(message, starts_conversation=False)


def _addressing(message: Message, *, starts_conversation: bool) -> Iterator[Finding]:
    if not message.message_id:
        yield _codes.NO_MESSAGE_ID("add a Message-ID", where="Message-ID")
    senders = message.mime.mailboxes("From")
    if len(senders) != 1:
        yield _codes.BAD_SENDER(f"{len(senders)} From addresses", where="From")
    for mailbox in senders:
        yield from _address_findings(mailbox.address, "From", _codes.BAD_SENDER, patient_sender=starts_conversation)
    for field in ("To", "Cc"):
        mailboxes = message.mime.mailboxes(field)
        if message.mime.get_all(field) and not mailboxes:
            yield _codes.BAD_RECIPIENT(f"{field} holds no readable address", where=field)
        for mailbox in mailboxes:
            yield from _address_findings(mailbox.address, field, _codes.BAD_RECIPIENT)
    if not message.recipients:
        yield _codes.BAD_RECIPIENT("the message has no recipient in To or Cc", where="To")


def _address_findings(
    text: str, where: str, code: Callable[..., Finding], *, patient_sender: bool = False
) -> Iterator[Finding]:
    try:
        address = Address.parse(text)
    except InvalidAddress as error:
        yield code(f"{text!r}: {error.report.errors[0].message}", where=where)
        return
    if patient_sender and address.is_patient:
        yield _codes.PATIENT_SENDER(f"{address} is a patient address", where=where)


def _body(message: Message) -> Iterator[Finding]:
    mime = message.mime
    if mime.content_type == "multipart/mixed":
        first = mime.parts[0].content_type if mime.parts else ""
        body_types = {"text/plain", "text/html"}
        if first not in body_types:
            yield _codes.BODY_TYPE(f"the first part is {first or 'missing'}", where="body")
    elif mime.content_type not in ("text/plain", "multipart/alternative", "multipart/report"):
        yield _codes.BODY_TYPE(f"the message is {mime.content_type}", where="Content-Type")


def _xdm(message: Message) -> Iterator[Finding]:
    if not message.packages:
        return
    subject = message.subject_parts
    if subject is None:
        yield _codes.NO_SUBJECT_CONVENTION(f"the subject is {message.subject!r}", where="Subject")
    elif (
        (patient := message.patient) is not None
        and patient.family
        and (
            not subject.names(patient.family, patient.given)
            or (patient.birth_date is not None and subject.birth_date not in (None, patient.birth_date))
        )
    ):
        expected = f"{patient.family} {patient.given} {patient.birth_date:%d/%m/%Y}" if patient.birth_date else ""
        yield _codes.SUBJECT_PATIENT_MISMATCH(f"the metadata name {expected or patient.family}", where="Subject")
    pdfs = [part for part in message.attachments if part.content_type == "application/pdf"]
    if not pdfs:
        yield _codes.NO_PDF("attach the documents as PDF/A-1 too", where="attachments")


def _headers_of_documents(message: Message) -> Iterator[Finding]:
    codes = message.cda_codes
    if not codes:
        if message.codecda:
            yield _codes.CODECDA_WITHOUT_CDA(f"X-MSS-CODECDA: {','.join(message.codecda)}", where=X_MSS_CODECDA)
        return
    if not message.codecda:
        yield _codes.NO_CODECDA(f"set X-MSS-CODECDA: {','.join(codes)}", where=X_MSS_CODECDA)
    elif sorted(message.codecda) != sorted(codes):
        message_text = f"X-MSS-CODECDA is {','.join(message.codecda)}; the documents are {','.join(codes)}"
        yield _codes.CODECDA_MISMATCH(message_text, where=X_MSS_CODECDA)
    qualified = bool(message.patients) and all(patient.qualified for patient in message.patients)
    expected = "O" if qualified else "N"
    if message.ins is None:
        yield _codes.NO_INS_HEADER(f"set X-MSS-INS: {expected}", where=X_MSS_INS)
    elif message.ins not in ("O", "N"):
        yield _codes.BAD_INS_HEADER(f"X-MSS-INS is {message.ins!r}", where=X_MSS_INS)
    elif message.ins != expected:
        why = "carry a qualified INS" if qualified else "carry no qualified INS (INS, OID and the four traits)"
        yield _codes.INS_HEADER_MISMATCH(f"X-MSS-INS is {message.ins} but the documents {why}", where=X_MSS_INS)


def _patients(message: Message) -> Iterator[Finding]:
    identities = {patient.ins.value if patient.ins else patient.patient_id for patient in message.patients}
    targets = {address.ins.value for address in message.patient_recipients if address.ins is not None}
    if len(identities | targets) > 1:
        yield _codes.SEVERAL_PATIENTS(f"patients {', '.join(sorted(identities | targets))}", where="patients")
    if (
        message.patient_recipients
        and message.packages
        and not (message.patients and all(patient.qualified for patient in message.patients))
    ):
        yield _codes.PATIENT_WITHOUT_INS("the documents sent to a patient must carry a qualified INS", where="To")
    if message.mes is not None:
        if message.mes != "FIN":
            yield _codes.BAD_MES(f"X-MSS-MES is {message.mes!r}", where=X_MSS_MES)
        if not message.patient_recipients:
            yield _codes.MES_NOT_TO_PATIENT("no recipient is a patient (…@patient.mssante.fr)", where=X_MSS_MES)


def _receipt(message: Message) -> Iterator[Finding]:
    field = "Disposition-Notification-To"
    wanted = message.mime.mailboxes(field)
    sender = message.sender
    if sender is not None and any(mailbox.address.casefold() != sender.address.casefold() for mailbox in wanted):
        addresses = ", ".join(mailbox.address for mailbox in wanted)
        yield _codes.RECEIPT_NOT_TO_SENDER(f"{addresses} is not {sender.address}", where=field)


RULES: tuple[Rule, ...] = (_nil, _single_headers, _identity, _body, _xdm, _headers_of_documents, _patients, _receipt)
"""The rules of a message, in the order their findings are reported."""

NOTIFICATION_RULES: tuple[Rule, ...] = (_single_headers, _notification_identity)
"""The rules of a read receipt (MDN) or a delivery report (DSN), in the order their findings are reported.

Its block is judged as it is read (``MSS-MDN-*``, ``MSS-DSN-*``, in :attr:`Message.findings`); its headers as
those of any mail: a Message-ID, valid addresses, single headers once. The rules of a message a professional
writes do not apply: X-MSS-NIL (``MSS-MSG-001``) names the product that writes messages, and a patient
(``MSS-MSG-022``) may answer, with a read receipt, the message a professional sent.
"""


def lint(
    message: Message | EmailMessage | bytes,
    *,
    limits: MimeLimits | None = None,
    environment: str = "prod",
    budget: Budget | None = None,
) -> Report:
    """Judge a message against the MSSanté rules (and its XDM packages against :func:`mssante.xdm.validate`).

    Takes what :func:`compose` gives, the bytes of a message, or a :class:`Message` already read. A read
    receipt or a delivery report (``kind`` ``mdn`` or ``dsn``, its block read or not) is judged by
    :data:`NOTIFICATION_RULES`, any other message by :data:`RULES` and each of its XDM packages by
    :func:`mssante.xdm.validate`. ``environment`` is ``prod`` (the default) or ``test``
    (:data:`mssante.xdm.ENVIRONMENTS`): in the TEST environment a patient under the TEST or DEMO INS authority
    is expected, and ``MSS-XDM-044`` is information instead of a warning.

    A message given as bytes is read as :func:`parse` reads it, with ``limits`` and ``budget``; the documents of
    its packages are inflated within that budget, and those it cannot cover are ``MSS-ZIP-023`` findings.
    """
    if environment not in ENVIRONMENTS:
        raise InvalidInput(f"environment is one of {', '.join(ENVIRONMENTS)}, not {environment!r}")
    if not isinstance(message, Message):
        message = parse(message, limits=limits, budget=budget)
    findings = [*message.findings]
    notification = message.kind in ("mdn", "dsn")
    for rule in NOTIFICATION_RULES if notification else RULES:
        findings.extend(rule(message))
    for part, package in () if notification else message.packages:  # the packages, as xdm.validate judges them
        findings += [
            finding.located(f"attachment {part.filename}") for finding in validate(package, environment=environment)
        ]
    return Report(findings=findings, subject=message.subject or message.message_id or "message")

"""Judging a message against the MSSanté rules: each rule a function, each finding a stable code with its source.

A read receipt (MDN) or a delivery report (DSN) is not a message a professional writes: it is judged by the
rules of a notification (:data:`NOTIFICATION_RULES`), not by those of a message (:data:`RULES`).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from email.message import EmailMessage

from mssante.addresses import Address
from mssante.errors import InvalidAddress, InvalidInput
from mssante.message import codes as _codes
from mssante.message._compose import PATIENT_MESSAGE_MAX_BYTES, PDF_TYPE_LENGTH
from mssante.message._headers import (
    FIN,
    X_MSS_CODECDA,
    X_MSS_INS,
    X_MSS_MES,
    X_MSS_NIL,
    Subject,
    fold_name,
    is_fin_subject,
)
from mssante.message._limits import MimeLimits
from mssante.message._mime_values import Part
from mssante.message._parse import Message, parse
from mssante.message._patient import Patient
from mssante.report import Finding, Report
from mssante.xdm import ENVIRONMENTS, Budget, DocumentEntry, validate

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


def _answers(message: Message) -> bool:
    """Whether the message answers another: In-Reply-To or References (RFC 5322 3.6.4)."""
    return bool(message.in_reply_to or message.references)


def _addressing(message: Message, *, starts_conversation: bool) -> Iterator[Finding]:
    if not message.message_id:
        yield _codes.NO_MESSAGE_ID("add a Message-ID", where="Message-ID")
    senders = message.mime.mailboxes("From")
    if len(senders) != 1:
        yield _codes.BAD_SENDER(f"{len(senders)} From addresses", where="From")
    # A patient replies within a conversation a professional started: only a message that answers none starts one.
    patient_sender = starts_conversation and not _answers(message)
    for mailbox in senders:
        yield from _address_findings(mailbox.address, "From", _codes.BAD_SENDER, patient_sender=patient_sender)
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
        yield _codes.PATIENT_SENDER(
            f"{address} is a patient address and the message has no In-Reply-To nor References", where=where
        )


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
    missing = _missing_subject_fields(message, subject) if subject is not None else None
    if subject is None:
        yield _codes.NO_SUBJECT_CONVENTION(f"the subject is {message.subject!r}", where="Subject")
    elif missing is not None:
        yield _codes.SUBJECT_FIELDS(missing, where="Subject")
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


def _labels(message: Message) -> set[str]:
    """The labels a subject may give the documents of the packages, folded: typeCode display names and titles."""
    labels = {f"{sum(1 for _ in _entries(message))} documents"}
    for entry in _entries(message):
        labels.update(text for text in (entry.type_code.display if entry.type_code else "", entry.title) if text)
    return {fold_name(label) for label in labels}


def _entries(message: Message) -> Iterator[DocumentEntry]:
    for _, package in message.packages:
        for subset in package.subsets:
            yield from subset.metadata.documents if subset.metadata is not None else ()


def _missing_subject_fields(message: Message, subject: Subject) -> str | None:
    """What the ``XDM/1.0/DDM+`` subject lacks of ``<libellé> <NOM> <prénom>`` (ECO.2.1.3), or None.

    The three run together in free text: without the metadata, fewer than three words lack one; with a patient
    in the metadata, a subject that holds only a label of its documents lacks the NOM and prénom, one that ends
    with the NOM lacks the prénom, and one that holds only the names lacks the label. A subject that names someone
    else is ``MSS-MSG-015``.
    """
    text = _BIRTH_DATE_AT_END.sub("", subject.text).strip()
    words = fold_name(text).split()
    patient = message.patient
    if patient is not None and patient.family and patient.given:
        names = fold_name(patient.family).split() + fold_name(patient.given).split()[:1]
        if subject.names(patient.family, patient.given):
            return None if [word for word in words if word not in names] else f"{text!r} has no label"
        if " ".join(words) in _labels(message):
            return f"{text!r} has the label, not the NOM and prénom {patient.family.upper()} {patient.given}"
        family = fold_name(patient.family).split()
        if len(words) > len(family) and words[-len(family) :] == family:
            return f"{text!r} ends with the NOM: the prénom {patient.given} is missing"
    if len(words) < 3:
        return f"{text!r} cannot hold a label, a NOM and a prénom"
    return None


def _pdfs(message: Message) -> Iterator[Finding]:
    """The PDF attachments of a message carrying documents: named by ECO.2.1.6, identified as PDF/A-1."""
    if not message.packages:
        return
    for part in message.attachments:
        if part.content_type != "application/pdf" and not (part.filename or "").lower().endswith(".pdf"):
            continue
        where = f"attachment {part.filename or part.path}"
        problem = _pdf_name_problem(part.filename or "", message.patient)
        if problem is not None:
            yield _codes.PDF_NAME(f"{part.filename or 'a PDF without a name'}: {problem}", where=where)
        part_number = _pdfa_part(part)
        if part_number != "1":
            said = f"its XMP metadata says pdfaid:part {part_number}" if part_number else "it has no pdfaid:part"
            yield _codes.NOT_PDF_A1(f"{part.filename or part.path}: {said}", where=where)


_BIRTH_DATE_AT_END = re.compile(r"(?:^|\s)[0-3][0-9]/[01][0-9]/[0-9]{4}$")
_PDF_NAME = re.compile(r"(?P<date>[0-9]{8})_(?P<rest>.+)\.pdf", re.IGNORECASE | re.DOTALL)
_PDFAID_PART = re.compile(rb"pdfaid:part\s*(?:=\s*[\"']\s*([0-9]{1,3})\s*[\"']|>\s*([0-9]{1,3})\s*<)")
_MAX_PDF_SCAN = 64 * 1024 * 1024
"""Bytes of a PDF searched for its XMP identification: PDF/A-1 leaves the metadata stream unfiltered
(ISO 19005-1 6.7.2), so the packet is plain text somewhere in the file."""


def _pdf_name_problem(name: str, patient: Patient | None) -> str | None:
    """How ``name`` departs from ``<AAAAMMJJ>_<type>_<NOM>_<prénom>[_<n° de dossier>].pdf``, or None.

    ``_`` separates the fields; an ANS example writes ``_`` inside the type too (``CR_d_imagerie_medicale``), so
    the type is what lies between the date and the patient's NOM and prénom when the metadata name the patient.
    """
    found = _PDF_NAME.fullmatch(unicodedata.normalize("NFC", name))
    if found is None:
        return "not <AAAAMMJJ>_<type>_<NOM>_<prénom>[_<n° de dossier>].pdf"
    try:
        dt.datetime.strptime(found.group("date"), "%Y%m%d")
    except ValueError:
        return f"{found.group('date')} is not a date AAAAMMJJ"
    fields = found.group("rest").split("_")
    if len(fields) < 3 or not all(field.strip() for field in fields):
        return "it does not hold the four fields date, type, NOM and prénom"
    if patient is None or not (patient.family and patient.given):
        return None
    family, given = fold_name(patient.family), fold_name(patient.given)
    at = next(
        (
            index
            for index in range(len(fields) - 2, 0, -1)
            if fold_name(fields[index]) == family and fold_name(fields[index + 1]) == given
        ),
        None,
    )
    if at is None:
        return f"it does not name the patient {patient.family.upper()}_{patient.given} after the type"
    kind = "_".join(fields[:at])
    if len(kind) > PDF_TYPE_LENGTH:
        return f"the type has {len(kind)} characters: it is cut to {PDF_TYPE_LENGTH}"
    if len(fields) > at + 3:
        return "more than one field follows the prénom: only the n° de dossier may"
    if fields[at] != fields[at].upper():
        return f"the NOM {fields[at]} is not in capitals"
    return None


def _pdfa_part(part: Part) -> str | None:
    """The ``pdfaid:part`` of the PDF's XMP metadata (the last packet's, as an update writes it last), or None."""
    last = None
    for found in _PDFAID_PART.finditer(part.data, 0, _MAX_PDF_SCAN):
        last = found
    return (last.group(1) or last.group(2)).decode("ascii") if last is not None else None


def _text_charset(message: Message) -> Iterator[Finding]:
    """The text parts of the body in UTF-8 (ECO.2.2.3); ASCII text declared US-ASCII, or with no charset, is UTF-8."""
    for part in message.mime.parts:
        if not part.is_text or part.is_attachment:
            continue
        where = f"part {part.path}"
        if part.charset in ("utf-8", "utf8"):
            try:
                part.data.decode("utf-8")
            except UnicodeDecodeError:
                yield _codes.NOT_UTF8(f"{part.content_type} says utf-8 but its bytes are not UTF-8", where=where)
        elif not (part.charset in (None, "us-ascii", "ascii") and part.data.isascii()):
            charset = part.charset or "no charset"
            yield _codes.NOT_UTF8(f"{part.content_type} is in {charset}: write it in UTF-8", where=where)


def _size(message: Message) -> Iterator[Finding]:
    """A message to a patient is at most 25 Mo as sent (CNAM, ENS Mon espace santé Messagerie V1.3 §6)."""
    if message.patient_recipients and message.mime.raw_size > PATIENT_MESSAGE_MAX_BYTES:
        patients = ", ".join(str(address) for address in message.patient_recipients)
        said = (
            f"{message.mime.raw_size:,} bytes, over the {PATIENT_MESSAGE_MAX_BYTES:,} Mon espace santé takes: "
            f"it comes back undelivered to {patients}"
        )
        yield _codes.TOO_LARGE_FOR_PATIENT(said, where="size")


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


def _patient_sender(message: Message) -> str | None:
    """The message's one From address when it is a patient's (MSS-C), lower case; else None."""
    senders = message.mime.mailboxes("From")
    if len(senders) != 1:
        return None
    try:
        address = Address.parse(senders[0].address)
    except InvalidAddress:
        return None
    return str(address).casefold() if address.is_patient else None


def _closed(message: Message, conversation: Sequence[Message]) -> Iterator[Finding]:
    """A patient's reply in a conversation the professional ended (ECO.2.2.8; CNAM MES V1.3 §7).

    ``conversation`` holds the earlier messages, oldest first. The message answered (In-Reply-To, else the last of
    References) is closed by its own ``X-MSS-MES: FIN``, or by a ``[FIN]`` subject sent to the patient after it
    (or on it): that one ends every earlier message of the exchange.
    """
    patient = _patient_sender(message)
    answered = message.in_reply_to or (message.references[-1] if message.references else None)
    if patient is None or answered is None:
        return
    index = next((index for index, earlier in enumerate(conversation) if earlier.message_id == answered), None)
    if index is None:
        return
    where = "In-Reply-To" if message.in_reply_to else "References"
    if conversation[index].mes == FIN:
        yield _codes.REPLY_TO_CLOSED(f"{answered} carries {X_MSS_MES}: {FIN}", where=where)
        return
    for later in conversation[index:]:
        to_patient = patient in {mailbox.address.casefold() for mailbox in later.recipients}
        if is_fin_subject(later.subject) and to_patient and _patient_sender(later) is None:
            said = f"{later.message_id or 'a message'} with the subject [FIN] ended the exchange after {answered}"
            yield _codes.REPLY_TO_CLOSED(said, where=where)
            return


RULES: tuple[Rule, ...] = (
    _nil,
    _single_headers,
    _identity,
    _body,
    _text_charset,
    _size,
    _xdm,
    _pdfs,
    _headers_of_documents,
    _patients,
    _receipt,
)
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
    conversation: Sequence[Message | EmailMessage | bytes] = (),
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

    ``conversation`` is the earlier messages of the message's conversation, oldest first, when they are known
    (each read with ``limits``): a patient's reply to a message that ended the exchange (``X-MSS-MES: FIN`` on
    it, or a later ``[FIN]`` subject) is then ``MSS-MSG-025``. Without them, a patient's reply is judged alone.
    """
    if environment not in ENVIRONMENTS:
        raise InvalidInput(f"environment is one of {', '.join(ENVIRONMENTS)}, not {environment!r}")
    if not isinstance(message, Message):
        message = parse(message, limits=limits, budget=budget)
    findings = [*message.findings]
    notification = message.kind in ("mdn", "dsn")
    for rule in NOTIFICATION_RULES if notification else RULES:
        findings.extend(rule(message))
    if conversation and not notification:
        earlier = [item if isinstance(item, Message) else parse(item, limits=limits) for item in conversation]
        findings.extend(_closed(message, earlier))
    for part, package in () if notification else message.packages:  # the packages, as xdm.validate judges them
        findings += [
            finding.located(f"attachment {part.filename}") for finding in validate(package, environment=environment)
        ]
    return Report(findings=findings, subject=message.subject or message.message_id or "message")

"""Composing an MSSanté message: headers, body, the IHE_XDM.zip and its PDF, the X-MSS-* fields.

What compose refuses, with :class:`~mssante.errors.InvalidInput` naming the field, before the standard library
sees it:

- in every header value (subject, display names, file names, the X-MSS-* values, Message-ID, In-Reply-To,
  References, values derived from a package): each line break :meth:`str.splitlines` knows (CR, LF, VT, FF,
  U+001C to U+001E, U+0085, U+2028, U+2029), NUL, the other C0 and C1 controls (TAB is accepted) and lone
  surrogates (``MSS-MSG-023``); Message-ID, In-Reply-To and References values are ``<left@right>`` in printable
  ASCII;
- in body text (``text``, ``html``): NUL and lone surrogates; every other character is kept, line endings
  written as CRLF;
- an attachment's media type that is not ``type/subtype`` of RFC 2045 tokens (a parameter, a space, a line
  break), or that is ``multipart/*`` (``MSS-MSG-024``);
- a subject to derive from a package whose patient has no family name or no given name, which Ref #2 ECO.2.1.3
  makes mandatory (``MSS-MSG-027``); a PDF to name after such a package, or a ``file_number`` that would break
  the fields of its name (``MSS-MSG-028``, ECO.2.1.6);
- a message to a patient (``…@patient.mssante.fr``) whose encoded size is over
  :data:`PATIENT_MESSAGE_MAX_BYTES`: Mon espace santé would return it (``MSS-MSG-026``).
"""

from __future__ import annotations

import datetime as dt
import email.policy
import email.utils
import re
from collections.abc import Sequence
from email.headerregistry import Address as HeaderAddress
from email.message import EmailMessage

import attrs

from mssante.addresses import Address
from mssante.errors import InvalidInput
from mssante.message import codes as _codes
from mssante.message._headers import (
    MSG_ID,
    UNSAFE_IN_HEADER,
    X_MSS_CODECDA,
    X_MSS_INS,
    X_MSS_MES,
    X_MSS_NIL,
    Subject,
    join_codes,
)
from mssante.message._patient import Patient
from mssante.report import Finding, Report
from mssante.xdm import Package

__all__ = [
    "CDA_MIME_TYPES",
    "PATIENT_MESSAGE_MAX_BYTES",
    "PDF_TYPE_LENGTH",
    "XDM_FILENAME",
    "Attachment",
    "Contact",
    "cda_codes",
    "compose",
]

XDM_FILENAME = "IHE_XDM.zip"
"""The name of the archive, as every MIME example of the CI-SIS volet writes it."""
CDA_MIME_TYPES = frozenset({"text/xml", "application/xml", "text/x-cda-r2+xml", "application/hl7-v3+xml"})
"""Media types under which a CDA document is packed."""
PATIENT_MESSAGE_MAX_BYTES = 25_000_000
"""The largest message, as encoded for sending, that Mon espace santé takes: « la taille limite totale de 25 Mo »
(CNAM, ENS Mon espace santé Messagerie V1.3 §6; a larger one comes back as ``Undelivered Mail Returned to Sender``).
The text says neither 10^6 nor 2^20: the mégaoctet of the SI (25 × 10^6 bytes) is taken, the smaller of the two,
so that a message under it passes either way."""
PDF_TYPE_LENGTH = 40
"""The ``<type document>`` of a PDF's name is « tronqué à 40 caractères » (Ref #2 ECO.2.1.6, as quoted)."""

_NIL = re.compile(r"[!-~]{1,64}", re.ASCII)
_UNSAFE_IN_TEXT = re.compile("[\x00\ud800-\udfff]")
"""What body text never holds: NUL and lone surrogates (every other character is written as it is)."""
_MIME_NAME = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_MEDIA_TYPE = re.compile(rf"{_MIME_NAME}/{_MIME_NAME}")
"""A media type as RFC 2045 writes one: ``type/subtype``, both tokens; no parameter, no space."""
_FILE_NUMBER = re.compile(r"[0-9A-Za-z][0-9A-Za-z.-]{0,63}")
"""A file number (n° de dossier) as a PDF's name carries it: letters, digits, dots and hyphens; no ``_``."""
_NAME_FIELD_BREAKS = str.maketrans({"_": " ", "/": " ", "\\": " "})
"""What a field of a PDF's name may not hold: ``_`` separates the fields, ``/`` and ``\\`` separate folders."""

Contact = str | Address | tuple[str, str | Address]
"""An address (``"dr@chu.mssante.fr"`` or an :class:`~mssante.addresses.Address`), or ``(display name, address)``."""


def _refuse(finding: Finding) -> InvalidInput:
    return InvalidInput(finding.message, Report(findings=[finding], subject=finding.where))


def _safe(value: str, what: str) -> str:
    """``value``, when it may be written in a header; else InvalidInput naming ``what``."""
    found = UNSAFE_IN_HEADER.search(value)
    if found:
        message = (
            f"{what} holds U+{ord(found.group()):04X} (a line break, control character or lone surrogate): "
            f"{value[:80]!r}"
        )
        raise _refuse(_codes.BAD_HEADER_VALUE(message, where=what))
    return value


def _msg_id(value: str, what: str) -> str:
    """``value``, when it is a msg-id mssante writes; else InvalidInput naming ``what``."""
    if not MSG_ID.fullmatch(_safe(value, what)):
        message = f"{what} is not a msg-id <left@right> of printable ASCII: {value[:80]!r}"
        raise _refuse(_codes.BAD_HEADER_VALUE(message, where=what))
    return value


def _text(value: str, what: str) -> str:
    found = _UNSAFE_IN_TEXT.search(value)
    if found:
        message = f"{what} holds U+{ord(found.group()):04X} (NUL or a lone surrogate), which no mail body carries"
        raise _refuse(_codes.BAD_HEADER_VALUE(message, where=what))
    return value


def _filename(_instance: object, _attribute: object, value: str) -> None:
    _safe(value, "filename")


def _media_type(_instance: object, _attribute: object, value: str) -> None:
    if not _MEDIA_TYPE.fullmatch(value):
        message = f"content_type {value[:80]!r} is not a media type type/subtype (RFC 2045 tokens, no parameter)"
        raise _refuse(_codes.BAD_CONTENT_TYPE(message, where="content_type"))
    if value.lower().startswith("multipart/"):
        message = f"content_type {value[:80]!r} is a container: an attachment is one file"
        raise _refuse(_codes.BAD_CONTENT_TYPE(message, where="content_type"))


@attrs.frozen(kw_only=True)
class Attachment:
    """A file to attach: its name (any characters: RFC 2231 encodes them), bytes and media type.

    :class:`~mssante.errors.InvalidInput` when the name holds a line break, a control character or a lone
    surrogate (``MSS-MSG-023``), or the media type is not one ``type/subtype`` of tokens (``MSS-MSG-024``).
    """

    filename: str = attrs.field(validator=_filename)
    content: bytes = attrs.field(repr=False)
    content_type: str = attrs.field(default="application/octet-stream", validator=_media_type)


def _mailbox(contact: Contact, what: str) -> HeaderAddress:
    name, address = ("", contact) if not isinstance(contact, tuple) else contact
    parsed = address if isinstance(address, Address) else Address.parse(_safe(address, what))
    return HeaderAddress(display_name=" ".join(_safe(name, what).split()), addr_spec=str(parsed))


def cda_codes(package: Package) -> tuple[str, ...]:
    """The type codes of the CDA documents of a package, in archive order (the X-MSS-CODECDA values)."""
    return tuple(
        entry.type_code.code
        for subset in package.subsets
        if subset.metadata is not None
        for entry in subset.metadata.documents
        if entry.mime_type.lower() in CDA_MIME_TYPES and entry.type_code is not None
    )


def _patients(package: Package) -> list[Patient]:
    return [Patient.of(entry) for subset in package.subsets if subset.metadata for entry in subset.metadata.documents]


def _subject(package: Package) -> str:
    patients = _patients(package)
    documents = [entry for subset in package.subsets if subset.metadata for entry in subset.metadata.documents]
    labels = {entry.type_code.display or entry.title for entry in documents if entry.type_code is not None}
    label = labels.pop() if len(labels) == 1 else f"{len(documents)} documents"
    patient = patients[0] if patients else Patient(patient_id="")
    return Subject.build(label=label, family=patient.family, given=patient.given, birth_date=patient.birth_date)


def _field(text: str) -> str:
    return " ".join(text.translate(_NAME_FIELD_BREAKS).split())


def _pdf_name(package: Package, file_number: str | None = None) -> str:
    """``<date de l'acte>_<type document>_<NOM>_<prénom>[_<numéro de dossier>].pdf`` (Ref #2 ECO.2.1.6).

    The date is ``AAAAMMJJ`` (serviceStartTime, else creationTime), the type the typeCode's display name (else the
    title) cut to :data:`PDF_TYPE_LENGTH` characters, the NOM the birth family name in capitals; ``_``, ``/`` and
    ``\\`` inside a field become spaces. « Tous les champs sont obligatoires sauf <numéro de dossier> »: a missing
    one raises :class:`~mssante.errors.InvalidInput` (``MSS-MSG-028``).
    """
    documents = [entry for subset in package.subsets if subset.metadata for entry in subset.metadata.documents]
    if not documents:
        return "document.pdf"
    entry, patient = documents[0], Patient.of(documents[0])
    moment = (entry.service_start_time or entry.creation_time)[:8]
    kind = _field(entry.type_code.display if entry.type_code is not None else entry.title)[:PDF_TYPE_LENGTH].rstrip()
    fields = {"date": moment if moment.isdigit() and len(moment) == 8 else "", "type": kind,
              "NOM": _field(patient.family).upper(), "prénom": _field(patient.given)}  # fmt: skip
    missing = [name for name, value in fields.items() if not value]
    if missing:
        blank = ", ".join(missing)
        said = f"the PDF's name needs the date, type, NOM and prénom of the package's document; blank: {blank}"
        raise _refuse(_codes.PDF_NAME(f"{said} (give pdf as an Attachment to name it)", where="pdf"))
    if file_number is not None:
        if not _FILE_NUMBER.fullmatch(file_number):
            said = f"file_number is letters, digits, dots and hyphens (no _): {file_number[:80]!r}"
            raise _refuse(_codes.PDF_NAME(said, where="file_number"))
        fields["n° de dossier"] = file_number
    return "_".join(fields.values()) + ".pdf"


def compose(
    *,
    sender: Contact,
    to: Sequence[Contact],
    nil: str,
    at: dt.datetime,
    cc: Sequence[Contact] = (),
    subject: str | None = None,
    text: str = "",
    html: str | None = None,
    xdm: Package | None = None,
    pdf: bytes | Attachment | None = None,
    attachments: Sequence[Attachment] = (),
    message_id: str | None = None,
    in_reply_to: str | None = None,
    references: Sequence[str] = (),
    reply_to: Contact | None = None,
    read_receipt: bool = False,
    no_reply: bool = False,
    file_number: str | None = None,
) -> EmailMessage:
    """An MSSanté message, ready to send (``bytes(message)`` or ``message.as_bytes()``).

    ``nil`` is the product reference (``X-MSS-NIL``, on every message). With ``xdm``, the package
    is attached as ``IHE_XDM.zip``, ``X-MSS-CODECDA`` and ``X-MSS-INS`` are set from its CDA
    documents and, unless ``subject`` is given, the subject follows ``XDM/1.0/DDM+<label> <NOM>
    <prénom> <JJ/MM/AAAA>`` (the NOM and prénom mandatory: ``MSS-MSG-027`` without them); ``pdf`` is the same
    document as PDF/A-1, named ``<AAAAMMJJ>_<type>_<NOM>_<prénom>[_<file_number>].pdf`` (Ref #2 ECO.2.1.6: the
    type cut to 40 characters, ``file_number`` the optional n° de dossier). ``read_receipt`` asks for an MDN
    (``Disposition-Notification-To``: the sender). ``no_reply`` ends the exchange for this message: the patient
    may not reply to it. It writes ``X-MSS-MES: FIN`` only, the form Mon espace santé prefers; its other form, a
    subject of exactly ``[FIN]`` (:data:`~mssante.message.FIN_SUBJECT`, which takes away the reply to every earlier
    message too), cannot go with the ``XDM/1.0/DDM+`` subject: give ``subject="[FIN]"`` on a message of its own.

    A message to a patient (``…@patient.mssante.fr``) whose encoded size passes
    :data:`PATIENT_MESSAGE_MAX_BYTES` (25 Mo) raises ``MSS-MSG-026``: Mon espace santé would return it. Header
    values never carry a line break nor a control character, message ids are ``<left@right>``, body text holds no
    NUL (see the module): anything else raises :class:`~mssante.errors.InvalidInput` naming the field, as does an
    invalid address.
    """
    if at.tzinfo is None:
        raise ValueError("at is an aware datetime (the Date header carries its offset)")
    if not _NIL.fullmatch(_safe(nil, "nil")):
        said = f"nil is the product reference, printable ASCII without spaces (such as DEV935997): {nil[:80]!r}"
        raise _refuse(_codes.BAD_HEADER_VALUE(said, where="nil"))
    if not to:
        raise ValueError("a message has at least one recipient in to")
    origin = _mailbox(sender, "sender")
    message = EmailMessage(policy=email.policy.SMTP)
    message["From"] = origin
    recipients = [_mailbox(contact, "to") for contact in to]
    copies = [_mailbox(contact, "cc") for contact in cc]
    message["To"] = recipients
    if copies:
        message["Cc"] = copies
    if reply_to is not None:
        message["Reply-To"] = _mailbox(reply_to, "reply_to")
    message["Date"] = email.utils.format_datetime(at)
    message["Message-ID"] = _msg_id(message_id or email.utils.make_msgid(domain=origin.domain), "message_id")
    references = [_msg_id(reference, "references") for reference in references]
    if in_reply_to:
        message["In-Reply-To"] = _msg_id(in_reply_to, "in_reply_to")
        message["References"] = " ".join([*references, in_reply_to] if in_reply_to not in references else references)
    elif references:
        message["References"] = " ".join(references)
    message["Subject"] = _safe(subject if subject is not None else _subject(xdm) if xdm is not None else "", "subject")
    message[X_MSS_NIL] = nil
    if xdm is not None:
        codes = cda_codes(xdm)
        if codes:
            message[X_MSS_CODECDA] = _safe(join_codes(codes), X_MSS_CODECDA)
            patients = _patients(xdm)
            message[X_MSS_INS] = "O" if patients and all(patient.qualified for patient in patients) else "N"
    if no_reply:
        message[X_MSS_MES] = "FIN"
    if read_receipt:
        message["Disposition-Notification-To"] = str(origin)
    message.set_content(_text(text or "", "text"), subtype="plain", charset="utf-8")
    if html is not None:
        message.add_alternative(_text(html, "html"), subtype="html", charset="utf-8")
    files = list(attachments)
    if xdm is not None:
        files.insert(0, Attachment(filename=XDM_FILENAME, content=xdm.to_zip(), content_type="application/zip"))
    if pdf is not None:
        name = _pdf_name(xdm, file_number) if xdm is not None and not isinstance(pdf, Attachment) else "document.pdf"
        files.insert(1 if xdm is not None else 0, pdf if isinstance(pdf, Attachment) else
                     Attachment(filename=name, content=pdf, content_type="application/pdf"))  # fmt: skip
    for file in files:
        maintype, _, subtype = file.content_type.partition("/")
        message.add_attachment(
            file.content, maintype=maintype, subtype=subtype, filename=_safe(file.filename, "filename")
        )
    _check_size(message, [mailbox.addr_spec for mailbox in recipients + copies])
    return message


def _check_size(message: EmailMessage, recipients: list[str]) -> None:
    """InvalidInput (``MSS-MSG-026``) when a recipient is a patient and the message is over 25 Mo as sent."""
    patients = [address for address in recipients if Address.parse(address).is_patient]
    if not patients:
        return
    # base64 takes 4 bytes for 3, plus CRLF every 76: a message whose parts cannot reach the limit is not written out
    # to be measured (that would double the cost of every compose).
    parts = sum(len(part.get_payload(decode=False) or "") for part in message.walk() if not part.is_multipart())
    if parts * 80 // 76 + 256 * 1024 < PATIENT_MESSAGE_MAX_BYTES:
        return
    size = len(message.as_bytes())
    if size > PATIENT_MESSAGE_MAX_BYTES:
        said = (
            f"the message is {size:,} bytes, over the {PATIENT_MESSAGE_MAX_BYTES:,} Mon espace santé takes: it would "
            f"come back undelivered to {', '.join(patients)}"
        )
        raise _refuse(_codes.TOO_LARGE_FOR_PATIENT(said, where="size"))

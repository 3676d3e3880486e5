"""Reading an MSSanté message: its headers, body, attachments, XDM packages, patient, and what kind it is."""

from __future__ import annotations

import datetime as dt
import email.message
from email.message import EmailMessage

import attrs

from mssante import _html
from mssante.addresses import Address
from mssante.errors import InvalidAddress, InvalidInput
from mssante.message import codes as _codes
from mssante.message._bounces import Bounce, classify_bounces
from mssante.message._compose import cda_codes
from mssante.message._dsn import parse_delivery_status
from mssante.message._headers import (
    FIN,
    X_MSS_CODECDA,
    X_MSS_INS,
    X_MSS_MES,
    X_MSS_NIL,
    Subject,
    is_fin_subject,
    split_codes,
)
from mssante.message._limits import MimeLimits
from mssante.message._mail_addresses import MailAddress
from mssante.message._mdn import parse_disposition_notification
from mssante.message._mime_parser import parse_mime
from mssante.message._mime_values import MimeMessage, Part
from mssante.message._notification_values import Dsn, Mdn
from mssante.message._patient import Patient
from mssante.message._report_reading import DSN_NO_BLOCK, MDN_NO_BLOCK, report_type
from mssante.message._report_types import block_kind, report_kind
from mssante.message.notification_codes import MDN_FIELDS_IN_HEADER
from mssante.report import Finding
from mssante.xdm import Budget, Package

__all__ = ["Message", "parse"]

_ZIP_TYPES = frozenset(
    {"application/zip", "application/x-zip-compressed", "application/x-zip", "application/octet-stream"}
)


def _is_xdm(part: Part) -> bool:
    name = (part.filename or "").casefold()
    return name.endswith(".zip") and ("ihe_xdm" in name or part.content_type in _ZIP_TYPES)


def _address(mailbox: MailAddress) -> Address | None:
    try:
        return Address.parse(mailbox.address)
    except InvalidAddress:
        return None


@attrs.frozen(kw_only=True)
class Message:
    """An MSSanté message as read: what a receiving system needs, and the MIME structure under it (``mime``)."""

    mime: MimeMessage = attrs.field(repr=False)
    subject: str
    sender: MailAddress | None
    to: tuple[MailAddress, ...]
    cc: tuple[MailAddress, ...]
    message_id: str | None
    in_reply_to: str | None
    references: tuple[str, ...]
    date: dt.datetime | None
    codecda: tuple[str, ...]
    """The codes of the X-MSS-CODECDA lines (split on commas, semicolons or spaces)."""
    ins: str | None
    """The X-MSS-INS value (``O`` or ``N``), if any."""
    nil: str | None
    mes: str | None
    text: str | None
    html: str | None
    attachments: tuple[Part, ...]
    packages: tuple[tuple[Part, Package], ...]
    """Each readable IHE_XDM archive with the attachment it came from.

    A package's documents are inflated when first asked for, within the message's decoding budget: an
    :class:`~mssante.errors.InvalidInput` (``MSS-ZIP-023``) once it is spent, ``MSS-ZIP-018`` or ``-019``
    for a damaged document (:func:`lint` reports them as findings).
    """
    patients: tuple[Patient, ...]
    """The distinct patients of the packages' document entries (by patientId)."""
    kind: str
    """``message``, ``mdn`` (a read receipt, RFC 8098) or ``dsn`` (a delivery report, RFC 3464).

    A ``multipart/report`` carrying a disposition-notification or delivery-status block is an ``mdn`` or a
    ``dsn`` even when its block does not read: then ``mdn`` or ``dsn`` is None and ``findings`` say why. So is
    one whose ``report-type`` is ``disposition-notification`` or ``delivery-status`` but that has no block at
    all (``MSS-MDN-009``, ``MSS-DSN-014``).
    """
    mdn: Mdn | None = None
    """The read receipt's block, when ``kind`` is ``mdn`` and it reads."""
    dsn: Dsn | None = None
    """The delivery report's block, when ``kind`` is ``dsn`` and it reads."""
    findings: tuple[Finding, ...] = ()
    """What reading tolerated or could not read (MIME oddities, an unreadable archive)."""

    def _repr_html_(self) -> str:
        """Headers, X-MSS fields, attachments, packages, patients and what reading tolerated, for notebooks."""
        patients = [f"{p.family} {p.given} ({p.ins or p.patient_id})".strip() for p in self.patients]
        return _html.section(
            _html.heading(f"Message ({self.kind}): {self.subject}"),
            _html.definitions(
                [
                    ("From", str(self.sender) if self.sender else None),
                    ("To", _html.items(str(mailbox) for mailbox in self.to)),
                    ("Cc", _html.items(str(mailbox) for mailbox in self.cc)),
                    ("Date", self.date.isoformat() if self.date else None),
                    ("Message-ID", self.message_id),
                    ("In-Reply-To", self.in_reply_to),
                    ("X-MSS-NIL", self.nil),
                    ("X-MSS-INS", self.ins),
                    ("X-MSS-CODECDA", ", ".join(self.codecda)),
                    ("X-MSS-MES", self.mes),
                    ("patients", _html.items(patients)),
                    ("text", self.text),
                ]
            ),
            _html.table(
                ["attachment", "type", "bytes", "XDM documents"],
                [
                    (
                        part.filename or part.path,
                        part.content_type,
                        f"{len(part.data):,}",
                        next((_entries(package) for source, package in self.packages if source is part), ""),
                    )
                    for part in self.attachments
                ],
            ),
            _html.findings(self.findings),
        )

    @property
    def is_reply(self) -> bool:
        """Whether the message answers another (``In-Reply-To``)."""
        return bool(self.in_reply_to)

    @property
    def ends_conversation(self) -> bool:
        """Whether the message ends the exchange with the patient it is sent to, by either form of Mon espace santé
        (CNAM, ENS Mon espace santé Messagerie V1.3 §7): ``X-MSS-MES: FIN`` (the preferred form, Ref #2 ECO.2.2.8:
        no reply to this message) or a subject of exactly ``[FIN]`` (no reply to any earlier message either).
        The value is read as written: ``fin`` or ``[Fin]`` end nothing (``MSS-MSG-010`` judges the header)."""
        return self.mes == FIN or is_fin_subject(self.subject)

    @property
    def bounces(self) -> tuple[Bounce, ...]:
        """For a delivery report (``kind`` ``dsn`` whose block reads), each failed recipient and why it failed
        (:class:`~mssante.message.BounceReason`: closed mailbox, unknown recipient, invalid address, too large or
        other), as :func:`~mssante.message.classify_bounces` reads it; empty for any other message."""
        return classify_bounces(self.dsn) if self.dsn is not None else ()

    @property
    def patient(self) -> Patient | None:
        """The patient the message is about, when its documents name exactly one."""
        return self.patients[0] if len(self.patients) == 1 else None

    @property
    def recipients(self) -> tuple[MailAddress, ...]:
        """To, then Cc."""
        return self.to + self.cc

    @property
    def patient_recipients(self) -> tuple[Address, ...]:
        """The recipients with a patient (MSS-C) address: ``<INS>@patient.mssante.fr``."""
        addresses = (_address(mailbox) for mailbox in self.recipients)
        return tuple(address for address in addresses if address is not None and address.is_patient)

    @property
    def subject_parts(self) -> Subject | None:
        """The subject read by the ``XDM/1.0/DDM+`` convention, if it follows it."""
        return Subject.parse(self.subject)

    @property
    def cda_codes(self) -> tuple[str, ...]:
        """The type codes of the CDA documents in the packages, in archive order."""
        return tuple(code for _, package in self.packages for code in cda_codes(package))


def _entries(package: Package) -> int:
    """The document entries of the package's metadata, counted without inflating a document."""
    return sum(len(subset.metadata.documents) for subset in package.subsets if subset.metadata is not None)


def declared_report_type(mime: MimeMessage) -> str:
    """The ``report-type`` parameter of the message's Content-Type, lower-case; empty when it has none."""
    holder = email.message.Message()
    holder["Content-Type"] = mime.get("Content-Type") or ""
    return report_type(holder)


def _notification(mime: MimeMessage, findings: list[Finding]) -> tuple[str, Mdn | None, Dsn | None]:
    """What a ``multipart/report`` reports: an MDN or a DSN (the first report part that reads).

    When no report part reads, the kind is still the first one's: an MDN whose block is broken is a broken
    MDN (its findings say how), not a message. A report whose ``report-type`` says
    ``disposition-notification`` (or ``delivery-status``) but that has no such part at all is a broken MDN
    (or DSN) too: ``MSS-MDN-009`` (``MSS-DSN-014``).
    """
    human = mime.body_text or ""
    if mime.content_type != "multipart/report":
        return "message", None, None
    reports = [(part, kind) for part in mime.parts if (kind := block_kind(part.content_type)) is not None]
    if not reports:
        declared = declared_report_type(mime)
        declared_kind = report_kind(declared)
        if declared_kind is None:
            return "message", None, None
        code = MDN_NO_BLOCK if declared_kind == "mdn" else DSN_NO_BLOCK
        block = "disposition-notification" if declared_kind == "mdn" else "delivery-status"
        message = f"the report (report-type={declared}) has no message/{block} part"
        findings.append(code(message, where="Content-Type"))
        return declared_kind, None, None
    for part, kind in reports:
        data = part.data
        fields = [(name, value) for name, value in part.headers if not name.lower().startswith("content-")]
        if kind == "mdn" and not data.strip() and fields:  # the volet's example: no blank line before the fields
            data = "".join(f"{name}: {value}\r\n" for name, value in fields).encode("utf-8", "surrogateescape")
            said = f"part {part.path}: {len(fields)} field(s)"
            findings.append(MDN_FIELDS_IN_HEADER(said, where=f"part {part.path}"))
        try:
            if kind == "mdn":
                return kind, parse_disposition_notification(data, human_text=human), None
            return kind, None, parse_delivery_status(data, human_text=human)
        except InvalidInput as error:
            findings.extend(finding.located(f"part {part.path}") for finding in error.report.findings)
    return reports[0][1], None, None


def parse(data: bytes | EmailMessage, *, limits: MimeLimits | None = None, budget: Budget | None = None) -> Message:
    """Read a message (its bytes, or an :class:`email.message.EmailMessage`).

    Tolerant of what real mailers send; :class:`~mssante.errors.InvalidInput` only beyond the
    limits (size, parts, depth, the decoded MIME parts) or when the bytes are not a message at all.

    One decoding budget covers the whole message: ``budget``, or a new :class:`~mssante.xdm.Budget` of
    ``limits.max_decoded_bytes``. The MIME parts spend it, then each IHE_XDM archive attached (its central
    directory, README.TXT, INDEX.HTM and METADATA.XML), then, later, each document a package is asked for.
    An archive that cannot be read (unsafe, or past the budget) is left out with ``MSS-MSG-021``: the rest
    of the message is read.
    """
    raw = data.as_bytes() if isinstance(data, EmailMessage) else bytes(data)
    limits = limits or MimeLimits()
    budget = budget if budget is not None else Budget(limits.max_decoded_bytes)
    mime = parse_mime(raw, limits=limits, budget=budget)
    findings = list(mime.findings)
    packages = []
    for part in mime.attachments:
        if not _is_xdm(part):
            continue
        try:
            packages.append((part, Package.read(part.data, budget=budget)))
        except InvalidInput as error:
            where = f"attachment {part.filename}"
            found = ", ".join(dict.fromkeys(error.report.codes))
            message = f"{part.filename}: {error}" + (f" ({found})" if found else "")
            findings.append(_codes.XDM_UNREADABLE(message, where=where))
    patients: dict[str, Patient] = {}
    for _, package in packages:
        for subset in package.subsets:
            for entry in subset.metadata.documents if subset.metadata else ():
                patients.setdefault(entry.patient_id, Patient.of(entry))
    kind, mdn, dsn = _notification(mime, findings)
    senders = mime.mailboxes("From")
    return Message(
        mime=mime,
        subject=mime.subject or "",
        sender=senders[0] if senders else None,
        to=mime.mailboxes("To"),
        cc=mime.mailboxes("Cc"),
        message_id=mime.message_id,
        in_reply_to=mime.in_reply_to,
        references=mime.references,
        date=mime.date,
        codecda=split_codes(list(mime.get_all(X_MSS_CODECDA))),
        ins=(mime.get(X_MSS_INS) or "").strip() or None,
        nil=(mime.get(X_MSS_NIL) or "").strip() or None,
        mes=(mime.get(X_MSS_MES) or "").strip() or None,
        text=mime.body_text,
        html=mime.body_html,
        attachments=mime.attachments,
        packages=tuple(packages),
        patients=tuple(patients.values()),
        kind=kind,
        mdn=mdn,
        dsn=dsn,
        findings=tuple(findings),
    )

"""``probe_message``: one report a vendor attaches to its qualification file, about one message it produced.

The message is read once (:func:`mssante.message.parse`) and judged once (:func:`mssante.message.lint`, which
validates each XDM package with :func:`mssante.xdm.validate`); the findings are sorted into the checks a
qualification asks about. Only what lint does not look at is added: the PDF/A conformance level of the XMP
metadata (``pdfaid:conformance``), next to the ``pdfaid:part`` lint reads.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from mssante.message import Message, MimeLimits, lint, parse
from mssante.message import codes as message_codes
from mssante.probe import codes
from mssante.probe._result import ProbeCheck, ProbeReport
from mssante.report import Finding

__all__ = ["MAX_PDF_SCAN", "pdfa_identification", "probe_message"]

MAX_PDF_SCAN = 64 * 1024 * 1024
"""Bytes of a PDF searched for its XMP identification (PDF/A-1 leaves the metadata stream unfiltered,
ISO 19005-1 6.7.2: the packet is plain text in the file)."""

_PDFAID = re.compile(
    rb"pdfaid:(part|conformance)\s*(?:=\s*[\"']\s*([0-9A-Za-z]{1,3})\s*[\"']|>\s*([0-9A-Za-z]{1,3})\s*<)"
)

_SUBJECT = {message_codes.NO_SUBJECT_CONVENTION.id, message_codes.SUBJECT_FIELDS.id,
            message_codes.SUBJECT_PATIENT_MISMATCH.id}  # fmt: skip
_PATIENT = {
    message_codes.NO_INS_HEADER.id,
    message_codes.BAD_INS_HEADER.id,
    message_codes.INS_HEADER_MISMATCH.id,
    message_codes.PATIENT_WITHOUT_INS.id,
    message_codes.SEVERAL_PATIENTS.id,
}
_PDF = {message_codes.NO_PDF.id, message_codes.NOT_PDF_A1.id, codes.PDF_A_CONFORMANCE.id}
_NAMES = {message_codes.PDF_NAME.id}
_PACKAGE = {message_codes.XDM_UNREADABLE.id}
_PACKAGE_AREAS = ("MSS-XDM-", "MSS-ZIP-", "MSS-CDA-", "MSS-HLV-", "MSS-JDV-")

CHECKS = ("mime", "headers", "subject", "patient", "xdm-package", "pdf-a", "file-names")
"""The checks of a message probe, in order."""


def _check_of(finding: Finding) -> str:
    code = finding.code
    if code in _SUBJECT:
        return "subject"
    if code in _PATIENT:
        return "patient"
    if code in _PDF:
        return "pdf-a"
    if code in _NAMES:
        return "file-names"
    if code in _PACKAGE or code.startswith(_PACKAGE_AREAS):
        return "xdm-package"
    if code.startswith("MSS-MIME-"):
        return "mime"
    return "headers"


def pdfa_identification(data: bytes) -> tuple[str | None, str | None]:
    """The ``pdfaid:part`` and ``pdfaid:conformance`` of a PDF's XMP metadata (the last packet's of each, as an
    incremental update writes it last), searched in the first :data:`MAX_PDF_SCAN` bytes; None for one absent."""
    found: dict[bytes, str] = {}
    for match in _PDFAID.finditer(data, 0, MAX_PDF_SCAN):
        found[match.group(1)] = (match.group(2) or match.group(3)).decode("ascii")
    return found.get(b"part"), found.get(b"conformance")


def _conformance(message: Message) -> Iterator[Finding]:
    if not message.packages:  # lint judges the PDFs of a message carrying documents only
        return
    for part in message.attachments:
        if part.content_type != "application/pdf" and not (part.filename or "").lower().endswith(".pdf"):
            continue
        number, level = pdfa_identification(part.data)
        if number == "1" and (level or "").upper() not in ("A", "B"):
            said = f"pdfaid:conformance {level}" if level else "no pdfaid:conformance"
            yield codes.PDF_A_CONFORMANCE(f"{part.filename or part.path}: {said}", where=f"attachment {part.filename}")


def probe_message(
    message: Message | bytes, *, environment: str = "prod", limits: MimeLimits | None = None
) -> ProbeReport:
    """Everything a vendor's qualification asks about one message, as named checks (:data:`CHECKS`).

    ``environment`` (``prod`` or ``test``) is :func:`mssante.message.lint`'s; a message given as bytes is read
    with ``limits``.
    """
    if not isinstance(message, Message):
        message = parse(message, limits=limits)
    report = lint(message, environment=environment)
    findings = [*report.findings, *_conformance(message)]
    grouped: dict[str, list[Finding]] = {name: [] for name in CHECKS}
    for finding in findings:
        grouped[_check_of(finding)].append(finding)
    subject = message.subject or message.message_id or "message"
    return ProbeReport(subject=subject, checks=[ProbeCheck(name=name, findings=grouped[name]) for name in CHECKS])

"""Reading a report back as :func:`mssante.message.parse` reads it: the library's one MIME walker and decoder."""

from __future__ import annotations

from email.message import Message
from email.policy import EmailPolicy

from mssante.errors import InvalidInput
from mssante.message import Dsn, Mdn, parse
from mssante.report import Report

_BLOCK_CODES = ("MSS-MDN-", "MSS-DSN-")


def _bytes(message: Message | bytes) -> bytes:
    """The message as sent: header fields read from bytes are written back as they were read, never refolded, and
    8-bit text stays 8-bit (Python 3.13 would otherwise write it as ``unknown-8bit`` encoded words)."""
    if isinstance(message, bytes):
        return message
    policy = message.policy
    if isinstance(policy, EmailPolicy):
        policy = policy.clone(refold_source="none", utf8=True)
    return message.as_bytes(policy=policy)


def read_report(message: Message | bytes) -> Mdn | Dsn | None:
    """The MDN or DSN of ``message`` as :func:`~mssante.message.parse` reads it; None for a message that is neither.

    A report whose block does not read raises :class:`~mssante.errors.InvalidInput` with the block's findings.
    """
    read = parse(_bytes(message))
    if read.kind == "message":
        return None
    if read.mdn is not None or read.dsn is not None:
        return read.mdn or read.dsn
    findings = [finding for finding in read.findings if finding.code.startswith(_BLOCK_CODES)]
    raise InvalidInput(f"the {read.kind} does not read", Report(findings=findings, subject=f"a {read.kind}"))


def block_of(message: Message | bytes, content_type: str) -> bytes:
    """The content of the first part of ``content_type`` (a report's block), as :func:`~mssante.message.parse` reads
    it."""
    read = parse(_bytes(message))
    return next(part.data for part in read.mime.parts if part.content_type == content_type)

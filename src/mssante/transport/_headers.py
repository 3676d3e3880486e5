"""The header block of a message a transport sends: read once, the same way, by every transport.

:class:`~mssante.transport.Submission`, :class:`~mssante.transport.AsyncSubmission`, :class:`~mssante.transport.Relay`,
:class:`~mssante.transport.MemoryTransport` and :class:`~mssante.transport.FileTransport` all hand their message to
:func:`prepare`: the envelope comes from the header fields :func:`read_header_block` finds, the Message-ID from the
SDK's one grammar (:data:`mssante.message.MSG_ID`), and what is transmitted is the message without its
``Bcc`` and ``Resent-Bcc`` fields (:func:`strip_hidden`), whatever their case, spacing or folding.

A field is read as RFC 5322 writes it (§2.2) and as its obsolete syntax allows it (§4.5: white space before the
colon, ``Bcc : x``): MTAs and mail readers take ``Bcc : x`` for a field, so it is one here too, though the email
package's parser takes it for the first line of the body. A continuation line starts with a space or a tab. Lines
end with CRLF, LF or a bare CR, as the SDK's parser (the email package's feed parser) breaks them. The block ends at
the first empty line, or at the first line that is neither a field nor a continuation (the body starts there).

Only the bytes of the hidden fields are removed: every other byte of the message, the other fields and the body, is
transmitted as it was given (a DKIM signature over them still verifies).
"""

from __future__ import annotations

import email.message
import email.parser
import email.policy
import email.utils
import re
from collections.abc import Callable, Collection

import attrs

from mssante.message import MSG_ID
from mssante.report import Report
from mssante.transport import codes
from mssante.transport._results import Envelope, envelope_address

__all__ = [
    "HIDDEN_FIELDS",
    "Field",
    "HeaderBlock",
    "Prepared",
    "first_msg_id",
    "header_recipients",
    "prepare",
    "read_header_block",
    "strip_hidden",
]

HIDDEN_FIELDS = frozenset({"bcc", "resent-bcc"})
"""The fields never transmitted (lower case): they name recipients the others must not see (RFC 5322 §3.6.3, §3.6.6)."""

_LINE = re.compile(rb"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")
_NAME = re.compile(rb"([\x21-\x39\x3b-\x7e]*)[ \t]*:")
_EMPTY = frozenset({b"\r\n", b"\n", b"\r"})
_COMMENT = re.compile(r"\([^()]*\)")


@attrs.frozen
class Field:
    """One header field: its name as written (without the white space before the colon), and where its bytes are
    (``data[start:end]``: the field's lines, continuation lines and line ends included)."""

    name: str
    start: int
    end: int

    @property
    def key(self) -> str:
        """The name as compared: lower case."""
        return self.name.lower()


@attrs.frozen
class HeaderBlock:
    """The header fields of ``data``, in order."""

    data: bytes = attrs.field(repr=False)
    fields: tuple[Field, ...]

    def raw(self, field: Field) -> bytes:
        """The bytes of ``field``, as they are in the message."""
        return self.data[field.start : field.end]

    def message(self) -> email.message.Message:
        """The fields as the email package reads them (``compat32``: the values raw, encoded words kept), each
        field name written again without white space before its colon, so that the package sees every field."""
        lines = []
        for field in self.fields:
            raw = self.raw(field)
            line = field.name.encode("ascii") + raw[raw.index(b":") :]
            lines.append(line if line.endswith((b"\n", b"\r")) else line + b"\r\n")
        return email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(b"".join(lines) + b"\r\n")

    def without(self, names: Collection[str] = HIDDEN_FIELDS) -> bytes:
        """The message without its fields named ``names`` (lower case; by default ``Bcc`` and ``Resent-Bcc``), their
        continuation lines and line ends included; every other byte as it was."""
        pieces: list[bytes] = []
        position = 0
        for field in self.fields:
            if field.key in names:
                pieces.append(self.data[position : field.start])
                position = field.end
        if not pieces:
            return self.data
        pieces.append(self.data[position:])
        return b"".join(pieces)

    def values(self, name: str) -> list[str]:
        """The values of the fields named ``name`` (any case), unfolded, in order."""
        found = []
        for field in self.fields:
            if field.key == name.lower():
                raw = self.raw(field)
                value = raw[raw.index(b":") + 1 :].decode("ascii", "replace")
                found.append(" ".join(value.split()))
        return found


def read_header_block(data: bytes) -> HeaderBlock:
    """The header fields of the message ``data`` (see the module's documentation for the rules)."""
    fields: list[Field] = []
    name: str | None = None
    start = end = 0
    for line in _LINE.finditer(data):
        text = line.group()
        if text in _EMPTY:
            break
        if text[:1] in (b" ", b"\t"):  # a continuation line (before any field: a stray line, kept)
            end = line.end()
            continue
        found = _NAME.match(text)
        if found is None and not text.startswith(b"From "):  # the body starts here (an mbox "From " line is kept)
            break
        if name is not None:
            fields.append(Field(name, start, end))
        name = found.group(1).decode("ascii") if found is not None else None
        start, end = line.start(), line.end()
    if name is not None:
        fields.append(Field(name, start, end))
    return HeaderBlock(data, tuple(fields))


def strip_hidden(data: bytes, names: Collection[str] = HIDDEN_FIELDS) -> bytes:
    """``data`` without its ``Bcc`` and ``Resent-Bcc`` fields (or those named ``names``, lower case), whatever their
    case, spacing or folding; every other byte as it was (see :meth:`HeaderBlock.without`)."""
    return read_header_block(data).without(names)


def first_msg_id(value: str | None) -> str | None:
    """The first msg-id ``value`` holds (a Message-ID, In-Reply-To or ENVID value, or an identifier given bare),
    comments skipped, as :data:`~mssante.message.MSG_ID` (the SDK's one grammar) reads it; angle
    brackets are added around a value given without them (``id@host``); None when it holds none."""
    if not value:
        return None
    text = _COMMENT.sub(" ", value).strip()
    if not text.startswith("<"):
        text = f"<{text}>"
    found = MSG_ID.search(text)
    return found.group() if found is not None else None


def header_recipients(headers: email.message.Message) -> tuple[str, ...]:
    """The addresses of the To, Cc and Bcc headers, each once, in order: who the message goes to."""
    seen: dict[str, None] = {}
    for field in ("To", "Cc", "Bcc"):
        for _, address in email.utils.getaddresses([str(v) for v in headers.get_all(field, [])]):
            if address:
                seen.setdefault(address, None)
    return tuple(seen)


@attrs.frozen
class Prepared:
    """A message ready for a transport: the bytes to transmit (no Bcc), its envelope and its Message-ID."""

    data: bytes = attrs.field(repr=False)
    envelope: Envelope
    message_id: str | None


Refusal = Callable[[str, Report], Exception]
"""Builds the exception a transport raises for a message it cannot send: ``(message, report)``."""


def prepare(data: bytes, envelope: Envelope | None, *, refuse: Refusal) -> Prepared:
    """``data`` ready to send: the envelope from From and To, Cc, Bcc unless ``envelope`` is given, the Message-ID,
    and the bytes without ``Bcc`` and ``Resent-Bcc``.

    Each address of the headers must be one valid address (:class:`~mssante.errors.InvalidAddress` otherwise); a
    message without a sender or a recipient raises ``refuse(message, report)`` (``MSS-TRN-020``, ``MSS-TRN-021``).
    """
    block = read_header_block(data)
    headers = block.message()
    if envelope is None:
        senders = [address for _, address in email.utils.getaddresses([str(v) for v in headers.get_all("From", [])])]
        if not senders or not senders[0]:
            message = "the message has no From address: give an envelope"
            raise refuse(message, Report(findings=[codes.NO_SENDER(message, where="From")], subject="message"))
        envelope = Envelope(
            sender=envelope_address(senders[0], role="sender (From)"),
            recipients=[
                envelope_address(address, role="recipient (To, Cc, Bcc)") for address in header_recipients(headers)
            ],
        )
    if not envelope.recipients:
        message = "the message has no recipient (no To, Cc or Bcc, and no envelope recipient)"
        raise refuse(message, Report(findings=[codes.NO_RECIPIENT(message, where="To")], subject="message"))
    ids = block.values("Message-ID")
    return Prepared(block.without(HIDDEN_FIELDS), envelope, first_msg_id(ids[0]) if ids else None)

"""Writing a mail that answers another (a read receipt, a delivery report, the CI-SIS KO mail): its envelope,
threading, raw header fields, and copies of the original and of its attachments.

The original is an :class:`email.message.Message` as the caller holds it; it is walked within the bounds
:func:`~mssante.message.parse` reads (:data:`~mssante.message._limits.MAX_PARTS`,
:data:`~mssante.message._limits.MAX_DEPTH`), and its subject is decoded with the one RFC 2047 decoder of
:mod:`mssante.message` (:func:`~mssante.message._decoding.decode_words`).
"""

from __future__ import annotations

import datetime as dt
import io
import re
import secrets
from collections.abc import Iterator
from email import policy as email_policy
from email.errors import MessageError
from email.generator import BytesGenerator
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.policy import Policy
from email.utils import format_datetime, parseaddr

from mssante.message._decoding import decode_words
from mssante.message._headers import MSG_ID, UNSAFE_IN_HEADER
from mssante.message._limits import MAX_DEPTH, MAX_PARTS
from mssante.message._notification_values import KO_SUBJECT_PREFIX, check_line

__all__ = [
    "attach",
    "attachment_name",
    "attachments_of",
    "bare_address",
    "checked_time",
    "copy_message",
    "envelope",
    "ko_subject",
    "original_header",
    "raw_field",
    "sender_mailbox",
    "thread",
]

_WIDTH = 78
_MAX_REFERENCES = 20
_FOLD_AT = re.compile(r"(?<=\S) ")
_UNFOLD = re.compile(r"\r?\n(?=[ \t])")


def original_header(original: Message, name: str, *, decode: bool = False) -> str | None:
    """A header of the original, unfolded, or None; ValueError when it would inject lines.

    ``decode`` decodes the RFC 2047 words a compat32 message leaves encoded (only for unstructured text:
    a decoded display name could change how an address list reads).
    """
    value = original.get(name)
    if value is None:
        return None
    text = str(value).encode("utf-8", "surrogateescape").decode("utf-8", errors="replace")
    text = _UNFOLD.sub("", text)
    if decode:
        decoded, problems = decode_words(text)
        if not problems and not UNSAFE_IN_HEADER.search(decoded):  # else kept as written: no half-decoded subject
            text = decoded
    return check_line(f"the original's {name} header", text).strip()


def sender_mailbox(what: str, value: str) -> tuple[str, str]:
    """(header value, bare address) of a mailbox given as ``a@b`` or ``Name <a@b>``."""
    check_line(what, value)
    address = parseaddr(value)[1]
    if "@" not in address or any(char.isspace() for char in address):
        raise ValueError(f"{what} {value[:80]!r} is not an e-mail address")
    return value.strip(), address


def bare_address(what: str, value: str) -> str:
    """``value`` when it is a bare address ``a@b`` (ValueError naming ``what`` otherwise)."""
    check_line(what, value)
    address = value.strip()
    if not address or any(char.isspace() or char in "<>;," for char in address) or "@" not in address:
        raise ValueError(f"{what} {value[:80]!r} is not a bare e-mail address")
    return address


def checked_time(at: dt.datetime) -> dt.datetime:
    """``at`` when it is timezone-aware (ValueError otherwise)."""
    if at.utcoffset() is None:
        raise ValueError("at must be a timezone-aware datetime")
    return at


def _message_id(message_id: str | None, sender_address: str) -> str:
    if message_id is None:
        domain = sender_address.rpartition("@")[2]
        return f"<{secrets.token_hex(16)}@{domain}>"
    check_line("message_id", message_id)
    if not MSG_ID.fullmatch(message_id.strip()):
        raise ValueError(f"message_id {message_id[:80]!r} is not <left@right>")
    return message_id.strip()


def copy_message(message: Message) -> EmailMessage:
    """An independent copy of ``message``, serialised and read back (bodies and attachments kept byte for byte)."""
    buffer = io.BytesIO()
    try:
        BytesGenerator(buffer, mangle_from_=False, policy=message.policy).flatten(message)
    except (MessageError, LookupError, UnicodeError, ValueError, TypeError) as error:
        raise ValueError(f"the original message cannot be serialised: {error}") from error
    copy = BytesParser(policy=email_policy.default).parsebytes(buffer.getvalue())
    assert isinstance(copy, EmailMessage)  # the default policy makes EmailMessage objects
    return copy


def thread(target: EmailMessage, original: Message) -> str | None:
    """Set In-Reply-To and References from the original; give back its Message-ID."""
    original_id = original_header(original, "Message-ID")
    if original_id and MSG_ID.fullmatch(original_id):
        # Written raw: the default policy would RFC 2047-encode a long identifier, which breaks threading.
        target.set_raw("In-Reply-To", raw_field("In-Reply-To", original_id))
        earlier = (original_header(original, "References") or "").split()
        references = [*(ref for ref in earlier if MSG_ID.fullmatch(ref)), original_id][-_MAX_REFERENCES:]
        target.set_raw("References", raw_field("References", " ".join(references)))
    return original_id or None


def envelope(
    *, target: EmailMessage, sender: str, to: str, subject: str, at: dt.datetime, message_id: str | None
) -> None:
    """Set the header of an answer: From, To, Subject, Date, Message-ID, MIME-Version, ``Auto-Submitted``."""
    header, address = sender_mailbox("sender", sender)
    target["From"] = header
    target["To"] = check_line("to", to)
    target["Subject"] = check_line("subject", subject)
    target["Date"] = format_datetime(checked_time(at))
    target.set_raw("Message-ID", raw_field("Message-ID", _message_id(message_id, address)))
    target["MIME-Version"] = "1.0"
    target["Auto-Submitted"] = "auto-replied"


def ko_subject(code: str | None, subject: str) -> str:
    """The subject of a negative MDN or KO mail: ``[KO Intégration système !][<code>] <subject>``."""
    prefix = f"{KO_SUBJECT_PREFIX}[{code}]" if code else KO_SUBJECT_PREFIX
    return f"{prefix} {subject}".rstrip()


def _fold(head: int, value: str) -> str:
    """``value`` folded before spaces so that no line is longer than 78 characters when it can be.

    Each fold goes before a space that follows a non-space: unfolding (removing the line breaks) gives
    ``value`` back, and no continuation line is blank.
    """
    lines: list[str] = []
    begin, room, last = 0, _WIDTH - head, 0  # start of the current line, its room, the last cut seen
    for match in _FOLD_AT.finditer(value):
        cut = match.start()
        if cut - begin > room:
            end = last if last > begin else cut  # the last cut that fits, else this one (a long word)
            lines.append(value[begin:end])
            begin, room = end, _WIDTH
            if cut - begin > room:
                lines.append(value[begin:cut])
                begin = cut
        last = cut
    if len(value) - begin > room and last > begin:
        lines.append(value[begin:last])
        begin = last
    lines.append(value[begin:])
    return "\n".join(lines)


class _RawField(str):
    """A field written exactly as given: UTF-8 bytes (as surrogate escapes), folded by us.

    Having a ``name`` and a ``fold`` makes it a header object for :class:`email.policy.EmailPolicy`,
    which then writes it as it is instead of refolding or RFC 2047-encoding it.
    """

    name: str

    def fold(self, *, policy: Policy) -> str:
        return f"{self.name}: " + policy.linesep.join(self.split("\n")) + policy.linesep


def raw_field(name: str, value: str, *, fold: bool = True) -> _RawField:
    written = _fold(len(name) + 2, value) if fold else value
    field = _RawField(written.encode("utf-8").decode("ascii", "surrogateescape"))
    field.name = name
    return field


def attachment_name(name: str | None) -> str | None:
    """A file name with its line breaks and control characters replaced; None when nothing is left."""
    if name is None:
        return None
    cleaned = UNSAFE_IN_HEADER.sub("_", name).strip()
    return cleaned or None


def _walk(message: Message) -> Iterator[Message]:
    """The entities of ``message``, depth first, within the bounds :func:`~mssante.message.parse` reads: at most
    :data:`~mssante.message._limits.MAX_PARTS` parts and as many multiparts, none deeper than
    :data:`~mssante.message._limits.MAX_DEPTH` (the top level is 0)."""
    stack: list[tuple[Message, int]] = [(message, 0)]
    parts = multiparts = 0
    while stack:
        part, depth = stack.pop()
        payload = part.get_payload()
        if isinstance(payload, list) and payload and part.get_content_maintype() == "multipart":
            multiparts += 1
            if multiparts > MAX_PARTS:
                return
            yield part
            if depth < MAX_DEPTH:
                stack.extend((child, depth + 1) for child in reversed(payload) if isinstance(child, Message))
        else:
            parts += 1
            if parts > MAX_PARTS:
                return
            yield part


def attachments_of(message: Message) -> list[Message]:
    """The attachments of ``message`` in order: parts with a filename or ``Content-Disposition: attachment``."""
    found: list[Message] = []
    for part in _walk(message):
        if part is message or part.get_content_maintype() == "multipart":
            continue
        if part.get_content_disposition() == "attachment" or part.get_filename():
            found.append(part)
    return found


def attach(target: EmailMessage, part: Message) -> None:
    """Attach a copy of the original's ``part`` to ``target`` (an attached message whole, its file name kept)."""
    filename = attachment_name(part.get_filename())
    if part.get_content_type() == "message/rfc822" and isinstance(part.get_payload(), list):
        enclosed = part.get_payload(0)
        if isinstance(enclosed, Message):
            target.add_attachment(copy_message(enclosed), filename=filename)
            return
    data = part.get_payload(decode=True)
    if not isinstance(data, bytes):
        data = b""
    maintype, subtype = part.get_content_type().split("/", 1)
    if maintype == "message":
        maintype, subtype = "application", "octet-stream"
    target.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)

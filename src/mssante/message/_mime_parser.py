"""Reading an untrusted MIME message: bounded, typed, and every oddity a finding.

:func:`parse_mime` reads any incoming message with the standard library's feed parser
(:mod:`email.feedparser`) under a variant of ``email.policy.default``, and returns a
:class:`~mssante.message.MimeMessage`: decoded headers, strictly parsed mailboxes, and every leaf part with its
decoded data. It raises :class:`~mssante.errors.InvalidInput` only when the input passes a hard
limit of :class:`~mssante.message.MimeLimits` or is not a message at all; anything else odd is a finding.

How the bounds hold:

- Size, line count and the top-level header fields are checked on the raw bytes before parsing.
- The parser builds its MIME entities through a message class that counts the parts and the
  multiparts, checks their nesting depth and their header fields *as they are created*, and stops the
  parse at the first limit passed. The input is fed in chunks, so a refused message is never split into lines whole.
- ``message/*`` parts are kept whole by the parser and read again by :func:`parse_mime`, sharing
  the same budget: their data is the original bytes (a delivery-status block included), and an
  attached message is parsed from exactly what was attached.
- Every part's decoded data counts against the message's decoding :class:`~mssante.xdm.Budget`, which
  :func:`mssante.message.parse` shares with the archives attached to the message.
- The part count and the depth are the bounds of everything in :mod:`mssante.message` that walks a
  message (:data:`~mssante.message._limits.MAX_PARTS`, :data:`~mssante.message._limits.MAX_DEPTH`).
- The header classes of :mod:`email.headerregistry` take time quadratic in a header's length, so
  the parser is never asked to use them: RFC 2047 words are decoded here in linear time, MIME
  parameters by the linear ``Message.get_params``, and only address headers go through
  :mod:`email.headerregistry`, within a fixed work budget.
"""

from __future__ import annotations

import binascii
import datetime
import email.utils
import re
from collections.abc import Mapping
from email.feedparser import BytesFeedParser
from email.message import EmailMessage
from email.policy import EmailPolicy
from typing import TYPE_CHECKING, Any

import attrs

from mssante.errors import InvalidInput
from mssante.message import mime_codes as codes
from mssante.message._decoding import (
    COMMENT,
    FOLD,
    LINE_BREAKS,
    TEXT_PROBLEMS,
    as_text,
    decode_base64,
    decode_bytes,
    decode_words,
    first_token,
    latin1_octets,
    safe_filename,
    text_of,
)
from mssante.message._headers import MSG_ID
from mssante.message._limits import (
    CHUNK,
    DEFAULT_LIMITS,
    MAX_FINDINGS,
    SHOWN,
    STDLIB_ERRORS,
    MimeLimits,
    Refused,
    Spending,
    Unreadable,
    precheck,
)
from mssante.message._mail_addresses import read_mailboxes
from mssante.message._mime_values import CONTENT_TYPE, MimeMessage, Part
from mssante.report import Code, Finding, Report, Severity
from mssante.xdm import Budget

if TYPE_CHECKING:
    from email.policy import Policy

__all__ = ["parse_mime"]

_KIB = 1024


def parse_mime(data: bytes, *, limits: MimeLimits = DEFAULT_LIMITS, budget: Budget | None = None) -> MimeMessage:
    """Read the untrusted message ``data`` (RFC 5322 + MIME, CRLF or LF line endings).

    Raises :class:`~mssante.errors.InvalidInput` (``MSS-MIME-001`` to ``010``) when the message passes a
    limit of ``limits`` or is not a message; every other oddity is a finding on the result. The decoded
    data of the parts is spent from ``budget`` (by default a new one of ``limits.max_decoded_bytes``).
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"parse_mime reads bytes, not {type(data).__name__}")
    data = bytes(data)
    decoding = budget if budget is not None else Budget(limits.max_decoded_bytes)
    try:
        precheck(data, limits)
        spending = Spending(limits, decoding)
        message = _read_message(data, spending, depth=0, prefix="")
    except Refused as refusal:
        raise _refused(refusal.finding) from None
    except RecursionError:
        raise _refused(codes.TOO_DEEP(f"the message is nested beyond what can be read ({limits.max_depth=})")) from None
    if spending.noted > MAX_FINDINGS:
        extra = codes.FINDINGS_TRUNCATED(f"{spending.noted - MAX_FINDINGS} more findings are not listed")
        message = attrs.evolve(message, findings=(*message.findings, extra))
    return message


def _refused(finding: Finding) -> InvalidInput:
    return InvalidInput(f"MIME message refused: {finding.message}", Report(findings=[finding], subject="MIME message"))


_OPAQUE = "application/x-mssante-message"
"""What a ``message/*`` part claims to be while it is parsed: the parser keeps it whole, as a leaf."""


class _Entity(EmailMessage):
    """A MIME entity as the feed parser builds it: counted, its depth and header fields checked as they come.

    An entity counts as a part (``max_parts``) from the moment it is built, until a part is attached to it: then it
    is a multipart. The feed parser attaches each entity to its multipart as soon as it builds it, so a part is
    checked against the limit once its multipart is known for what it is; the top-level entity when it is built.
    """

    mss_budget: Spending
    mss_depth: int

    def __init__(self, policy: Policy[Any] | None = None, *, budget: Spending, depth: int, top: bool) -> None:
        budget.add_entity()
        if top:
            budget.check_parts()
        super().__init__(policy)
        self.mss_budget = budget
        self.mss_depth = depth

    def attach(self, payload: Any) -> None:
        if isinstance(payload, _Entity):
            if not self.is_multipart():
                self.mss_budget.add_holder()
            self.mss_budget.check_parts()
            payload.mss_depth = self.mss_depth + 1
            self.mss_budget.check_depth(payload.mss_depth)
        super().attach(payload)

    def set_raw(self, name: str, value: str) -> None:
        self.mss_budget.check_header(len(self), name, value)
        super().set_raw(name, value)

    def get_content_type(self) -> str:
        content_type = super().get_content_type()
        return _OPAQUE if content_type.startswith("message/") else content_type

    def real_content_type(self) -> str:
        """The content type as the standard library reads it, ``message/*`` included."""
        return super().get_content_type()

    def raw_body(self) -> str:
        """A leaf's body as the parser stored it: the original bytes, surrogate-escaped."""
        payload = getattr(self, "_payload", None)  # get_payload() recodes 8-bit text with the declared charset
        return payload if isinstance(payload, str) else ""


class _Factory:
    """Builds the parser's entities with a budget and the depth of the message being parsed."""

    def __init__(self, budget: Spending, depth: int) -> None:
        self.budget = budget
        self.depth = depth
        self.built = 0

    def __call__(self, policy: Policy[Any]) -> _Entity:
        self.built += 1
        return _Entity(policy, budget=self.budget, depth=self.depth, top=self.built == 1)


class _Policy(EmailPolicy):
    """``email.policy.default``, except that a header is handed back as its raw text, unfolded.

    The parser then reads Content-Type and boundaries with the linear legacy code, never with the
    quadratic header classes of :mod:`email.headerregistry`.
    """

    def header_fetch_parse(self, name: str, value: str) -> str:
        return FOLD.sub("", value)


_POLICY = _Policy()


def _read_tree(data: bytes, budget: Spending, depth: int) -> _Entity:
    """The standard library's tree of ``data``, built within the budget."""
    budget.check_depth(depth)
    parser: BytesFeedParser[Any] = BytesFeedParser(policy=_POLICY.clone(message_factory=_Factory(budget, depth)))
    try:
        for start in range(0, len(data), CHUNK):
            parser.feed(data[start : start + CHUNK])
        root = parser.close()
    except RecursionError:
        raise Refused(codes.TOO_DEEP("MIME parts are nested beyond what the parser can read")) from None
    except STDLIB_ERRORS as error:
        raise Unreadable(codes.UNREADABLE(f"the message cannot be parsed ({type(error).__name__}: {error})")) from None
    if not isinstance(root, _Entity) or len(root) == 0:
        raise Unreadable(codes.NOT_A_MESSAGE("the input has no header field before its body"))
    return root


_SINGLE_MESSAGE_HEADERS = frozenset(
    {"from", "sender", "reply-to", "to", "cc", "bcc", "subject", "date", "message-id", "in-reply-to", "references"}
)
_SINGLE_MIME_HEADERS = frozenset(
    {"mime-version", "content-type", "content-transfer-encoding", "content-disposition", "content-id"}
)
_ADDRESS_HEADERS = (
    "from",
    "sender",
    "reply-to",
    "to",
    "cc",
    "bcc",
    "resent-from",
    "resent-sender",
    "resent-to",
    "resent-cc",
    "resent-bcc",
    "return-path",
    "disposition-notification-to",
    "return-receipt-to",
    "mail-followup-to",
    "mail-reply-to",
)
_EMBEDDED_TYPES = frozenset({"message/rfc822", "message/global"})
_IDENTITY_ENCODINGS = frozenset({"7bit", "8bit", "binary"})
_HEAD_END = re.compile(rb"\r?\n\r?\n")
_BARE_CR = re.compile(rb"\r(?!\n)")
_QP_BAD_ESCAPE = re.compile(rb"=(?![0-9A-Fa-f]{2}|[ \t]*(?:\r\n|\r|\n|$))")

_DEFECTS = {
    "NoBoundaryInMultipartDefect": "a multipart has no boundary parameter",
    "StartBoundaryNotFoundDefect": "the multipart's boundary never appears: its body is read as one part",
    "CloseBoundaryNotFoundDefect": "the multipart's closing boundary is missing (a truncated message?)",
    "FirstHeaderLineIsContinuationDefect": "the first header line is a continuation line",
    "MisplacedEnvelopeHeaderDefect": "a 'From ' envelope line appears among the headers",
    "MissingHeaderBodySeparatorDefect": "a line that is no header ends the headers without a blank line",
    "MultipartInvariantViolationDefect": "a multipart has no parts",
    "InvalidMultipartContentTransferEncodingDefect": "a multipart is not sent as 7bit, 8bit or binary",
}


@attrs.frozen(kw_only=True)
class _Header:
    name: str
    raw: str
    """Unfolded, 8-bit read as UTF-8, NUL and line breaks removed; encoded words still encoded."""
    text: str
    """:attr:`raw` with its encoded words decoded, NUL and line breaks removed."""


def _read_message(data: bytes, budget: Spending, *, depth: int, prefix: str) -> MimeMessage:
    root = _read_tree(data, budget, depth)
    reader = _Reader(budget, prefix)
    return reader.read(root, data)


class _Reader:
    """Reads one parsed tree into a :class:`MimeMessage`, noting findings as it goes."""

    def __init__(self, budget: Spending, prefix: str) -> None:
        self.budget = budget
        self.prefix = prefix
        self.scope = f"message {prefix[:-1]}" if prefix else ""
        """What header findings are prefixed with: nothing at the top level."""
        self.label = self.scope or "message"
        """Where findings on the whole message apply."""
        self.findings: list[Finding] = []
        self.parts: list[Part] = []
        self.embedded: list[MimeMessage] = []

    def note(self, code: Code, message: str, where: str, severity: Severity | None = None) -> None:
        self.budget.noted += 1
        if self.budget.noted <= MAX_FINDINGS:
            self.findings.append(code(message, where=where, severity=severity))

    def read(self, root: _Entity, data: bytes) -> MimeMessage:
        self._line_endings(data)
        headers = self._walk(root, None)
        fields = {header.name.lower(): header for header in reversed(headers)}  # the first of each name
        self._message_headers(headers, fields)
        content_type = self._content_type(root, self.label) if root.is_multipart() else self.parts[0].content_type
        address_map = {}
        for name in _ADDRESS_HEADERS:
            values = [header.raw for header in headers if header.name.lower() == name]
            if values:
                mailboxes, problems = read_mailboxes(values, self.budget, null_ok=name == "return-path")
                address_map[name] = mailboxes
                for code, message in problems:
                    self.note(code, message, self._at(fields[name].name))
        subject = fields.get("subject")
        return MimeMessage(
            headers=[(header.name, header.text) for header in headers],
            subject=subject.text if subject else None,
            message_id=self._first_id(fields.get("message-id")),
            in_reply_to=self._first_id(fields.get("in-reply-to")),
            references=self._ids(fields.get("references")),
            date=self._date(fields.get("date")),
            content_type=content_type,
            parts=self.parts,
            embedded=self.embedded,
            findings=self.findings,
            raw_size=len(data),
            address_map=address_map,
            raw_headers=[(header.name, header.raw) for header in headers],
        )

    def _at(self, name: str, label: str | None = None) -> str:
        label = self.scope if label is None else label
        return f"{label}, header {name}" if label else f"header {name}"

    def _line_endings(self, data: bytes) -> None:
        end = _HEAD_END.search(data)
        head = data[: end.start()] if end else data
        if _BARE_CR.search(head):
            message = "a header line ends with a bare CR: it is read as a line break, other parsers may not"
            self.note(codes.BARE_CR, message, self.label)

    def _message_headers(self, headers: list[_Header], fields: Mapping[str, _Header]) -> None:
        version = fields.get("mime-version")
        if version is None:
            self.note(codes.MIME_VERSION, "the message has no MIME-Version header", self.label)
        elif COMMENT.sub("", version.raw).replace(" ", "").replace("\t", "") != "1.0":
            message = f"MIME-Version is {version.raw[:SHOWN]!r}, not 1.0"
            self.note(codes.MIME_VERSION, message, self._at(version.name))
        for name in ("From", "Date"):
            if name.lower() not in fields:
                self.note(codes.MISSING_HEADER, f"the message has no {name} header (RFC 5322)", self.label)
        self._duplicates(headers, _SINGLE_MESSAGE_HEADERS, self.scope)

    # Each entity of the tree.

    def _walk(self, entity: _Entity, path: str | None) -> list[_Header]:
        scope = f"part {path}" if path else self.scope
        headers = self._headers(entity, scope)
        self._duplicates(headers, _SINGLE_MIME_HEADERS, scope)
        for defect in entity.defects:
            name = type(defect).__name__
            code = codes.MISSING_BOUNDARY if name == "NoBoundaryInMultipartDefect" else codes.STRUCTURE
            self.note(code, _DEFECTS.get(name, f"the parser reports {name}"), scope or self.label)
        children = entity.get_payload() if entity.is_multipart() else None
        if isinstance(children, list):
            for index, child in enumerate(children, start=1):
                if isinstance(child, _Entity):
                    self._walk(child, f"{path}.{index}" if path else f"{self.prefix}{index}")
        else:
            self._leaf(entity, path or f"{self.prefix}1", headers)
        return headers

    def _headers(self, entity: _Entity, scope: str) -> list[_Header]:
        headers = []
        for name, value in entity.raw_items():
            where = self._at(name, scope)
            raw = FOLD.sub("", str(value))
            if not raw.isascii():
                octets = raw.encode("utf-8", "surrogateescape")
                try:
                    raw = octets.decode("utf-8")
                except UnicodeDecodeError:
                    raw = octets.decode("utf-8", "replace")
                    message = "the header holds 8-bit bytes that are not UTF-8: replaced by U+FFFD"
                    self.note(codes.EIGHT_BIT_HEADER, message, where)
                else:
                    message = "the header holds raw UTF-8 (RFC 6532): valid only in SMTPUTF8 mail"
                    self.note(codes.EIGHT_BIT_HEADER, message, where, Severity.INFO)
            text, problems = decode_words(raw)
            for code, message in problems:
                self.note(code, message, where)
            if LINE_BREAKS.search(text):
                message = f"the decoded value {text[:SHOWN]!r} holds CR, LF, NUL or a line break: removed"
                self.note(codes.HEADER_INJECTION, message, where)
            headers.append(_Header(name=name, raw=LINE_BREAKS.sub("", raw), text=LINE_BREAKS.sub("", text)))
        return headers

    def _duplicates(self, headers: list[_Header], single: frozenset[str], scope: str) -> None:
        seen: dict[str, int] = {}
        for header in headers:
            key = header.name.lower()
            if key in single:
                seen[key] = seen.get(key, 0) + 1
                if seen[key] == 2:
                    message = f"{header.name} appears more than once: readers may show either value"
                    self.note(codes.DUPLICATE_HEADER, message, self._at(header.name, scope))

    def _content_type(self, entity: _Entity, where: str) -> str:
        try:
            content_type = entity.real_content_type()
        except STDLIB_ERRORS:
            content_type = ""
        if CONTENT_TYPE.fullmatch(content_type):
            return content_type
        declared = entity.get("content-type", "")
        message = f"Content-Type {str(declared)[:SHOWN]!r} is not type/subtype: read as text/plain"
        self.note(codes.INVALID_CONTENT_TYPE, message, where)
        return "text/plain"

    def _params(self, entity: _Entity, header: str, where: str) -> tuple[str, dict[str, str]]:
        """The value (lower-case) and the decoded parameters of a MIME header, ambiguities noted."""
        if header not in entity:
            return "", {}
        try:
            pairs: list[tuple[str, Any]] = entity.get_params(header=header) or []
        except STDLIB_ERRORS as error:
            self.note(codes.BAD_PARAMETER, f"the parameters cannot be read ({type(error).__name__})", where)
            return "", {}
        value = str(pairs[0][0]).strip().lower() if pairs else ""
        plain: dict[str, str] = {}
        extended: dict[str, str] = {}
        for name, item in pairs[1:]:
            if isinstance(item, tuple):
                charset, _language, encoded = item
                octets = latin1_octets(str(encoded))
                text, problem = decode_bytes(octets, str(charset or "us-ascii"))
                if problem is not None:
                    self.note(problem, f"parameter {name!r} does not decode with charset {charset!r}", where)
            else:
                text = as_text(str(item))
            if LINE_BREAKS.search(text):
                message = f"parameter {name!r} holds CR, LF, NUL or a line break once decoded: removed"
                self.note(codes.HEADER_INJECTION, message, where)
                text = LINE_BREAKS.sub("", text)
            if isinstance(item, tuple):
                extended.setdefault(name, text)
                continue
            if name in plain and plain[name] != text:
                message = f"parameter {name!r} is given twice: {plain[name][:SHOWN]!r} and {text[:SHOWN]!r}"
                self.note(codes.PARAMETER_AMBIGUOUS, message, where)
            plain.setdefault(name, text)
        return value, {**plain, **extended}

    def _leaf(self, entity: _Entity, path: str, headers: list[_Header]) -> None:
        where = f"part {path}"
        content_type = self._content_type(entity, where)
        _type, params = self._params(entity, "content-type", where)
        disposition, disposition_params = self._params(entity, "content-disposition", where)
        if disposition not in ("", "inline", "attachment"):
            message = f"Content-Disposition {disposition[:SHOWN]!r} is not inline or attachment: read as attachment"
            self.note(codes.UNKNOWN_DISPOSITION, message, where)
            disposition = "attachment"
        charset = params.get("charset")
        encoding = first_token(entity.get("content-transfer-encoding", "")) or "7bit"
        data = self._decode_transfer(entity.raw_body(), encoding, where)
        self.budget.add_decoded(len(data), where)
        content_id = next((header.text for header in headers if header.name.lower() == "content-id"), "")
        part = Part(
            path=path,
            content_type=content_type,
            params=params,
            charset=charset.strip().lower() if charset else None,
            disposition=disposition or None,
            filename=self._filename(disposition_params.get("filename") or params.get("name"), where),
            content_id=content_id.strip().strip("<>").strip() or None,
            transfer_encoding=encoding,
            data=data,
            headers=[(header.name, header.text) for header in headers],
        )
        self.parts.append(part)
        if part.is_text:
            problem = text_of(data, part.charset)[1]
            if problem is not None:
                self.note(problem, TEXT_PROBLEMS[problem].format(charset=part.charset), where)
        if content_type in _EMBEDDED_TYPES:
            if encoding not in _IDENTITY_ENCODINGS:
                message = f"the attached message is sent as {encoding}: decoded before it is read"
                self.note(codes.ENCODED_MESSAGE, message, where)
            self._embed(part, entity.mss_depth + 1, where)

    def _embed(self, part: Part, depth: int, where: str) -> None:
        try:
            message = _read_message(part.data, self.budget, depth=depth, prefix=f"{part.path}.")
        except Unreadable as refusal:
            self.note(
                codes.EMBEDDED_UNREADABLE, f"the attached message cannot be read: {refusal.finding.message}", where
            )
            return
        self.embedded.append(message)
        self.findings.extend(message.findings)

    def _decode_transfer(self, body: str, encoding: str, where: str) -> bytes:
        raw = body.encode("utf-8", "surrogateescape")
        if encoding == "base64":
            data, problem = decode_base64(raw)
            if problem:
                self.note(codes.BROKEN_BASE64, f"the base64 data {problem}: what could be decoded is kept", where)
            return data
        if encoding == "quoted-printable":
            if _QP_BAD_ESCAPE.search(raw):
                self.note(codes.BROKEN_QUOTED_PRINTABLE, "an '=' is followed by no hex pair: kept as is", where)
            return binascii.a2b_qp(raw)
        if encoding not in _IDENTITY_ENCODINGS:
            message = f"Content-Transfer-Encoding {encoding[:SHOWN]!r} is unknown: the data is kept as sent"
            self.note(codes.UNKNOWN_TRANSFER_ENCODING, message, where)
        return raw

    def _filename(self, declared: str | None, where: str) -> str | None:
        if declared is None:
            return None
        name = declared
        if "=?" in name:
            name, problems = decode_words(name)
            for code, message in problems:
                self.note(code, f"file name: {message}", where)
        safe = safe_filename(name)
        if safe != name:
            shown = "nothing usable" if safe is None else repr(safe)
            self.note(codes.FILENAME_UNSAFE, f"the file name {name[:SHOWN]!r} is reduced to {shown}", where)
        return safe

    # Message-level fields.

    def _first_id(self, header: _Header | None) -> str | None:
        ids = self._ids(header)
        return ids[0] if ids else None

    def _ids(self, header: _Header | None) -> tuple[str, ...]:
        if header is None:
            return ()
        ids = tuple(MSG_ID.findall(COMMENT.sub(" ", header.raw)))  # the SDK's one msg-id grammar
        if not ids and header.raw.strip():
            message = f"{header.name} {header.raw[:SHOWN]!r} holds no <msg-id>"
            self.note(codes.MESSAGE_ID_INVALID, message, self._at(header.name))
        return ids

    def _date(self, header: _Header | None) -> datetime.datetime | None:
        if header is None:
            return None
        try:
            value = email.utils.parsedate_to_datetime(header.raw[: 4 * _KIB])
        except (TypeError, ValueError, IndexError, OverflowError):
            self.note(codes.DATE_INVALID, f"Date {header.raw[:SHOWN]!r} is not an RFC 5322 date", self._at(header.name))
            return None
        return value if value.tzinfo is not None else value.replace(tzinfo=datetime.timezone.utc)

"""Reading an untrusted MIME message: bounded, typed, and every oddity a finding.

:func:`parse_mime` reads any incoming message with the standard library's feed parser
(:mod:`email.feedparser`) under a variant of ``email.policy.default``, and returns a
:class:`MimeMessage`: decoded headers, strictly parsed mailboxes, and every leaf part with its
decoded data. It raises :class:`~mssante.errors.InvalidInput` only when the input passes a hard
limit of :class:`MimeLimits` or is not a message at all; anything else odd is a finding.

How the bounds hold:

- Size, line count and the top-level header fields are checked on the raw bytes before parsing.
- The parser builds its MIME entities through a message class that counts them, checks their
  nesting depth and their header fields *as they are created*, and stops the parse at the first
  limit passed. The input is fed in chunks, so a refused message is never split into lines whole.
- ``message/*`` parts are kept whole by the parser and read again by :func:`parse_mime`, sharing
  the same budget: their data is the original bytes (a delivery-status block included), and an
  attached message is parsed from exactly what was attached.
- Every part's decoded data counts against the message's decoding :class:`~mssante.xdm.Budget`, which
  :func:`mssante.message.parse` shares with the archives attached to the message.
- The part count and the depth are the bounds of everything in :mod:`mssante.message` that walks a
  message (:data:`MAX_PARTS`, :data:`MAX_DEPTH`).
- The header classes of :mod:`email.headerregistry` take time quadratic in a header's length, so
  the parser is never asked to use them: RFC 2047 words are decoded here in linear time, MIME
  parameters by the linear ``Message.get_params``, and only address headers go through
  :mod:`email.headerregistry`, within a fixed work budget.
"""

from __future__ import annotations

import binascii
import codecs
import datetime
import email.errors
import email.utils
import re
import unicodedata
from collections.abc import Iterable, Mapping
from email.feedparser import BytesFeedParser
from email.headerregistry import AddressHeader
from email.message import EmailMessage
from email.policy import EmailPolicy
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import attrs

from mssante.errors import InvalidInput
from mssante.message import _mime_codes as codes
from mssante.message._headers import MSG_ID
from mssante.report import Code, Finding, Report, Severity
from mssante.xdm import Budget

if TYPE_CHECKING:
    from email.policy import Policy

__all__ = ["MAX_DEPTH", "MAX_PARTS", "Mailbox", "MimeLimits", "MimeMessage", "Part", "parse_mime"]

_MIB = 1024 * 1024
_KIB = 1024

MAX_PARTS = 1000
"""MIME entities read in one message (its attached messages included): the default of ``MimeLimits.max_parts``, and
the most parts any walker of :mod:`mssante.message` visits."""
MAX_DEPTH = 20
"""Nesting depth read in one message (the top level is 0): the default of ``MimeLimits.max_depth``, and the deepest
any walker of :mod:`mssante.message` goes."""
_CHUNK = 64 * _KIB
"""The parser is fed this many bytes at a time, so that a refusal stops it early."""

_MAX_FINDINGS = 1000
"""Findings listed per parse; more are counted in one ``MSS-MIME-038`` finding."""

_ADDRESS_WORK = (12 * _KIB) ** 2
"""The address parser of the standard library takes time quadratic in a header's length: a parse (or a
call of :meth:`MimeMessage.mailboxes` for another header) spends at most the work of one 12 KiB address
header, counted as the sum of the squared lengths."""

_SHOWN = 80

_STDLIB_ERRORS = (
    email.errors.MessageError,
    ValueError,
    TypeError,
    LookupError,
    AttributeError,
    AssertionError,
    OverflowError,
    RecursionError,
)
"""What the email package raises on hostile input (its bugs included): caught where it is called."""

_POSITIVE = attrs.validators.and_(attrs.validators.instance_of(int), attrs.validators.ge(1))
_NATURAL = attrs.validators.and_(attrs.validators.instance_of(int), attrs.validators.ge(0))


@attrs.frozen(kw_only=True)
class MimeLimits:
    """Bounds on an untrusted message; the defaults suit MSSanté mail with large attachments."""

    max_bytes: int = attrs.field(default=64 * _MIB, validator=_POSITIVE)
    """The raw message, in bytes."""
    max_lines: int = attrs.field(default=2_000_000, validator=_POSITIVE)
    """Lines of the raw message. The standard library's parser holds every line of a part as an
    object of about 70 bytes: without this bound, 64 MiB of empty lines would take gigabytes."""
    max_parts: int = attrs.field(default=MAX_PARTS, validator=_POSITIVE)
    """MIME entities (multiparts, leaves, attached messages and their parts), counted as they are built."""
    max_depth: int = attrs.field(default=MAX_DEPTH, validator=_NATURAL)
    """Nesting depth: the top level is 0, its parts 1, and a message attached at depth d starts at d + 1."""
    max_header_count: int = attrs.field(default=1000, validator=_POSITIVE)
    """Header fields of one MIME entity."""
    max_header_length: int = attrs.field(default=64 * _KIB, validator=_POSITIVE)
    """One header field's value, folded, in characters."""
    max_mime_header_length: int = attrs.field(default=8 * _KIB, validator=_POSITIVE)
    """One ``Content-*`` header field's value. The standard library parses their parameters in time that
    grows with the length times the number of parameters: this bound and the next keep it small."""
    max_parameters: int = attrs.field(default=100, validator=_POSITIVE)
    """Parameters of one ``Content-*`` header field, counted as its semicolons."""
    max_decoded_bytes: int = attrs.field(default=256 * _MIB, validator=_POSITIVE)
    """The message's decoding budget (:class:`~mssante.xdm.Budget`): the decoded data of all parts together
    (attached messages counted at each level) and, in :func:`mssante.message.parse`, every entry inflated from
    the archives attached (each entry of their central directories at a fixed cost), then or later."""


_DEFAULT_LIMITS = MimeLimits()

_LINE_BREAKS = re.compile("[\x00\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
"""NUL and every character :meth:`str.splitlines` breaks a line at."""


def _no_line_breaks(value: str) -> str:
    if _LINE_BREAKS.search(value):
        raise ValueError(f"{value[:_SHOWN]!r} holds a line break or NUL")
    return value


def _address_syntax(_instance: object, _attribute: object, value: str) -> None:
    _no_line_breaks(value)
    local, at, domain = value.rpartition("@")
    if not (local and at and domain):
        raise ValueError(f"{value[:_SHOWN]!r} is not an address: local-part@domain")


@attrs.frozen(kw_only=True)
class Mailbox:
    """One mailbox of an address header: ``Jean Dupont <jean.dupont@example.org>``."""

    name: str = attrs.field(default="", validator=lambda _i, _a, value: _no_line_breaks(value))
    """The display name, RFC 2047 decoded; empty when there is none."""
    address: str = attrs.field(validator=_address_syntax)
    """The addr-spec as written (no case folding, no IDNA conversion)."""

    @property
    def local_part(self) -> str:
        """What comes before the last ``@``."""
        return self.address.rpartition("@")[0]

    @property
    def domain(self) -> str:
        """What comes after the last ``@``."""
        return self.address.rpartition("@")[2]

    def __str__(self) -> str:
        return f"{self.name} <{self.address}>" if self.name else self.address


_PATH = re.compile(r"[1-9][0-9]*(?:\.[1-9][0-9]*)*")


def _part_path(_instance: object, _attribute: object, value: str) -> None:
    if not _PATH.fullmatch(value):
        raise ValueError(f"{value[:_SHOWN]!r} is not a MIME part number such as 1 or 2.1")


def _content_type_syntax(_instance: object, _attribute: object, value: str) -> None:
    if not _CONTENT_TYPE.fullmatch(value):
        raise ValueError(f"{value[:_SHOWN]!r} is not a lower-case type/subtype")


def _safe_name(_instance: object, _attribute: object, value: str | None) -> None:
    if value is not None and _safe_filename(value) != value:
        raise ValueError(f"{value[:_SHOWN]!r} is not a safe base name")


def _frozen_mapping(value: Mapping[str, str]) -> Mapping[str, str]:
    return MappingProxyType(dict(value))


def _frozen_mailboxes(value: Mapping[str, tuple[Mailbox, ...]]) -> Mapping[str, tuple[Mailbox, ...]]:
    return MappingProxyType({key: tuple(mailboxes) for key, mailboxes in value.items()})


def _as_tuple(values: Iterable[Any]) -> tuple[Any, ...]:
    return tuple(values)


@attrs.frozen(kw_only=True)
class Part:
    """One leaf of the MIME tree, with its data decoded from base64 or quoted-printable."""

    path: str = attrs.field(validator=_part_path)
    """The MIME part number, as IMAP numbers parts: ``1``, ``2.1``; parts of an attached message in part 3
    are ``3.1``, ``3.2``."""
    content_type: str = attrs.field(validator=_content_type_syntax)
    """Lower-case ``type/subtype``."""
    params: Mapping[str, str] = attrs.field(factory=dict, converter=_frozen_mapping, hash=False)
    """The Content-Type parameters: lower-case names to decoded values (RFC 2231 included)."""
    charset: str | None = None
    """The declared charset, lower-case; None when none is declared."""
    disposition: str | None = attrs.field(default=None, validator=attrs.validators.in_((None, "attachment", "inline")))
    """``attachment``, ``inline``, or None without Content-Disposition."""
    filename: str | None = attrs.field(default=None, validator=_safe_name)
    """The file name (RFC 2231 ``filename*``, RFC 2047 or ``name=``), reduced to a safe base name."""
    content_id: str | None = None
    """The Content-ID without its angle brackets, as ``cid:`` URLs name it."""
    transfer_encoding: str = "7bit"
    """The Content-Transfer-Encoding, lower-case."""
    data: bytes = attrs.field(default=b"", repr=False)
    """The content, transfer-decoded; for ``message/*`` parts, the original bytes of the block."""
    headers: tuple[tuple[str, str], ...] = attrs.field(default=(), converter=_as_tuple, repr=False)
    """The part's header fields, unfolded and decoded, in order."""

    @property
    def size(self) -> int:
        """The length of :attr:`data`, in bytes."""
        return len(self.data)

    @property
    def is_attachment(self) -> bool:
        """True for a part with ``Content-Disposition: attachment``, a file name, or content that is not text."""
        return self.disposition == "attachment" or self.filename is not None or not self.is_text

    @property
    def is_text(self) -> bool:
        """True for ``text/*`` parts."""
        return self.content_type.startswith("text/")

    @property
    def text(self) -> str | None:
        """For ``text/*`` parts, the data decoded with its charset, line endings as ``\\n``; else None.

        An unknown or wrong charset decodes with replacement characters (the parse reported it).
        """
        if not self.is_text:
            return None
        return _text_of(self.data, self.charset)[0]


@attrs.frozen(kw_only=True)
class MimeMessage:
    """A parsed message: decoded headers, mailboxes, leaf parts, attached messages and findings."""

    headers: tuple[tuple[str, str], ...] = attrs.field(converter=_as_tuple, repr=False)
    """The top-level header fields as (name, value), unfolded, RFC 2047 decoded, in order."""
    subject: str | None = None
    """The first Subject, decoded."""
    message_id: str | None = None
    """The Message-ID with its angle brackets (``<id@host>``); None when absent or invalid."""
    in_reply_to: str | None = None
    """The first msg-id of In-Reply-To, with its angle brackets."""
    references: tuple[str, ...] = attrs.field(default=(), converter=_as_tuple)
    """The msg-ids of References, in order."""
    date: datetime.datetime | None = None
    """The Date, timezone-aware (``-0000`` is read as UTC); None when absent or invalid."""
    content_type: str = "text/plain"
    """The top-level ``type/subtype``, lower-case."""
    parts: tuple[Part, ...] = attrs.field(default=(), converter=_as_tuple)
    """Every leaf part in document order (an attached message is one leaf here; see :attr:`embedded`)."""
    embedded: tuple[MimeMessage, ...] = attrs.field(default=(), converter=_as_tuple)
    """The attached ``message/rfc822`` parts, parsed, in document order."""
    findings: tuple[Finding, ...] = attrs.field(default=(), converter=_as_tuple)
    """Everything odd found while reading, attached messages included."""
    raw_size: int = 0
    """The length of the raw message, in bytes."""
    _address_map: Mapping[str, tuple[Mailbox, ...]] = attrs.field(
        factory=dict, converter=_frozen_mailboxes, repr=False, hash=False
    )
    _raw_headers: tuple[tuple[str, str], ...] = attrs.field(default=(), converter=_as_tuple, repr=False)

    @property
    def report(self) -> Report:
        """The findings as a :class:`~mssante.report.Report`."""
        return Report(findings=self.findings, subject="MIME message")

    def get(self, name: str) -> str | None:
        """The first value of the header ``name`` (any case), decoded; None when absent."""
        key = name.lower()
        return next((value for field, value in self.headers if field.lower() == key), None)

    def get_all(self, name: str) -> tuple[str, ...]:
        """Every value of the header ``name`` (any case), decoded, in order."""
        key = name.lower()
        return tuple(value for field, value in self.headers if field.lower() == key)

    def mailboxes(self, name: str) -> tuple[Mailbox, ...]:
        """The mailboxes of the address header ``name`` (From, To, Cc, ...), groups flattened.

        Addresses are parsed strictly: a header that parsers could read in two ways gives no mailbox
        (and a finding, for the usual address headers), never a guess.
        """
        key = name.lower()
        if key in self._address_map:
            return self._address_map[key]
        values = [value for field, value in self._raw_headers if field.lower() == key]
        return _read_mailboxes(values, _Budget(_DEFAULT_LIMITS))[0]

    @property
    def body_text(self) -> str | None:
        """The first ``text/plain`` part that is not an attachment, decoded; None if there is none."""
        return self._body("text/plain")

    @property
    def body_html(self) -> str | None:
        """The first ``text/html`` part that is not an attachment, decoded; None if there is none."""
        return self._body("text/html")

    @property
    def attachments(self) -> tuple[Part, ...]:
        """The parts with disposition attachment or a file name, and every leaf that is not text."""
        return tuple(part for part in self.parts if part.is_attachment)

    def _body(self, content_type: str) -> str | None:
        for part in self.parts:
            if part.content_type == content_type and not part.is_attachment:
                return part.text
        return None


def parse_mime(data: bytes, *, limits: MimeLimits = _DEFAULT_LIMITS, budget: Budget | None = None) -> MimeMessage:
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
        _precheck(data, limits)
        spending = _Budget(limits, decoding)
        message = _read_message(data, spending, depth=0, prefix="")
    except _Refused as refusal:
        raise _refused(refusal.finding) from None
    except RecursionError:
        raise _refused(codes.TOO_DEEP(f"the message is nested beyond what can be read ({limits.max_depth=})")) from None
    if spending.noted > _MAX_FINDINGS:
        extra = codes.FINDINGS_TRUNCATED(f"{spending.noted - _MAX_FINDINGS} more findings are not listed")
        message = attrs.evolve(message, findings=(*message.findings, extra))
    return message


def _refused(finding: Finding) -> InvalidInput:
    return InvalidInput(f"MIME message refused: {finding.message}", Report(findings=[finding], subject="MIME message"))


# --- limits -------------------------------------------------------------------------------------------------------


class _Refused(Exception):
    """A hard limit was passed (or the input is no message): the parse stops."""

    def __init__(self, finding: Finding) -> None:
        super().__init__(finding.message)
        self.finding = finding


class _Unreadable(_Refused):
    """The input is not a message: a refusal at the top level, a finding for an attached message."""


_FIELD = re.compile(rb"(?:From |[\x21-\x39\x3b-\x7e]*:)[^\r\n]*(?:(?:\r\n|\r|\n)[ \t][^\r\n]*)*(?:\r\n|\r|\n)?")
"""One header field and its continuation lines, as the feed parser recognises them."""


def _precheck(data: bytes, limits: MimeLimits) -> None:
    """The cheap checks on the raw bytes: size, emptiness, line count, top-level header fields."""
    if len(data) > limits.max_bytes:
        message = f"the message has {len(data)} bytes, above the limit max_bytes={limits.max_bytes}"
        raise _Refused(codes.TOO_LARGE(message))
    if not data.strip():
        raise _Unreadable(codes.NOT_A_MESSAGE("the input is empty"))
    lines = data.count(b"\n") + data.count(b"\r") - data.count(b"\r\n") + (not data.endswith((b"\n", b"\r")))
    if lines > limits.max_lines:
        message = f"the message has {lines} lines, above the limit max_lines={limits.max_lines}"
        raise _Refused(codes.TOO_MANY_LINES(message))
    position = count = 0
    while count <= limits.max_header_count:
        match = _FIELD.match(data, position)
        if match is None or match.end() == position:
            return
        if match.end() - position > limits.max_header_length:
            name = match[0].partition(b":")[0][:_SHOWN].decode("ascii", "replace")
            message = (
                f"the header {name!r} has {match.end() - position} characters, above the limit "
                f"max_header_length={limits.max_header_length}"
            )
            raise _Refused(codes.HEADER_TOO_LONG(message))
        count += 1
        position = match.end()
    message = f"the message has more than {limits.max_header_count} header fields (max_header_count)"
    raise _Refused(codes.TOO_MANY_HEADERS(message))


def _decoding_budget(spending: _Budget) -> Budget:
    return Budget(spending.limits.max_decoded_bytes)


@attrs.define
class _Budget:
    """What one parse may still spend, shared with the messages attached to it; the bytes decoded in ``decoding``."""

    limits: MimeLimits
    decoding: Budget = attrs.field(default=attrs.Factory(_decoding_budget, takes_self=True))
    parts: int = 0
    address_work: int = 0
    noted: int = 0

    def count_part(self) -> None:
        self.parts += 1
        if self.parts > self.limits.max_parts:
            message = f"the message has more than {self.limits.max_parts} MIME parts (max_parts)"
            raise _Refused(codes.TOO_MANY_PARTS(message))

    def check_depth(self, depth: int) -> None:
        if depth > self.limits.max_depth:
            message = f"MIME parts are nested more than {self.limits.max_depth} deep (max_depth)"
            raise _Refused(codes.TOO_DEEP(message))

    def check_header(self, count: int, name: str, value: str) -> None:
        limits = self.limits
        if count >= limits.max_header_count:
            message = f"a MIME part has more than {limits.max_header_count} header fields (max_header_count)"
            raise _Refused(codes.TOO_MANY_HEADERS(message))
        limit, label = limits.max_header_length, "max_header_length"
        if name.lower().startswith("content-"):
            if limits.max_mime_header_length < limit:
                limit, label = limits.max_mime_header_length, "max_mime_header_length"
            if value.count(";") > limits.max_parameters:
                message = (
                    f"the header {name[:_SHOWN]!r} has more than {limits.max_parameters} parameters (max_parameters)"
                )
                raise _Refused(codes.TOO_MANY_PARAMETERS(message))
        if len(value) > limit:
            message = f"the header {name[:_SHOWN]!r} has {len(value)} characters, above the limit {label}={limit}"
            raise _Refused(codes.HEADER_TOO_LONG(message))

    def add_decoded(self, size: int, where: str) -> None:
        decoding = self.decoding
        if not decoding.take(size):
            message = (
                f"the parts decode to more than the decoding budget of {decoding.limit} bytes (max_decoded_bytes): "
                f"{decoding.spent} spent, {size} more wanted"
            )
            raise _Refused(codes.DECODED_TOO_LARGE(message, where=where))

    def take_address_work(self, length: int) -> bool:
        if self.address_work + length * length > _ADDRESS_WORK:
            return False
        self.address_work += length * length
        return True


# --- the standard library's parser, bounded ------------------------------------------------------------------------


_OPAQUE = "application/x-mssante-message"
"""What a ``message/*`` part claims to be while it is parsed: the parser keeps it whole, as a leaf."""


class _Entity(EmailMessage):
    """A MIME entity as the feed parser builds it: counted, its depth and header fields checked as they come."""

    mss_budget: _Budget
    mss_depth: int

    def __init__(self, policy: Policy[Any] | None = None, *, budget: _Budget, depth: int) -> None:
        budget.count_part()
        super().__init__(policy)
        self.mss_budget = budget
        self.mss_depth = depth

    def attach(self, payload: Any) -> None:
        if isinstance(payload, _Entity):
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

    def __init__(self, budget: _Budget, depth: int) -> None:
        self.budget = budget
        self.depth = depth

    def __call__(self, policy: Policy[Any]) -> _Entity:
        return _Entity(policy, budget=self.budget, depth=self.depth)


class _Policy(EmailPolicy):
    """``email.policy.default``, except that a header is handed back as its raw text, unfolded.

    The parser then reads Content-Type and boundaries with the linear legacy code, never with the
    quadratic header classes of :mod:`email.headerregistry`.
    """

    def header_fetch_parse(self, name: str, value: str) -> str:
        return _FOLD.sub("", value)


_POLICY = _Policy()
_FOLD = re.compile(r"\r\n|\r|\n")


def _read_tree(data: bytes, budget: _Budget, depth: int) -> _Entity:
    """The standard library's tree of ``data``, built within the budget."""
    budget.check_depth(depth)
    parser: BytesFeedParser[Any] = BytesFeedParser(policy=_POLICY.clone(message_factory=_Factory(budget, depth)))
    try:
        for start in range(0, len(data), _CHUNK):
            parser.feed(data[start : start + _CHUNK])
        root = parser.close()
    except RecursionError:
        raise _Refused(codes.TOO_DEEP("MIME parts are nested beyond what the parser can read")) from None
    except _STDLIB_ERRORS as error:
        raise _Unreadable(codes.UNREADABLE(f"the message cannot be parsed ({type(error).__name__}: {error})")) from None
    if not isinstance(root, _Entity) or len(root) == 0:
        raise _Unreadable(codes.NOT_A_MESSAGE("the input has no header field before its body"))
    return root


# --- reading the tree ----------------------------------------------------------------------------------------------

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
_NAME = r"[!#$%&'*+\-.^_`|~0-9a-z]+"  # an RFC 2045 token, lower-case
_CONTENT_TYPE = re.compile(rf"{_NAME}/{_NAME}")
_IDENTITY_ENCODINGS = frozenset({"7bit", "8bit", "binary"})
_COMMENT = re.compile(r"\([^()]*\)")
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


def _read_message(data: bytes, budget: _Budget, *, depth: int, prefix: str) -> MimeMessage:
    root = _read_tree(data, budget, depth)
    reader = _Reader(budget, prefix)
    return reader.read(root, data)


class _Reader:
    """Reads one parsed tree into a :class:`MimeMessage`, noting findings as it goes."""

    def __init__(self, budget: _Budget, prefix: str) -> None:
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
        if self.budget.noted <= _MAX_FINDINGS:
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
                mailboxes, problems = _read_mailboxes(values, self.budget, null_ok=name == "return-path")
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
        elif _COMMENT.sub("", version.raw).replace(" ", "").replace("\t", "") != "1.0":
            message = f"MIME-Version is {version.raw[:_SHOWN]!r}, not 1.0"
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
            raw = _FOLD.sub("", str(value))
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
            text, problems = _decode_words(raw)
            for code, message in problems:
                self.note(code, message, where)
            if _LINE_BREAKS.search(text):
                message = f"the decoded value {text[:_SHOWN]!r} holds CR, LF, NUL or a line break: removed"
                self.note(codes.HEADER_INJECTION, message, where)
            headers.append(_Header(name=name, raw=_LINE_BREAKS.sub("", raw), text=_LINE_BREAKS.sub("", text)))
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
        except _STDLIB_ERRORS:
            content_type = ""
        if _CONTENT_TYPE.fullmatch(content_type):
            return content_type
        declared = entity.get("content-type", "")
        message = f"Content-Type {str(declared)[:_SHOWN]!r} is not type/subtype: read as text/plain"
        self.note(codes.INVALID_CONTENT_TYPE, message, where)
        return "text/plain"

    def _params(self, entity: _Entity, header: str, where: str) -> tuple[str, dict[str, str]]:
        """The value (lower-case) and the decoded parameters of a MIME header, ambiguities noted."""
        if header not in entity:
            return "", {}
        try:
            pairs: list[tuple[str, Any]] = entity.get_params(header=header) or []
        except _STDLIB_ERRORS as error:
            self.note(codes.BAD_PARAMETER, f"the parameters cannot be read ({type(error).__name__})", where)
            return "", {}
        value = str(pairs[0][0]).strip().lower() if pairs else ""
        plain: dict[str, str] = {}
        extended: dict[str, str] = {}
        for name, item in pairs[1:]:
            if isinstance(item, tuple):
                charset, _language, encoded = item
                octets = _latin1_octets(str(encoded))
                text, problem = _decode_bytes(octets, str(charset or "us-ascii"))
                if problem is not None:
                    self.note(problem, f"parameter {name!r} does not decode with charset {charset!r}", where)
            else:
                text = _as_text(str(item))
            if _LINE_BREAKS.search(text):
                message = f"parameter {name!r} holds CR, LF, NUL or a line break once decoded: removed"
                self.note(codes.HEADER_INJECTION, message, where)
                text = _LINE_BREAKS.sub("", text)
            if isinstance(item, tuple):
                extended.setdefault(name, text)
                continue
            if name in plain and plain[name] != text:
                message = f"parameter {name!r} is given twice: {plain[name][:_SHOWN]!r} and {text[:_SHOWN]!r}"
                self.note(codes.PARAMETER_AMBIGUOUS, message, where)
            plain.setdefault(name, text)
        return value, {**plain, **extended}

    def _leaf(self, entity: _Entity, path: str, headers: list[_Header]) -> None:
        where = f"part {path}"
        content_type = self._content_type(entity, where)
        _type, params = self._params(entity, "content-type", where)
        disposition, disposition_params = self._params(entity, "content-disposition", where)
        if disposition not in ("", "inline", "attachment"):
            message = f"Content-Disposition {disposition[:_SHOWN]!r} is not inline or attachment: read as attachment"
            self.note(codes.UNKNOWN_DISPOSITION, message, where)
            disposition = "attachment"
        charset = params.get("charset")
        encoding = _first_token(entity.get("content-transfer-encoding", "")) or "7bit"
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
            problem = _text_of(data, part.charset)[1]
            if problem is not None:
                self.note(problem, _TEXT_PROBLEMS[problem].format(charset=part.charset), where)
        if content_type in _EMBEDDED_TYPES:
            if encoding not in _IDENTITY_ENCODINGS:
                message = f"the attached message is sent as {encoding}: decoded before it is read"
                self.note(codes.ENCODED_MESSAGE, message, where)
            self._embed(part, entity.mss_depth + 1, where)

    def _embed(self, part: Part, depth: int, where: str) -> None:
        try:
            message = _read_message(part.data, self.budget, depth=depth, prefix=f"{part.path}.")
        except _Unreadable as refusal:
            self.note(
                codes.EMBEDDED_UNREADABLE, f"the attached message cannot be read: {refusal.finding.message}", where
            )
            return
        self.embedded.append(message)
        self.findings.extend(message.findings)

    def _decode_transfer(self, body: str, encoding: str, where: str) -> bytes:
        raw = body.encode("utf-8", "surrogateescape")
        if encoding == "base64":
            data, problem = _decode_base64(raw)
            if problem:
                self.note(codes.BROKEN_BASE64, f"the base64 data {problem}: what could be decoded is kept", where)
            return data
        if encoding == "quoted-printable":
            if _QP_BAD_ESCAPE.search(raw):
                self.note(codes.BROKEN_QUOTED_PRINTABLE, "an '=' is followed by no hex pair: kept as is", where)
            return binascii.a2b_qp(raw)
        if encoding not in _IDENTITY_ENCODINGS:
            message = f"Content-Transfer-Encoding {encoding[:_SHOWN]!r} is unknown: the data is kept as sent"
            self.note(codes.UNKNOWN_TRANSFER_ENCODING, message, where)
        return raw

    def _filename(self, declared: str | None, where: str) -> str | None:
        if declared is None:
            return None
        name = declared
        if "=?" in name:
            name, problems = _decode_words(name)
            for code, message in problems:
                self.note(code, f"file name: {message}", where)
        safe = _safe_filename(name)
        if safe != name:
            shown = "nothing usable" if safe is None else repr(safe)
            self.note(codes.FILENAME_UNSAFE, f"the file name {name[:_SHOWN]!r} is reduced to {shown}", where)
        return safe

    # Message-level fields.

    def _first_id(self, header: _Header | None) -> str | None:
        ids = self._ids(header)
        return ids[0] if ids else None

    def _ids(self, header: _Header | None) -> tuple[str, ...]:
        if header is None:
            return ()
        ids = tuple(MSG_ID.findall(_COMMENT.sub(" ", header.raw)))  # the SDK's one msg-id grammar
        if not ids and header.raw.strip():
            message = f"{header.name} {header.raw[:_SHOWN]!r} holds no <msg-id>"
            self.note(codes.MESSAGE_ID_INVALID, message, self._at(header.name))
        return ids

    def _date(self, header: _Header | None) -> datetime.datetime | None:
        if header is None:
            return None
        try:
            value = email.utils.parsedate_to_datetime(header.raw[: 4 * _KIB])
        except (TypeError, ValueError, IndexError, OverflowError):
            self.note(
                codes.DATE_INVALID, f"Date {header.raw[:_SHOWN]!r} is not an RFC 5322 date", self._at(header.name)
            )
            return None
        return value if value.tzinfo is not None else value.replace(tzinfo=datetime.timezone.utc)


# --- text ----------------------------------------------------------------------------------------------------------

_REFUSED_CODECS = frozenset({"undefined", "unicode-escape", "raw-unicode-escape", "idna", "punycode", "mbcs", "oem"})
"""Python codecs that are no mail charset: they interpret backslashes, refuse replacement, or depend on the OS."""


def _codec(charset: str | None) -> str | None:
    """The Python codec of a MIME charset; None when it is unknown or no text charset."""
    name = (charset or "").strip().strip('"').strip().lower()
    if not name or len(name) > 64 or not name.isascii():
        return None
    try:
        info = codecs.lookup(name)
    except (LookupError, ValueError, TypeError):
        return None
    if info.name in _REFUSED_CODECS or not getattr(info, "_is_text_encoding", True):
        return None
    return info.name


def _decode_bytes(octets: bytes, charset: str) -> tuple[str, Code | None]:
    """``octets`` decoded with ``charset``; the code of the problem met, if any."""
    return _decode_with(octets, _codec(charset))


def _decode_with(octets: bytes, codec: str | None) -> tuple[str, Code | None]:
    """``octets`` decoded with the Python ``codec`` (None: unknown); the code of the problem met, if any."""
    if codec is not None:
        try:
            return octets.decode(codec), None
        except (UnicodeError, LookupError, ValueError, TypeError):
            pass
        try:
            return octets.decode(codec, "replace"), codes.UNDECODABLE_TEXT
        except (UnicodeError, LookupError, ValueError, TypeError):
            return octets.decode("utf-8", "replace"), codes.UNDECODABLE_TEXT
    return octets.decode("utf-8", "replace"), codes.UNKNOWN_CHARSET


_TEXT_PROBLEMS = {
    codes.UNKNOWN_CHARSET: "the charset {charset!r} is unknown: the text is decoded as UTF-8 with replacements",
    codes.UNDECODABLE_TEXT: "the text does not decode with its charset {charset!r}: bad bytes replaced",
    codes.MISSING_CHARSET: "8-bit text without a charset: decoded as UTF-8 if valid, else Windows-1252",
}


def _text_of(data: bytes, charset: str | None) -> tuple[str, Code | None]:
    """Text data decoded, line endings as ``\\n``; the code of the problem met, if any."""
    problem: Code | None = None
    if charset is not None:
        text, problem = _decode_bytes(data, charset)
    elif data.isascii():
        text = data.decode("ascii")
    else:
        problem = codes.MISSING_CHARSET
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = data.decode("cp1252", "replace")
    return _FOLD.sub("\n", text), problem


def _as_text(value: str) -> str:
    """A header string with raw 8-bit bytes (surrogate-escaped) read as UTF-8, other surrogates replaced."""
    if value.isascii():
        return value
    try:
        return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeEncodeError:
        return "".join("\ufffd" if 0xD800 <= ord(char) <= 0xDFFF else char for char in value)


def _latin1_octets(value: str) -> bytes:
    """The octets of an RFC 2231 value, which the standard library hands over as Latin-1 text."""
    try:
        return value.encode("latin-1", "surrogateescape")
    except UnicodeEncodeError:
        return value.encode("utf-8", "replace")


_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([BbQq])\?([^?\s]*)\?=")


def _decode_words(value: str) -> tuple[str, list[tuple[Code, str]]]:
    """``value`` with its RFC 2047 encoded words decoded, in linear time.

    Adjacent words in the same charset are decoded together (senders split multi-byte characters),
    and the white space between adjacent words is dropped, as RFC 2047 section 6.2 says.
    """
    if "=?" not in value:
        return value, []
    pieces: list[str] = []
    problems: dict[tuple[Code, str], None] = {}  # each problem once, in order
    pending = bytearray()
    pending_charset: str | None = None
    position = 0
    found: dict[str, str | None] = {}  # charset to codec, looked up once per value

    def flush() -> None:
        if pending_charset is not None:
            key = pending_charset.lower()
            codec = found[key] if key in found else found.setdefault(key, _codec(key))
            text, problem = _decode_with(bytes(pending), codec)
            if problem is not None:
                problems[problem, f"an encoded word does not decode with charset {pending_charset[:_SHOWN]!r}"] = None
            pieces.append(text)

    for match in _ENCODED_WORD.finditer(value):
        between = value[position : match.start()]
        charset = match[1].split("*", 1)[0]
        encoded = match[3].encode("utf-8", "surrogateescape")
        if match[2] in "Bb":
            octets, problem = _decode_base64(encoded)
            if problem:
                problems[codes.BROKEN_BASE64, f"an encoded word's base64 {problem}"] = None
        else:
            octets = binascii.a2b_qp(encoded, header=True)
        adjacent = pending_charset is not None and not between.strip(" \t")
        if adjacent and pending_charset is not None and charset.lower() == pending_charset.lower():
            pending += octets
        else:
            flush()
            if not adjacent:
                pieces.append(between)
            pending = bytearray(octets)
            pending_charset = charset
        position = match.end()
    flush()
    pieces.append(value[position:])
    return "".join(pieces), list(problems)


_B64_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_B64_OTHERS = bytes(sorted(set(range(256)) - set(_B64_ALPHABET + b"=")))
_B64_PADDING = re.compile(rb"=+")


def _decode_base64(raw: bytes) -> tuple[bytes, str | None]:
    """Base64 decoded as far as it goes; a description of the damage, if any."""
    compact = b"".join(raw.split())
    stripped = compact.rstrip(b"=")
    if (
        len(compact) % 4 == 0
        and len(compact) - len(stripped) <= 2
        and not stripped.translate(None, _B64_ALPHABET)  # nothing but the alphabet before the padding
    ):
        return binascii.a2b_base64(compact), None
    damage = []
    cleaned = compact.translate(None, _B64_OTHERS)
    if len(cleaned) != len(compact):
        damage.append(f"holds {len(compact) - len(cleaned)} characters outside the base64 alphabet")
    segments = [segment for segment in _B64_PADDING.split(cleaned) if segment]
    if len(segments) > 1:
        damage.append("goes on after its padding")
    decoded = []
    for segment in segments:
        usable = len(segment) - len(segment) % 4 if len(segment) % 4 == 1 else len(segment)
        if usable != len(segment):
            damage.append("ends with a truncated group")
        elif len(segment) % 4 and segment is segments[-1] and not cleaned.endswith(b"="):
            damage.append("lacks its padding")
        chunk = segment[:usable]
        decoded.append(binascii.a2b_base64(chunk + b"=" * (-len(chunk) % 4)) if chunk else b"")
    return b"".join(decoded), "; ".join(damage) or "has misplaced padding"


def _first_token(value: object) -> str:
    words = _COMMENT.sub(" ", _as_text(str(value))).split(";", 1)[0].split()
    return words[0].lower() if words else ""


_BIDI = frozenset("\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u061c")
_DRIVE = re.compile(r"^[A-Za-z]:")


def _safe_filename(name: str) -> str | None:
    """The base name of ``name`` without control or bidirectional characters; None when nothing is left."""
    cleaned = "".join(
        char
        for char in name
        if char not in _BIDI and unicodedata.category(char) not in ("Cc", "Cs") and char not in "\u2028\u2029"
    )
    base, previous = re.split(r"[/\\]", cleaned)[-1], None
    while base != previous:  # until no drive letter and no outer white space is left
        previous, base = base, _DRIVE.sub("", base.strip()).strip()
    if base in ("", ".", ".."):
        return None
    return base


# --- addresses -----------------------------------------------------------------------------------------------------

_LOOKS_LIKE_ADDRESS = re.compile(r"[^\s<>\"'(),;:@\[\]]+@[^\s<>\"'(),;:@\[\]]+\.[^\s<>\"'(),;:@\[\]]+")
_INVALID = "\x00invalid"


def _legacy_keys(value: str) -> list[tuple[str, str]]:
    """The (local part, domain) pairs that the legacy ``email.utils.getaddresses`` reads in ``value``."""
    try:
        pairs = email.utils.getaddresses([value], strict=False)
    except TypeError:  # Python versions without the strict parameter parse as strict=False does
        pairs = email.utils.getaddresses([value])
    keys = []
    for _name, address in pairs:
        if address:
            local, _at, domain = address.rpartition("@") if "@" in address else (address, "", "")
            keys.append((email.utils.unquote(local), domain.lower()))
    return keys


def _read_mailboxes(
    values: list[str], budget: _Budget, *, null_ok: bool = False
) -> tuple[tuple[Mailbox, ...], list[tuple[Code, str]]]:
    """The mailboxes of the values of one address header, and the problems met.

    Each value is parsed by :mod:`email.headerregistry` and by the legacy :func:`email.utils.getaddresses`;
    when they do not see the same addresses, the value gives no mailbox.
    """
    mailboxes: list[Mailbox] = []
    problems: list[tuple[Code, str]] = []
    for value in values:
        shown = repr(value[:_SHOWN])
        if not value.strip() or (null_ok and value.strip() == "<>"):
            continue
        if not budget.take_address_work(len(value)):
            problems.append((codes.ADDRESS_NOT_PARSED, f"{shown} is beyond the address parsing budget"))
            continue
        try:
            entries, defects = _strict_parse(value)
            legacy = _legacy_keys(value)
        except _STDLIB_ERRORS as error:
            problems.append((codes.ADDRESS_AMBIGUOUS, f"{shown} cannot be parsed ({type(error).__name__})"))
            continue
        strict = [entry.key for entry in entries if entry.key != ("", "")]
        if strict != legacy:
            message = f"{shown} reads as {_shown_keys(strict)} or as {_shown_keys(legacy)}: no mailbox taken"
            problems.append((codes.ADDRESS_AMBIGUOUS, message))
            continue
        for entry in entries:
            found = _mailbox(entry, problems)
            if found is not None:
                mailboxes.append(found)
        if defects:
            problems.append((codes.ADDRESS_INVALID, f"{shown} does not follow RFC 5322 ({defects[:200]})"))
    return tuple(mailboxes), problems


_INVALID_DEFECTS = (email.errors.InvalidHeaderDefect, email.errors.NonPrintableDefect)
_VALID_MAILBOX = "mailbox"
"""The parse tree's name for a valid mailbox (an invalid one is ``invalid-mailbox``)."""


@attrs.frozen(kw_only=True)
class _Entry:
    """What the strict parser read for one mailbox."""

    valid: bool
    local: str
    domain: str
    address: str
    name: str

    @property
    def key(self) -> tuple[str, str]:
        """(local part, domain lower-case); a key no legacy address has for a mailbox with neither."""
        if not self.valid and not self.local and not self.domain:
            return (_INVALID, self.address)
        return (self.local, self.domain.lower())


def _strict_parse(value: str) -> tuple[list[_Entry], str]:
    """The mailboxes :mod:`email.headerregistry` reads in ``value``, and its invalid-syntax defects, joined."""
    tree = AddressHeader.value_parser(value)
    entries = []
    for mailbox in tree.all_mailboxes:
        valid = mailbox.token_type == _VALID_MAILBOX
        entries.append(
            _Entry(
                valid=valid,
                local=_as_text(str(mailbox.local_part or "")),
                domain=_as_text(str(mailbox.domain or "")),
                address=_as_text(str(mailbox.addr_spec if valid else mailbox)),
                name=_as_text(str(mailbox.display_name or "")) if valid else "",
            )
        )
    defects = sorted({str(defect) for defect in tree.all_defects if isinstance(defect, _INVALID_DEFECTS)})
    return entries, "; ".join(defects)


def _shown_keys(keys: list[tuple[str, str]]) -> str:
    shown = ", ".join(
        "(invalid)" if local == _INVALID else f"{local}@{domain}" if domain else local for local, domain in keys[:5]
    )
    return f"[{shown}{', ...' if len(keys) > 5 else ''}]"


def _mailbox(entry: _Entry, problems: list[tuple[Code, str]]) -> Mailbox | None:
    if not entry.valid or not entry.local or not entry.domain:
        return None
    address, name = entry.address, entry.name
    if _LINE_BREAKS.search(name):
        problems.append((codes.HEADER_INJECTION, f"the display name {name[:_SHOWN]!r} holds a line break: removed"))
        name = _LINE_BREAKS.sub("", name)
    if _LINE_BREAKS.search(address):
        problems.append((codes.HEADER_INJECTION, f"the address {address[:_SHOWN]!r} holds a line break: left out"))
        return None
    lowered = address.lower()
    lookalikes = [found for found in _LOOKS_LIKE_ADDRESS.findall(name) if found.lower() != lowered]
    if lookalikes:
        message = f"the display name {name[:_SHOWN]!r} shows the address {lookalikes[0]!r}, but the mail is {address!r}"
        problems.append((codes.ADDRESS_DECEPTIVE, message))
    if "@" in entry.local or "<" in entry.local:
        message = f"the local part of {address[:_SHOWN]!r} holds '@' or '<': it reads like another address"
        problems.append((codes.ADDRESS_DECEPTIVE, message))
    try:
        return Mailbox(name=name.strip(), address=address)
    except ValueError:
        return None

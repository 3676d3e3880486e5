"""The bounds on an untrusted message (:class:`MimeLimits`), and what one parse spends within them.

The raw bytes are checked first (:func:`precheck`: size, emptiness, lines, the top-level header fields); then
:class:`Spending` counts what the parser builds as it builds it (parts, nesting, header fields, decoded bytes,
address-parsing work) and stops it with :class:`Refused` at the first limit passed.

``max_parts`` counts parts as :class:`~mssante.message.MimeMessage` lists them: the leaves of the MIME tree
(body text, attachments, an attached message as one part), those of attached messages too. The multiparts holding
parts, the top-level one included, are not parts; they are bounded by the same number.
"""

from __future__ import annotations

import email.errors
import re

import attrs

from mssante.message import mime_codes as codes
from mssante.report import Finding
from mssante.xdm import Budget

__all__ = [
    "CHUNK",
    "DEFAULT_LIMITS",
    "MAX_DEPTH",
    "MAX_FINDINGS",
    "MAX_PARTS",
    "SHOWN",
    "STDLIB_ERRORS",
    "MimeLimits",
    "Refused",
    "Spending",
    "Unreadable",
    "precheck",
]

_MIB = 1024 * 1024
_KIB = 1024

MAX_PARTS = 1000
"""Parts read in one message, its attached messages' included (the leaves of the MIME tree: body text, attachments,
each attached message as one): the default of ``MimeLimits.max_parts``, and the most parts any walker of
:mod:`mssante.message` visits. The multiparts holding them are bounded by the same number."""
MAX_DEPTH = 20
"""Nesting depth read in one message (the top level is 0): the default of ``MimeLimits.max_depth``, and the deepest
any walker of :mod:`mssante.message` goes."""
CHUNK = 64 * _KIB
"""The parser is fed this many bytes at a time, so that a refusal stops it early."""

MAX_FINDINGS = 1000
"""Findings listed per parse; more are counted in one ``MSS-MIME-038`` finding."""

_ADDRESS_WORK = (12 * _KIB) ** 2
"""The address parser of the standard library takes time quadratic in a header's length: a parse (or a
call of :meth:`~mssante.message.MimeMessage.mailboxes` for another header) spends at most the work of one 12 KiB address
header, counted as the sum of the squared lengths."""

SHOWN = 80
"""Characters of a value a finding or an error shows."""

STDLIB_ERRORS = (
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
    """Parts, as :attr:`~mssante.message.MimeMessage.parts` lists them: the leaves of the MIME
    tree (the body's text parts, the attachments, an attached message as one part), those of the attached messages
    too, counted as they are built. The multiparts that hold parts, the top-level one included, are not counted (a
    multipart without parts is); there may be as many of them as parts, no more."""
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


DEFAULT_LIMITS = MimeLimits()


class Refused(Exception):
    """A hard limit was passed (or the input is no message): the parse stops."""

    def __init__(self, finding: Finding) -> None:
        super().__init__(finding.message)
        self.finding = finding


class Unreadable(Refused):
    """The input is not a message: a refusal at the top level, a finding for an attached message."""


_FIELD = re.compile(rb"(?:From |[\x21-\x39\x3b-\x7e]*:)[^\r\n]*(?:(?:\r\n|\r|\n)[ \t][^\r\n]*)*(?:\r\n|\r|\n)?")
"""One header field and its continuation lines, as the feed parser recognises them."""


def precheck(data: bytes, limits: MimeLimits) -> None:
    """The cheap checks on the raw bytes: size, emptiness, line count, top-level header fields."""
    if len(data) > limits.max_bytes:
        message = f"the message has {len(data)} bytes, above the limit max_bytes={limits.max_bytes}"
        raise Refused(codes.TOO_LARGE(message))
    if not data.strip():
        raise Unreadable(codes.NOT_A_MESSAGE("the input is empty"))
    lines = data.count(b"\n") + data.count(b"\r") - data.count(b"\r\n") + (not data.endswith((b"\n", b"\r")))
    if lines > limits.max_lines:
        message = f"the message has {lines} lines, above the limit max_lines={limits.max_lines}"
        raise Refused(codes.TOO_MANY_LINES(message))
    position = count = 0
    while count <= limits.max_header_count:
        match = _FIELD.match(data, position)
        if match is None or match.end() == position:
            return
        if match.end() - position > limits.max_header_length:
            name = match[0].partition(b":")[0][:SHOWN].decode("ascii", "replace")
            message = (
                f"the header {name!r} has {match.end() - position} characters, above the limit "
                f"max_header_length={limits.max_header_length}"
            )
            raise Refused(codes.HEADER_TOO_LONG(message))
        count += 1
        position = match.end()
    message = f"the message has more than {limits.max_header_count} header fields (max_header_count)"
    raise Refused(codes.TOO_MANY_HEADERS(message))


def _decoding_budget(spending: Spending) -> Budget:
    return Budget(spending.limits.max_decoded_bytes)


@attrs.define
class Spending:
    """What one parse may still spend, shared with the messages attached to it; the bytes decoded in ``decoding``."""

    limits: MimeLimits
    decoding: Budget = attrs.field(default=attrs.Factory(_decoding_budget, takes_self=True))
    parts: int = 0
    """Entities built that hold no part (yet): the parts of the message so far."""
    multiparts: int = 0
    """Entities built that hold parts."""
    address_work: int = 0
    noted: int = 0

    def add_entity(self) -> None:
        """A new entity: a part until a part is attached to it. :meth:`check_parts` says whether that is too many."""
        self.parts += 1

    def add_holder(self) -> None:
        """An entity counted as a part holds its first part: it is a multipart, not a part."""
        self.parts -= 1
        self.multiparts += 1
        if self.multiparts > self.limits.max_parts:
            message = f"the message has more than {self.limits.max_parts} multiparts (max_parts)"
            raise Refused(codes.TOO_MANY_PARTS(message))

    def check_parts(self) -> None:
        if self.parts > self.limits.max_parts:
            message = f"the message has more than {self.limits.max_parts} MIME parts (max_parts)"
            raise Refused(codes.TOO_MANY_PARTS(message))

    def check_depth(self, depth: int) -> None:
        if depth > self.limits.max_depth:
            message = f"MIME parts are nested more than {self.limits.max_depth} deep (max_depth)"
            raise Refused(codes.TOO_DEEP(message))

    def check_header(self, count: int, name: str, value: str) -> None:
        limits = self.limits
        if count >= limits.max_header_count:
            message = f"a MIME part has more than {limits.max_header_count} header fields (max_header_count)"
            raise Refused(codes.TOO_MANY_HEADERS(message))
        limit, label = limits.max_header_length, "max_header_length"
        if name.lower().startswith("content-"):
            if limits.max_mime_header_length < limit:
                limit, label = limits.max_mime_header_length, "max_mime_header_length"
            if value.count(";") > limits.max_parameters:
                message = (
                    f"the header {name[:SHOWN]!r} has more than {limits.max_parameters} parameters (max_parameters)"
                )
                raise Refused(codes.TOO_MANY_PARAMETERS(message))
        if len(value) > limit:
            message = f"the header {name[:SHOWN]!r} has {len(value)} characters, above the limit {label}={limit}"
            raise Refused(codes.HEADER_TOO_LONG(message))

    def add_decoded(self, size: int, where: str) -> None:
        decoding = self.decoding
        if not decoding.take(size):
            message = (
                f"the parts decode to more than the decoding budget of {decoding.limit} bytes (max_decoded_bytes): "
                f"{decoding.spent} spent, {size} more wanted"
            )
            raise Refused(codes.DECODED_TOO_LARGE(message, where=where))

    def take_address_work(self, length: int) -> bool:
        if self.address_work + length * length > _ADDRESS_WORK:
            return False
        self.address_work += length * length
        return True

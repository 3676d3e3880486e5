"""Reading the machine-readable block of a report: the fields of a ``message/disposition-notification`` or
``message/delivery-status`` part, in blank-line separated groups, bounded and strict (RFC 8098 §3, RFC 3464 §2).

What the fields mean is for :mod:`~mssante.message._mdn` and :mod:`~mssante.message._dsn`; here a block becomes
groups of ``(name, value, line)`` fields, or :class:`~mssante.errors.InvalidInput` with the code of its first fault.
"""

from __future__ import annotations

import re
from email.errors import HeaderParseError
from email.message import Message
from email.utils import collapse_rfc2231_value

import attrs

from mssante.errors import InvalidInput
from mssante.message import notification_codes as codes
from mssante.report import Code, Finding, Report, Severity, define_code

__all__ = [
    "DSN_KIND",
    "DSN_NO_BLOCK",
    "MAX_BLOCK_BYTES",
    "MAX_DSN_RECIPIENTS",
    "MAX_MDN_FIELDS",
    "MDN_KIND",
    "MDN_NO_BLOCK",
    "BlockKind",
    "Field",
    "bare_value",
    "decode_block",
    "read_groups",
    "refuse",
    "report_type",
    "typed",
]

MAX_BLOCK_BYTES = 1024 * 1024
"""The largest disposition-notification or delivery-status block read (1 MiB)."""
MAX_MDN_FIELDS = 200
"""The most fields read in a disposition-notification block."""
MAX_DSN_RECIPIENTS = 1000
"""The most per-recipient groups read in a delivery-status block."""
_MAX_GROUP_FIELDS = 200

_BLOCK_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029]")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_FIELD = re.compile(r"([!-9;-~]+)[ \t]*:(.*)", re.DOTALL)
_TYPED = re.compile(r"([A-Za-z0-9][A-Za-z0-9.+_-]*)[ \t]*;[ \t]*(.*)", re.DOTALL)

# Codes of a report that carries no block at all (declared here: the MSS-MDN and MSS-DSN areas go on).
MDN_NO_BLOCK = define_code(
    "MSS-MDN-009",
    Severity.ERROR,
    "a multipart/report of type disposition-notification has no message/disposition-notification part: a read "
    "receipt without its block",
)
DSN_NO_BLOCK = define_code(
    "MSS-DSN-014",
    Severity.ERROR,
    "a multipart/report of type delivery-status has no message/delivery-status part: a delivery report without "
    "its block",
)


@attrs.frozen
class BlockKind:
    """The codes and limits of one kind of block."""

    what: str
    too_large: Code
    control: Code
    bad_line: Code
    too_many_fields: Code
    max_fields: int
    too_many_groups: Code | None = None
    max_groups: int = 0


MDN_KIND = BlockKind(
    "disposition-notification",
    codes.MDN_TOO_LARGE,
    codes.MDN_CONTROL,
    codes.MDN_BAD_LINE,
    codes.MDN_TOO_MANY_FIELDS,
    MAX_MDN_FIELDS,
)
DSN_KIND = BlockKind(
    "delivery-status",
    codes.DSN_TOO_LARGE,
    codes.DSN_CONTROL,
    codes.DSN_BAD_LINE,
    codes.DSN_TOO_MANY_FIELDS,
    _MAX_GROUP_FIELDS,
    codes.DSN_TOO_MANY_RECIPIENTS,
    MAX_DSN_RECIPIENTS + 1,
)

Field = tuple[str, str, int]  # name as written, unfolded value, line number


def refuse(kind: BlockKind, finding: Finding) -> InvalidInput:
    """The error refusing a block of ``kind`` with ``finding``."""
    report = Report(findings=(finding,), subject=f"message/{kind.what}")
    return InvalidInput(f"not a {kind.what} block: {finding.message}", report)


def decode_block(block: bytes, kind: BlockKind) -> str:
    """The text of ``block`` (UTF-8, else Windows-1252), refused when too large or holding a control character."""
    if not isinstance(block, (bytes, bytearray, memoryview)):
        raise TypeError(f"a {kind.what} block is bytes, not {type(block).__name__}")
    data = bytes(block)
    if len(data) > MAX_BLOCK_BYTES:
        raise refuse(kind, kind.too_large(f"the block has {len(data)} bytes; at most {MAX_BLOCK_BYTES}"))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")  # legacy 8-bit senders; never fails, never yields C1
    text = text.removeprefix("\ufeff")
    if match := _BLOCK_CONTROL.search(text):
        line = text.count("\n", 0, match.start()) + 1
        raise refuse(
            kind,
            kind.control(f"U+{ord(match.group()):04X} on line {line} has no place in a field", where=f"line {line}"),
        )
    return text


def read_groups(text: str, kind: BlockKind) -> list[list[Field]]:
    """The blank-line separated groups of fields, unfolded; raises on the first structural fault."""
    groups: list[list[Field]] = []
    group: list[Field] = []
    name = ""
    value: list[str] = []
    start = 0
    total = 0

    def close_field() -> None:
        nonlocal name
        if name:
            group.append((name, "".join(value).strip(" \t"), start))
            name = ""

    for number, line in enumerate(_LINE_BREAK.split(text), start=1):
        if not line.strip(" \t"):
            close_field()
            if group:
                groups.append(group)
                group = []
                if kind.too_many_groups is not None and len(groups) > kind.max_groups:
                    raise refuse(
                        kind,
                        kind.too_many_groups(
                            f"more than {kind.max_groups - 1} recipient groups", where=f"line {number}"
                        ),
                    )
            continue
        if line[0] in " \t":
            if not name:
                raise refuse(kind, kind.bad_line("a folded line continues no field", where=f"line {number}"))
            value.append(line)
            continue
        close_field()
        match = _FIELD.fullmatch(line)
        if match is None:
            raise refuse(kind, kind.bad_line(f"{line[:60]!r} is not a 'Name: value' field", where=f"line {number}"))
        total = len(group) + 1 if kind.too_many_groups is not None else total + 1
        if total > kind.max_fields:
            raise refuse(kind, kind.too_many_fields(f"more than {kind.max_fields} fields", where=f"line {number}"))
        name, value, start = match.group(1), [match.group(2)], number
    close_field()
    if group:
        groups.append(group)
    return groups


def typed(value: str) -> tuple[str | None, str]:
    """(type, rest) of a ``type; value`` field (``rfc822;a@b``, ``dns; mx``, ``smtp; 550 …``)."""
    match = _TYPED.fullmatch(value)
    if match is None:
        return None, value
    return match.group(1), match.group(2).strip(" \t")


def bare_value(value: str) -> str:
    """The value of a typed address field without its type and angle brackets (``rfc822; <a@b>`` gives ``a@b``)."""
    address = typed(value)[1]
    if address.startswith("<") and address.endswith(">"):
        address = address[1:-1].strip(" \t")
    return address


def report_type(message: Message) -> str:
    """The ``report-type`` parameter of a ``multipart/report``, lower-case; empty when it has none."""
    try:
        value = message.get_param("report-type")
    except (HeaderParseError, LookupError, UnicodeError, ValueError, TypeError, IndexError):
        return ""
    if isinstance(value, tuple):
        value = collapse_rfc2231_value(value)
    return value.strip().lower() if isinstance(value, str) else ""

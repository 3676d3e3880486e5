"""Reading an IMAP server's answers without I/O: bounded, one response at a time (RFC 9051 §4, §7).

A :class:`Reader` is fed the bytes as they come from the connection and gives back each response once it is
complete: its lines (CRLF removed) and the literals (``{n}`` then ``n`` bytes) between them. Everything it keeps is
bounded, and a bound passed ends the reading with :class:`ProtocolViolation` at once:

- a line is at most ``max_line`` bytes (CRLF included), searched for its end only in the bytes not yet searched;
- a literal is refused when it is announced (``{n}`` at the end of a line) if ``n`` is over ``max_literal``: none of
  its bytes is taken, and the connection is to be dropped (its bytes would come in any case);
- a response holds at most :data:`MAX_LITERALS` literals, and ``max_literal`` plus two ``max_line`` bytes in all.

:func:`values` reads the data of a response (atoms, numbers, quoted strings, literals, ``NIL`` and parenthesised
lists, at most :data:`MAX_DEPTH` deep); :func:`status` reads a status response (``OK``, ``NO``, ``BAD``, ``BYE``,
``PREAUTH``), its response code and its text, which are never parsed as data (a human-readable text may hold any
parenthesis or quote). :func:`fetch_items` and :func:`capabilities` read what a mailbox session needs of them.
"""

from __future__ import annotations

import re

import attrs

__all__ = [
    "MAX_DEPTH",
    "MAX_LINE_BYTES",
    "MAX_LITERALS",
    "LiteralTooLarge",
    "ProtocolViolation",
    "Reader",
    "Response",
    "Status",
    "Value",
    "capabilities",
    "fetch_items",
    "status",
    "values",
]

MAX_LINE_BYTES = 1_000_000
"""The longest line of a response read (CRLF included), as the standard library's ``imaplib``."""
MAX_LITERALS = 64
"""The most literals in one response."""
MAX_DEPTH = 32
"""The deepest nesting of parenthesised lists read."""

_LITERAL = re.compile(rb"\{([0-9]+)\}\Z")
_STATUSES = frozenset({"OK", "NO", "BAD", "BYE", "PREAUTH"})
_ATOM_END = frozenset(b' ()"{')

Value = str | bytes | None | list["Value"]
"""A datum of a response: an atom or a number (str), a quoted string or a literal (bytes), ``NIL`` (None), or a
parenthesised list."""


class ProtocolViolation(Exception):
    """What the server sent breaks IMAP or one of the reader's bounds: the connection cannot be read further."""


class LiteralTooLarge(ProtocolViolation):
    """The server announced a literal over the bound: refused before any of its bytes is read."""

    def __init__(self, size: int, bound: int) -> None:
        super().__init__(f"the server announced {size} bytes, over the {bound} bytes a message may be")
        self.size = size
        self.bound = bound


@attrs.frozen
class Response:
    """One complete response: its lines (CRLF removed; each but the last ends with ``{n}``) and their literals."""

    lines: tuple[bytes, ...]
    literals: tuple[bytes, ...] = ()

    @property
    def tag(self) -> str:
        """``*`` (untagged), ``+`` (a continuation request) or the tag of the command it completes."""
        return self.lines[0].split(b" ", 1)[0].decode("ascii", "replace")

    @property
    def text(self) -> str:
        """The response as text for a message: its lines, each literal shown by its size only."""
        return "".join(line.decode("utf-8", "replace") for line in self.lines)

    @property
    def size(self) -> int:
        """Its bytes on the wire (CRLF and literals included)."""
        return sum(len(line) + 2 for line in self.lines) + sum(len(literal) for literal in self.literals)


class Reader:
    """Cuts the bytes a server sends into :class:`Response` values, within its bounds."""

    def __init__(self, *, max_literal: int, max_line: int = MAX_LINE_BYTES) -> None:
        if max_literal < 0 or max_line < 3:
            raise ValueError("the bounds of an IMAP reader are positive")
        self.max_literal = max_literal
        self.max_line = max_line
        self._buffer = bytearray()
        self._searched = 0
        self._lines: list[bytes] = []
        self._literals: list[bytes] = []
        self._size = 0
        self._literal: int | None = None
        self._broken: ProtocolViolation | None = None

    @property
    def buffered(self) -> int:
        """Bytes received and not yet part of a complete response."""
        return len(self._buffer) + self._size

    @property
    def max_response(self) -> int:
        """The most bytes one response may hold."""
        return self.max_literal + 2 * self.max_line

    def feed(self, data: bytes) -> list[Response]:
        """Take ``data``; the responses it completes. Once it raised :class:`ProtocolViolation`, it raises again."""
        if self._broken is not None:
            raise self._broken
        self._buffer += data
        try:
            return self._responses()
        except ProtocolViolation as violation:
            self._broken = violation
            self._buffer.clear()
            self._lines, self._literals, self._size, self._literal = [], [], 0, None
            raise

    def _responses(self) -> list[Response]:
        done: list[Response] = []
        buffer = self._buffer
        while True:
            if self._literal is not None:
                if len(buffer) < self._literal:
                    return done
                self._literals.append(bytes(buffer[: self._literal]))
                del buffer[: self._literal]
                self._literal = None
                continue
            end = buffer.find(b"\n", self._searched)
            if end < 0:
                if len(buffer) >= self.max_line:
                    raise ProtocolViolation(f"the server sent a line of more than {self.max_line} bytes")
                self._searched = len(buffer)
                return done
            if end + 1 > self.max_line:
                raise ProtocolViolation(f"the server sent a line of more than {self.max_line} bytes")
            if end == 0 or buffer[end - 1] != 0x0D:
                raise ProtocolViolation("the server ended a line without CRLF")
            line = bytes(buffer[: end - 1])
            del buffer[: end + 1]
            self._searched = 0
            self._size += len(line) + 2
            self._lines.append(line)
            announced = _LITERAL.search(line)
            if announced is None:
                done.append(Response(tuple(self._lines), tuple(self._literals)))
                self._lines, self._literals, self._size = [], [], 0
                continue
            digits = announced.group(1)
            size = int(digits) if len(digits) <= 19 else self.max_literal + 1 + self.max_response
            if size > self.max_literal:
                raise LiteralTooLarge(size, self.max_literal)
            if len(self._literals) >= MAX_LITERALS:
                raise ProtocolViolation(f"the server sent more than {MAX_LITERALS} literals in one response")
            if self._size + size > self.max_response:
                raise ProtocolViolation(f"the server sent a response of more than {self.max_response} bytes")
            self._size += size
            self._literal = size


@attrs.frozen
class Status:
    """A status response: its tag, its kind (``OK``, ``NO``, ``BAD``, ``BYE``, ``PREAUTH``), code and text."""

    tag: str
    kind: str
    code: str | None
    """The response code without its brackets (``UIDVALIDITY 3857529045``), None when there is none."""
    text: str

    def __str__(self) -> str:
        code = f"[{self.code}] " if self.code is not None else ""
        return f"{self.kind} {code}{self.text}".strip()


def status(response: Response) -> Status | None:
    """The status of ``response``, or None when it is not a status response (data, a continuation request)."""
    if len(response.lines) != 1:
        return None
    parts = response.lines[0].decode("utf-8", "replace").split(" ", 2)
    if len(parts) < 2 or parts[1].upper() not in _STATUSES:
        return None
    rest = parts[2] if len(parts) == 3 else ""
    code: str | None = None
    if rest.startswith("["):
        closing = rest.find("]")
        if closing > 0:
            code, rest = rest[1:closing], rest[closing + 1 :].lstrip(" ")
    return Status(tag=parts[0], kind=parts[1].upper(), code=code, text=rest)


def values(response: Response) -> list[Value]:
    """The data of ``response``, its tag first (``["*", "1", "FETCH", [...]]``); ProtocolViolation when malformed."""
    stack: list[list[Value]] = [[]]
    last = len(response.lines) - 1
    for index, line in enumerate(response.lines):
        position, length = 0, len(line)
        while position < length:
            byte = line[position]
            if byte == 0x20:
                position += 1
            elif byte == 0x28:  # (
                if len(stack) > MAX_DEPTH:
                    raise ProtocolViolation(f"the server nested lists more than {MAX_DEPTH} deep")
                nested: list[Value] = []
                stack[-1].append(nested)
                stack.append(nested)
                position += 1
            elif byte == 0x29:  # )
                if len(stack) == 1:
                    raise ProtocolViolation("the server closed a list it had not opened")
                stack.pop()
                position += 1
            elif byte == 0x22:  # "
                text, position = _quoted(line, position)
                stack[-1].append(text)
            elif byte == 0x7B:  # {
                if index == last or _LITERAL.fullmatch(line, position) is None:
                    raise ProtocolViolation("the server sent a literal announcement inside a line")
                stack[-1].append(response.literals[index])
                position = length
            else:
                atom, position = _atom(line, position)
                stack[-1].append(None if atom.upper() == "NIL" else atom)
    if len(stack) != 1:
        raise ProtocolViolation("the server left a list open")
    return stack[0]


def _quoted(line: bytes, start: int) -> tuple[bytes, int]:
    """The quoted string at ``start`` (its escapes undone) and the position after it."""
    text = bytearray()
    position = start + 1
    while position < len(line):
        byte = line[position]
        if byte == 0x5C:  # backslash: only \\ and \" are escapes
            if position + 1 >= len(line) or line[position + 1] not in (0x5C, 0x22):
                raise ProtocolViolation("the server sent a bad escape in a quoted string")
            text.append(line[position + 1])
            position += 2
        elif byte == 0x22:
            return bytes(text), position + 1
        else:
            text.append(byte)
            position += 1
    raise ProtocolViolation("the server left a quoted string open")


def _atom(line: bytes, start: int) -> tuple[str, int]:
    """The atom at ``start`` (a section in brackets included: ``BODY[HEADER.FIELDS (FROM)]``) and what follows."""
    position = start
    while position < len(line) and line[position] not in _ATOM_END:
        if line[position] == 0x5B:  # [
            closing = line.find(b"]", position)
            if closing < 0:
                raise ProtocolViolation("the server left a bracket open")
            position = closing
        position += 1
    if position == start or any(byte < 0x20 or byte == 0x7F for byte in line[start:position]):
        raise ProtocolViolation("the server sent a control character or an empty atom")
    return line[start:position].decode("latin-1"), position


def fetch_items(data: list[Value]) -> tuple[int, dict[str, Value]] | None:
    """``(sequence number, {item name in upper case: value})`` of a ``* n FETCH (...)`` response, None for another
    response; ProtocolViolation for a FETCH response that is malformed."""
    if len(data) < 3 or data[0] != "*" or not isinstance(data[2], str) or data[2].upper() != "FETCH":
        return None
    number = data[1]
    if len(data) != 4 or not isinstance(number, str) or not number.isdigit() or not isinstance(data[3], list):
        raise ProtocolViolation("the server sent a malformed FETCH response")
    items = data[3]
    if len(items) % 2:
        raise ProtocolViolation("the server sent a FETCH item without its value")
    found: dict[str, Value] = {}
    for name, value in zip(items[::2], items[1::2], strict=True):
        if not isinstance(name, str):
            raise ProtocolViolation("the server sent a FETCH item name that is not an atom")
        found[name.upper()] = value
    return int(number), found


def capabilities(words: str) -> frozenset[str]:
    """The capabilities named in ``words`` (``IMAP4rev1 STARTTLS AUTH=XOAUTH2``), in upper case."""
    return frozenset(word.upper() for word in words.split())

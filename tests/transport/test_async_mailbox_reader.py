"""The IMAP reader of AsyncMailbox, without I/O: whatever the cutting of the bytes, the same responses; whatever the
bytes, a response or ProtocolViolation, never more kept than its bounds; a literal over the bound refused when
announced."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mssante.transport._imap_reader import (
    MAX_DEPTH,
    LiteralTooLarge,
    ProtocolViolation,
    Reader,
    Response,
    Value,
    capabilities,
    fetch_items,
    status,
    values,
)

ATOM = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.\\$-_+", min_size=1, max_size=8)
QUOTED = st.binary(max_size=20).filter(lambda data: b"\r" not in data and b"\n" not in data)
LITERAL = st.binary(max_size=300)


Generated = str | bytes | None | tuple[str, bytes] | list["Generated"]
"""A datum to send: as :data:`Value`, a literal being ``("L", its bytes)``."""


def values_strategy() -> st.SearchStrategy[list[Generated]]:
    leaf: st.SearchStrategy[Generated] = st.one_of(
        ATOM.filter(lambda atom: atom.upper() != "NIL"), st.none(), QUOTED, st.builds(lambda data: ("L", data), LITERAL)
    )
    return st.lists(st.recursive(leaf, lambda inner: st.lists(inner, max_size=4), max_leaves=12), max_size=6)


def encode(data: list[Generated]) -> tuple[bytes, list[bytes]]:
    """``data`` on the wire (after ``* ``), and its literals."""
    out = bytearray()
    literals: list[bytes] = []

    def put(value: Generated) -> None:
        if isinstance(value, tuple):
            out.extend(b"{%d}\r\n" % len(value[1]) + value[1])
            literals.append(value[1])
        elif isinstance(value, list):
            out.extend(b"(")
            for index, item in enumerate(value):
                if index:
                    out.extend(b" ")
                put(item)
            out.extend(b")")
        elif value is None:
            out.extend(b"NIL")
        elif isinstance(value, bytes):
            out.extend(b'"' + value.replace(b"\\", b"\\\\").replace(b'"', b'\\"') + b'"')
        else:
            out.extend(str(value).encode())

    for value in data:
        out.extend(b" ")
        put(value)
    return bytes(out), literals


def decoded(data: list[Generated]) -> list[Value]:
    """``data`` as :func:`values` gives it back (a literal is bytes)."""
    return [decoded(value) if isinstance(value, list) else value[1] if isinstance(value, tuple) else value
            for value in data]  # fmt: skip


def cut(data: bytes, points: list[int]) -> list[bytes]:
    points = sorted({point % (len(data) + 1) for point in points})
    return [data[start:end] for start, end in zip([0, *points], [*points, len(data)], strict=True)]


@settings(max_examples=150, deadline=None)
@given(responses=st.lists(values_strategy(), min_size=1, max_size=4), points=st.lists(st.integers(0, 10_000)))
def test_any_cutting_gives_the_same_responses(responses: list[list[Generated]], points: list[int]) -> None:
    wire = b"".join(b"*" + encode(data)[0] + b"\r\n" for data in responses) + b"A1 OK done\r\n"
    reader = Reader(max_literal=300)
    got: list[Response] = []
    for chunk in cut(wire, points):
        got.extend(reader.feed(chunk))
    assert reader.buffered == 0
    assert [values(response) for response in got[:-1]] == [["*", *decoded(data)] for data in responses]
    assert [len(response.literals) for response in got[:-1]] == [len(encode(data)[1]) for data in responses]
    assert sum(response.size for response in got) == len(wire)
    last = status(got[-1])
    assert last is not None
    assert (last.tag, last.kind, last.code, last.text) == ("A1", "OK", None, "done")


@settings(max_examples=300, deadline=None)
@given(chunks=st.lists(st.binary(max_size=200), max_size=20))
def test_any_bytes_give_responses_or_a_violation_within_the_bounds(chunks: list[bytes]) -> None:
    reader = Reader(max_literal=100, max_line=64)
    try:
        for chunk in chunks:
            for response in reader.feed(chunk):
                assert response.size <= reader.max_response
                with contextlib.suppress(ProtocolViolation):
                    values(response)
            assert reader.buffered <= reader.max_response + 200
    except ProtocolViolation:
        with pytest.raises(ProtocolViolation):  # broken for good
            reader.feed(b"* OK\r\n")


def refusal(reader: Reader, chunks: list[bytes]) -> LiteralTooLarge | None:
    """The refusal of a literal while ``reader`` is fed ``chunks``, if any."""
    try:
        for chunk in chunks:
            reader.feed(chunk)
    except LiteralTooLarge as error:
        return error
    return None


@settings(max_examples=100, deadline=None)
@given(size=st.integers(101, 10**30), points=st.lists(st.integers(0, 200)), following=st.binary(max_size=100))
def test_a_literal_over_the_bound_is_refused_when_announced(size: int, points: list[int], following: bytes) -> None:
    reader = Reader(max_literal=100)
    wire = b"* 1 FETCH (BODY[] {%d}\r\n" % size + following
    *chunks, last = cut(wire, points)
    refused = refusal(reader, chunks)  # announced in the chunks before the last
    if refused is None:
        with pytest.raises(LiteralTooLarge) as caught:
            reader.feed(last)
        refused = caught.value
    assert refused.bound == 100
    assert reader.buffered == 0  # nothing of it kept


# --- the cases --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("wire", "expected"),
    [
        (b"x" * 70 + b"\r\n", "a line of more than 64 bytes"),
        (b"x" * 70, "a line of more than 64 bytes"),
        (b"* OK\n", "without CRLF"),
        (b"* 1 FETCH (" + b"{10}\r\n" + b"x" * 10 + b" {10}\r\n" + b"y" * 10 + b")\r\n", None),
        (b"* 1 FETCH (BODY[] {100}\r\n" + b"x" * 100 + b" BODY[1] {100}\r\n", "a response of more than"),
    ],
    ids=["long line", "line without end", "bare LF", "two literals", "response too large"],
)
def test_the_bounds_of_the_reader(wire: bytes, expected: str | None) -> None:
    reader = Reader(max_literal=100, max_line=64)
    if expected is None:
        [response] = reader.feed(wire)
        assert values(response) == ["*", "1", "FETCH", [b"x" * 10, b"y" * 10]]
        return
    with pytest.raises(ProtocolViolation, match=expected):
        reader.feed(wire)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (b'* LIST (\\Noselect) "/" "a \\"b\\""', ["*", "LIST", ["\\Noselect"], b"/", b'a "b"']),
        (
            b"* 1 FETCH (BODY[HEADER.FIELDS (FROM TO)] NIL)",
            ["*", "1", "FETCH", ["BODY[HEADER.FIELDS (FROM TO)]", None]],
        ),
        (b'* 1 FETCH (BODY[]<0> "")', ["*", "1", "FETCH", ["BODY[]<0>", b""]]),
        (b"* SEARCH", ["*", "SEARCH"]),
    ],
)
def test_values(line: bytes, expected: list[Value]) -> None:
    [response] = Reader(max_literal=10).feed(line + b"\r\n")
    assert values(response) == expected


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (b"* (a))", "closed a list it had not opened"),
        (b'* "open', "left a quoted string open"),
        (b'* "a\\b"', "bad escape"),
        (b"* BODY[open", "left a bracket open"),
        (b"* a{3}b", "literal announcement inside a line"),
        (b"* a\x01b", "control character"),
        (b"* " + b"(" * (MAX_DEPTH + 1), "nested lists more than"),
    ],
)
def test_malformed_values(line: bytes, expected: str) -> None:
    [response] = Reader(max_literal=10).feed(line + b"\r\n")
    with pytest.raises(ProtocolViolation, match=expected):
        values(response)


def test_status_responses() -> None:
    reader = Reader(max_literal=10)
    greeting, tagged, data, continuation = reader.feed(
        b"* OK [CAPABILITY IMAP4rev1 STARTTLS auth=XOAUTH2] ready (or not\r\nA1 NO [TRYCREATE] no such folder\r\n"
        b"* 3 EXISTS\r\n+ \r\n"
    )
    said = status(greeting)
    assert said is not None
    assert (said.tag, said.kind, said.text) == ("*", "OK", "ready (or not")  # the text is never read as data
    assert said.code is not None
    assert capabilities(said.code.split(" ", 1)[1]) == {"IMAP4REV1", "STARTTLS", "AUTH=XOAUTH2"}
    assert str(status(tagged)) == "NO [TRYCREATE] no such folder"
    assert status(data) is None
    assert continuation.tag == "+"
    assert status(continuation) is None


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (b"* 2 FETCH (UID 7 FLAGS (\\Seen))", (2, {"UID": "7", "FLAGS": ["\\Seen"]})),
        (b"* 2 EXPUNGE", None),
        (b"* SEARCH 1 2", None),
    ],
)
def test_fetch_items(line: bytes, expected: object) -> None:
    [response] = Reader(max_literal=10).feed(line + b"\r\n")
    assert fetch_items(values(response)) == expected


@pytest.mark.parametrize("line", [b"* 2 FETCH UID 7", b"* x FETCH (UID 7)", b"* 2 FETCH (UID)", b"* 2 FETCH ((A) 1)"])
def test_malformed_fetch_responses(line: bytes) -> None:
    [response] = Reader(max_literal=10).feed(line + b"\r\n")
    with pytest.raises(ProtocolViolation, match="FETCH"):
        fetch_items(values(response))


def test_too_many_literals() -> None:
    reader = Reader(max_literal=10_000, max_line=64)
    with pytest.raises(ProtocolViolation, match="more than 64 literals"):
        reader.feed(b"* 1 FETCH (X {1}\r\nx" + b" X {1}\r\nx" * 70)


def test_bounds_are_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        Reader(max_literal=-1)

"""Many MIME parts, deep nesting: one set of bounds for everything in mssante.message, and never a stdlib error.

A message of 1,500 parts (some 60 KB: anyone can send it) is refused with ``MSS-MIME-004`` after the parser built at
most ``max_parts`` entities; nesting past ``max_depth`` is ``MSS-MIME-005``. The walkers of read receipts and delivery
reports look no deeper and at no more parts than :func:`~mssante.message.parse` reads.
"""

from __future__ import annotations

import datetime as dt
import itertools
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mssante.errors import InvalidInput
from mssante.message import Message, MimeLimits, lint, parse, parse_mime
from mssante.message import _mime as mime
from mssante.message._notifications import build_ko_mail, parse_report
from tests.counting import spy

AT = dt.datetime(2024, 1, 16, 8, 0, tzinfo=dt.timezone.utc)
HEAD = (
    "From: a@hopital.mssante.fr\r\nTo: b@cabinet.mssante.fr\r\nDate: Tue, 16 Jan 2024 08:00:00 +0000\r\n"
    "Message-ID: <m@hopital.mssante.fr>\r\nMIME-Version: 1.0\r\n"
)


def flat(parts: int) -> bytes:
    body = "".join(f"--b\r\nContent-Type: text/plain\r\n\r\npart {index}\r\n" for index in range(parts))
    return (HEAD + "Content-Type: multipart/mixed; boundary=b\r\n\r\n" + body + "--b--\r\n").encode()


def test_fifteen_hundred_parts_are_refused_after_at_most_max_parts_entities(monkeypatch: pytest.MonkeyPatch) -> None:
    data = flat(1500)
    assert len(data) < 70_000
    built = spy(monkeypatch, mime._Entity, "__init__")
    for read in (parse, lint, parse_mime):
        built.clear()
        with pytest.raises(InvalidInput) as caught:
            read(data)
        assert caught.value.report.codes == ("MSS-MIME-004",)
        assert len(built) == MimeLimits().max_parts + 1


def test_parts_spread_over_attached_messages_share_one_count() -> None:
    inner = flat(600)
    attached = "".join(
        f"--o\r\nContent-Type: message/rfc822\r\n\r\n{inner.decode()}\r\n" for _ in range(3)
    )  # 1,800 parts in all, 600 in each attached message
    data = (HEAD + "Content-Type: multipart/mixed; boundary=o\r\n\r\n" + attached + "--o--\r\n").encode()
    with pytest.raises(InvalidInput) as caught:
        parse(data)
    assert caught.value.report.codes == ("MSS-MIME-004",)


def test_the_bounds_are_one_set_of_numbers() -> None:
    limits = MimeLimits()
    assert (limits.max_parts, limits.max_depth) == (mime.MAX_PARTS, mime.MAX_DEPTH) == (1000, 20)


def report_at_depth(depth: int) -> bytes:
    """A read receipt whose multipart/report is nested ``depth`` multiparts deep."""
    opening = "".join(
        f"Content-Type: multipart/mixed; boundary=n{level}\r\n\r\n--n{level}\r\n" for level in range(depth)
    )
    closing = "".join(f"\r\n--n{level}--" for level in reversed(range(depth)))
    report = (
        "Content-Type: multipart/report; report-type=disposition-notification; boundary=r\r\n\r\n"
        "--r\r\nContent-Type: text/plain\r\n\r\nLu.\r\n"
        "--r\r\nContent-Type: message/disposition-notification\r\n\r\n"
        "Reporting-UA: mua.hopital.mssante.fr; mssante\r\nFinal-Recipient: rfc822; b@cabinet.mssante.fr\r\n"
        "Original-Message-ID: <o@hopital.mssante.fr>\r\nDisposition: manual-action/MDN-sent-manually; displayed\r\n"
        "--r--"
    )
    return (HEAD + "Subject: Lu\r\n" + opening + report + closing + "\r\n").encode()


@pytest.mark.parametrize("depth", [19, 20, 21, 25, 31])
def test_notifications_are_looked_for_no_deeper_than_parse_reads(depth: int) -> None:
    data = report_at_depth(depth)
    compat = message_from_bytes(data, policy=default)
    assert isinstance(compat, EmailMessage)
    read = parse_report(compat)
    if depth < MimeLimits().max_depth:  # the report's own parts are one level deeper
        assert parse(data).mime.parts[-1].content_type == "message/disposition-notification"
        assert read is not None
    else:
        with pytest.raises(InvalidInput) as caught:
            parse(data)
        assert caught.value.report.codes == ("MSS-MIME-005",)
        assert read is None


def test_a_ko_mail_attaches_no_part_parse_would_not_read() -> None:
    leaves = [f"--n{depth}\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename=d{depth}.txt\r\n"
              f"\r\nfile {depth}\r\n" for depth in range(30)]  # fmt: skip
    nested = "".join(
        f"Content-Type: multipart/mixed; boundary=n{depth}\r\n\r\n{leaves[depth]}--n{depth}\r\n" for depth in range(30)
    )
    closing = "".join(f"\r\n--n{depth}--" for depth in reversed(range(30)))
    data = (HEAD + "Subject: CR\r\n" + nested + "Content-Type: text/plain\r\n\r\nfin" + closing + "\r\n").encode()
    original = message_from_bytes(data, policy=default)
    assert isinstance(original, EmailMessage)
    ko = build_ko_mail(original=original, sender="b@cabinet.mssante.fr", code="906", label="Erreur", at=AT)
    names = {part.get_filename() for part in ko.walk() if part.get_filename()}
    assert names == {f"d{depth}.txt" for depth in range(MimeLimits().max_depth)}


# --- any tree of parts -------------------------------------------------------------------------------------------

Tree = str | tuple[str, list["Tree"]]
"""A leaf (``"text"``, ``"rfc822"`` wrapping nothing) or a multipart or attached message with children."""

counter = itertools.count()


def render(tree: Tree) -> str:
    if tree == "text":
        return "Content-Type: text/plain\r\n\r\nx\r\n"
    kind, children = tree if isinstance(tree, tuple) else ("multipart", [])
    if kind == "rfc822":
        inner = render(children[0]) if children else "Content-Type: text/plain\r\n\r\ny\r\n"
        return f"Content-Type: message/rfc822\r\n\r\nFrom: c@d.fr\r\nMIME-Version: 1.0\r\n{inner}"
    boundary = f"b{next(counter)}"
    body = "".join(f"--{boundary}\r\n{render(child)}\r\n" for child in children)
    return f"Content-Type: multipart/mixed; boundary={boundary}\r\n\r\n{body}--{boundary}--\r\n"


trees: st.SearchStrategy[Tree] = st.recursive(
    st.just("text"),
    lambda children: st.tuples(st.sampled_from(["multipart", "rfc822"]), st.lists(children, max_size=6)),
    max_leaves=60,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(trees, st.integers(1, 40), st.integers(0, 8))
def test_any_tree_is_read_within_the_limits_or_refused_with_one_of_them(tree: Tree, parts: int, depth: int) -> None:
    data = (HEAD + render(tree)).encode()
    limits = MimeLimits(max_parts=parts, max_depth=depth)
    outcome: Message | InvalidInput
    try:
        outcome = parse(data, limits=limits)
    except InvalidInput as error:
        outcome = error
    if isinstance(outcome, InvalidInput):
        assert outcome.report.codes in (("MSS-MIME-004",), ("MSS-MIME-005",))
        return
    message = outcome
    assert len(message.mime.parts) <= parts
    assert all(part.path.count(".") <= depth for part in message.mime.parts)

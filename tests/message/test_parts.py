"""Many MIME parts, deep nesting: one set of bounds for everything in mssante.message, and never a stdlib error.

``max_parts`` counts parts as ``MimeMessage.parts`` lists them (body text, attachments, an attached message as one,
and the attached messages' parts): exactly ``max_parts`` are read, one more is ``MSS-MIME-004``, refused as the parser
builds it (a message of 1,500 parts, some 60 KB, stops at the 1,001st). The top-level entity and the multiparts are
not parts; they are bounded by the same number. Nesting past ``max_depth`` is ``MSS-MIME-005``. The builders of read
receipts and KO mails copy no attachment deeper than :func:`~mssante.message.parse` reads.
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
from mssante.message import Message, MimeLimits, _limits, _mime_parser, build_ko_mail, lint, parse, parse_mime
from tests.counting import spy
from tests.message.reports import read_report

AT = dt.datetime(2024, 1, 16, 8, 0, tzinfo=dt.timezone.utc)
HEAD = (
    "From: a@hopital.mssante.fr\r\nTo: b@cabinet.mssante.fr\r\nDate: Tue, 16 Jan 2024 08:00:00 +0000\r\n"
    "Message-ID: <m@hopital.mssante.fr>\r\nMIME-Version: 1.0\r\n"
)


def flat(parts: int) -> bytes:
    body = "".join(f"--b\r\nContent-Type: text/plain\r\n\r\npart {index}\r\n" for index in range(parts))
    return (HEAD + "Content-Type: multipart/mixed; boundary=b\r\n\r\n" + body + "--b--\r\n").encode()


def test_fifteen_hundred_parts_are_refused_at_the_first_part_past_max_parts(monkeypatch: pytest.MonkeyPatch) -> None:
    data = flat(1500)
    assert len(data) < 70_000
    built = spy(monkeypatch, _mime_parser._Entity, "__init__")
    for read in (parse, lint, parse_mime):
        built.clear()
        with pytest.raises(InvalidInput) as caught:
            read(data)
        assert caught.value.report.codes == ("MSS-MIME-004",)
        assert len(built) == 1 + MimeLimits().max_parts + 1  # the multipart, then the parts up to one too many


def with_attachments(count: int, body: str = "Content-Type: text/plain\r\n\r\nVoir les pieces jointes.\r\n") -> bytes:
    """A multipart/mixed message: ``body``, then ``count`` small attachments."""
    files = "".join(
        f"--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=f{index}.pdf\r\n"
        f"Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n"
        for index in range(count)
    )
    return (HEAD + "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n" + body + files + "--b--\r\n").encode()


def test_exactly_max_parts_parts_are_read_and_one_more_is_refused() -> None:
    limit = MimeLimits().max_parts
    assert limit == 1000  # docs/message.md and docs/security.md say so
    read = parse(with_attachments(limit - 1))  # the text and 999 attachments: 1,000 parts
    assert len(read.mime.parts) == limit
    assert len(read.attachments) == limit - 1
    assert read.text == "Voir les pieces jointes."
    for reader in (parse, lint, parse_mime):
        with pytest.raises(InvalidInput) as caught:
            reader(with_attachments(limit))
        assert caught.value.report.codes == ("MSS-MIME-004",)
        assert "more than 1000 MIME parts (max_parts)" in str(caught.value)


def test_a_thousand_attachments_and_their_text_need_max_parts_of_1001() -> None:
    read = parse(with_attachments(1000), limits=MimeLimits(max_parts=1001))
    assert (len(read.mime.parts), len(read.attachments)) == (1001, 1000)


def test_the_top_level_entity_and_the_multiparts_are_not_parts() -> None:
    alternative = (
        "Content-Type: multipart/alternative; boundary=a\r\n\r\n--a\r\nContent-Type: text/plain\r\n\r\ntexte\r\n"
        "--a\r\nContent-Type: text/html\r\n\r\n<p>texte</p>\r\n--a--\r\n"
    )
    data = with_attachments(3, alternative)  # multipart/mixed [multipart/alternative [text, html], 3 attachments]
    assert len(parse(data, limits=MimeLimits(max_parts=5)).mime.parts) == 5
    with pytest.raises(InvalidInput) as caught:
        parse(data, limits=MimeLimits(max_parts=4))
    assert caught.value.report.codes == ("MSS-MIME-004",)
    single = (HEAD + "Content-Type: text/plain\r\n\r\nBonjour\r\n").encode()
    assert len(parse(single, limits=MimeLimits(max_parts=1)).mime.parts) == 1


def test_an_attached_message_is_one_part_and_its_parts_count_too() -> None:
    inner = flat(2).decode()  # a multipart of two parts
    data = (
        HEAD + "Content-Type: multipart/mixed; boundary=o\r\n\r\n--o\r\nContent-Type: text/plain\r\n\r\nvoir\r\n"
        f"--o\r\nContent-Type: message/rfc822\r\n\r\n{inner}\r\n--o--\r\n"
    ).encode()  # the text, the attached message, its two parts: 4
    read = parse(data, limits=MimeLimits(max_parts=4))
    assert (len(read.mime.parts), len(read.mime.embedded[0].parts)) == (2, 2)
    with pytest.raises(InvalidInput) as caught:
        parse(data, limits=MimeLimits(max_parts=3))
    assert caught.value.report.codes == ("MSS-MIME-004",)


def test_multiparts_are_bounded_by_max_parts_too() -> None:
    def chains(count: int) -> bytes:  # each part in two multiparts of its own
        chain = (
            "--o\r\nContent-Type: multipart/mixed; boundary=p\r\n\r\n--p\r\nContent-Type: multipart/mixed; boundary=q"
            "\r\n\r\n--q\r\nContent-Type: text/plain\r\n\r\nx\r\n--q--\r\n--p--\r\n"
        )
        return (HEAD + "Content-Type: multipart/mixed; boundary=o\r\n\r\n" + chain * count + "--o--\r\n").encode()

    assert len(parse(chains(2), limits=MimeLimits(max_parts=5)).mime.parts) == 2  # 5 multiparts, 2 parts
    with pytest.raises(InvalidInput) as caught:
        parse(chains(2), limits=MimeLimits(max_parts=4))
    assert caught.value.report.codes == ("MSS-MIME-004",)
    assert "multiparts (max_parts)" in str(caught.value)


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
    assert (limits.max_parts, limits.max_depth) == (_limits.MAX_PARTS, _limits.MAX_DEPTH) == (1000, 20)


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


@pytest.mark.parametrize("depth", [0, 1, 19, 20, 21, 25, 31])
def test_a_notification_is_the_message_itself_and_nested_ones_are_read_as_parts(depth: int) -> None:
    data = report_at_depth(depth)
    if depth == 0:
        assert read_report(data) is not None
    elif depth < MimeLimits().max_depth:  # the report's own parts are one level deeper
        assert parse(data).mime.parts[-1].content_type == "message/disposition-notification"
        assert read_report(data) is None  # a report within another message is content, not its receipt
    else:
        with pytest.raises(InvalidInput) as caught:
            parse(data)
        assert caught.value.report.codes == ("MSS-MIME-005",)


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

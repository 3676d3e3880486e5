"""compose refuses what the standard library would choke on or write as another header: the library's error, always.

Every header value compose takes (subject, display names, file names, X-MSS values, Message-ID, In-Reply-To,
References) refuses each line break :meth:`str.splitlines` knows, NUL, the other C0 and C1 controls and lone
surrogates, with ``MSS-MSG-023`` naming the field; an attachment's media type is a ``type/subtype`` of RFC 2045
tokens (``MSS-MSG-024``); body text is any text but NUL and lone surrogates.
"""

from __future__ import annotations

import datetime as dt
import email.policy
from collections.abc import Callable
from email import message_from_bytes
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mssante.errors import InvalidInput
from mssante.message import Attachment, compose, parse
from mssante.xdm import Coding, Document, Package

AT = dt.datetime(2024, 1, 16, 8, 0, tzinfo=dt.timezone.utc)
SENDER = "pierre.didot@pharmacie-4-cantons.mssante.fr"
TO = "stephane.medioni@mssante.fr"
CDA = (Path(__file__).parent.parent / "data" / "xdm" / "cisis-BIO-TROD_2024.01_COVID-19.xml").read_bytes()

LINE_BREAKS = ["\n", "\r", "\r\n", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]
"""Every line break of str.splitlines."""
OTHERS = ["\x00", "\x01", "\x1f", "\x7f", "\x9f", "\ud800"]
"""NUL, other controls, a lone surrogate."""


def test_the_line_breaks_listed_are_those_of_splitlines() -> None:
    breaks = {chr(code) for code in range(0x110000) if len(f"a{chr(code)}b".splitlines()) == 2}
    assert breaks == {value for value in LINE_BREAKS if len(value) == 1}


def mail(**changes: Any) -> bytes:
    options: dict[str, Any] = {"sender": SENDER, "to": [TO], "nil": "DEV935997", "at": AT, "text": "Bonjour\n"}
    options.update(changes)
    return compose(**options).as_bytes()


def refused(call: Callable[[], object]) -> InvalidInput:
    """The InvalidInput ``call`` raises; never a bare ValueError or UnicodeError of the standard library."""
    with pytest.raises((InvalidInput, ValueError)) as caught:  # the standard library's ValueError too
        call()
    assert type(caught.value) is InvalidInput, f"{type(caught.value).__name__}: {caught.value}"
    return caught.value


def attempt(call: Callable[[], bytes]) -> bytes | InvalidInput:
    """What ``call`` returns, or the InvalidInput it raises (any other exception goes through)."""
    try:
        return call()
    except InvalidInput as error:
        return error


FIELDS: dict[str, Callable[[str], dict[str, Any]]] = {
    "subject": lambda bad: {"subject": f"Compte rendu{bad}Bcc: x@y.fr"},
    "sender": lambda bad: {"sender": (f"Dr Didot{bad}", SENDER)},
    "to": lambda bad: {"to": [(f"Dr Medioni{bad}", TO)]},
    "cc": lambda bad: {"cc": [(f"Secrétariat{bad}", "sec@mssante.fr")]},
    "reply_to": lambda bad: {"reply_to": (f"Accueil{bad}", "accueil@mssante.fr")},
    "message_id": lambda bad: {"message_id": f"<a{bad}b@mssante.fr>"},
    "in_reply_to": lambda bad: {"in_reply_to": f"<a{bad}b@mssante.fr>"},
    "references": lambda bad: {"references": ["<root@mssante.fr>", f"<a{bad}b@mssante.fr>"]},
    "nil": lambda bad: {"nil": f"DEV{bad}935997"},
    "filename": lambda bad: {"attachments": [Attachment(filename=f"cr{bad}.pdf", content=b"%PDF")]},
    "pdf filename": lambda bad: {"pdf": Attachment(filename=f"cr{bad}.pdf", content=b"%PDF")},
}


@pytest.mark.parametrize("bad", LINE_BREAKS + OTHERS, ids=lambda bad: f"U+{ord(bad[-1]):04X}")
@pytest.mark.parametrize("field", sorted(FIELDS))
def test_every_header_value_refuses_line_breaks_and_controls(field: str, bad: str) -> None:
    error = refused(lambda: mail(**FIELDS[field](bad)))
    [finding] = error.report.findings
    assert finding.code == "MSS-MSG-023"
    name = field.rsplit(maxsplit=1)[-1]
    assert finding.where == name
    assert name in str(error)


def test_tab_and_any_printable_text_are_accepted_in_a_subject_and_names() -> None:
    data = mail(subject="Compte\trendu – été 🩺", sender=("Dr Élise Ñandú", SENDER))
    message = parse(data)
    assert message.subject == "Compte\trendu – été 🩺"
    assert message.sender is not None
    assert message.sender.name == "Dr Élise Ñandú"


@pytest.mark.parametrize(
    "value", ["<é@mssante.fr>", "no-brackets@mssante.fr", "<a b@mssante.fr>", "<a@b@mssante.fr>", "<>", "<a@>"]
)
def test_a_message_id_is_an_ascii_msg_id(value: str) -> None:
    for field in ("message_id", "in_reply_to"):
        [finding] = refused(lambda field=field: mail(**{field: value})).report.findings  # type: ignore[misc]
        assert (finding.code, finding.where) == ("MSS-MSG-023", field)
    [finding] = refused(lambda: mail(references=[value])).report.findings
    assert (finding.code, finding.where) == ("MSS-MSG-023", "references")


@pytest.mark.parametrize(
    "value",
    [
        "application/pdf\r\nBcc: x@y.fr",
        "application/pdf; name=x.exe",
        "application/pdf\x0b",
        "application/pdf\u2028",
        "application",
        "application/",
        "/pdf",
        "a/b/c",
        "application/pdf ",
        "",
        "applicatión/pdf",
        "multipart/mixed",
        "Multipart/Related",
    ],
)
def test_an_attachment_content_type_is_a_mime_type_token(value: str) -> None:
    error = refused(lambda: Attachment(filename="cr.pdf", content=b"%PDF", content_type=value))
    [finding] = error.report.findings
    assert (finding.code, finding.where) == ("MSS-MSG-024", "content_type")


@pytest.mark.parametrize(
    "value", ["application/pdf", "Application/PDF", "text/x-cda-r2+xml", "application/vnd.ms-excel"]
)
def test_valid_content_types_are_written_as_given(value: str) -> None:
    data = mail(attachments=[Attachment(filename="f.bin", content=b"x", content_type=value)])
    [part] = parse(data).attachments
    assert part.content_type == value.lower()


@pytest.mark.parametrize("bad", ["\x00", "\ud800"], ids=["nul", "surrogate"])
@pytest.mark.parametrize("field", ["text", "html"])
def test_body_text_refuses_nul_and_lone_surrogates(field: str, bad: str) -> None:
    [finding] = refused(lambda: mail(**{field: f"Bonjour{bad}"})).report.findings
    assert (finding.code, finding.where) == ("MSS-MSG-023", field)


def test_body_text_keeps_every_other_character() -> None:
    text = "Ligne 1\nLigne 2\r\nLigne 3\x0bLigne 4\x0cLigne 5\u2028Ligne 6\x85fin\x01\x7f\n"
    message = parse(mail(text=text, html="<p>a\u2029b</p>"))
    assert message.text == text.replace("\r\n", "\n")
    assert message.html == "<p>a\u2029b</p>\n"


def hostile_package(**entry_changes: Any) -> Package:
    """A package whose metadata carries the values given: compose derives headers from them."""
    base = Package.from_cda(CDA, at=AT)
    assert base.metadata is not None
    entry = attrs.evolve(base.metadata.documents[0], **entry_changes)
    return Package.build([Document(content=CDA, entry=entry)], base.metadata.submission_set)


def test_header_values_derived_from_a_package_are_checked_too() -> None:
    package = hostile_package(type_code=Coding(code="11502-2\u2028Bcc: x@y.fr", scheme="2.16.840.1.113883.6.1"))
    [finding] = refused(lambda: mail(xdm=package)).report.findings
    assert (finding.code, finding.where) == ("MSS-MSG-023", "X-MSS-CODECDA")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=30))
def test_any_subject_is_written_and_read_back_or_refused_with_the_library_error(subject: str) -> None:
    data = attempt(lambda: mail(subject=subject))
    if isinstance(data, InvalidInput):
        assert data.report.codes == ("MSS-MSG-023",)
        return
    assert " ".join(parse(data).subject.split()) == " ".join(subject.split())
    message_from_bytes(data, policy=email.policy.default)  # and the standard library reads it back


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=20), st.text(max_size=20), st.text(max_size=40))
def test_any_name_filename_and_body_compose_or_raise_the_library_error(name: str, filename: str, text: str) -> None:
    def composed() -> bytes:
        attachment = Attachment(filename=filename or "f", content=b"x", content_type="text/plain")
        return mail(sender=(name, SENDER), attachments=[attachment], text=text)

    outcome = attempt(composed)
    if isinstance(outcome, InvalidInput):
        assert outcome.report.codes == ("MSS-MSG-023",)
    else:
        lines = text.replace("\r\n", "\n").replace("\r", "\n")
        assert parse(outcome).text == (lines if lines.endswith("\n") else lines + "\n")

"""``Bcc`` and ``Resent-Bcc`` never leave: one rule, in one function, for every transport.

Whatever their case, the white space before their colon (RFC 5322 §4.5, which MTAs and mail readers accept), or
their folding, the hidden fields are cut out of the bytes sent, and only they: every other byte of the message, the
fields after them and the body, arrives as it was given. The hidden recipients still get the message (they are in
the envelope). The same is checked for Submission, AsyncSubmission and Relay against a capturing SMTP server on
127.0.0.1, and for MemoryTransport and FileTransport on what they keep.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from mssante.pki import RevocationChecker, TrustStore
from mssante.transport import FileTransport, MemoryTransport, SendResult, Submission
from mssante.transport._async_submission import AsyncSubmission
from mssante.transport._headers import read_header_block, strip_hidden
from tests.transport.conftest import Files
from tests.transport.smtp_server import TOKEN, USER, Recorder

TO = "dr.martin@hopital.mssante.fr"
HIDDEN = "secretariat@hopital.mssante.fr"
ALSO_HIDDEN = "archives@hopital.mssante.fr"

VARIANTS = {
    "plain": (b"Bcc: " + HIDDEN.encode() + b"\r\n", (HIDDEN,)),
    "space before the colon": (b"Bcc : " + HIDDEN.encode() + b"\r\n", (HIDDEN,)),
    "tab before the colon": (b"Bcc\t: " + HIDDEN.encode() + b"\r\n", (HIDDEN,)),
    "upper case": (b"BCC: " + HIDDEN.encode() + b"\r\n", (HIDDEN,)),
    "folded": (b"bcc:\r\n " + HIDDEN.encode() + b",\r\n\t" + ALSO_HIDDEN.encode() + b"\r\n", (HIDDEN, ALSO_HIDDEN)),
    "empty": (b"Bcc:\r\n", ()),
    "resent": (b"Resent-Bcc: " + HIDDEN.encode() + b"\r\n", ()),
    "resent, spaced and folded": (b"RESENT-bcc :\r\n " + HIDDEN.encode() + b"\r\n", ()),
    "two fields": (b"Bcc: " + HIDDEN.encode() + b"\r\nBcc : " + ALSO_HIDDEN.encode() + b"\r\n", (HIDDEN, ALSO_HIDDEN)),
}
"""The hidden field(s), as written, and the hidden recipients they add to the envelope (Resent-Bcc adds none: the
envelope comes from To, Cc and Bcc)."""


def mail(hidden: bytes) -> bytes:
    """A message with ``hidden`` between To and Subject, a folded field the transports must not touch, and a body."""
    return (
        b"From: " + USER.encode() + b"\r\n"
        b"To: Dr Martin <" + TO.encode() + b">\r\n" + hidden + b"Subject: Compte rendu\r\n"
        b"Message-ID: <bcc.1@hopital.mssante.fr>\r\n"
        b"X-Folded: a value\r\n  folded   with odd   spacing\r\n"
        b"MIME-Version: 1.0\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n"
        b"\r\n"
        b"Bcc: this line is in the body, and stays.\r\n"
        b"Compte rendu en pi\xc3\xa8ce jointe.\r\n"
    )


EXPECTED = mail(b"")
"""What every transport must transmit for every variant: the same message without the hidden field, byte for byte."""


def check(sent: bytes, result: SendResult, recipients: list[str], hidden: tuple[str, ...]) -> None:
    assert sent == EXPECTED
    assert result.ok
    assert recipients == [TO, *hidden]
    assert result.accepted == (TO, *hidden)
    assert result.message_id == "<bcc.1@hopital.mssante.fr>"


# --- the rule --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("variant", VARIANTS)
def test_the_hidden_fields_and_only_they_are_cut_out(variant: str) -> None:
    hidden, _ = VARIANTS[variant]
    assert strip_hidden(mail(hidden)) == EXPECTED
    assert strip_hidden(mail(hidden).replace(b"\r\n", b"\n")) == EXPECTED.replace(b"\r\n", b"\n")


def test_the_header_block_ends_where_the_body_starts() -> None:
    data = b"From: a@x.fr\r\nTo: b@x.fr\r\nnot a field\r\nBcc: c@x.fr\r\n\r\n"
    assert [field.name for field in read_header_block(data).fields] == ["From", "To"]
    assert strip_hidden(data) == data  # after the block: body text, kept
    no_body = b"To: b@x.fr\r\nBcc: c@x.fr"  # no line end at all
    assert strip_hidden(no_body) == b"To: b@x.fr\r\n"
    mbox = b"From someone Mon Jan  5 09:00:00 2026\r\nBcc: c@x.fr\r\nTo: b@x.fr\r\n\r\nbody\r\n"
    assert strip_hidden(mbox) == b"From someone Mon Jan  5 09:00:00 2026\r\nTo: b@x.fr\r\n\r\nbody\r\n"
    bare_cr = b"To: b@x.fr\rBcc: c@x.fr\r\n\r\nbody"  # a bare CR ends a line, as the SDK's parser reads it
    assert strip_hidden(bare_cr) == b"To: b@x.fr\r\r\nbody"


# --- through every transport -----------------------------------------------------------------------------------


@pytest.mark.parametrize("variant", VARIANTS)
def test_submission(
    variant: str, server: Controller, recorder: Recorder, store: TrustStore, crls: RevocationChecker, client: Files
) -> None:
    hidden, recipients = VARIANTS[variant]
    with Submission(
        "localhost", server.port, store=store, client_certificate=(client.certificate, client.key), username=USER,
        token=lambda: TOKEN, revocation=crls, timeout=5,
    ) as smtp:  # fmt: skip
        result = smtp.send(mail(hidden))
    [received] = recorder.messages
    check(received.data, result, received.recipients, recipients)


@pytest.mark.parametrize("variant", VARIANTS)
def test_async_submission(
    variant: str, server: Controller, recorder: Recorder, store: TrustStore, crls: RevocationChecker, client: Files
) -> None:
    hidden, recipients = VARIANTS[variant]

    async def scenario() -> SendResult:
        async with AsyncSubmission(
            "localhost", server.port, store=store, client_certificate=(client.certificate, client.key),
            username=USER, token=lambda: TOKEN, revocation=crls, timeout=5,
        ) as smtp:  # fmt: skip
            return await smtp.send(mail(hidden))

    result = asyncio.run(scenario())
    [received] = recorder.messages
    check(received.data, result, received.recipients, recipients)


@pytest.mark.parametrize("variant", VARIANTS)
def test_memory_transport(variant: str) -> None:
    hidden, recipients = VARIANTS[variant]
    transport = MemoryTransport()
    result = transport.send(mail(hidden))
    [kept] = transport.sent
    check(kept.data, result, [str(address) for address in kept.envelope.recipients], recipients)
    assert kept.message.subject == "Compte rendu"


@pytest.mark.parametrize("variant", VARIANTS)
def test_file_transport(variant: str, tmp_path: Path) -> None:
    hidden, recipients = VARIANTS[variant]
    result = FileTransport(tmp_path).send(mail(hidden))
    [written] = tmp_path.glob("*.eml")
    side = json.loads(written.with_name(written.name + ".envelope.json").read_text())
    check(written.read_bytes(), result, side["recipients"], recipients)


def test_the_local_transports_keep_the_line_ends_they_are_given(tmp_path: Path) -> None:
    data = mail(VARIANTS["folded"][0]).replace(b"\r\n", b"\n")
    transport = MemoryTransport()
    transport.send(data)
    assert transport.sent[0].data == EXPECTED.replace(b"\r\n", b"\n")
    FileTransport(tmp_path).send(data)
    [written] = tmp_path.glob("*.eml")
    assert written.read_bytes() == EXPECTED.replace(b"\r\n", b"\n")

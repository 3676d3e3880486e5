"""Every transport reads the Message-ID with the SDK's one grammar (``MSG_ID`` of ``mssante.message._headers``).

The Message-ID a transport gives back (and asks DSNs to be returned with, in ``ENVID``) is the msg-id the field
holds, comments skipped: never the field's raw text, never a value the grammar refuses. The field itself is sent as
it was written.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from mssante.message._headers import MSG_ID
from mssante.message._xtext import encode_xtext
from mssante.pki import RevocationChecker, TrustStore
from mssante.transport import FileTransport, MemoryTransport, SendResult, Submission
from mssante.transport._async_submission import AsyncSubmission
from mssante.transport._headers import first_msg_id
from mssante.transport._submission import _prepare
from mssante.transport._transaction import Transaction
from tests.transport.conftest import Files
from tests.transport.smtp_server import TOKEN, USER, Recorder

TO = "dr.martin@hopital.mssante.fr"
ID = "<20260105.1@hopital.mssante.fr>"
FIELDS = {
    "plain": (ID, ID),
    "a comment after": (f"{ID} (sent by the LPS)", ID),
    "a comment before, holding an id": (f"(was <old@x.fr>) {ID}", ID),
    "folded": (f"\r\n {ID}", ID),
    "not an id": ("20260105.1 at hopital", None),
    "two @": ("<a@b@hopital.mssante.fr>", None),
}


def mail(value: str) -> bytes:
    return (
        f"From: {USER}\r\nTo: {TO}\r\nSubject: x\r\nMessage-ID: {value}\r\nMIME-Version: 1.0\r\n\r\nbody\r\n"
    ).encode()


@pytest.mark.parametrize(("value", "expected"), FIELDS.values(), ids=FIELDS)
def test_the_one_grammar(value: str, expected: str | None) -> None:
    found = first_msg_id(value)
    assert found == expected
    assert found is None or MSG_ID.fullmatch(found)
    assert first_msg_id("20260105.1@hopital.mssante.fr") == ID  # given bare, as callers do
    assert first_msg_id("") is None


@pytest.mark.parametrize(("value", "expected"), FIELDS.values(), ids=FIELDS)
def test_the_local_transports(value: str, expected: str | None, tmp_path: Path) -> None:
    assert MemoryTransport().send(mail(value)).message_id == expected
    assert FileTransport(tmp_path).send(mail(value)).message_id == expected


@pytest.mark.parametrize(("value", "expected"), FIELDS.values(), ids=FIELDS)
def test_the_envid_asked_for_is_the_message_id(value: str, expected: str | None) -> None:
    data, message_id, envelope = _prepare(mail(value), None)  # what Submission, AsyncSubmission and Relay send
    assert message_id == expected
    exchange = Transaction(data, message_id, envelope, dsn=True, features={"dsn": ""}, server="mx")
    envid = next(option for option in exchange.mail_options if option.startswith("ENVID="))
    if expected is not None:
        assert envid == f"ENVID={encode_xtext(expected)}"
    else:  # no Message-ID to name: a random one, never the field's text
        assert "hopital" not in envid


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize(("value", "expected"), FIELDS.values(), ids=FIELDS)
def test_the_submissions(
    mode: str,
    value: str,
    expected: str | None,
    server: Controller,
    recorder: Recorder,
    store: TrustStore,
    crls: RevocationChecker,
    client: Files,
) -> None:
    options = {
        "store": store, "client_certificate": (client.certificate, client.key), "username": USER,
        "token": lambda: TOKEN, "revocation": crls, "timeout": 5,
    }  # fmt: skip
    if mode == "sync":
        with Submission("localhost", server.port, **options) as smtp:  # type: ignore[arg-type]
            result = smtp.send(mail(value))
    else:

        async def scenario() -> SendResult:
            async with AsyncSubmission("localhost", server.port, **options) as smtp:  # type: ignore[arg-type]
                return await smtp.send(mail(value))

        result = asyncio.run(scenario())
    assert result.message_id == expected
    assert recorder.messages[0].data == mail(value)

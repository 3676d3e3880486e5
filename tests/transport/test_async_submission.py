"""AsyncSubmission against a real aiosmtpd server on 127.0.0.1: STARTTLS, mutual TLS, XOAUTH2, concurrency."""

from __future__ import annotations

import asyncio
import datetime as dt
import ssl
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from mssante.errors import TransportError
from mssante.message import compose
from mssante.pki import RevocationChecker, TrustStore
from mssante.testing import TestPki
from mssante.transport._async_submission import AsyncSubmission
from mssante.transport._results import Delivery, SendResult
from tests.transport.conftest import Files, tls, write
from tests.transport.smtp_server import TOKEN, USER, Recorder, serve

SENDER = USER
TO = ("dr.martin@hopital.mssante.fr", "dr.durand@hopital.mssante.fr")
HIDDEN = "secretariat@hopital.mssante.fr"


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def server(recorder: Recorder, server_tls: ssl.SSLContext) -> Iterator[Controller]:
    with serve(recorder, tls=server_tls) as controller:
        yield controller


def submission(
    controller: Controller, store: TrustStore, crls: RevocationChecker, client: Files, *, token: str = TOKEN
) -> AsyncSubmission:
    return AsyncSubmission(
        "localhost",
        controller.port,
        store=store,
        client_certificate=(client.certificate, client.key),
        username=USER,
        token=lambda: token,
        revocation=crls,
        timeout=5,
    )


def message(*, to: tuple[str, ...] = TO, subject: str = "Compte rendu", bcc: bool = True) -> EmailMessage:
    mail = compose(
        sender=SENDER,
        to=list(to),
        nil="DEV000001",
        at=dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.timezone.utc),
        subject=subject,
        text="Compte rendu en pièce jointe.",
    )
    if bcc:
        mail["Bcc"] = HIDDEN
    return mail


def test_success_with_mutual_tls_and_xoauth2(
    server: Controller, recorder: Recorder, store: TrustStore, crls: RevocationChecker, client: Files
) -> None:
    mail = message()

    async def scenario() -> SendResult:
        async with submission(server, store, crls, client) as smtp:
            return await smtp.send(mail)

    result = asyncio.run(scenario())
    assert result.ok
    assert result.accepted == (*TO, HIDDEN)
    assert [r.delivery for r in result.recipients] == [Delivery.ACCEPTED] * 3
    assert result.message_id == mail["Message-ID"]
    [received] = recorder.messages
    assert received.sender == SENDER
    assert received.recipients == [*TO, HIDDEN]
    assert b"Bcc" not in received.data
    assert HIDDEN.encode() not in received.data
    assert any(option.startswith("SIZE=") for option in received.mail_options)
    assert recorder.auth_attempts == [f"user={USER}\x01auth=Bearer {TOKEN}\x01\x01"]


def test_server_without_starttls_is_refused(
    recorder: Recorder, store: TrustStore, crls: RevocationChecker, client: Files
) -> None:
    async def scenario(port_of: Controller) -> None:
        async with submission(port_of, store, crls, client) as smtp:
            await smtp.send(message())

    with serve(recorder, tls=None) as plain, pytest.raises(TransportError, match="STARTTLS"):
        asyncio.run(scenario(plain))
    assert recorder.mail_peers == []
    assert recorder.auth_attempts == []


def test_wrong_token_is_refused_without_showing_it(
    server: Controller, recorder: Recorder, store: TrustStore, crls: RevocationChecker, client: Files
) -> None:
    wrong = "not-the-right-token-123"

    async def scenario() -> None:
        async with submission(server, store, crls, client, token=wrong) as smtp:
            await smtp.send(message())

    with pytest.raises(TransportError, match="XOAUTH2") as caught:
        asyncio.run(scenario())
    assert wrong not in str(caught.value)
    assert recorder.mail_peers == []


def test_rcpt_refusals_give_rejected_and_deferred(
    server: Controller, recorder: Recorder, store: TrustStore, crls: RevocationChecker, client: Files
) -> None:
    recorder.rcpt_replies = {TO[0]: "550 5.1.1 no such mailbox", HIDDEN: "450 4.2.1 mailbox busy"}

    async def scenario() -> SendResult:
        async with submission(server, store, crls, client) as smtp:
            return await smtp.send(message())

    result = asyncio.run(scenario())
    assert result.rejected == (TO[0],)
    assert result.deferred == (HIDDEN,)
    assert result.accepted == (TO[1],)
    assert [r.code for r in result.recipients] == [550, 250, 450]
    assert not result.ok
    assert recorder.messages[0].recipients == [TO[1]]


def test_dropped_connection_defers_and_the_next_send_reconnects(
    server: Controller, recorder: Recorder, store: TrustStore, crls: RevocationChecker, client: Files
) -> None:
    recorder.drop_in_data = True

    async def scenario() -> tuple[SendResult, SendResult]:
        async with submission(server, store, crls, client) as smtp:
            first = await smtp.send(message(bcc=False))
            recorder.drop_in_data = False
            return first, await smtp.send(message(bcc=False))

    first, second = asyncio.run(scenario())
    assert first.deferred == TO
    assert second.accepted == TO
    assert recorder.connections == 2


def test_concurrent_sessions_all_arrive(
    server: Controller, recorder: Recorder, store: TrustStore, crls: RevocationChecker, client: Files
) -> None:
    sessions, each = 10, 20

    async def one(index: int) -> list[SendResult]:
        async with submission(server, store, crls, client) as smtp:
            return await smtp.send_many([message(bcc=False, subject=f"Compte rendu {index}-{n}") for n in range(each)])

    async def scenario() -> list[list[SendResult]]:
        return await asyncio.gather(*(one(index) for index in range(sessions)))

    batches = asyncio.run(scenario())
    assert all(result.ok for batch in batches for result in batch)
    assert len(recorder.messages) == sessions * each
    subjects = {
        line for received in recorder.messages for line in received.data.splitlines() if line.startswith(b"Subject:")
    }
    assert len(subjects) == sessions * each
    assert recorder.connections == sessions


@pytest.mark.parametrize(("variant", "reason"), [("expired", "MSS-PKI-007"), ("other host", "MSS-PKI-010")])
def test_server_certificate_refused_before_auth(
    variant: str,
    reason: str,
    recorder: Recorder,
    pki: TestPki,
    store: TrustStore,
    crls: RevocationChecker,
    client: Files,
    files: Path,
) -> None:
    issued = pki.server(["localhost"], expired=True) if variant == "expired" else pki.server(["mss.example.org"])
    context = tls(store, write(issued, files, f"async-{variant.replace(' ', '-')}"))

    async def scenario(controller: Controller) -> None:
        async with submission(controller, store, crls, client) as smtp:
            await smtp.send(message())

    with serve(recorder, tls=context) as controller, pytest.raises(TransportError, match=reason):
        asyncio.run(scenario(controller))
    assert recorder.mail_peers == []
    assert recorder.auth_attempts == []


def test_data_421_defers_and_resets(
    server: Controller, recorder: Recorder, store: TrustStore, crls: RevocationChecker, client: Files
) -> None:
    recorder.data_reply = "421 4.3.2 shutting down"

    async def scenario() -> tuple[SendResult, SendResult]:
        async with submission(server, store, crls, client) as smtp:
            first = await smtp.send(message(bcc=False))
            recorder.data_reply = None
            return first, await smtp.send(message(bcc=False))

    first, second = asyncio.run(scenario())
    assert first.deferred == TO
    assert [r.code for r in first.recipients] == [421, 421]
    assert second.accepted == TO
    assert recorder.connections == 2

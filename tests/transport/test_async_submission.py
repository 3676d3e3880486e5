"""AsyncSubmission against a real aiosmtpd server on 127.0.0.1: STARTTLS, mutual TLS, XOAUTH2, faults, concurrency.

Each scenario runs in its own ``asyncio.run``: the loop is closed as soon as the scenario returns, so a
connection the client had not finished closing would surface as an unclosed transport (a
``ResourceWarning``, an error here).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import ssl
from collections.abc import Awaitable, Callable
from email.message import EmailMessage
from pathlib import Path
from typing import TypeVar

import pytest
from aiosmtpd.controller import Controller

from mssante.errors import TransportError
from mssante.message import compose
from mssante.pki import RevocationChecker, TrustStore
from mssante.testing import TestPki
from mssante.transport._async_submission import AsyncSubmission
from mssante.transport._results import AsyncTransport, Delivery, SendResult
from tests.transport.conftest import Files, tls, write
from tests.transport.smtp_server import TOKEN, USER, Recorder, free_port, serve

SENDER = USER
TO = ("dr.martin@hopital.mssante.fr", "dr.durand@hopital.mssante.fr")
HIDDEN = "secretariat@hopital.mssante.fr"

T = TypeVar("T")


def submission(
    controller: Controller,
    store: TrustStore,
    crls: RevocationChecker,
    client: Files,
    *,
    token: str = TOKEN,
) -> AsyncSubmission:
    async def fresh_token() -> str:  # an async callback, as a Pro Santé Connect client would have
        return token

    return AsyncSubmission(
        "localhost",
        controller.port,
        store=store,
        client_certificate=(client.certificate, client.key),
        username=USER,
        token=fresh_token,
        revocation=crls,
        timeout=5,
    )


def message(
    *, to: tuple[str, ...] = TO, subject: str = "Compte rendu", text: str = "Compte rendu en pièce jointe.",
    bcc: bool = True,
) -> EmailMessage:  # fmt: skip
    mail = compose(
        sender=SENDER,
        to=list(to),
        nil="DEV000001",
        at=dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.timezone.utc),
        subject=subject,
        text=text,
    )
    if bcc:
        mail["Bcc"] = HIDDEN
    return mail


def run(session: AsyncSubmission, scenario: Callable[[AsyncSubmission], Awaitable[T]]) -> T:
    """``scenario`` inside ``async with session``, in a fresh event loop closed right after."""

    async def main() -> T:
        async with session as smtp:
            return await scenario(smtp)

    return asyncio.run(main())


# --- a successful session ---------------------------------------------------------------------------------


def test_success_with_mutual_tls_and_xoauth2(
    server: Controller, recorder: Recorder, store: TrustStore, crls: RevocationChecker, client: Files
) -> None:
    mail = message()
    result = run(submission(server, store, crls, client), lambda smtp: smtp.send(mail))
    assert result.ok
    assert result.accepted == (*TO, HIDDEN)
    assert [r.delivery for r in result.recipients] == [Delivery.ACCEPTED] * 3
    assert [r.code for r in result.recipients] == [250, 250, 250]
    assert result.message_id == mail["Message-ID"]
    [received] = recorder.messages
    assert received.sender == SENDER
    assert received.recipients == [*TO, HIDDEN]
    assert b"Bcc" not in received.data
    assert HIDDEN.encode() not in received.data
    assert any(option.startswith("SIZE=") for option in received.mail_options)
    assert recorder.auth_attempts == [f"user={USER}\x01auth=Bearer {TOKEN}\x01\x01"]
    assert mail["Bcc"] == HIDDEN  # the caller's message is left as it was


def test_sync_token_callback_and_explicit_connect(
    server: Controller, recorder: Recorder, store: TrustStore, crls: RevocationChecker, client: Files
) -> None:
    smtp = AsyncSubmission(
        "localhost", server.port, store=store, client_certificate=(client.certificate, client.key), username=USER,
        token=lambda: TOKEN, revocation=crls, timeout=5,
    )  # fmt: skip

    async def scenario() -> tuple[str, str, SendResult]:
        await smtp.connect()
        connected = repr(smtp)
        result = await smtp.send(message(bcc=False))
        await smtp.close()
        return connected, repr(smtp), result

    connected, closed, result = asyncio.run(scenario())
    assert result.ok
    assert "not connected" not in connected
    assert "not connected" in closed
    assert recorder.auth_attempts == [f"user={USER}\x01auth=Bearer {TOKEN}\x01\x01"]


def test_send_many_uses_one_connection(
    server: Controller, recorder: Recorder, store: TrustStore, crls: RevocationChecker, client: Files
) -> None:
    results = run(submission(server, store, crls, client), lambda smtp: smtp.send_many([message() for _ in range(5)]))
    assert all(result.ok for result in results)
    assert len(recorder.messages) == 5
    assert recorder.connections == 1


def test_is_an_async_transport(server: Controller, store: TrustStore, crls: RevocationChecker, client: Files) -> None:
    transport: AsyncTransport = submission(server, store, crls, client)
    assert isinstance(transport, AsyncSubmission)


# --- refusals before any MAIL -----------------------------------------------------------------------------


def test_server_without_starttls_is_refused(
    recorder: Recorder, store: TrustStore, crls: RevocationChecker, client: Files
) -> None:
    with serve(recorder, tls=None) as plain, pytest.raises(TransportError, match="STARTTLS"):
        run(submission(plain, store, crls, client), lambda smtp: smtp.send(message()))
    assert recorder.mail_peers == []
    assert recorder.auth_attempts == []


@pytest.mark.parametrize(
    ("variant", "reason"),
    [
        ("expired", "MSS-PKI-007"),
        ("other host", "MSS-PKI-010"),
        ("other PKI", "MSS-PKI-008"),
    ],
)
def test_server_certificate_refused_before_auth(
    variant: str,
    reason: str,
    recorder: Recorder,
    pki: TestPki,
    foreign: TestPki,
    store: TrustStore,
    crls: RevocationChecker,
    client: Files,
    files: Path,
) -> None:
    if variant == "expired":
        issued = pki.server(["localhost"], expired=True)
    elif variant == "other host":
        issued = pki.server(["mss.example.org"])
    else:
        issued = foreign.server(["localhost"])
    context = tls(store, write(issued, files, f"async-{variant.replace(' ', '-')}"))
    with serve(recorder, tls=context) as controller, pytest.raises(TransportError, match=reason):
        run(submission(controller, store, crls, client), lambda smtp: smtp.send(message()))
    assert recorder.mail_peers == []
    assert recorder.auth_attempts == []


def test_client_certificate_refused_by_server(
    server: Controller, recorder: Recorder, foreign: TestPki, store: TrustStore, crls: RevocationChecker, files: Path
) -> None:
    stranger = write(foreign.organisation("LOGICIEL", usage="auth"), files, "async-stranger")
    with pytest.raises(TransportError):
        run(submission(server, store, crls, stranger), lambda smtp: smtp.send(message()))
    assert recorder.mail_peers == []
    assert recorder.auth_attempts == []


def test_wrong_token_is_refused_without_showing_it(
    server: Controller, recorder: Recorder, store: TrustStore, crls: RevocationChecker, client: Files
) -> None:
    wrong = "not-the-right-token-123"
    with pytest.raises(TransportError, match="XOAUTH2") as caught:
        run(submission(server, store, crls, client, token=wrong), lambda smtp: smtp.send(message()))
    assert wrong not in str(caught.value)
    assert recorder.mail_peers == []


# --- per-recipient outcomes -------------------------------------------------------------------------------


def test_rcpt_refusals_give_rejected_and_deferred(
    server: Controller, recorder: Recorder, store: TrustStore, crls: RevocationChecker, client: Files
) -> None:
    recorder.rcpt_replies = {TO[0]: "550 5.1.1 no such mailbox", HIDDEN: "450 4.2.1 mailbox busy"}
    result = run(submission(server, store, crls, client), lambda smtp: smtp.send(message()))
    assert result.rejected == (TO[0],)
    assert result.deferred == (HIDDEN,)
    assert result.accepted == (TO[1],)
    assert [r.code for r in result.recipients] == [550, 250, 450]
    assert not result.ok
    assert recorder.messages[0].recipients == [TO[1]]


def test_421_at_rcpt_defers_the_recipients_already_accepted(
    server: Controller, recorder: Recorder, store: TrustStore, crls: RevocationChecker, client: Files
) -> None:
    recorder.rcpt_replies = {TO[1]: "421 4.3.2 shutting down"}

    async def scenario(smtp: AsyncSubmission) -> SendResult:
        return await smtp.send(message())

    result = run(submission(server, store, crls, client), scenario)
    assert result.accepted == ()
    assert result.deferred == (*TO, HIDDEN)
    assert recorder.data_commands == 0


def test_421_during_data_defers_and_reconnects(
    server: Controller, recorder: Recorder, store: TrustStore, crls: RevocationChecker, client: Files
) -> None:
    recorder.data_reply = "421 4.3.2 shutting down"

    async def scenario(smtp: AsyncSubmission) -> tuple[SendResult, SendResult]:
        first = await smtp.send(message())
        recorder.data_reply = None
        return first, await smtp.send(message())

    first, second = run(submission(server, store, crls, client), scenario)
    assert first.deferred == (*TO, HIDDEN)
    assert {r.code for r in first.recipients} == {421}
    assert second.ok
    assert recorder.connections == 2


def test_552_during_data_rejects_and_keeps_the_session(
    server: Controller, recorder: Recorder, store: TrustStore, crls: RevocationChecker, client: Files
) -> None:
    recorder.data_reply = "552 5.3.4 too big"

    async def scenario(smtp: AsyncSubmission) -> tuple[SendResult, SendResult]:
        first = await smtp.send(message())
        recorder.data_reply = None
        return first, await smtp.send(message())

    first, second = run(submission(server, store, crls, client), scenario)
    assert first.rejected == (*TO, HIDDEN)
    assert second.ok
    assert recorder.connections == 1


def test_dropped_connection_defers_and_next_send_reconnects(
    server: Controller, recorder: Recorder, store: TrustStore, crls: RevocationChecker, client: Files
) -> None:
    recorder.drop_in_data = True

    async def scenario(smtp: AsyncSubmission) -> tuple[SendResult, SendResult]:
        first = await smtp.send(message())
        recorder.drop_in_data = False
        return first, await smtp.send(message())

    first, second = run(submission(server, store, crls, client), scenario)
    assert first.deferred == (*TO, HIDDEN)
    assert {r.code for r in first.recipients} == {None}
    assert second.ok
    assert recorder.connections == 2


def test_a_connection_the_server_closed_while_idle_is_reopened(
    recorder: Recorder, server_tls: ssl.SSLContext, store: TrustStore, crls: RevocationChecker, client: Files
) -> None:
    controller = Controller(
        recorder, hostname="127.0.0.1", port=free_port(), server_hostname="localhost", tls_context=server_tls,
        require_starttls=True, auth_require_tls=True, auth_exclude_mechanism=["LOGIN", "PLAIN"], timeout=0.2,
    )  # fmt: skip

    async def scenario(smtp: AsyncSubmission) -> tuple[SendResult, SendResult]:
        first = await smtp.send(message())
        await asyncio.sleep(0.6)  # over the server's idle timeout: it says 421 and closes
        return first, await smtp.send(message())

    controller.start()
    try:
        first, second = run(submission(controller, store, crls, client), scenario)
    finally:
        controller.stop()
    assert first.ok
    assert second.ok
    assert recorder.connections == 2


def test_message_over_size_is_rejected_without_data(
    server: Controller, recorder: Recorder, store: TrustStore, crls: RevocationChecker, client: Files
) -> None:
    result = run(submission(server, store, crls, client), lambda smtp: smtp.send(message(text="x" * 200_000)))
    assert result.rejected == (*TO, HIDDEN)
    assert "SIZE" in result.recipients[0].reply
    assert recorder.data_commands == 0
    assert recorder.mail_peers == []


# --- concurrency and the audit trail ------------------------------------------------------------------------


def test_concurrent_sessions_all_deliver(
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


def test_concurrent_sends_on_one_session_are_serialised(
    server: Controller, recorder: Recorder, store: TrustStore, crls: RevocationChecker, client: Files
) -> None:
    async def scenario(smtp: AsyncSubmission) -> list[SendResult]:
        return list(await asyncio.gather(*(smtp.send(message(subject=f"Compte rendu {n}")) for n in range(5))))

    results = run(submission(server, store, crls, client), scenario)
    assert all(result.ok for result in results)
    assert len(recorder.messages) == 5
    assert recorder.connections == 1


def test_audit_events_without_secrets(
    server: Controller, store: TrustStore, crls: RevocationChecker, client: Files, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="mssante.transport.audit")
    mail = message()
    run(submission(server, store, crls, client), lambda smtp: smtp.send(mail))
    records = [r for r in caplog.records if r.name == "mssante.transport.audit"]
    assert [getattr(r, "event", None) for r in records] == ["connect", "tls", "authenticate", "send", "quit"]
    assert getattr(records[1], "protocol", "").startswith("TLSv1.")
    assert getattr(records[2], "mechanism", None) == "XOAUTH2"
    assert getattr(records[3], "message_id", None) == mail["Message-ID"]
    for record in records:
        text = record.getMessage() + repr(record.__dict__)
        assert TOKEN not in text
        assert "Compte rendu en pi" not in text

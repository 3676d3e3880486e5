"""AsyncMailbox against the test IMAP server on 127.0.0.1: the cases of ImapMailbox, and what is its own.

Each scenario runs in its own ``asyncio.run``: a connection the client had not finished closing would surface as an
unclosed transport (a ``ResourceWarning``, an error here).
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import threading
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest

from mssante.errors import TransportError
from mssante.pki import RevocationChecker, TrustStore
from mssante.transport import AsyncMailbox, FetchedMessage, ImapMailbox
from mssante.transport import codes as transport_codes
from tests.transport.conftest import Files
from tests.transport.imap_server import PASSWORD, TOKEN, USER, ImapState, serve
from tests.transport.test_mailbox import assert_unseen_intact, codes_of, message

T = TypeVar("T")


def mailbox(
    port: int,
    store: TrustStore,
    crls: RevocationChecker,
    client: Files | None,
    *,
    token: str | None = TOKEN,
    sync_token: bool = False,
    password: str | None = None,
    implicit_tls: bool = False,
    max_bytes: int | None = None,
) -> AsyncMailbox:
    async def fresh_token() -> str:  # an async callback, as a Pro Santé Connect client would have
        assert token is not None
        return token

    return AsyncMailbox(
        "localhost", port, store=store, client_certificate=(client.certificate, client.key) if client else None,
        username=USER, token=None if token is None else (lambda: token) if sync_token else fresh_token,
        password=password, implicit_tls=implicit_tls, revocation=crls, timeout=5, max_bytes=max_bytes,
    )  # fmt: skip


def run(box: AsyncMailbox, scenario: Callable[[AsyncMailbox], Awaitable[T]]) -> T:
    """``scenario`` inside ``async with box``, in a fresh event loop closed right after."""

    async def main() -> T:
        async with box:
            return await scenario(box)

    return asyncio.run(main())


# --- reading ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("sync_token", [False, True], ids=["async token", "sync token"])
def test_fetch_returns_the_exact_bytes_parsed(
    sync_token: bool,
    state: ImapState,
    server_tls: ssl.SSLContext,
    store: TrustStore,
    crls: RevocationChecker,
    client: Files,
    caplog: pytest.LogCaptureFixture,
) -> None:
    data = message()
    uid = state.add(data)
    caplog.set_level(logging.INFO, logger="mssante.transport.audit")
    with serve(state, tls=server_tls) as port:
        box = mailbox(port, store, crls, client, sync_token=sync_token)
        fetched = run(box, lambda box: box.fetch(uid))
        assert "not connected" in repr(box)
    assert_unseen_intact(fetched, uid, data, state)
    events = [getattr(record, "event", None) for record in caplog.records]
    assert events == ["connect", "tls", "authenticate", "fetch", "quit"]
    assert all(TOKEN not in record.getMessage() for record in caplog.records)
    assert state.commands[-1] == "LOGOUT"


def test_the_same_answers_as_the_sync_mailbox(
    state: ImapState, server_tls: ssl.SSLContext, store: TrustStore, crls: RevocationChecker, client: Files
) -> None:
    uids = [state.add(message(f"message {n}")) for n in range(3)]
    state.add(message("lu"), flags=("\\Seen",))
    with serve(state, tls=server_tls) as port:
        sync = ImapMailbox(
            "localhost", port, store=store, client_certificate=(client.certificate, client.key), username=USER,
            token=lambda: TOKEN, revocation=crls, timeout=5,
        )  # fmt: skip
        with sync:
            expected = (sync.unseen(), [sync.fetch(uid) for uid in uids], sync.uidvalidity)

        async def scenario(box: AsyncMailbox) -> tuple[list[str], list[FetchedMessage], str | None]:
            return await box.unseen(), [await box.fetch(uid) for uid in uids], box.uidvalidity

        got = run(mailbox(port, store, crls, client), scenario)
    assert (got[0], [(m.uid, m.raw, m.flags) for m in got[1]], got[2]) == (
        expected[0], [(m.uid, m.raw, m.flags) for m in expected[1]], expected[2],
    )  # fmt: skip


def test_unseen_mark_seen_delete_and_move(
    state: ImapState, server_tls: ssl.SSLContext, store: TrustStore, crls: RevocationChecker, client: Files,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    first, second, third = (state.add(message(f"message {n}")) for n in range(3))
    state.add(message("lu"), flags=("\\Seen",))
    state.folders["Archives"] = []
    caplog.set_level(logging.INFO, logger="mssante.transport.audit")

    async def scenario(box: AsyncMailbox) -> None:
        assert await box.unseen() == [first, second, third]
        await box.mark_seen(first)
        assert await box.unseen() == [second, third]
        assert (await box.fetch(first)).seen
        await box.delete(second)
        assert second not in state.uids()
        await box.move(third, "Archives")
        assert await box.unseen() == []

    with serve(state, tls=server_tls) as port:
        run(mailbox(port, store, crls, client), scenario)
    assert state.uids("Archives") == [third]
    assert len(state.uids()) == 2
    assert "UID MOVE" in state.commands  # offered by the server: one command
    removals = [(record.event, record.uid) for record in caplog.records if record.event in ("delete", "move")]  # type: ignore[attr-defined]
    assert removals == [("delete", second), ("move", third)]


def test_login_with_password_and_implicit_tls(
    state: ImapState, server_tls: ssl.SSLContext, store: TrustStore, crls: RevocationChecker, client: Files
) -> None:
    uid = state.add(message())
    with serve(state, tls=server_tls, implicit=True) as port:
        box = mailbox(port, store, crls, client, token=None, password=PASSWORD, implicit_tls=True)
        assert run(box, lambda box: box.unseen()) == [uid]
    assert "STARTTLS" not in state.commands
    assert state.auth_attempts == [f"LOGIN {USER}"]


def test_a_password_that_cannot_be_quoted_goes_as_a_literal(
    server_tls: ssl.SSLContext, store: TrustStore, crls: RevocationChecker, client: Files
) -> None:
    password = 'mot de passe "é"\\'
    state = ImapState(password=password)
    uid = state.add(message())
    with serve(state, tls=server_tls) as port:
        box = mailbox(port, store, crls, client, token=None, password=password)
        assert run(box, lambda box: box.unseen()) == [uid]
    assert state.auth_attempts == [f"LOGIN {USER}"]


def test_the_connection_is_opened_at_the_first_use_and_reopened_after_close(
    state: ImapState, server_tls: ssl.SSLContext, store: TrustStore, crls: RevocationChecker, client: Files
) -> None:
    uid = state.add(message())

    async def scenario() -> list[list[str]]:
        box = mailbox(port, store, crls, client)
        first = await box.unseen()
        await box.close()
        await box.close()  # nothing more to close
        second = await box.unseen()
        await box.close()
        return [first, second]

    with serve(state, tls=server_tls) as port:
        assert asyncio.run(scenario()) == [[uid], [uid]]
    assert state.commands.count("SELECT") == 2


# --- refusals ---------------------------------------------------------------------------------------------


def test_the_defaults_are_those_of_the_sync_mailbox(store: TrustStore) -> None:
    assert AsyncMailbox("localhost", store=store).port == 143
    assert AsyncMailbox("localhost", store=store, implicit_tls=True).port == 993
    assert AsyncMailbox("localhost", store=store).max_duration == ImapMailbox("localhost", store=store).max_duration
    with pytest.raises(ValueError, match="folder"):
        AsyncMailbox("localhost", store=store, folder="a\r\nb")
    with pytest.raises(ValueError, match="max_duration"):
        AsyncMailbox("localhost", store=store, max_duration=0)


def test_message_over_the_limit_is_refused_before_fetching(
    state: ImapState, server_tls: ssl.SSLContext, store: TrustStore, crls: RevocationChecker, client: Files
) -> None:
    uid = state.add(message("x" * 5000))
    with serve(state, tls=server_tls) as port:
        box = mailbox(port, store, crls, client, max_bytes=1000)
        with pytest.raises(TransportError, match="over the 1000 bytes limit") as caught:
            run(box, lambda box: box.fetch(uid))
    assert codes_of(caught.value) == [transport_codes.MESSAGE_TOO_LARGE.id]
    assert state.commands.count("UID FETCH") == 1  # RFC822.SIZE only, never the content
    assert state.uids() == [uid]


def test_bad_uid_and_missing_message(
    state: ImapState, server_tls: ssl.SSLContext, store: TrustStore, crls: RevocationChecker, client: Files
) -> None:
    async def scenario(box: AsyncMailbox) -> None:
        with pytest.raises(ValueError, match="UID"):
            await box.fetch("1:*")
        with pytest.raises(TransportError, match="no message with UID 42") as caught:
            await box.fetch("42")
        assert codes_of(caught.value) == [transport_codes.MESSAGE_UNAVAILABLE.id]
        with pytest.raises(TransportError, match="refused UID MOVE") as refused:
            await box.move(str(state.add(message())), "Absent")
        assert codes_of(refused.value) == [transport_codes.COMMAND_FAILED.id]
        assert "not connected" not in repr(box)  # a refusal leaves the session open

    with serve(state, tls=server_tls) as port:
        run(mailbox(port, store, crls, client), scenario)


# --- the end of the token source ----------------------------------------------------------------------------


class EndingToken:
    """A token source that can end (as :class:`mssante.psc.TokenSource`)."""

    def __init__(self) -> None:
        self.callbacks: list[Callable[[str], None]] = []

    def __call__(self) -> str:
        return TOKEN

    def on_end(self, callback: Callable[[str], None]) -> Callable[[], None]:
        self.callbacks.append(callback)
        return lambda: self.callbacks.remove(callback)

    def end(self, reason: str) -> None:
        for callback in list(self.callbacks):
            callback(reason)


def test_the_end_of_the_token_source_drops_the_connection(
    state: ImapState, server_tls: ssl.SSLContext, store: TrustStore, crls: RevocationChecker, client: Files
) -> None:
    uid = state.add(message())
    source = EndingToken()

    async def scenario() -> None:
        box = AsyncMailbox(
            "localhost", port, store=store, client_certificate=(client.certificate, client.key), username=USER,
            token=source, revocation=crls, timeout=5,
        )  # fmt: skip
        async with box:
            assert await box.unseen() == [uid]
            ender = threading.Thread(target=source.end, args=("refresh token revoked",))
            ender.start()  # from another thread, as a refresh would
            ender.join()
            await asyncio.sleep(0.05)
            for operation in (box.unseen(), box.fetch(uid), box.mark_seen(uid), box.connect()):
                with pytest.raises(TransportError, match="refresh token revoked") as caught:
                    await operation
                assert codes_of(caught.value) == [transport_codes.TOKEN_ENDED.id]

    with serve(state, tls=server_tls) as port:
        asyncio.run(scenario())
    assert state.commands.count("SELECT") == 1
    assert "LOGOUT" not in state.commands  # the connection was dropped, not logged out

"""ImapMailbox against a small real IMAP server on 127.0.0.1: STARTTLS, mutual TLS with a test IGC Santé, XOAUTH2.

The refusals at opening are the same for :class:`~mssante.transport.AsyncMailbox`: those tests run for both sides.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import ssl
from pathlib import Path
from typing import Any

import pytest

from mssante.errors import TransportError
from mssante.message import compose
from mssante.pki import RevocationChecker, TrustStore
from mssante.testing import TestPki
from mssante.transport import AsyncMailbox, FetchedMessage, ImapMailbox
from mssante.transport import codes as transport_codes
from tests.transport.conftest import Files, tls, write
from tests.transport.imap_server import PASSWORD, TOKEN, USER, ImapState, serve

SENDER = "dr.martin@hopital.mssante.fr"

Side = type[ImapMailbox] | type[AsyncMailbox]
both_sides = pytest.mark.parametrize("side", [ImapMailbox, AsyncMailbox], ids=["sync", "async"])
"""A test of what the sync and the async mailboxes do alike, run for each."""


def mailbox(
    port: int,
    store: TrustStore,
    crls: RevocationChecker,
    client: Files | None,
    *,
    token: str | None = TOKEN,
    password: str | None = None,
    implicit_tls: bool = False,
    max_bytes: int | None = None,
) -> ImapMailbox:
    return ImapMailbox(
        "localhost",
        port,
        store=store,
        client_certificate=(client.certificate, client.key) if client else None,
        username=USER,
        token=(lambda: token) if token is not None else None,
        password=password,
        implicit_tls=implicit_tls,
        revocation=crls,
        timeout=5,
        max_bytes=max_bytes,
    )


def refusal(
    side: Side, port: int, store: TrustStore, crls: RevocationChecker, client: Files, **options: Any
) -> TransportError:
    """The error opening a mailbox of ``side`` raises: by default with the client certificate and a token (a string
    in ``options``, given by a sync callable, or an async one to the async mailbox)."""
    settings: dict[str, Any] = {"username": USER, "token": TOKEN, **options}
    token = settings["token"]
    if isinstance(token, str):

        async def fresh_token() -> str:  # as a Pro Santé Connect client would have
            return token

        settings["token"] = fresh_token if side is AsyncMailbox else lambda: token
    box = side(
        "localhost", port, store=store, client_certificate=(client.certificate, client.key), revocation=crls,
        timeout=5, **settings,
    )  # fmt: skip
    connect = box.connect if isinstance(box, ImapMailbox) else lambda: asyncio.run(box.connect())
    with pytest.raises(TransportError) as caught:
        connect()
    return caught.value


def codes_of(error: TransportError) -> list[str]:
    return [finding.code for finding in error.report.findings]


def message(text: str = "Compte rendu en pièce jointe.") -> bytes:
    mail = compose(
        sender=SENDER,
        to=[USER],
        nil="DEV000001",
        at=dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.timezone.utc),
        subject="Compte rendu",
        text=text,
    )
    return mail.as_bytes()


def assert_unseen_intact(fetched: FetchedMessage, uid: str, data: bytes, state: ImapState) -> None:
    """``fetched`` is message ``uid`` with its exact bytes ``data``, parsed, and still unseen and in the mailbox."""
    assert isinstance(fetched, FetchedMessage)
    assert fetched.uid == uid
    assert fetched.raw == data
    assert fetched.flags == ()
    assert not fetched.seen
    assert fetched.message.subject == "Compte rendu"
    assert "\\Seen" not in state.folders["INBOX"][0].flags  # BODY.PEEK: still unseen
    assert state.uids() == [uid]  # never deleted by a fetch


# --- reading ----------------------------------------------------------------------------------------------


def test_fetch_returns_the_exact_bytes_parsed(
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
    with serve(state, tls=server_tls) as port, mailbox(port, store, crls, client) as box:
        fetched = box.fetch(uid)
    assert_unseen_intact(fetched, uid, data, state)
    events = [getattr(record, "event", None) for record in caplog.records]
    assert events[:3] == ["connect", "tls", "authenticate"]
    assert "fetch" in events
    assert all(TOKEN not in record.getMessage() for record in caplog.records)


def test_unseen_mark_seen_delete_and_move(
    state: ImapState, server_tls: ssl.SSLContext, store: TrustStore, crls: RevocationChecker, client: Files
) -> None:
    first, second, third = (state.add(message(f"message {n}")) for n in range(3))
    state.add(message("lu"), flags=("\\Seen",))
    state.folders["Archives"] = []
    with serve(state, tls=server_tls) as port, mailbox(port, store, crls, client) as box:
        assert box.unseen() == [first, second, third]
        box.mark_seen(first)
        assert box.unseen() == [second, third]
        assert box.fetch(first).seen
        box.delete(second)
        assert second not in state.uids()
        box.move(third, "Archives")
        assert box.unseen() == []
    assert state.uids("Archives") == [third]
    assert len(state.uids()) == 2


def test_login_with_password_and_implicit_tls(
    state: ImapState, server_tls: ssl.SSLContext, store: TrustStore, crls: RevocationChecker, client: Files
) -> None:
    uid = state.add(message())
    with (
        serve(state, tls=server_tls, implicit=True) as port,
        mailbox(port, store, crls, client, token=None, password=PASSWORD, implicit_tls=True) as box,
    ):
        assert box.unseen() == [uid]
    assert "STARTTLS" not in state.commands
    assert state.auth_attempts == [f"LOGIN {USER}"]


# --- refusals ---------------------------------------------------------------------------------------------


@both_sides
def test_server_without_starttls_is_refused(
    side: Side, state: ImapState, store: TrustStore, crls: RevocationChecker, client: Files
) -> None:
    with serve(state, tls=None) as port:
        error = refusal(side, port, store, crls, client, token=None, password=PASSWORD)
    assert "STARTTLS" in str(error)
    assert codes_of(error) == [transport_codes.NO_STARTTLS.id]
    assert state.auth_attempts == []
    assert "LOGIN" not in state.commands


@both_sides
def test_wrong_token_is_refused_without_showing_it(
    side: Side, state: ImapState, server_tls: ssl.SSLContext, store: TrustStore, crls: RevocationChecker,
    client: Files,
) -> None:  # fmt: skip
    wrong = "not-the-right-token-123"
    with serve(state, tls=server_tls) as port:
        error = refusal(side, port, store, crls, client, token=wrong)
    assert "XOAUTH2" in str(error)
    assert wrong not in str(error)
    assert "AUTHENTICATIONFAILED" in str(error)
    assert codes_of(error) == [transport_codes.LOGIN_REFUSED.id]
    assert "SELECT" not in state.commands


@both_sides
def test_external_not_offered_is_refused_before_any_attempt(
    side: Side, state: ImapState, server_tls: ssl.SSLContext, store: TrustStore, crls: RevocationChecker,
    client: Files,
) -> None:  # fmt: skip
    with serve(state, tls=server_tls) as port:
        error = refusal(side, port, store, crls, client, username=None, token=None, external=True)
    assert "does not offer AUTHENTICATE EXTERNAL" in str(error)
    assert codes_of(error) == [transport_codes.MECHANISM_NOT_OFFERED.id]
    assert state.auth_attempts == []
    assert "AUTHENTICATE" not in state.commands
    assert "SELECT" not in state.commands


@both_sides
def test_no_login_configured_is_said_before_select(
    side: Side, state: ImapState, server_tls: ssl.SSLContext, store: TrustStore, crls: RevocationChecker,
    client: Files,
) -> None:  # fmt: skip
    with serve(state, tls=server_tls) as port:
        error = refusal(side, port, store, crls, client, token=None)
    assert "none is configured" in str(error)
    assert codes_of(error) == [transport_codes.NO_LOGIN.id]
    assert "SELECT" not in state.commands


@both_sides
def test_a_missing_folder_is_refused_at_select(
    side: Side, state: ImapState, server_tls: ssl.SSLContext, store: TrustStore, crls: RevocationChecker,
    client: Files,
) -> None:  # fmt: skip
    with serve(state, tls=server_tls) as port:
        error = refusal(side, port, store, crls, client, folder="Absent")
    assert codes_of(error) == [transport_codes.SELECT_REFUSED.id]
    assert "NONEXISTENT" in str(error)


@both_sides
@pytest.mark.parametrize("other", [{"token": lambda: TOKEN}, {"password": PASSWORD}])
def test_external_excludes_token_and_password(side: Side, store: TrustStore, other: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="choose one authentication"):
        side("localhost", store=store, username=USER, external=True, **other)


@both_sides
def test_server_certificate_for_another_host_is_refused(
    side: Side, state: ImapState, pki: TestPki, store: TrustStore, crls: RevocationChecker, client: Files,
    files: Path,
) -> None:  # fmt: skip
    context = tls(store, write(pki.server(["mss.example.org"]), files, "other-host"))
    with serve(state, tls=context) as port:
        error = refusal(side, port, store, crls, client)
    assert "MSS-PKI-010" in str(error)
    assert state.auth_attempts == []


@both_sides
def test_a_server_that_refuses_the_client_certificate(
    side: Side, state: ImapState, server_tls: ssl.SSLContext, store: TrustStore, crls: RevocationChecker,
    client: Files,
) -> None:  # fmt: skip
    with serve(state, tls=server_tls, check_client=lambda sock: "certificate not accepted") as port:
        error = refusal(side, port, store, crls, client)
    assert codes_of(error) == [transport_codes.CLIENT_CERTIFICATE_REFUSED.id]
    assert state.auth_attempts == []


@both_sides
def test_a_server_in_clear_on_the_tls_port(
    side: Side, state: ImapState, store: TrustStore, crls: RevocationChecker, client: Files
) -> None:
    with serve(state, tls=None) as port:
        error = refusal(side, port, store, crls, client, implicit_tls=True)
    assert codes_of(error) == [transport_codes.TLS_FAILED.id]
    assert state.auth_attempts == []


@both_sides
def test_nothing_listening_is_unreachable(
    side: Side, store: TrustStore, crls: RevocationChecker, client: Files
) -> None:
    with serve(ImapState(), tls=None) as port:
        pass  # the port is free again
    error = refusal(side, port, store, crls, client)
    assert codes_of(error) == [transport_codes.UNREACHABLE.id]


def test_message_over_the_limit_is_refused_before_fetching(
    state: ImapState, server_tls: ssl.SSLContext, store: TrustStore, crls: RevocationChecker, client: Files
) -> None:
    uid = state.add(message("x" * 5000))
    with (
        serve(state, tls=server_tls) as port,
        mailbox(port, store, crls, client, max_bytes=1000) as box,
        pytest.raises(TransportError, match="over the 1000 bytes limit"),
    ):
        box.fetch(uid)
    assert state.commands.count("UID FETCH") == 1  # RFC822.SIZE only, never the content
    assert state.uids() == [uid]


def test_bad_uid_and_missing_message(
    state: ImapState, server_tls: ssl.SSLContext, store: TrustStore, crls: RevocationChecker, client: Files
) -> None:
    with serve(state, tls=server_tls) as port, mailbox(port, store, crls, client) as box:
        with pytest.raises(ValueError, match="UID"):
            box.fetch("1:*")
        with pytest.raises(TransportError, match="no message with UID 42"):
            box.fetch("42")

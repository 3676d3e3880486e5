"""ImapMailbox against a small real IMAP server on 127.0.0.1: STARTTLS, mutual TLS with a test IGC Santé, XOAUTH2."""

from __future__ import annotations

import datetime as dt
import logging
import ssl
from pathlib import Path

import pytest

from mssante.errors import TransportError
from mssante.message import compose
from mssante.pki import RevocationChecker, TrustStore
from mssante.testing import TestPki
from mssante.transport._mailbox import FetchedMessage, ImapMailbox
from tests.transport.conftest import Files, tls, write
from tests.transport.imap_server import PASSWORD, TOKEN, USER, ImapState, serve

SENDER = "dr.martin@hopital.mssante.fr"


@pytest.fixture
def state() -> ImapState:
    return ImapState()


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
    assert isinstance(fetched, FetchedMessage)
    assert fetched.uid == uid
    assert fetched.raw == data
    assert fetched.flags == ()
    assert not fetched.seen
    assert fetched.message.subject == "Compte rendu"
    assert "\\Seen" not in state.folders["INBOX"][0].flags  # BODY.PEEK: still unseen
    assert state.uids() == [uid]  # never deleted by a fetch
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


def test_server_without_starttls_is_refused(
    state: ImapState, store: TrustStore, crls: RevocationChecker, client: Files
) -> None:
    with serve(state, tls=None) as port, pytest.raises(TransportError, match="STARTTLS"):
        mailbox(port, store, crls, client, token=None, password=PASSWORD).connect()
    assert state.auth_attempts == []
    assert "LOGIN" not in state.commands


def test_wrong_token_is_refused_without_showing_it(
    state: ImapState, server_tls: ssl.SSLContext, store: TrustStore, crls: RevocationChecker, client: Files
) -> None:
    wrong = "not-the-right-token-123"
    with (
        serve(state, tls=server_tls) as port,
        pytest.raises(TransportError, match="XOAUTH2") as caught,
    ):
        mailbox(port, store, crls, client, token=wrong).connect()
    assert wrong not in str(caught.value)
    assert "AUTHENTICATIONFAILED" in str(caught.value)
    assert "SELECT" not in state.commands


def test_external_not_offered_is_refused_before_any_attempt(
    state: ImapState, server_tls: ssl.SSLContext, store: TrustStore, crls: RevocationChecker, client: Files
) -> None:
    with serve(state, tls=server_tls) as port:
        box = ImapMailbox(
            "localhost", port, store=store, client_certificate=(client.certificate, client.key), external=True,
            revocation=crls, timeout=5,
        )  # fmt: skip
        with pytest.raises(TransportError, match="does not offer AUTHENTICATE EXTERNAL"):
            box.connect()
    assert state.auth_attempts == []
    assert "AUTHENTICATE" not in state.commands
    assert "SELECT" not in state.commands


def test_no_login_configured_is_said_before_select(
    state: ImapState, server_tls: ssl.SSLContext, store: TrustStore, crls: RevocationChecker, client: Files
) -> None:
    with serve(state, tls=server_tls) as port:
        box = mailbox(port, store, crls, client, token=None)
        with pytest.raises(TransportError, match="none is configured"):
            box.connect()
    assert "SELECT" not in state.commands


@pytest.mark.parametrize("other", [{"token": lambda: TOKEN}, {"password": PASSWORD}])
def test_external_excludes_token_and_password(store: TrustStore, other: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="choose one authentication"):
        ImapMailbox("localhost", store=store, username=USER, external=True, **other)  # type: ignore[arg-type]


def test_server_certificate_for_another_host_is_refused(
    state: ImapState, pki: TestPki, store: TrustStore, crls: RevocationChecker, client: Files, files: Path
) -> None:
    context = tls(store, write(pki.server(["mss.example.org"]), files, "other-host"))
    with serve(state, tls=context) as port, pytest.raises(TransportError, match="MSS-PKI-010"):
        mailbox(port, store, crls, client).connect()
    assert state.auth_attempts == []


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

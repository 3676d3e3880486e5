"""Deadlines: a server that trickles its bytes (each in time for the per-read timeout) cannot hold a session.

Every session operation has ``max_duration`` as a whole: opening the session (greeting, STARTTLS handshake, the
server certificate and its CRLs, login), each transaction, each mailbox command. The servers here trickle at most
ten seconds' worth of bytes and hang up; the clients read with a 30 s per-read timeout and a deadline of one or a
few seconds. The checks are counts: the error says that the deadline passed, and the server could not trickle
all it had (the client closed the connection first). The sync and async submissions meet the same cases.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import gc
import ssl
import threading
from collections.abc import Iterator
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from cryptography import x509

from mssante.errors import TransportError
from mssante.message import compose
from mssante.pki import AsyncCrlFetcher, CrlFetcher, RevocationChecker, TrustStore
from mssante.report import Finding
from mssante.testing import TestPki
from mssante.transport import ImapMailbox, Relay, SendResult, Submission
from mssante.transport._async_submission import AsyncSubmission
from mssante.transport._peer import Revocation
from mssante.trustspace import AllowList, OperatorDn
from tests.transport.conftest import Files
from tests.transport.liars import HANG_GUARD, IMAP_SCRIPTS, SMTP_SCRIPTS, Liar, imap_trickled_body, tls_handshake
from tests.transport.smtp_server import TOKEN, USER, Recorder

MODES = ["sync", "async"]
DEADLINE = 1.0
"""The deadline of an operation that a liar holds (seconds)."""
ROOMY = 2.5
"""The deadline of operations that should pass (opening a session on the loopback takes a few milliseconds)."""
TO = ("dr.martin@hopital.mssante.fr", "dr.durand@hopital.mssante.fr")


def message() -> EmailMessage:
    return compose(
        sender=USER, to=list(TO), nil="DEV000001", at=dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.timezone.utc),
        subject="Compte rendu", text="Compte rendu en pièce jointe.",
    )  # fmt: skip


def send_messages(
    mode: str, port: int, store: TrustStore, revocation: Revocation, client: Files, *, max_duration: float,
    count: int = 1,
) -> list[SendResult]:  # fmt: skip
    """Send ``count`` messages over one Submission (sync) or AsyncSubmission (async, in a loop closed right after)."""
    certificate = (client.certificate, client.key)
    if mode == "sync":
        with Submission(
            "localhost", port, store=store, client_certificate=certificate, username=USER, token=lambda: TOKEN,
            revocation=revocation, timeout=HANG_GUARD, max_duration=max_duration,
        ) as smtp:  # fmt: skip
            return [smtp.send(message()) for _ in range(count)]

    async def token() -> str:
        return TOKEN

    async def scenario() -> list[SendResult]:
        async with AsyncSubmission(
            "localhost", port, store=store, client_certificate=certificate, username=USER, token=token,
            revocation=revocation, timeout=HANG_GUARD, max_duration=max_duration,
        ) as smtp:  # fmt: skip
            return [await smtp.send(message()) for _ in range(count)]

    return asyncio.run(scenario())


@pytest.fixture
def liars() -> Iterator[list[Liar]]:
    made: list[Liar] = []
    yield made
    for liar in made:
        liar.close()


# --- opening a session ------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", list(SMTP_SCRIPTS))
@pytest.mark.parametrize("mode", MODES)
def test_a_trickling_server_cannot_hold_the_opening(
    mode: str, case: str, liars: list[Liar], store: TrustStore, crls: RevocationChecker, client: Files
) -> None:
    liar = Liar(SMTP_SCRIPTS[case])
    liars.append(liar)
    with pytest.raises(TransportError, match=r"deadline passed while opening the session \(max_duration=1 s\)"):
        send_messages(mode, liar.port, store, crls, client, max_duration=DEADLINE)
    liar.close()
    assert liar.gave_up  # the client closed the connection before the trickle ended
    gc.collect()  # a socket left open would be a ResourceWarning here (an error in this suite)


class SlowFetcher(CrlFetcher):
    """Takes three deadlines to fetch the CRLs (it cannot be interrupted), then gives the test CRLs."""

    def __init__(self, crls: RevocationChecker) -> None:
        super().__init__()
        self.crls = crls
        self.calls = 0

    def checker_for(self, certificate: x509.Certificate, **_: object) -> tuple[RevocationChecker, list[Finding]]:
        self.calls += 1
        threading.Event().wait(3 * DEADLINE)
        return self.crls, []


class SlowAsyncFetcher(AsyncCrlFetcher):
    """Would take three deadlines to fetch the CRLs; says whether it was cancelled."""

    def __init__(self, crls: RevocationChecker) -> None:
        super().__init__()
        self.crls = crls
        self.calls = 0
        self.cancelled = False

    async def checker_for(self, certificate: x509.Certificate, **_: object) -> tuple[RevocationChecker, list[Finding]]:
        self.calls += 1
        try:
            await asyncio.sleep(3 * DEADLINE)
        except asyncio.CancelledError:
            self.cancelled = True
            raise
        return self.crls, []


@pytest.mark.parametrize("mode", MODES)
def test_fetching_the_crls_counts_against_the_deadline(
    mode: str, server: Controller, recorder: Recorder, store: TrustStore, crls: RevocationChecker, client: Files
) -> None:
    fetcher: SlowFetcher | SlowAsyncFetcher = SlowFetcher(crls) if mode == "sync" else SlowAsyncFetcher(crls)
    try:
        with pytest.raises(TransportError, match="deadline passed while opening the session"):
            send_messages(mode, server.port, store, fetcher, client, max_duration=DEADLINE)
    finally:
        if isinstance(fetcher, SlowFetcher):
            fetcher.close()
        else:
            asyncio.run(fetcher.aclose())
    assert fetcher.calls == 1  # the certificate was being checked when the deadline passed
    if isinstance(fetcher, SlowAsyncFetcher):
        assert fetcher.cancelled  # async: the download itself is cancelled
    assert recorder.auth_attempts == []  # nothing was said after the deadline
    assert recorder.mail_peers == []
    gc.collect()


# --- a transaction ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_a_trickled_answer_to_the_data_is_deferred_at_the_deadline(
    mode: str, server: Controller, recorder: Recorder, store: TrustStore, crls: RevocationChecker, client: Files
) -> None:
    recorder.data_trickle = 400  # ten seconds of "250-still working" lines, each in time for the read timeout
    first, second = send_messages(mode, server.port, store, crls, client, max_duration=ROOMY, count=2)
    assert first.deferred == TO
    assert {result.code for result in first.recipients} == {None}
    assert all("deadline passed while sending the message" in result.reply for result in first.recipients)
    assert recorder.trickled < 400  # the client hung up
    assert second.deferred == TO  # the next message has a deadline of its own, on a new connection
    assert recorder.connections == 2


# --- the relay --------------------------------------------------------------------------------------------


def test_a_trickling_mx_is_deferred_at_the_deadline(
    liars: list[Liar], pki: TestPki, store: TrustStore, crls: RevocationChecker, client: Files
) -> None:
    liar = Liar(SMTP_SCRIPTS["greeting"])
    liars.append(liar)
    listed = OperatorDn.from_name(pki.server(["localhost"], organisation="OPERATEUR-A").certificate.subject)
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?><ListeBlancheMSSante xmlns="https://listeblanche.mssante.fr/schema">'
        "<DateDeGeneration>2026-06-01T00:00:00Z</DateDeGeneration><ListeDomaines><Domaine>"
        f"<Nom>hopital.mssante.fr</Nom><Description>h</Description><DNCertificatOperateur>{listed}"
        "</DNCertificatOperateur><ResponsableContact>r</ResponsableContact><SupportContact>s</SupportContact>"
        "<DateMAJ>2026-06-01T00:00:00Z</DateMAJ></Domaine></ListeDomaines></ListeBlancheMSSante>"
    )
    relay = Relay(
        allowlist=AllowList.parse(xml.encode()), store=store, client_certificate=(client.certificate, client.key),
        revocation=crls, resolver=lambda domain: [(10, "localhost")], port=liar.port, timeout=HANG_GUARD,
        max_duration=DEADLINE,
    )  # fmt: skip
    [result] = relay.send(message())
    assert result.deferred == TO
    assert all("deadline passed while opening the session" in r.reply for r in result.recipients)
    liar.close()
    assert liar.gave_up


# --- the mailbox ------------------------------------------------------------------------------------------


def mailbox(port: int, store: TrustStore, crls: RevocationChecker, client: Files, **options: object) -> ImapMailbox:
    return ImapMailbox(
        "localhost", port, store=store, client_certificate=(client.certificate, client.key), username=USER,
        token=lambda: TOKEN, revocation=crls, timeout=HANG_GUARD, **options,  # type: ignore[arg-type]
    )  # fmt: skip


@pytest.mark.parametrize("case", [*IMAP_SCRIPTS, "implicit TLS handshake"])
def test_a_trickling_imap_server_cannot_hold_the_opening(
    case: str, liars: list[Liar], store: TrustStore, crls: RevocationChecker, client: Files
) -> None:
    implicit = case == "implicit TLS handshake"
    liar = Liar(tls_handshake if implicit else IMAP_SCRIPTS[case])
    liars.append(liar)
    box = mailbox(liar.port, store, crls, client, implicit_tls=implicit, max_duration=DEADLINE)
    with pytest.raises(TransportError, match=r"deadline passed while opening the session \(max_duration=1 s\)"):
        box.connect()
    liar.close()
    assert liar.gave_up
    gc.collect()


def test_a_trickled_message_is_not_waited_for_past_the_deadline(
    liars: list[Liar], server_tls: ssl.SSLContext, store: TrustStore, crls: RevocationChecker, client: Files
) -> None:
    liar = Liar(imap_trickled_body(server_tls))
    liars.append(liar)
    with mailbox(liar.port, store, crls, client, max_duration=ROOMY) as box:
        with pytest.raises(TransportError, match="deadline passed while UID FETCH"):
            box.fetch("1")
        assert "not connected" in repr(box)  # the connection was dropped: the next command reconnects
    liar.close()
    assert liar.gave_up  # 300 bytes at 40 a second: the client stopped waiting first
    gc.collect()


# --- the settings -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [0, -1, float("inf"), float("nan")])
def test_max_duration_is_a_positive_number_of_seconds(value: float, store: TrustStore) -> None:
    with pytest.raises(ValueError, match="max_duration"):
        Submission("localhost", store=store, max_duration=value)
    with pytest.raises(ValueError, match="max_duration"):
        AsyncSubmission("localhost", store=store, max_duration=value)
    with pytest.raises(ValueError, match="max_duration"):
        ImapMailbox("localhost", store=store, max_duration=value)


def test_the_default_deadline(store: TrustStore) -> None:
    assert Submission("localhost", store=store).max_duration == 300.0
    assert AsyncSubmission("localhost", store=store).max_duration == 300.0
    assert ImapMailbox("localhost", store=store).max_duration == 300.0

"""AsyncMailbox against lying and slow IMAP servers: what they announce never makes the client read past its bounds,
what they trickle never holds an operation past its deadline, and what they slip in clear never passes as TLS."""

from __future__ import annotations

import asyncio
import gc
import socket
import ssl
from collections.abc import Callable, Iterator

import pytest

from mssante.errors import TransportError
from mssante.pki import RevocationChecker, TrustStore
from mssante.transport import AsyncMailbox
from mssante.transport import codes as transport_codes
from tests.transport import test_mailbox_hostile
from tests.transport.conftest import Files
from tests.transport.liars import HANG_GUARD, IMAP_SCRIPTS, Liar, Script, imap_trickled_body, tls_handshake
from tests.transport.test_mailbox import codes_of
from tests.transport.test_mailbox_hostile import HUGE, MakeLiar

DEADLINE = 1.0
ROOMY = 2.5

Answer = Callable[[str], bytes]
"""What a scripted server answers to a command, given its tag."""


def box(port: int, store: TrustStore, crls: RevocationChecker, client: Files, **options: object) -> AsyncMailbox:
    settings: dict[str, object] = {"timeout": 5, "max_bytes": 100_000, **options}
    return AsyncMailbox(
        "localhost", port, store=store, client_certificate=(client.certificate, client.key),
        username="dr.martin@hopital.mssante.fr", token=lambda: "t", revocation=crls, **settings,  # type: ignore[arg-type]
    )  # fmt: skip


def scripted(context: ssl.SSLContext, answers: dict[str, Answer], *, greeting: bytes = b"* OK ready\r\n") -> Script:
    """A mailbox over STARTTLS that answers each command from ``answers`` (by its first word, or ``UID <word>``),
    or else as a plain server would; it stops after an answer that does not end with CRLF."""

    def script(liar: Liar, connection: socket.socket) -> None:
        channel: socket.socket | ssl.SSLSocket = connection
        stream = channel.makefile("rb")
        channel.sendall(greeting)
        try:
            while line := liar.command(stream):
                tag, _, rest = line.decode("ascii", "replace").strip().partition(" ")
                words = rest.upper().split()
                name = " ".join(words[:2]) if words[:1] == ["UID"] else (words or [""])[0]
                if name in answers:
                    answer = answers[name](tag)
                    channel.sendall(answer)
                    if not answer.endswith(b"\r\n"):
                        return
                elif name == "CAPABILITY":
                    channel.sendall(b"* CAPABILITY IMAP4rev1 STARTTLS AUTH=XOAUTH2\r\n" + f"{tag} OK done\r\n".encode())
                elif name == "STARTTLS":
                    channel.sendall(f"{tag} OK begin TLS\r\n".encode())
                    channel = context.wrap_socket(connection, server_side=True)
                    stream = channel.makefile("rb")
                elif name == "AUTHENTICATE":
                    channel.sendall(b"+ \r\n")
                    stream.readline()
                    channel.sendall(f"{tag} OK logged in\r\n".encode())
                elif name == "SELECT":
                    channel.sendall(b"* 1 EXISTS\r\n" + f"{tag} OK [READ-WRITE] selected\r\n".encode())
                elif name == "LOGOUT":
                    channel.sendall(b"* BYE\r\n" + f"{tag} OK done\r\n".encode())
                    return
                else:
                    channel.sendall(f"{tag} OK done\r\n".encode())
        finally:
            if channel is not connection:
                channel.close()

    return script


make_liar = test_mailbox_hostile.make_liar
"""The fixture of the sync mailbox's lying servers (a literal announced larger than the size said)."""


@pytest.fixture
def liars() -> Iterator[list[Liar]]:
    made: list[Liar] = []
    yield made
    for liar in made:
        liar.close()


def started(liars: list[Liar], script: Script) -> Liar:
    liar = Liar(script)
    liars.append(liar)
    return liar


# --- literals and lines -----------------------------------------------------------------------------------


def test_a_literal_larger_than_announced_is_never_read(
    make_liar: MakeLiar, store: TrustStore, crls: RevocationChecker, client: Files
) -> None:
    liar = make_liar(size_line=b"RFC822.SIZE 500 FLAGS ()", body_literal=HUGE)  # says 500 bytes, sends 2 GB

    async def scenario() -> None:
        async with box(liar.port, store, crls, client) as mailbox:
            with pytest.raises(TransportError, match="over the 100000 bytes") as caught:
                await mailbox.fetch("1")
            assert codes_of(caught.value) == [transport_codes.COMMAND_FAILED.id]
            assert "not connected" in repr(mailbox)  # the connection was dropped at the announcement

    asyncio.run(scenario())
    liar.close()
    assert liar.sent_after_announce < 100 * 65536  # the client stopped reading at the announcement


def test_a_literal_in_the_size_answer_is_bounded_too(
    make_liar: MakeLiar, store: TrustStore, crls: RevocationChecker, client: Files
) -> None:
    liar = make_liar(size_line=b"RFC822.SIZE {%d}" % HUGE, body_literal=10)

    async def scenario() -> None:
        async with box(liar.port, store, crls, client) as mailbox:
            with pytest.raises(TransportError, match="literal announcement inside a line") as caught:
                await mailbox.fetch("1")
            assert codes_of(caught.value) == [transport_codes.COMMAND_FAILED.id]

    asyncio.run(scenario())


def test_a_line_without_end_is_bounded(
    liars: list[Liar], server_tls: ssl.SSLContext, store: TrustStore, crls: RevocationChecker, client: Files
) -> None:
    endless = scripted(server_tls, {"UID SEARCH": lambda tag: b"* SEARCH " + b"1 " * 1_500_000})
    liar = started(liars, endless)

    async def scenario() -> None:
        async with box(liar.port, store, crls, client) as mailbox:
            with pytest.raises(TransportError, match="a line of more than 1000000 bytes"):
                await mailbox.unseen()

    asyncio.run(scenario())


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (lambda tag: b"* SEARCH 1\n" + f"{tag} OK done\r\n".encode(), "without CRLF"),
        (lambda tag: b"* BYE going away\r\n", "said BYE going away"),
        (lambda tag: b"Z999 OK done\r\n", "answered 'Z999 OK done'"),
        (lambda tag: b"+ more\r\n", "asked for a continuation"),
        (lambda tag: b"", "closed the connection"),
        (lambda tag: b"* SEARCH (1\r\n" + f"{tag} OK done\r\n".encode(), "left a list open"),
    ],
    ids=["bare LF", "BYE", "stranger tag", "continuation", "hang up", "open list"],
)
def test_a_broken_answer_drops_the_connection(
    answer: Answer, expected: str, liars: list[Liar], server_tls: ssl.SSLContext, store: TrustStore,
    crls: RevocationChecker, client: Files,
) -> None:  # fmt: skip
    liar = started(liars, scripted(server_tls, {"UID SEARCH": answer}))

    async def scenario() -> None:
        async with box(liar.port, store, crls, client) as mailbox:
            with pytest.raises(TransportError, match=expected) as caught:
                await mailbox.unseen()
            assert codes_of(caught.value) == [transport_codes.COMMAND_FAILED.id]
            assert "dropped the connection during UID SEARCH" in str(caught.value)
            assert "not connected" in repr(mailbox)

    asyncio.run(scenario())


def test_uidvalidity_and_flags_as_announced(
    liars: list[Liar], server_tls: ssl.SSLContext, store: TrustStore, crls: RevocationChecker, client: Files
) -> None:
    body = b"Subject: x\r\n\r\nhello\r\n"
    answers: dict[str, Answer] = {
        "SELECT": lambda tag: b"* 1 EXISTS\r\n* OK [UIDVALIDITY 3857529045] ok\r\n" + f"{tag} OK selected\r\n".encode(),
        "UID FETCH": lambda tag: (
            b"* 1 FETCH (FLAGS (\\Seen $Label) UID 7 RFC822.SIZE %d BODY[] {%d}\r\n%s)\r\n"  # both answers at once
            b"* 2 FETCH (UID 8 FLAGS ())\r\n" % (len(body), len(body), body) + f"{tag} OK done\r\n".encode()
        ),
    }
    liar = started(liars, scripted(server_tls, answers))

    async def scenario() -> tuple[str | None, bytes, tuple[str, ...]]:
        async with box(liar.port, store, crls, client) as mailbox:
            fetched = await mailbox.fetch("7")
            return mailbox.uidvalidity, fetched.raw, fetched.flags

    assert asyncio.run(scenario()) == ("3857529045", body, ("\\Seen", "$Label"))


# --- the opening ------------------------------------------------------------------------------------------


def test_bytes_slipped_in_clear_after_starttls_are_refused(
    liars: list[Liar], server_tls: ssl.SSLContext, store: TrustStore, crls: RevocationChecker, client: Files
) -> None:
    injected = scripted(server_tls, {"STARTTLS": lambda tag: f"{tag} OK begin TLS\r\n* OK [ALERT] injected".encode()})
    liar = started(liars, injected)
    with pytest.raises(TransportError) as caught:
        asyncio.run(box(liar.port, store, crls, client).connect())
    assert codes_of(caught.value) in ([transport_codes.CLOSED.id], [transport_codes.TLS_FAILED.id])
    liar.close()
    assert not any(b"AUTHENTICATE" in command for command in liar.commands)


@pytest.mark.parametrize(
    ("greeting", "code"),
    [(b"* BYE busy\r\n", transport_codes.NO_GREETING), (b"* PREAUTH ready\r\n", transport_codes.NO_STARTTLS)],
)
def test_the_greeting(
    greeting: bytes, code: object, liars: list[Liar], server_tls: ssl.SSLContext, store: TrustStore,
    crls: RevocationChecker, client: Files,
) -> None:  # fmt: skip
    plain = {"CAPABILITY": lambda tag: b"* CAPABILITY IMAP4rev1\r\n" + f"{tag} OK done\r\n".encode()}
    liar = started(liars, scripted(server_tls, plain, greeting=greeting))
    with pytest.raises(TransportError) as caught:
        asyncio.run(box(liar.port, store, crls, client).connect())
    assert codes_of(caught.value) == [code.id]  # type: ignore[attr-defined]


def test_starttls_refused(
    liars: list[Liar], server_tls: ssl.SSLContext, store: TrustStore, crls: RevocationChecker, client: Files
) -> None:
    refusing = scripted(server_tls, {"STARTTLS": lambda tag: f"{tag} NO not now\r\n".encode()})
    liar = started(liars, refusing)
    with pytest.raises(TransportError, match="refused STARTTLS: NO not now") as caught:
        asyncio.run(box(liar.port, store, crls, client).connect())
    assert codes_of(caught.value) == [transport_codes.STARTTLS_REFUSED.id]


def test_a_silent_server_is_given_up_after_the_read_timeout(
    liars: list[Liar], store: TrustStore, crls: RevocationChecker, client: Files
) -> None:
    def silent(liar: Liar, connection: socket.socket) -> None:
        liar.command(connection.makefile("rb"))  # waits for a command that never comes

    liar = started(liars, silent)
    with pytest.raises(TransportError, match=r"did not greet: no answer in 0.2 s") as caught:
        asyncio.run(box(liar.port, store, crls, client, timeout=0.2).connect())
    assert codes_of(caught.value) == [transport_codes.NO_GREETING.id]


# --- deadlines --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", [*IMAP_SCRIPTS, "implicit TLS handshake"])
def test_a_trickling_server_cannot_hold_the_opening(
    case: str, liars: list[Liar], store: TrustStore, crls: RevocationChecker, client: Files
) -> None:
    implicit = case == "implicit TLS handshake"
    liar = started(liars, tls_handshake if implicit else IMAP_SCRIPTS[case])
    mailbox = box(liar.port, store, crls, client, implicit_tls=implicit, max_duration=DEADLINE, timeout=HANG_GUARD)
    with pytest.raises(TransportError, match=r"deadline passed while opening the session \(max_duration=1 s\)"):
        asyncio.run(mailbox.connect())
    liar.close()
    assert liar.gave_up
    gc.collect()  # a socket left open would be a ResourceWarning here (an error in this suite)


def test_a_trickled_message_is_not_waited_for_past_the_deadline(
    liars: list[Liar], server_tls: ssl.SSLContext, store: TrustStore, crls: RevocationChecker, client: Files
) -> None:
    liar = started(liars, imap_trickled_body(server_tls))

    async def scenario() -> None:
        async with box(liar.port, store, crls, client, max_duration=ROOMY, timeout=HANG_GUARD) as mailbox:
            with pytest.raises(TransportError, match="deadline passed while UID FETCH") as caught:
                await mailbox.fetch("1")
            assert codes_of(caught.value) == [transport_codes.DEADLINE.id]
            assert "not connected" in repr(mailbox)  # the connection was dropped: the next command reconnects

    asyncio.run(scenario())
    liar.close()
    assert liar.gave_up  # 300 bytes at 40 a second: the client stopped waiting first
    gc.collect()


# --- what the sync mailbox does not meet ------------------------------------------------------------------


def test_a_quoted_content_over_the_bound_is_refused(
    liars: list[Liar], server_tls: ssl.SSLContext, store: TrustStore, crls: RevocationChecker, client: Files
) -> None:
    def fetch(tag: str) -> bytes:  # says 5 bytes, sends 150 in a quoted string (no literal to refuse)
        return b'* 1 FETCH (UID 1 RFC822.SIZE 5 FLAGS () BODY[] "%s")\r\n' % (b"x" * 150) + f"{tag} OK\r\n".encode()

    liar = started(liars, scripted(server_tls, {"UID FETCH": fetch}))

    async def scenario() -> None:
        async with box(liar.port, store, crls, client, max_bytes=100) as mailbox:
            with pytest.raises(TransportError, match="is 150 bytes, over the limit") as caught:
                await mailbox.fetch_raw("1")
            assert codes_of(caught.value) == [transport_codes.MESSAGE_TOO_LARGE.id]

    asyncio.run(scenario())


def test_move_without_the_move_extension(
    liars: list[Liar], server_tls: ssl.SSLContext, store: TrustStore, crls: RevocationChecker, client: Files
) -> None:
    liar = started(liars, scripted(server_tls, {}))  # its capabilities have no MOVE

    async def scenario() -> None:
        async with box(liar.port, store, crls, client) as mailbox:
            await mailbox.move("1", 'Dossier "patients"')

    asyncio.run(scenario())
    liar.close()
    sent = [command.decode().split(" ", 1)[1].strip() for command in liar.commands if command]
    assert sent[-4:] == [
        'UID COPY 1 "Dossier \\"patients\\""', "UID STORE 1 +FLAGS (\\Deleted)", "EXPUNGE", "LOGOUT",
    ]  # fmt: skip


def test_a_connection_closed_between_operations_is_reopened(
    liars: list[Liar], server_tls: ssl.SSLContext, store: TrustStore, crls: RevocationChecker, client: Files,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    hang_up = scripted(server_tls, {"UID SEARCH": lambda tag: b"* SEARCH 1\r\n" + f"{tag} OK done\r\n*".encode()})
    liar = started(liars, hang_up)  # answers, then closes; it serves one connection only

    async def scenario() -> None:
        mailbox = box(liar.port, store, crls, client, timeout=0.3)
        assert await mailbox.unseen() == ["1"]
        await asyncio.sleep(0.05)
        with pytest.raises(TransportError, match="did not greet"):  # the reconnection finds no server
            await mailbox.unseen()
        await mailbox.close()

    asyncio.run(scenario())
    assert [record.message for record in caplog.records if getattr(record, "event", None) == "reset"]

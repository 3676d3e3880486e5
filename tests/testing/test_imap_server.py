"""The test IMAP server against hostile clients: every case ends, nothing grows without bound."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator

import pytest

from mssante.testing._imap import (
    MAX_BAD_COMMANDS,
    MAX_CONNECTIONS,
    MAX_LINE_BYTES,
    MAX_RECORDED,
    PASSWORD,
    USER,
    ImapAccounts,
    ImapState,
    Recorded,
    serve,
)
from tests.counting import HANG_GUARD


@pytest.fixture
def state() -> ImapState:
    return ImapState()


@pytest.fixture
def port(state: ImapState) -> Iterator[int]:
    with serve(state, tls=None, timeout=2) as number:
        yield number


def connect(port: int, *, timeout: float = 5) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    assert receive_line(sock).startswith(b"* OK")
    return sock


def receive_line(sock: socket.socket) -> bytes:
    data = b""
    while not data.endswith(b"\r\n"):
        chunk = sock.recv(1)
        if not chunk:
            break
        data += chunk
    return data


def receive_all(sock: socket.socket) -> bytes:
    """Everything until the server closes the connection (a reset, when it closed with input unread, ends it too)."""
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except ConnectionResetError:
        pass
    return data


def test_login_with_a_literal(port: int) -> None:
    with connect(port) as sock:
        sock.sendall(f"a1 LOGIN {USER} {{{len(PASSWORD)}}}\r\n".encode())
        assert receive_line(sock).startswith(b"+ ")
        sock.sendall(PASSWORD.encode() + b"\r\n")
        assert receive_line(sock) == b"a1 OK LOGIN completed\r\n"


def test_huge_line_ends_the_connection(port: int) -> None:
    with connect(port) as sock:
        with contextlib.suppress(OSError):  # the server may close before everything is sent
            sock.sendall(b"a1 NOOP " + b"x" * (MAX_LINE_BYTES * 4) + b"\r\n")
        answer = receive_all(sock)  # the server closed: recv ends (its BYE may be lost to the reset)
    assert b"OK NOOP" not in answer


def test_huge_literal_is_refused_unread(port: int) -> None:
    with connect(port) as sock:
        sock.sendall(b"a1 LOGIN user {999999999}\r\n")
        assert receive_line(sock) == b"a1 BAD literal too large\r\n"
        sock.sendall(b"a2 NOOP\r\n")  # the connection is still in step
        assert receive_line(sock) == b"a2 OK NOOP completed\r\n"


def test_huge_non_synchronising_literal_ends_the_connection(port: int) -> None:
    with connect(port) as sock:
        sock.sendall(b"a1 LOGIN user {999999999+}\r\n" + b"x" * 1000)
        answer = receive_all(sock)
    assert b"a1 BAD literal too large" in answer
    assert b"BYE" in answer


def test_garbage_ends_the_connection(port: int, state: ImapState) -> None:
    with connect(port) as sock:
        sock.sendall(b"\x00\xff\xfe garbage\r\n" * (MAX_BAD_COMMANDS + 5))
        answer = receive_all(sock)
    assert answer.count(b"BAD") == MAX_BAD_COMMANDS
    assert b"BYE too many bad commands" in answer
    assert state.auth_attempts == []


def test_silent_client_times_out(state: ImapState) -> None:
    # Catches a server that waits for a silent client forever: the end of input comes from it, while it runs.
    with serve(state, tls=None, timeout=0.3) as number, connect(number, timeout=HANG_GUARD) as sock:
        assert receive_all(sock) == b""


def test_abrupt_close_and_shutdown_with_connections_open(state: ImapState) -> None:
    # Catches a shutdown held by open connections until they time out (an hour here): it must cut them.
    idle: list[socket.socket] = []
    failures: list[BaseException] = []

    def serve_then_stop() -> None:
        try:
            with serve(state, tls=None, timeout=3600) as number:
                idle.extend(connect(number) for _ in range(3))
                with connect(number) as half:
                    half.sendall(b"a1 LOGIN user {10}\r\n")  # then gone, mid-literal
                idle[0].close()
        except BaseException as failure:  # told to the test's thread
            failures.append(failure)

    stopping = threading.Thread(target=serve_then_stop, daemon=True)
    stopping.start()
    stopping.join(HANG_GUARD)
    try:
        assert not stopping.is_alive(), "the shutdown waits for the open connections"
        assert failures == []
        for sock in idle[1:]:
            assert receive_all(sock) == b""  # cut by the server, without a word
    finally:
        for sock in idle:
            sock.close()  # a shutdown still waiting for them ends now
        stopping.join(HANG_GUARD)


def test_connections_are_bounded(port: int) -> None:
    held = [connect(port) for _ in range(MAX_CONNECTIONS)]
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as extra:
            assert receive_all(extra) == b"* BYE too many connections\r\n"
    finally:
        for sock in held:
            sock.close()


def test_starttls_unavailable_without_context(port: int) -> None:
    with connect(port) as sock:
        sock.sendall(b"a1 STARTTLS\r\n")
        assert receive_line(sock) == b"a1 BAD STARTTLS not available\r\n"


def test_recorded_commands_are_bounded() -> None:
    recorded = Recorded()
    for number in range(MAX_RECORDED + 10):
        recorded.append(str(number))
    assert len(recorded) == MAX_RECORDED
    assert recorded[-1] == str(MAX_RECORDED + 9)


def test_accounts_log_in_by_token_or_password() -> None:
    accounts = ImapAccounts()
    account = accounts.account("Dr.Martin@hopital.mssante.fr")
    account.token, account.password = "t", "p"
    assert accounts.login("dr.martin@hopital.mssante.fr", token="t") is account
    assert accounts.login("dr.martin@hopital.mssante.fr", password="p") is account
    assert accounts.login("dr.martin@hopital.mssante.fr", password="t") is None
    assert accounts.login("inconnu@hopital.mssante.fr", token="t") is None

"""ImapMailbox against a lying IMAP server: the sizes it announces never make the client read past its limit."""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Callable, Iterator

import pytest

from mssante.errors import TransportError
from mssante.pki import RevocationChecker, TrustStore
from mssante.transport import ImapMailbox
from tests.transport.conftest import Files

HUGE = 2_000_000_000


class Liar:
    """Answers just enough of IMAP to reach a FETCH, then announces a huge literal and sends a few bytes."""

    def __init__(self, context: ssl.SSLContext, *, size_line: bytes, body_literal: int) -> None:
        self.context = context
        self.size_line = size_line
        self.body_literal = body_literal
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.sent_after_announce = 0
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self) -> None:
        connection, _ = self.listener.accept()
        self.channel: socket.socket | ssl.SSLSocket = connection
        with connection:
            try:
                self.converse(connection)
            finally:
                self.channel.close()

    def converse(self, connection: socket.socket) -> None:
        connection.settimeout(5)
        stream = connection.makefile("rb")
        connection.sendall(b"* OK IMAP4rev1 ready\r\n")
        channel: socket.socket | ssl.SSLSocket = connection
        while line := stream.readline():
            tag, _, rest = line.decode().strip().partition(" ")
            command = rest.upper()
            if command.startswith("CAPABILITY"):
                channel.sendall(b"* CAPABILITY IMAP4rev1 STARTTLS AUTH=XOAUTH2\r\n" + f"{tag} OK done\r\n".encode())
            elif command.startswith("STARTTLS"):
                channel.sendall(f"{tag} OK begin TLS\r\n".encode())
                channel = self.channel = self.context.wrap_socket(connection, server_side=True)
                stream = channel.makefile("rb")
            elif command.startswith("AUTHENTICATE"):
                channel.sendall(b"+ \r\n")
                stream.readline()
                channel.sendall(f"{tag} OK logged in\r\n".encode())
            elif command.startswith("SELECT"):
                channel.sendall(b"* 1 EXISTS\r\n" + f"{tag} OK [READ-WRITE] selected\r\n".encode())
            elif "RFC822.SIZE" in command:
                channel.sendall(b"* 1 FETCH (UID 1 " + self.size_line + b")\r\n" + f"{tag} OK done\r\n".encode())
            elif "BODY.PEEK[]" in command:
                channel.sendall(b"* 1 FETCH (UID 1 BODY[] {%d}\r\n" % self.body_literal)
                try:
                    for _ in range(100):  # a client that reads the literal keeps taking these
                        channel.sendall(b"x" * 65536)
                        self.sent_after_announce += 65536
                except OSError:
                    return
                return
            elif command.startswith("LOGOUT"):
                channel.sendall(b"* BYE\r\n" + f"{tag} OK done\r\n".encode())
                return
            else:
                channel.sendall(f"{tag} OK done\r\n".encode())

    def close(self) -> None:
        self.listener.close()
        self.thread.join(5)


MakeLiar = Callable[..., Liar]


@pytest.fixture
def make_liar(server_tls: ssl.SSLContext) -> Iterator[MakeLiar]:
    made: list[Liar] = []

    def make(*, size_line: bytes, body_literal: int) -> Liar:
        liar = Liar(server_tls, size_line=size_line, body_literal=body_literal)
        made.append(liar)
        return liar

    yield make
    for liar in made:
        liar.close()


def box(port: int, store: TrustStore, crls: RevocationChecker, client: Files) -> ImapMailbox:
    return ImapMailbox("localhost", port, store=store, client_certificate=(client.certificate, client.key),
                   username="dr.martin@hopital.mssante.fr", token=lambda: "t", revocation=crls, timeout=5,
                   max_bytes=100_000)  # fmt: skip


def test_a_literal_larger_than_announced_is_never_read(
    make_liar: MakeLiar, store: TrustStore, crls: RevocationChecker, client: Files
) -> None:
    liar = make_liar(size_line=b"RFC822.SIZE 500 FLAGS ()", body_literal=HUGE)  # says 500 bytes, sends 2 GB
    with box(liar.port, store, crls, client) as mailbox, pytest.raises(TransportError, match="over the 100000 bytes"):
        mailbox.fetch("1")
    assert liar.sent_after_announce < 100 * 65536  # the client stopped reading at the announcement


def test_a_literal_in_the_size_answer_is_bounded_too(
    make_liar: MakeLiar, store: TrustStore, crls: RevocationChecker, client: Files
) -> None:
    liar = make_liar(size_line=b"RFC822.SIZE {%d}" % HUGE, body_literal=10)
    with box(liar.port, store, crls, client) as mailbox, pytest.raises(TransportError):
        mailbox.fetch("1")

"""Submission against an SMTP server that never ends its reply: the client stops reading and says so."""

from __future__ import annotations

import socket
import threading

import pytest

from mssante.errors import TransportError
from mssante.pki import RevocationChecker, TrustStore
from mssante.transport import Submission
from mssante.transport._submission import MAX_REPLY_BYTES

CHUNK = b"".join(b"250-%s\r\n" % (b"x" * 90) for _ in range(640))  # 64 KiB of continuation lines
PLANNED = 800  # 50 MiB if the client kept reading


class Endless:
    """Greets, then answers EHLO with continuation lines that never end."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.chunks = 0
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self) -> None:
        connection, _ = self.listener.accept()
        with connection, connection.makefile("rb") as stream:
            connection.settimeout(5)
            connection.sendall(b"220 mx.example ESMTP\r\n")
            stream.readline()  # EHLO
            try:
                for _ in range(PLANNED):
                    connection.sendall(CHUNK)
                    self.chunks += 1
            except OSError:
                return

    def close(self) -> None:
        self.listener.close()
        self.thread.join(10)


def test_an_endless_reply_is_cut_off(store: TrustStore, crls: RevocationChecker) -> None:
    server = Endless()
    try:
        session = Submission("localhost", server.port, store=store, revocation=crls, timeout=5)
        with pytest.raises(TransportError, match=f"longer than {MAX_REPLY_BYTES} bytes"), session:
            pass
    finally:
        server.close()
    assert server.chunks < PLANNED  # the client hung up instead of reading on

"""Servers that lie by being slow: one byte at a time, each in time for the client's per-read timeout, never done.

A :class:`Liar` listens on 127.0.0.1 and plays a script with the first client that connects, in a thread. What it
trickles is bounded: :data:`TRICKLE_BYTES` bytes at most, one every :data:`TRICKLE_INTERVAL` seconds (ten seconds
in all), then it hangs up; so a test ends even when the client would wait for ever, and
:attr:`Liar.trickled` says whether the client gave up before the end (a count, not a duration).
"""

from __future__ import annotations

import socket
import ssl
import threading
import time
from collections.abc import Callable
from typing import BinaryIO

TRICKLE_BYTES = 400
TRICKLE_INTERVAL = 0.025
HANG_GUARD = 30.0
"""Seconds the server waits for a client before giving up (only a hang ever reaches it)."""

TLS_RECORD = b"\x16\x03\x03\x40\x00" + bytes(TRICKLE_BYTES)
"""The start of a TLS handshake record announcing 16 KiB: a client in its handshake waits for all of it."""

Script = Callable[["Liar", socket.socket], None]


class Liar:
    """Plays ``script`` with the first client on a port of 127.0.0.1; :meth:`close` stops it."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(HANG_GUARD)
        self.port: int = self.listener.getsockname()[1]
        self.trickled = 0
        self.planned = 0
        self.commands: list[bytes] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        try:
            connection, _ = self.listener.accept()
        except OSError:
            return
        with connection:
            connection.settimeout(HANG_GUARD)
            try:
                self.script(self, connection)
            except OSError:  # the client hung up (or shut its side down): the script ends
                return

    def trickle(self, channel: socket.socket | ssl.SSLSocket, data: bytes) -> None:
        """Send ``data`` (at most :data:`TRICKLE_BYTES` of it) one byte at a time."""
        self.planned = min(len(data), TRICKLE_BYTES)
        for byte in data[:TRICKLE_BYTES]:
            channel.sendall(bytes([byte]))
            self.trickled += 1
            time.sleep(TRICKLE_INTERVAL)

    def command(self, stream: BinaryIO) -> bytes:
        """The next command line the client sent, kept in :attr:`commands`."""
        line = stream.readline(4096)
        self.commands.append(line)
        return line

    @property
    def gave_up(self) -> bool:
        """True when the client stopped before the trickle ended."""
        return self.planned > 0 and self.trickled < self.planned

    def close(self) -> None:
        self.listener.close()
        self.thread.join(HANG_GUARD)


# --- SMTP -------------------------------------------------------------------------------------------------


def smtp_greeting(liar: Liar, connection: socket.socket) -> None:
    """A greeting of continuation lines, trickled."""
    liar.trickle(connection, b"220-mx.example please wait\r\n" * 20)


def smtp_handshake(liar: Liar, connection: socket.socket) -> None:
    """EHLO and STARTTLS answered, then a TLS handshake trickled."""
    stream = connection.makefile("rb")
    connection.sendall(b"220 mx.example ESMTP\r\n")
    liar.command(stream)  # EHLO
    connection.sendall(b"250-mx.example\r\n250 STARTTLS\r\n")
    liar.command(stream)  # STARTTLS
    connection.sendall(b"220 2.0.0 ready to start TLS\r\n")
    liar.trickle(connection, TLS_RECORD)


def smtp_endless_reply(liar: Liar, connection: socket.socket) -> None:
    """A reply to EHLO that never ends, trickled (a few bytes, never too long for the reply bound)."""
    stream = connection.makefile("rb")
    connection.sendall(b"220 mx.example ESMTP\r\n")
    liar.command(stream)  # EHLO
    liar.trickle(connection, b"250-mx.example\r\n" * 30)


SMTP_SCRIPTS: dict[str, Script] = {
    "greeting": smtp_greeting,
    "handshake": smtp_handshake,
    "endless reply": smtp_endless_reply,
}


# --- IMAP -------------------------------------------------------------------------------------------------


def imap_greeting(liar: Liar, connection: socket.socket) -> None:
    """A greeting line that never ends, trickled."""
    liar.trickle(connection, b"* OK " + b"x" * TRICKLE_BYTES)


def imap_handshake(liar: Liar, connection: socket.socket) -> None:
    """CAPABILITY and STARTTLS answered, then a TLS handshake trickled."""
    stream = connection.makefile("rb")
    connection.sendall(b"* OK IMAP4rev1 ready\r\n")
    while line := liar.command(stream):
        tag, _, command = line.decode("ascii", "replace").strip().partition(" ")
        if command.upper().startswith("CAPABILITY"):
            connection.sendall(b"* CAPABILITY IMAP4rev1 STARTTLS AUTH=XOAUTH2\r\n" + f"{tag} OK done\r\n".encode())
        elif command.upper().startswith("STARTTLS"):
            connection.sendall(f"{tag} OK begin TLS\r\n".encode())
            liar.trickle(connection, TLS_RECORD)
            return
        else:
            connection.sendall(f"{tag} BAD unexpected\r\n".encode())


def tls_handshake(liar: Liar, connection: socket.socket) -> None:
    """A TLS handshake trickled from the first byte (IMAP on 993)."""
    connection.recv(4096)  # the ClientHello
    liar.trickle(connection, TLS_RECORD)


def imap_trickled_body(context: ssl.SSLContext) -> Script:
    """A mailbox over STARTTLS whose FETCH of a message body announces 300 bytes and trickles them."""

    def script(liar: Liar, connection: socket.socket) -> None:
        channel: socket.socket | ssl.SSLSocket = connection
        stream = channel.makefile("rb")
        channel.sendall(b"* OK IMAP4rev1 ready\r\n")
        try:
            while line := liar.command(stream):
                tag, _, rest = line.decode("ascii", "replace").strip().partition(" ")
                command = rest.upper()
                if command.startswith("CAPABILITY"):
                    channel.sendall(b"* CAPABILITY IMAP4rev1 STARTTLS AUTH=XOAUTH2\r\n" + f"{tag} OK done\r\n".encode())
                elif command.startswith("STARTTLS"):
                    channel.sendall(f"{tag} OK begin TLS\r\n".encode())
                    channel = context.wrap_socket(connection, server_side=True)
                    stream = channel.makefile("rb")
                elif command.startswith("AUTHENTICATE"):
                    channel.sendall(b"+ \r\n")
                    stream.readline()
                    channel.sendall(f"{tag} OK logged in\r\n".encode())
                elif command.startswith("SELECT"):
                    channel.sendall(b"* 1 EXISTS\r\n" + f"{tag} OK [READ-WRITE] selected\r\n".encode())
                elif "RFC822.SIZE" in command:
                    channel.sendall(b"* 1 FETCH (UID 1 RFC822.SIZE 300 FLAGS ())\r\n" + f"{tag} OK done\r\n".encode())
                elif "BODY.PEEK[]" in command:
                    channel.sendall(b"* 1 FETCH (UID 1 BODY[] {300}\r\n")
                    liar.trickle(channel, b"x" * 300 + b")\r\n" + f"{tag} OK done\r\n".encode())
                    return
                elif command.startswith("LOGOUT"):
                    channel.sendall(b"* BYE\r\n" + f"{tag} OK done\r\n".encode())
                    return
                else:
                    channel.sendall(f"{tag} OK done\r\n".encode())
        finally:
            if channel is not connection:
                channel.close()

    return script


IMAP_SCRIPTS: dict[str, Script] = {
    "greeting": imap_greeting,
    "handshake": imap_handshake,
}

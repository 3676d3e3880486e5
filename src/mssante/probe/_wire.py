"""One probe connection: TCP, then TLS after STARTTLS, every read and write held to a wall-clock deadline.

The socket is non-blocking and each wait is a ``select`` bounded by what is left of the deadline, so a server
that trickles a byte at a time cannot stretch it. A line is at most :data:`MAX_LINE` bytes and a reply at most
:data:`MAX_LINES` lines: anything beyond is :class:`WireFailure` ``malformed``, never a hang or a traceback.
"""

from __future__ import annotations

import contextlib
import select
import socket
import ssl
import time

import attrs

__all__ = ["MAX_LINE", "MAX_LINES", "Reply", "Wire", "WireFailure"]

MAX_LINE = 2048
"""Bytes of one line a server may send (RFC 5321 §4.5.3.1.5 says 512 for a reply line; some servers say more)."""
MAX_LINES = 100
"""Lines of one SMTP reply (an EHLO answer lists its extensions one a line)."""
_CHUNK = 4096


class WireFailure(Exception):
    """The connection failed: ``kind`` is ``unreachable``, ``deadline``, ``malformed``, ``closed`` or ``tls``."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail


@attrs.frozen(kw_only=True)
class Reply:
    """An SMTP reply: its code and its lines' texts (without the code)."""

    code: int
    lines: tuple[str, ...]

    @property
    def text(self) -> str:
        """The first line's text."""
        return self.lines[0] if self.lines else ""

    def __str__(self) -> str:
        return f"{self.code} {' / '.join(self.lines)}".strip()


class Wire:
    """A connection to ``host:port`` (at ``address`` when given) that ends at ``deadline`` (``time.monotonic``)."""

    def __init__(self, host: str, port: int, *, deadline: float, address: str | None = None) -> None:
        self.host = host
        self.deadline = deadline
        self._buffer = b""
        self.tls: ssl.SSLSocket | None = None
        try:
            self._socket: socket.socket = socket.create_connection((address or host, port), timeout=self._left())
        except WireFailure:
            raise
        except (OSError, UnicodeError) as error:  # UnicodeError: a host name IDNA cannot encode
            raise WireFailure("unreachable", f"{host}:{port}: {error}") from None
        self._socket.setblocking(False)  # noqa: FBT003 (socket's own signature)

    @property
    def local_address(self) -> str:
        """This side's IP address on the connection."""
        return str(self._socket.getsockname()[0])

    def _left(self) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise WireFailure("deadline", "the server did not answer in time")
        return left

    def _wait(self, *, write: bool = False) -> None:
        sock = self.tls or self._socket
        ready = select.select([], [sock], [], self._left()) if write else select.select([sock], [], [], self._left())
        if not any(ready):
            raise WireFailure("deadline", "the server did not answer in time")

    @property
    def _stream(self) -> socket.socket:
        return self.tls if self.tls is not None else self._socket

    def send(self, data: bytes) -> None:
        """Send ``data`` whole, before the deadline."""
        view = memoryview(data)
        while view:
            try:
                sent = self._stream.send(view)
            except (BlockingIOError, ssl.SSLWantWriteError):
                self._wait(write=True)
                continue
            except ssl.SSLWantReadError:
                self._wait()
                continue
            except (ssl.SSLError, OSError) as error:
                raise self._broken(error) from None
            view = view[sent:]

    def _broken(self, error: Exception) -> WireFailure:
        if isinstance(error, ssl.SSLError) and not isinstance(error, ssl.SSLEOFError):
            return WireFailure("tls", f"{getattr(error, 'reason', None) or error}")
        return WireFailure("closed", f"the connection broke: {error}")

    def _fill(self) -> None:
        while True:
            try:
                chunk = self._stream.recv(_CHUNK)
            except (BlockingIOError, ssl.SSLWantReadError):
                self._wait()
                continue
            except ssl.SSLWantWriteError:
                self._wait(write=True)
                continue
            except (ssl.SSLError, OSError) as error:
                raise self._broken(error) from None
            if not chunk:
                raise WireFailure("closed", "the server closed the connection")
            self._buffer += chunk
            return

    def readline(self) -> str:
        """One line without its end (CRLF or LF), at most :data:`MAX_LINE` bytes, read before the deadline."""
        while b"\n" not in self._buffer[:MAX_LINE]:
            if len(self._buffer) >= MAX_LINE:
                raise WireFailure("malformed", f"a line longer than {MAX_LINE} bytes")
            self._fill()
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line.rstrip(b"\r").decode("utf-8", "replace")

    def reply(self) -> Reply:
        """One SMTP reply (RFC 5321 §4.2): lines ``ddd-text`` ending with ``ddd text``."""
        texts: list[str] = []
        for _ in range(MAX_LINES):
            line = self.readline()
            head, separator = line[:3], line[3:4]
            if not (head.isascii() and head.isdigit()) or separator not in ("-", " ", ""):
                raise WireFailure("malformed", f"not an SMTP reply line: {line[:80]!r}")
            texts.append(line[4:])
            if separator != "-":
                return Reply(code=int(head), lines=tuple(texts))
        raise WireFailure("malformed", f"a reply of more than {MAX_LINES} lines")

    def command(self, line: str) -> Reply:
        """Send one SMTP command and read its reply."""
        self.send(line.encode("ascii") + b"\r\n")
        return self.reply()

    def starttls(self, context: ssl.SSLContext, server_hostname: str | None) -> ssl.SSLSocket:
        """The TLS handshake on this connection, before the deadline; what the server sent ahead of it is refused."""
        if self._buffer:  # bytes sent before the handshake would be read as if they came over TLS (RFC 3207 §6)
            raise WireFailure("malformed", "the server sent data after its answer to STARTTLS, before TLS")
        try:
            tls = context.wrap_socket(self._socket, server_hostname=server_hostname, do_handshake_on_connect=False)
        except (ssl.SSLError, OSError, ValueError) as error:
            raise WireFailure("tls", str(error)) from None
        self.tls = tls
        while not self._handshake_step(tls):
            pass
        return tls

    def _handshake_step(self, tls: ssl.SSLSocket) -> bool:
        """One step of the handshake: True once it is done, False after waiting for the server."""
        try:
            tls.do_handshake()
        except ssl.SSLWantReadError:
            self._wait()
            return False
        except ssl.SSLWantWriteError:
            self._wait(write=True)
            return False
        except (ssl.SSLError, OSError) as error:  # refused, or cut: either way no TLS with these settings
            reason = getattr(error, "reason", None) or str(error)
            raise WireFailure("tls", reason) from None
        return True

    def close(self) -> None:
        """Close the connection, quietly."""
        with contextlib.suppress(OSError):
            self._stream.close()

"""What the sync side does its own way: the deadline's watchdog (a thread) and sleeping (:func:`time.sleep`).

httpx cannot cancel a sync request. The :class:`Guard` of a request caps every timeout by the time left (done by
the request itself), checks the deadline between reads and hops, and arms a watchdog: a timer that, at the deadline,
shuts down the socket of the request (``shutdown``, which wakes up a read blocked on it). The socket is had from
httpx's ``trace`` extension as the connection is made, so that the handshake and the headers are watched too, and from
the answer's ``network_stream``. The watchdog shuts down a duplicate of the socket's descriptor that it owns and
closes itself, never the connection's own: a descriptor number reused elsewhere is never touched. Sync requests ask
the server to close the connection after the answer (``Connection: close``): a connection is never reused from the
pool before the watchdog could see its socket.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from mssante.net._http import HTTPX_ERRORS, Answer, Deadline, Exchange

__all__ = ["Guard", "Sleep", "sleep"]

Sleep = Callable[[float], object]
"""What waits between requests (``time.sleep`` by default)."""

sleep = time.sleep

_CONNECTED = frozenset({"connection.connect_tcp.complete", "connection.start_tls.complete"})


def _shut(sock: socket.socket) -> None:
    """Shut ``sock`` down both ways (the base method: on a TLS socket too, without touching its TLS state)."""
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


class Guard:
    """Holds one sync request to its deadline: shuts down its sockets when the deadline passes.

    It keeps a duplicate of each socket's descriptor (:meth:`watch_stream`), so that shutting one down at the
    deadline never touches a descriptor the request closed and the system gave to someone else; :meth:`stop` closes
    them.
    """

    def __init__(self, deadline: Deadline) -> None:
        self.deadline = deadline
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._stopped = False
        self.fired = False
        """True once the deadline passed: the request's sockets are shut down."""
        self._timer = threading.Timer(max(0.0, deadline.remaining()), self._fire)
        self._timer.daemon = True
        self._timer.start()

    def run(
        self, call: Callable[[httpx.Client, Exchange, Guard], Answer], client: httpx.Client, ask: Exchange
    ) -> Answer:
        """``call(client, ask, self)`` within the deadline: past it, whatever was under way is a timeout."""
        try:
            return call(client, ask, self)
        except HTTPX_ERRORS:
            if self.fired or ask.deadline.passed():
                raise ask.deadline.too_late(ask.shown) from None
            raise
        finally:
            self.stop()

    def trace(self, event: str, info: Mapping[str, Any]) -> None:
        """httpx's ``trace`` extension: a connection made (TCP, then TLS) is watched from then on."""
        if event in _CONNECTED:
            self.watch_stream(info.get("return_value"))

    def prepare(self, request: httpx.Request) -> None:
        """Ask for the connection to be closed after the answer (never reused unwatched from the pool)."""
        request.headers["Connection"] = "close"

    def watch(self, response: httpx.Response) -> None:
        """Watch the socket the answer arrives on."""
        self.watch_stream(response.extensions.get("network_stream"))

    def check(self, ask: Exchange) -> None:
        """Between two hops: a timeout once the deadline passed."""
        if ask.deadline.passed():
            raise ask.deadline.too_late(ask.shown)

    def cut(self) -> bool:
        """After a body: whether it ended because the deadline shut its connection down (it is then cut short)."""
        return self.fired or self.deadline.passed()

    def watch_stream(self, stream: object) -> None:
        """Watch the socket under ``stream`` (an httpcore network stream); nothing when it has none."""
        extra = getattr(stream, "get_extra_info", None)
        sock = extra("socket") if callable(extra) else None
        if not isinstance(sock, socket.socket):
            return
        try:
            copy = socket.socket(sock.family, sock.type, sock.proto, fileno=socket.dup(sock.fileno()))
        except OSError:
            return  # already closed: nothing left to watch
        with self._lock:
            if self._stopped:
                copy.close()
                return
            self._sockets.append(copy)
            if self.fired:
                _shut(copy)

    def _fire(self) -> None:
        with self._lock:
            if self._stopped:
                return
            self.fired = True
            for sock in self._sockets:
                _shut(sock)

    def stop(self) -> None:
        """Disarm, and close the duplicates (the connection itself is httpx's to close)."""
        self._timer.cancel()
        with self._lock:
            self._stopped = True
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            sock.close()
        self._timer.join()

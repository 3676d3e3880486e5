"""The overall deadline of each session operation: a peer that trickles its bytes cannot stretch one past it.

``timeout`` bounds each read; ``max_duration`` bounds a whole operation: opening a session (connection, greeting,
STARTTLS handshake, the server certificate judged, CRLs fetched for it, login, SELECT), one message's transaction,
one mailbox command (a fetch, a search, a move...). A server that sends one byte a second never trips ``timeout``;
``max_duration`` still ends the operation.

The async sessions run each operation under :func:`asyncio.wait_for`. The sync ones arm a :class:`Watchdog`: a
timer that, at the deadline, shuts the session's socket down (``shutdown(SHUT_RDWR)``, which wakes up a read or a
write blocked on it); the session then fails as for a dropped connection, and says that the deadline passed.

The watchdog never closes a socket (closing a descriptor another thread is using could close a newer one that took
its number): it only shuts down the socket the session follows, under a lock the session also takes before closing
it. Closing stays the session's, on every path, as before. Work that is not on the session's socket (fetching CRLs
over HTTP while the server certificate is judged) is not interrupted by the watchdog: it is bounded by its own
limits, it counts against the session's deadline, and the session checks the deadline as soon as it returns.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
from collections.abc import Iterator

from mssante.net import check_seconds

__all__ = ["DEFAULT_MAX_DURATION", "DeadlinePassed", "Watchdog", "check_max_duration", "deadline_passed"]

DEFAULT_MAX_DURATION = 300.0
"""Seconds allowed to one session operation: opening the session, one message's transaction, one mailbox command."""


def check_max_duration(max_duration: float) -> float:
    """``max_duration`` as a number of seconds; ValueError when it is not a positive finite number."""
    return check_seconds("max_duration", max_duration)


def deadline_passed(server: str, seconds: float, doing: str) -> str:
    """What a session says when ``doing`` went past its deadline."""
    return f"{server}: the deadline passed while {doing} (max_duration={seconds:g} s)"


class DeadlinePassed(OSError):
    """Raised in a sync session when its operation goes on after its deadline (the watchdog fired)."""


def _shut(sock: socket.socket) -> None:
    """Shut ``sock`` down both ways (the base method: on a TLS socket too, without touching its TLS state)."""
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


class Watchdog:
    """Shuts down the socket of a sync session when its operation outlives its deadline.

    The session calls :meth:`follow` with each socket it reads from (the TCP socket, then the TLS one) and
    :meth:`forget` before closing it; it runs each operation inside :meth:`bound`. :attr:`expired` then says whether
    the deadline passed during that operation (the connection is then unusable: shut down).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._socket: socket.socket | None = None
        self._armed = 0
        self._operations = 0
        self.expired = False
        """True once the deadline of the current (or last) operation passed: its socket was shut down."""
        self.seconds = 0.0
        """The deadline of the current (or last) operation, in seconds."""

    def follow(self, sock: socket.socket) -> None:
        """The session now reads and writes ``sock``; shut at once when the deadline already passed."""
        with self._lock:
            self._socket = sock
            if self.expired and self._armed:
                _shut(sock)

    def forget(self) -> None:
        """The session is about to close its socket: never touch it again."""
        with self._lock:
            self._socket = None

    def check(self) -> None:
        """Raise :class:`DeadlinePassed` when the deadline of the operation passed (after work off the socket)."""
        if self.expired:
            raise DeadlinePassed(f"the deadline of {self.seconds:g} s passed")

    @contextlib.contextmanager
    def bound(self, seconds: float) -> Iterator[None]:
        """Run the block with a deadline ``seconds`` from now."""
        with self._lock:
            self._operations += 1
            operation = self._armed = self._operations
            self.expired = False
            self.seconds = seconds
        timer = threading.Timer(seconds, self._expire, args=(operation,))
        timer.daemon = True
        timer.start()
        try:
            yield
        finally:
            timer.cancel()
            with self._lock:  # a timer that fires from now on finds nothing armed
                self._armed = 0

    def _expire(self, operation: int) -> None:
        with self._lock:
            if operation != self._armed:
                return
            self.expired = True
            if self._socket is not None:
                _shut(self._socket)

    def wrap(self, context: ssl.SSLContext, sock: socket.socket, host: str) -> ssl.SSLSocket:
        """TLS over ``sock``, the handshake watched: the TLS socket is followed before the first byte is read.

        (``wrap_socket`` with its own handshake would detach ``sock`` first, and read with no socket to shut down.)
        """
        tls = context.wrap_socket(sock, server_hostname=host, do_handshake_on_connect=False)
        self.follow(tls)
        try:
            tls.do_handshake()
        except BaseException:
            self.forget()
            tls.close()
            raise
        return tls


class WatchedContext:
    """Stands in for an :class:`ssl.SSLContext` where a library wraps the socket itself (imaplib's STARTTLS):
    its ``wrap_socket`` is :meth:`Watchdog.wrap`."""

    def __init__(self, context: ssl.SSLContext, watchdog: Watchdog) -> None:
        self._context = context
        self._watchdog = watchdog

    def wrap_socket(self, sock: socket.socket, server_hostname: str) -> ssl.SSLSocket:
        return self._watchdog.wrap(self._context, sock, server_hostname)

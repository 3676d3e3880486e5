"""What the download shells share: one way to send a request within its limits, the httpx errors they translate,
secrets kept out of what a server echoes, and their on-disk caches.

The only module, with the shells that call it, that knows httpx is the HTTP client underneath.

Every request goes through :func:`exchange` (an ``httpx.Client``) or :func:`aexchange` (an ``httpx.AsyncClient``),
the same rules in both:

- A :class:`Deadline` bounds the whole of it: connecting, the TLS handshake, the request, the answer's headers and
  body, and each redirection. A peer that trickles its bytes, each in time for the per-operation ``timeout``, cannot
  stretch it. The async twin runs the whole request under :func:`asyncio.wait_for`, and closes the connections it
  made when the deadline cuts it (httpx leaves one cut during its TLS handshake open). The sync one, which httpx cannot
  cancel, caps every timeout by the time left (recomputed at each redirection), checks the deadline between reads, and
  arms a watchdog: a timer that, at the deadline, shuts down the socket of the request (``shutdown``, which wakes up a
  read blocked on it). The socket is had from httpx's ``trace`` extension as the connection is made, so that the
  handshake and the headers are watched too, and from the answer's ``network_stream``. The watchdog shuts down a
  duplicate of the socket's descriptor that it owns and closes itself, never the connection's own: a descriptor
  number reused elsewhere is never touched. Sync requests ask the server to close the connection after the answer
  (``Connection: close``): a connection is never reused from the pool before the watchdog could see its socket.
- Redirections are followed here, not by httpx (which reads, and decodes, the body of each one): up to the client's
  ``max_redirects``, when the client (or the shell) follows them; a redirection's body is never read.
- A body is read as it arrives, by :class:`BoundedBody`: within a byte bound, and not content-encoded unless the shell
  asks for it to be decoded, under the same byte bound on the decoded bytes (a compression bomb is cut as it inflates).

A body refused is a :class:`DownloadRefused`, its ``reason`` ``encoding``, ``oversize`` or ``timeout``; anything else
is one of :data:`HTTPX_ERRORS`. A shell translates both once, into its own errors and finding codes.

With a client whose transport is not httpx's own (a mock, a custom transport), no socket can be had: such a request is
bounded by the capped timeouts and the checks between reads only.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import socket
import threading
import time
import zlib
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any, Literal, TypeVar

import attrs
import httpx

from mssante._files import atomic_write, cache_directory

__all__ = [
    "CHUNK",
    "DEFAULT_MAX_DURATION",
    "DEFAULT_TIMEOUT",
    "HTTPX_ERRORS",
    "MAX_URL_LENGTH",
    "Answer",
    "AsyncClientOwner",
    "BoundedBody",
    "ClientOwner",
    "Deadline",
    "DownloadRefused",
    "Exchange",
    "aexchange",
    "atomic_write",
    "cache_directory",
    "check_seconds",
    "exchange",
]

DEFAULT_TIMEOUT = 15.0
"""Seconds allowed to each network operation (connect, read, write, pool)."""

DEFAULT_MAX_DURATION = 120.0
"""Seconds allowed to a whole request, body and redirections included (a slow server cannot hold a fetch forever)."""

MAX_URL_LENGTH = 2048
"""No distribution point or list URL is longer; a longer one is refused unread."""

CHUNK = 64 * 1024
"""The most bytes one read from the network gives: a bound is enforced as the body arrives, read by read."""

HTTPX_ERRORS = (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError)
"""Every exception httpx raises for a request: translated once, by the shell that made it."""

_SHORTEST_TIMEOUT = 0.001
_CONNECTED = frozenset({"connection.connect_tcp.complete", "connection.start_tls.complete"})
_DECODED = frozenset({"gzip", "x-gzip", "deflate"})


def check_seconds(name: str, value: float) -> float:
    """``value`` as a number of seconds, or ValueError naming ``name`` when it is not a positive finite number."""
    seconds = float(value)
    if not 0 < seconds < math.inf:
        raise ValueError(f"{name} is a positive number of seconds, not {value!r}")
    return seconds


# --- deadlines --------------------------------------------------------------------------------------------------


@attrs.frozen
class Deadline:
    """A moment on the monotonic clock (``at``), ``seconds`` after it was set, by which requests must end."""

    at: float
    seconds: float

    @classmethod
    def after(cls, seconds: float) -> Deadline:
        """The deadline ``seconds`` from now."""
        return cls(time.monotonic() + seconds, seconds)

    def remaining(self) -> float:
        """Seconds left (negative once passed)."""
        return self.at - time.monotonic()

    def passed(self) -> bool:
        """True once the deadline has come."""
        return self.remaining() <= 0

    def sooner(self, other: Deadline) -> Deadline:
        """The earlier of this deadline and ``other``."""
        return other if other.at < self.at else self

    def timeout(self, per_operation: float) -> httpx.Timeout:
        """httpx's timeouts (connect, read, write, pool): ``per_operation``, capped by the time left."""
        return httpx.Timeout(max(_SHORTEST_TIMEOUT, min(per_operation, self.remaining())))

    def too_late(self, name: str) -> DownloadRefused:
        """The refusal of a request to ``name`` that went past this deadline."""
        return DownloadRefused(
            f"{name}: the download took too long: it took longer than the {self.seconds:g} s allowed", reason="timeout"
        )


# --- answers ----------------------------------------------------------------------------------------------------


@attrs.frozen
class Answer:
    """An HTTP answer as the download shells judge it: status, body (read within limits), validators, retry hints."""

    status: int
    body: bytes = b""
    etag: str | None = None
    last_modified: str | None = None
    retry_after: str | None = None
    date: str | None = None

    @classmethod
    def of(cls, response: httpx.Response, body: bytes = b"") -> Answer:
        """The status and headers of ``response``, with ``body`` (empty: a body that is not read)."""
        headers = response.headers
        return cls(
            response.status_code,
            body,
            headers.get("etag"),
            headers.get("last-modified"),
            headers.get("retry-after"),
            headers.get("date"),
        )


class DownloadRefused(Exception):
    """A body refused while it arrives: ``reason`` is ``encoding``, ``oversize`` or ``timeout``."""

    def __init__(self, message: str, *, reason: Literal["encoding", "oversize", "timeout"]) -> None:
        super().__init__(message)
        self.reason = reason


class BoundedBody:
    """Collects a response body within a size limit and a deadline; :class:`DownloadRefused` past them.

    A content-encoded body is refused (it could inflate beyond any limit) unless ``decode`` is true: then ``gzip``
    and ``deflate`` are inflated as they arrive, never past ``max_bytes`` of decoded bytes, and any other encoding is
    refused. A declared length over the limit is refused before anything is read. ``progress``, when given, is called
    with the bytes received so far and the declared length (``Content-Length``, None when the server gives none):
    once with 0 when the body starts, then after each read.
    """

    def __init__(
        self,
        url: str,
        response: httpx.Response,
        *,
        max_bytes: int,
        deadline: Deadline,
        progress: Callable[[int, int | None], None] | None = None,
        decode: bool = False,
    ) -> None:
        self.url, self.max_bytes, self.deadline = url, max_bytes, deadline
        self.response = response
        self.chunks: list[bytes] = []
        self.size = 0  # bytes kept (decoded, when decoding)
        self.received = 0  # bytes read from the network
        encoding = response.headers.get("content-encoding", "identity").strip().lower()
        self._inflater: Any = None
        if decode and encoding in _DECODED:
            self._inflater = zlib.decompressobj(zlib.MAX_WBITS | 32)  # a gzip or zlib header, told apart
        elif encoding not in ("", "identity"):
            raise DownloadRefused(f"{url}: content-encoding {encoding!r} refused", reason="encoding")
        length = response.headers.get("content-length", "").strip()
        if length.isdigit() and int(length) > max_bytes:
            raise DownloadRefused(f"{url}: a body of {int(length)} bytes is over the limit of {max_bytes}",
                                  reason="oversize")  # fmt: skip
        self.total = int(length) if length.isdigit() else None
        self.progress = progress
        if progress is not None:
            progress(0, self.total)

    def _oversize(self) -> DownloadRefused:
        return DownloadRefused(f"{self.url}: the body is over the limit of {self.max_bytes} bytes", reason="oversize")

    def add(self, chunk: bytes) -> None:
        """Take the next bytes read, or refuse the body when it is too large or too late."""
        self.received += len(chunk)
        if self.received > self.max_bytes:
            raise self._oversize()
        if self.deadline.passed():
            raise self.deadline.too_late(self.url)
        if self._inflater is not None:
            chunk = self._inflate(chunk)
        self.size += len(chunk)
        if self.size > self.max_bytes:
            raise self._oversize()
        if chunk:
            self.chunks.append(chunk)
        if self.progress is not None:
            self.progress(self.received, self.total)

    def _inflate(self, chunk: bytes) -> bytes:
        if self._inflater.eof:
            return b""  # what follows the compressed stream is ignored (its bytes still count as received)
        room = self.max_bytes - self.size
        try:
            data: bytes = self._inflater.decompress(chunk, room + 1)
        except zlib.error as error:
            raise DownloadRefused(f"{self.url}: the compressed body cannot be inflated: {error}",
                                  reason="encoding") from None  # fmt: skip
        if len(data) > room:
            raise self._oversize()
        return data

    def finish(self) -> None:
        """The body has ended: refuse a compressed one that did not."""
        if self._inflater is not None and not self._inflater.eof:
            raise DownloadRefused(f"{self.url}: the compressed body is truncated", reason="encoding")

    def answer(self) -> Answer:
        """The whole answer, once the body is read."""
        return Answer.of(self.response, b"".join(self.chunks))


# --- one request, within its limits -----------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Exchange:
    """One request as a download shell sends it, with the limits of its answer.

    ``deadline`` bounds the whole of it (redirections included), ``timeout`` each network operation. The body of a
    200 is read within ``max_bytes`` (and told to ``progress``); the body of another status within ``error_bytes``,
    or not at all when that is None (an error body over its bound gives the status alone). ``follow_redirects``
    (None: as the client is configured) follows redirections, each target first shown to ``redirect``, which raises
    to refuse it. ``decode`` lets a gzip or deflate body be inflated within ``max_bytes``. ``name`` is the request as
    shown in messages (the URL by default).
    """

    method: str
    url: str
    deadline: Deadline
    timeout: float
    max_bytes: int
    headers: Mapping[str, str] = attrs.field(factory=dict)
    params: httpx.QueryParams | None = None
    content: bytes | None = None
    error_bytes: int | None = None
    follow_redirects: bool | None = None
    redirect: Callable[[httpx.URL], None] | None = None
    progress: Callable[[int, int | None], None] | None = None
    decode: bool = False
    name: str = ""

    @property
    def shown(self) -> str:
        """The request as messages name it."""
        return self.name or self.url


def _shut(sock: socket.socket) -> None:
    """Shut ``sock`` down both ways (the base method: on a TLS socket too, without touching its TLS state)."""
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


class _Watchdog:
    """Shuts down the sockets of one sync request when its deadline passes.

    It keeps a duplicate of each socket's descriptor (:meth:`watch`), so that shutting one down at the deadline
    never touches a descriptor the request closed and the system gave to someone else; :meth:`stop` closes them.
    """

    def __init__(self, deadline: Deadline) -> None:
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._stopped = False
        self.fired = False
        """True once the deadline passed: the request's sockets are shut down."""
        self._timer = threading.Timer(max(0.0, deadline.remaining()), self._fire)
        self._timer.daemon = True
        self._timer.start()

    def trace(self, event: str, info: Mapping[str, Any]) -> None:
        """httpx's ``trace`` extension: a connection made (TCP, then TLS) is watched from then on."""
        if event in _CONNECTED:
            self.watch(info.get("return_value"))

    def watch(self, stream: object) -> None:
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


class _Connections:
    """The connections an async request made (httpx's ``trace`` extension): closed when its deadline cuts it."""

    def __init__(self) -> None:
        self.made: list[object] = []

    async def trace(self, event: str, info: Mapping[str, Any]) -> None:
        if event == "connection.connect_tcp.complete":
            self.made.append(info.get("return_value"))

    async def close(self) -> None:
        for stream in self.made:
            close = getattr(stream, "aclose", None)
            if callable(close):
                with contextlib.suppress(Exception):  # closed already, or broken: closed either way
                    await close()


def _request(client: httpx.Client | httpx.AsyncClient, ask: Exchange, extensions: dict[str, Any]) -> httpx.Request:
    return client.build_request(
        ask.method,
        ask.url,
        params=ask.params,
        headers=dict(ask.headers),
        content=ask.content,
        timeout=ask.deadline.timeout(ask.timeout),
        extensions=extensions,
    )


def _follows(client: httpx.Client | httpx.AsyncClient, ask: Exchange) -> bool:
    return client.follow_redirects if ask.follow_redirects is None else ask.follow_redirects


def _next_hop(response: httpx.Response, ask: Exchange, hops: int, max_redirects: int) -> httpx.Request:
    """The request a redirection leads to, with timeouts capped anew; refused past ``max_redirects``."""
    target = response.next_request
    assert target is not None
    if hops > max_redirects:
        raise httpx.TooManyRedirects("Exceeded maximum allowed redirects.", request=response.request)
    if ask.redirect is not None:
        ask.redirect(target.url)
    target.extensions = {**target.extensions, "timeout": ask.deadline.timeout(ask.timeout).as_dict()}
    return target


def _body(response: httpx.Response, ask: Exchange) -> BoundedBody | None:
    """The collector of the answer's body, or None when the body of that status is not read."""
    if response.status_code == httpx.codes.OK:
        limit, progress = ask.max_bytes, ask.progress
    elif ask.error_bytes is not None:
        limit, progress = ask.error_bytes, None
    else:
        return None
    return BoundedBody(
        ask.shown, response, max_bytes=limit, deadline=ask.deadline, progress=progress, decode=ask.decode
    )


def _unread(response: httpx.Response, refused: DownloadRefused) -> Answer:
    """An error answer whose body was refused (too large, encoded): its status alone. A 200's refusal is raised."""
    if response.status_code == httpx.codes.OK or refused.reason == "timeout":
        raise refused
    return Answer.of(response)


def exchange(client: httpx.Client, ask: Exchange) -> Answer:
    """Send ``ask`` with ``client`` (sync) and read its answer within its limits; see the module documentation.

    Raises :class:`DownloadRefused` (``timeout`` once the deadline passed, whatever was under way) or one of
    :data:`HTTPX_ERRORS`.
    """
    if ask.deadline.passed():
        raise ask.deadline.too_late(ask.shown)
    watchdog = _Watchdog(ask.deadline)
    try:
        return _exchange(client, ask, watchdog)
    except HTTPX_ERRORS:
        if watchdog.fired or ask.deadline.passed():
            raise ask.deadline.too_late(ask.shown) from None
        raise
    finally:
        watchdog.stop()


def _exchange(client: httpx.Client, ask: Exchange, watchdog: _Watchdog) -> Answer:
    request = _request(client, ask, {"trace": watchdog.trace})
    request.headers["Connection"] = "close"
    hops = 0
    while True:
        response = client.send(request, stream=True, follow_redirects=False)
        try:
            watchdog.watch(response.extensions.get("network_stream"))
            if response.next_request is None or not _follows(client, ask):
                return _read(response, ask, watchdog)
        finally:
            response.close()
        hops += 1
        request = _next_hop(response, ask, hops, client.max_redirects)
        if ask.deadline.passed():
            raise ask.deadline.too_late(ask.shown)


def _read(response: httpx.Response, ask: Exchange, watchdog: _Watchdog) -> Answer:
    try:
        body = _body(response, ask)
        if body is None:
            return Answer.of(response)
        for chunk in response.iter_raw():
            body.add(chunk)
        if watchdog.fired or ask.deadline.passed():  # a body that ends with the connection, shut down: cut short
            raise ask.deadline.too_late(ask.shown)
        body.finish()
    except DownloadRefused as refused:
        return _unread(response, refused)
    return body.answer()


async def aexchange(client: httpx.AsyncClient, ask: Exchange) -> Answer:
    """The ``async`` twin of :func:`exchange`: the whole request runs under :func:`asyncio.wait_for`."""
    left = ask.deadline.remaining()
    if left <= 0:
        raise ask.deadline.too_late(ask.shown)
    connections = _Connections()
    try:
        return await asyncio.wait_for(_aexchange(client, ask, connections), left)
    except asyncio.TimeoutError:
        await connections.close()
        raise ask.deadline.too_late(ask.shown) from None
    except HTTPX_ERRORS:
        if ask.deadline.passed():
            raise ask.deadline.too_late(ask.shown) from None
        raise


async def _aexchange(client: httpx.AsyncClient, ask: Exchange, connections: _Connections) -> Answer:
    request = _request(client, ask, {"trace": connections.trace})
    hops = 0
    while True:
        response = await client.send(request, stream=True, follow_redirects=False)
        try:
            if response.next_request is None or not _follows(client, ask):
                return await _aread(response, ask)
        finally:
            await response.aclose()
        hops += 1
        request = _next_hop(response, ask, hops, client.max_redirects)


async def _aread(response: httpx.Response, ask: Exchange) -> Answer:
    try:
        body = _body(response, ask)
        if body is None:
            return Answer.of(response)
        async for chunk in response.aiter_raw():
            body.add(chunk)
        body.finish()
    except DownloadRefused as refused:
        return _unread(response, refused)
    return body.answer()


# --- owners of a client -----------------------------------------------------------------------------------------

_Sync = TypeVar("_Sync", bound="ClientOwner")
_Async = TypeVar("_Async", bound="AsyncClientOwner")


class ClientOwner:
    """A download shell over an ``httpx.Client``: it closes the client it made itself; a context manager."""

    client: httpx.Client
    _owned: bool

    def close(self) -> None:
        """Close the HTTP client if this object made it."""
        if self._owned:
            self.client.close()

    def __enter__(self: _Sync) -> _Sync:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()


class AsyncClientOwner:
    """The ``async`` twin of :class:`ClientOwner`, over an ``httpx.AsyncClient``."""

    client: httpx.AsyncClient
    _owned: bool

    async def aclose(self) -> None:
        """Close the HTTP client if this object made it."""
        if self._owned:
            await self.client.aclose()

    async def __aenter__(self: _Async) -> _Async:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        await self.aclose()

"""The download primitive every HTTP shell uses: one request within its bounds, one answer, one failure.

Every request goes through ``exchange`` (of :mod:`mssante.net._async._exchange`, and of its generated sync twin):

- A :class:`Deadline` bounds the whole of it: connecting, the TLS handshake, the request, the answer's headers and
  body, and each redirection. A peer that trickles its bytes, each in time for the per-operation ``timeout``, cannot
  stretch it. How the deadline is enforced differs by side, and is all in one small hand-written module per side
  (:mod:`mssante.net._backend_async`, :mod:`mssante.net._backend_sync`): the async side runs the request under
  :func:`asyncio.wait_for` and closes the connections it made when the deadline cuts it; the sync side, which httpx
  cannot cancel, caps every timeout by the time left, checks the deadline between reads, and arms a watchdog that
  shuts down the request's socket at the deadline.
- Redirections are followed here, not by httpx (which reads, and decodes, the body of each one): up to the client's
  ``max_redirects``, when the client (or the shell) follows them; a redirection's body is never read.
- A body is read as it arrives, by :class:`BoundedBody`: within a byte bound, and not content-encoded unless the shell
  asks for it to be decoded, under the same byte bound on the decoded bytes (a compression bomb is cut as it inflates).

``attempt`` gives an :class:`Answer` or a :class:`Failure` (the one convention of the shells: a failure is a value,
translated once, by the shell, into its own errors and finding codes); ``exchange`` raises instead
(:class:`DownloadRefused`, its ``reason`` ``encoding``, ``oversize``, ``redirect`` or ``timeout``, or one of
:data:`HTTPX_ERRORS`).

With a client whose transport is not httpx's own (a mock, a custom transport), no socket can be had: such a request is
bounded by the capped timeouts and the checks between reads only.
"""

from __future__ import annotations

import math
import time
import zlib
from collections.abc import Callable, Mapping
from typing import Any, Literal

import attrs
import httpx

from mssante._files import atomic_write, cache_directory
from mssante._revalidation import conditional_headers

__all__ = [
    "CHUNK",
    "DEFAULT_MAX_DURATION",
    "DEFAULT_TIMEOUT",
    "HTTPX_ERRORS",
    "Answer",
    "BoundedBody",
    "Deadline",
    "DownloadRefused",
    "Exchange",
    "Failure",
    "atomic_write",
    "cache_directory",
    "check_seconds",
    "conditional_headers",
]

DEFAULT_TIMEOUT = 15.0
"""Seconds allowed to each network operation (connect, read, write, pool)."""

DEFAULT_MAX_DURATION = 120.0
"""Seconds allowed to a whole request, body and redirections included (a slow server cannot hold a fetch forever)."""

CHUNK = 64 * 1024
"""The most bytes one read from the network gives: a bound is enforced as the body arrives, read by read."""

HTTPX_ERRORS = (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError)
"""Every exception httpx raises for a request: translated once, by the shell that made it."""

_SHORTEST_TIMEOUT = 0.001
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


Refusal = Literal["encoding", "oversize", "redirect", "timeout"]


class DownloadRefused(Exception):
    """A download refused as it goes: ``reason`` is ``encoding``, ``oversize``, ``redirect`` or ``timeout``."""

    def __init__(self, message: str, *, reason: Refusal) -> None:
        super().__init__(message)
        self.reason: Refusal = reason


@attrs.frozen
class Failure:
    """A request that got no usable answer: ``error`` is a :class:`DownloadRefused` or one of :data:`HTTPX_ERRORS`.

    The one failure value of the download shells: each translates it once into its own errors and findings.
    """

    error: Exception

    @property
    def reason(self) -> Refusal | Literal["network"]:
        """Why: the refusal's reason, or ``network`` for an httpx error (a timeout of one operation included)."""
        return self.error.reason if isinstance(self.error, DownloadRefused) else "network"

    @property
    def timed_out(self) -> bool:
        """True for an httpx timeout of one operation (not the whole request's deadline: ``reason`` says that)."""
        return isinstance(self.error, httpx.TimeoutException)

    @property
    def detail(self) -> str:
        """The error as ``Type: message`` (its type alone when it has no message)."""
        return f"{type(self.error).__name__}: {self.error}" if str(self.error) else type(self.error).__name__


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


def build_request(client: httpx.Client | httpx.AsyncClient, ask: Exchange, extensions: dict[str, Any]) -> httpx.Request:
    """The first request of ``ask``, its timeouts capped by the time left."""
    return client.build_request(
        ask.method,
        ask.url,
        params=ask.params,
        headers=dict(ask.headers),
        content=ask.content,
        timeout=ask.deadline.timeout(ask.timeout),
        extensions=extensions,
    )


def follows(client: httpx.Client | httpx.AsyncClient, ask: Exchange) -> bool:
    """Whether ``ask`` follows redirections (as the client does unless it says)."""
    return client.follow_redirects if ask.follow_redirects is None else ask.follow_redirects


def next_hop(response: httpx.Response, ask: Exchange, hops: int, max_redirects: int) -> httpx.Request:
    """The request a redirection leads to, with timeouts capped anew; refused past ``max_redirects``."""
    target = response.next_request
    assert target is not None
    if hops > max_redirects:
        raise httpx.TooManyRedirects("Exceeded maximum allowed redirects.", request=response.request)
    if ask.redirect is not None:
        ask.redirect(target.url)
    target.extensions = {**target.extensions, "timeout": ask.deadline.timeout(ask.timeout).as_dict()}
    return target


def body_of(response: httpx.Response, ask: Exchange) -> BoundedBody | None:
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


def unread(response: httpx.Response, refused: DownloadRefused) -> Answer:
    """An error answer whose body was refused (too large, encoded): its status alone. A 200's refusal is raised."""
    if response.status_code == httpx.codes.OK or refused.reason == "timeout":
        raise refused
    return Answer.of(response)

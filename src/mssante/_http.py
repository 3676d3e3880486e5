"""What the download shells share: time limits, the httpx errors they translate, and their on-disk caches.

The only module, with the two fetchers, that knows httpx is the HTTP client underneath.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from types import TracebackType
from typing import Literal, TypeVar

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
    "DownloadRefused",
    "atomic_write",
    "cache_directory",
]

DEFAULT_TIMEOUT = 15.0
"""Seconds allowed to each network operation (connect, read, write, pool)."""

DEFAULT_MAX_DURATION = 120.0
"""Seconds allowed to a whole request, body included (a slow server cannot hold a fetch forever)."""

MAX_URL_LENGTH = 2048
"""No distribution point or list URL is longer; a longer one is refused unread."""

CHUNK = 64 * 1024
"""Bytes read from a response at a time, so that a size limit is enforced as the body arrives."""

HTTPX_ERRORS = (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError)
"""Every exception httpx raises for a request: translated once, by the shell that made it."""


@attrs.frozen
class Answer:
    """An HTTP answer as the download shells judge it: status, body (read within limits) and validators."""

    status: int
    body: bytes = b""
    etag: str | None = None
    last_modified: str | None = None

    @classmethod
    def without_body(cls, response: httpx.Response) -> Answer:
        """The status and validators of a response whose body is not read (anything but a 200)."""
        return cls(response.status_code, b"", response.headers.get("etag"), response.headers.get("last-modified"))


class DownloadRefused(Exception):
    """A body refused while it arrives: ``reason`` is ``encoding``, ``oversize`` or ``timeout``."""

    def __init__(self, message: str, *, reason: Literal["encoding", "oversize", "timeout"]) -> None:
        super().__init__(message)
        self.reason = reason


class BoundedBody:
    """Collects a response body within a size limit and a deadline; :class:`DownloadRefused` past them.

    A compressed body is refused (it could inflate beyond any limit); a declared length over the
    limit is refused before anything is read. ``progress``, when given, is called with the bytes received so
    far and the declared length (``Content-Length``, None when the server gives none): once with 0 when the
    body starts, then after each chunk taken.
    """

    def __init__(
        self,
        url: str,
        response: httpx.Response,
        *,
        max_bytes: int,
        deadline: float,
        progress: Callable[[int, int | None], None] | None = None,
    ) -> None:
        self.url, self.max_bytes, self.deadline = url, max_bytes, deadline
        self.response = response
        self.chunks: list[bytes] = []
        self.size = 0
        encoding = response.headers.get("content-encoding", "identity").strip().lower()
        if encoding not in ("", "identity"):
            raise DownloadRefused(f"{url}: content-encoding {encoding!r} refused", reason="encoding")
        length = response.headers.get("content-length", "").strip()
        if length.isdigit() and int(length) > max_bytes:
            raise DownloadRefused(f"{url}: a body of {int(length)} bytes is over the limit of {max_bytes}",
                                  reason="oversize")  # fmt: skip
        self.total = int(length) if length.isdigit() else None
        self.progress = progress
        if progress is not None:
            progress(0, self.total)

    def add(self, chunk: bytes) -> None:
        """Take the next chunk, or refuse the body when it is too large or too late."""
        self.size += len(chunk)
        if self.size > self.max_bytes:
            raise DownloadRefused(
                f"{self.url}: the body is over the limit of {self.max_bytes} bytes", reason="oversize"
            )
        if time.monotonic() > self.deadline:
            raise DownloadRefused(
                f"{self.url}: the download took too long: it took longer than allowed", reason="timeout"
            )
        self.chunks.append(chunk)
        if self.progress is not None:
            self.progress(self.size, self.total)

    def answer(self) -> Answer:
        """The whole answer, once the body is read."""
        headers = self.response.headers
        return Answer(
            self.response.status_code, b"".join(self.chunks), headers.get("etag"), headers.get("last-modified")
        )


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

"""One request within its bounds (:func:`exchange`, :func:`attempt`), and the owner of an HTTP client.

See :mod:`mssante.net._http` for the rules; the deadline is enforced by the :class:`Guard` of this side.
"""

from __future__ import annotations

from types import TracebackType
from typing import TypeVar

import httpx

from mssante.net._backend_async import Guard
from mssante.net._http import (
    HTTPX_ERRORS,
    Answer,
    DownloadRefused,
    Exchange,
    Failure,
    body_of,
    build_request,
    follows,
    next_hop,
    unread,
)

__all__ = ["AsyncClientOwner", "attempt", "exchange"]

_Owner = TypeVar("_Owner", bound="AsyncClientOwner")


async def exchange(client: httpx.AsyncClient, ask: Exchange) -> Answer:
    """Send ``ask`` with ``client`` and read its answer within its limits; see :mod:`mssante.net._http`.

    Raises :class:`DownloadRefused` (``timeout`` once the deadline passed, whatever was under way) or one of
    :data:`HTTPX_ERRORS`.
    """
    if ask.deadline.passed():
        raise ask.deadline.too_late(ask.shown)
    return await Guard(ask.deadline).run(_exchange, client, ask)


async def attempt(client: httpx.AsyncClient, ask: Exchange) -> Answer | Failure:
    """The answer to ``ask``, or the :class:`Failure` that stopped it: what every shell asks through."""
    try:
        return await exchange(client, ask)
    except DownloadRefused as refused:
        return Failure(refused)
    except HTTPX_ERRORS as error:
        return Failure(error)


async def _exchange(client: httpx.AsyncClient, ask: Exchange, guard: Guard) -> Answer:
    request = build_request(client, ask, {"trace": guard.trace})
    guard.prepare(request)
    hops = 0
    while True:
        response = await client.send(request, stream=True, follow_redirects=False)
        try:
            guard.watch(response)
            if response.next_request is None or not follows(client, ask):
                return await _read(response, ask, guard)
        finally:
            await response.aclose()
        hops += 1
        request = next_hop(response, ask, hops, client.max_redirects)
        guard.check(ask)


async def _read(response: httpx.Response, ask: Exchange, guard: Guard) -> Answer:
    try:
        body = body_of(response, ask)
        if body is None:
            return Answer.of(response)
        async for chunk in response.aiter_raw():
            body.add(chunk)
        if guard.cut():  # a body that ends with the connection, shut down: cut short
            raise ask.deadline.too_late(ask.shown)
        body.finish()
    except DownloadRefused as refused:
        return unread(response, refused)
    return body.answer()


class AsyncClientOwner:
    """A download shell over an HTTP client: it closes the client it made itself; a context manager."""

    client: httpx.AsyncClient
    _owned: bool

    async def aclose(self) -> None:
        """Close the HTTP client if this object made it."""
        if self._owned:
            await self.client.aclose()

    async def __aenter__(self: _Owner) -> _Owner:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        await self.aclose()

"""What the async side does its own way: the deadline (a task cancelled by :func:`asyncio.wait_for`) and sleeping.

The :class:`Guard` of a request runs the whole of it under :func:`asyncio.wait_for`, and closes the connections it
made when the deadline cuts it (httpx leaves one cut during its TLS handshake open).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import httpx

from mssante.net._http import HTTPX_ERRORS, Answer, Deadline, Exchange

__all__ = ["Guard", "Sleep", "sleep"]

Sleep = Callable[[float], Awaitable[object]]
"""What waits between requests (``asyncio.sleep`` by default)."""

sleep = asyncio.sleep


class Guard:
    """Holds one async request to its deadline; keeps the connections it made (httpx's ``trace`` extension)."""

    def __init__(self, deadline: Deadline) -> None:
        self.deadline = deadline
        self.made: list[object] = []

    async def run(
        self,
        call: Callable[[httpx.AsyncClient, Exchange, Guard], Awaitable[Answer]],
        client: httpx.AsyncClient,
        ask: Exchange,
    ) -> Answer:
        """``call(client, ask, self)`` within the deadline: past it, it is cancelled and its connections closed."""
        try:
            return await asyncio.wait_for(call(client, ask, self), self.deadline.remaining())
        except asyncio.TimeoutError:
            await self._close()
            raise ask.deadline.too_late(ask.shown) from None
        except HTTPX_ERRORS:
            if ask.deadline.passed():
                raise ask.deadline.too_late(ask.shown) from None
            raise

    async def trace(self, event: str, info: Mapping[str, Any]) -> None:
        """httpx's ``trace`` extension: a connection made is kept, to be closed if the deadline cuts the request."""
        if event == "connection.connect_tcp.complete":
            self.made.append(info.get("return_value"))

    def prepare(self, request: httpx.Request) -> None:
        """Nothing: a cancelled task leaves no connection unwatched."""

    def watch(self, response: httpx.Response) -> None:
        """Nothing: the task is cancelled at the deadline, wherever it waits."""

    def check(self, ask: Exchange) -> None:
        """Nothing: the task is cancelled at the deadline."""

    def cut(self) -> bool:
        """False: a body cut by the deadline ends with the task's cancellation, never as a short body."""
        return False

    async def _close(self) -> None:
        for stream in self.made:
            close = getattr(stream, "aclose", None)
            if callable(close):
                with contextlib.suppress(Exception):  # closed already, or broken: closed either way
                    await close()

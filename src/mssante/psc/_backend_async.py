"""What the async side of the provider's shell does its own way: one request (:func:`mssante.net.aattempt`), and
waiting between the polls of the back-channel flow (:func:`asyncio.sleep`)."""

from __future__ import annotations

import asyncio

import httpx

from mssante.net import Answer, Exchange, Failure, aattempt

__all__ = ["attempt", "sleep"]


async def attempt(client: httpx.AsyncClient, ask: Exchange) -> Answer | Failure:
    """The answer to ``ask``, or the failure that stopped it."""
    return await aattempt(client, ask)


async def sleep(seconds: float) -> None:
    """Wait ``seconds``."""
    await asyncio.sleep(seconds)

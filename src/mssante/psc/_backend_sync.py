"""What the sync side of the provider's shell does its own way: one request (:func:`mssante.net.attempt`), and
waiting between the polls of the back-channel flow (:func:`time.sleep`)."""

from __future__ import annotations

import time

import httpx

from mssante.net import Answer, Exchange, Failure
from mssante.net import attempt as _attempt

__all__ = ["attempt", "sleep"]


def attempt(client: httpx.Client, ask: Exchange) -> Answer | Failure:
    """The answer to ``ask``, or the failure that stopped it."""
    return _attempt(client, ask)


def sleep(seconds: float) -> None:
    """Wait ``seconds``."""
    time.sleep(seconds)

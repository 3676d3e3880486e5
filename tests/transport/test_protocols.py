"""The transports satisfy the protocols that name them (checked by mypy --strict on this file), and every session
opens its connection when its ``with`` block is entered."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest

from mssante.errors import TransportError
from mssante.pki import TrustStore
from mssante.transport import (
    AsyncSubmission,
    AsyncTransport,
    FileTransport,
    ImapMailbox,
    MemoryTransport,
    Submission,
    Transport,
)


@pytest.fixture(scope="module")
def store() -> TrustStore:
    return TrustStore.bundled("prod")


@pytest.fixture
def closed_port() -> int:
    """A loopback port nobody listens on: bound, then closed."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_sync_transports(tmp_path: Path, store: TrustStore) -> None:
    transports: list[Transport] = [
        Submission("localhost", 587, store=store),
        MemoryTransport(),
        FileTransport(tmp_path),
    ]
    assert [type(transport).__name__ for transport in transports] == ["Submission", "MemoryTransport", "FileTransport"]


def test_async_transport(store: TrustStore) -> None:
    transport: AsyncTransport = AsyncSubmission("localhost", 587, store=store)
    assert type(transport).__name__ == "AsyncSubmission"


def test_entering_a_submission_connects(store: TrustStore, closed_port: int) -> None:
    with pytest.raises(TransportError), Submission("127.0.0.1", closed_port, store=store, timeout=5):
        pytest.fail("the session opened on a closed port")


def test_entering_a_mailbox_connects(store: TrustStore, closed_port: int) -> None:
    with pytest.raises(TransportError), ImapMailbox("127.0.0.1", closed_port, store=store, timeout=5):
        pytest.fail("the session opened on a closed port")


def test_entering_an_async_submission_connects(store: TrustStore, closed_port: int) -> None:
    async def enter() -> None:
        async with AsyncSubmission("127.0.0.1", closed_port, store=store, timeout=5):
            pytest.fail("the session opened on a closed port")

    with pytest.raises(TransportError):
        asyncio.run(enter())

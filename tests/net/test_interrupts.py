"""What only the sync shells can be tested for: an interrupt raised by a callback ends the download and goes up.

(In an event loop, a ``KeyboardInterrupt`` raised inside a task stops the loop itself: not a test a suite can run.)
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mssante.net import CrlFetcher
from tests.local_server import Reply
from tests.net.crl_kit import T0, Ca, Server, leaf_for


@pytest.fixture
def server() -> Iterator[Server]:
    running = Server()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def ca() -> Ca:
    return Ca.create()


def test_a_failing_progress_callback_ends_the_fetch(server: Server, ca: Ca) -> None:
    server.routes["/ca.crl"] = Reply(ca.crl())

    def stop(received: int, total: int | None) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt), CrlFetcher(progress=stop) as fetcher:
        fetcher.fetch(leaf_for(ca, server.url("/ca.crl")), ca.cert, at=T0)

"""What the directory clients decide without a server: the client-side rate, and the ``Retry-After`` header."""

from __future__ import annotations

import threading
from datetime import datetime, timezone

import pytest

from mssante.net import RateLimiter, retry_after_seconds


def test_rate_limiter() -> None:
    limiter = RateLimiter(17.0)
    assert [round(limiter.reserve(0.0) * 17, 6) for _ in range(4)] == [0, 1, 2, 3]
    assert limiter.reserve(10.0) == 0.0
    bursty = RateLimiter(2.0, burst=3)
    assert [bursty.reserve(0.0) for _ in range(5)] == [0.0, 0.0, 0.0, 0.5, 1.0]
    assert repr(bursty) == "RateLimiter(2, burst=3)"
    with pytest.raises(ValueError, match="positive"):
        RateLimiter(0.0)
    with pytest.raises(ValueError, match="positive"):
        RateLimiter(1.0, burst=0)


def test_rate_limiter_is_thread_safe() -> None:
    limiter = RateLimiter(100.0)
    waits: list[float] = []
    threads = [threading.Thread(target=lambda: waits.extend(limiter.reserve(0.0) for _ in range(50))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(round(wait * 100) for wait in waits) == list(range(200))


def test_retry_after_seconds() -> None:
    at = datetime(2015, 10, 21, 7, 28, 0, tzinfo=timezone.utc)
    assert retry_after_seconds("120") == 120.0
    assert retry_after_seconds(" 1.5 ") == 1.5
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:07 GMT", now=at) == 7.0
    assert retry_after_seconds("Wed, 21 Oct 2015 07:27:00 GMT", now=at) == 0.0
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:07 GMT", date="Wed, 21 Oct 2015 07:28:05 GMT", now=at) == 2.0
    for unreadable in (None, "", "soon", "-1", "Wed, 99 Foo 2015", "1e9999"):
        assert retry_after_seconds(unreadable, now=at) is None
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:07 GMT") is None  # no reference time
    with pytest.raises(ValueError, match="timezone-aware"):
        retry_after_seconds("Wed, 21 Oct 2015 07:28:07 GMT", now=datetime(2015, 10, 21))

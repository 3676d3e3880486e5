"""The pure side of the allow-list download: the on-disk cache of the last good list, and its place.

The downloads themselves are tested with the I/O shells, in ``tests/net``.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path

import pytest

from mssante.errors import InvalidInput, TrustError
from mssante.trustspace import AllowListCache
from mssante.trustspace.fetching import default_cache_directory
from tests.net.allowlist_kit import AT, MIRROR_HEAD, MODIFIED, NEWER, OLDER, SMALL, snapshot


@pytest.fixture
def cache(tmp_path: Path) -> AllowListCache:
    return AllowListCache(tmp_path / "cache")


def test_default_cache_directory() -> None:
    assert default_cache_directory({"XDG_CACHE_HOME": "/var/cache/x"}) == Path("/var/cache/x/mssante/allowlist")
    assert default_cache_directory({"XDG_CACHE_HOME": "relative"}) == Path.home() / ".cache/mssante/allowlist"
    assert default_cache_directory({}) == Path.home() / ".cache/mssante/allowlist"
    assert AllowListCache().directory == default_cache_directory()


def test_cache_store_and_load(cache: AllowListCache) -> None:
    assert cache.load() is None
    assert cache.read()[1].codes == ()
    stored = cache.store(SMALL, url="https://example.org/l.xml", fetched_at=AT, etag='"e"', last_modified=MODIFIED)
    loaded = cache.load()
    assert loaded is not None
    assert (loaded.url, loaded.etag, loaded.last_modified, loaded.fetched_at, loaded.checked_at) == (
        "https://example.org/l.xml",
        '"e"',
        MODIFIED,
        AT,
        AT,
    )
    assert loaded.sha256 == stored.sha256 == hashlib.sha256(SMALL).hexdigest()
    assert loaded.conditional_headers() == {"If-None-Match": '"e"', "If-Modified-Since": MODIFIED}
    assert (cache.directory.stat().st_mode & 0o777) == 0o700

    before = snapshot(cache)
    with pytest.raises(InvalidInput):
        cache.store(MIRROR_HEAD.read_bytes(), url="https://example.org/l.xml", fetched_at=AT)
    with pytest.raises(TrustError, match="older"):
        cache.store(OLDER, url="https://example.org/l.xml", fetched_at=AT)
    with pytest.raises(ValueError, match="timezone"):
        cache.store(NEWER, url="https://example.org/l.xml", fetched_at=datetime(2025, 3, 14))
    assert snapshot(cache) == before
    assert [path.name for path in cache.directory.iterdir() if path.name.startswith(".tmp")] == []

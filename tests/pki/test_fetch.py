"""The pure side of fetching CRLs: the on-disk cache (verified before it is written, damage survived) and its place.

The downloads themselves are tested with the I/O shells, in ``tests/net``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mssante.errors import InvalidInput, TrustError
from mssante.pki import CrlCache
from mssante.pki.fetching import default_cache_directory
from tests.net.crl_kit import T0, Ca


@pytest.fixture(scope="module")
def ca() -> Ca:
    return Ca.create()


def test_cache_store_verifies_before_writing(ca: Ca, tmp_path: Path) -> None:
    cache = CrlCache(tmp_path / "new")
    url = "http://igc.example/ca.crl"
    with pytest.raises(InvalidInput):
        cache.store(url, b"garbage", ca.cert, at=T0)
    with pytest.raises(TrustError, match="does not verify"):
        cache.store(url, ca.impostor().crl(), ca.cert, at=T0)
    assert not (tmp_path / "new").exists()
    stored = cache.store(url, ca.crl(number=3), ca.cert, at=T0, etag='"x"')
    assert stored.number == 3
    with pytest.raises(TrustError, match="older than the cached"):
        cache.store(url, ca.crl(number=2), ca.cert, at=T0)
    loaded = cache.load(url)
    assert loaded is not None
    assert (loaded.crl.number, loaded.etag, loaded.url) == (3, '"x"', url)
    assert loaded.conditional_headers() == {"If-None-Match": '"x"'}
    assert cache.load("http://igc.example/other.crl") is None


def test_cache_survives_damaged_files(ca: Ca, tmp_path: Path) -> None:
    cache = CrlCache(tmp_path)
    url = "http://igc.example/ca.crl"
    cache.store(url, ca.crl(), ca.cert, at=T0, etag='"x"')
    crl_file, meta_file = sorted(tmp_path.glob("*.crl")), sorted(tmp_path.glob("*.json"))
    assert len(crl_file) == len(meta_file) == 1
    assert json.loads(meta_file[0].read_text())["url"] == url
    meta_file[0].write_text("{not json")
    loaded = cache.load(url)
    assert loaded is not None
    assert loaded.etag is None  # validators lost, CRL kept
    crl_file[0].write_bytes(b"damaged")
    assert cache.load(url) is None


def test_default_cache_directory() -> None:
    assert default_cache_directory({"XDG_CACHE_HOME": "/var/cache/me"}) == Path("/var/cache/me/mssante/crl")
    assert default_cache_directory({}) == Path.home() / ".cache" / "mssante" / "crl"
    assert default_cache_directory({"XDG_CACHE_HOME": "relative"}) == Path.home() / ".cache" / "mssante" / "crl"
    assert CrlCache().directory == default_cache_directory()

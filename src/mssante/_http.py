"""What the download shells share: time limits, the httpx errors they translate, and their on-disk caches.

The only module, with the two fetchers, that knows httpx is the HTTP client underneath.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

import httpx

__all__ = ["CHUNK", "DEFAULT_MAX_DURATION", "DEFAULT_TIMEOUT", "HTTPX_ERRORS", "MAX_URL_LENGTH", "atomic_write",
           "cache_directory"]  # fmt: skip

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


def cache_directory(name: str, environ: Mapping[str, str] | None = None) -> Path:
    """``$XDG_CACHE_HOME/mssante/<name>``, or ``~/.cache/mssante/<name>`` when that is unset or relative."""
    variables = os.environ if environ is None else environ
    base = variables.get("XDG_CACHE_HOME", "")
    root = Path(base) if base and Path(base).is_absolute() else Path.home() / ".cache"
    return root / "mssante" / name


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` whole or not at all: a temporary file beside it, synced, then renamed."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise

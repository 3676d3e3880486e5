"""Files of the library's own: where its caches live, and writing a file whole or not at all."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

__all__ = ["atomic_write", "cache_directory"]


def cache_directory(name: str, environ: Mapping[str, str] | None = None) -> Path:
    """``$XDG_CACHE_HOME/mssante/<name>``, or ``~/.cache/mssante/<name>`` when that is unset or relative."""
    variables = os.environ if environ is None else environ
    base = variables.get("XDG_CACHE_HOME", "")
    root = Path(base) if base and Path(base).is_absolute() else Path.home() / ".cache"
    return root / "mssante" / name


def atomic_write(path: Path, data: bytes, *, mode: int | None = None) -> None:
    """Write ``data`` to ``path`` whole or not at all: a temporary file beside it, synced, then renamed.

    ``mode`` sets the file's permissions (else those of a private temporary file, 0600).
    """
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        if mode is not None:
            Path(temporary).chmod(mode)
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise

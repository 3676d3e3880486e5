"""The files of a directory index import: the new database beside the index, its lock, and what dead imports left.

The new file is ``.<index name>.import-<pid>-<random>.tmp``, beside a ``.lock`` file of the same name that the
import holds locked (``flock``) while it runs. An import killed midway (or a power loss) leaves both behind: the
next import, or the next :meth:`~mssante.directory.DirectoryIndex.open`, removes those whose lock no process holds
any more, and never a running import's.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import stat
import sys
import time
from pathlib import Path

from mssante._files import file_kind
from mssante.errors import DirectoryError

# The files of an import in progress, beside the index: ".<index>.import-<pid>-<random>" + ".tmp" (the new
# database) and + ".lock" (held locked by the import while it runs).
_IMPORT_MARK = ".import-"
_DATABASE_SUFFIX, _LOCK_SUFFIX = ".tmp", ".lock"
_COMPANIONS = ("", "-journal", "-wal", "-shm")
_STALE_SECONDS = 3600  # a leftover no lock can vouch for (earlier versions' ".<index>.XXXXXXXX.tmp") is this old
_LEGACY_TEMPORARY = re.compile(r"[a-z0-9_]{8}\.tmp", re.ASCII)  # what tempfile.mkstemp named them
_NEW_FILE_FLAGS = os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
_LOCK_FLAGS = os.O_RDWR | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


def _identity(path: Path) -> tuple[int, int, int, int] | None:
    """The file's identity, None when there is none; DirectoryError for what is not a regular file (SQLite
    would block on a FIFO)."""
    try:
        status = path.stat()
    except OSError:
        return None
    if not stat.S_ISREG(status.st_mode):
        raise DirectoryError(
            f"{str(path)!r} is {file_kind(status.st_mode)}, not a directory index file: give the path of one"
        )
    return (status.st_dev, status.st_ino, status.st_mtime_ns, status.st_size)


def _check_replaceable(path: Path) -> None:
    """Refuse to replace what is not a regular file: a device, a FIFO, a directory, a symbolic link."""
    try:
        status = os.lstat(path)
    except OSError:  # nothing there (or no folder yet: creating it says what is wrong)
        return
    if not stat.S_ISREG(status.st_mode):
        raise DirectoryError(
            f"{str(path)!r} is {file_kind(status.st_mode)}: an import replaces only a regular file (give the path of "
            "the index file itself, or of one that does not exist yet)"
        )


def _unlocked(descriptor: int) -> bool:
    """Take the lock of ``descriptor``; False when another process holds it (its import is running)."""
    if sys.platform == "win32":  # no flock: an open file cannot be deleted there, which keeps a running import's
        return True
    import fcntl  # noqa: PLC0415 (POSIX only)

    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _remove(*paths: Path) -> None:
    for path in paths:
        with contextlib.suppress(OSError):
            path.unlink()


def _companions(database: Path) -> list[Path]:
    return [database.with_name(database.name + suffix) for suffix in _COMPANIONS]


def _remove_stale_imports(index: Path) -> list[Path]:
    """Remove what imports of ``index`` that died (killed, a power loss) left beside it; the files removed.

    Only files named after this index are looked at. A new database whose lock no process holds is removed
    with its lock; a running import's lock is held, and its files are left alone. A temporary file of an
    earlier version (``.<index>.XXXXXXXX.tmp``, without lock) is removed once an hour old.
    """
    folder = index.parent
    prefix = f".{index.name}."
    try:
        names = [name for name in os.listdir(folder) if name.startswith(prefix)]
    except OSError:
        return []
    removed: list[Path] = []
    now = time.time()
    for name in names:
        rest = name[len(prefix) :]
        if rest.startswith(_IMPORT_MARK[1:]) and name.endswith(_LOCK_SUFFIX):
            lock = folder / name
            database = folder / (name[: -len(_LOCK_SUFFIX)] + _DATABASE_SUFFIX)
            try:
                descriptor = os.open(lock, _LOCK_FLAGS)
            except OSError:
                continue
            try:
                if not stat.S_ISREG(os.fstat(descriptor).st_mode) or not _unlocked(descriptor):
                    continue
                if sys.platform == "win32" and now - os.fstat(descriptor).st_mtime < _STALE_SECONDS:
                    continue
                found = [path for path in _companions(database) if path.exists()]
                _remove(*found, lock)
                removed += [path for path in [*found, lock] if not path.exists()]
            finally:
                os.close(descriptor)
        elif _LEGACY_TEMPORARY.fullmatch(rest):
            legacy = folder / name
            with contextlib.suppress(OSError):
                status = os.lstat(legacy)
                if stat.S_ISREG(status.st_mode) and now - status.st_mtime > _STALE_SECONDS:
                    _remove(*_companions(legacy))
                    removed += [legacy] if not legacy.exists() else []
    return removed


class _ImportFiles:
    """The new database file of one import and its lock, held from creation until :meth:`release`."""

    def __init__(self, index: Path) -> None:
        self.database, self.lock, self._descriptor = self._claim(index)

    @staticmethod
    def _claim(index: Path) -> tuple[Path, Path, int]:
        for _ in range(100):
            stem = f".{index.name}{_IMPORT_MARK}{os.getpid()}-{secrets.token_hex(4)}"
            lock, database = index.with_name(stem + _LOCK_SUFFIX), index.with_name(stem + _DATABASE_SUFFIX)
            try:
                descriptor = os.open(lock, _NEW_FILE_FLAGS, 0o600)
            except FileExistsError:
                continue
            if sys.platform != "win32":
                import fcntl  # noqa: PLC0415 (POSIX only)

                fcntl.flock(descriptor, fcntl.LOCK_EX)  # waits only while a sweeper looks at it
                if os.fstat(descriptor).st_nlink == 0:  # that sweeper took it for stale and removed it
                    os.close(descriptor)
                    continue
            try:
                os.close(os.open(database, _NEW_FILE_FLAGS, 0o600))
            except BaseException:
                _remove(lock)
                os.close(descriptor)
                raise
            return database, lock, descriptor
        raise FileExistsError(f"no free name for the new index file beside {str(index)!r}")

    def release(self) -> None:
        """Remove what is left of the new file (nothing once renamed into place), then the lock."""
        _remove(*_companions(self.database), self.lock)
        os.close(self._descriptor)

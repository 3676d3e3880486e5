"""Files: where the library's caches live, reading a user's file safely, and writing a file whole or not at all.

Every place the SDK reads a path it was given goes through :func:`open_regular` or :func:`read_regular`, and
every place it writes one through :func:`atomic_write` (replace) or :func:`create_new` (never replace):

- a path is read only when it is a regular file (a symbolic link to one is followed). A FIFO, a device, a
  socket or a directory is refused before a byte is read, and the file is opened without blocking, so a FIFO
  that no one writes to cannot stop the caller; :func:`read_regular` reads at most its bound;
- a path is replaced only when it is a regular file, or created when nothing is there. A device, a FIFO, a
  socket, a directory and a symbolic link (whatever it points to) are refused: a symbolic link is neither
  followed nor replaced, since either would write somewhere the caller did not name;
- what is written is synced, renamed (or linked) into place, and the directory synced after, so that once the
  call returns the file survives a crash or a power loss whole, and before that nothing but a temporary
  file beside it (``.tmp-*``) can be left.

A refusal is :class:`FileRefused`, an ``OSError``: each caller already turns an unreadable or unwritable file
into its own answer (a one-line message and exit status 2 on the command line, a warning for a cache). Its
text says what the path is and what to do.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import BinaryIO

__all__ = [
    "FileRefused",
    "FileTooLarge",
    "atomic_write",
    "cache_directory",
    "check_regular",
    "check_replaceable",
    "create_new",
    "ensure_directory",
    "file_kind",
    "open_regular",
    "read_regular",
    "sync_directory",
]

_READ_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NONBLOCK", 0)  # opening a FIFO without a writer returns at once instead of waiting for one
    | getattr(os, "O_NOCTTY", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)
_CREATE_FLAGS = (
    os.O_WRONLY
    | os.O_CREAT
    | os.O_EXCL
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)
_TEMPORARY_PREFIX = ".tmp-"
_NO_HARD_LINKS = {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK, errno.ENOSYS, errno.EXDEV}
_NO_DIRECTORY_SYNC = {errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EBADF}


class FileRefused(OSError):
    """A path the library will not read or replace: not a regular file, or too large. The text says which and
    what to do; :attr:`filename` is the path. An ``OSError``, so it is handled where unreadable files are."""


class FileTooLarge(FileRefused):
    """A regular file larger than the bound of what reads it."""

    def __init__(self, path: str, limit: int) -> None:
        super().__init__(errno.EFBIG, f"larger than {limit} bytes: it is not read (give a smaller file)", path)
        self.limit = limit
        """The bound, in bytes."""


def cache_directory(name: str, environ: Mapping[str, str] | None = None) -> Path:
    """``$XDG_CACHE_HOME/mssante/<name>``, or ``~/.cache/mssante/<name>`` when that is unset or relative."""
    variables = os.environ if environ is None else environ
    base = variables.get("XDG_CACHE_HOME", "")
    root = Path(base) if base and Path(base).is_absolute() else Path.home() / ".cache"
    return root / "mssante" / name


def file_kind(mode: int) -> str:
    """What a file that is not a regular file is, for a message: ``a FIFO (named pipe)``, ``a directory``..."""
    kinds = (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISLNK, "a symbolic link"),
    )
    return next((name for test, name in kinds if test(mode)), "not a regular file")


def _not_readable(path: str | os.PathLike[str], mode: int) -> FileRefused:
    number = errno.EISDIR if stat.S_ISDIR(mode) else errno.EINVAL
    what = (
        f"{file_kind(mode)}, not a regular file: only a regular file is read (save the data to a file and give "
        "its path)"
    )
    return FileRefused(number, what, os.fspath(path))


def _not_replaceable(path: str | os.PathLike[str], mode: int) -> FileRefused:
    if stat.S_ISLNK(mode):
        what = (
            "a symbolic link: it is neither followed nor replaced (give the path of the file it points to, "
            "or remove the link)"
        )
        return FileRefused(errno.ELOOP, what, os.fspath(path))
    number = errno.EISDIR if stat.S_ISDIR(mode) else errno.EINVAL
    what = (
        f"{file_kind(mode)}: only a regular file is replaced, or a new one created (give the path of a file, "
        "or remove what is there)"
    )
    return FileRefused(number, what, os.fspath(path))


def open_regular(path: str | os.PathLike[str]) -> BinaryIO:
    """A user's file opened for reading, once it is known to be a regular file.

    The path is looked at first (a device is not even opened), then opened without blocking and looked at
    again through the open descriptor, so that what is read is what was checked. Raises :class:`FileRefused`
    for anything but a regular file (symbolic links are followed), and ``OSError`` when it cannot be opened.
    """
    status = os.stat(path)
    if not stat.S_ISREG(status.st_mode):
        raise _not_readable(path, status.st_mode)
    descriptor = os.open(path, _READ_FLAGS)
    try:
        status = os.fstat(descriptor)
        if not stat.S_ISREG(status.st_mode):  # replaced between the two looks
            raise _not_readable(path, status.st_mode)
        if _READ_FLAGS & getattr(os, "O_NONBLOCK", 0):
            os.set_blocking(descriptor, True)
        return os.fdopen(descriptor, "rb")
    except BaseException:
        os.close(descriptor)
        raise


def check_regular(path: str | os.PathLike[str]) -> None:
    """Refuse (:class:`FileRefused`) a path that is there and is not a regular file (symbolic links followed).

    For files opened by another library (SQLite), which would block on a FIFO or read a device. Nothing
    there is fine (they create it); ``OSError`` when it cannot be looked at.
    """
    try:
        status = os.stat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISREG(status.st_mode):
        raise _not_readable(path, status.st_mode)


def read_regular(path: str | os.PathLike[str], *, limit: int) -> bytes:
    """The bytes of a user's regular file, at most ``limit`` of them.

    Raises :class:`FileRefused` for anything but a regular file, :class:`FileTooLarge` (one too) for a file
    larger than ``limit`` (at most ``limit + 1`` bytes are read to know it), ``OSError`` when it cannot be read.
    """
    with open_regular(path) as stream:
        if os.fstat(stream.fileno()).st_size > limit:
            raise FileTooLarge(os.fspath(path), limit)
        data = stream.read(limit + 1)
    if len(data) > limit:  # a file that grew, or one whose size the system does not tell (/proc)
        raise FileTooLarge(os.fspath(path), limit)
    return data


def sync_directory(directory: str | os.PathLike[str]) -> None:
    """Make the names in ``directory`` durable (a rename, a new file): fsync of the directory itself.

    Nothing where a directory cannot be opened (Windows) or its file system does not sync directories.
    """
    if os.name != "posix":
        return
    descriptor = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        os.fsync(descriptor)
    except OSError as error:
        if error.errno not in _NO_DIRECTORY_SYNC:
            raise
    finally:
        os.close(descriptor)


def ensure_directory(directory: str | os.PathLike[str], *, mode: int = 0o777) -> None:
    """Create ``directory`` and its missing parents, each new name made durable in its parent."""
    path = Path(directory)
    missing: list[Path] = []
    while not path.is_dir():
        missing.append(path)
        if path.parent == path:
            break
        path = path.parent
    for level in reversed(missing):
        with contextlib.suppress(FileExistsError):
            level.mkdir(mode=mode)
        if not level.is_dir():
            raise FileRefused(errno.ENOTDIR, "not a directory: give the path of a directory", str(level))
        sync_directory(level.parent)


def _written(directory: Path, data: bytes, mode: int | None) -> Path:
    """A new temporary file in ``directory`` holding ``data``, synced; ``mode`` else 0600."""
    handle, name = tempfile.mkstemp(dir=directory, prefix=_TEMPORARY_PREFIX)
    temporary = Path(name)
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        if mode is not None:
            temporary.chmod(mode)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return temporary


def check_replaceable(path: str | os.PathLike[str]) -> None:
    """Refuse (:class:`FileRefused`) a path that :func:`atomic_write` would not replace: anything there but a
    regular file. Nothing there is fine; ``OSError`` when it cannot be looked at."""
    try:
        status = os.lstat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISREG(status.st_mode):
        raise _not_replaceable(path, status.st_mode)


def atomic_write(path: str | os.PathLike[str], data: bytes, *, mode: int | None = None) -> None:
    """Write ``data`` to ``path`` whole or not at all, replacing only a regular file.

    A temporary file beside it is written and synced, renamed over ``path``, then the directory is synced.
    What is at ``path`` must be a regular file or nothing: a device, FIFO, socket, directory or symbolic
    link is refused with :class:`FileRefused` before anything is written, and looked at again just before
    the rename. ``mode`` sets the file's permissions (else those of a private temporary file, 0600).
    """
    target = Path(path)
    check_replaceable(target)
    temporary = _written(target.parent, data, mode)
    try:
        check_replaceable(target)
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    sync_directory(target.parent)


def create_new(path: str | os.PathLike[str], data: bytes, *, mode: int = 0o600) -> None:
    """Write ``data`` to a new file at ``path``, never replacing anything: ``FileExistsError`` when a name is there.

    The file is written and synced under a temporary name, then linked to ``path`` (which fails when anything
    is there, even a dangling symbolic link), and the directory synced: once this returns the file is there
    whole. Where the file system has no hard links, ``path`` is created exclusively (``O_CREAT | O_EXCL``) and
    written in place.
    """
    target = Path(path)
    temporary = _written(target.parent, data, mode)
    try:
        try:
            os.link(temporary, target)
        except FileExistsError:
            raise
        except OSError as error:
            if error.errno not in _NO_HARD_LINKS:
                raise
            _create_in_place(target, data, mode)
    finally:
        temporary.unlink(missing_ok=True)
    sync_directory(target.parent)


def _create_in_place(path: Path, data: bytes, mode: int) -> None:
    descriptor = os.open(path, _CREATE_FLAGS, mode)
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
    except BaseException:
        path.unlink(missing_ok=True)
        raise

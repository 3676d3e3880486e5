"""The one safe reader and the one safe writer of the SDK (``mssante._files``).

Reading: only a regular file is read, and a FIFO without a writer does not stop the reader. Writing: only a
regular file is replaced (or a new one created), whole or not at all, synced with its directory. Anything
else is refused with an ``OSError`` that says what the path is and what to do, and is left as it was.

A call that could block (opening a FIFO) runs in a thread with a generous timeout; if it is still blocked
then, the test opens the FIFO for writing to set it free and fails.
"""

from __future__ import annotations

import errno
import os
import socket
import stat
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from mssante import _files
from mssante._files import atomic_write

HANG_GUARD = 60.0  # seconds: only a blocked call comes near it


def bounded(call: Callable[[], Any], *, fifo: Path | None = None) -> Any:
    """``call()`` in a thread: its result or its exception; a failure when it is still running after the guard."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = call()
        except BaseException as error:  # handed to the test
            outcome["error"] = error

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(HANG_GUARD)
    if worker.is_alive():
        if fifo is not None:  # a reader blocked in open() is set free by a writer
            with open(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK), "wb"):
                pass
            worker.join(HANG_GUARD)
        pytest.fail(f"the call was still blocked after {HANG_GUARD} seconds")
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


@pytest.fixture
def unix_socket(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "socket"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    yield path
    server.close()


def make_fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


def make_device(path: Path) -> Path:
    """A character device like /dev/full (1, 7), made in the test's folder: never the real one."""
    try:
        os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, 7))
    except PermissionError:
        pytest.skip("making a device needs CAP_MKNOD")
    return path


def make_directory(path: Path) -> Path:
    path.mkdir()
    return path


def make_link(path: Path) -> Path:
    target = path.with_name("target.txt")
    target.write_bytes(b"the link's target\n")
    path.symlink_to(target)
    return path


def make_dangling_link(path: Path) -> Path:
    path.symlink_to(path.with_name("nowhere.txt"))
    return path


def kind_of(path: Path) -> tuple[int, str | None]:
    """What is at ``path``, without following a link: its type bits, and where a link points."""
    mode = stat.S_IFMT(os.lstat(path).st_mode)
    return mode, os.readlink(path) if stat.S_ISLNK(mode) else None


NOT_REPLACEABLE: dict[str, Callable[[Path], Path]] = {
    "fifo": make_fifo,
    "character device": make_device,
    "directory": make_directory,
    "symbolic link": make_link,
    "dangling symbolic link": make_dangling_link,
}


def leftovers(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir() if path.name.startswith(".tmp-"))


# -- writing: atomic_write replaces only a regular file -------------------------------------------------------------


@pytest.mark.parametrize("make", NOT_REPLACEABLE.values(), ids=NOT_REPLACEABLE.keys())
def test_atomic_write_replaces_nothing_but_a_regular_file(tmp_path: Path, make: Callable[[Path], Path]) -> None:
    path = make(tmp_path / "out.eml")
    before = kind_of(path)
    with pytest.raises(OSError, match=r"regular file|symbolic link") as refused:
        atomic_write(path, b"data")
    assert isinstance(refused.value, _files.FileRefused)
    assert refused.value.filename == str(path)
    assert "give" in str(refused.value)  # what to do
    assert kind_of(path) == before
    if before[1] is not None and path.exists():
        assert path.read_bytes() == b"the link's target\n"
    assert not (tmp_path / "nowhere.txt").exists()
    assert leftovers(tmp_path) == []


def test_atomic_write_refuses_a_socket(unix_socket: Path) -> None:
    with pytest.raises(OSError, match="socket"):
        atomic_write(unix_socket, b"data")
    assert stat.S_ISSOCK(os.lstat(unix_socket).st_mode)


def test_atomic_write_replaces_a_regular_file_or_creates_one(tmp_path: Path) -> None:
    path = tmp_path / "out.txt"
    atomic_write(path, b"first")
    assert (path.read_bytes(), stat.S_IMODE(path.stat().st_mode)) == (b"first", 0o600)
    atomic_write(path, b"second", mode=0o644)
    assert (path.read_bytes(), stat.S_IMODE(path.stat().st_mode)) == (b"second", 0o644)
    assert leftovers(tmp_path) == []


def test_atomic_write_looks_again_just_before_the_rename(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "out.txt"
    written = _files._written

    def then_a_fifo_appears(*args: Any, **kwargs: Any) -> Path:
        temporary = written(*args, **kwargs)
        os.mkfifo(path)
        return temporary

    monkeypatch.setattr(_files, "_written", then_a_fifo_appears)
    with pytest.raises(_files.FileRefused, match="FIFO"):
        atomic_write(path, b"data")
    assert stat.S_ISFIFO(os.lstat(path).st_mode)
    assert leftovers(tmp_path) == []


def test_atomic_write_is_whole_or_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "out.txt"
    path.write_bytes(b"old")

    def failing(descriptor: int) -> None:
        raise OSError(errno.EIO, "disk failed")

    monkeypatch.setattr(os, "fsync", failing)
    with pytest.raises(OSError, match="disk failed"):
        atomic_write(path, b"new")
    assert path.read_bytes() == b"old"
    assert leftovers(tmp_path) == []


class Recorder:
    """Records the fsync calls (file or directory, which name) and the renames, in order."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.events: list[tuple[str, str]] = []
        fsync, replace, link = os.fsync, os.replace, os.link

        def spy_fsync(descriptor: int) -> None:
            kind = "directory" if stat.S_ISDIR(os.fstat(descriptor).st_mode) else "file"
            self.events.append((f"fsync {kind}", ""))
            fsync(descriptor)

        def spy_replace(source: Any, target: Any, **kwargs: Any) -> None:
            replace(source, target, **kwargs)
            self.events.append(("rename", Path(target).name))

        def spy_link(source: Any, target: Any, **kwargs: Any) -> None:
            link(source, target, **kwargs)
            self.events.append(("link", Path(target).name))

        monkeypatch.setattr(os, "fsync", spy_fsync)
        monkeypatch.setattr(os, "replace", spy_replace)
        monkeypatch.setattr(os, "link", spy_link)


def test_atomic_write_syncs_the_file_then_renames_then_syncs_the_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder = Recorder(monkeypatch)
    atomic_write(tmp_path / "out.txt", b"data")
    assert recorder.events == [("fsync file", ""), ("rename", "out.txt"), ("fsync directory", "")]


# -- writing: create_new never replaces anything --------------------------------------------------------------------


def test_create_new_writes_a_new_file_synced_with_its_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder = Recorder(monkeypatch)
    _files.create_new(tmp_path / "1-1.eml", b"message")
    assert recorder.events == [("fsync file", ""), ("link", "1-1.eml"), ("fsync directory", "")]
    assert (tmp_path / "1-1.eml").read_bytes() == b"message"
    assert stat.S_IMODE((tmp_path / "1-1.eml").stat().st_mode) == 0o600
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize(
    "make",
    [*NOT_REPLACEABLE.values(), lambda path: path.write_bytes(b"stored") and path],
    ids=[*NOT_REPLACEABLE, "file"],
)
@pytest.mark.parametrize("hard_links", [True, False], ids=["link", "O_EXCL"])
def test_create_new_replaces_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, make: Callable[[Path], Path], hard_links: bool
) -> None:
    if not hard_links:

        def no_links(source: Any, target: Any, **kwargs: Any) -> None:
            raise OSError(errno.EPERM, "no hard links here")

        monkeypatch.setattr(os, "link", no_links)
    path = make(tmp_path / "1-1.eml")
    before = kind_of(path)
    content = path.read_bytes() if stat.S_ISREG(before[0]) else None
    with pytest.raises(FileExistsError):
        _files.create_new(path, b"message")
    assert kind_of(path) == before
    if content is not None:
        assert path.read_bytes() == content
    assert not (tmp_path / "nowhere.txt").exists()
    assert leftovers(tmp_path) == []


def test_create_new_without_hard_links_still_creates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_links(source: Any, target: Any, **kwargs: Any) -> None:
        raise OSError(errno.EPERM, "no hard links here")

    monkeypatch.setattr(os, "link", no_links)
    _files.create_new(tmp_path / "new.eml", b"message", mode=0o640)
    assert (tmp_path / "new.eml").read_bytes() == b"message"
    assert stat.S_IMODE((tmp_path / "new.eml").stat().st_mode) == 0o640
    assert leftovers(tmp_path) == []


def test_ensure_directory_creates_each_level(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    recorder = Recorder(monkeypatch)
    _files.ensure_directory(tmp_path / "a" / "b")
    assert (tmp_path / "a" / "b").is_dir()
    assert recorder.events == [("fsync directory", ""), ("fsync directory", "")]
    (tmp_path / "file").write_bytes(b"")
    with pytest.raises(_files.FileRefused, match="not a directory"):
        _files.ensure_directory(tmp_path / "file")


# -- reading: only a regular file, without blocking -----------------------------------------------------------------


NOT_READABLE: dict[str, Callable[[Path], Path]] = {
    "fifo": make_fifo,
    "character device": make_device,
    "directory": make_directory,
}


@pytest.mark.parametrize("make", NOT_READABLE.values(), ids=NOT_READABLE.keys())
@pytest.mark.parametrize("through_a_link", [False, True], ids=["direct", "through a link"])
def test_read_regular_refuses_what_is_not_a_regular_file(
    tmp_path: Path, make: Callable[[Path], Path], through_a_link: bool
) -> None:
    thing = make(tmp_path / "input")
    path = thing
    if through_a_link:
        path = tmp_path / "link"
        path.symlink_to(thing)
    with pytest.raises(_files.FileRefused, match="not a regular file") as refused:
        bounded(
            lambda: _files.read_regular(path, limit=1024), fifo=thing if stat.S_ISFIFO(os.stat(thing).st_mode) else None
        )
    assert refused.value.filename == str(path)
    assert "save the data to a file" in str(refused.value)


def test_read_regular_refuses_a_socket_and_dev_zero(unix_socket: Path) -> None:
    with pytest.raises(_files.FileRefused, match="socket"):
        _files.read_regular(unix_socket, limit=10)
    with pytest.raises(_files.FileRefused, match="character device"):
        bounded(lambda: _files.read_regular("/dev/zero", limit=10))


def test_open_regular_refuses_a_fifo_swapped_in_after_the_first_look(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "input"
    path.write_bytes(b"data")
    real_stat = os.stat

    def swapped(target: Any, **kwargs: Any) -> os.stat_result:
        result = real_stat(target, **kwargs)
        if Path(target) == path:
            path.unlink()
            os.mkfifo(path)
        return result

    monkeypatch.setattr(os, "stat", swapped)
    with pytest.raises(_files.FileRefused, match="FIFO"):
        bounded(lambda: _files.open_regular(path), fifo=path)


def test_read_regular_reads_up_to_its_bound(tmp_path: Path) -> None:
    path = tmp_path / "input"
    path.write_bytes(b"x" * 100)
    assert _files.read_regular(path, limit=100) == b"x" * 100
    link = tmp_path / "link"
    link.symlink_to(path)
    assert _files.read_regular(link, limit=100) == b"x" * 100  # a link to a regular file is followed
    with pytest.raises(_files.FileTooLarge, match="larger than 99 bytes") as refused:
        _files.read_regular(path, limit=99)
    assert (refused.value.limit, refused.value.errno) == (99, errno.EFBIG)
    with pytest.raises(FileNotFoundError):
        _files.read_regular(tmp_path / "missing", limit=10)


def test_read_regular_bounds_a_file_whose_size_is_not_told(tmp_path: Path) -> None:
    status = Path("/proc/self/status")
    if not status.is_file():
        pytest.skip("no /proc")
    assert os.stat(status).st_size == 0
    with pytest.raises(_files.FileTooLarge):
        _files.read_regular(status, limit=10)
    assert _files.read_regular(status, limit=1_000_000).startswith(b"Name:")


def test_an_opened_file_reads_blocking(tmp_path: Path) -> None:
    path = tmp_path / "input"
    path.write_bytes(b"data")
    with _files.open_regular(path) as stream:
        assert os.get_blocking(stream.fileno())
        assert stream.read() == b"data"


def test_check_regular(tmp_path: Path) -> None:
    _files.check_regular(tmp_path / "missing")  # SQLite creates it
    (tmp_path / "file").write_bytes(b"")
    _files.check_regular(tmp_path / "file")
    with pytest.raises(_files.FileRefused, match="FIFO"):
        _files.check_regular(make_fifo(tmp_path / "fifo"))

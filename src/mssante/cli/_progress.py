"""The progress of long work (imports, downloads) on standard error, only when it is a terminal.

With the ``cli`` extra (rich), a progress bar; without it, one plain line rewritten in place; when standard
error is not a terminal (a pipe, a file, a test), nothing at all, and the library is given no callback.
The display starts with the first news of progress and ends with the ``with`` block, whatever happens in it.

- :func:`count_progress` gives a ``progress(done)`` callback for counts (rows imported);
- :func:`download_progress` gives a ``progress(received, total)`` callback for downloads: bytes received so far,
  and the length the server declared (None when it declared none). A call with 0 bytes (as a body starts), or
  fewer than the last one, begins a new download: several follow one another under one label (the CRLs of a
  path), each on its own line.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Protocol, TextIO

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

__all__ = ["count_progress", "download_progress", "is_terminal"]

_UNITS = ("B", "kB", "MB", "GB")
_REDRAW = 0.1
"""Seconds between two drawings of rich's download bars (drawn as bytes come, by no thread of their own)."""


def is_terminal(stream: TextIO) -> bool:
    """Whether ``stream`` is a terminal (a closed or odd stream is not)."""
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


def _size(count: float) -> str:
    """A number of bytes for a human: ``512 B``, ``3.4 MB`` (decimal units, as download tools show them)."""
    if count < 1000:
        return f"{count:.0f} B"
    for unit in _UNITS[1:]:
        count /= 1000
        if round(count, 1) < 1000 or unit == _UNITS[-1]:
            break
    return f"{count:.1f} {unit}"


class _Display(Protocol):
    def count(self, done: int) -> None: ...

    def download(self, received: int, total: int | None) -> None: ...

    def close(self) -> None: ...


class _Plain:
    """One line on the stream, rewritten in place (``\\r``); a new line for each new download."""

    def __init__(self, stream: TextIO, label: str, unit: str) -> None:
        self.stream, self.label, self.unit = stream, label, unit
        self.width = 0
        self.received = -1

    def _show(self, text: str) -> None:
        self.stream.write(f"\r{text}{' ' * (self.width - len(text))}")
        self.stream.flush()
        self.width = len(text)

    def count(self, done: int) -> None:
        self._show(f"{self.label}: {done:,} {self.unit}")

    def download(self, received: int, total: int | None) -> None:
        if self.width and (received == 0 or received < self.received):  # the next one: the last keeps its line
            self.stream.write("\n")
            self.width = 0
        self.received = received
        of = f" of {_size(total)}" if total is not None else ""
        self._show(f"{self.label}: {_size(received)}{of}")

    def close(self) -> None:
        if self.width:
            self.stream.write("\n")
            self.stream.flush()


class _Rich:
    """rich's progress bars, on a console over the stream, started with the first news of progress.

    A count is redrawn by rich's own thread, so that its spinner and clock go on while the work that follows
    the last row (building indexes) runs. Download bars are drawn as bytes come (at most every :data:`_REDRAW`
    seconds) and once more at the end: no thread, since they may stay on screen for a whole mail session.
    """

    def __init__(self, stream: TextIO, label: str, unit: str, *, download: bool) -> None:
        from rich import progress as bars  # noqa: PLC0415 (the cli extra, imported only for a terminal)
        from rich.console import Console  # noqa: PLC0415

        columns: tuple[str | bars.ProgressColumn, ...]
        if download:
            columns = (
                bars.TextColumn("{task.description}"),
                bars.BarColumn(),
                bars.DownloadColumn(),
                bars.TransferSpeedColumn(),
                bars.TimeRemainingColumn(),
            )
        else:
            columns = (
                bars.SpinnerColumn(),
                bars.TextColumn("{task.description}"),
                bars.TextColumn(f"{{task.completed:,.0f}} {unit}"),
                bars.TimeElapsedColumn(),
            )
        console = Console(file=stream, force_terminal=True)
        # Nothing but the bars is written through rich: stdout (the JSON answer) is never redirected.
        self.bars: Progress = bars.Progress(
            *columns, console=console, auto_refresh=not download, redirect_stdout=False, redirect_stderr=False
        )
        self.drawn_by_rich = not download
        self.label = label
        self.task: TaskID | None = None
        self.received = -1
        self.started = False
        self.drawn = 0.0

    def _draw(self, *, now: bool = False) -> None:
        moment = time.monotonic()
        if not self.drawn_by_rich and (now or moment - self.drawn >= _REDRAW):
            self.bars.refresh()
            self.drawn = moment

    def _start(self, total: int | None) -> TaskID:
        if not self.started:
            self.bars.start()
            self.started = True
        self.task = self.bars.add_task(self.label, total=total)
        return self.task

    def _finish(self) -> None:
        """The current bar is done: one of unknown length is shown full."""
        if self.task is not None:
            current = self.bars.tasks[-1]
            if current.total is None:
                self.bars.update(current.id, total=current.completed)

    def count(self, done: int) -> None:
        first = self.task is None
        task = self._start(None) if self.task is None else self.task
        self.bars.update(task, completed=done)
        self._draw(now=first)

    def download(self, received: int, total: int | None) -> None:
        new = self.task is None or received == 0 or received < self.received
        if new:  # the next download: a bar of its own
            self._finish()
        task = self._start(total) if new or self.task is None else self.task
        self.received = received
        self.bars.update(task, completed=received, total=total)
        self._draw(now=new)

    def close(self) -> None:
        if self.started:
            self._finish()
            self.bars.stop()


def _display(stream: TextIO, label: str, unit: str, *, download: bool) -> _Display | None:
    """rich's bars when ``stream`` is a terminal and rich is installed, the plain line without rich, else None."""
    if not is_terminal(stream):
        return None
    try:
        return _Rich(stream, label, unit, download=download)
    except ImportError:
        return _Plain(stream, label, unit)


@contextlib.contextmanager
def count_progress(stream: TextIO, label: str, unit: str = "rows") -> Iterator[Callable[[int], None] | None]:
    """A ``progress(done)`` callback showing ``label: N unit`` on ``stream``; None when it is not a terminal."""
    display = _display(stream, label, unit, download=False)
    if display is None:
        yield None
        return
    try:
        yield display.count
    finally:
        display.close()


@contextlib.contextmanager
def download_progress(stream: TextIO, label: str) -> Iterator[Callable[[int, int | None], None] | None]:
    """A ``progress(received, total)`` callback showing downloads on ``stream``; None when it is not a terminal."""
    display = _display(stream, label, "bytes", download=True)
    if display is None:
        yield None
        return
    try:
        yield display.download
    finally:
        display.close()

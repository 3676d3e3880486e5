"""Counting the work a call does: tests bound work by counting it, never by timing it.

A duration depends on the machine and on what else runs on it; a count does not. :func:`spy` records the calls of a
function, :func:`lines_run` counts the lines of Python a call runs, :class:`CountingSequence` the items taken from a
sequence and :class:`WatchedBytes` the bytes Python code reads from a bytes object.
"""

from __future__ import annotations

import gc
import inspect
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from types import FrameType
from typing import TYPE_CHECKING, Any, SupportsIndex, TypeVar, overload

import pytest

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer

T = TypeVar("T")

HANG_GUARD = 60.0
"""Seconds after which a wait that should end at once is taken for a hang: a guard, never a measure."""

Call = tuple[tuple[Any, ...], dict[str, Any]]


def spy(monkeypatch: pytest.MonkeyPatch, owner: object, name: str) -> list[Call]:
    """Replace ``owner.name`` for the test by a function that records the arguments of each call, then makes it.

    ``owner`` is a module or a class; there, a static or class method gives way to a static method that calls it.
    The list returned fills as the calls come.
    """
    original = getattr(owner, name)
    calls: list[Call] = []

    def recording(*args: Any, **kwargs: Any) -> Any:
        calls.append((args, kwargs))
        return original(*args, **kwargs)

    bound = isinstance(owner, type) and isinstance(inspect.getattr_static(owner, name), staticmethod | classmethod)
    monkeypatch.setattr(owner, name, staticmethod(recording) if bound else recording)
    return calls


def lines_run(call: Callable[[], object], *, budget: int = 1_000_000) -> int:
    """How many lines of Python ``call`` runs in this thread, those of every function it calls included.

    Code written in C (a regular expression, a copy) counts for nothing. Past ``budget`` lines counting stops and
    the call runs on untraced: the answer is then ``budget + 1``. The cyclic garbage collector waits until the end,
    so that no finaliser of some earlier object runs (and is counted) at a moment that depends on the allocations.
    """
    count = 0
    home = sys._getframe()

    def line(frame: FrameType, event: str, arg: object) -> Any:
        nonlocal count
        if event != "line":
            return line
        count += 1
        if count <= budget:
            return line
        sys.settrace(None)
        caller: FrameType | None = frame
        while caller is not None and caller is not home:
            caller.f_trace = None
            caller = caller.f_back
        return None

    def frame_entered(frame: FrameType, event: str, arg: object) -> Any:
        return line

    collecting = gc.isenabled()
    gc.collect()
    gc.disable()
    previous = sys.gettrace()
    sys.settrace(frame_entered)
    try:
        call()
    finally:
        sys.settrace(previous)
        if collecting:
            gc.enable()
    return count


class CountingSequence(Sequence[T]):
    """A sequence that counts the items taken from it (by index, slice or iteration) in :attr:`taken`."""

    def __init__(self, items: Iterable[T]) -> None:
        self._items = list(items)
        self.taken = 0

    def __len__(self) -> int:
        return len(self._items)

    @overload
    def __getitem__(self, index: int) -> T: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[T]: ...

    def __getitem__(self, index: int | slice) -> T | Sequence[T]:
        if isinstance(index, slice):
            items = self._items[index]
            self.taken += len(items)
            return items
        self.taken += 1
        return self._items[index]

    def __iter__(self) -> Iterator[T]:
        for item in self._items:
            self.taken += 1
            yield item


class WatchedBytes(bytes):
    """Bytes that count in :attr:`read` how many of them are read: copied, sliced, iterated, searched or decoded.

    Any method of ``bytes`` counts as reading them all. Reads by C code through the buffer protocol are counted
    from Python 3.12 (``__buffer__``); ``len()`` reads nothing.
    """

    read: int

    def __new__(cls, data: bytes) -> WatchedBytes:
        watched = super().__new__(cls, data)
        watched.read = 0
        return watched

    def _reading(self, size: int) -> None:
        object.__setattr__(self, "read", object.__getattribute__(self, "read") + size)

    def __getattribute__(self, name: str) -> Any:
        if not name.startswith("_") and name != "read" and hasattr(bytes, name):
            object.__getattribute__(self, "_reading")(len(self))
        return super().__getattribute__(name)

    def __bytes__(self) -> bytes:
        self._reading(len(self))
        return bytes.__getitem__(self, slice(None))

    def __buffer__(self, flags: int, /) -> memoryview:
        self._reading(len(self))
        return super().__buffer__(flags)

    def __contains__(self, key: SupportsIndex | ReadableBuffer, /) -> bool:  # type: ignore[override]
        self._reading(len(self))
        return super().__contains__(key)

    @overload
    def __getitem__(self, index: SupportsIndex, /) -> int: ...

    @overload
    def __getitem__(self, index: slice, /) -> bytes: ...

    def __getitem__(self, index: SupportsIndex | slice, /) -> int | bytes:
        if isinstance(index, slice):
            part = bytes.__getitem__(self, index)
            self._reading(len(part))
            return part
        self._reading(1)
        return bytes.__getitem__(self, index)

    def __iter__(self) -> Iterator[int]:
        for byte in bytes.__iter__(self):
            self._reading(1)
            yield byte

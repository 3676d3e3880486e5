"""The decoding budget: the bytes one reading may decode, shared by reference by everything that reads for it.

One message is one budget: :func:`mssante.message.parse` makes it from ``MimeLimits.max_decoded_bytes`` and every
byte decoded for the message counts against it: the MIME parts (attached messages at each level), the central
directory of each attached archive (:data:`ENTRY_COST` an entry), and every entry inflated from it, when the message
is read and later, when a package's document is asked for. A reader asks the budget before it decodes: what the
budget cannot cover is never decoded.
"""

from __future__ import annotations

import threading

__all__ = ["ENTRY_COST", "Budget"]

ENTRY_COST = 2 * 1024
"""What one entry of a central directory counts against a budget, in bytes: about what its records take in memory,
so that a budget bounds archives of many empty entries too."""


class Budget:
    """What one reading may still decode, in bytes; give the same object to every reader that reads for it.

    :meth:`take` spends bytes only when they are all left. A budget is shared by reference: the packages of a
    message keep the message's budget, and inflating one of their documents later spends it. It is safe to
    share between threads.
    """

    __slots__ = ("_limit", "_lock", "_spent")

    def __init__(self, limit: int) -> None:
        """A budget of ``limit`` bytes (at least 1), nothing spent."""
        if isinstance(limit, bool) or not isinstance(limit, int):
            raise TypeError(f"limit is an int, not {type(limit).__name__}")
        if limit < 1:
            raise ValueError(f"limit is at least 1 byte, not {limit}")
        self._limit = limit
        self._spent = 0
        self._lock = threading.Lock()

    @property
    def limit(self) -> int:
        """The bytes the reading may decode in all."""
        return self._limit

    @property
    def spent(self) -> int:
        """The bytes decoded so far."""
        return self._spent

    @property
    def left(self) -> int:
        """The bytes that may still be decoded."""
        return self._limit - self._spent

    def take(self, size: int) -> bool:
        """Spend ``size`` bytes and answer True if that many are left; else spend nothing and answer False."""
        if size < 0:
            raise ValueError(f"size is a number of bytes, not {size}")
        with self._lock:
            if self._spent + size > self._limit:
                return False
            self._spent += size
            return True

    def __repr__(self) -> str:
        return f"Budget(limit={self._limit}, spent={self._spent})"

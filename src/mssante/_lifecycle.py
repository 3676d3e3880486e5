"""What every store and index shares: used as a context manager, it is closed when the ``with`` block ends."""

from __future__ import annotations

from types import TracebackType
from typing import TypeVar

__all__ = ["Closing"]

_Closing = TypeVar("_Closing", bound="Closing")


class Closing:
    """A mixin: ``with store:`` gives the store itself and calls its :meth:`close` when the block ends."""

    def close(self) -> None:
        """Release what the object holds."""
        raise NotImplementedError

    def __enter__(self: _Closing) -> _Closing:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

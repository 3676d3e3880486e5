"""Lazy re-exports: a package names what it offers, and a module is imported only when one of its names is used.

A pure package re-exports its I/O shells (which import ``httpx``, ``ssl``, ``smtplib``...) through :func:`lazy`, so
that importing the package loads none of them::

    __getattr__, __dir__ = lazy(__name__, globals(), {"CrlFetcher": "mssante.net"})

The first access to ``CrlFetcher`` imports ``mssante.net`` and keeps the name in the package's globals: later
accesses cost a dictionary look-up. Type checkers see the names through ``if TYPE_CHECKING:`` imports.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy"]


def lazy(
    package: str, namespace: dict[str, Any], names: Mapping[str, str]
) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """A module ``__getattr__`` and ``__dir__`` for ``package``, whose ``names`` map each name to its module."""
    table = dict(names)

    def get_attribute(name: str) -> object:
        module = table.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value
        return value

    def listing() -> list[str]:
        return sorted({*namespace, *table})

    return get_attribute, listing

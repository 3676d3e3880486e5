"""Renamed public names: the old name still works for one minor release, with a :class:`DeprecationWarning`.

A package lists its renamed names and hands the result to its module ``__getattr__``::

    __getattr__ = renamed(__name__, globals(), {"Mailbox": "MailAddress"})

Accessing ``package.Mailbox`` (or ``from package import Mailbox``) warns once per place and returns
``package.MailAddress``. ``fallback`` chains another ``__getattr__`` (the lazy re-exports of :mod:`mssante._lazy`).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["REMOVED_IN", "renamed", "renamed_attribute"]

REMOVED_IN = "0.2.0"
"""The release that drops the old names."""


def renamed(
    package: str,
    namespace: dict[str, Any],
    names: Mapping[str, str],
    *,
    fallback: Callable[[str], object] | None = None,
) -> Callable[[str], object]:
    """A module ``__getattr__`` for ``package`` that maps each old name of ``names`` to its new name, warning."""
    table = dict(names)

    def get_attribute(name: str) -> object:
        new = table.get(name)
        if new is None:
            if fallback is not None:
                return fallback(name)
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        warnings.warn(
            f"{package}.{name} is renamed {package}.{new}; the old name goes in mssante {REMOVED_IN}",
            DeprecationWarning,
            stacklevel=2,
        )
        value = namespace.get(new)
        if value is None:
            if fallback is None:  # pragma: no cover - a table naming what the package does not have
                raise AttributeError(f"module {package!r} has no attribute {new!r}")
            value = fallback(new)
        return value

    return get_attribute


def renamed_attribute(old: str, new: str) -> Any:
    """A property ``old`` that gives attribute ``new`` with a :class:`DeprecationWarning` (``valid = renamed_attribute(
    "valid", "ok")`` in a class body)."""

    def get(instance: object) -> object:
        warnings.warn(
            f"{type(instance).__name__}.{old} is renamed .{new}; the old name goes in mssante {REMOVED_IN}",
            DeprecationWarning,
            stacklevel=2,
        )
        return getattr(instance, new)

    return property(get, doc=f"Deprecated: :attr:`{new}` (the old name goes in mssante {REMOVED_IN}).")

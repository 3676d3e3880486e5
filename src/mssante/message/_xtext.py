"""RFC 3461 xtext, the encoding of a DSN envelope identifier (``ENVID``): ``+XX`` for what is not plain ASCII."""

from __future__ import annotations

import re

__all__ = ["decode_xtext", "encode_xtext"]

_UNSAFE = re.compile(rb"[^!-*,-<>-~]")  # printable ASCII but "+" and "="
_ESCAPE = re.compile(rb"\+([0-9A-Fa-f]{2})")


def encode_xtext(text: str) -> str:
    """``text`` (as UTF-8) in xtext: ``+XX`` for ``+``, ``=``, controls, spaces and non-ASCII bytes."""
    return _UNSAFE.sub(lambda found: f"+{found.group().hex().upper()}".encode("ascii"), text.encode()).decode("ascii")


def decode_xtext(text: str) -> str:
    """The text an xtext value stands for (bytes that are not UTF-8 become U+FFFD)."""
    data = _ESCAPE.sub(lambda found: bytes([int(found.group(1), 16)]), text.encode("utf-8", "surrogateescape"))
    return data.decode("utf-8", errors="replace")

"""Loose input to canonical identifier text: spaces and separators out, upper case, hygiene checked."""

from __future__ import annotations

from mssante.identifiers import codes as _codes
from mssante.report import Finding

MAX_INPUT_LENGTH = 64
"""No identifier is longer than this, separators included; longer input is refused unread."""

_SEPARATORS = frozenset(" \t-.\u00a0\u202f")
_ALLOWED = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz/")


def describe(char: str) -> str:
    """A readable name for a character in a message: ``'x'`` or ``U+0000``."""
    return repr(char) if char.isprintable() and char.isascii() else f"U+{ord(char):04X}"


def normalise(text: str) -> tuple[str, list[Finding]]:
    """Canonical form of a loosely typed identifier, and the hygiene findings if it cannot be one.

    Spaces, tabs, non-breaking spaces, dashes and dots are dropped; letters are upper-cased; a
    slash is kept for the types that use one. Anything else (control characters, NUL, non-ASCII
    look-alikes such as full-width digits) is a finding, not a guess.
    """
    if not isinstance(text, str):
        raise TypeError(f"an identifier is given as str, not {type(text).__name__}")
    if len(text) > MAX_INPUT_LENGTH:
        return "", [
            _codes.TOO_LONG(f"the input has {len(text)} characters; no identifier has more than {MAX_INPUT_LENGTH}")
        ]
    kept: list[str] = []
    for position, char in enumerate(text, start=1):
        if char in _ALLOWED:
            kept.append(char.upper())
        elif char not in _SEPARATORS:
            return "", [
                _codes.BAD_CHARACTER(
                    f"character {describe(char)} at position {position} is not allowed in an identifier",
                    where=f"position {position}",
                )
            ]
    value = "".join(kept)
    if not value:
        return "", [_codes.EMPTY()]
    return value, []

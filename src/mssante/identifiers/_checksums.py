"""The check-key algorithms of French identifiers: Luhn and the INS modulo 97."""

from __future__ import annotations

__all__ = ["ins_key", "luhn_key", "luhn_valid"]

_CORSICA = {"2A": "19", "2B": "18"}


def _luhn_sum(digits: str, *, double_first: bool) -> int:
    total = 0
    double = double_first
    for char in reversed(digits):
        value = ord(char) - 48
        if double:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
        double = not double
    return total


def luhn_valid(digits: str) -> bool:
    """True when the ASCII digit string passes the Luhn check (key included, last)."""
    return _luhn_sum(digits, double_first=False) % 10 == 0


def luhn_key(digits: str) -> str:
    """The Luhn key digit to append to ``digits``."""
    return str(-_luhn_sum(digits, double_first=True) % 10)


def ins_key(body: str) -> str:
    """The two-digit key of a 13-character NIR/NIA body: 97 - (body mod 97).

    The Corsican departments count as numbers before the modulo: ``2A`` as ``19``, ``2B`` as ``18``.
    """
    department = body[5:7]
    if department in _CORSICA:
        body = body[:5] + _CORSICA[department] + body[7:]
    return f"{97 - int(body) % 97:02d}"

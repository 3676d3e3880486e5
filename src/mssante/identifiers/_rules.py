"""Shared judging rules: length, character pattern and Luhn key."""

from __future__ import annotations

import re

from mssante.identifiers import codes as _codes
from mssante.identifiers._checksums import luhn_key, luhn_valid
from mssante.report import Finding

DIGITS = re.compile(r"[0-9]+", re.ASCII)


def shape(value: str, *, label: str, length: int, pattern: re.Pattern[str], what: str) -> list[Finding]:
    """Findings when ``value`` does not have ``length`` characters matching ``pattern`` (``what`` says how)."""
    if len(value) != length:
        return [_codes.BAD_LENGTH(f"a {label} has {length} characters, this one has {len(value)}")]
    if not pattern.fullmatch(value):
        return [_codes.BAD_FORMAT(f"a {label} is {what}")]
    return []


def luhn(value: str, *, label: str) -> list[Finding]:
    """A finding when the last digit of ``value`` is not its Luhn key."""
    if luhn_valid(value):
        return []
    expected = luhn_key(value[:-1])
    return [_codes.BAD_KEY(f"the Luhn key of this {label} should be {expected}, not {value[-1]}", where="key")]


def located(findings: list[Finding], where: str) -> list[Finding]:
    """The findings of a part (the RPPS inside an IdNat_PS, ...), located under ``where``."""
    return [finding.located(where) for finding in findings]

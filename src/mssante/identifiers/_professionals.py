"""Numbers of health professionals: RPPS and ADELI."""

from __future__ import annotations

import re
from typing import ClassVar

import attrs

from mssante.identifiers import _rules
from mssante.identifiers import codes as _codes
from mssante.identifiers._base import Identifier, IdentifierType
from mssante.report import Finding

__all__ = ["Adeli", "Rpps"]

_ADELI = re.compile(r"[0-9][0-9AB][0-9]{7}", re.ASCII)


@attrs.frozen(kw_only=True)
class Rpps(Identifier):
    """An RPPS number: 11 digits, the last a Luhn key (``10000001916``)."""

    TYPE: ClassVar[IdentifierType] = IdentifierType.RPPS

    @classmethod
    def judge(cls, value: str) -> list[Finding]:
        """Findings on an 11-digit RPPS: length, digits, Luhn key."""
        return _rules.shape(value, label="RPPS", length=11, pattern=_rules.DIGITS, what="11 digits") or (
            _rules.luhn(value, label="RPPS")
        )


@attrs.frozen(kw_only=True)
class Adeli(Identifier):
    """An ADELI number: 9 characters (``751012345``; Corsica ``2A``/``2B``).

    ADELI has no published check key, so a well-formed number is accepted with an
    ``MSS-ID-008`` information finding.
    """

    TYPE: ClassVar[IdentifierType] = IdentifierType.ADELI

    @classmethod
    def judge(cls, value: str) -> list[Finding]:
        """Findings on a 9-character ADELI: length and characters (no key exists)."""
        return _rules.shape(
            value,
            label="ADELI number",
            length=9,
            pattern=_ADELI,
            what="9 digits, the second may be A or B (Corsica)",
        ) or [_codes.KEY_NOT_CHECKED("an ADELI number has no check key: only its form was checked")]

"""What every national identifier shares: a canonical value, judged at construction."""

from __future__ import annotations

import enum
from typing import Any, ClassVar, TypeVar

import attrs

from mssante.errors import InvalidIdentifier
from mssante.identifiers._input import normalise
from mssante.report import Finding, Report

__all__ = ["Identifier", "IdentifierType"]


class IdentifierType(str, enum.Enum):
    """The kinds of national identifiers; the value is the name used by the command line."""

    RPPS = "rpps"
    ADELI = "adeli"
    IDNPS = "idnps"
    FINESS = "finess"
    SIREN = "siren"
    SIRET = "siret"
    IDNST = "idnst"
    INS = "ins"

    @property
    def label(self) -> str:
        """The name used in French health IT (``IdNat_PS``, ``FINESS``, ...)."""
        return _LABELS[self]

    def __str__(self) -> str:
        return self.value


_LABELS = {
    IdentifierType.RPPS: "RPPS",
    IdentifierType.ADELI: "ADELI",
    IdentifierType.IDNPS: "IdNat_PS",
    IdentifierType.FINESS: "FINESS",
    IdentifierType.SIREN: "SIREN",
    IdentifierType.SIRET: "SIRET",
    IdentifierType.IDNST: "IdNat_Struct",
    IdentifierType.INS: "INS matricule",
}

_I = TypeVar("_I", bound="Identifier")


def _judged(instance: Identifier, _attribute: Any, value: str) -> None:
    report = Report(findings=type(instance).judge(value), subject=value)
    report.raise_for_errors(InvalidIdentifier, f"{value!r} is not a valid {type(instance).TYPE.label}")


@attrs.frozen(kw_only=True)
class Identifier:
    """A validated national identifier in canonical form; ``str()`` gives that form.

    Build one with ``parse()`` from loose input (spaces, lower case), or with the canonical
    ``value=``; an invalid value raises :class:`~mssante.errors.InvalidIdentifier` carrying the
    report that explains it.
    """

    TYPE: ClassVar[IdentifierType]

    value: str = attrs.field(validator=_judged)

    @classmethod
    def judge(cls, value: str) -> list[Finding]:
        """The findings on a canonical value of this type (no error means valid)."""
        raise NotImplementedError

    @classmethod
    def parse(cls: type[_I], text: str) -> _I:
        """Read loose input: separators dropped, letters upper-cased, then validated."""
        value, findings = normalise(text)
        Report(findings=findings, subject=text[:80]).raise_for_errors(
            InvalidIdentifier, f"{text[:80]!r} is not a valid {cls.TYPE.label}"
        )
        return cls(value=value)

    def __str__(self) -> str:
        return self.value

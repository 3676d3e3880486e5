"""Identifiers of structures: FINESS, SIREN, SIRET and the national IdNat_Struct."""

from __future__ import annotations

import enum
import re
from typing import ClassVar

import attrs

from mssante.identifiers import _rules
from mssante.identifiers import codes as _codes
from mssante.identifiers._base import Identifier, IdentifierType
from mssante.identifiers._professionals import Adeli, Rpps
from mssante.report import Finding

__all__ = ["IDNST_OID", "Finess", "IdNatStruct", "IdNatStructKind", "Siren", "Siret"]

IDNST_OID = "1.2.250.1.71.4.2.2"
"""OID of the national structure identifier (IdNat_Struct), the XON assigning authority."""

_FINESS = re.compile(r"(?:[0-9]{2}|2A|2B)[0-9]{7}", re.ASCII)
_LA_POSTE_SIREN = "356000000"
_LA_POSTE_HEAD_OFFICE = "35600000000048"
_RANK = re.compile(r"[0-9]{1,4}", re.ASCII)


@attrs.frozen(kw_only=True)
class Finess(Identifier):
    """A FINESS number (legal entity or establishment): 9 characters, the last a Luhn key.

    The first two characters are the department; Corsica is ``2A``/``2B``, for which no key
    algorithm is published, so a well-formed Corsican number carries an ``MSS-ID-008`` finding.
    """

    TYPE: ClassVar[IdentifierType] = IdentifierType.FINESS

    @classmethod
    def judge(cls, value: str) -> list[Finding]:
        """Findings on a FINESS: length, department and digits, Luhn key."""
        findings = _rules.shape(
            value,
            label="FINESS number",
            length=9,
            pattern=_FINESS,
            what="9 digits, or 2A/2B (Corsica) then 7 digits",
        )
        if findings:
            return findings
        if not value.isdigit():
            return [_codes.KEY_NOT_CHECKED("the key of a Corsican (2A/2B) FINESS number cannot be checked")]
        return _rules.luhn(value, label="FINESS number")

    @property
    def department(self) -> str:
        """The department part (``54``, ``2A``, ...)."""
        return self.value[:2]


@attrs.frozen(kw_only=True)
class Siren(Identifier):
    """A SIREN number (a legal unit): 9 digits, the last a Luhn key."""

    TYPE: ClassVar[IdentifierType] = IdentifierType.SIREN

    @classmethod
    def judge(cls, value: str) -> list[Finding]:
        """Findings on a SIREN: length, digits, Luhn key."""
        return _rules.shape(value, label="SIREN", length=9, pattern=_rules.DIGITS, what="9 digits") or (
            _rules.luhn(value, label="SIREN")
        )


@attrs.frozen(kw_only=True)
class Siret(Identifier):
    """A SIRET number (an establishment): SIREN + 5-digit NIC, checked by Luhn.

    The SIREN inside must be valid too. La Poste's establishments (SIREN 356000000) are
    numbered beyond what Luhn allows: but for the head office (35600000000048), theirs are
    valid when the sum of the 14 digits is a multiple of 5, whatever Luhn says.
    """

    TYPE: ClassVar[IdentifierType] = IdentifierType.SIRET

    @classmethod
    def judge(cls, value: str) -> list[Finding]:
        """Findings on a SIRET: length, digits, Luhn key and the SIREN inside (La Poste's own rule)."""
        findings = _rules.shape(value, label="SIRET", length=14, pattern=_rules.DIGITS, what="14 digits")
        if findings:
            return findings
        if value.startswith(_LA_POSTE_SIREN) and value != _LA_POSTE_HEAD_OFFICE:
            if sum(map(int, value)) % 5 == 0:
                return [_codes.LA_POSTE_RULE()]
            return [_codes.BAD_KEY("the digits of a La Poste SIRET must add up to a multiple of 5", where="key")]
        return _rules.luhn(value, label="SIRET") or _rules.located(Siren.judge(value[:9]), "siren")

    @property
    def siren(self) -> Siren:
        """The SIREN of the legal unit the establishment belongs to."""
        return Siren(value=self.value[:9])

    @property
    def nic(self) -> str:
        """The establishment's internal number (NIC), the last 5 digits."""
        return self.value[9:]


class IdNatStructKind(str, enum.Enum):
    """What an IdNat_Struct is built on: its type prefix (TRE_G07 TypeIdentifiantStructure)."""

    ADELI_CABINET = "0"
    FINESS = "1"
    SIREN = "2"
    SIRET = "3"
    RPPS_CABINET = "4"


@attrs.frozen(kw_only=True)
class IdNatStruct(Identifier):
    """The national identifier of a structure (IdNat_Struct, OID 1.2.250.1.71.4.2.2).

    A TRE_G07 type prefix then the number: ``1`` + FINESS, ``2`` + SIREN, ``3`` + SIRET (the
    ``OU`` of IGC Santé structure certificates), ``4`` + RPPS + rank of a practice
    (``410005531586003``), ``0`` + ADELI + rank.
    """

    TYPE: ClassVar[IdentifierType] = IdentifierType.IDNST

    @classmethod
    def judge(cls, value: str) -> list[Finding]:
        """Findings on an IdNat_Struct: a known prefix and a valid number behind it."""
        try:
            kind = IdNatStructKind(value[:1])
        except ValueError:
            return [
                _codes.UNKNOWN_PREFIX(
                    "an IdNat_Struct starts with 1 (FINESS), 2 (SIREN), 3 (SIRET), 4 (RPPS practice) or "
                    f"0 (ADELI practice), not {value[:1]!r}",
                    where="prefix",
                )
            ]
        rest = value[1:]
        if kind in _STRUCTURES:
            return _rules.located(_STRUCTURES[kind].judge(rest), kind.name.lower())
        person: type[Identifier] = Rpps if kind is IdNatStructKind.RPPS_CABINET else Adeli
        size = 11 if person is Rpps else 9
        if not _RANK.fullmatch(rest[size:]):
            return [
                _codes.BAD_FORMAT(
                    f"an IdNat_Struct of type {kind.value} is the {person.TYPE.label} number "
                    "then a rank of 1 to 4 digits"
                )
            ]
        return _rules.located(person.judge(rest[:size]), person.TYPE.value)

    @property
    def kind(self) -> IdNatStructKind:
        """The type prefix, as an :class:`IdNatStructKind`."""
        return IdNatStructKind(self.value[0])

    @property
    def number(self) -> str:
        """The identifier after the type prefix."""
        return self.value[1:]

    @property
    def finess(self) -> Finess | None:
        """The FINESS number when this IdNat_Struct is built on one."""
        return Finess(value=self.number) if self.kind is IdNatStructKind.FINESS else None

    @property
    def siren(self) -> Siren | None:
        """The SIREN of the structure when built on a SIREN or a SIRET."""
        if self.kind is IdNatStructKind.SIRET:
            return Siren(value=self.number[:9])
        return Siren(value=self.number) if self.kind is IdNatStructKind.SIREN else None

    @property
    def siret(self) -> Siret | None:
        """The SIRET number when this IdNat_Struct is built on one."""
        return Siret(value=self.number) if self.kind is IdNatStructKind.SIRET else None

    @classmethod
    def of(cls, identifier: Finess | Siren | Siret) -> IdNatStruct:
        """The IdNat_Struct of a FINESS, SIREN or SIRET number."""
        return cls(value=_PREFIXES[type(identifier)] + identifier.value)


_STRUCTURES: dict[IdNatStructKind, type[Identifier]] = {
    IdNatStructKind.FINESS: Finess,
    IdNatStructKind.SIREN: Siren,
    IdNatStructKind.SIRET: Siret,
}
_PREFIXES: dict[type[Identifier], str] = {identifier: kind.value for kind, identifier in _STRUCTURES.items()}

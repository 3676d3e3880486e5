"""The national identifier of a health professional: IdNat_PS."""

from __future__ import annotations

import enum
import re
from typing import ClassVar

import attrs

from mssante.identifiers import _rules
from mssante.identifiers import codes as _codes
from mssante.identifiers._base import Identifier, IdentifierType
from mssante.identifiers._professionals import Adeli, Rpps
from mssante.identifiers._structures import Finess, Siren, Siret
from mssante.report import Finding

__all__ = ["IDNPS_OID", "Idnps", "IdnpsKind"]

IDNPS_OID = "1.2.250.1.71.4.2.1"
"""OID of the national health-professional identifier (IdNat_PS), the XCN assigning authority."""

_LOCAL = re.compile(r"[0-9A-Z]{1,20}", re.ASCII)


class IdnpsKind(str, enum.Enum):
    """What an IdNat_PS is built on: its one-character type prefix."""

    ADELI = "0"
    STAFF_FINESS = "3"
    STAFF_SIREN = "4"
    STAFF_SIRET = "5"
    RPPS = "8"


_STAFF_STRUCTURES: dict[IdnpsKind, type[Identifier]] = {
    IdnpsKind.STAFF_FINESS: Finess,
    IdnpsKind.STAFF_SIREN: Siren,
    IdnpsKind.STAFF_SIRET: Siret,
}


@attrs.frozen(kw_only=True)
class Idnps(Identifier):
    """The national identifier of a health professional (IdNat_PS, OID 1.2.250.1.71.4.2.1).

    A type prefix then the number: ``8`` + RPPS (``810000001916``), ``0`` + ADELI; staff of a
    structure without RPPS/ADELI have ``3`` + FINESS, ``4`` + SIREN or ``5`` + SIRET, then
    ``/`` and the structure's own number for the person.
    """

    TYPE: ClassVar[IdentifierType] = IdentifierType.IDNPS

    @classmethod
    def judge(cls, value: str) -> list[Finding]:
        """Findings on an IdNat_PS: a known prefix and a valid number behind it."""
        try:
            kind = IdnpsKind(value[:1])
        except ValueError:
            return [
                _codes.UNKNOWN_PREFIX(
                    f"an IdNat_PS starts with 8 (RPPS), 0 (ADELI), 3, 4 or 5 (structure staff), not {value[:1]!r}",
                    where="prefix",
                )
            ]
        rest = value[1:]
        if kind is IdnpsKind.RPPS:
            return _rules.located(Rpps.judge(rest), "rpps")
        if kind is IdnpsKind.ADELI:
            return _rules.located(Adeli.judge(rest), "adeli")
        structure, slash, local = rest.partition("/")
        if not slash or not _LOCAL.fullmatch(local):
            return [
                _codes.BAD_FORMAT(
                    "a structure staff IdNat_PS is the structure number, '/', then 1 to 20 letters or digits"
                )
            ]
        return _rules.located(_STAFF_STRUCTURES[kind].judge(structure), "structure")

    @property
    def kind(self) -> IdnpsKind:
        """The type prefix, as a :class:`IdnpsKind`."""
        return IdnpsKind(self.value[0])

    @property
    def number(self) -> str:
        """The identifier after the type prefix."""
        return self.value[1:]

    @property
    def rpps(self) -> Rpps | None:
        """The RPPS number when this IdNat_PS is built on one."""
        return Rpps(value=self.number) if self.kind is IdnpsKind.RPPS else None

    @property
    def adeli(self) -> Adeli | None:
        """The ADELI number when this IdNat_PS is built on one."""
        return Adeli(value=self.number) if self.kind is IdnpsKind.ADELI else None

    @classmethod
    def of(cls, identifier: Rpps | Adeli) -> Idnps:
        """The IdNat_PS of an RPPS (``8`` + RPPS) or ADELI (``0`` + ADELI) number."""
        prefix = IdnpsKind.RPPS if isinstance(identifier, Rpps) else IdnpsKind.ADELI
        return cls(value=prefix.value + identifier.value)

"""What the directory says about a mailbox (BAL): the address, its kind and whose it is."""

from __future__ import annotations

from typing import Any

import attrs

from mssante import _html
from mssante.addresses import MailboxType

__all__ = ["Mailbox", "Person", "Structure"]


@attrs.frozen(kw_only=True)
class Person:
    """The professional a personal mailbox belongs to."""

    rpps: str | None = None
    """The RPPS number (11 digits), when the identifier is an RPPS."""
    idnps: str | None = None
    """The national identifier IdNat_PS (``8`` + RPPS, or ``0`` + ADELI...)."""
    civility: str = ""
    family: str = ""
    given: str = ""
    profession_code: str = ""
    profession: str = ""
    specialty_code: str = ""
    specialty: str = ""
    """The savoir-faire (specialty) code and label."""

    @property
    def name(self) -> str:
        """``Given FAMILY``, as one would write it."""
        return " ".join(part for part in (self.given, self.family) if part)


@attrs.frozen(kw_only=True)
class Structure:
    """The organisation a mailbox is attached to."""

    identifier: str = ""
    """The structure identifier as the source gives it (IdNat_Struct, FINESS...)."""
    identifier_type: str = ""
    name: str = ""
    postcode: str = ""
    city: str = ""
    department: str = ""
    address_lines: tuple[str, ...] = ()


@attrs.frozen(kw_only=True)
class Mailbox:
    """An MSSanté mailbox (BAL) of the national directory."""

    address: str
    type: MailboxType | None = None
    """PER, ORG, APP or CAB; None when the source does not say (some FHIR resources)."""
    description: str = ""
    service: str = ""
    red_list: bool | None = None
    """True when the mailbox must not be published (liste rouge)."""
    digitization: bool | None = None
    """Whether the holder accepts dematerialised exchanges (``Dématérialisation``), when given."""
    person: Person | None = None
    structure: Structure | None = None
    source: str = ""
    """``extraction`` or ``fhir``."""

    def _repr_html_(self) -> str:
        """The address, its kind, the professional and the structure, for notebooks."""
        person, structure = self.person, self.structure
        place = " ".join(part for part in (structure.postcode, structure.city) if part) if structure else None
        return _html.section(
            _html.heading(f"Mailbox {self.address}"),
            _html.definitions(
                [
                    ("type", self.type.value if self.type else None),
                    ("description", self.description),
                    ("service", self.service),
                    ("holder", " ".join(part for part in (person.civility, person.name) if part) if person else None),
                    ("RPPS", person.rpps if person else None),
                    ("IdNat_PS", person.idnps if person else None),
                    ("profession", person.profession or person.profession_code if person else None),
                    ("specialty", person.specialty or person.specialty_code if person else None),
                    ("structure", structure.name if structure else None),
                    ("structure id", structure.identifier if structure else None),
                    ("place", place),
                    ("red list", None if self.red_list is None else "yes" if self.red_list else "no"),
                    ("digitization", None if self.digitization is None else "yes" if self.digitization else "no"),
                    ("source", self.source),
                ]
            ),
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON form of ``mssante directory lookup`` and ``search`` (address, type, rpps, idnps, name...)."""
        return {
            "address": self.address,
            "type": self.type.value if self.type else None,
            "rpps": self.person.rpps if self.person else None,
            "idnps": self.person.idnps if self.person else None,
            "name": self.person.name if self.person else None,
            "profession": self.person.profession if self.person else None,
            "structure": self.structure.name if self.structure else None,
            "structure_id": self.structure.identifier if self.structure else None,
            "postcode": self.structure.postcode if self.structure else None,
            "description": self.description,
            "service": self.service,
            "source": self.source,
        }

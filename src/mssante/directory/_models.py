"""What the directory says about a mailbox (BAL): the address, its kind and whose it is."""

from __future__ import annotations

import re
import types
from collections.abc import Mapping
from typing import Any

import attrs

from mssante import _html
from mssante.addresses import MailboxType

__all__ = [
    "PROFESSIONS",
    "DirectoryMailbox",
    "Person",
    "Structure",
    "commune_department",
    "is_department",
    "postcode_department",
]

PROFESSIONS: Mapping[str, str] = types.MappingProxyType(
    {
        "10": "Médecin",
        "21": "Pharmacien",
        "26": "Audioprothésiste",
        "28": "Opticien-Lunetier",
        "31": "Assistant dentaire",
        "32": "Physicien médical",
        "35": "Aide-soignant",
        "36": "Ambulancier",
        "37": "Auxiliaire de puériculture",
        "38": "Préparateur en pharmacie hospitalière",
        "39": "Préparateur en pharmacie (officine)",
        "40": "Chirurgien-Dentiste",
        "50": "Sage-Femme",
        "60": "Infirmier",
        "69": "Infirmier psychiatrique",
        "70": "Masseur-Kinésithérapeute",
        "80": "Pédicure-Podologue",
        "81": "Orthoprothésiste",
        "82": "Podo-Orthésiste",
        "83": "Orthopédiste-Orthésiste",
        "84": "Oculariste",
        "85": "Epithésiste",
        "86": "Technicien de laboratoire médical",
        "91": "Orthophoniste",
        "92": "Orthoptiste",
        "93": "Psychologue",
        "94": "Ergothérapeute",
        "95": "Diététicien",
        "96": "Psychomotricien",
        "98": "Manipulateur ERM",
    }
)
"""The labels of the health professions (TRE_G15-ProfessionSante), by code: what a record shows when its source
gives the code alone (the FHIR API writes ``qualification`` codings without ``display``)."""

_POSTCODE = re.compile(r"[0-9]{5}", re.ASCII)
_COMMUNE = re.compile(r"(?:[0-9]{2}|2[AB])[0-9]{3}", re.ASCII)
_DEPARTMENT = re.compile(r"0[1-9]|[1-8][0-9]|9[0-5]|2[AB]|97[1-8]|98[6-8]", re.ASCII)
_OVERSEAS_POSTCODES = {"97133": "977", "97150": "978"}  # Saint-Barthélemy and Saint-Martin, in Guadeloupe's range


def postcode_department(postcode: str) -> str:
    """The department a French postcode belongs to, or ``""`` when it names none.

    The first two digits (``75002`` -> ``75``), except in Corsica, where ``200xx`` and ``201xx`` are Corse-du-Sud
    (``2A``) and ``202xx`` to ``206xx`` Haute-Corse (``2B``), and overseas, where the department (or collectivity) is
    the first three digits (``97400`` -> ``974``; ``97133`` Saint-Barthélemy -> ``977``, ``97150`` Saint-Martin ->
    ``978``; ``986``, ``987``, ``988`` in the Pacific). Monaco (``980xx``) and malformed codes give ``""``. A few
    communes near a border have a neighbour's postcode: the commune code (:func:`commune_department`) is exact.
    """
    code = postcode.strip()
    if not _POSTCODE.fullmatch(code) or code.startswith(("00", "96", "99")):
        return ""
    if code.startswith("20"):
        return "2A" if code[2] in "01" else "2B"
    if code.startswith("97"):
        return _OVERSEAS_POSTCODES.get(code, code[:3] if code[2] in "12345678" else "")
    if code.startswith("98"):
        return code[:3] if code[2] in "678" else ""
    return code[:2]


def commune_department(commune: str) -> str:
    """The department of an INSEE commune code (COG: ``54547`` -> ``54``, ``2A004`` -> ``2A``, ``97411`` -> ``974``),
    or ``""`` for what is not a commune code (a country's ``99xxx``, a malformed code)."""
    code = commune.strip().upper()
    if not _COMMUNE.fullmatch(code) or code.startswith(("00", "20", "96", "99")):
        return ""
    department = code[:3] if code.startswith(("97", "98")) else code[:2]
    return department if _DEPARTMENT.fullmatch(department) else ""


def is_department(value: str) -> bool:
    """Whether ``value`` is a department code as :attr:`Structure.department` writes them (``01``-``95``, ``2A``,
    ``2B``, ``971``-``978``, ``986``-``988``)."""
    return bool(_DEPARTMENT.fullmatch(value))


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
    """The profession code (TRE_G15-ProfessionSante: ``10`` médecin, ``60`` infirmier...)."""
    profession: str = ""
    """The profession's label: as the source gives it, else the label of :attr:`profession_code`
    (:data:`PROFESSIONS`)."""
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
    """The department code (``75``, ``2A``, ``974``), ``""`` when the address tells none.

    As the source gives it when it does: the extraction's ``Département structure BAL`` column; for a FHIR
    address, the INSEE commune code (FR Core ``fr-core-address-insee-code``, or ``district`` when it holds one)
    or a ``district`` that is a department code. Otherwise it is **derived from the postcode**
    (:func:`postcode_department`: the first two digits; ``2A``/``2B`` in Corsica, the first three digits
    overseas, ``97133`` and ``97150`` being Saint-Barthélemy ``977`` and Saint-Martin ``978``), which a few
    border communes do not follow.
    """
    address_lines: tuple[str, ...] = ()


@attrs.frozen(kw_only=True)
class DirectoryMailbox:
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

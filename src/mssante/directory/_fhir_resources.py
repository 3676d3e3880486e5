"""A directory resource read into its record: the person, the structure, the references and the mailboxes.

:func:`read_record` reads a parsed ``Practitioner``, ``PractitionerRole`` or ``Organization`` (untrusted JSON,
each value checked for its type) into a :class:`~mssante.directory.Practitioner`,
:class:`~mssante.directory.PractitionerRole` or :class:`~mssante.directory.Organization`; what it cannot use goes
to the findings given.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from mssante.directory import fhir_codes as codes
from mssante.directory._fhir_json import (
    as_dict,
    clean,
    codings_of,
    dicts_of,
    extension_url,
    extensions_of,
    strings_of,
    text_of,
)
from mssante.directory._fhir_mailboxes import mailboxes_of
from mssante.directory._fhir_records import (
    FINESS_SYSTEM,
    IDNPS_SYSTEM,
    IDNST_SYSTEM,
    RPPS_SYSTEMS,
    Organization,
    Practitioner,
    PractitionerRole,
    Resource,
)
from mssante.directory._models import (
    PROFESSIONS,
    Person,
    Structure,
    commune_department,
    is_department,
    postcode_department,
)
from mssante.report import Finding

__all__ = ["read_record"]

_INSEE_CODE_URL = "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-address-insee-code"
_PROFESSION_SYSTEM = "TRE_G15-ProfessionSante"
_SPECIALTY_SYSTEM = "TRE_R38-SpecialiteOrdinale"


def _identifier_kind(identifier: Mapping[str, Any]) -> str:
    """``RPPS``, ``IDNPS``, ``IDNST``, ``FINESS``, or the type code, of an identifier."""
    system = identifier.get("system")
    if system in RPPS_SYSTEMS:
        return "RPPS"
    if system == IDNPS_SYSTEM:
        return "IDNPS"
    if system == IDNST_SYSTEM:
        return "IDNST"
    if system == FINESS_SYSTEM:
        return "FINESS"
    for coding in codings_of(identifier.get("type")):
        if isinstance(coding.get("code"), str):
            return clean(str(coding["code"]), 20)
    return ""


def _identifiers(resource: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``(kind, value)`` of each identifier with a value, in order."""
    found = []
    for identifier in dicts_of(resource.get("identifier")):
        value = text_of(identifier.get("value"), 64)
        if value:
            found.append((_identifier_kind(identifier), value))
    return found


def _first(pairs: Iterable[tuple[str, str]], kind: str) -> str:
    return next((value for found, value in pairs if found == kind), "")


def _name(resource: Mapping[str, Any]) -> dict[str, Any]:
    names = dicts_of(resource.get("name"))
    for use in ("official", "usual"):
        for name in names:
            if name.get("use") == use:
                return name
    return names[0] if names else {}


def _qualifications(resource: Mapping[str, Any]) -> dict[str, str]:
    found: dict[str, str] = {}
    for qualification in dicts_of(resource.get("qualification")):
        for coding in codings_of(qualification.get("code")):
            system, code = str(coding.get("system", "")), text_of(coding.get("code"), 40)
            for marker, key in ((_PROFESSION_SYSTEM, "profession"), (_SPECIALTY_SYSTEM, "specialty")):
                if code and marker in system and f"{key}_code" not in found:
                    found[f"{key}_code"], found[key] = code, text_of(coding.get("display"), 200)
    if found.get("profession_code") and not found.get("profession"):  # the API writes the code alone
        found["profession"] = PROFESSIONS.get(found["profession_code"], "")
    return found


def _person(resource: Mapping[str, Any]) -> Person:
    identifiers = _identifiers(resource)
    rpps, idnps = _first(identifiers, "RPPS"), _first(identifiers, "IDNPS")
    if not rpps and len(idnps) == 12 and idnps.startswith("8") and idnps.isdigit():
        rpps = idnps[1:]
    name = _name(resource)
    prefixes = strings_of(name.get("prefix"))
    return Person(
        rpps=rpps or None,
        idnps=idnps or None,
        civility=prefixes[0] if prefixes else "",
        family=text_of(name.get("family"), 200),
        given=" ".join(part for part in strings_of(name.get("given")) if part),
        **_qualifications(resource),
    )


def _insee_code(address: Mapping[str, Any]) -> str:
    """The INSEE commune code of the FR Core extension of an address, or ``""``."""
    for extension in extensions_of(address):
        if extension_url(extension) == _INSEE_CODE_URL:
            return text_of(as_dict(extension.get("valueCoding")).get("code"), 10)
    return ""


def _department(address: Mapping[str, Any], postcode: str, findings: list[Finding], where: str) -> str:
    """The department of an address: from its commune code, else its postcode, else a district that is one.

    FR Core writes the INSEE commune code in an extension, and in ``district`` (a COG code of commune or
    country); plain FHIR's ``district`` is a county, a department in France. The postcode stays on the structure;
    a commune code or a district that names no department, or a district that names another department than the
    one kept, would be lost: ``MSS-FHIR-019`` says so.
    """
    commune, district = _insee_code(address), text_of(address.get("district"), 40)
    from_district = commune_department(district) or (district.upper() if is_department(district.upper()) else "")
    candidates = [  # most exact first: the commune code, the district when it is one, the postcode, the district
        ("the commune code", commune_department(commune)),
        ("the district", commune_department(district)),
        ("the postcode", postcode_department(postcode)),
        ("the district", from_district),
    ]
    source, chosen = next(((what, found) for what, found in candidates if found), ("", ""))
    lost = []
    if commune and not commune_department(commune):
        lost.append(f"the commune code {commune!r} names no department")
    if district and not from_district and not district.startswith("99"):  # 99xxx: a COG country (99100 France)
        lost.append(f"the district {district!r} names no department")
    elif from_district and from_district != chosen:
        lost.append(f"the district {district!r} names {from_district}")
    if lost:
        kept = f"the department kept is {chosen}, from {source}" if chosen else "no department is kept"
        findings.append(codes.DEPARTMENT_CONFLICT(f"{kept}; {', '.join(lost)}", where=f"{where}.address[0]"))
    return chosen


def _structure(resource: Mapping[str, Any], findings: list[Finding], where: str) -> tuple[Structure, str, str]:
    identifiers = _identifiers(resource)
    idnst, finess = _first(identifiers, "IDNST"), _first(identifiers, "FINESS")
    identifier, kind = (idnst, "IDNST") if idnst else (finess, "FINESS") if finess else ("", "")
    if not identifier and identifiers:
        kind, identifier = identifiers[0]
    addresses = dicts_of(resource.get("address"))
    address = addresses[0] if addresses else {}
    postcode = text_of(address.get("postalCode"), 20)
    structure = Structure(
        identifier=identifier,
        identifier_type=kind,
        name=text_of(resource.get("name"), 300),
        postcode=postcode,
        city=text_of(address.get("city"), 200),
        department=_department(address, postcode, findings, where) if address else "",
        address_lines=tuple(line for line in strings_of(address.get("line")) if line),
    )
    return structure, idnst, finess


_REFERENCE = re.compile(r"(?:.*/)?(Practitioner|Organization)/([A-Za-z0-9\-.]{1,64})(?:/_history/.*)?", re.ASCII)


def _reference(value: object) -> str:
    """``Type/id`` of a reference (relative or absolute, with or without ``_history``), or ``""``."""
    reference = as_dict(value).get("reference")
    if not isinstance(reference, str):
        return ""
    match = _REFERENCE.fullmatch(reference)
    return f"{match[1]}/{match[2]}" if match else ""


def _active(resource: Mapping[str, Any]) -> bool | None:
    active = resource.get("active")
    return active if isinstance(active, bool) else None


def read_record(resource: Mapping[str, Any], findings: list[Finding], where: str) -> Resource | None:
    """The record of a Practitioner, PractitionerRole or Organization; None for any other resource."""
    kind = resource.get("resourceType")
    rid = text_of(resource.get("id"), 64)
    active = _active(resource)
    if kind == "Practitioner":
        person = _person(resource)
        found = [attrs.evolve(mailbox, person=person) for mailbox in mailboxes_of(resource, findings, where)]
        return Practitioner(id=rid, active=active, person=person, mailboxes=tuple(found))
    if kind == "PractitionerRole":
        return PractitionerRole(
            id=rid,
            active=active,
            practitioner=_reference(resource.get("practitioner")),
            organization=_reference(resource.get("organization")),
            mailboxes=tuple(mailboxes_of(resource, findings, where)),
        )
    if kind == "Organization":
        structure, idnst, finess = _structure(resource, findings, where)
        found = [attrs.evolve(mailbox, structure=structure) for mailbox in mailboxes_of(resource, findings, where)]
        return Organization(
            id=rid, active=active, structure=structure, idnst=idnst, finess=finess, mailboxes=tuple(found)
        )
    return None

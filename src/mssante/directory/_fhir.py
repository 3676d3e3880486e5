"""The directory's FHIR API without I/O: search queries, answers read into mailboxes, errors.

- :class:`Query` is a search on ``Practitioner``, ``PractitionerRole`` or ``Organization`` with the v2
  parameters of the Annuaire Santé (checked against the server's CapabilityStatement), and gives the request
  parameters (:meth:`Query.to_params`).
- :func:`parse_bundle` reads a searchset page (bounded, untrusted JSON) into light records
  (:class:`Practitioner`, :class:`PractitionerRole`, :class:`Organization`), the ``next`` link and the
  :class:`~mssante.directory.Mailbox` values they carry.
- :func:`error_for_status` turns an HTTP error answer (an ``OperationOutcome``, or a gateway page) into a
  :class:`DirectoryFailure` subclass.

A mailbox (BAL) is a ``telecom`` with ``system=email`` and the FR Core e-mail type ``MSSANTE``; a plain contact
e-mail is not one. A telecom that carries the ``as-ext-mailbox-mss-metadata`` extension without the e-mail type
(as in the examples of the draft MSSanté IG) is read as a mailbox too; one whose e-mail type is not ``MSSANTE``
never is. The legacy (v1) resource-level ``MailboxMSS`` extension is read as well.
"""

from __future__ import annotations

import enum
import json
import re
import urllib.parse
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any, Literal, TypeAlias

import attrs

from mssante.addresses import Address, MailboxType, check
from mssante.directory import _fhir_codes as codes
from mssante.directory._models import (
    PROFESSIONS,
    Mailbox,
    Person,
    Structure,
    commune_department,
    is_department,
    postcode_department,
)
from mssante.errors import DirectoryError
from mssante.identifiers import Finess, Idnps, Rpps
from mssante.report import Code, Finding, Report, Severity, define_code

__all__ = [
    "API_KEY_PORTAL",
    "BASE_URL",
    "FINESS_SYSTEM",
    "IDNPS_SYSTEM",
    "IDNST_SYSTEM",
    "MAX_COUNT",
    "MAX_ERROR_BYTES",
    "MAX_LINK_LENGTH",
    "MAX_PAGE_BYTES",
    "RPPS_SYSTEMS",
    "DirectoryAuthError",
    "DirectoryBadRequest",
    "DirectoryFailure",
    "DirectoryNotFound",
    "DirectoryRateLimited",
    "DirectoryResponseError",
    "DirectoryUnavailable",
    "Modifier",
    "Organization",
    "Page",
    "Practitioner",
    "PractitionerRole",
    "Query",
    "Resource",
    "ResourceType",
    "error_for_status",
    "merge_mailboxes",
    "outcome_diagnostics",
    "page_mailboxes",
    "parse_bundle",
    "parse_resource",
    "read_bundle",
    "read_json",
    "read_resource",
    "same_origin",
]

BASE_URL = "https://gateway.api.esante.gouv.fr/fhir/v2"
"""The v2 FHIR API of the Annuaire Santé (production: there is no sandbox)."""

API_KEY_PORTAL = "https://portal.api.esante.gouv.fr"
"""Where an API key is had: an application subscribed to the API "API Annuaire Santé en libre accès"."""

MAX_COUNT = 200
"""The largest page (``_count``) asked for: the limit ANS asks clients to keep to."""

MAX_PAGE_BYTES = 32 * 1024 * 1024
"""The largest page body read (a page of 200 full resources is about 1 MB)."""

MAX_ERROR_BYTES = 256 * 1024
"""The largest error body read for its diagnostics."""

MAX_LINK_LENGTH = 8192
"""The longest ``next`` link followed (the v2 ones are about 900 characters)."""

RPPS_SYSTEMS = ("https://rpps.esante.gouv.fr", "http://rpps.fr")
"""Identifier systems of RPPS numbers: v2 (IG 1.x), and the v1 one still seen in answers."""

IDNPS_SYSTEM = "urn:oid:1.2.250.1.71.4.2.1"
"""Identifier system of the IdNat_PS (``8`` + RPPS, ...)."""

IDNST_SYSTEM = "urn:oid:1.2.250.1.71.4.2.2"
"""Identifier system of the IdNat_Struct (``1`` + FINESS, ...)."""

FINESS_SYSTEM = "https://finess.esante.gouv.fr"
"""Identifier system of FINESS numbers."""

_EMAIL_TYPE_URL = "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-contact-point-email-type"
_METADATA_URL = "https://interop.esante.gouv.fr/ig/fhir/annuaire/StructureDefinition/as-ext-mailbox-mss-metadata"
_V1_MAILBOX_URLS = frozenset(
    {
        "https://annuaire.sante.gouv.fr/fhir/StructureDefinition/MailboxMSS",
        "https://apifhir.annuaire.sante.fr/ws-sync/exposed/structuredefinition/mailboxMSS",
    }
)
_INSEE_CODE_URL = "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-address-insee-code"
_MSSANTE = "MSSANTE"
_TYPE_BAL_SYSTEM = "TRE_R257-TypeBAL"
_PROFESSION_SYSTEM = "TRE_G15-ProfessionSante"
_SPECIALTY_SYSTEM = "TRE_R38-SpecialiteOrdinale"
_MAX_TEXT = 1000
_MAX_DIAGNOSTICS = 10
_MAX_DIAGNOSTIC_LENGTH = 500

# Declared here rather than in _fhir_codes: the MSS-FHIR area goes on.
DEPARTMENT_CONFLICT = define_code(
    "MSS-FHIR-019",
    Severity.WARNING,
    "an address's district (or commune code) names no department, or another one than the department kept (the "
    "commune code's, else the postcode's, else the district's): that value is not kept",
)


# --- errors ------------------------------------------------------------------------------------------------------


class DirectoryFailure(DirectoryError):
    """A request to the directory failed; the report holds the finding (``MSS-FHIR-*``) that says why.

    ``status`` is the HTTP status (None when there was no answer), ``diagnostics`` what the directory said
    (``OperationOutcome`` issues or a gateway message, bounded and printable), ``url`` what was asked.
    """

    def __init__(
        self,
        message: str,
        *,
        report: Report | None = None,
        status: int | None = None,
        diagnostics: tuple[str, ...] = (),
        url: str = "",
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.report = report if report is not None else Report()
        self.status = status
        self.diagnostics = diagnostics
        self.url = url
        self.retry_after = retry_after

    @property
    def code(self) -> str:
        """The code of the first finding (``MSS-FHIR-011``...), or an empty string."""
        return self.report.findings[0].code if self.report.findings else ""


class DirectoryAuthError(DirectoryFailure):
    """No API key, or the directory refused it (HTTP 401 or 403)."""


class DirectoryNotFound(DirectoryFailure):
    """The directory answered 404 Not Found."""


class DirectoryBadRequest(DirectoryFailure):
    """The directory refused the request (400, 410, 412, ...): ``diagnostics`` say why."""


class DirectoryRateLimited(DirectoryFailure):
    """The directory still answered 429 Too Many Requests after the retries; ``retry_after`` when it said."""


class DirectoryUnavailable(DirectoryFailure):
    """The directory could not be reached, timed out or answered a server error, after the retries."""


class DirectoryResponseError(DirectoryFailure):
    """The directory's answer cannot be used: not JSON, too large, not a Bundle, a ``next`` link elsewhere."""


def _fail(
    kind: type[DirectoryFailure],
    code: Code,
    message: str,
    *,
    status: int | None = None,
    diagnostics: tuple[str, ...] = (),
    url: str = "",
    retry_after: float | None = None,
) -> DirectoryFailure:
    report = Report(findings=[code(message, where=url)], subject=url)
    return kind(message, report=report, status=status, diagnostics=diagnostics, url=url, retry_after=retry_after)


# --- reading untrusted JSON --------------------------------------------------------------------------------------


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not a JSON number")


def read_json(body: bytes, *, max_bytes: int = MAX_PAGE_BYTES, url: str = "") -> object:
    """The JSON value of an untrusted body of at most ``max_bytes`` (UTF-8, BOM allowed).

    Raises :class:`DirectoryResponseError` (``MSS-FHIR-001``/``002``) on anything else: too large, not UTF-8,
    malformed, nested too deep, numbers too long, ``NaN``.
    """
    if len(body) > max_bytes:
        raise _fail(
            DirectoryResponseError,
            codes.TOO_LARGE,
            f"the body has {len(body)} bytes, over the limit of {max_bytes}",
            url=url,
        )
    try:
        text = bytes(body).decode("utf-8-sig")
        return json.loads(text, parse_constant=_refuse_constant)
    except RecursionError:
        reason = "it is nested too deep"
    except ValueError as error:  # UnicodeDecodeError, JSONDecodeError, too many digits
        reason = _clean(str(error), 200)
    raise _fail(DirectoryResponseError, codes.NOT_JSON, f"the body is not JSON: {reason}", url=url)


def _clean(value: str, limit: int = _MAX_TEXT) -> str:
    """Untrusted text made safe to show and log: printable characters only, trimmed and bounded."""
    text = value[: limit * 2]
    if not text.isprintable():
        text = "".join(char if char.isprintable() else " " for char in text)
    return text.strip()[:limit]


def _text(value: object, limit: int = _MAX_TEXT) -> str:
    return _clean(value, limit) if isinstance(value, str) else ""


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _dicts(value: object) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _extensions(element: Mapping[str, Any]) -> list[dict[str, Any]]:
    return _dicts(element.get("extension"))


def _url(extension: Mapping[str, Any]) -> str:
    url = extension.get("url")
    return url.partition("|")[0] if isinstance(url, str) else ""


def _codings(concept: object) -> list[dict[str, Any]]:
    return _dicts(_dict(concept).get("coding"))


# --- records -----------------------------------------------------------------------------------------------------


class ResourceType(str, enum.Enum):
    """The resources searched for mailboxes."""

    PRACTITIONER = "Practitioner"
    PRACTITIONER_ROLE = "PractitionerRole"
    ORGANIZATION = "Organization"

    def __str__(self) -> str:
        return self.value


@attrs.frozen(kw_only=True)
class Practitioner:
    """A ``Practitioner`` of the directory: the person and the mailboxes on the resource.

    The RPPS is read from the ``https://rpps.esante.gouv.fr`` or ``http://rpps.fr`` identifier, or else from an
    IdNat_PS ``8`` + RPPS. Identifiers are kept as the directory gives them (their keys are not checked).
    """

    id: str = ""
    active: bool | None = None
    person: Person
    mailboxes: tuple[Mailbox, ...] = ()

    @property
    def reference(self) -> str:
        """``Practitioner/<id>``, as references name it."""
        return f"Practitioner/{self.id}"


@attrs.frozen(kw_only=True)
class PractitionerRole:
    """A ``PractitionerRole`` (situation d'exercice): its references and the mailboxes on the resource."""

    id: str = ""
    active: bool | None = None
    practitioner: str = ""
    """The reference to the practitioner, ``Practitioner/<id>`` (empty when absent)."""
    organization: str = ""
    """The reference to the organisation, ``Organization/<id>`` (empty when absent)."""
    mailboxes: tuple[Mailbox, ...] = ()

    @property
    def reference(self) -> str:
        """``PractitionerRole/<id>``."""
        return f"PractitionerRole/{self.id}"


@attrs.frozen(kw_only=True)
class Organization:
    """An ``Organization`` of the directory: the structure, its identifiers and its mailboxes."""

    id: str = ""
    active: bool | None = None
    structure: Structure
    idnst: str = ""
    """The IdNat_Struct (``urn:oid:1.2.250.1.71.4.2.2``), when given."""
    finess: str = ""
    """The FINESS number (``https://finess.esante.gouv.fr``), when given."""
    mailboxes: tuple[Mailbox, ...] = ()

    @property
    def reference(self) -> str:
        """``Organization/<id>``."""
        return f"Organization/{self.id}"


Resource: TypeAlias = Practitioner | PractitionerRole | Organization


@attrs.frozen(kw_only=True)
class Page:
    """One page of search results: the records, the ``next`` link, the total when given, and a report.

    The report has the warnings on what was skipped (malformed entries, invalid addresses...).
    """

    resources: tuple[Resource, ...] = ()
    total: int | None = None
    next: str | None = None
    report: Report = attrs.Factory(Report)

    @property
    def mailboxes(self) -> tuple[Mailbox, ...]:
        """The page's mailboxes, one per address, with the person and structure the page tells.

        A role's mailboxes get the person and structure of the practitioner and organisation it references
        when they are on the page (``_include``/``_revinclude``); mailboxes seen on several resources are merged.
        """
        return page_mailboxes(self.resources)


def page_mailboxes(resources: Iterable[Resource]) -> tuple[Mailbox, ...]:
    """The mailboxes of ``resources``, roles' ones completed from the practitioners and organisations given."""
    records = tuple(resources)
    people = {r.reference: r.person for r in records if isinstance(r, Practitioner) and r.id}
    structures = {r.reference: r.structure for r in records if isinstance(r, Organization) and r.id}
    found: list[Mailbox] = []
    for record in records:
        if isinstance(record, PractitionerRole):
            person, structure = people.get(record.practitioner), structures.get(record.organization)
            found.extend(
                attrs.evolve(mailbox, person=mailbox.person or person, structure=mailbox.structure or structure)
                for mailbox in record.mailboxes
            )
        else:
            found.extend(record.mailboxes)
    return merge_mailboxes(found)


def _combine(first: Mailbox, other: Mailbox) -> Mailbox:
    return attrs.evolve(
        first,
        type=first.type or other.type,
        description=first.description or other.description,
        service=first.service or other.service,
        red_list=first.red_list if first.red_list is not None else other.red_list,
        digitization=first.digitization if first.digitization is not None else other.digitization,
        person=first.person or other.person,
        structure=first.structure or other.structure,
    )


def merge_mailboxes(mailboxes: Iterable[Mailbox]) -> tuple[Mailbox, ...]:
    """One mailbox per address (compared without case), in first-seen order, each completed from the others."""
    merged: dict[str, Mailbox] = {}
    for mailbox in mailboxes:
        key = mailbox.address.lower()
        merged[key] = _combine(merged[key], mailbox) if key in merged else mailbox
    return tuple(merged.values())


# --- mailboxes ---------------------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class _Metadata:
    value: str = ""
    type: MailboxType | None = None
    description: str = ""
    service: str = ""
    red_list: bool | None = None
    digitization: bool | None = None


_TRUE, _FALSE = frozenset({"true", "o", "oui", "1"}), frozenset({"false", "n", "non", "0"})


def _boolean(extension: Mapping[str, Any], findings: list[Finding], where: str) -> bool | None:
    value = extension.get("valueBoolean", extension.get("valueString"))
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    findings.append(codes.BAD_METADATA(f"{_url(extension)!r} is not a boolean", where=where))
    return None


def _string(extension: Mapping[str, Any], findings: list[Finding], where: str) -> str:
    value = extension.get("valueString")
    if isinstance(value, str):
        return _clean(value)
    findings.append(codes.BAD_METADATA(f"{_url(extension)!r} is not a string", where=where))
    return ""


def _type_code(extension: Mapping[str, Any]) -> str | None:
    """The type code of a ``type`` sub-extension: CodeableConcept (TRE_R257 first), Coding, code or string."""
    codings = _codings(extension.get("valueCodeableConcept"))
    codings.sort(key=lambda coding: _TYPE_BAL_SYSTEM not in str(coding.get("system", "")))
    if "valueCoding" in extension:
        codings.append(_dict(extension["valueCoding"]))
    for coding in codings:
        if isinstance(coding.get("code"), str):
            return str(coding["code"])
    for key in ("valueCode", "valueString"):
        if isinstance(extension.get(key), str):
            return str(extension[key])
    return None


def _mailbox_type(extension: Mapping[str, Any], findings: list[Finding], where: str) -> MailboxType | None:
    code = _type_code(extension)
    if code is None:
        findings.append(codes.BAD_METADATA("the mailbox type has no code", where=where))
        return None
    try:
        return MailboxType(code.strip().upper())
    except ValueError:
        findings.append(codes.UNKNOWN_TYPE(f"the mailbox type {_clean(code, 40)!r} is unknown", where=where))
        return None


def _metadata(extension: Mapping[str, Any], findings: list[Finding], where: str) -> _Metadata:
    """The sub-extensions of ``as-ext-mailbox-mss-metadata`` (v2) or ``MailboxMSS`` (v1)."""
    fields: dict[str, Any] = {}
    for sub in _extensions(extension):
        name = _url(sub)
        if name in fields:
            continue
        if name == "value":
            fields["value"] = _string(sub, findings, where)
        elif name == "type":
            fields["type"] = _mailbox_type(sub, findings, where)
        elif name in ("description", "service"):
            fields[name] = _string(sub, findings, where)
        elif name == "listeRouge":
            fields["red_list"] = _boolean(sub, findings, where)
        elif name == "digitization":
            fields["digitization"] = _boolean(sub, findings, where)
    return _Metadata(**fields)


def _address(value: object, findings: list[Finding], where: str) -> str | None:
    """The canonical form of a mailbox address, or None (with a finding) when it is not a valid address."""
    if not isinstance(value, str):
        findings.append(codes.BAD_ADDRESS("the telecom value is not a string", where=where))
        return None
    result = check(value)
    if result.address is None:
        reason = result.report.errors[0].message if result.report.errors else "invalid"
        findings.append(codes.BAD_ADDRESS(f"{_clean(value, 120)!r}: {reason}", where=where))
        return None
    return str(result.address)


def _mailbox(address: str, metadata: _Metadata) -> Mailbox:
    return Mailbox(
        address=address,
        type=metadata.type,
        description=metadata.description,
        service=metadata.service,
        red_list=metadata.red_list,
        digitization=metadata.digitization,
        source="fhir",
    )


def _telecom_mailbox(telecom: Mapping[str, Any], findings: list[Finding], where: str) -> Mailbox | None:
    """The mailbox of one telecom, or None for any other contact point (phone, plain e-mail...)."""
    if telecom.get("system") != "email":
        return None
    email_type, metadata = None, None
    for extension in _extensions(telecom):
        url = _url(extension)
        if url == _EMAIL_TYPE_URL and email_type is None:
            email_type = extension
        elif url == _METADATA_URL and metadata is None:
            metadata = extension
    if email_type is not None:
        if _dict(email_type.get("valueCoding")).get("code") != _MSSANTE:
            return None
    elif metadata is None:
        return None
    address = _address(telecom.get("value"), findings, where)
    if address is None:
        return None
    return _mailbox(address, _metadata(metadata, findings, where) if metadata is not None else _Metadata())


def _mailboxes(resource: Mapping[str, Any], findings: list[Finding], where: str) -> list[Mailbox]:
    """The mailboxes of a resource: MSSanté telecoms (v2), then v1 ``MailboxMSS`` extensions."""
    found: list[Mailbox] = []
    for index, telecom in enumerate(_dicts(resource.get("telecom"))):
        mailbox = _telecom_mailbox(telecom, findings, f"{where}.telecom[{index}]")
        if mailbox is not None:
            found.append(mailbox)
    for index, extension in enumerate(_extensions(resource)):
        if _url(extension) in _V1_MAILBOX_URLS:
            at = f"{where}.extension[{index}]"
            metadata = _metadata(extension, findings, at)
            address = _address(metadata.value, findings, at)
            if address is not None:
                found.append(_mailbox(address, metadata))
    return found


# --- resources ---------------------------------------------------------------------------------------------------


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
    for coding in _codings(identifier.get("type")):
        if isinstance(coding.get("code"), str):
            return _clean(str(coding["code"]), 20)
    return ""


def _identifiers(resource: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``(kind, value)`` of each identifier with a value, in order."""
    found = []
    for identifier in _dicts(resource.get("identifier")):
        value = _text(identifier.get("value"), 64)
        if value:
            found.append((_identifier_kind(identifier), value))
    return found


def _first(pairs: Iterable[tuple[str, str]], kind: str) -> str:
    return next((value for found, value in pairs if found == kind), "")


def _name(resource: Mapping[str, Any]) -> dict[str, Any]:
    names = _dicts(resource.get("name"))
    for use in ("official", "usual"):
        for name in names:
            if name.get("use") == use:
                return name
    return names[0] if names else {}


def _strings(value: object) -> list[str]:
    return [_clean(item, 200) for item in value if isinstance(item, str)] if isinstance(value, list) else []


def _qualifications(resource: Mapping[str, Any]) -> dict[str, str]:
    found: dict[str, str] = {}
    for qualification in _dicts(resource.get("qualification")):
        for coding in _codings(qualification.get("code")):
            system, code = str(coding.get("system", "")), _text(coding.get("code"), 40)
            for marker, key in ((_PROFESSION_SYSTEM, "profession"), (_SPECIALTY_SYSTEM, "specialty")):
                if code and marker in system and f"{key}_code" not in found:
                    found[f"{key}_code"], found[key] = code, _text(coding.get("display"), 200)
    if found.get("profession_code") and not found.get("profession"):  # the API writes the code alone
        found["profession"] = PROFESSIONS.get(found["profession_code"], "")
    return found


def _person(resource: Mapping[str, Any]) -> Person:
    identifiers = _identifiers(resource)
    rpps, idnps = _first(identifiers, "RPPS"), _first(identifiers, "IDNPS")
    if not rpps and len(idnps) == 12 and idnps.startswith("8") and idnps.isdigit():
        rpps = idnps[1:]
    name = _name(resource)
    prefixes = _strings(name.get("prefix"))
    return Person(
        rpps=rpps or None,
        idnps=idnps or None,
        civility=prefixes[0] if prefixes else "",
        family=_text(name.get("family"), 200),
        given=" ".join(part for part in _strings(name.get("given")) if part),
        **_qualifications(resource),
    )


def _insee_code(address: Mapping[str, Any]) -> str:
    """The INSEE commune code of the FR Core extension of an address, or ``""``."""
    for extension in _extensions(address):
        if _url(extension) == _INSEE_CODE_URL:
            return _text(_dict(extension.get("valueCoding")).get("code"), 10)
    return ""


def _department(address: Mapping[str, Any], postcode: str, findings: list[Finding], where: str) -> str:
    """The department of an address: from its commune code, else its postcode, else a district that is one.

    FR Core writes the INSEE commune code in an extension, and in ``district`` (a COG code of commune or
    country); plain FHIR's ``district`` is a county, a department in France. The postcode stays on the structure;
    a commune code or a district that names no department, or a district that names another department than the
    one kept, would be lost: ``MSS-FHIR-019`` says so.
    """
    commune, district = _insee_code(address), _text(address.get("district"), 40)
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
        findings.append(DEPARTMENT_CONFLICT(f"{kept}; {', '.join(lost)}", where=f"{where}.address[0]"))
    return chosen


def _structure(resource: Mapping[str, Any], findings: list[Finding], where: str) -> tuple[Structure, str, str]:
    identifiers = _identifiers(resource)
    idnst, finess = _first(identifiers, "IDNST"), _first(identifiers, "FINESS")
    identifier, kind = (idnst, "IDNST") if idnst else (finess, "FINESS") if finess else ("", "")
    if not identifier and identifiers:
        kind, identifier = identifiers[0]
    addresses = _dicts(resource.get("address"))
    address = addresses[0] if addresses else {}
    postcode = _text(address.get("postalCode"), 20)
    structure = Structure(
        identifier=identifier,
        identifier_type=kind,
        name=_text(resource.get("name"), 300),
        postcode=postcode,
        city=_text(address.get("city"), 200),
        department=_department(address, postcode, findings, where) if address else "",
        address_lines=tuple(line for line in _strings(address.get("line")) if line),
    )
    return structure, idnst, finess


_REFERENCE = re.compile(r"(?:.*/)?(Practitioner|Organization)/([A-Za-z0-9\-.]{1,64})(?:/_history/.*)?", re.ASCII)


def _reference(value: object) -> str:
    """``Type/id`` of a reference (relative or absolute, with or without ``_history``), or ``""``."""
    reference = _dict(value).get("reference")
    if not isinstance(reference, str):
        return ""
    match = _REFERENCE.fullmatch(reference)
    return f"{match[1]}/{match[2]}" if match else ""


def _active(resource: Mapping[str, Any]) -> bool | None:
    active = resource.get("active")
    return active if isinstance(active, bool) else None


def _resource(resource: Mapping[str, Any], findings: list[Finding], where: str) -> Resource | None:
    """The record of a Practitioner, PractitionerRole or Organization; None for any other resource."""
    kind = resource.get("resourceType")
    rid = _text(resource.get("id"), 64)
    active = _active(resource)
    if kind == "Practitioner":
        person = _person(resource)
        found = [attrs.evolve(mailbox, person=person) for mailbox in _mailboxes(resource, findings, where)]
        return Practitioner(id=rid, active=active, person=person, mailboxes=tuple(found))
    if kind == "PractitionerRole":
        return PractitionerRole(
            id=rid,
            active=active,
            practitioner=_reference(resource.get("practitioner")),
            organization=_reference(resource.get("organization")),
            mailboxes=tuple(_mailboxes(resource, findings, where)),
        )
    if kind == "Organization":
        structure, idnst, finess = _structure(resource, findings, where)
        found = [attrs.evolve(mailbox, structure=structure) for mailbox in _mailboxes(resource, findings, where)]
        return Organization(
            id=rid, active=active, structure=structure, idnst=idnst, finess=finess, mailboxes=tuple(found)
        )
    return None


def _kind_of(data: object) -> str:
    kind = _dict(data).get("resourceType")
    return _clean(kind, 60) if isinstance(kind, str) else type(data).__name__


_ENTRY_KEYS = frozenset({"fullUrl", "resource", "search", "request", "response"})


def _what_it_is(data: object, *, page: bool = False) -> str:
    """How a refusal names what it was given instead of the resource (or, with ``page``, the Bundle) expected."""
    if isinstance(data, dict) and "resourceType" not in data:
        if not _ENTRY_KEYS & data.keys():
            return "a JSON object without resourceType"
        if not isinstance(data.get("resource"), dict):
            return "a Bundle entry without a resource"
        inside = _kind_of(data["resource"])
        advice = "a page is the whole Bundle" if page else "give its `resource`"
        return f"a Bundle entry (holding a {inside!r}): {advice}"
    kind = _kind_of(data)
    if kind == "Bundle" and not page:
        return "a 'Bundle': read a page with parse_bundle or read_bundle"
    return repr(kind)


def _outcome_failure(data: Mapping[str, Any], url: str) -> DirectoryFailure:
    diagnostics = outcome_diagnostics(data)
    detail = diagnostics[0] if diagnostics else "no diagnostics"
    return _fail(
        DirectoryResponseError,
        codes.OUTCOME,
        f"the directory answered an OperationOutcome: {detail}",
        diagnostics=diagnostics,
        url=url,
    )


def read_resource(data: object, *, url: str = "") -> tuple[Resource, Report]:
    """The record of one Practitioner, PractitionerRole or Organization (parsed JSON), and what was skipped.

    Raises :class:`DirectoryResponseError` for anything else (an ``OperationOutcome`` with its diagnostics).
    """
    findings: list[Finding] = []
    if isinstance(data, dict):
        if data.get("resourceType") == "OperationOutcome":
            raise _outcome_failure(data, url)
        record = _resource(data, findings, str(data.get("resourceType", "")))
        if record is not None:
            return record, Report(findings=findings, subject=url)
    raise _fail(
        DirectoryResponseError,
        codes.NOT_EXPECTED,
        f"expected a Practitioner, PractitionerRole or Organization, not {_what_it_is(data)}",
        url=url,
    )


def parse_resource(body: bytes, *, max_bytes: int = MAX_PAGE_BYTES, url: str = "") -> tuple[Resource, Report]:
    """:func:`read_resource` of an untrusted body (see :func:`read_json`)."""
    return read_resource(read_json(body, max_bytes=max_bytes, url=url), url=url)


def _next_link(bundle: Mapping[str, Any], url: str) -> str | None:
    links = bundle.get("link", [])
    if not isinstance(links, list):
        raise _fail(DirectoryResponseError, codes.LINK_REFUSED, "the Bundle's link is not a list", url=url)
    for link in links:
        if isinstance(link, dict) and link.get("relation") == "next":
            target = link.get("url")
            if (
                not isinstance(target, str)
                or not 0 < len(target) <= MAX_LINK_LENGTH
                or not target.isprintable()
                or " " in target
            ):
                shown = _clean(repr(target), 120)
                raise _fail(DirectoryResponseError, codes.LINK_REFUSED, f"the next link {shown} is not a URL", url=url)
            return target
    return None


def read_bundle(data: object, *, url: str = "") -> Page:
    """A :class:`Page` from a parsed searchset ``Bundle``.

    Malformed entries are skipped with a warning in the page's report; resources of other types with a note.
    Raises :class:`DirectoryResponseError` when ``data`` is not a Bundle (an ``OperationOutcome`` gives its
    diagnostics), or its ``next`` link is not a URL (a page must not be lost in silence).
    """
    if not isinstance(data, dict) or data.get("resourceType") != "Bundle":
        if isinstance(data, dict) and data.get("resourceType") == "OperationOutcome":
            raise _outcome_failure(data, url)
        message = f"expected a Bundle, not {_what_it_is(data, page=True)}"
        raise _fail(DirectoryResponseError, codes.NOT_EXPECTED, message, url=url)
    findings: list[Finding] = []
    entries = data.get("entry", [])
    if not isinstance(entries, list):
        findings.append(codes.ENTRY_SKIPPED("the Bundle's entry is not a list", where="entry"))
        entries = []
    resources: list[Resource] = []
    for index, entry in enumerate(entries):
        where = f"entry[{index}]"
        resource = _dict(entry).get("resource")
        if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
            findings.append(codes.ENTRY_SKIPPED("the entry has no resource", where=where))
            continue
        record = _resource(resource, findings, where)
        if record is None:
            findings.append(codes.OTHER_RESOURCE(f"a {_kind_of(resource)} is ignored", where=where))
        else:
            resources.append(record)
    total = data.get("total")
    return Page(
        resources=tuple(resources),
        total=total if isinstance(total, int) and not isinstance(total, bool) and total >= 0 else None,
        next=_next_link(data, url),
        report=Report(findings=findings, subject=url),
    )


def parse_bundle(body: bytes, *, max_bytes: int = MAX_PAGE_BYTES, url: str = "") -> Page:
    """:func:`read_bundle` of an untrusted body (see :func:`read_json`): a page, or DirectoryResponseError."""
    return read_bundle(read_json(body, max_bytes=max_bytes, url=url), url=url)


# --- error answers -----------------------------------------------------------------------------------------------


def outcome_diagnostics(data: object) -> tuple[str, ...]:
    """What an ``OperationOutcome`` says: ``severity code: diagnostics`` per issue (bounded, printable).

    A gateway's JSON body with a ``message`` gives that message; anything else gives nothing.
    """
    body = _dict(data)
    if body.get("resourceType") != "OperationOutcome":
        message = _text(body.get("message"), _MAX_DIAGNOSTIC_LENGTH)
        return (message,) if message else ()
    found = []
    for issue in _dicts(body.get("issue"))[:_MAX_DIAGNOSTICS]:
        text = _text(issue.get("diagnostics"), _MAX_DIAGNOSTIC_LENGTH) or _text(
            _dict(issue.get("details")).get("text"), _MAX_DIAGNOSTIC_LENGTH
        )
        head = " ".join(part for part in (_text(issue.get("severity"), 20), _text(issue.get("code"), 40)) if part)
        line = f"{head}: {text}" if head and text else head or text
        if line:
            found.append(line)
    return tuple(found)


def error_for_status(
    status: int, body: bytes = b"", *, url: str = "", retry_after: float | None = None, attempts: int = 1
) -> DirectoryFailure:
    """The error for an HTTP answer other than 200: its class by status, its diagnostics from the body.

    401/403 → :class:`DirectoryAuthError`, 404 → :class:`DirectoryNotFound`, 429 → :class:`DirectoryRateLimited`,
    5xx → :class:`DirectoryUnavailable`, other 4xx → :class:`DirectoryBadRequest`, anything else →
    :class:`DirectoryResponseError`. The body may be anything (HTML from a gateway): it is only searched for
    diagnostics, never shown whole. ``attempts`` (when more than one) is said in the message.
    """
    diagnostics: tuple[str, ...] = ()
    if body:
        try:
            diagnostics = outcome_diagnostics(read_json(body, max_bytes=MAX_ERROR_BYTES))
        except DirectoryResponseError:
            diagnostics = ()
    said = f": {diagnostics[0]}" if diagnostics else ""
    if attempts > 1:
        said = f" ({attempts} attempts){said}"
    options: dict[str, Any] = {"status": status, "diagnostics": diagnostics, "url": url}
    if status in (401, 403):
        message = (
            f"the directory refused the API key (HTTP {status}){said}; check it, and that its application "
            f'subscribes to "API Annuaire Santé en libre accès" on {API_KEY_PORTAL}'
        )
        return _fail(DirectoryAuthError, codes.AUTH, message, **options)
    if status == 404:
        return _fail(DirectoryNotFound, codes.NOT_FOUND, f"the directory answered 404 Not Found{said}", **options)
    if status == 429:
        wait = f" (it asked to wait {retry_after:g} s)" if retry_after is not None else ""
        message = f"the directory answered 429 Too Many Requests{wait}{said}"
        return _fail(DirectoryRateLimited, codes.RATE_LIMITED, message, retry_after=retry_after, **options)
    if 500 <= status <= 599:
        message = f"the directory answered HTTP {status}{said}"
        return _fail(DirectoryUnavailable, codes.UNAVAILABLE, message, retry_after=retry_after, **options)
    if 400 <= status <= 499:
        message = f"the directory refused the request (HTTP {status}){said}"
        return _fail(DirectoryBadRequest, codes.BAD_REQUEST, message, **options)
    message = f"the directory answered HTTP {status}, which is not followed{said}"
    return _fail(DirectoryResponseError, codes.UNEXPECTED_STATUS, message, **options)


def same_origin(base_url: str, url: str) -> bool:
    """True when ``url`` is absolute with the scheme, host and port of ``base_url``."""
    try:
        base, other = urllib.parse.urlsplit(base_url), urllib.parse.urlsplit(url)
        return (
            bool(other.scheme and other.hostname)
            and other.scheme.lower() == base.scheme.lower()
            and other.hostname == base.hostname
            and (other.port or _DEFAULT_PORTS.get(other.scheme.lower()))
            == (base.port or _DEFAULT_PORTS.get(base.scheme.lower()))
            and not other.username
            and not other.password
        )
    except ValueError:
        return False


_DEFAULT_PORTS = {"http": 80, "https": 443}


# --- queries -----------------------------------------------------------------------------------------------------

Modifier: TypeAlias = Literal["contains", "exact"]

_STRING, _TOKEN, _REFERENCE_PARAM, _DATE = "string", "token", "reference", "date"
_COMMON = {
    "_id": _TOKEN,
    "_lastUpdated": _DATE,
    "active": _TOKEN,
    "data-information-system": _TOKEN,
    "data-registration-authority": _TOKEN,
    "identifier": _TOKEN,
}
_SEARCH_PARAMS: dict[ResourceType, dict[str, str]] = {
    ResourceType.PRACTITIONER: {
        **_COMMON,
        "family": _STRING,
        "given": _STRING,
        "identifier-type": _TOKEN,
        "mailbox-mss": _STRING,
        "name": _STRING,
        "number-smartcard": _TOKEN,
        "qualification-code": _TOKEN,
        "type-smartcard": _TOKEN,
    },
    ResourceType.PRACTITIONER_ROLE: {
        **_COMMON,
        "mailbox-mss": _STRING,
        "organization": _REFERENCE_PARAM,
        "practitioner": _REFERENCE_PARAM,
        "role": _TOKEN,
    },
    ResourceType.ORGANIZATION: {
        **_COMMON,
        "address": _STRING,
        "address-city": _STRING,
        "address-line": _STRING,
        "address-postalcode": _STRING,
        "identifier-type": _TOKEN,
        "mailbox-mss": _STRING,
        "name": _STRING,
        "partof": _REFERENCE_PARAM,
        "pharmacy-licence": _TOKEN,
        "type": _TOKEN,
    },
}
_INCLUDES: dict[ResourceType, tuple[str, ...]] = {
    ResourceType.PRACTITIONER: (),
    ResourceType.PRACTITIONER_ROLE: ("*", "PractitionerRole:organization", "PractitionerRole:practitioner"),
    ResourceType.ORGANIZATION: ("*", "Organization:partof"),
}
_REVINCLUDES: dict[ResourceType, tuple[str, ...]] = {
    ResourceType.PRACTITIONER: ("PractitionerRole:practitioner",),
    ResourceType.PRACTITIONER_ROLE: (),
    ResourceType.ORGANIZATION: (
        "Device:organization",
        "HealthcareService:organization",
        "PractitionerRole:organization",
    ),
}
_RESULT_PARAMS = ("_count", "_elements", "_include", "_revinclude", "_total")
_SINGLE = frozenset({"_count", "_total", "_elements"})
_STRING_MODIFIERS = frozenset({"contains", "exact"})
_TOTALS = frozenset({"none", "estimate", "accurate"})
_DATE_PREFIXES = ("eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap")
_FHIR_DATE = re.compile(
    r"(?:eq|ne|gt|lt|ge|le|sa|eb|ap)?[0-9]{4}(?:-(?:0[1-9]|1[0-2])(?:-(?:0[1-9]|[12][0-9]|3[01])"
    r"(?:T(?:[01][0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9](?:\.[0-9]{1,9})?)?(?:Z|[+-][0-9]{2}:[0-9]{2})?)?)?)?",
    re.ASCII,
)
_ELEMENT = re.compile(r"[A-Za-z][A-Za-z0-9]*", re.ASCII)
_RPPS = re.compile(r"[0-9]{11}", re.ASCII)
_IDNPS = re.compile(r"[0-9][0-9A-Z]{1,20}(?:/[0-9A-Za-z]{1,20})?", re.ASCII)
_FINESS = re.compile(r"(?:[0-9]{2}|2[AB])[0-9]{7}", re.ASCII)
_SPECIAL = frozenset(",|$\\")
_MAX_VALUE = 2048


def _allowed(resource: ResourceType) -> list[str]:
    return sorted([*_SEARCH_PARAMS[resource], *_RESULT_PARAMS])


def _check_param(resource: ResourceType, key: object, value: object) -> None:
    """ValueError unless ``key=value`` is a search the directory knows for ``resource``."""
    if not isinstance(key, str) or not isinstance(value, str):
        raise TypeError("a search parameter is a pair of str")
    name, colon, modifier = key.partition(":")
    kind = _SEARCH_PARAMS[resource].get(name)
    if kind is None and name not in _RESULT_PARAMS:
        raise ValueError(
            f"{key!r} is not a search parameter of {resource.value}: use one of {', '.join(_allowed(resource))}"
        )
    if colon and (kind != _STRING or modifier not in _STRING_MODIFIERS):
        raise ValueError(f"{key!r}: only the string parameters take a modifier, :contains or :exact")
    if not value or len(value) > _MAX_VALUE or not value.isprintable():
        raise ValueError(f"{key}: a value is 1 to {_MAX_VALUE} printable characters, not {value[:80]!r}")
    if name == "_count":
        if not value.isdigit() or not 1 <= int(value) <= MAX_COUNT:
            raise ValueError(f"_count is a page size from 1 to {MAX_COUNT} (the directory's limit), not {value!r}")
    elif name == "_total" and value not in _TOTALS:
        raise ValueError(f"_total is one of {', '.join(sorted(_TOTALS))}, not {value!r}")
    elif name in ("_include", "_revinclude"):
        table = _INCLUDES if name == "_include" else _REVINCLUDES
        if value not in table[resource]:
            possible = ", ".join(table[resource]) or "none"
            raise ValueError(f"{name}={value} is not allowed on {resource.value}: use one of {possible}")
    elif name == "_elements":
        if not all(_ELEMENT.fullmatch(element) for element in value.split(",")):
            raise ValueError(f"_elements is a comma-separated list of element names, not {value!r}")
    elif kind == _DATE and not all(_FHIR_DATE.fullmatch(part) for part in value.split(",")):
        raise ValueError(f"{name} is a FHIR date with an optional prefix (ge2025-09-27), not {value!r}")
    elif name == "active" and value not in ("true", "false"):
        raise ValueError(f"active is true or false, not {value!r}")


def _plain(value: object, what: str) -> str:
    """A value given to a typed method: a non-empty string without FHIR's separators (``, | $ \\``)."""
    text = str(value).strip() if value is not None else ""
    if not text:
        raise ValueError(f"{what} is empty")
    if _SPECIAL & set(text):
        raise ValueError(f"{what} {text[:80]!r} holds one of , | $ \\: use Query.where() for raw FHIR search syntax")
    return text


def _token(value: object, system: str | None, what: str) -> str:
    code = _plain(value, what)
    return f"{_plain(system, 'system')}|{code}" if system is not None else code


def _params(value: Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    return tuple((key, val) for key, val in value)


def _moment(value: date | datetime | str) -> str:
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"a moment must be timezone-aware, not {value!r}")
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


@attrs.frozen(kw_only=True)
class Query:
    """A search on one resource type: the parameters in order, repeated keys kept (repeated = AND).

    Every parameter is checked against what the directory's v2 server accepts for that type; methods return a
    new query. Typed methods refuse values holding FHIR's separators (``, | $ \\``); :meth:`where` takes raw
    FHIR syntax (``identifier=a,b`` means a OR b).

    >>> Query(resource="Practitioner").family("MARTIN").given("Jean").active().to_params()
    [('family', 'MARTIN'), ('given', 'Jean'), ('active', 'true')]
    """

    resource: ResourceType = attrs.field(converter=ResourceType)
    params: tuple[tuple[str, str], ...] = attrs.field(default=(), converter=_params)

    @params.validator
    def _check(self, _attribute: Any, value: tuple[tuple[str, str], ...]) -> None:
        for key, val in value:
            _check_param(self.resource, key, val)

    # raw parameters

    def where(self, key: str, value: str) -> Query:
        """This query and ``key=value`` in raw FHIR syntax (``name:contains``, ``identifier=a,b``...)."""
        return attrs.evolve(self, params=(*self.params, (key, value)))

    def _set(self, key: str, value: str) -> Query:
        """This query with ``key`` given once, as ``value``."""
        return attrs.evolve(self, params=(*(p for p in self.params if p[0] != key), (key, value)))

    def to_params(self) -> list[tuple[str, str]]:
        """The request's query parameters, in order (for ``httpx`` ``params=``)."""
        return list(self.params)

    def to_query_string(self) -> str:
        """The parameters percent-encoded: ``identifier=https%3A%2F%2F...%7C590064036&...``."""
        return urllib.parse.urlencode(self.params, quote_via=urllib.parse.quote, safe="")

    def url(self, base_url: str = BASE_URL) -> str:
        """The search URL, without the parameters: ``<base_url>/<resource>``."""
        return f"{base_url.rstrip('/')}/{self.resource.value}"

    def __str__(self) -> str:
        return f"{self.resource.value}?{self.to_query_string()}"

    # search parameters

    def identifier(self, value: str, *, system: str | None = None) -> Query:
        """``identifier=value``, or ``system|value`` (RPPS, IdNat_PS, FINESS...)."""
        return self.where("identifier", _token(value, system, "the identifier"))

    def _string(self, key: str, value: str, modifier: Modifier | None) -> Query:
        return self.where(f"{key}:{modifier}" if modifier else key, _plain(value, key))

    def family(self, value: str, *, modifier: Modifier | None = None) -> Query:
        """``family=`` (the directory matches the start of the name, case-insensitively, by default)."""
        return self._string("family", value, modifier)

    def given(self, value: str, *, modifier: Modifier | None = None) -> Query:
        """``given=``."""
        return self._string("given", value, modifier)

    def name(self, value: str, *, modifier: Modifier | None = None) -> Query:
        """``name=`` or ``name:contains=`` (repeat for AND: ``.name("ANDRE", ...).name("MIGNOT", ...)``)."""
        return self._string("name", value, modifier)

    def mailbox(self, address: str | Address, *, modifier: Modifier | None = None) -> Query:
        """``mailbox-mss=`` (measured to match whole addresses), or ``:contains`` (unreliable on domains)."""
        return self._string("mailbox-mss", str(address), modifier)

    def qualification(self, code: str, *, system: str | None = None) -> Query:
        """``qualification-code=`` (profession or savoir-faire; ``10`` = médecin in TRE_G15)."""
        return self.where("qualification-code", _token(code, system, "the qualification code"))

    def role(self, code: str, *, system: str | None = None) -> Query:
        """``role=`` of a PractitionerRole (TRE_R85-RolePriseCharge...)."""
        return self.where("role", _token(code, system, "the role code"))

    def organization(self, reference: str) -> Query:
        """``organization=`` of a PractitionerRole: ``Organization/<id>`` or the id."""
        return self.where("organization", _plain(reference, "the organisation"))

    def practitioner(self, reference: str) -> Query:
        """``practitioner=`` of a PractitionerRole: ``Practitioner/<id>`` or the id."""
        return self.where("practitioner", _plain(reference, "the practitioner"))

    def city(self, value: str, *, modifier: Modifier | None = None) -> Query:
        """``address-city=`` of an Organization."""
        return self._string("address-city", value, modifier)

    def postcode(self, value: str, *, modifier: Modifier | None = None) -> Query:
        """``address-postalcode=`` of an Organization."""
        return self._string("address-postalcode", value, modifier)

    def type(self, code: str, *, system: str | None = None) -> Query:
        """``type=`` of an Organization (``SA05`` in TRE_R02-SecteurActivite...)."""
        return self.where("type", _token(code, system, "the type code"))

    def active(self, *, value: bool = True) -> Query:
        """``active=true`` (or ``false``)."""
        return self.where("active", "true" if value else "false")

    def last_updated(self, moment: date | datetime | str, *, prefix: str = "ge") -> Query:
        """``_lastUpdated=<prefix><moment>`` (twice for a range; the directory allows 30 days of delta)."""
        if prefix not in _DATE_PREFIXES:
            raise ValueError(f"a date prefix is one of {', '.join(_DATE_PREFIXES)}, not {prefix!r}")
        return self.where("_lastUpdated", f"{prefix}{_moment(moment)}")

    # result parameters

    def include(self, target: str) -> Query:
        """``_include=`` (``PractitionerRole:organization``...)."""
        return self.where("_include", target)

    def revinclude(self, source: str) -> Query:
        """``_revinclude=`` (``PractitionerRole:practitioner``...)."""
        return self.where("_revinclude", source)

    def elements(self, *names: str) -> Query:
        """``_elements=`` (a subset of each resource: ``telecom``, ``identifier``...)."""
        return self._set("_elements", ",".join(names))

    def count(self, size: int) -> Query:
        """``_count=`` (entries per page): 1 to 200."""
        if type(size) is not int or not 1 <= size <= MAX_COUNT:
            raise ValueError(f"_count is a page size from 1 to {MAX_COUNT} (the directory's limit), not {size!r}")
        return self._set("_count", str(size))

    def total(self, mode: Literal["none", "estimate", "accurate"]) -> Query:
        """``_total=`` (the directory omits the total when costly, unless asked ``accurate``)."""
        return self._set("_total", mode)

    # the usual searches

    @classmethod
    def by_rpps(cls, rpps: str | Rpps) -> Query:
        """The practitioner with this RPPS, and its roles: ``identifier=<rpps>&_revinclude=PractitionerRole:...``.

        The value must be 11 digits; its key is not checked (the directory is the authority).
        """
        value = str(rpps).strip()
        if not _RPPS.fullmatch(value):
            raise ValueError(f"an RPPS number is 11 digits, not {value[:80]!r}")
        return cls(resource=ResourceType.PRACTITIONER).identifier(value).revinclude("PractitionerRole:practitioner")

    @classmethod
    def by_idnps(cls, idnps: str | Idnps) -> Query:
        """The practitioner with this IdNat_PS, and its roles (``identifier=urn:oid:1.2.250.1.71.4.2.1|...``)."""
        value = str(idnps).strip()
        if not _IDNPS.fullmatch(value):
            raise ValueError(f"an IdNat_PS is a type digit then letters and digits, not {value[:80]!r}")
        query = cls(resource=ResourceType.PRACTITIONER).identifier(value, system=IDNPS_SYSTEM)
        return query.revinclude("PractitionerRole:practitioner")

    @classmethod
    def by_address(cls, address: str | Address, resource: ResourceType | str = ResourceType.PRACTITIONER) -> Query:
        """The resources of ``resource`` type holding this mailbox: ``mailbox-mss=<address>``.

        The address must be valid (:class:`~mssante.errors.InvalidAddress` otherwise); a PractitionerRole search
        includes its practitioner and organisation, so that the owner is known.
        """
        canonical = address if isinstance(address, Address) else Address.parse(address)
        query = cls(resource=resource).mailbox(canonical)
        if query.resource is ResourceType.PRACTITIONER_ROLE:
            query = query.include("PractitionerRole:practitioner").include("PractitionerRole:organization")
        return query

    @classmethod
    def by_name(cls, family: str, given: str | None = None) -> Query:
        """Active practitioners by name: ``family=...&given=...&active=true``."""
        query = cls(resource=ResourceType.PRACTITIONER).family(family)
        return (query.given(given) if given is not None else query).active()

    @classmethod
    def organizations_by_finess(cls, finess: str | Finess) -> Query:
        """The organisation with this FINESS, and the roles in it (``_revinclude=PractitionerRole:organization``)."""
        value = str(finess).strip().upper()
        if not _FINESS.fullmatch(value):
            raise ValueError(f"a FINESS number is 9 characters (2A/2B for Corsica), not {value[:80]!r}")
        query = cls(resource=ResourceType.ORGANIZATION).identifier(value, system=FINESS_SYSTEM)
        return query.revinclude("PractitionerRole:organization")

    @classmethod
    def for_mailboxes(
        cls,
        *,
        name: str | None = None,
        profession: str | None = None,
        city: str | None = None,
        postcode: str | None = None,
    ) -> Query:
        """The search behind ``mssante directory search --online``: people, or places, with their roles.

        ``name`` (each word must match a name, at its start) and ``profession`` (a TRE_G15 code: ``10`` =
        médecin) search active practitioners; ``city`` and ``postcode`` search active organisations. The
        directory cannot search a person by place, so the two kinds cannot be mixed (ValueError).
        """
        people, places = (name, profession), (city, postcode)
        if any(people) and any(places):
            raise ValueError("the directory searches people (name, profession) or places (city, postcode), not both")
        if any(places):
            return cls.organizations_by_city(city, postcode=postcode).revinclude("PractitionerRole:organization")
        if not any(people):
            raise ValueError("give a name, a profession, a city or a postcode")
        query = cls(resource=ResourceType.PRACTITIONER)
        for word in (name or "").split():
            query = query.name(word)
        if profession:
            if not profession.strip().isdigit():
                raise ValueError(f"a profession is searched by its TRE_G15 code (10 = médecin), not {profession!r}")
            query = query.qualification(profession.strip())
        return query.active().revinclude("PractitionerRole:practitioner")

    @classmethod
    def organizations_by_city(
        cls, city: str | None = None, *, postcode: str | None = None, with_mailbox: bool = False
    ) -> Query:
        """Active organisations of a city and/or postcode; ``with_mailbox`` keeps those with a mailbox."""
        if not city and not postcode:
            raise ValueError("give a city, a postcode, or both")
        query = cls(resource=ResourceType.ORGANIZATION)
        if city:
            query = query.city(city)
        if postcode:
            query = query.postcode(postcode)
        if with_mailbox:
            query = query.where("mailbox-mss:contains", "@")
        return query.active()

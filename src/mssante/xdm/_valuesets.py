"""CI-SIS value sets (JDV) and correspondence tables (ASS) of the XDS coded attributes, bundled as package data.

The ANS publishes each value set of the NOS as an IHE SVS ``RetrieveValueSetResponse``; four of
them ship with mssante (J02 healthcareFacilityTypeCode, J04 practiceSettingCode, J07 typeCode,
J08 confidentialityCode) and are read lazily with :mod:`importlib.resources`, as is J03
(submission set contentTypeCode), shipped as the NOS FHIR export (:meth:`ValueSet.parse_fhir`). J06
(classCode) is written out here from its published version (no file of it is public in a current
version). A newer file from the NOS can be read with :meth:`ValueSet.parse`.

Two NOS association tables ship too (:class:`Correspondence`): ``ASS_X04`` (typeCode to
classCode) and ``ASS_A11`` (CDA template to formatCode), what a packer derives those codes with.

>>> value_set("J08").display_of("N")
'Normal'
>>> canonical("INVISIBLE_REP_LEGAUX", "1.2.250.1.213.1.1.4.13")
'INVISIBLE_REPRESENTANTS_LEGAUX'
"""

from __future__ import annotations

import datetime as dt
import functools
import importlib.resources
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from types import MappingProxyType
from typing import Any
from xml.etree import ElementTree

import attrs

from mssante._xml import UnreadableXml, parse_untrusted
from mssante.errors import InvalidInput
from mssante.report import Code, Finding, Report, Severity, define_code

__all__ = [
    "ALIASES",
    "FOR_ATTRIBUTE",
    "MAX_VALUE_SET_BYTES",
    "SVS_NAMESPACE",
    "Concept",
    "Correspondence",
    "ValueSet",
    "canonical",
    "correspondence",
    "for_attribute",
    "value_set",
    "value_sets",
]

ERROR, WARNING, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO

UNKNOWN_CODE = define_code("MSS-JDV-001", ERROR, "the code is not in the value set")
OTHER_CODE_SYSTEM = define_code("MSS-JDV-002", ERROR, "the code is in the value set, but under another code system")
DISPLAY_DIFFERS = define_code("MSS-JDV-003", WARNING, "the display name differs from the one of the value set")
ALIAS = define_code(
    "MSS-JDV-004", INFO, "a known other spelling of a code of the value set: accepted, written in the JDV spelling"
)
UNKNOWN_VALUE_SET = define_code("MSS-JDV-005", ERROR, "no bundled value set has this name or OID")
UNREADABLE = define_code(
    "MSS-JDV-006", ERROR, "the value set file is not well-formed XML, is too large, or holds a DTD or an entity"
)
NOT_A_VALUE_SET = define_code(
    "MSS-JDV-007", ERROR, "the file is not an IHE SVS RetrieveValueSetResponse with one valid value set"
)
UNKNOWN_TABLE = define_code(
    "MSS-JDV-008", ERROR, "no bundled NOS correspondence table (ASS_X04, ASS_A11) has this name or OID"
)

SVS_NAMESPACE = "urn:ihe:iti:svs:2008"
"""The XML namespace of IHE SVS (Sharing Value Sets), the form of the NOS value set files."""

MAX_VALUE_SET_BYTES = 16 * 1024 * 1024
"""The largest value set file read; larger input is refused unread."""

FOR_ATTRIBUTE: Mapping[str, str] = MappingProxyType(
    {
        "healthcareFacilityTypeCode": "J02",
        "contentTypeCode": "J03",
        "practiceSettingCode": "J04",
        "classCode": "J06",
        "typeCode": "J07",
        "confidentialityCode": "J08",
    }
)
"""The bundled value set (short name) that serves each XDS coded attribute under the CI-SIS.

``contentTypeCode`` (of the submission set) is bound to JDV_J03-XdsContentTypeCode-CISIS by the CI-SIS
(« En l'absence de spécifications complémentaires, le jeu de valeurs JDV_J03-XdsContentTypeCode-CISIS peut être
utilisé »), not to JDV_J05 (which is SubjectRole).
"""

ALIASES: Mapping[tuple[str, str], str] = MappingProxyType(
    {("1.2.250.1.213.1.1.4.13", "INVISIBLE_REP_LEGAUX"): "INVISIBLE_REPRESENTANTS_LEGAUX"}
)
"""Other spellings seen in the field, ``(code system, alias)`` to the JDV code.

``INVISIBLE_REP_LEGAUX`` is the spelling of the HL7 v2 MetaDMP/MSSanté table; JDV_J08 writes
``INVISIBLE_REPRESENTANTS_LEGAUX``. Readers accept both; writers use the JDV form.
"""

_SVS = f"{{{SVS_NAMESPACE}}}"
_OID = re.compile(r"[0-2](?:\.(?:0|[1-9][0-9]*))+", re.ASCII)
_SHORT = re.compile(r"JDV_(J[0-9]+)", re.ASCII)
_DATE_MAJ = "%Y%m%d%H%M%S"
_DATA = "data"


def _bare(code_system: str | None) -> str | None:
    return code_system.removeprefix("urn:oid:") if code_system is not None else None


def canonical(code: str, code_system: str | None = None) -> str:
    """The JDV spelling of a code: an alias of :data:`ALIASES` becomes its JDV code, any other code is kept."""
    system = _bare(code_system)
    for (alias_system, alias), target in ALIASES.items():
        if code == alias and system in (None, alias_system):
            return target
    return code


def _refuse(code: Code, message: str, *, where: str = "", subject: str = "") -> InvalidInput:
    finding = code(message, where=where)
    return InvalidInput(f"{subject or 'value set'}: {message}", Report(findings=[finding], subject=subject))


def _nonempty(_instance: Any, attribute: attrs.Attribute[str], value: object) -> None:
    if not isinstance(value, str) or not value:
        raise _refuse(NOT_A_VALUE_SET, f"the {attribute.name} of a concept is empty", where=attribute.name)


@attrs.frozen(kw_only=True)
class Concept:
    """One concept of a value set: its code, the code system (OID) it comes from and its display name."""

    code: str = attrs.field(validator=_nonempty)
    code_system: str = attrs.field(validator=_nonempty)
    display: str = ""


def _short_of(name: str) -> str:
    match = _SHORT.match(name)
    return match.group(1) if match else ""


def _as_tuple(concepts: Iterable[Concept]) -> tuple[Concept, ...]:
    return tuple(concepts)


def _as_rows(rows: Iterable[tuple[Concept, Concept]]) -> tuple[tuple[Concept, Concept], ...]:
    return tuple(rows)


def _index(concepts: tuple[Concept, ...]) -> dict[str, tuple[Concept, ...]]:
    index: dict[str, list[Concept]] = {}
    seen: set[tuple[str, str]] = set()
    for concept in concepts:
        if not isinstance(concept, Concept):
            raise TypeError(f"a value set holds Concept objects, not {type(concept).__name__}")
        key = (concept.code, concept.code_system)
        if key in seen:
            raise _refuse(NOT_A_VALUE_SET, f"the concept {concept.code} of {concept.code_system} is listed twice")
        seen.add(key)
        index.setdefault(concept.code, []).append(concept)
    return {code: tuple(found) for code, found in index.items()}


@attrs.frozen(kw_only=True)
class ValueSet:
    """A CI-SIS value set (JDV): its OID, name (``JDV_J07-XdsTypeCode-CISIS``), short name (``J07``) and concepts.

    ``updated`` is the ``dateMaj`` of the file, with the UTC offset its ``revisionDate`` gives.
    """

    oid: str
    name: str
    short: str = attrs.field()
    description: str = ""
    updated: dt.datetime
    url: str = ""
    concepts: tuple[Concept, ...] = attrs.field(converter=_as_tuple)
    _by_code: dict[str, tuple[Concept, ...]] = attrs.field(init=False, repr=False, eq=False)

    @short.default
    def _short_default(self) -> str:
        return _short_of(self.name)

    def __attrs_post_init__(self) -> None:
        if not _OID.fullmatch(self.oid):
            raise _refuse(NOT_A_VALUE_SET, f"{self.oid[:80]!r} is not an OID", where="id", subject=self.name)
        if not self.name:
            raise _refuse(NOT_A_VALUE_SET, "the value set has no name", where="urlFichier", subject=self.oid)
        if self.updated.tzinfo is None:
            raise ValueError("updated is an aware datetime")
        object.__setattr__(self, "_by_code", _index(self.concepts))

    @classmethod
    def parse(cls, data: bytes) -> ValueSet:
        """Read an IHE SVS ``RetrieveValueSetResponse`` (a NOS JDV file) holding one value set."""
        element = _svs_value_set(data)
        oid = element.get("id", "")
        url = element.get("urlFichier", "")
        name = url.rstrip("/").rpartition("/")[2] or element.get("displayName", "").removesuffix(".tabs")
        concepts = [
            Concept(
                code=concept.get("code", ""),
                code_system=concept.get("codeSystem", ""),
                display=concept.get("displayName", ""),
            )
            for concept in element.iterfind(f"{_SVS}ConceptList/{_SVS}Concept")
        ]
        if not concepts:
            raise _refuse(NOT_A_VALUE_SET, "the value set has no concept", subject=name)
        return cls(
            oid=oid,
            name=name,
            description=element.get("description", ""),
            updated=_updated(element.get("dateMaj", ""), element.get("revisionDate", ""), name),
            url=url,
            concepts=concepts,
        )

    @classmethod
    def parse_fhir(cls, data: bytes) -> ValueSet:
        """Read a value set in the FHIR form the NOS exports it (``JDV_…-FHIR.json``, a ``ValueSet`` resource).

        The concepts are those of ``compose.include[].concept[]``; the code system of each is the OID its
        ``designation`` of use ``OID`` names (``urn:oid:…``), else the include's ``system``. The OID is the
        ``identifier`` ``urn:oid:…``, the date ``date`` (with its offset).
        """
        if len(data) > MAX_VALUE_SET_BYTES:
            raise _refuse(UNREADABLE, f"{len(data)} bytes; at most {MAX_VALUE_SET_BYTES} are read")
        try:
            resource = json.loads(bytes(data).decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError) as error:
            raise _refuse(UNREADABLE, f"not JSON: {type(error).__name__}") from None
        if not isinstance(resource, dict) or resource.get("resourceType") != "ValueSet":
            raise _refuse(NOT_A_VALUE_SET, "not a FHIR ValueSet resource")
        name = _text_of(resource.get("name"))
        oids = [
            _text_of(item.get("value")).removeprefix("urn:oid:")
            for item in _list_of(resource.get("identifier"))
            if isinstance(item, dict) and _text_of(item.get("value")).startswith("urn:oid:")
        ]
        compose = resource.get("compose")
        concepts = []
        for include in _list_of(compose.get("include") if isinstance(compose, dict) else None):
            if not isinstance(include, dict):
                raise _refuse(NOT_A_VALUE_SET, "an include of compose is not an object", subject=name)
            for concept in _list_of(include.get("concept")):
                if not isinstance(concept, dict):
                    raise _refuse(NOT_A_VALUE_SET, "a concept is not an object", subject=name)
                system = next(
                    (
                        _text_of(item.get("value")).removeprefix("urn:oid:")
                        for item in _list_of(concept.get("designation"))
                        if isinstance(item, dict)
                        and isinstance(item.get("use"), dict)
                        and item["use"].get("code") == "OID"
                    ),
                    _text_of(include.get("system")),
                )
                concepts.append(
                    Concept(
                        code=_text_of(concept.get("code")), code_system=system, display=_text_of(concept.get("display"))
                    )
                )
        if not concepts:
            raise _refuse(NOT_A_VALUE_SET, "the value set has no concept", subject=name)
        try:
            updated = dt.datetime.fromisoformat(_text_of(resource.get("date")))
        except ValueError:
            raise _refuse(NOT_A_VALUE_SET, "date is not an ISO 8601 time", subject=name) from None
        if updated.tzinfo is None:
            updated = updated.replace(tzinfo=dt.timezone.utc)
        return cls(
            oid=oids[0] if oids else "",
            name=name,
            description=_text_of(resource.get("description")),
            updated=updated,
            url=_text_of(resource.get("url")),
            concepts=concepts,
        )

    def find(self, code: str, code_system: str | None = None) -> Concept | None:
        """The concept of ``code`` (in ``code_system`` when given), aliases read as their JDV code; else None."""
        found = self._by_code.get(canonical(code, code_system), ())
        system = _bare(code_system)
        return next((concept for concept in found if system in (None, concept.code_system)), None)

    def display_of(self, code: str, code_system: str | None = None) -> str | None:
        """The display name of ``code`` in this value set, or None when it has no such code."""
        concept = self.find(code, code_system)
        return concept.display if concept is not None else None

    def canonical(self, code: str, code_system: str | None = None) -> str:
        """The JDV spelling of ``code`` (see :func:`canonical`)."""
        return canonical(code, code_system)

    def check(self, code: str, code_system: str | None = None, display: str | None = None) -> Report:
        """Judge a coded value against this value set; never raises on a bad code.

        Errors: a code not in the set (``MSS-JDV-001``), or under another code system
        (``MSS-JDV-002``). Warning: a display name other than the set's (``MSS-JDV-003``). Info: an
        alias read as its JDV code (``MSS-JDV-004``).
        """
        if not isinstance(code, str):
            raise TypeError(f"a code is given as str, not {type(code).__name__}")
        subject = f"{code[:80]} ({self.name})"
        concept = self.find(code, code_system)
        if concept is None:
            elsewhere = self.find(code) if code_system is not None else None
            if elsewhere is not None:
                message = f"{code[:80]!r} is a code of {elsewhere.code_system}, not of {str(code_system)[:80]!r}"
                return Report(findings=[OTHER_CODE_SYSTEM(message, where="codeSystem")], subject=subject)
            return Report(
                findings=[UNKNOWN_CODE(f"{code[:80]!r} is not in {self.name}", where="code")], subject=subject
            )
        findings: list[Finding] = []
        if concept.code != code:
            findings.append(
                ALIAS(f"{code[:80]!r} is read as {concept.code!r}, the spelling of {self.name}", where="code")
            )
        if display is not None and display.strip() != concept.display:
            findings.append(
                DISPLAY_DIFFERS(
                    f"{self.name} names {concept.code} {concept.display!r}, not {display[:120]!r}", where="displayName"
                )
            )
        return Report(findings=findings, subject=subject)

    @property
    def codes(self) -> tuple[str, ...]:
        """The codes of the value set, in the order of the file."""
        return tuple(concept.code for concept in self.concepts)

    @property
    def code_systems(self) -> tuple[str, ...]:
        """The code systems the concepts come from, each once, in order of first appearance."""
        return tuple(dict.fromkeys(concept.code_system for concept in self.concepts))

    def __iter__(self) -> Iterator[Concept]:
        return iter(self.concepts)

    def __len__(self) -> int:
        return len(self.concepts)

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str) and self.find(code) is not None


def _text_of(value: object) -> str:
    return value if isinstance(value, str) else ""


def _list_of(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _svs_value_set(data: bytes) -> ElementTree.Element:
    """The ``ValueSet`` element of an SVS ``RetrieveValueSetResponse``, looked up by name.

    Other elements are skipped: two NOS files saved from a browser carry an injected
    ``<script src="chrome-extension://…"/>`` before their ``ValueSet``.
    """
    if len(data) > MAX_VALUE_SET_BYTES:
        raise _refuse(UNREADABLE, f"{len(data)} bytes; at most {MAX_VALUE_SET_BYTES} are read")
    try:
        root = parse_untrusted(data, limit=MAX_VALUE_SET_BYTES)
    except UnreadableXml as error:
        if error.reason == "forbidden":  # refused at its <!DOCTYPE: no entity can be declared without one
            raise _refuse(UNREADABLE, "refused: DTDForbidden (no DTD or entity is read)") from None
        raise _refuse(UNREADABLE, str(error)) from None  # "not well-formed XML: " and the parser's words
    if root.tag != f"{_SVS}RetrieveValueSetResponse":
        raise _refuse(NOT_A_VALUE_SET, f"the root element is {root.tag[:120]!r}")
    sets = root.findall(f"{_SVS}ValueSet")
    if len(sets) != 1:
        raise _refuse(NOT_A_VALUE_SET, f"the response holds {len(sets)} value sets, not one")
    return sets[0]


def _updated(date_maj: str, revision_date: str, name: str) -> dt.datetime:
    """``dateMaj`` (local time, ``YYYYMMDDhhmmss``) made aware with the offset of ``revisionDate``, else UTC."""
    try:
        local = dt.datetime.strptime(date_maj, _DATE_MAJ)
    except ValueError:
        raise _refuse(NOT_A_VALUE_SET, f"dateMaj {date_maj[:40]!r} is not YYYYMMDDhhmmss", subject=name) from None
    try:
        revised = dt.datetime.fromisoformat(revision_date)
    except ValueError:
        revised = None
    if revised is not None and revised.tzinfo is not None and revised.replace(tzinfo=None) == local:
        return revised
    return local.replace(tzinfo=dt.timezone.utc)


# JDV_J06-XdsClassCode-CISIS, version 20230922120000 (effective 2012-11-12), as the ANS IG « Terminologies de Santé »
# v1.10.0 publishes it (ValueSet page JDV_J06_XdsClassCode_CISIS, which embeds the resource). No current file of it is
# public: the FHIR export of version 20201217120000 (ansforge/IG-terminologie-de-sante @ 9706657) lacks 95 and 99,
# which ASS_X04 maps 14 type codes to. Classes from TRE_A03-ClasseDocument, plus TRE_A10's signature class (code
# system "URN", as ASS_X04 and IHE DSG write it).
_TRE_A03 = "1.2.250.1.213.1.1.4.1"
_J06 = (
    *(
        (code, _TRE_A03, display)
        for code, display in (
            ("10", "Compte rendu"),
            ("11", "Synthèse"),
            ("31", "Imagerie médicale"),
            ("42", "Prescription"),
            ("43", "Dispensation"),
            ("44", "Plan de soins, protocole de soins"),
            ("45", "Traitement administré"),
            ("52", "Certificat, déclaration"),
            ("60", "Données de remboursement"),
            ("90", "Autres documents déposés par le patient"),
            ("95", "Document de gestion"),
            ("99", "Document technique"),
        )
    ),
    ("urn:oid:1.3.6.1.4.1.19376.1.2.1.1.1", "URN", "Digital Signature"),
)


def _j06() -> ValueSet:
    return ValueSet(
        oid="1.2.250.1.213.1.1.5.462",
        name="JDV_J06-XdsClassCode-CISIS",
        description="XDS classCode CI-SIS",
        updated=dt.datetime(2023, 9, 22, 12, tzinfo=dt.timezone(dt.timedelta(hours=1))),
        url="https://mos.esante.gouv.fr/NOS/JDV_J06-XdsClassCode-CISIS",
        concepts=[Concept(code=code, code_system=system, display=display) for code, system, display in _J06],
    )


@attrs.frozen(kw_only=True)
class Correspondence:
    """A NOS association table (``ASS_…``): rows mapping a source concept to a target concept.

    ``ASS_X04-CorrespondanceType-Classe-CISIS`` maps an XDS typeCode to its classCode;
    ``ASS_A11-CorresModeleCDA-XdsFormatCode-CISIS`` a CDA template (``templateId/@root``) to its formatCode.
    A source may have several targets (A11 maps the XDS-SD template to one format per media type).
    """

    oid: str
    name: str
    description: str = ""
    updated: dt.datetime
    url: str = ""
    rows: tuple[tuple[Concept, Concept], ...] = attrs.field(converter=_as_rows)

    @classmethod
    def parse(cls, data: bytes) -> Correspondence:
        """Read an association table as the NOS publishes it: an SVS response whose ``ValueSet`` holds a
        ``MappedConceptList`` of ``MappedConcept`` (the source ``Concept``, then the target one)."""
        element = _svs_value_set(data)
        url = element.get("urlFichier", "")
        name = url.rstrip("/").rpartition("/")[2] or element.get("displayName", "").removesuffix(".tabs")
        rows = []
        for index, mapped in enumerate(element.iterfind(f"{_SVS}MappedConceptList/{_SVS}MappedConcept")):
            pair = [
                Concept(
                    code=concept.get("code", ""),
                    code_system=concept.get("codeSystem", ""),
                    display=concept.get("displayName", ""),
                )
                for concept in mapped.iterfind(f"{_SVS}Concept")
            ]
            if len(pair) != 2:
                message = f"MappedConcept {index} holds {len(pair)} concepts, not a source and a target"
                raise _refuse(NOT_A_VALUE_SET, message, subject=name)
            rows.append((pair[0], pair[1]))
        if not rows:
            raise _refuse(NOT_A_VALUE_SET, "the table has no MappedConcept", subject=name)
        oid = element.get("id", "")
        if not _OID.fullmatch(oid):
            raise _refuse(NOT_A_VALUE_SET, f"{oid[:80]!r} is not an OID", where="id", subject=name)
        return cls(
            oid=oid,
            name=name,
            description=element.get("description", ""),
            updated=_updated(element.get("dateMaj", ""), element.get("revisionDate", ""), name),
            url=url,
            rows=rows,
        )

    def targets(self, code: str, code_system: str | None = None) -> tuple[Concept, ...]:
        """The targets of the source ``code`` (in ``code_system`` when given), in the order of the table."""
        system = _bare(code_system)
        return tuple(
            target for source, target in self.rows if source.code == code and system in (None, "", source.code_system)
        )

    def target(self, code: str, code_system: str | None = None) -> Concept | None:
        """The one target of ``code``; None when the table has none for it, or several (then the caller decides)."""
        found = self.targets(code, code_system)
        return found[0] if len(found) == 1 else None

    def __len__(self) -> int:
        return len(self.rows)


@functools.cache
def _bundled() -> tuple[tuple[ValueSet, ...], Mapping[str, ValueSet], Mapping[str, Correspondence]]:
    """The bundled value sets and tables, read once, and the index of the names and OIDs they answer to."""
    folder = importlib.resources.files("mssante.xdm") / _DATA
    loaded = [_j06()]
    stems = {loaded[0].name: loaded[0]}
    tables: dict[str, Correspondence] = {}
    for entry in sorted(folder.iterdir(), key=lambda entry: entry.name):
        if entry.name.startswith("JDV_") and entry.name.endswith(".xml"):
            found = ValueSet.parse(entry.read_bytes())
        elif entry.name.startswith("JDV_") and entry.name.endswith(".json"):
            found = ValueSet.parse_fhir(entry.read_bytes())
        elif entry.name.startswith("ASS_") and entry.name.endswith(".xml"):
            table = Correspondence.parse(entry.read_bytes())
            short = table.name.partition("-")[0]
            for key in (table.oid, table.name, short, short.removeprefix("ASS_"), entry.name.removesuffix(".xml")):
                tables[_key(key)] = table
            continue
        else:
            continue
        loaded.append(found)
        stems[entry.name.rpartition(".")[0]] = found
    index: dict[str, ValueSet] = {}
    for stem, found in stems.items():
        for key in (found.oid, found.name, found.short, f"JDV_{found.short}", stem, found.name.replace("-", "_")):
            index[_key(key)] = found
    return tuple(sorted(loaded, key=lambda found: found.short)), MappingProxyType(index), MappingProxyType(tables)


def _key(name: str) -> str:
    return name.strip().removeprefix("urn:oid:").upper()


def value_set(name: str) -> ValueSet:
    """A bundled value set by short name (``J07``), ``JDV_J07``, full name or OID; read once, then cached.

    :class:`~mssante.errors.InvalidInput` (``MSS-JDV-005``) when none answers to ``name``.
    """
    if not isinstance(name, str):
        raise TypeError(f"a value set name is given as str, not {type(name).__name__}")
    found = _bundled()[1].get(_key(name))
    if found is None:
        known = ", ".join(found.short for found in value_sets())
        raise _refuse(UNKNOWN_VALUE_SET, f"no bundled value set is named {name[:80]!r} (bundled: {known})")
    return found


def value_sets() -> tuple[ValueSet, ...]:
    """The bundled value sets, in the order of their short names."""
    return _bundled()[0]


def correspondence(name: str) -> Correspondence:
    """A bundled NOS association table by short name (``X04``, ``ASS_A11``), full name or OID.

    :class:`~mssante.errors.InvalidInput` (``MSS-JDV-008``) when none answers to ``name``.
    """
    if not isinstance(name, str):
        raise TypeError(f"a table name is given as str, not {type(name).__name__}")
    found = _bundled()[2].get(_key(name))
    if found is None:
        known = ", ".join(sorted({table.name for table in _bundled()[2].values()}))
        raise _refuse(UNKNOWN_TABLE, f"no bundled table is named {name[:80]!r} (bundled: {known})")
    return found


def for_attribute(attribute: str) -> ValueSet:
    """The value set of an XDS coded attribute (``typeCode`` gives J07); see :data:`FOR_ATTRIBUTE`."""
    short = FOR_ATTRIBUTE.get(attribute)
    if short is None:
        known = ", ".join(FOR_ATTRIBUTE)
        raise _refuse(UNKNOWN_VALUE_SET, f"no bundled value set serves {attribute[:80]!r} (known: {known})")
    return value_set(short)

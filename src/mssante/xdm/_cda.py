"""The header of a CDA R2 document, read into values: what XDS metadata is derived from.

The document is untrusted bytes: no DTD, no entity, a bounded size, bounded repetitions. Only
the header is read (and, for an unstructured CDA, the media type of its ``nonXMLBody``). The
mapping follows the CI-SIS "lien entre l'en-tête CDA et les métadonnées XDS" as the ANS XSL
``CDAHeaderToXDM.xsl`` writes it, without its bugs: the patient is the INS of
``recordTarget/patientRole/id`` (never an ``INS-C`` under the uniqueId scheme), and the format
code comes from the NOS association tables ``ASS_A11`` and ``ASS_A12`` (see :mod:`mssante.xdm._cda_formats`).

Values are kept as the document writes them (times as HL7 TS text, codes with their code system
OID); :func:`ts_to_utc` turns a TS into the XDS UTC form. A header without ``id``, ``code`` or
``recordTarget`` cannot be packed: :func:`read_cda_header` raises
:class:`~mssante.errors.InvalidInput` with a report of every such error.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from xml.etree import ElementTree

from mssante._xml import UnreadableXml
from mssante.errors import InvalidInput
from mssante.identifiers import IDNPS_OID, IDNST_OID, Ins, InsAuthority
from mssante.report import Finding, Report, Severity, define_code
from mssante.xdm._cda_formats import format_code_of
from mssante.xdm._cda_scan import MAX_CDA_BYTES, _parse_at_component, _parse_scanned
from mssante.xdm._cda_values import CdaAuthor, CdaHeader, CdaPatient, CdaRecipient
from mssante.xdm._model import Coding

__all__ = [
    "HL7_V3",
    "MAX_CDA_BYTES",
    "MAX_REPEATS",
    "CdaAuthor",
    "CdaHeader",
    "CdaPatient",
    "CdaRecipient",
    "read_cda_header",
    "ts_to_utc",
]

HL7_V3 = "urn:hl7-org:v3"
"""The namespace of CDA R2 elements."""
MAX_REPEATS = 100
"""At most this many of one repeated header element (authors, ids, telecoms, names...) are read."""
MAX_VALUE_CHARS = 64 * 1024
"""A header value longer than this is refused (the longest metadata value XDS can carry)."""

_ERROR, _WARNING, _INFO = Severity.ERROR, Severity.WARNING, Severity.INFO

NOT_WELL_FORMED = define_code("MSS-CDA-001", _ERROR, "the CDA document is not well-formed XML")
FORBIDDEN_XML = define_code(
    "MSS-CDA-002", _ERROR, "the CDA document holds a DTD, an entity or an external reference (refused)"
)
TOO_LARGE = define_code("MSS-CDA-003", _ERROR, "the CDA document is larger than the size read")
NOT_CDA = define_code("MSS-CDA-004", _ERROR, "the root element is not an HL7 v3 ClinicalDocument")
NO_DOCUMENT_ID = define_code("MSS-CDA-005", _ERROR, "the ClinicalDocument has no id (the XDS uniqueId)")
NO_DOCUMENT_CODE = define_code("MSS-CDA-006", _ERROR, "the ClinicalDocument has no code (the XDS typeCode)")
NO_RECORD_TARGET = define_code("MSS-CDA-007", _ERROR, "the ClinicalDocument has no recordTarget/patientRole")
BAD_VALUE = define_code(
    "MSS-CDA-008", _ERROR, "a header value is longer than any metadata value or holds control characters"
)
BAD_TIME = define_code(
    "MSS-CDA-009",
    _WARNING,
    "a time is not an HL7 TS: YYYYMMDDhhmmss, shortened from the right, optional fraction and +hhmm offset",
)
BAD_INS = define_code("MSS-CDA-010", _WARNING, "a patient id under an INS authority is not a valid INS: not used")
INS_KEPT_AS_READ = define_code(
    "MSS-CDA-015",
    _WARNING,
    "the patient's only id under an INS authority is not a valid INS (key, length): kept as read for patientId, "
    "so the package cannot be valid until it is corrected (CI-SIS: the INS identifies the patient)",
)
SEVERAL_INS = define_code(
    "MSS-CDA-011", _INFO, "the patient has several INS: a production one (NIR, NIA) is preferred, then the first"
)
LEGACY_INS_C = define_code("MSS-CDA-012", _INFO, "a legacy INS-C patient id was ignored (never an identifier to send)")
TOO_MANY = define_code("MSS-CDA-013", _WARNING, "a header element repeats more often than is read: the rest is ignored")
SEVERAL_RECORD_TARGETS = define_code(
    "MSS-CDA-014", _WARNING, "the document has several recordTarget: only the first patient is read"
)

_V = "{" + HL7_V3 + "}"
_INS_C_OID = "1.2.250.1.213.1.4.2"
_INS_AUTHORITIES = frozenset(authority.value for authority in InsAuthority)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_TS = re.compile(
    r"(?P<year>[0-9]{4})(?:(?P<month>[0-9]{2})(?:(?P<day>[0-9]{2})(?:(?P<hour>[0-9]{2})(?:(?P<minute>[0-9]{2})"
    r"(?:(?P<second>[0-9]{2})(?:\.[0-9]{1,4})?)?)?)?)?)?(?P<offset>[+-][0-9]{4})?",
    re.ASCII,
)
_MAX_OFFSET = dt.timedelta(hours=14)


def ts_to_utc(text: str) -> str:
    """The XDS UTC form (``YYYYMMDDhhmmss``, as precise as given) of an HL7 TS such as ``20240115103000+0100``.

    The offset is applied when the TS has an hour; a TS without an offset keeps its digits (a date
    cannot be moved by an offset). Fractions of a second are dropped: XDS has none.
    :class:`~mssante.errors.InvalidInput` (``MSS-CDA-009``) when ``text`` is not an HL7 TS.
    """
    match = _TS.fullmatch(text.strip())
    if match is None:
        raise _refuse([BAD_TIME(f"{text!r:.80} is not an HL7 TS", severity=_ERROR)], text[:80], "not an HL7 TS")
    parts = match.group("year", "month", "day", "hour", "minute", "second")
    digits = "".join(part for part in parts if part)
    offset = match.group("offset")
    try:
        year, month, day, hour, minute, second = (
            int(part or default) for part, default in zip(parts, "011000", strict=True)
        )
        moment = dt.datetime(year, month, day, hour, minute, second)  # naive until the offset is applied
        if offset is None or parts[3] is None:
            return digits
        shift = dt.timedelta(hours=int(offset[1:3]), minutes=int(offset[3:5]))
        if shift > _MAX_OFFSET or int(offset[3:5]) > 59:
            raise ValueError("offset out of range")
        moment = moment - shift if offset[0] == "+" else moment + shift
    except (ValueError, OverflowError):
        raise _refuse(
            [BAD_TIME(f"{text!r:.80} is not a valid HL7 TS", severity=_ERROR)], text[:80], "not an HL7 TS"
        ) from None
    utc = f"{moment.year:04d}{moment.month:02d}{moment.day:02d}{moment.hour:02d}{moment.minute:02d}{moment.second:02d}"
    return utc[: len(digits)]


def _refuse(findings: list[Finding], subject: str = "", what: str = "not a usable CDA document") -> InvalidInput:
    report = Report(findings=findings, subject=subject)
    return InvalidInput(f"{what}: {report.errors[0].message}", report)


# Reading


def _path(name: str) -> str:
    return _V + name


def _find(element: ElementTree.Element, *names: str) -> ElementTree.Element | None:
    """The first element at the path ``names`` in document order, as ``find`` with the path of several steps."""
    tag = _V + names[0]
    if len(names) == 1:
        return element.find(tag)
    for child in element.findall(tag):
        found = _find(child, *names[1:])
        if found is not None:
            return found
    return None


class _Reader:
    """Reads values out of elements, recording findings; refuses values no metadata could carry."""

    def __init__(self) -> None:
        self.findings: list[Finding] = []

    def value(self, raw: str | None, where: str) -> str | None:
        if raw is None:
            return None
        if len(raw) > MAX_VALUE_CHARS or _CONTROL.search(raw):
            self.findings.append(BAD_VALUE(where=where))
            return None
        return " ".join(raw.split()) or None

    def attr(self, element: ElementTree.Element | None, name: str, where: str) -> str | None:
        """:meth:`value` of the attribute, its place written only for a finding (most attributes are read)."""
        if element is None:
            return None
        raw = element.get(name)
        if raw is None:
            return None
        if len(raw) > MAX_VALUE_CHARS or _CONTROL.search(raw):
            self.findings.append(BAD_VALUE(where=f"{where}/@{name}"))
            return None
        return " ".join(raw.split()) or None

    def text(self, element: ElementTree.Element | None, where: str) -> str | None:
        return None if element is None else self.value(element.text, where)

    def many(self, parent: ElementTree.Element | None, path: str, where: str) -> Iterator[ElementTree.Element]:
        """The first :data:`MAX_REPEATS` elements at ``path``; a finding says when there are more."""
        if parent is None:
            return iter(())
        found = parent.findall(path)  # a plain tag: the children, found without ElementPath
        if len(found) > MAX_REPEATS:
            self.findings.append(TOO_MANY(f"more than {MAX_REPEATS} {where}: the rest is ignored", where=where))
        return iter(found[:MAX_REPEATS])

    def time(self, element: ElementTree.Element | None, where: str) -> str | None:
        value = self.attr(element, "value", where)
        if value is not None and not _valid_ts(value):
            self.findings.append(BAD_TIME(f"{value!r:.80} is not an HL7 TS", where=f"{where}/@value"))
        return value

    def code(self, element: ElementTree.Element | None, where: str) -> Coding | None:
        code = self.attr(element, "code", where)
        scheme = self.attr(element, "codeSystem", where) or ""
        display = self.attr(element, "displayName", where) or ""
        if code is None:
            return None
        try:
            return Coding(code=code, scheme=scheme, display=display)
        except InvalidInput:
            self.findings.append(BAD_VALUE(where=where))
            return None

    def instance_id(self, element: ElementTree.Element | None, where: str) -> tuple[str, str] | None:
        """``(root, extension)`` of an II, the extension empty when absent; None without a root."""
        root = self.attr(element, "root", where)
        return None if root is None else (root, self.attr(element, "extension", where) or "")

    def ids(self, parent: ElementTree.Element | None, where: str) -> list[tuple[str, str]]:
        found = (
            self.instance_id(element, f"{where}[{index}]")
            for index, element in enumerate(self.many(parent, _path("id"), where))
        )
        return [item for item in found if item is not None]

    def telecoms(self, parent: ElementTree.Element | None, where: str) -> tuple[str, ...]:
        elements = self.many(parent, _path("telecom"), f"{where}/telecom")
        values = (self.attr(element, "value", f"{where}/telecom[{index}]") for index, element in enumerate(elements))
        return tuple(value for value in values if value is not None)

    def name(self, parent: ElementTree.Element | None, where: str) -> tuple[str | None, str | None]:
        """``(family, given)`` of the first ``name`` of ``parent``: the first family, the givens space-joined."""
        name = None if parent is None else parent.find(_path("name"))
        family = self.text(None if name is None else name.find(_path("family")), f"{where}/name/family")
        givens = (
            self.text(given, f"{where}/name/given") for given in self.many(name, _path("given"), f"{where}/name/given")
        )
        return family, " ".join(given for given in givens if given) or None


def _valid_ts(value: str) -> bool:
    try:
        ts_to_utc(value)
    except InvalidInput:
        return False
    return True


def _preferred(ids: list[tuple[str, str]], root: str) -> tuple[str | None, str | None]:
    chosen = next((item for item in ids if item[0] == root), ids[0] if ids else None)
    return (None, None) if chosen is None else (chosen[0], chosen[1] or None)


def _identifier(item: tuple[str, str] | None) -> str | None:
    if item is None:
        return None
    root, extension = item
    return f"{root}^{extension}" if extension else root


def _parse(data: bytes) -> tuple[ElementTree.Element, str | None]:
    """The header's element tree (the body is checked, not built) and the media type of an unstructured body."""
    try:
        if len(data) > MAX_CDA_BYTES:
            raise UnreadableXml("too-large", f"{len(data)} bytes; at most {MAX_CDA_BYTES} are read")
        parsed = _parse_at_component(data)
        if parsed is None:
            parsed = _parse_scanned(data)
    except UnreadableXml as error:
        code = {"too-large": TOO_LARGE, "forbidden": FORBIDDEN_XML}.get(error.reason, NOT_WELL_FORMED)
        raise _refuse([code(str(error))]) from None
    root, media_type = parsed
    if root.tag != _V + "ClinicalDocument":
        raise _refuse([NOT_CDA(f"the root element is {root.tag!r:.120}, not {{{HL7_V3}}}ClinicalDocument")])
    return root, media_type


def _patient(reader: _Reader, document: ElementTree.Element) -> CdaPatient | None:
    targets = document.findall(_path("recordTarget"))[:2]
    role = None if not targets else targets[0].find(_path("patientRole"))
    if role is None:
        reader.findings.append(NO_RECORD_TARGET(where="recordTarget/patientRole"))
        return None
    if len(targets) > 1:
        reader.findings.append(SEVERAL_RECORD_TARGETS(where="recordTarget"))
    where = "recordTarget/patientRole"
    candidates: list[Ins] = []
    other_ids: list[tuple[str, str]] = []
    invalid: list[tuple[str, str, str, str]] = []  # root, extension, where, why
    for index, (root, extension) in enumerate(reader.ids(role, f"{where}/id")):
        at = f"{where}/id[{index}]"
        if root == _INS_C_OID:
            reader.findings.append(LEGACY_INS_C(where=at))
        elif root in _INS_AUTHORITIES:
            try:
                candidates.append(Ins.parse(extension, authority=root))
            except InvalidInput as error:
                invalid.append((root, extension, at, str(error)))
        elif extension:
            other_ids.append((root, extension))
    if len(candidates) > 1:
        reader.findings.append(SEVERAL_INS(where=f"{where}/id"))
    ins = min(candidates, key=lambda ins: not ins.is_production, default=None)
    kept = None if ins is not None else next((item for item in invalid if item[1]), None)
    for item in invalid:
        root, extension, at, why = item
        if item is kept:
            message = f"{extension!r:.40} under {root}: {why}; kept as read for patientId (no valid INS)"
            reader.findings.append(INS_KEPT_AS_READ(message, where=at))
        else:
            instead = f"the INS {ins.value} is used" if ins is not None else "it has no matricule to keep"
            reader.findings.append(BAD_INS(f"{extension!r:.40} under {root}: {why}; {instead}", where=at))

    person = role.find(_path("patient"))
    families: list[tuple[frozenset[str], str]] = []
    givens: list[tuple[frozenset[str], str]] = []
    for name in reader.many(person, _path("name"), f"{where}/patient/name"):
        for kind, parts in (("family", families), ("given", givens)):
            for part in reader.many(name, _path(kind), f"{where}/patient/name/{kind}"):
                text = reader.text(part, f"{where}/patient/name/{kind}")
                if text:
                    qualifiers = reader.attr(part, "qualifier", f"{where}/patient/name/{kind}") or ""
                    parts.append((frozenset(qualifiers.split()), text))

    def qualified(parts: list[tuple[frozenset[str], str]], qualifier: str) -> list[str]:
        return [text for qualifiers, text in parts if qualifier in qualifiers]

    birth_givens = [text for qualifiers, text in givens if not qualifiers] or qualified(givens, "BR")
    birthplace = None if person is None else _find(person, "birthplace", "place", "addr")
    return CdaPatient(
        ins=ins,
        other_ids=tuple(other_ids),
        invalid_ins=tuple((root, extension) for root, extension, _at, _why in invalid),
        birth_family=next(iter(qualified(families, "BR") + [text for _qualifiers, text in families]), None),
        used_family=next(iter(qualified(families, "CL")), None),
        given_names=" ".join(birth_givens) or None,
        first_given=next(iter(qualified(givens, "BR") + [text for qs, text in givens if "CL" not in qs]), None),
        used_given=next(iter(qualified(givens, "CL")), None),
        gender=reader.attr(
            None if person is None else person.find(_path("administrativeGenderCode")),
            "code",
            f"{where}/patient/administrativeGenderCode",
        ),
        birth_date=reader.time(
            None if person is None else person.find(_path("birthTime")), f"{where}/patient/birthTime"
        ),
        birthplace_code=reader.text(
            None if birthplace is None else birthplace.find(_path("county")), f"{where}/patient/birthplace"
        ),
        birthplace_city=reader.text(
            None if birthplace is None else birthplace.find(_path("city")), f"{where}/patient/birthplace"
        ),
        telecoms=reader.telecoms(role, where),
    )


def _person(reader: _Reader, holder: ElementTree.Element, role: str, where: str) -> CdaAuthor:
    """An author or legal authenticator: ``holder`` has ``time`` and the ``role`` element (assignedAuthor...)."""
    entity = holder.find(_path(role))
    at = f"{where}/{role}"
    idnps_root, idnps = _preferred(reader.ids(entity, f"{at}/id"), IDNPS_OID)
    organisation = None if entity is None else entity.find(_path("representedOrganization"))
    organisation_id_root, organisation_id = _preferred(
        reader.ids(organisation, f"{at}/representedOrganization/id"), IDNST_OID
    )
    family, given = reader.name(
        None if entity is None else entity.find(_path("assignedPerson")), f"{at}/assignedPerson"
    )
    return CdaAuthor(
        idnps_root=idnps_root,
        idnps=idnps,
        family=family,
        given=given,
        specialty=reader.code(None if entity is None else entity.find(_path("code")), f"{at}/code"),
        organisation_name=reader.text(
            None if organisation is None else organisation.find(_path("name")), f"{at}/representedOrganization/name"
        ),
        organisation_id_root=organisation_id_root,
        organisation_id=organisation_id,
        time=reader.time(holder.find(_path("time")), f"{where}/time"),
        telecoms=reader.telecoms(entity, at),
    )


def _recipient(reader: _Reader, holder: ElementTree.Element, where: str) -> CdaRecipient | None:
    intended = holder.find(_path("intendedRecipient"))
    if intended is None:
        return None
    at = f"{where}/intendedRecipient"
    ids = reader.ids(intended, f"{at}/id")
    family, given = reader.name(intended.find(_path("informationRecipient")), f"{at}/informationRecipient")
    organisation = _find(intended, "receivedOrganization", "name")
    return CdaRecipient(
        id_root=ids[0][0] if ids else None,
        id=(ids[0][1] or None) if ids else None,
        family=family,
        given=given,
        organisation_name=reader.text(organisation, f"{at}/receivedOrganization/name"),
        telecoms=reader.telecoms(intended, at),
    )


def _replaced_ids(reader: _Reader, document: ElementTree.Element) -> tuple[str, ...]:
    """The ids of ``relatedDocument[@typeCode='RPLC']/parentDocument`` (HL7 CDA R2 4.2.3.1), as document ids."""
    replaced: list[str] = []
    for index, related in enumerate(reader.many(document, _path("relatedDocument"), "relatedDocument")):
        where = f"relatedDocument[{index}]"
        if (reader.attr(related, "typeCode", where) or "").strip().upper() == "RPLC":
            parent = related.find(_path("parentDocument"))
            ids = reader.ids(parent, f"{where}/parentDocument/id")
            replaced += [identifier for identifier in map(_identifier, ids) if identifier]
    return tuple(replaced)


def read_cda_header(data: bytes) -> CdaHeader:
    """Read the header of a CDA R2 document (untrusted bytes) into values.

    :class:`~mssante.errors.InvalidInput` (``MSS-CDA-*`` findings) when the bytes are too large,
    not well-formed, hold a DTD or an entity, are not an HL7 v3 ``ClinicalDocument``, lack its
    ``id``, ``code`` or ``recordTarget``, or hold a value no metadata could carry. Missing optional
    parts read as None or empty; what was tolerated is in :attr:`CdaHeader.findings`.
    """
    document, body_media_type = _parse(bytes(data))
    reader = _Reader()
    document_id = _identifier(reader.instance_id(document.find(_path("id")), "id"))
    if document_id is None:
        reader.findings.append(NO_DOCUMENT_ID(where="id"))
    type_code = reader.code(document.find(_path("code")), "code")
    if type_code is None:
        reader.findings.append(NO_DOCUMENT_CODE(where="code"))
    patient = _patient(reader, document)

    template_ids = tuple(
        item
        for index, element in enumerate(reader.many(document, _path("templateId"), "templateId"))
        if (item := reader.instance_id(element, f"templateId[{index}]")) is not None
    )
    media_type = reader.value(body_media_type, "component/nonXMLBody/text/@mediaType")
    authors = tuple(
        _person(reader, element, "assignedAuthor", f"author[{index}]")
        for index, element in enumerate(reader.many(document, _path("author"), "author"))
    )
    legal = document.find(_path("legalAuthenticator"))
    custodian = _find(document, "custodian", "assignedCustodian", "representedCustodianOrganization")
    custodian_where = "custodian/assignedCustodian/representedCustodianOrganization"
    custodian_id_root, custodian_id = _preferred(reader.ids(custodian, f"{custodian_where}/id"), IDNST_OID)
    recipients = tuple(
        recipient
        for index, element in enumerate(reader.many(document, _path("informationRecipient"), "informationRecipient"))
        if (recipient := _recipient(reader, element, f"informationRecipient[{index}]")) is not None
    )

    event_codes: list[Coding] = []
    practice_setting: Coding | None = None
    service_start: str | None = None
    service_stop: str | None = None
    for index, documentation in enumerate(reader.many(document, _path("documentationOf"), "documentationOf")):
        event = documentation.find(_path("serviceEvent"))
        if event is None:
            continue
        where = f"documentationOf[{index}]/serviceEvent"
        code = reader.code(event.find(_path("code")), f"{where}/code")
        if code is not None:
            event_codes.append(code)
        interval = event.find(_path("effectiveTime"))
        if interval is not None and service_start is None and service_stop is None:
            service_start = reader.time(interval.find(_path("low")), f"{where}/effectiveTime/low") or reader.time(
                interval, f"{where}/effectiveTime"
            )
            service_stop = reader.time(interval.find(_path("high")), f"{where}/effectiveTime/high")
        if practice_setting is None:
            for performer in reader.many(event, _path("performer"), f"{where}/performer"):
                practice_setting = reader.code(
                    _find(performer, "assignedEntity", "representedOrganization", "standardIndustryClassCode"),
                    f"{where}/performer/assignedEntity/representedOrganization/standardIndustryClassCode",
                )
                if practice_setting is not None:
                    break

    facility = _find(document, "componentOf", "encompassingEncounter", "location", "healthCareFacility", "code")
    set_id = _identifier(reader.instance_id(document.find(_path("setId")), "setId"))
    version = reader.attr(document.find(_path("versionNumber")), "value", "versionNumber")
    title = reader.text(document.find(_path("title")), "title")
    confidentiality = reader.code(document.find(_path("confidentialityCode")), "confidentialityCode")
    language_code = reader.attr(document.find(_path("languageCode")), "code", "languageCode")
    effective_time = reader.time(document.find(_path("effectiveTime")), "effectiveTime")
    custodian_name = reader.text(
        None if custodian is None else custodian.find(_path("name")), f"{custodian_where}/name"
    )
    legal_authenticator = None if legal is None else _person(reader, legal, "assignedEntity", "legalAuthenticator")
    facility_type = reader.code(facility, "componentOf/encompassingEncounter/location/healthCareFacility/code")
    if document_id is None or type_code is None or patient is None or not Report(findings=reader.findings).ok:
        raise _refuse(reader.findings, subject=document_id or "ClinicalDocument")
    return CdaHeader(
        document_id=document_id,
        type_code=type_code,
        patient=patient,
        set_id=set_id,
        version=version,
        title=title,
        confidentiality=confidentiality,
        language_code=language_code,
        effective_time=effective_time,
        template_ids=template_ids,
        format_code=format_code_of(template_ids, media_type),
        body_media_type=media_type,
        author=authors[0] if authors else None,
        authors=authors,
        custodian_name=custodian_name,
        custodian_id_root=custodian_id_root,
        custodian_id=custodian_id,
        legal_authenticator=legal_authenticator,
        healthcare_facility_type=facility_type,
        practice_setting=practice_setting,
        event_codes=tuple(event_codes),
        service_start=service_start,
        service_stop=service_stop,
        information_recipients=recipients,
        replaced_ids=_replaced_ids(reader, document),
        findings=tuple(reader.findings),
    )

"""METADATA.XML: the ebRIM 3.0 ``SubmitObjectsRequest`` of one submission set, written and read.

The writer gives what the ebRIM 3.0 schemas accept, with the XDS UUIDs of ITI TF-3 4.2.5. The
reader is tolerant of what real producers write (prefixes, symbolic ids, short association
types, missing slots) and says what it tolerated; the document is untrusted: no DTD, no entity,
a bounded size.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Iterable
from typing import Any
from xml.etree import ElementTree

import attrs

from mssante._xml import UnreadableXml, parse_untrusted
from mssante.errors import InvalidInput
from mssante.report import Finding, Report, Severity
from mssante.xdm import codes as _codes
from mssante.xdm._model import HAS_MEMBER, RPLC, Association, Author, Coding, DocumentEntry, Metadata, SubmissionSet

__all__ = ["LCM", "MAX_METADATA_BYTES", "RIM", "SCHEMES", "read_metadata", "write_metadata"]

LCM = "urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0"
RIM = "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"
MAX_METADATA_BYTES = 16 * 1024 * 1024
"""A METADATA.XML larger than this is not read (a real one is a few kilobytes per document)."""

_R = "{" + RIM + "}"
_SUBMISSION_SET_NODE = "urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd"
_SHORT_TYPES = {"HasMember": HAS_MEMBER, "RPLC": RPLC}
_IHE_RELATIONSHIPS = ("RPLC", "APND", "XFRM", "XFRM_RPLC")
_OASIS_TYPES = {  # relationships some producers type in the OASIS namespace, read as IHE's
    f"urn:oasis:names:tc:ebxml-regrep:AssociationType:{name}": f"urn:ihe:iti:2007:AssociationType:{name}"
    for name in _IHE_RELATIONSHIPS
}
_EBRS_2_1 = frozenset(  # the namespaces of ebXML Registry Services and RIM 2.1, as XDS.a wrote them
    {"urn:oasis:names:tc:ebxml-regrep:registry:xsd:2.1", "urn:oasis:names:tc:ebxml-regrep:rim:xsd:2.1"}
)

SCHEMES = {
    "author": "urn:uuid:93606bcf-9494-43ec-9b4e-a7748d1a838d",
    "classCode": "urn:uuid:41a5887f-8865-4c09-adf7-e362475b143a",
    "confidentialityCode": "urn:uuid:f4f85eac-e6cb-4883-b524-f2705394840f",
    "eventCodeList": "urn:uuid:2c6b8cb7-8b2a-4051-b291-b1ae6a575ef4",
    "formatCode": "urn:uuid:a09d5840-386c-46f2-b5ad-9c3699a4309d",
    "healthcareFacilityTypeCode": "urn:uuid:f33fb8ac-18af-42cc-ae0e-ed0b0bdb91e1",
    "practiceSettingCode": "urn:uuid:cccf5598-8b07-4b77-a05e-ae952c785ead",
    "typeCode": "urn:uuid:f0306f51-975f-434e-a61c-c59651d33983",
    "patientId": "urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427",
    "uniqueId": "urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab",
    "submissionSet.author": "urn:uuid:a7058bb9-b4e4-4307-ba5b-e3f0ab85e12d",
    "submissionSet.contentTypeCode": "urn:uuid:aa543740-bdda-424e-8c96-df4873be8500",
    "submissionSet.uniqueId": "urn:uuid:96fdda7c-d067-4183-912e-bf5ee74998a8",
    "submissionSet.sourceId": "urn:uuid:554ac39e-e3fe-47fe-b233-965d2a147832",
    "submissionSet.patientId": "urn:uuid:6b5aea1a-874d-4603-a4bc-96a0a7b38446",
}
"""The classification and identification schemes of XDS attributes, by attribute name."""

_SINGLE_CODES = {  # DocumentEntry field -> attribute
    "class_code": "classCode",
    "type_code": "typeCode",
    "format_code": "formatCode",
    "healthcare_facility_type_code": "healthcareFacilityTypeCode",
    "practice_setting_code": "practiceSettingCode",
}
_DOCUMENT_SLOTS = {  # DocumentEntry field -> slot (one value)
    "uri": "URI",
    "hash": "hash",
    "size": "size",
    "creation_time": "creationTime",
    "service_start_time": "serviceStartTime",
    "service_stop_time": "serviceStopTime",
    "language_code": "languageCode",
    "source_patient_id": "sourcePatientId",
    "legal_authenticator": "legalAuthenticator",
    "repository_unique_id": "repositoryUniqueId",
}
_SET_SLOTS = ("submissionTime", "intendedRecipient")
_AUTHOR_SLOTS = {
    "authorInstitution": "institutions",
    "authorRole": "roles",
    "authorSpecialty": "specialties",
    "authorTelecommunication": "telecommunications",
}


# Writing


class _Writer:
    """Writes the XML text line by line, as ``ElementTree.indent`` and ``tostring`` would (two spaces a level).

    Classification and identifier ids are UUIDs derived from their object's id.
    """

    def __init__(self) -> None:
        self.counter = 0
        self.lines: list[str] = []

    def next_id(self, owner: str) -> str:
        self.counter += 1
        return _uuid5_url(f"{owner}#{self.counter}")

    def slot(self, depth: int, name: str, values: Iterable[str]) -> None:
        values = [value for value in values if value]
        if not values:
            return
        indent = _INDENT[depth]
        lines = self.lines
        lines.append(f'{indent}<rim:Slot name="{_escape_attribute(name)}">')
        lines.append(f"{indent}  <rim:ValueList>")
        lines.extend(f"{indent}    <rim:Value>{_escape_text(value)}</rim:Value>" for value in values)
        lines.append(f"{indent}  </rim:ValueList>")
        lines.append(f"{indent}</rim:Slot>")

    def localized(self, depth: int, tag: str, text: str) -> None:
        indent = _INDENT[depth]
        if text:
            self.lines.append(f"{indent}<rim:{tag}>")
            self.lines.append(f'{indent}  <rim:LocalizedString value="{_escape_attribute(text)}" />')
            self.lines.append(f"{indent}</rim:{tag}>")
        else:
            self.lines.append(f"{indent}<rim:{tag} />")

    def code(self, depth: int, owner: str, scheme: str, code: Coding) -> None:
        attributes = _attributes(
            ("id", self.next_id(owner)),
            ("classificationScheme", scheme),
            ("classifiedObject", owner),
            ("nodeRepresentation", code.code),
        )
        self.lines.append(f"{_INDENT[depth]}<rim:Classification{attributes}>")
        self.slot(depth + 1, "codingScheme", [code.scheme])
        self.localized(depth + 1, "Name", code.display)
        self.lines.append(f"{_INDENT[depth]}</rim:Classification>")

    def author(self, depth: int, owner: str, scheme: str, author: Author) -> None:
        attributes = _attributes(
            ("id", self.next_id(owner)),
            ("classificationScheme", scheme),
            ("classifiedObject", owner),
            ("nodeRepresentation", ""),
        )
        start = len(self.lines)
        self.slot(depth + 1, "authorPerson", [author.person])
        for slot, field in _AUTHOR_SLOTS.items():
            self.slot(depth + 1, slot, getattr(author, field))
        if len(self.lines) == start:
            self.lines.append(f"{_INDENT[depth]}<rim:Classification{attributes} />")
        else:
            self.lines.insert(start, f"{_INDENT[depth]}<rim:Classification{attributes}>")
            self.lines.append(f"{_INDENT[depth]}</rim:Classification>")

    def identifier(self, depth: int, owner: str, scheme: str, value: str, name: str) -> None:
        if not value:
            return
        attributes = _attributes(
            ("id", self.next_id(owner)), ("registryObject", owner), ("identificationScheme", scheme), ("value", value)
        )
        self.lines.append(f"{_INDENT[depth]}<rim:ExternalIdentifier{attributes}>")
        self.localized(depth + 1, "Name", name)
        self.lines.append(f"{_INDENT[depth]}</rim:ExternalIdentifier>")

    def document(self, depth: int, entry: DocumentEntry) -> None:
        owner = entry.entry_uuid
        pairs = [("id", owner), ("mimeType", entry.mime_type), ("objectType", entry.object_type)]
        if entry.availability_status:
            pairs.append(("status", entry.availability_status))
        self.lines.append(f"{_INDENT[depth]}<rim:ExtrinsicObject{_attributes(*pairs)}>")
        inner = depth + 1
        for field, slot in _DOCUMENT_SLOTS.items():
            self.slot(inner, slot, [getattr(entry, field)])
        self.slot(inner, "sourcePatientInfo", entry.source_patient_info)
        for name, values in entry.extra_slots:
            self.slot(inner, name, values)
        self.localized(inner, "Name", entry.title)
        if entry.comments:
            self.localized(inner, "Description", entry.comments)
        for author in entry.authors:
            self.author(inner, owner, SCHEMES["author"], author)
        for field, attribute in _SINGLE_CODES.items():
            code = getattr(entry, field)
            if code is not None:
                self.code(inner, owner, SCHEMES[attribute], code)
        for code in entry.confidentiality_codes:
            self.code(inner, owner, SCHEMES["confidentialityCode"], code)
        for code in entry.event_codes:
            self.code(inner, owner, SCHEMES["eventCodeList"], code)
        self.identifier(inner, owner, SCHEMES["patientId"], entry.patient_id, "XDSDocumentEntry.patientId")
        self.identifier(inner, owner, SCHEMES["uniqueId"], entry.unique_id, "XDSDocumentEntry.uniqueId")
        self.lines.append(f"{_INDENT[depth]}</rim:ExtrinsicObject>")

    def submission_set(self, depth: int, submission: SubmissionSet) -> None:
        owner = submission.entry_uuid
        self.lines.append(f"{_INDENT[depth]}<rim:RegistryPackage{_attributes(('id', owner))}>")
        inner = depth + 1
        self.slot(inner, "submissionTime", [submission.submission_time])
        self.slot(inner, "intendedRecipient", submission.intended_recipients)
        for name, values in submission.extra_slots:
            self.slot(inner, name, values)
        self.localized(inner, "Name", submission.title)
        if submission.comments:
            self.localized(inner, "Description", submission.comments)
        for author in submission.authors:
            self.author(inner, owner, SCHEMES["submissionSet.author"], author)
        if submission.content_type_code is not None:
            self.code(inner, owner, SCHEMES["submissionSet.contentTypeCode"], submission.content_type_code)
        for attribute, value in (
            ("uniqueId", submission.unique_id),
            ("sourceId", submission.source_id),
            ("patientId", submission.patient_id),
        ):
            scheme = SCHEMES[f"submissionSet.{attribute}"]
            self.identifier(inner, owner, scheme, value, f"XDSSubmissionSet.{attribute}")
        self.lines.append(f"{_INDENT[depth]}</rim:RegistryPackage>")
        attributes = _attributes(
            ("id", self.next_id(owner)), ("classificationNode", _SUBMISSION_SET_NODE), ("classifiedObject", owner)
        )
        self.lines.append(f"{_INDENT[depth]}<rim:Classification{attributes} />")

    def association(self, depth: int, association: Association) -> None:
        attributes = _attributes(
            ("id", association.id),
            ("associationType", association.type),
            ("sourceObject", association.source),
            ("targetObject", association.target),
        )
        if association.status:
            self.lines.append(f"{_INDENT[depth]}<rim:Association{attributes}>")
            self.slot(depth + 1, "SubmissionSetStatus", [association.status])
            self.lines.append(f"{_INDENT[depth]}</rim:Association>")
        else:
            self.lines.append(f"{_INDENT[depth]}<rim:Association{attributes} />")


_INDENT = tuple("  " * depth for depth in range(8))
_ATTRIBUTE_ESCAPES = (
    ("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ('"', "&quot;"), ("\r", "&#13;"), ("\n", "&#10;"), ("\t", "&#09;")
)  # fmt: skip
_NEEDS_ESCAPE = re.compile(r'[&<>"\r\n\t]')


def _unserializable(value: object) -> TypeError:
    return TypeError(f"cannot serialize {value!r} (type {type(value).__name__})")


def _escape_text(text: str) -> str:
    """Character data as ElementTree writes it: ``&``, ``<`` and ``>`` escaped."""
    if not isinstance(text, str):
        raise _unserializable(text)
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    return text


def _escape_attribute(text: str) -> str:
    """An attribute value as ElementTree writes it: markup, quotes and the white space that is not a space escaped."""
    if not isinstance(text, str):
        raise _unserializable(text)
    if _NEEDS_ESCAPE.search(text) is None:
        return text
    for character, reference in _ATTRIBUTE_ESCAPES:
        text = text.replace(character, reference)
    return text


def _attributes(*pairs: tuple[str, str]) -> str:
    return "".join(f' {name}="{_escape_attribute(value)}"' for name, value in pairs)


_URL_NAMESPACE = uuid.NAMESPACE_URL.bytes


def _uuid5_url(name: str) -> str:
    """``urn:uuid:`` and :func:`uuid.uuid5` of ``name`` in the URL namespace, without building a UUID object."""
    digest = bytearray(hashlib.sha1(_URL_NAMESPACE + name.encode("utf-8")).digest()[:16])  # noqa: S324 (RFC 4122)
    digest[6] = (digest[6] & 0x0F) | 0x50
    digest[8] = (digest[8] & 0x3F) | 0x80
    text = digest.hex()
    return f"urn:uuid:{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def write_metadata(metadata: Metadata) -> bytes:
    """The METADATA.XML of ``metadata``: UTF-8, indented, valid against the ebRIM 3.0 schemas."""
    writer = _Writer()
    writer.lines.append(f'<lcm:SubmitObjectsRequest xmlns:lcm="{LCM}" xmlns:rim="{RIM}">')
    writer.lines.append("  <rim:RegistryObjectList>")
    for entry in metadata.documents:
        writer.document(2, entry)
    writer.submission_set(2, metadata.submission_set)
    for association in metadata.associations:
        writer.association(2, association)
    writer.lines.append("  </rim:RegistryObjectList>")
    writer.lines.append("</lcm:SubmitObjectsRequest>\n")
    text = "\n".join(writer.lines)
    return b"<?xml version='1.0' encoding='utf-8'?>\n" + text.encode("utf-8", "xmlcharrefreplace")


# Reading


def _local(tag: object) -> str:
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


_Groups = dict[str, list[ElementTree.Element]]


def _groups(element: ElementTree.Element) -> _Groups:
    """The children of ``element`` by local name, in document order: one pass for every lookup that follows."""
    groups: _Groups = {}
    for child in element:
        tag: object = child.tag
        local = tag.rpartition("}")[2] if isinstance(tag, str) else ""
        found = groups.get(local)
        if found is None:
            groups[local] = [child]
        else:
            found.append(child)
    return groups


_NONE: tuple[ElementTree.Element, ...] = ()  # what a missing group reads as


def _children(element: ElementTree.Element, name: str) -> list[ElementTree.Element]:
    """The children whose local name is ``name`` (the tag ``name`` or ``{namespace}name``), in document order."""
    suffix = "}" + name
    found = []
    for child in element:
        tag: object = child.tag  # a comment's or a processing instruction's is not text
        if isinstance(tag, str) and (tag == name or tag.endswith(suffix)):
            found.append(child)
    return found


def _slots(groups: _Groups) -> dict[str, list[str]]:
    slots: dict[str, list[str]] = {}
    for slot in groups.get("Slot", _NONE):
        values = slots.setdefault(slot.get("name", ""), [])
        for value_list in slot:  # the ValueList children, then their Value children: _children, unrolled
            tag: object = value_list.tag
            if isinstance(tag, str) and (tag == "ValueList" or tag.endswith("}ValueList")):
                for value in value_list:
                    inner: object = value.tag
                    if isinstance(inner, str) and (inner == "Value" or inner.endswith("}Value")):
                        values.append((value.text or "").strip())
    return slots


def _localized(groups: _Groups, tag: str) -> str:
    for holder in groups.get(tag, _NONE):
        for string in _children(holder, "LocalizedString"):
            return string.get("value", "")
    return ""


def _code(classification: ElementTree.Element) -> Coding:
    groups = _groups(classification)
    return Coding(
        code=classification.get("nodeRepresentation", ""),
        scheme=next(iter(_slots(groups).get("codingScheme", [])), ""),
        display=_localized(groups, "Name"),
    )


def _author(classification: ElementTree.Element) -> Author:
    slots = _slots(_groups(classification))
    fields = {field: tuple(slots.get(slot, ())) for slot, field in _AUTHOR_SLOTS.items()}
    return Author(person=next(iter(slots.get("authorPerson", [])), ""), **fields)


def _classifications(groups: _Groups) -> dict[str, list[ElementTree.Element]]:
    found: dict[str, list[ElementTree.Element]] = {}
    for classification in groups.get("Classification", _NONE):
        found.setdefault(classification.get("classificationScheme", ""), []).append(classification)
    return found


def _identifiers(groups: _Groups) -> dict[str, str]:
    return {
        identifier.get("identificationScheme", ""): identifier.get("value", "").strip()
        for identifier in groups.get("ExternalIdentifier", _NONE)
    }


def _uri(element: ElementTree.Element, slots: dict[str, list[str]], findings: list[Finding], where: str) -> str:
    """The URI slot; else the ``uri`` attribute some producers put on the ExtrinsicObject, said (MSS-XDM-031)."""
    slot = next(iter(slots.get("URI", [])), "")
    attribute = next((value.strip() for name, value in element.attrib.items() if name.casefold() == "uri"), None)
    if attribute is None:
        return slot
    if not slot:
        message = f"URI {attribute!r} read from the ExtrinsicObject's attribute, not a URI slot"
        findings.append(_codes.URI_ATTRIBUTE(message, where=where))
        return attribute
    if attribute == slot:
        message = f"the ExtrinsicObject has a uri attribute as well as the URI slot: both say {slot!r}"
        findings.append(_codes.URI_ATTRIBUTE(message, where=where, severity=Severity.INFO))
    else:
        message = f"the URI slot says {slot!r}, the ExtrinsicObject's uri attribute {attribute!r}: the slot is read"
        findings.append(_codes.URI_ATTRIBUTE(message, where=where))
    return slot


def _document(element: ElementTree.Element, findings: list[Finding], where: str) -> DocumentEntry:
    groups = _groups(element)
    slots = _slots(groups)
    classifications = _classifications(groups)
    identifiers = _identifiers(groups)
    known = {*_DOCUMENT_SLOTS.values(), "sourcePatientInfo"}
    single_codes: dict[str, Any] = {
        field: _code(classifications[SCHEMES[attribute]][0])
        for field, attribute in _SINGLE_CODES.items()
        if classifications.get(SCHEMES[attribute])
    }
    entry = DocumentEntry(
        entry_uuid=element.get("id", ""),
        unique_id=identifiers.get(SCHEMES["uniqueId"], ""),
        mime_type=element.get("mimeType", ""),
        object_type=element.get("objectType", ""),
        patient_id=identifiers.get(SCHEMES["patientId"], ""),
        title=_localized(groups, "Name"),
        comments=_localized(groups, "Description"),
        source_patient_info=tuple(slots.get("sourcePatientInfo", ())),
        authors=tuple(_author(item) for item in classifications.get(SCHEMES["author"], [])),
        confidentiality_codes=tuple(_code(item) for item in classifications.get(SCHEMES["confidentialityCode"], [])),
        event_codes=tuple(_code(item) for item in classifications.get(SCHEMES["eventCodeList"], [])),
        extra_slots=tuple((name, tuple(values)) for name, values in slots.items() if name not in known),
        availability_status=element.get("status", "").strip(),
    )
    slot_values: dict[str, Any] = {
        field: next(iter(slots.get(slot, [])), "") for field, slot in _DOCUMENT_SLOTS.items()
    }
    slot_values["uri"] = _uri(element, slots, findings, where)
    return attrs.evolve(entry, **slot_values, **single_codes)


def _submission_set(element: ElementTree.Element) -> SubmissionSet:
    groups = _groups(element)
    slots = _slots(groups)
    classifications = _classifications(groups)
    identifiers = _identifiers(groups)
    content_types = classifications.get(SCHEMES["submissionSet.contentTypeCode"], [])
    return SubmissionSet(
        entry_uuid=element.get("id", ""),
        unique_id=identifiers.get(SCHEMES["submissionSet.uniqueId"], ""),
        source_id=identifiers.get(SCHEMES["submissionSet.sourceId"], ""),
        patient_id=identifiers.get(SCHEMES["submissionSet.patientId"], ""),
        submission_time=next(iter(slots.get("submissionTime", [])), ""),
        title=_localized(groups, "Name"),
        comments=_localized(groups, "Description"),
        content_type_code=_code(content_types[0]) if content_types else None,
        authors=tuple(_author(item) for item in classifications.get(SCHEMES["submissionSet.author"], [])),
        intended_recipients=tuple(slots.get("intendedRecipient", ())),
        extra_slots=tuple((name, tuple(values)) for name, values in slots.items() if name not in _SET_SLOTS),
    )


def _association(element: ElementTree.Element, findings: list[Finding], where: str) -> Association:
    kind = element.get("associationType", "")
    if kind in _SHORT_TYPES:
        findings.append(_codes.SHORT_ASSOCIATION(f"associationType {kind!r} read as {_SHORT_TYPES[kind]}", where=where))
        kind = _SHORT_TYPES[kind]
    elif kind in _OASIS_TYPES:
        findings.append(
            _codes.OASIS_RELATIONSHIP(f"associationType {kind!r} read as {_OASIS_TYPES[kind]}", where=where)
        )
        kind = _OASIS_TYPES[kind]
    return Association(
        id=element.get("id", ""),
        type=kind,
        source=element.get("sourceObject", ""),
        target=element.get("targetObject", ""),
        status=next(iter(_slots(_groups(element)).get("SubmissionSetStatus", [])), ""),
    )


def _parse(data: bytes, where: str) -> ElementTree.Element:
    try:
        return parse_untrusted(data, limit=MAX_METADATA_BYTES)
    except UnreadableXml as error:
        raise _refuse(_codes.BAD_METADATA_XML(str(error), where=where)) from None


def _refuse(finding: Finding) -> InvalidInput:
    return InvalidInput(finding.message, Report(findings=[finding], subject=finding.where))


def read_metadata(data: bytes, *, where: str = "METADATA.XML") -> tuple[Metadata, tuple[Finding, ...]]:
    """Read a METADATA.XML: the metadata and what was tolerated while reading it.

    :class:`~mssante.errors.InvalidInput` when the bytes are not a well-formed, DTD-free
    ``SubmitObjectsRequest``, or do not hold exactly one submission set.
    """
    root = _parse(bytes(data), where)
    if _local(root.tag) != "SubmitObjectsRequest":
        raise _refuse(_codes.NOT_SUBMIT_OBJECTS(f"the root element is {_local(root.tag)!r}", where=where))
    namespace = root.tag[1:].partition("}")[0] if root.tag.startswith("{") else ""
    top = _groups(root)
    leaves = next(iter(top.get("LeafRegistryObjectList", _NONE)), None)
    if namespace in _EBRS_2_1 or leaves is not None:
        held = "" if leaves is None else f", a LeafRegistryObjectList of {len(leaves)} objects"
        message = f"the SubmitObjectsRequest is in {namespace or 'no namespace'}{held}: ebRS 2.1 (XDS.a), not ebRIM 3.0"
        raise _refuse(_codes.EBRS_2_1(message, where=where))
    objects = next(iter(top.get("RegistryObjectList", _NONE)), None)
    if objects is None:
        raise _refuse(_codes.NOT_SUBMIT_OBJECTS("there is no RegistryObjectList", where=where))
    findings: list[Finding] = []
    listed = _groups(objects)
    packages = {element.get("id", ""): element for element in listed.get("RegistryPackage", _NONE)}
    classified: dict[str, str] = {}  # classified object -> the attribute naming the submission set node
    for holder in (objects, *packages.values()):
        kept = listed.get("Classification", _NONE) if holder is objects else _children(holder, "Classification")
        for classification in kept:
            for attribute in ("classificationNode", "classificationScheme"):
                if classification.get(attribute) == _SUBMISSION_SET_NODE:
                    classified.setdefault(classification.get("classifiedObject", ""), attribute)
    sets = [element for key, element in packages.items() if key in classified]
    if len(sets) != 1:
        message = f"{len(sets)} RegistryPackage classified as a submission set"
        raise _refuse(_codes.SUBMISSION_SETS(message, where=where))
    if classified[sets[0].get("id", "")] == "classificationScheme":
        message = f"{sets[0].get('id')!r} is classified with classificationScheme={_SUBMISSION_SET_NODE}"
        findings.append(_codes.SET_BY_SCHEME(message + ", not classificationNode", where=where))
    documents = tuple(
        _document(element, findings, f"{where}: DocumentEntry[{index}]")
        for index, element in enumerate(listed.get("ExtrinsicObject", _NONE))
    )
    associations = tuple(
        _association(element, findings, f"{where}: Association[{index}]")
        for index, element in enumerate(listed.get("Association", _NONE))
    )
    metadata = Metadata(submission_set=_submission_set(sets[0]), documents=documents, associations=associations)
    return metadata, tuple(findings)

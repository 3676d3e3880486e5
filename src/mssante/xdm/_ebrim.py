"""METADATA.XML: the ebRIM 3.0 ``SubmitObjectsRequest`` of one submission set, written and read.

The writer gives what the ebRIM 3.0 schemas accept, with the XDS UUIDs of ITI TF-3 4.2.5. The
reader is tolerant of what real producers write (prefixes, symbolic ids, short association
types, missing slots) and says what it tolerated; the document is untrusted: no DTD, no entity,
a bounded size.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from typing import Any
from xml.etree import ElementTree

import attrs

from mssante._xml import UnreadableXml, parse_untrusted
from mssante.errors import InvalidInput
from mssante.report import Finding, Report, Severity
from mssante.xdm import _codes
from mssante.xdm._model import HAS_MEMBER, RPLC, Association, Author, Code, DocumentEntry, Metadata, SubmissionSet

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
    """Builds the element tree; classification and identifier ids are UUIDs derived from their object's id."""

    def __init__(self) -> None:
        self.counter = 0

    def next_id(self, owner: str) -> str:
        self.counter += 1
        return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'{owner}#{self.counter}')}"

    @staticmethod
    def slot(parent: ElementTree.Element, name: str, values: Iterable[str]) -> None:
        values = [value for value in values if value]
        if not values:
            return
        slot = ElementTree.SubElement(parent, f"{_R}Slot", name=name)
        value_list = ElementTree.SubElement(slot, f"{_R}ValueList")
        for value in values:
            ElementTree.SubElement(value_list, f"{_R}Value").text = value

    @staticmethod
    def localized(parent: ElementTree.Element, tag: str, text: str) -> None:
        element = ElementTree.SubElement(parent, f"{_R}{tag}")
        if text:
            ElementTree.SubElement(element, f"{_R}LocalizedString", value=text)

    def code(self, parent: ElementTree.Element, owner: str, scheme: str, code: Code) -> None:
        classification = ElementTree.SubElement(
            parent,
            f"{_R}Classification",
            id=self.next_id(owner),
            classificationScheme=scheme,
            classifiedObject=owner,
            nodeRepresentation=code.code,
        )
        self.slot(classification, "codingScheme", [code.scheme])
        self.localized(classification, "Name", code.display)

    def author(self, parent: ElementTree.Element, owner: str, scheme: str, author: Author) -> None:
        classification = ElementTree.SubElement(
            parent,
            f"{_R}Classification",
            id=self.next_id(owner),
            classificationScheme=scheme,
            classifiedObject=owner,
            nodeRepresentation="",
        )
        self.slot(classification, "authorPerson", [author.person])
        for slot, field in _AUTHOR_SLOTS.items():
            self.slot(classification, slot, getattr(author, field))

    def identifier(self, parent: ElementTree.Element, owner: str, scheme: str, value: str, name: str) -> None:
        if not value:
            return
        identifier = ElementTree.SubElement(
            parent,
            f"{_R}ExternalIdentifier",
            id=self.next_id(owner),
            registryObject=owner,
            identificationScheme=scheme,
            value=value,
        )
        self.localized(identifier, "Name", name)

    def document(self, parent: ElementTree.Element, entry: DocumentEntry) -> None:
        owner = entry.entry_uuid
        element = ElementTree.SubElement(
            parent, f"{_R}ExtrinsicObject", id=owner, mimeType=entry.mime_type, objectType=entry.object_type
        )
        if entry.availability_status:
            element.set("status", entry.availability_status)
        for field, slot in _DOCUMENT_SLOTS.items():
            self.slot(element, slot, [getattr(entry, field)])
        self.slot(element, "sourcePatientInfo", entry.source_patient_info)
        for name, values in entry.extra_slots:
            self.slot(element, name, values)
        self.localized(element, "Name", entry.title)
        if entry.comments:
            self.localized(element, "Description", entry.comments)
        for author in entry.authors:
            self.author(element, owner, SCHEMES["author"], author)
        for field, attribute in _SINGLE_CODES.items():
            code = getattr(entry, field)
            if code is not None:
                self.code(element, owner, SCHEMES[attribute], code)
        for code in entry.confidentiality_codes:
            self.code(element, owner, SCHEMES["confidentialityCode"], code)
        for code in entry.event_codes:
            self.code(element, owner, SCHEMES["eventCodeList"], code)
        self.identifier(element, owner, SCHEMES["patientId"], entry.patient_id, "XDSDocumentEntry.patientId")
        self.identifier(element, owner, SCHEMES["uniqueId"], entry.unique_id, "XDSDocumentEntry.uniqueId")

    def submission_set(self, parent: ElementTree.Element, submission: SubmissionSet) -> None:
        owner = submission.entry_uuid
        element = ElementTree.SubElement(parent, f"{_R}RegistryPackage", id=owner)
        self.slot(element, "submissionTime", [submission.submission_time])
        self.slot(element, "intendedRecipient", submission.intended_recipients)
        for name, values in submission.extra_slots:
            self.slot(element, name, values)
        self.localized(element, "Name", submission.title)
        if submission.comments:
            self.localized(element, "Description", submission.comments)
        for author in submission.authors:
            self.author(element, owner, SCHEMES["submissionSet.author"], author)
        if submission.content_type_code is not None:
            self.code(element, owner, SCHEMES["submissionSet.contentTypeCode"], submission.content_type_code)
        for attribute, value in (
            ("uniqueId", submission.unique_id),
            ("sourceId", submission.source_id),
            ("patientId", submission.patient_id),
        ):
            scheme = SCHEMES[f"submissionSet.{attribute}"]
            self.identifier(element, owner, scheme, value, f"XDSSubmissionSet.{attribute}")
        ElementTree.SubElement(
            parent,
            f"{_R}Classification",
            id=self.next_id(owner),
            classificationNode=_SUBMISSION_SET_NODE,
            classifiedObject=owner,
        )

    def association(self, parent: ElementTree.Element, association: Association) -> None:
        element = ElementTree.SubElement(
            parent,
            f"{_R}Association",
            id=association.id,
            associationType=association.type,
            sourceObject=association.source,
            targetObject=association.target,
        )
        self.slot(element, "SubmissionSetStatus", [association.status])


def write_metadata(metadata: Metadata) -> bytes:
    """The METADATA.XML of ``metadata``: UTF-8, indented, valid against the ebRIM 3.0 schemas."""
    ElementTree.register_namespace("lcm", LCM)
    ElementTree.register_namespace("rim", RIM)
    root = ElementTree.Element(f"{{{LCM}}}SubmitObjectsRequest")
    objects = ElementTree.SubElement(root, f"{_R}RegistryObjectList")
    writer = _Writer()
    for entry in metadata.documents:
        writer.document(objects, entry)
    writer.submission_set(objects, metadata.submission_set)
    for association in metadata.associations:
        writer.association(objects, association)
    ElementTree.indent(root)
    written: bytes = ElementTree.tostring(root, encoding="utf-8", xml_declaration=True)
    return written + b"\n"


# Reading


def _local(tag: object) -> str:
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def _children(element: ElementTree.Element, name: str) -> Iterator[ElementTree.Element]:
    return (child for child in element if _local(child.tag) == name)


def _slots(element: ElementTree.Element) -> dict[str, list[str]]:
    slots: dict[str, list[str]] = {}
    for slot in _children(element, "Slot"):
        values = slots.setdefault(slot.get("name", ""), [])
        for value_list in _children(slot, "ValueList"):
            values.extend((value.text or "").strip() for value in _children(value_list, "Value"))
    return slots


def _localized(element: ElementTree.Element, tag: str) -> str:
    for holder in _children(element, tag):
        for string in _children(holder, "LocalizedString"):
            return string.get("value", "")
    return ""


def _code(classification: ElementTree.Element) -> Code:
    return Code(
        code=classification.get("nodeRepresentation", ""),
        scheme=next(iter(_slots(classification).get("codingScheme", [])), ""),
        display=_localized(classification, "Name"),
    )


def _author(classification: ElementTree.Element) -> Author:
    slots = _slots(classification)
    fields = {field: tuple(slots.get(slot, ())) for slot, field in _AUTHOR_SLOTS.items()}
    return Author(person=next(iter(slots.get("authorPerson", [])), ""), **fields)


def _classifications(element: ElementTree.Element) -> dict[str, list[ElementTree.Element]]:
    found: dict[str, list[ElementTree.Element]] = {}
    for classification in _children(element, "Classification"):
        found.setdefault(classification.get("classificationScheme", ""), []).append(classification)
    return found


def _identifiers(element: ElementTree.Element) -> dict[str, str]:
    return {
        identifier.get("identificationScheme", ""): identifier.get("value", "").strip()
        for identifier in _children(element, "ExternalIdentifier")
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
    slots = _slots(element)
    classifications = _classifications(element)
    identifiers = _identifiers(element)
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
        title=_localized(element, "Name"),
        comments=_localized(element, "Description"),
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
    slots = _slots(element)
    classifications = _classifications(element)
    identifiers = _identifiers(element)
    content_types = classifications.get(SCHEMES["submissionSet.contentTypeCode"], [])
    return SubmissionSet(
        entry_uuid=element.get("id", ""),
        unique_id=identifiers.get(SCHEMES["submissionSet.uniqueId"], ""),
        source_id=identifiers.get(SCHEMES["submissionSet.sourceId"], ""),
        patient_id=identifiers.get(SCHEMES["submissionSet.patientId"], ""),
        submission_time=next(iter(slots.get("submissionTime", [])), ""),
        title=_localized(element, "Name"),
        comments=_localized(element, "Description"),
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
        status=next(iter(_slots(element).get("SubmissionSetStatus", [])), ""),
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
    leaves = next(_children(root, "LeafRegistryObjectList"), None)
    if namespace in _EBRS_2_1 or leaves is not None:
        held = "" if leaves is None else f", a LeafRegistryObjectList of {len(leaves)} objects"
        message = f"the SubmitObjectsRequest is in {namespace or 'no namespace'}{held}: ebRS 2.1 (XDS.a), not ebRIM 3.0"
        raise _refuse(_codes.EBRS_2_1(message, where=where))
    objects = next(_children(root, "RegistryObjectList"), None)
    if objects is None:
        raise _refuse(_codes.NOT_SUBMIT_OBJECTS("there is no RegistryObjectList", where=where))
    findings: list[Finding] = []
    packages = {element.get("id", ""): element for element in _children(objects, "RegistryPackage")}
    classified: dict[str, str] = {}  # classified object -> the attribute naming the submission set node
    for holder in (objects, *packages.values()):
        for classification in _children(holder, "Classification"):
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
        for index, element in enumerate(_children(objects, "ExtrinsicObject"))
    )
    associations = tuple(
        _association(element, findings, f"{where}: Association[{index}]")
        for index, element in enumerate(_children(objects, "Association"))
    )
    metadata = Metadata(submission_set=_submission_set(sets[0]), documents=documents, associations=associations)
    return metadata, tuple(findings)

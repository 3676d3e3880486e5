"""Every package the SDK writes, read by a second, independent reader: zipfile, lxml and the ebRIM 3.0 XSD.

The reader here shares no code with :mod:`mssante.xdm`: the XDS UUIDs are written out from ITI TF-3 4.2.5 (as
``../shared/spec/xdm.md`` §1.3 lists them), METADATA.XML is validated against the OASIS ebRIM 3.0 schemas and
queried with XPath, and the documents' SHA-1 and sizes are computed from the ZIP entries. What it finds must be
what the SDK says the package holds.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import zipfile
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from mssante.xdm import Package, validate

DATA = Path(__file__).parent.parent / "data" / "xdm"
FIXTURE = DATA / "cisis-BIO-TROD_2024.01_COVID-19.xml"
EXAMPLES = sorted((DATA / "ansforge-examples").glob("*.xml"))
AT = dt.datetime(2024, 1, 16, 8, 0, tzinfo=dt.timezone.utc)
CONTENT = {"content_type_code": {"code": "26", "scheme": "1.2.250.1.213.2.2"}}

NS = {
    "lcm": "urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0",
    "rim": "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0",
}
DOCUMENT_SCHEMES = {  # ITI TF-3 4.2.5, DocumentEntry
    "classCode": "urn:uuid:41a5887f-8865-4c09-adf7-e362475b143a",
    "typeCode": "urn:uuid:f0306f51-975f-434e-a61c-c59651d33983",
    "formatCode": "urn:uuid:a09d5840-386c-46f2-b5ad-9c3699a4309d",
    "healthcareFacilityTypeCode": "urn:uuid:f33fb8ac-18af-42cc-ae0e-ed0b0bdb91e1",
    "practiceSettingCode": "urn:uuid:cccf5598-8b07-4b77-a05e-ae952c785ead",
    "confidentialityCode": "urn:uuid:f4f85eac-e6cb-4883-b524-f2705394840f",
}
DE_PATIENT_ID = "urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427"
DE_UNIQUE_ID = "urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab"
SS_NODE = "urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd"
SS_CONTENT_TYPE = "urn:uuid:aa543740-bdda-424e-8c96-df4873be8500"
SS_UNIQUE_ID = "urn:uuid:96fdda7c-d067-4183-912e-bf5ee74998a8"
SS_SOURCE_ID = "urn:uuid:554ac39e-e3fe-47fe-b233-965d2a147832"
SS_PATIENT_ID = "urn:uuid:6b5aea1a-874d-4603-a4bc-96a0a7b38446"
HAS_MEMBER = "urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember"
STABLE = "urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1"


@pytest.fixture(scope="module")
def schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(DATA / "ebrim-3.0-xsd" / "lcm.xsd")))


def one(element: Any, path: str) -> Any:
    found = element.xpath(path, namespaces=NS)
    assert len(found) == 1, (path, found)
    return found[0]


def code_of(owner: Any, scheme: str) -> tuple[str, str, str] | None:
    """(code, codingScheme, display) of the one classification of ``owner`` under ``scheme``."""
    found = owner.xpath(f"rim:Classification[@classificationScheme='{scheme}']", namespaces=NS)
    if not found:
        return None
    assert len(found) == 1
    classification = found[0]
    assert classification.get("classifiedObject") == owner.get("id")
    scheme_values = classification.xpath("rim:Slot[@name='codingScheme']/rim:ValueList/rim:Value/text()", namespaces=NS)
    display = classification.xpath("rim:Name/rim:LocalizedString/@value", namespaces=NS)
    return classification.get("nodeRepresentation"), "".join(scheme_values), "".join(display)


def slot(owner: Any, name: str) -> list[str]:
    return [
        str(value) for value in owner.xpath(f"rim:Slot[@name='{name}']/rim:ValueList/rim:Value/text()", namespaces=NS)
    ]


def identifier(owner: Any, scheme: str) -> str:
    found = owner.xpath(f"rim:ExternalIdentifier[@identificationScheme='{scheme}']", namespaces=NS)
    assert len(found) <= 1
    if not found:
        return ""
    assert found[0].get("registryObject") == owner.get("id")
    return str(found[0].get("value"))


def as_tuple(code: Any) -> tuple[str, str, str] | None:
    return None if code is None else (code.code, code.scheme, code.display)


def read_independently(data: bytes, schema: etree.XMLSchema) -> dict[str, Any]:
    """What the package holds, as zipfile, the XSD and XPath see it."""
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert archive.testzip() is None
    names = archive.namelist()
    assert names[:4] == ["README.TXT", "INDEX.HTM", "IHE_XDM/", "IHE_XDM/SUBSET01/"]
    assert all(name == name.upper() for name in names)
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    root = etree.fromstring(archive.read("IHE_XDM/SUBSET01/METADATA.XML"), parser)
    assert schema.validate(root), schema.error_log
    objects = one(root, "/lcm:SubmitObjectsRequest/rim:RegistryObjectList")
    documents = []
    for element in objects.xpath("rim:ExtrinsicObject", namespaces=NS):
        [uri] = slot(element, "URI")
        content = archive.read(f"IHE_XDM/SUBSET01/{uri}")
        [written_hash] = slot(element, "hash")
        [written_size] = slot(element, "size")
        assert written_hash == hashlib.sha1(content).hexdigest()
        assert written_size == str(len(content))
        assert element.get("objectType") == STABLE
        documents.append(
            {
                "id": element.get("id"),
                "uri": uri,
                "hash": written_hash,
                "size": written_size,
                "mime_type": element.get("mimeType"),
                "unique_id": identifier(element, DE_UNIQUE_ID),
                "patient_id": identifier(element, DE_PATIENT_ID),
                "source_patient_id": "".join(slot(element, "sourcePatientId")),
                "codes": {name: code_of(element, scheme) for name, scheme in DOCUMENT_SCHEMES.items()},
            }
        )
    package = one(objects, "rim:RegistryPackage")
    node = one(objects, f"rim:Classification[@classificationNode='{SS_NODE}']")
    assert node.get("classifiedObject") == package.get("id")
    associations = objects.xpath("rim:Association", namespaces=NS)
    assert sorted(association.get("targetObject") for association in associations) == sorted(
        document["id"] for document in documents
    )
    for association in associations:
        assert association.get("associationType") == HAS_MEMBER
        assert association.get("sourceObject") == package.get("id")
        assert slot(association, "SubmissionSetStatus") == ["Original"]
    return {
        "documents": documents,
        "unique_id": identifier(package, SS_UNIQUE_ID),
        "source_id": identifier(package, SS_SOURCE_ID),
        "patient_id": identifier(package, SS_PATIENT_ID),
        "content_type": code_of(package, SS_CONTENT_TYPE),
        "submission_time": "".join(slot(package, "submissionTime")),
    }


def compare(package: Package, data: bytes, schema: etree.XMLSchema) -> None:
    seen = read_independently(data, schema)
    for said in (package, Package.read(data)):  # what the SDK built, and what it reads back
        assert said.metadata is not None
        submission = said.metadata.submission_set
        assert (seen["unique_id"], seen["source_id"], seen["patient_id"]) == (
            submission.unique_id,
            submission.source_id,
            submission.patient_id,
        )
        assert seen["submission_time"] == submission.submission_time
        assert seen["content_type"] == as_tuple(submission.content_type_code)
        assert len(seen["documents"]) == len(said.metadata.documents)
        for document, entry in zip(seen["documents"], said.metadata.documents, strict=True):
            assert document["id"] == entry.entry_uuid
            assert (document["uri"], document["hash"], document["size"]) == (entry.uri, entry.hash, entry.size)
            assert (document["unique_id"], document["patient_id"]) == (entry.unique_id, entry.patient_id)
            assert document["source_patient_id"] == entry.source_patient_id
            assert document["mime_type"] == entry.mime_type
            codes = document["codes"]
            assert codes["classCode"] == as_tuple(entry.class_code)
            assert codes["typeCode"] == as_tuple(entry.type_code)
            assert codes["formatCode"] == as_tuple(entry.format_code)
            assert codes["healthcareFacilityTypeCode"] == as_tuple(entry.healthcare_facility_type_code)
            assert codes["practiceSettingCode"] == as_tuple(entry.practice_setting_code)
            assert codes["confidentialityCode"] == as_tuple(next(iter(entry.confidentiality_codes), None))
            content = dict(said.documents)[entry] if said is package else None
            if content is not None:
                assert hashlib.sha1(content).hexdigest() == document["hash"]


@pytest.mark.parametrize("path", [FIXTURE, *EXAMPLES], ids=[FIXTURE.name, *(path.name for path in EXAMPLES)])
def test_a_second_reader_finds_what_the_sdk_says(path: Path, schema: etree.XMLSchema) -> None:
    package = Package.from_cda(path.read_bytes(), at=AT, submission_set=CONTENT)
    data = package.to_zip()
    compare(package, data, schema)
    seen = read_independently(data, schema)
    [document] = seen["documents"]
    assert document["codes"]["classCode"] is not None  # derived (ASS_X04)
    assert document["codes"]["formatCode"] is not None  # derived (ASS_A11)
    assert seen["content_type"] == ("26", "1.2.250.1.213.2.2", "Analyses médicales biologiques")


def test_several_documents_read_alike(schema: etree.XMLSchema) -> None:
    first = (DATA / "ansforge-examples" / "BIO-TROD_2024.01_Angine.xml").read_bytes()
    second = FIXTURE.read_bytes()
    package = Package.from_cda([first, second], at=AT, submission_set=CONTENT)
    data = package.to_zip()
    compare(package, data, schema)
    assert [document["uri"] for document in read_independently(data, schema)["documents"]] == [
        "DOC0001.XML",
        "DOC0002.XML",
    ]
    assert validate(data, environment="test").ok

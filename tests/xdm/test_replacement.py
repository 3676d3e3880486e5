"""Replacing ("annule et remplace") and deleting a document sent earlier, in an XDM package.

- The CI-SIS volet "Transmission au LPS d'un document CDA provenant d'un courriel MSSanté" describes the requests
  (``contexte-metier.md``) and the errors that refuse them (``error-codes.md``: 900, 901).
- The replacement is an RPLC association (``urn:ihe:iti:2007:AssociationType:RPLC``, IHE ITI TF-3 4.2.2.2) from the
  new DocumentEntry to the replaced document's entryUUID; the replaced document's identifiers are the sender's.
- The deletion carries the latest version, Deprecated (this SDK's reading: the volet does not say how the mail
  carries it).
- The official CI-SIS example ``IMG_CR_IMG_2024.01`` is itself a new version: its relatedDocument RPLC names the
  document it replaces.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

import attrs
import pytest
from lxml import etree

from mssante.errors import InvalidInput
from mssante.report import finding_codes
from mssante.xdm import (
    APPROVED,
    DEPRECATED,
    HAS_MEMBER,
    REQUESTS,
    RPLC,
    Document,
    DocumentRef,
    Package,
    read_cda_header,
    read_metadata,
    validate,
    write_metadata,
)
from mssante.xdm._model import symbolic_id

DATA = Path(__file__).parent.parent / "data" / "xdm"
NEW_VERSION = (DATA / "ansforge-examples" / "IMG_CR_IMG_2024.01_CDA-R2-Niveau-1.xml").read_bytes()
REPLACED_ID = "90E1C8EC-F951-4B26-A305-A34848818DD6"  # what its relatedDocument RPLC names
NEW_ID = "1.2.250.1.213.1.1.1.45.2024.2.1"
# The earlier version, as its sender packed it: the same document under the replaced id, first version, no relation.
EARLIER_VERSION = (
    NEW_VERSION.replace(f'<id root="{NEW_ID}"/>'.encode(), f'<id root="{REPLACED_ID}"/>'.encode(), 1)
    .replace(b'<versionNumber value="2"/>', b'<versionNumber value="1"/>', 1)
    .replace(b'<relatedDocument typeCode="RPLC">', b'<relatedDocument typeCode="XFRM">', 1)
)
OTHER = (DATA / "cisis-BIO-TROD_2024.01_COVID-19.xml").read_bytes()  # a CDA that replaces nothing
AT = dt.datetime(2024, 2, 1, 9, 30, tzinfo=dt.timezone.utc)
CONTENT = {"content_type_code": {"code": "26", "scheme": "1.2.250.1.213.2.2"}}  # JDV_J03, as the other tests give
SCHEMA = etree.XMLSchema(etree.parse(str(DATA / "ebrim-3.0-xsd" / "lcm.xsd")))


def metadata_xml(package: Package) -> bytes:
    return zipfile.ZipFile(io.BytesIO(package.to_zip())).read("IHE_XDM/SUBSET01/METADATA.XML")


def with_metadata(package: Package, edit: tuple[bytes, bytes]) -> bytes:
    """The package's ZIP with its METADATA.XML edited (the documents, their hash and size, unchanged)."""
    source = zipfile.ZipFile(io.BytesIO(package.to_zip()))
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename.endswith("METADATA.XML"):
                assert edit[0] in data, edit[0]
                data = data.replace(*edit)
            target.writestr(info, data)
    return output.getvalue()


def codes_of(report: object) -> set[str]:
    return {finding.code for finding in report}  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def earlier() -> Package:
    return Package.from_cda(EARLIER_VERSION, at=AT - dt.timedelta(days=30), submission_set=CONTENT)


@pytest.fixture(scope="module")
def replacement() -> Package:
    return Package.replacement(NEW_VERSION, at=AT, submission_set=CONTENT)


# --- the replacement package ------------------------------------------------------------------------------------


def test_the_cda_says_what_it_replaces() -> None:
    assert read_cda_header(NEW_VERSION).replaced_ids == (REPLACED_ID,)
    assert read_cda_header(EARLIER_VERSION).replaced_ids == ()
    assert read_cda_header(OTHER).replaced_ids == ()


def test_the_replacement_carries_an_rplc_association_to_the_replaced_entry(
    replacement: Package, earlier: Package
) -> None:
    metadata = replacement.metadata
    assert metadata is not None
    [entry] = metadata.documents
    assert entry.unique_id == NEW_ID
    [earlier_entry] = earlier.metadata.documents if earlier.metadata else ()
    assert earlier_entry.unique_id == REPLACED_ID
    rplc = [association for association in metadata.associations if association.type == RPLC]
    assert [(association.source, association.target) for association in rplc] == [
        (entry.entry_uuid, earlier_entry.entry_uuid)  # the entryUUID the earlier package was sent with
    ]
    assert RPLC == "urn:ihe:iti:2007:AssociationType:RPLC"
    assert [association.type for association in metadata.associations] == [HAS_MEMBER, RPLC]
    assert metadata.request_of(entry) == "replacement"
    assert metadata.replaced_ids(entry) == (earlier_entry.entry_uuid,)
    assert "annule et remplace" in replacement.readme


def test_the_replacement_validates_against_the_ebrim_schema_and_the_validator(replacement: Package) -> None:
    xml = metadata_xml(replacement)
    assert SCHEMA.validate(etree.fromstring(xml)), SCHEMA.error_log
    assert b'associationType="urn:ihe:iti:2007:AssociationType:RPLC"' in xml
    report = validate(replacement.to_zip(), environment="test")
    assert report.ok, report
    assert not report.warnings
    [said] = [finding for finding in report if finding.code == "MSS-XDM-036"]
    assert said.severity.value == "info"
    assert said.where.endswith("DocumentEntry[0]")


def test_it_reads_back_to_equal_metadata(replacement: Package) -> None:
    again = Package.read(replacement.to_zip())
    assert again.metadata == replacement.metadata
    assert again.findings == ()
    assert replacement.metadata is not None
    assert read_metadata(write_metadata(replacement.metadata)) == (replacement.metadata, ())


def test_the_replaced_document_named_by_the_caller(earlier: Package) -> None:
    assert earlier.metadata is not None
    [earlier_entry] = earlier.metadata.documents
    read_back = Package.read(earlier.to_zip()).metadata
    assert read_back is not None
    given = DocumentRef.of(read_back.documents[0])  # kept from the earlier package
    assert given == DocumentRef(unique_id=REPLACED_ID)  # the entryUUID this SDK derived when it packed it
    packed_elsewhere = DocumentRef(unique_id=REPLACED_ID, entry_uuid="2B5C5E3A-0D0B-4C43-9F43-5C5C5E3A0D0B")
    assert packed_elsewhere.entry_uuid == "urn:uuid:2b5c5e3a-0d0b-4c43-9f43-5c5c5e3a0d0b"
    for replaces, target in ((given, earlier_entry.entry_uuid), (packed_elsewhere, packed_elsewhere.entry_uuid),
                             (REPLACED_ID, earlier_entry.entry_uuid)):  # fmt: skip
        package = Package.replacement(NEW_VERSION, at=AT, submission_set=CONTENT, replaces=replaces)
        assert package.metadata is not None
        assert package.metadata.replaced_ids(package.metadata.documents[0]) == (target,)
        assert "MSS-XDM-048" not in codes_of(package.findings)


def test_a_replacement_that_contradicts_the_cda_is_said() -> None:
    package = Package.replacement(NEW_VERSION, at=AT, submission_set=CONTENT, replaces="1.2.250.1.999.1")
    [said] = [finding for finding in package.findings if finding.code == "MSS-XDM-048"]
    assert said.severity.value == "warning"
    assert said.where == "DOC0001.XML: relatedDocument"
    assert REPLACED_ID in said.message


def test_a_replacement_needs_to_know_what_it_replaces() -> None:
    with pytest.raises(InvalidInput) as caught:
        Package.replacement(OTHER, at=AT, submission_set=CONTENT)  # no relatedDocument, nothing given
    assert caught.value.report.codes == ("MSS-XDM-014",)
    assert Package.replacement(OTHER, at=AT, submission_set=CONTENT, replaces="1.2.250.1.999.1").metadata is not None
    with pytest.raises(InvalidInput) as caught:
        Package.replacement(NEW_VERSION, at=AT, submission_set=CONTENT, replaces=NEW_ID)  # itself
    assert caught.value.report.codes == ("MSS-XDM-035",)


def test_a_new_version_packed_as_a_new_document_is_said() -> None:
    package = Package.from_cda(NEW_VERSION, at=AT, submission_set=CONTENT)
    [said] = [finding for finding in package.findings if finding.code == "MSS-XDM-047"]
    assert said.severity.value == "info"  # the verdict is unchanged: a transmission, said
    assert REPLACED_ID in said.message
    assert package.metadata is not None
    assert [association.type for association in package.metadata.associations] == [HAS_MEMBER]
    assert package.metadata.request_of(package.metadata.documents[0]) == "transmission"
    assert validate(package, environment="test").ok


@pytest.mark.parametrize(
    "value",
    ["", "not-a-uuid", "urn:uuid:123", "urn:oid:1.2.3"],
)
def test_a_reference_is_a_uuid_entry_id(value: str) -> None:
    with pytest.raises(InvalidInput):
        DocumentRef(unique_id=REPLACED_ID, entry_uuid=value)
    with pytest.raises(InvalidInput):
        DocumentRef(unique_id=" ")


# --- the validator's rules on RPLC associations -------------------------------------------------------------------


def test_an_rplc_from_no_entry_of_the_package_is_an_error(replacement: Package) -> None:
    assert replacement.metadata is not None
    source = replacement.metadata.documents[0].entry_uuid
    elsewhere = symbolic_id("1.2.250.1.999.2", "document")
    rplc = f'sourceObject="{source}" targetObject'
    data = with_metadata(replacement, (rplc.encode(), rplc.replace(source, elsewhere).encode()))
    report = validate(data, environment="test")
    assert "MSS-XDM-033" in codes_of(report.errors)
    assert "MSS-XDM-036" not in report.codes


def test_an_rplc_to_no_uuid_is_an_error(replacement: Package) -> None:
    target = DocumentRef(unique_id=REPLACED_ID).entry_uuid
    data = with_metadata(replacement, (f'targetObject="{target}"'.encode(), f'targetObject="{REPLACED_ID}"'.encode()))
    report = validate(data, environment="test")
    assert "MSS-XDM-034" in codes_of(report.errors)


def test_an_rplc_within_the_package_is_an_error(replacement: Package) -> None:
    assert replacement.metadata is not None
    entry = replacement.metadata.documents[0].entry_uuid
    target = DocumentRef(unique_id=REPLACED_ID).entry_uuid
    data = with_metadata(replacement, (f'targetObject="{target}"'.encode(), f'targetObject="{entry}"'.encode()))
    report = validate(data, environment="test")
    assert "MSS-XDM-035" in codes_of(report.errors)


@pytest.mark.parametrize(
    ("written", "code", "severity"),
    [
        ("urn:oasis:names:tc:ebxml-regrep:AssociationType:RPLC", "MSS-XDM-037", "warning"),
        ("RPLC", "MSS-XDM-023", "info"),
    ],
)
def test_other_spellings_of_rplc_are_read_as_it(replacement: Package, written: str, code: str, severity: str) -> None:
    data = with_metadata(replacement, (RPLC.encode(), written.encode()))
    package = Package.read(data)
    [said] = [finding for finding in package.findings if finding.code == code]
    assert said.severity.value == severity
    assert package.metadata is not None
    assert package.metadata.request_of(package.metadata.documents[0]) == "replacement"
    report = validate(package, environment="test")
    assert report.ok
    assert "MSS-XDM-036" in report.codes


# --- the deletion request ---------------------------------------------------------------------------------------


def test_the_deletion_request_carries_the_latest_version_deprecated() -> None:
    deletion = Package.deletion(NEW_VERSION, at=AT, submission_set=CONTENT)
    sent = Package.from_cda(NEW_VERSION, at=AT - dt.timedelta(days=1), submission_set=CONTENT)
    assert deletion.metadata is not None
    assert sent.metadata is not None
    [entry], [sent_entry] = deletion.metadata.documents, sent.metadata.documents
    assert (entry.unique_id, entry.entry_uuid) == (sent_entry.unique_id, sent_entry.entry_uuid)  # the same document
    assert (entry.availability_status, entry.deprecated) == (DEPRECATED, True)
    assert deletion.metadata.request_of(entry) == "deletion"
    assert REQUESTS == ("transmission", "replacement", "deletion")
    assert "MSS-XDM-047" not in codes_of(deletion.findings)  # what it replaced is not the question here
    assert [association.type for association in deletion.metadata.associations] == [HAS_MEMBER]
    xml = metadata_xml(deletion)
    assert SCHEMA.validate(etree.fromstring(xml)), SCHEMA.error_log
    assert b'status="urn:oasis:names:tc:ebxml-regrep:StatusType:Deprecated"' in xml
    assert Package.read(deletion.to_zip()).metadata == deletion.metadata
    report = validate(deletion.to_zip(), environment="test")
    assert report.ok, report
    assert "MSS-XDM-038" in report.codes
    assert "demande de suppression" in deletion.readme
    elsewhere = "urn:uuid:2b5c5e3a-0d0b-4c43-9f43-5c5c5e3a0d0b"  # as a package built elsewhere named it
    named = Package.deletion(NEW_VERSION, at=AT, submission_set=CONTENT, document={"entry_uuid": elsewhere})
    assert named.metadata is not None
    assert named.metadata.documents[0].entry_uuid == elsewhere


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (APPROVED, None),
        ("urn:oasis:names:tc:ebxml-regrep:StatusType:Submitted", "MSS-XDM-039"),
        ("Deprecated", "MSS-XDM-039"),
    ],
)
def test_an_availability_status_neither_approved_nor_deprecated_is_said(status: str, code: str | None) -> None:
    package = Package.from_cda(OTHER, at=AT, submission_set=CONTENT)
    assert package.metadata is not None
    entry = attrs.evolve(package.metadata.documents[0], availability_status=status)
    rebuilt = Package.build([Document(content=OTHER, entry=entry)], package.metadata.submission_set)
    report = validate(rebuilt.to_zip(), environment="test")
    assert report.ok
    assert ({code} if code else set()) == codes_of(report) & {"MSS-XDM-038", "MSS-XDM-039"}
    if code:
        [said] = [finding for finding in report if finding.code == code]
        assert said.severity.value == "warning"


def test_the_codes_cite_their_sources() -> None:
    titles = {code.id: code.title for code in finding_codes()}
    for number in (33, 34, 35, 36, 37, 39):
        assert "ITI TF-3" in titles[f"MSS-XDM-0{number}"]
    assert "volet" in titles["MSS-XDM-038"]
    assert "HL7 CDA R2" in titles["MSS-XDM-047"]
    assert "HL7 CDA R2" in titles["MSS-XDM-048"]

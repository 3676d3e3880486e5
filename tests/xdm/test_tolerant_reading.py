"""Reading what real producers write, and saying what was tolerated.

- Version-control folders (``.svn/``, ``.git/``, ``CVS/``) are skipped like ``__MACOSX/``, with an info finding:
  they are no submission set.
- A ``uri`` written as an attribute of the ExtrinsicObject (not a ``URI`` slot) is read, and said.
- ebRS 2.1 (XDS.a) metadata is named as the unsupported version it is.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

import pytest

from mssante.errors import InvalidInput
from mssante.xdm import Package, read_metadata, validate

DATA = Path(__file__).parent.parent / "data" / "xdm"
CDA = (DATA / "cisis-BIO-TROD_2024.01_COVID-19.xml").read_bytes()
AT = dt.datetime(2024, 1, 16, 8, 0, tzinfo=dt.timezone.utc)
CONTENT = {"content_type_code": {"code": "26", "scheme": "1.2.250.1.213.2.2"}}
METADATA = "IHE_XDM/SUBSET01/METADATA.XML"


@pytest.fixture(scope="module")
def entries() -> dict[str, bytes]:
    data = Package.from_cda(CDA, at=AT, submission_set=CONTENT).to_zip()
    archive = zipfile.ZipFile(io.BytesIO(data))
    return {name: archive.read(name) for name in archive.namelist()}


def rezip(entries: dict[str, bytes]) -> bytes:
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return output.getvalue()


# --- Version-control folders ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "folder",
    ["IHE_XDM/.svn/", "IHE_XDM/CVS/", "IHE_XDM/SUBSET01/.svn/", ".git/", "IHE_XDM/.git/", "IHE_XDM/cvs/"],
)
def test_version_control_folders_are_no_submission_sets(entries: dict[str, bytes], folder: str) -> None:
    changed = dict(entries)
    changed[folder] = b""
    changed[f"{folder}entries"] = b"12\n\ndir\n"
    changed[f"{folder}text-base/METADATA.XML.svn-base"] = entries[METADATA]
    changed[f"{folder}Root"] = b":pserver:anonymous@cvs.example:/cvsroot"
    package = Package.read(rezip(changed))
    assert [subset.directory for subset in package.subsets] == ["SUBSET01"]
    assert sorted(package.subsets[0].files) == ["DOC0001.XML"]
    [said] = [finding for finding in package.findings if finding.code == "MSS-XDM-030"]
    assert said.severity.value == "info"
    assert said.where == folder
    assert "4 entries" in said.message
    assert {f"{folder}entries", f"{folder}Root"} <= set(package.junk)
    report = validate(package, environment="test")
    assert report.ok, report
    assert not report.warnings, report


def test_a_file_named_like_a_folder_is_kept(entries: dict[str, bytes]) -> None:
    changed = {**entries, "IHE_XDM/SUBSET01/CVS": b"a document named CVS"}
    package = Package.read(rezip(changed))
    assert "CVS" in package.subsets[0].files
    assert "MSS-XDM-030" not in {finding.code for finding in package.findings}
    assert "MSS-XDM-018" in validate(package).codes  # named by no entry: said, not dropped


# --- The uri attribute ------------------------------------------------------------------------------------------


def _with_uri_attribute(metadata: bytes, *, keep_slot: bool, value: str = "DOC0001.XML") -> bytes:
    text = metadata.decode("utf-8")
    slot = '<rim:Slot name="URI">\n        <rim:ValueList>\n          <rim:Value>DOC0001.XML</rim:Value>'
    slot += "\n        </rim:ValueList>\n      </rim:Slot>\n      "
    assert slot in text
    if not keep_slot:
        text = text.replace(slot, "", 1)
    return text.replace("<rim:ExtrinsicObject ", f'<rim:ExtrinsicObject uri="{value}" ', 1).encode("utf-8")


def test_a_uri_attribute_is_read_and_said(entries: dict[str, bytes]) -> None:
    changed = dict(entries)
    changed[METADATA] = _with_uri_attribute(entries[METADATA], keep_slot=False)
    package = Package.read(rezip(changed))
    assert package.metadata is not None
    assert package.metadata.documents[0].uri == "DOC0001.XML"
    [said] = [finding for finding in package.findings if finding.code == "MSS-XDM-031"]
    assert said.severity.value == "warning"
    assert said.where == "IHE_XDM/SUBSET01/METADATA.XML: DocumentEntry[0]"
    assert "attribute" in said.message
    report = validate(package, environment="test")
    assert report.ok, report
    assert "MSS-XDM-010" not in report.codes  # the URI was found
    assert "MSS-XDM-018" not in report.codes  # and the file is named by it


def test_a_uri_attribute_next_to_the_slot(entries: dict[str, bytes]) -> None:
    same = _with_uri_attribute(entries[METADATA], keep_slot=True)
    metadata, tolerated = read_metadata(same)
    assert metadata.documents[0].uri == "DOC0001.XML"
    assert [(finding.code, finding.severity.value) for finding in tolerated] == [("MSS-XDM-031", "info")]
    other = _with_uri_attribute(entries[METADATA], keep_slot=True, value="OTHER.XML")
    metadata, tolerated = read_metadata(other)
    assert metadata.documents[0].uri == "DOC0001.XML"  # the slot is the rule
    [said] = tolerated
    assert (said.code, said.severity.value) == ("MSS-XDM-031", "warning")
    assert "OTHER.XML" in said.message


def test_upper_case_uri_attribute(entries: dict[str, bytes]) -> None:
    text = _with_uri_attribute(entries[METADATA], keep_slot=False).replace(b' uri="', b' URI="', 1)
    metadata, tolerated = read_metadata(text)
    assert metadata.documents[0].uri == "DOC0001.XML"
    assert [finding.code for finding in tolerated] == ["MSS-XDM-031"]


# --- ebRS 2.1 (XDS.a) -------------------------------------------------------------------------------------------

XDS_A = b"""<?xml version="1.0" encoding="UTF-8"?>
<rs:SubmitObjectsRequest xmlns:rs="urn:oasis:names:tc:ebxml-regrep:registry:xsd:2.1"
    xmlns="urn:oasis:names:tc:ebxml-regrep:rim:xsd:2.1">
  <LeafRegistryObjectList>
    <ExtrinsicObject id="Document01" mimeType="text/xml"
        objectType="urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1">
      <Slot name="URI"><ValueList><Value>DOC0001.XML</Value></ValueList></Slot>
    </ExtrinsicObject>
    <RegistryPackage id="SubmissionSet01"/>
    <Classification classifiedObject="SubmissionSet01"
        classificationNode="urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd"/>
  </LeafRegistryObjectList>
</rs:SubmitObjectsRequest>
"""


def test_ebrs_2_1_metadata_is_named_as_such() -> None:
    with pytest.raises(InvalidInput) as caught:
        read_metadata(XDS_A)
    [finding] = caught.value.report.findings
    assert finding.code == "MSS-XDM-032"
    assert "2.1" in finding.message
    assert "LeafRegistryObjectList of 3 objects" in finding.message
    assert "RegistryObjectList" not in finding.message.replace("LeafRegistryObjectList", "")


def test_ebrs_2_1_in_a_package(entries: dict[str, bytes]) -> None:
    package = Package.read(rezip({**entries, METADATA: XDS_A}))
    assert package.subsets[0].metadata is None
    assert "DOC0001.XML" in package.subsets[0].files  # the document is kept, not dropped
    report = validate(package)
    assert "MSS-XDM-032" in {finding.code for finding in report.errors}
    assert "MSS-XDM-006" not in report.codes


def test_ebrs_2_1_namespace_without_leaf_list() -> None:
    data = XDS_A.replace(b"LeafRegistryObjectList", b"RegistryObjectList")
    with pytest.raises(InvalidInput) as caught:
        read_metadata(data)
    assert caught.value.report.codes == ("MSS-XDM-032",)

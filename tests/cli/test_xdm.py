"""``mssante xdm inspect | validate | pack | replace | delete`` per the command-line contract."""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
from pathlib import Path

import pytest
from lxml import etree

from mssante.xdm import Document, DocumentEntry, DocumentRef, Package, SubmissionSet
from tests.cli.running import run, run_json
from tests.xdm.test_second_reader import read_independently

DATA = Path(__file__).parent.parent / "data" / "xdm"
CDA = str(DATA / "cisis-BIO-TROD_2024.01_COVID-19.xml")
MIE = str(DATA / "nist-mie-connectathon2011-XDM.zip")
NEGATIVE = str(DATA / "nhind-xd-NEGATIVE-missing-slash-xdm.zip")
AT = "2024-01-16T08:00:00Z"
CONTENT = {"submission_set": {"content_type_code": {"code": "26", "scheme": "1.2.250.1.213.2.2"}}}


@pytest.fixture
def content(tmp_path: Path) -> str:
    """A --metadata file giving the contentTypeCode a CDA header does not (JDV_J03, TRE_R209 26)."""
    path = tmp_path / "content.json"
    path.write_text(json.dumps(CONTENT))
    return str(path)


@pytest.fixture
def packed(tmp_path: Path, content: str) -> Path:
    out = tmp_path / "IHE_XDM.ZIP"
    status, payload = run_json("xdm", "pack", CDA, "--out", str(out), "--at", AT, "--metadata", content)
    assert status == 0, payload
    return out


def test_pack_writes_a_valid_package(packed: Path, tmp_path: Path, content: str) -> None:
    again = ("--out", str(tmp_path / "again.zip"), "--at", AT, "--metadata", content)
    status, payload = run_json("xdm", "pack", CDA, *again)
    assert status == 0
    assert payload["ok"] is True
    assert payload["path"] == str(tmp_path / "again.zip")
    assert payload["documents"][0]["uri"] == "DOC0001.XML"
    assert payload["documents"][0]["patient_id"] == "279035121518989^^^&1.2.250.1.213.1.4.10&ISO^NH"
    assert (tmp_path / "again.zip").read_bytes() == packed.read_bytes()  # same input, same time: same bytes


def test_round_trip_through_the_command_line(packed: Path) -> None:
    status, payload = run_json("xdm", "inspect", str(packed))
    assert status == 0
    [subset] = payload["submission_sets"]
    assert subset["path"] == "IHE_XDM/SUBSET01/"
    assert subset["documents"][0]["type_code"] == "96173-0"
    assert subset["documents"][0]["size"] == str(Path(CDA).stat().st_size)
    assert Package.read(packed.read_bytes()).documents[0][1] == Path(CDA).read_bytes()
    status, payload = run_json("xdm", "validate", str(packed))
    assert status == 0
    assert payload["ok"] is True
    assert {finding["severity"] for finding in payload["findings"]} <= {"warning", "info"}


def test_metadata_overrides_and_recipients(tmp_path: Path) -> None:
    overrides = tmp_path / "metadata.json"
    overrides.write_text(
        json.dumps(
            {
                "document": {
                    "class_code": {"code": "10", "scheme": "1.2.250.1.213.1.1.4.1", "display": "Compte rendu"}
                },
                "submission_set": {"content_type_code": {"code": "04", "scheme": "1.2.250.1.213.2.2"}},
            }
        )
    )
    out = tmp_path / "p.zip"
    recipient = "secretariat@chu-exemple.mssante.fr"
    options = ["--metadata", str(overrides), "--to", recipient, "--source-id", "1.2.250.1.999"]
    status, payload = run_json("xdm", "pack", CDA, "--out", str(out), "--at", AT, *options)
    assert status == 0, payload
    metadata = Package.read(out.read_bytes()).metadata
    assert metadata is not None
    assert metadata.documents[0].class_code is not None
    assert metadata.submission_set.source_id == "1.2.250.1.999"
    assert metadata.submission_set.intended_recipients[0] == "||^^Internet^secretariat@chu-exemple.mssante.fr"


def test_the_vendor_package(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run("xdm", "inspect", MIE)
    assert status == 0
    assert "IHE_XDM/SUBSET01/" in out
    assert "DOC00001.XML" in out
    status, payload = run_json("xdm", "validate", MIE, "--ihe-only")
    assert status == 0
    status, payload = run_json("xdm", "validate", MIE)
    assert status == 1  # not a CI-SIS package: its codes are from the Connectathon
    assert "MSS-JDV-001" in [finding["code"] for finding in payload["findings"]]


def test_the_broken_package() -> None:
    status, payload = run_json("xdm", "validate", NEGATIVE)
    assert status == 1
    assert payload["ok"] is False
    codes = [finding["code"] for finding in payload["findings"]]
    assert "MSS-XDM-027" in codes
    status, out, _ = run("xdm", "validate", NEGATIVE)
    assert status == 1
    assert out.startswith("not valid")
    assert "MSS-XDM-027" in out


@pytest.mark.parametrize(
    "content",
    [b"", b"not a zip", b"PK\x05\x06" + b"\x00" * 18],
    ids=["empty", "text", "empty-central-directory"],
)
def test_unreadable_archives_exit_2_with_one_line(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "bad.zip"
    path.write_bytes(content)
    for command in ("inspect", "validate"):
        status, out, err = run("xdm", command, str(path), "--json")
        assert status in (1, 2)
        assert json.loads(out)["ok"] is False
        assert "Traceback" not in err


@pytest.mark.parametrize(
    ("command", "name", "content", "code"),
    [
        ("validate", "IHE_XDM/SUBSET01/DOC0001.XML", b"\0" * (80 * 1024 * 1024), "MSS-ZIP-006"),
        ("inspect", "../../etc/cron.d/x", b"x", "MSS-ZIP-008"),
    ],
    ids=["zip-bomb", "traversal"],
)
def test_unsafe_archives_are_refused(tmp_path: Path, command: str, name: str, content: bytes, code: str) -> None:
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, content)
    path = tmp_path / "unsafe.zip"
    path.write_bytes(output.getvalue())
    status, payload = run_json("xdm", command, str(path))
    assert status == 2
    assert code in payload["error"]
    assert code in [finding["code"] for finding in payload["findings"]]


def test_pack_refuses_what_is_not_cda(tmp_path: Path) -> None:
    path = tmp_path / "x.xml"
    path.write_bytes(b"<html/>")
    status, payload = run_json("xdm", "pack", str(path), "--out", str(tmp_path / "o.zip"))
    assert status == 2
    assert "MSS-CDA-004" in payload["error"]
    assert not (tmp_path / "o.zip").exists()


@pytest.mark.parametrize("text", ["[]", '{"colour": 1}', "not json", '{"document": {"colour": 1}}'])
def test_pack_refuses_bad_metadata_json(tmp_path: Path, text: str) -> None:
    overrides = tmp_path / "m.json"
    overrides.write_text(text)
    status, payload = run_json("xdm", "pack", CDA, "--out", str(tmp_path / "o.zip"), "--metadata", str(overrides))
    assert status == 2
    assert payload["ok"] is False
    assert not (tmp_path / "o.zip").exists()


def test_pack_does_not_write_an_invalid_package(tmp_path: Path) -> None:
    overrides = tmp_path / "m.json"
    overrides.write_text(json.dumps({"document": {"type_code": {"code": "XXX", "scheme": "2.16.840.1.113883.6.1"}}}))
    out = tmp_path / "o.zip"
    status, payload = run_json("xdm", "pack", CDA, "--out", str(out), "--metadata", str(overrides), "--at", AT)
    assert status == 1
    assert payload["path"] is None
    assert not out.exists()


# --- What pack derives, keeps and asks for ---------------------------------------------------------------------

TEST_INS_ID = '<id extension="279035121518989" root="1.2.250.1.213.1.4.10"/>'
IPP_ID = '<id extension="0456789999" root="1.2.250.1.999.1.1.7898.2"/>'


def test_pack_keeps_an_ins_with_a_wrong_key_and_writes_nothing(tmp_path: Path, content: str) -> None:
    text = Path(CDA).read_text(encoding="utf-8")
    assert TEST_INS_ID in text
    document = tmp_path / "bad-key.xml"
    document.write_text(
        text.replace(TEST_INS_ID, '<id extension="279035121518988" root="1.2.250.1.213.1.4.8"/>' + IPP_ID, 1),
        encoding="utf-8",
    )
    out = tmp_path / "o.zip"
    status, payload = run_json("xdm", "pack", str(document), "--out", str(out), "--at", AT, "--metadata", content)
    assert status == 1
    assert payload["path"] is None
    assert not out.exists()
    assert payload["documents"][0]["patient_id"] == "279035121518988^^^&1.2.250.1.213.1.4.8&ISO^NH"
    codes = {(finding["code"], finding["severity"]) for finding in payload["findings"]}
    assert {("MSS-CDA-015", "warning"), ("MSS-XDM-041", "error")} <= codes
    assert "MSS-XDM-040" not in {code for code, _ in codes}  # not keyed on the local number
    status, out_text, _ = run("xdm", "pack", str(document), "--out", str(out), "--at", AT, "--metadata", content)
    assert status == 1
    assert "not written" in out_text
    assert "MSS-CDA-015" in out_text


def test_pack_asks_for_the_content_type(tmp_path: Path) -> None:
    out = tmp_path / "o.zip"
    status, payload = run_json("xdm", "pack", CDA, "--out", str(out), "--at", AT, "--env", "test")
    assert status == 1
    assert not out.exists()
    [finding] = [finding for finding in payload["findings"] if finding["severity"] == "error"]
    assert finding["code"] == "MSS-XDM-043"
    assert "JDV_J03-XdsContentTypeCode-CISIS" in finding["message"]
    assert (
        '{"submission_set": {"content_type_code": {"code": "<code>", "scheme": "<code system OID>"}}}'
        in (payload["hint"])
    )
    status, text, _ = run("xdm", "pack", CDA, "--out", str(out), "--at", AT)
    assert "--metadata FILE" in text
    assert "content_type_code" in text


def test_pack_derives_the_class_and_format(packed: Path) -> None:
    metadata = Package.read(packed.read_bytes()).metadata
    assert metadata is not None
    entry = metadata.documents[0]
    assert entry.class_code is not None
    assert (entry.class_code.code, entry.class_code.display) == ("52", "Certificat, déclaration")  # ASS_X04
    assert entry.format_code is not None
    assert entry.format_code.code == "urn:ans:ci-sis:trod:2024"  # ASS_A11
    content_type = metadata.submission_set.content_type_code
    assert content_type is not None
    assert content_type.display == "Analyses médicales biologiques"  # completed from JDV_J03


@pytest.mark.parametrize("name", ["OBP-SCM_2024.01.xml", "IMG_CR_IMG_2024.01_CDA-R2-Niveau-1.xml"])
def test_pack_official_examples_in_the_test_environment(tmp_path: Path, content: str, name: str) -> None:
    out = tmp_path / "o.zip"
    example = str(DATA / "ansforge-examples" / name)
    status, payload = run_json("xdm", "pack", example, "--out", str(out), "--metadata", content, "--env", "test")
    assert status == 0, payload
    assert not [finding for finding in payload["findings"] if finding["severity"] != "info"]
    status, payload = run_json("xdm", "validate", "--env", "test", str(out))
    assert status == 0
    assert not [finding for finding in payload["findings"] if finding["severity"] != "info"]


def test_the_package_pack_writes_reads_alike_elsewhere(packed: Path) -> None:
    schema = etree.XMLSchema(etree.parse(str(DATA / "ebrim-3.0-xsd" / "lcm.xsd")))
    seen = read_independently(packed.read_bytes(), schema)
    _, payload = run_json("xdm", "inspect", str(packed))
    [document] = payload["submission_sets"][0]["documents"]
    [independent] = seen["documents"]
    for key in ("uri", "hash", "size", "patient_id", "unique_id", "mime_type"):
        assert independent[key] == document[key], key
    assert independent["codes"]["typeCode"][0] == document["type_code"]


def test_validate_says_a_package_without_patient_or_codes_is_not_valid(tmp_path: Path) -> None:
    entry = DocumentEntry(
        entry_uuid="urn:uuid:00000000-0000-4000-8000-000000000001", unique_id="1.2.3", mime_type="text/xml"
    )
    submission = SubmissionSet(
        entry_uuid="urn:uuid:00000000-0000-4000-8000-000000000002",
        unique_id="1.2.4",
        source_id="1.2.5",
        submission_time="20240116080000",
    )
    path = tmp_path / "bare.zip"
    path.write_bytes(Package.build([Document(content=b"<x/>", entry=entry)], submission).to_zip())
    status, payload = run_json("xdm", "validate", str(path))
    assert status == 1
    errors = {finding["message"].partition(":")[0] for finding in payload["findings"] if finding["severity"] == "error"}
    assert {"no patientId", "no classCode", "no typeCode", "no formatCode"} <= errors
    status, payload = run_json("xdm", "validate", "--ihe-only", str(path))
    assert status == 0


def test_inspect_skips_version_control_folders(packed: Path, tmp_path: Path) -> None:
    archive = zipfile.ZipFile(packed)
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w") as changed:
        for name in archive.namelist():
            changed.writestr(name, archive.read(name))
        changed.writestr("IHE_XDM/.svn/entries", b"12\n")
    path = tmp_path / "svn.zip"
    path.write_bytes(output.getvalue())
    status, payload = run_json("xdm", "inspect", str(path))
    assert status == 0
    assert [subset["path"] for subset in payload["submission_sets"]] == ["IHE_XDM/SUBSET01/"]
    assert "IHE_XDM/.svn/entries" in payload["junk"]
    assert ("MSS-XDM-030", "info") in {(finding["code"], finding["severity"]) for finding in payload["findings"]}


def test_validate_in_the_test_environment(packed: Path) -> None:
    _, payload = run_json("xdm", "validate", str(packed))
    assert "MSS-XDM-044" in {f["code"] for f in payload["findings"] if f["severity"] == "warning"}
    status, payload = run_json("xdm", "validate", "--env", "test", str(packed))
    assert status == 0
    assert "MSS-XDM-044" in {f["code"] for f in payload["findings"] if f["severity"] == "info"}
    assert "MSS-XDM-044" not in {f["code"] for f in payload["findings"] if f["severity"] == "warning"}


# --- replacing and deleting a document sent earlier ----------------------------------------------------------------

NEW_VERSION = str(DATA / "ansforge-examples" / "IMG_CR_IMG_2024.01_CDA-R2-Niveau-1.xml")
REPLACED_ID = "90E1C8EC-F951-4B26-A305-A34848818DD6"  # what its relatedDocument typeCode=RPLC names


def test_replace_writes_a_package_with_an_rplc_association(tmp_path: Path, content: str) -> None:
    out = tmp_path / "IHE_XDM.ZIP"
    status, payload = run_json("xdm", "replace", NEW_VERSION, "--out", str(out), "--at", AT, "--metadata", content,
                               "--env", "test")  # fmt: skip
    assert status == 0, payload
    [document] = payload["documents"]
    replaced = DocumentRef(unique_id=REPLACED_ID).entry_uuid  # the CDA's, its entryUUID as this SDK derives it
    assert (document["request"], document["replaces"]) == ("replacement", [replaced])
    assert [finding["code"] for finding in payload["findings"] if finding["code"] == "MSS-XDM-036"] == ["MSS-XDM-036"]
    metadata = zipfile.ZipFile(io.BytesIO(out.read_bytes())).read("IHE_XDM/SUBSET01/METADATA.XML")
    schema = etree.XMLSchema(etree.parse(str(DATA / "ebrim-3.0-xsd" / "lcm.xsd")))
    assert schema.validate(etree.fromstring(metadata)), schema.error_log
    status, inspected = run_json("xdm", "inspect", str(out))
    assert inspected["submission_sets"][0]["documents"][0]["replaces"] == [replaced]
    elsewhere = "2b5c5e3a-0d0b-4c43-9f43-5c5c5e3a0d0b"
    status, payload = run_json("xdm", "replace", NEW_VERSION, "--replaces", REPLACED_ID, "--entry-uuid", elsewhere,
                               "--out", str(out), "--at", AT, "--metadata", content, "--env", "test")  # fmt: skip
    assert (status, payload["documents"][0]["replaces"]) == (0, [f"urn:uuid:{elsewhere}"])


def test_replace_needs_the_replaced_document(tmp_path: Path, content: str) -> None:
    out = tmp_path / "IHE_XDM.ZIP"
    status, payload = run_json("xdm", "replace", CDA, "--out", str(out), "--metadata", content)  # no relatedDocument
    assert status == 2
    assert "relatedDocument" in payload["error"]
    status, payload = run_json("xdm", "replace", CDA, "--entry-uuid", "2b5c5e3a-0d0b-4c43-9f43-5c5c5e3a0d0b",
                               "--out", str(out), "--metadata", content)  # fmt: skip
    assert status == 2
    status, payload = run_json("xdm", "replace", CDA, "--replaces", "1.2.250.1.999.1", "--entry-uuid", "not-a-uuid",
                               "--out", str(out), "--metadata", content)  # fmt: skip
    assert status == 2
    assert not out.exists()


def test_delete_writes_the_deletion_request(tmp_path: Path, content: str) -> None:
    out = tmp_path / "IHE_XDM.ZIP"
    status, payload = run_json("xdm", "delete", CDA, "--out", str(out), "--at", AT, "--metadata", content)
    assert status == 0, payload
    [document] = payload["documents"]
    assert document["request"] == "deletion"
    assert "MSS-XDM-038" in [finding["code"] for finding in payload["findings"]]
    sent = Package.from_cda(Path(CDA).read_bytes(), at=dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc),
                            submission_set=CONTENT["submission_set"])  # fmt: skip
    assert sent.metadata is not None
    assert document["entry_uuid"] == sent.metadata.documents[0].entry_uuid  # the document as it was sent
    status, payload = run_json("xdm", "delete", CDA, "--entry-uuid", "2B5C5E3A-0D0B-4C43-9F43-5C5C5E3A0D0B",
                               "--out", str(out), "--at", AT, "--metadata", content)  # fmt: skip
    assert (status, payload["documents"][0]["entry_uuid"]) == (0, "urn:uuid:2b5c5e3a-0d0b-4c43-9f43-5c5c5e3a0d0b")
    status, validated = run_json("xdm", "validate", "--env", "test", str(out))
    assert status == 0
    assert validated["submission_sets"][0]["documents"][0]["request"] == "deletion"
    status, payload = run_json("xdm", "delete", CDA, "--entry-uuid", "not-a-uuid", "--out", str(tmp_path / "x.zip"))
    assert status == 2
    assert "not a UUID" in payload["error"]

"""``mssante xdm inspect | validate | pack`` per the command-line contract."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest

from mssante.xdm import Package
from tests.cli.running import run, run_json

DATA = Path(__file__).parent.parent / "data" / "xdm"
CDA = str(DATA / "cisis-BIO-TROD_2024.01_COVID-19.xml")
MIE = str(DATA / "nist-mie-connectathon2011-XDM.zip")
NEGATIVE = str(DATA / "nhind-xd-NEGATIVE-missing-slash-xdm.zip")
AT = "2024-01-16T08:00:00Z"


@pytest.fixture
def packed(tmp_path: Path) -> Path:
    out = tmp_path / "IHE_XDM.ZIP"
    status, payload = run_json("xdm", "pack", CDA, "--out", str(out), "--at", AT)
    assert status == 0, payload
    return out


def test_pack_writes_a_valid_package(packed: Path, tmp_path: Path) -> None:
    status, payload = run_json("xdm", "pack", CDA, "--out", str(tmp_path / "again.zip"), "--at", AT)
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


def test_validate_in_the_test_environment(packed: Path) -> None:
    _, payload = run_json("xdm", "validate", str(packed))
    assert "MSS-XDM-044" in {f["code"] for f in payload["findings"] if f["severity"] == "warning"}
    status, payload = run_json("xdm", "validate", "--env", "test", str(packed))
    assert status == 0
    assert "MSS-XDM-044" in {f["code"] for f in payload["findings"] if f["severity"] == "info"}
    assert "MSS-XDM-044" not in {f["code"] for f in payload["findings"] if f["severity"] == "warning"}

"""``mssante message inspect | lint | compose`` and ``mssante mdn parse | build`` per the command-line contract."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.running import run, run_json

DATA = Path(__file__).parent.parent / "data" / "xdm"
CDA = str(DATA / "cisis-BIO-TROD_2024.01_COVID-19.xml")
AT = "2024-01-16T08:00:00Z"
DOCTOR = "pierre.didot@pharmacie-4-cantons.mssante.fr"
PATIENT = "279035121518989@patient.mssante.fr"


@pytest.fixture
def composed(tmp_path: Path) -> Path:
    pdf = tmp_path / "cr.pdf"
    pdf.write_bytes(b"%PDF-1.4\n%%EOF\n")
    out = tmp_path / "message.eml"
    status, payload = run_json(
        "message", "compose", "--from", DOCTOR, "--from-name", "Dr Pierre DIDOT", "--to", PATIENT, "--nil",
        "DEV935997", "--cda", CDA, "--pdf", str(pdf), "--text", "Bonjour", "--read-receipt", "--no-reply",
        "--at", AT, "--out", str(out),
    )  # fmt: skip
    assert status == 0, payload
    assert payload["subject"].startswith("XDM/1.0/DDM+")
    return out


def test_inspect(composed: Path) -> None:
    status, payload = run_json("message", "inspect", str(composed))
    assert status == 0
    assert payload["from"] == DOCTOR
    assert payload["to"] == [PATIENT]
    assert payload["headers"] == {"X-MSS-CODECDA": ["96173-0"], "X-MSS-INS": ["O"], "X-MSS-NIL": ["DEV935997"],
                                  "X-MSS-MES": ["FIN"]}  # fmt: skip
    assert payload["attachments"][0]["filename"] == "IHE_XDM.zip"
    assert payload["xdm"][0]["submission_sets"][0]["documents"][0]["type_code"] == "96173-0"
    assert payload["patient"]["ins"] == "279035121518989"
    assert payload["patient"]["qualified"] is True
    status, out, _ = run("message", "inspect", str(composed))
    assert "PAT-TROIS" in out


def test_lint(composed: Path, tmp_path: Path) -> None:
    status, payload = run_json("message", "lint", str(composed))
    assert status == 0, payload
    broken = tmp_path / "broken.eml"
    broken.write_bytes(composed.read_bytes().replace(b"X-MSS-NIL: DEV935997\r\n", b""))
    status, payload = run_json("message", "lint", str(broken))
    assert status == 1
    assert "MSS-MSG-001" in [finding["code"] for finding in payload["findings"]]
    status, out, _ = run("message", "lint", str(broken))
    assert out.startswith("not compliant")


def test_lint_judges_a_read_receipt_as_a_notification(composed: Path, tmp_path: Path) -> None:
    mdn = tmp_path / "mdn.eml"
    status, _ = run_json("mdn", "build", str(composed), "--from", PATIENT, "--final-recipient", PATIENT,
                         "--at", AT, "--out", str(mdn))  # fmt: skip
    assert status == 0
    status, payload = run_json("message", "lint", str(mdn))
    assert (status, payload["ok"], payload["kind"], payload["findings"]) == (0, True, "mdn", [])
    broken = tmp_path / "broken.eml"
    broken.write_bytes(mdn.read_bytes().replace(b"Disposition: ", b"Dispositio: "))
    status, payload = run_json("message", "lint", str(broken))
    found = {finding["code"] for finding in payload["findings"]}
    assert (status, payload["kind"]) == (1, "mdn")
    assert "MSS-MDN-005" in found
    assert not found & {"MSS-MSG-001", "MSS-MSG-022"}
    status, out, _ = run("message", "lint", str(mdn))
    assert out.startswith("compliant")


def test_lint_in_the_test_environment(composed: Path) -> None:
    status, payload = run_json("message", "lint", str(composed))
    assert "MSS-XDM-044" in {f["code"] for f in payload["findings"] if f["severity"] == "warning"}
    status, payload = run_json("message", "lint", "--env", "test", str(composed))
    assert (status, payload["environment"]) == (0, "test")
    assert "MSS-XDM-044" in {f["code"] for f in payload["findings"] if f["severity"] == "info"}
    assert "MSS-XDM-044" not in {f["code"] for f in payload["findings"] if f["severity"] == "warning"}
    status, _, err = run("message", "lint", "--env", "staging", str(composed))
    assert status == 2, err


def test_mdn_build_and_parse(composed: Path, tmp_path: Path) -> None:
    mdn = tmp_path / "mdn.eml"
    status, payload = run_json("mdn", "build", str(composed), "--from", PATIENT, "--final-recipient", PATIENT,
                               "--at", AT, "--out", str(mdn))  # fmt: skip
    assert status == 0, payload
    status, payload = run_json("mdn", "parse", str(mdn))
    assert status == 0
    assert payload["kind"] == "mdn"
    assert payload["disposition"] == "automatic-action/MDN-sent-automatically; processed"
    assert payload["error"] is None
    original = run_json("message", "inspect", str(composed))[1]["message_id"]
    assert payload["original_message_id"] == original


def test_mdn_with_an_integration_error(composed: Path, tmp_path: Path) -> None:
    mdn = tmp_path / "ko.eml"
    status, _ = run_json("mdn", "build", str(composed), "--from", PATIENT, "--final-recipient", PATIENT,
                         "--error", "902", "--at", AT, "--out", str(mdn))  # fmt: skip
    assert status == 0
    status, payload = run_json("mdn", "parse", str(mdn))
    assert payload["error"].startswith("902^")
    status, inspected = run_json("message", "inspect", str(mdn))
    assert inspected["subject"].startswith("[KO Intégration système !][902] XDM/1.0/DDM+")
    assert inspected["kind"] == "mdn"


def test_a_dsn_is_parsed(tmp_path: Path) -> None:
    dsn = tmp_path / "dsn.eml"
    dsn.write_bytes(
        b"From: MAILER-DAEMON@mx.op.mssante.fr\r\nTo: dr@chu.mssante.fr\r\nSubject: Undelivered Mail\r\n"
        b"Message-ID: <dsn.1@mx.op.mssante.fr>\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: text/plain\r\n\r\nThe message could not be delivered.\r\n"
        b"--b\r\nContent-Type: message/delivery-status\r\n\r\n"
        b"Reporting-MTA: dns; mx.op.mssante.fr\r\n\r\n"
        b"Final-Recipient: rfc822; nobody@chu.mssante.fr\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        b"Diagnostic-Code: smtp; 550 5.1.1 <nobody@chu.mssante.fr>: Recipient address rejected\r\n\r\n"
        b"--b--\r\n"
    )
    status, payload = run_json("mdn", "parse", str(dsn))
    assert status == 0
    assert payload["kind"] == "dsn"
    assert payload["action"] == "failed"
    assert payload["recipients"][0]["status"] == "5.1.1"
    assert "Recipient address rejected" in payload["error"]


@pytest.mark.parametrize("content", [b"", b"\x00\x01 not a message", b"Subject: hi\r\n\r\nplain"])
def test_mdn_parse_refuses_what_is_not_a_report(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "x.eml"
    path.write_bytes(content)
    status, payload = run_json("mdn", "parse", str(path))
    assert status == 2
    assert payload["ok"] is False


def test_mdn_build_needs_a_request(tmp_path: Path) -> None:
    plain = tmp_path / "plain.eml"
    status, _ = run_json("message", "compose", "--from", DOCTOR, "--to", "dr@chu.mssante.fr", "--nil", "DEV1",
                         "--subject", "Avis", "--at", AT, "--out", str(plain))  # fmt: skip
    assert status == 0
    status, payload = run_json("mdn", "build", str(plain), "--from", DOCTOR, "--final-recipient", DOCTOR,
                               "--out", str(tmp_path / "m.eml"))  # fmt: skip
    assert status == 2
    assert "Disposition-Notification-To" in payload["error"]


def test_compose_refuses_injection(tmp_path: Path) -> None:
    status, payload = run_json("message", "compose", "--from", DOCTOR, "--to", "dr@chu.mssante.fr", "--nil",
                               "DEV1", "--subject", "a\r\nBcc: x@y.fr", "--out", str(tmp_path / "m.eml"))  # fmt: skip
    assert status == 2
    assert "MSS-MSG-023" in payload["error"]
    assert not (tmp_path / "m.eml").exists()

"""``mssante message inspect | lint | compose`` and ``mssante mdn parse | build`` per the command-line contract."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.running import run, run_json

DATA = Path(__file__).parent.parent / "data" / "xdm"
CDA = str(DATA / "cisis-BIO-TROD_2024.01_COVID-19.xml")
AT = "2024-01-16T08:00:00Z"
DOCTOR = "pierre.didot@pharmacie-4-cantons.mssante.fr"
PATIENT = "279035121518989@patient.mssante.fr"
CONTENT_TYPE = {"code": "26", "scheme": "1.2.250.1.213.2.2"}


@pytest.fixture
def composed(tmp_path: Path) -> Path:
    pdf = tmp_path / "cr.pdf"
    pdf.write_bytes(b"%PDF-1.4\n%%EOF\n")
    content = tmp_path / "content.json"  # the contentTypeCode no CDA header gives (JDV_J03, TRE_R209 26 Analyses)
    content.write_text(json.dumps({"submission_set": {"content_type_code": CONTENT_TYPE}}), encoding="utf-8")
    out = tmp_path / "message.eml"
    status, payload = run_json(
        "message", "compose", "--from", DOCTOR, "--from-name", "Dr Pierre DIDOT", "--to", PATIENT, "--nil",
        "DEV935997", "--cda", CDA, "--metadata", str(content), "--pdf", str(pdf), "--text", "Bonjour",
        "--read-receipt", "--no-reply", "--at", AT, "--out", str(out),
    )  # fmt: skip
    assert status == 0, payload
    assert payload["subject"].startswith("XDM/1.0/DDM+")
    out.write_bytes(f"Return-Path: <{DOCTOR}>\r\n".encode() + out.read_bytes())  # as delivered to the patient
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


def test_compose_takes_the_metadata_the_cda_does_not_give(tmp_path: Path) -> None:
    out = tmp_path / "m.eml"
    options = ("message", "compose", "--from", DOCTOR, "--to", PATIENT, "--nil", "DEV1", "--cda", CDA, "--at", AT)
    status, payload = run_json(*options, "--out", str(out))
    assert status == 1  # the submission set's contentTypeCode is missing: MSS-XDM-043
    assert "MSS-XDM-043" in {finding["code"] for finding in payload["findings"] if finding["severity"] == "error"}
    metadata = tmp_path / "metadata.json"
    metadata.write_text(json.dumps({"submission_set": {"content_type_code": CONTENT_TYPE}}), encoding="utf-8")
    status, payload = run_json(*options, "--metadata", str(metadata), "--out", str(out))
    assert status == 0, payload
    status, payload = run_json("message", "compose", "--from", DOCTOR, "--to", PATIENT, "--nil", "DEV1",
                               "--subject", "Avis", "--metadata", str(metadata), "--out", str(out))  # fmt: skip
    assert status == 2
    assert "give --cda too" in payload["error"]


def test_compose_refuses_injection(tmp_path: Path) -> None:
    status, payload = run_json("message", "compose", "--from", DOCTOR, "--to", "dr@chu.mssante.fr", "--nil",
                               "DEV1", "--subject", "a\r\nBcc: x@y.fr", "--out", str(tmp_path / "m.eml"))  # fmt: skip
    assert status == 2
    assert "MSS-MSG-023" in payload["error"]
    assert not (tmp_path / "m.eml").exists()


# --- a report of the MDN or DSN type whose block is broken is still an MDN or a DSN ------------------------------


def _report(report_type: str, *parts: bytes) -> bytes:
    """A multipart/report of ``report_type`` with the given parts (each ``headers\\r\\n\\r\\nbody``)."""
    head = (
        b"From: 279035121518989@patient.mssante.fr\r\nTo: pierre.didot@pharmacie-4-cantons.mssante.fr\r\n"
        b"Subject: Lu : Avis\r\nMessage-ID: <mdn.1@patient.mssante.fr>\r\nIn-Reply-To: <orig.1@chu.mssante.fr>\r\n"
        b"Date: Tue, 16 Jan 2024 08:00:00 +0000\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: multipart/report; report-type=" + report_type.encode() + b'; boundary="b"\r\n\r\n'
    )
    body = b"".join(b"--b\r\n" + part + b"\r\n" for part in parts)
    return head + body + b"--b--\r\n"


HUMAN = b"Content-Type: text/plain; charset=utf-8\r\n\r\nLe message a \xc3\xa9t\xc3\xa9 lu."


def test_mdn_parse_reads_a_read_receipt_without_disposition_as_a_broken_mdn(composed: Path, tmp_path: Path) -> None:
    mdn = tmp_path / "mdn.eml"
    status, _ = run_json("mdn", "build", str(composed), "--from", PATIENT, "--final-recipient", PATIENT,
                         "--at", AT, "--out", str(mdn))  # fmt: skip
    assert status == 0
    broken = tmp_path / "broken.eml"
    lines = mdn.read_bytes().splitlines(keepends=True)
    broken.write_bytes(b"".join(line for line in lines if not line.startswith(b"Disposition: ")))
    assert broken.read_bytes() != mdn.read_bytes()
    status, payload = run_json("mdn", "parse", str(broken))
    assert (status, payload["ok"], payload["kind"]) == (1, False, "mdn")  # was: exit 2, "not an MDN"
    assert "MSS-MDN-005" in {finding["code"] for finding in payload["findings"]}
    assert payload["disposition"] is None
    original = run_json("message", "inspect", str(composed))[1]["message_id"]
    assert payload["original_message_id"] == original  # the receipt's In-Reply-To, its block being unreadable
    status, inspected = run_json("message", "inspect", str(broken))
    assert (status, inspected["kind"]) == (1, "mdn")  # what inspect already said
    status, out, _ = run("mdn", "parse", str(broken))
    assert status == 1
    assert "MSS-MDN-005" in out
    assert "None" not in out
    assert "disposition          -" in out


@pytest.mark.parametrize(
    ("report_type", "parts", "kind", "code"),
    [
        ("disposition-notification", (HUMAN,), "mdn", "MSS-MDN-009"),
        ("delivery-status", (HUMAN,), "dsn", "MSS-DSN-014"),
        ("disposition-notification",
         (HUMAN, b"Content-Type: message/disposition-notification\r\n\r\nReporting-UA: x\r\n"), "mdn", "MSS-MDN-005"),
        ("delivery-status", (HUMAN, b"Content-Type: message/delivery-status\r\n\r\nArrival-Date: x\r\n\r\n"
                             b"Final-Recipient: rfc822; a@b.mssante.fr\r\nAction: failed\r\nStatus: 5.1.1\r\n"),
         "dsn", "MSS-DSN-006"),
        ("delivery-status", (HUMAN, b"Content-Type: message/delivery-status\r\n\r\nno field here\r\n"), "dsn",
         "MSS-DSN-004"),
    ],
    ids=["mdn-without-block", "dsn-without-block", "mdn-without-disposition", "dsn-without-reporting-mta",
         "dsn-not-fields"],
)  # fmt: skip
def test_a_report_of_either_type_with_a_broken_block_is_judged_not_refused(
    tmp_path: Path, report_type: str, parts: tuple[bytes, ...], kind: str, code: str
) -> None:
    path = tmp_path / "report.eml"
    path.write_bytes(_report(report_type, *parts))
    status, payload = run_json("mdn", "parse", str(path))
    assert (status, payload["ok"], payload["kind"]) == (1, False, kind)
    assert code in {finding["code"] for finding in payload["findings"]}
    assert payload["original_message_id"] == "<orig.1@chu.mssante.fr>"
    status, inspected = run_json("message", "inspect", str(path))
    assert (inspected["kind"], status) == (kind, 1)
    status, linted = run_json("message", "lint", str(path))
    assert code in {finding["code"] for finding in linted["findings"]}
    assert "MSS-MSG-001" not in {finding["code"] for finding in linted["findings"]}  # judged as a notification
    _, out, _ = run("mdn", "parse", str(path))
    assert "None" not in out
    assert code in out


def test_mdn_parse_refuses_a_report_of_another_type(tmp_path: Path) -> None:
    path = tmp_path / "arf.eml"
    path.write_bytes(_report("feedback-report", HUMAN, b"Content-Type: message/feedback-report\r\n\r\nVersion: 1\r\n"))
    status, payload = run_json("mdn", "parse", str(path))
    assert (status, payload["ok"]) == (2, False)
    assert "report-type feedback-report" in payload["error"]


# --- words a person reads ------------------------------------------------------------------------------------------


def test_inspect_says_no_python_none(composed: Path, tmp_path: Path) -> None:
    mdn = tmp_path / "mdn.eml"
    run_json("mdn", "build", str(composed), "--from", PATIENT, "--final-recipient", PATIENT, "--at", AT,
             "--out", str(mdn))  # fmt: skip
    status, out, _ = run("message", "inspect", str(mdn))  # parts without a file name
    assert status == 0
    assert "None" not in out
    assert "attachment   (no file name, part 2) (message/disposition-notification" in out
    assert f"to           {DOCTOR}\n" in out  # not a Python list
    assert "headers      -\n" in out  # not {}
    # A package whose patient has no INS (a NIST sample: an OID-qualified patient id), and no name.
    nist = tmp_path / "nist.eml"
    status, _ = run_json("message", "compose", "--from", DOCTOR, "--to", "dr@chu.mssante.fr", "--nil", "DEV1",
                         "--subject", "Avis", "--attach", str(DATA / "nist-mie-connectathon2011-XDM.zip"),
                         "--at", AT, "--out", str(nist))  # fmt: skip
    status, out, _ = run("message", "inspect", str(nist))
    assert "None" not in out
    assert "patient      (no name), patient id 1192011827^^^&1.3.6.1.4.1.21367.13.20.1000&ISO" in out
    assert "headers      X-MSS-NIL: DEV1\n" in out
    status, out, _ = run("mdn", "parse", str(mdn))
    assert (status, "None" in out) == (0, False)
    assert "error                -" in out


# --- read receipts as the CI-SIS volet writes them; the KO mail when none was asked for ---------------------------


def test_mdn_build_writes_the_volets_form_and_the_documents_again(composed: Path, tmp_path: Path) -> None:
    mdn = tmp_path / "ko.eml"
    status, payload = run_json("mdn", "build", str(composed), "--from", PATIENT, "--final-recipient", PATIENT,
                               "--error", "902", "--at", AT, "--out", str(mdn))  # fmt: skip
    assert status == 0, payload
    written = "automatic-action/MDN-sent-automatically; processed/Error: 902^Identifiant patient inconnu"
    assert (payload["form"], payload["disposition"], payload["needs_confirmation"]) == ("volet", written, False)
    assert f"\nDisposition: {written}\n".encode() in mdn.read_bytes()
    assert b"\nError: " not in mdn.read_bytes()
    status, inspected = run_json("message", "inspect", str(mdn))
    names = [item["filename"] for item in inspected["attachments"]]
    assert "IHE_XDM.zip" in names
    assert any(name and name.endswith(".pdf") for name in names)
    status, parsed = run_json("mdn", "parse", str(mdn))
    assert parsed["meaning"] == {"code": "902", "name": "UNKNOWN_PATIENT", "label": "Identifiant patient inconnu",
                                 "replacement_or_deletion": False}  # fmt: skip


def test_mdn_build_in_the_rfc_8098_form(composed: Path, tmp_path: Path) -> None:
    mdn = tmp_path / "ko.eml"
    status, payload = run_json("mdn", "build", str(composed), "--from", PATIENT, "--final-recipient", PATIENT,
                               "--error", "900", "--form", "rfc8098", "--at", AT, "--out", str(mdn))  # fmt: skip
    assert (status, payload["disposition"]) == (0, "automatic-action/MDN-sent-automatically; processed/error")
    data = mdn.read_bytes()
    assert b"\nError: 900^Version du document incorrecte" in data
    status, parsed = run_json("mdn", "parse", str(mdn))
    assert (parsed["meaning"]["name"], parsed["meaning"]["replacement_or_deletion"]) == ("STALE_VERSION", True)


def test_mdn_build_waits_for_the_users_confirmation(tmp_path: Path) -> None:
    original = tmp_path / "m.eml"  # as composed, not delivered: no Return-Path, so nothing matches the request
    status, _ = run_json("message", "compose", "--from", DOCTOR, "--to", PATIENT, "--nil", "DEV1", "--subject",
                         "Avis", "--text", "Bonjour", "--read-receipt", "--at", AT, "--out", str(original))  # fmt: skip
    assert status == 0
    out = tmp_path / "mdn.eml"
    arguments = ("mdn", "build", str(original), "--from", PATIENT, "--final-recipient", PATIENT, "--at", AT,
                 "--out", str(out))  # fmt: skip
    status, payload = run_json(*arguments)
    assert (status, payload["ok"], payload["path"], payload["needs_confirmation"]) == (1, False, None, True)
    assert [finding["code"] for finding in payload["findings"]] == ["MSS-MDN-010"]
    assert "--confirmed" in payload["hint"]
    assert not out.exists()
    status, payload = run_json(*arguments, "--confirmed")
    assert (status, payload["needs_confirmation"]) == (0, False)
    assert out.exists()


def test_mdn_build_refuses_a_code_of_no_table_without_its_label(composed: Path, tmp_path: Path) -> None:
    out = tmp_path / "mdn.eml"
    arguments = ("mdn", "build", str(composed), "--from", PATIENT, "--final-recipient", PATIENT, "--at", AT,
                 "--out", str(out), "--error", "42")  # fmt: skip
    status, payload = run_json(*arguments)
    assert status == 2
    assert "give its label" in payload["error"]
    status, payload = run_json(*arguments, "--label", "Erreur du DPI")
    assert (status, payload["disposition"]) == (0, "automatic-action/MDN-sent-automatically; processed/Error: "
                                                    "42^Erreur du DPI")  # fmt: skip


def test_mdn_ko_answers_a_message_that_asked_for_no_mdn(tmp_path: Path) -> None:
    pdf = tmp_path / "cr.pdf"
    pdf.write_bytes(b"%PDF-1.4\n%%EOF\n")
    plain = tmp_path / "plain.eml"
    status, _ = run_json("message", "compose", "--from", DOCTOR, "--to", "dr@chu.mssante.fr", "--nil", "DEV1",
                         "--subject", "Avis", "--pdf", str(pdf), "--at", AT, "--out", str(plain))  # fmt: skip
    assert status == 0
    status, payload = run_json("mdn", "build", str(plain), "--from", DOCTOR, "--final-recipient", DOCTOR,
                               "--out", str(tmp_path / "m.eml"))  # fmt: skip
    assert status == 2
    assert "mdn ko" in payload["error"]
    ko = tmp_path / "ko.eml"
    status, payload = run_json("mdn", "ko", str(plain), "--from", "dr@chu.mssante.fr", "--error", "901",
                               "--embed-original", "--at", AT, "--out", str(ko))  # fmt: skip
    assert status == 0, payload
    assert payload["subject"] == "[KO Intégration système !][901] Avis"
    assert payload["to"] == DOCTOR
    assert payload["meaning"]["name"] == "NOT_AUTHORISED"
    status, inspected = run_json("message", "inspect", str(ko))
    assert [item["content_type"] for item in inspected["attachments"]] == ["message/rfc822", "application/pdf"]
    status, parsed = run_json("mdn", "parse", str(ko))
    assert (status, parsed["kind"], parsed["error"]) == (0, "ko", "901")
    assert parsed["meaning"]["replacement_or_deletion"] is True
    status, payload = run_json("mdn", "ko", str(plain), "--from", DOCTOR, "--error", "42", "--out", str(ko))
    assert status == 2
    assert "give its label" in payload["error"]

"""The command-line contract of ``ins check``, ``id check`` and ``address check`` (CLI.md)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from typing import Any

import pytest

from mssante import __version__
from mssante.cli import main


def run(*argv: str, stdin: str | None = None, monkeypatch: pytest.MonkeyPatch | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    if stdin is not None:
        assert monkeypatch is not None
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    status = main(list(argv), out=out, err=err)
    return status, out.getvalue(), err.getvalue()


def run_json(*argv: str) -> tuple[int, dict[str, Any]]:
    status, out, _ = run(*argv, "--json")
    return status, json.loads(out)


def test_version() -> None:
    status, out, _ = run("--version")
    assert status == 0
    assert out.strip() == f"mssante {__version__}"


def test_ins_check_json_shape_and_status() -> None:
    status, data = run_json("ins", "check", "279035121518989", "2 79 03 51 215 189 89")
    assert status == 0
    assert data["ok"] is True
    assert data["findings"] == []
    assert data["results"][1] == {
        "input": "2 79 03 51 215 189 89",
        "valid": True,
        "normalized": "279035121518989",
        "kind": "nir-or-nia",
        "findings": [],
    }


def test_ins_check_reports_a_published_example_that_fails_its_key() -> None:
    status, data = run_json("ins", "check", "279035121518989", "288091234567823")
    assert status == 1
    assert data["ok"] is False
    assert [result["valid"] for result in data["results"]] == [True, False]
    assert data["findings"] == [
        {
            "code": "MSS-INS-003",
            "severity": "error",
            "message": "the key should be 94, not 23",
            "where": "results[1].key",
        }
    ]


def test_ins_check_under_the_test_authority_warns() -> None:
    status, data = run_json("ins", "check", "288091234567823", "--oid", "test")
    assert status == 0
    assert data["ok"] is True
    assert [finding["code"] for finding in data["findings"]] == ["MSS-INS-007", "MSS-INS-005"]
    assert data["results"][0]["kind"] == "test"


def test_ins_check_unknown_authority_is_a_usage_error() -> None:
    status, out, err = run("ins", "check", "279035121518989", "--oid", "1.2.3", "--json")
    assert status == 2
    assert json.loads(out)["ok"] is False
    assert "not an INS authority" in err
    assert "Traceback" not in err


def test_id_check_with_and_without_type() -> None:
    status, data = run_json("id", "check", "10000001916", "8 10000001916", "18751275100020")
    assert status == 0
    assert [(result["type"], result["normalized"]) for result in data["results"]] == [
        ("rpps", "10000001916"),
        ("idnps", "810000001916"),
        ("siret", "18751275100020"),
    ]
    status, data = run_json("id", "check", "540002698", "--type", "siren")
    assert status == 0
    assert data["results"][0]["type"] == "siren"
    assert data["findings"] == []


def test_id_check_invalid_value_exits_1_with_findings() -> None:
    status, data = run_json("id", "check", "10003461033")
    assert status == 1
    assert data["results"][0] == {
        "input": "10003461033",
        "type": "rpps",
        "valid": False,
        "normalized": "10003461033",
        "findings": [
            {
                "code": "MSS-ID-006",
                "severity": "error",
                "message": "the Luhn key of this RPPS should be 4, not 3",
                "where": "key",
            }
        ],
    }


def test_id_check_unknown_type_is_a_usage_error() -> None:
    status, out, err = run("id", "check", "10000001916", "--type", "nir", "--json")
    assert status == 2
    assert json.loads(out) == {"ok": False, "error": err.strip(), "findings": []}


def test_address_check() -> None:
    status, data = run_json("address", "check", "Dr.Martin@CHU-X.mssante.fr", "279035121518989@patient.mssante.fr")
    assert status == 0
    first, second = data["results"]
    assert (first["valid"], first["domain"], first["patient"], first["ins"]) == (
        True,
        "chu-x.mssante.fr",
        False,
        None,
    )
    assert (second["patient"], second["ins"]) == (True, "279035121518989")
    status, data = run_json("address", "check", "dr@x.fr\r\nBcc: all@x.fr")
    assert status == 1
    assert data["findings"][0]["code"] == "MSS-ADR-003"


def test_human_output() -> None:
    status, out, err = run("ins", "check", "279035121518989", "288091234567823")
    assert status == 1
    assert err == ""
    assert out.splitlines() == [
        "ok       279035121518989  nir-or-nia",
        "invalid  288091234567823",
        "         MSS-INS-003 error: the key should be 94, not 23",
    ]


def test_values_from_standard_input(monkeypatch: pytest.MonkeyPatch) -> None:
    status, out, _ = run(
        "id", "check", "-", "--json", stdin="10000001916\n\n18751275100020\r\n", monkeypatch=monkeypatch
    )
    assert status == 0
    assert [result["input"] for result in json.loads(out)["results"]] == ["10000001916", "18751275100020"]


@pytest.mark.parametrize(
    "argv",
    [[], ["ins"], ["id", "check"], ["nope"], ["address", "check", "--bogus", "x@y.fr"]],
    ids=["nothing", "no-subcommand", "no-value", "unknown-command", "unknown-flag"],
)
def test_usage_errors_exit_2_with_one_line(argv: list[str]) -> None:
    status, out, err = run(*argv)
    assert status == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    status, out, _ = run(*argv, "--json")
    assert status == 2
    assert json.loads(out)["ok"] is False


def test_json_flag_is_accepted_before_the_command() -> None:
    status, out, _ = run("--json", "ins", "check", "279035121518989")
    assert status == 0
    assert json.loads(out)["ok"] is True


def test_module_entry_point_runs_without_traceback() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "mssante", "address", "check", "--json", "dr@x.fr\rBcc: all@x.fr"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert completed.returncode == 1
    assert json.loads(completed.stdout)["findings"][0]["code"] == "MSS-ADR-003"
    assert "Traceback" not in completed.stderr

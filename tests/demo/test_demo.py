"""`mssante demo`: the whole exchange on 127.0.0.1, from the library and from the command line."""

from __future__ import annotations

from pathlib import Path

import pytest

from mssante.demo import KEPT, DemoStep, next_commands, run_demo
from mssante.demo import _scenario as scenario
from mssante.message import lint, parse
from mssante.testing import TestPki
from tests.cli.running import run, run_json
from tests.counting import spy

STEPS = ["pki", "operator", "allowlist", "directory", "patient", "compose", "send", "receive", "mdn", "tracking"]


def test_run_demo_goes_through_every_step(monkeypatch: pytest.MonkeyPatch) -> None:
    made = spy(monkeypatch, TestPki, "create")
    heard: list[DemoStep] = []
    result = run_demo(progress=heard.append)
    assert result.ok, [(step.name, step.error) for step in result.steps if not step.ok]
    assert [step.name for step in result.steps] == STEPS
    assert list(result.steps) == heard
    assert all(step.seconds >= 0 and step.lines for step in result.steps)
    told = {step.name: "\n".join(step.lines) for step in result.steps}
    assert "byte for byte the one sent" in told["receive"]
    assert "stephane.medioni@medecin.mssante.fr" in told["directory"]
    assert "279035121518989@patient.mssante.fr read" in told["tracking"]
    assert "stephane.medioni@medecin.mssante.fr delivered" in told["tracking"]
    assert result.seconds == sum(step.seconds for step in result.steps)
    assert len(made) == 1  # catches a second PKI made behind the demo's back: its keys are most of the demo's work


def test_the_demo_message_and_receipts_lint_without_error_or_warning(tmp_path: Path) -> None:
    result = run_demo(workdir=tmp_path)
    assert result.ok, [(step.name, step.error) for step in result.steps if not step.ok]
    message = (tmp_path / "message.eml").read_bytes()
    assert parse(message).message_id == result.message_id
    report = lint(message, environment="test")  # the demo's trust space: IGC Santé TEST, a TEST INS
    assert (report.errors, report.warnings) == ((), ())
    assert {finding.code for finding in report} == {"MSS-XDM-044"}  # the TEST INS, said as information
    assert {finding.code for finding in lint(message).warnings} == {"MSS-XDM-044"}  # the metadata is complete
    for name in ("receipt.eml", "returned-mdn.eml", "returned-dsn.eml"):
        notification = lint((tmp_path / name).read_bytes())
        assert (notification.errors, notification.warnings) == ((), ()), name
    told = {step.name: "\n".join(step.lines) for step in result.steps}
    assert "Lint (TEST environment): 0 error(s), 0 warning(s)" in told["compose"]
    assert f"Message-ID: {result.message_id}" in told["compose"]


def test_cli_json_reports_every_step_ok() -> None:
    status, payload = run_json("demo")
    assert status == 0
    assert payload["ok"] is True
    assert payload["findings"] == []
    assert payload["message_id"].startswith("<")
    assert (payload["files"], payload["commands"]) == ({}, [])  # nothing kept
    assert [step["name"] for step in payload["steps"]] == STEPS
    assert all(step["ok"] is True and isinstance(step["seconds"], float) for step in payload["steps"])


def test_cli_tells_each_step_in_words() -> None:
    status, out, err = run("demo")
    assert status == 0, err
    assert out.count("[ok]") == len(STEPS)
    assert "The exchange went through" in out
    assert "Send over SMTP with mutual TLS" in out
    assert "The message's Message-ID: <" in out
    assert "Kept in" not in out


def test_a_failed_step_stops_the_demo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scenario, "SENDER", "someone@elsewhere.example")  # not a domain of the local operator
    status, payload = run_json("demo")
    assert status == 1
    assert payload["ok"] is False
    names = [step["name"] for step in payload["steps"]]
    assert names == STEPS[: names.index("send") + 1]
    assert payload["steps"][-1]["ok"] is False
    assert "elsewhere.example" in payload["steps"][-1]["error"]


def test_keep_leaves_the_files_to_look_at(tmp_path: Path) -> None:
    status, payload = run_json("demo", "--keep", str(tmp_path / "demo"))
    assert status == 0
    assert sorted(payload["files"]) == sorted(KEPT)
    commands = next_commands(tmp_path / "demo", payload["message_id"])
    assert payload["commands"] == [command for command, _ in commands]
    assert any(command.startswith("mssante cert verify") for command in payload["commands"])
    status, inspected = run_json("message", "inspect", payload["files"]["message.eml"])
    assert (status, inspected["patient"]["ins"]) == (0, "279035121518989")
    status, validated = run_json("xdm", "validate", payload["files"]["IHE_XDM.zip"])
    assert validated["ok"] is True
    status, tracked = run_json("track", "status", "--db", payload["files"]["tracking.sqlite3"], inspected["message_id"])
    assert status == 0
    assert {r["status"] for r in tracked["messages"][0]["recipients"]} == {"read", "delivered"}


def test_keep_says_what_was_kept_and_what_to_run_next(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    status, out, err = run("demo", "--keep", str(folder))
    assert status == 0, err
    assert f"Kept in {folder}:" in out
    for name, what in KEPT.items():
        assert f"{name}  " in out
        assert what in out
    message_id = out.split("The message's Message-ID: ", 1)[1].split()[0]
    for command, what in next_commands(folder, message_id):
        assert f"  # {what}\n  {command}\n" in out
    assert message_id in out.rsplit("mssante track status", 1)[1]

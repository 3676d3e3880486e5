"""`mssante demo`: the whole exchange on 127.0.0.1, from the library and from the command line."""

from __future__ import annotations

from pathlib import Path

import pytest

from mssante.demo import KEPT, DemoStep, run_demo
from mssante.demo import _scenario as scenario
from tests.cli.running import run, run_json

STEPS = ["pki", "operator", "allowlist", "directory", "patient", "compose", "send", "receive", "mdn", "tracking"]


def test_run_demo_goes_through_every_step() -> None:
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
    assert result.seconds < 30


def test_cli_json_reports_every_step_ok() -> None:
    status, payload = run_json("demo")
    assert status == 0
    assert payload["ok"] is True
    assert payload["findings"] == []
    assert [step["name"] for step in payload["steps"]] == STEPS
    assert all(step["ok"] is True and isinstance(step["seconds"], float) for step in payload["steps"])


def test_cli_tells_each_step_in_words() -> None:
    status, out, err = run("demo")
    assert status == 0, err
    assert out.count("[ok]") == len(STEPS)
    assert "The exchange went through" in out
    assert "Send over SMTP with mutual TLS" in out


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
    status, inspected = run_json("message", "inspect", payload["files"]["message.eml"])
    assert (status, inspected["patient"]["ins"]) == (0, "279035121518989")
    status, validated = run_json("xdm", "validate", payload["files"]["IHE_XDM.zip"])
    assert validated["ok"] is True
    status, tracked = run_json("track", "status", "--db", payload["files"]["tracking.sqlite3"], inspected["message_id"])
    assert status == 0
    assert {r["status"] for r in tracked["messages"][0]["recipients"]} == {"read", "delivered"}

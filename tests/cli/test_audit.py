"""`mssante audit export | purge | show`: the trail exported for an auditor, purged past retention, counted."""

from __future__ import annotations

import datetime as dt
import json
import stat
from pathlib import Path

import pytest

from mssante.audit import AuditEvent, PostgresAuditStore, SqliteAuditStore
from tests.audit.helpers import AT, full_event, series
from tests.cli.running import run, run_json
from tests.postgres import postgres_cluster, postgres_conninfo  # noqa: F401


@pytest.fixture
def trail(tmp_path: Path) -> list[str]:
    """``--db PATH`` of a trail with 400 connect events (one a day from AT) and one send event."""
    path = tmp_path / "audit.sqlite3"
    with SqliteAuditStore(path) as store:
        store.record([*series(400), full_event(at=AT + dt.timedelta(hours=1))])
    return ["--db", str(path)]


def test_export_writes_json_lines(trail: list[str], tmp_path: Path) -> None:
    status, out, err = run("audit", "export", *trail, "--kind", "send")
    assert (status, err) == (0, "")
    (line,) = out.splitlines()
    assert AuditEvent.from_dict(json.loads(line)) == full_event(at=AT + dt.timedelta(hours=1))
    status, out, _ = run("audit", "export", *trail, "--since", "2026-03-03T00:00:00Z", "--until", "2026-03-05T00:00Z")
    assert status == 0
    assert [json.loads(line)["at"][:10] for line in out.splitlines()] == ["2026-03-03", "2026-03-04"]

    target = tmp_path / "export.jsonl"
    status, payload = run_json("audit", "export", *trail, "--out", str(target))
    assert status == 0
    assert payload == {"ok": True, "findings": [], "exported": 401, "path": str(target)}
    assert len(target.read_text(encoding="utf-8").splitlines()) == 401
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    status, payload = run_json("audit", "export", *trail, "--out", str(target))
    assert status == 2
    assert "exists" in payload["error"]


def test_export_with_json_needs_a_file(trail: list[str]) -> None:
    status, payload = run_json("audit", "export", *trail)
    assert status == 2
    assert "--out" in payload["error"]


def test_show_counts_each_kind(trail: list[str]) -> None:
    status, payload = run_json("audit", "show", *trail)
    assert status == 0
    assert payload == {"ok": True, "findings": [], "counts": {"connect": 400, "send": 1}, "total": 401}
    status, out, _ = run("audit", "show", *trail, "--until", "2026-03-02T12:00:00Z")
    assert status == 0
    assert out.split() == ["1", "connect", "1", "send", "2", "events"]


def test_purge_past_retention(trail: list[str]) -> None:
    at = ["--at", "2027-04-06T12:00:00Z"]  # day 400.5 after AT: the cutoff is day 217.5
    status, payload = run_json("audit", "purge", *trail, *at)
    assert status == 0
    assert payload == {
        "ok": True, "findings": [], "purged": 219, "kept": 182, "cutoff": "2026-10-05T12:00:00Z", "retention_days": 183,
    }  # fmt: skip
    status, payload = run_json("audit", "purge", *trail, *at, "--retention-days", "365")
    assert (status, payload["purged"], payload["kept"]) == (0, 0, 182)


def test_a_short_retention_must_be_meant(trail: list[str]) -> None:
    status, payload = run_json("audit", "purge", *trail, "--retention-days", "30")
    assert status == 2
    assert "ECO.4.1.1" in payload["error"]
    status, out, err = run("audit", "purge", *trail, "--retention-days", "30", "--below-recommendation",
                           "--at", "2027-04-06T12:00:00Z")  # fmt: skip
    assert status == 0
    assert "warning" in err
    assert "30 days" in err
    assert "372 events older than 2027-03-07T12:00:00Z removed, 29 kept" in out


def test_usage_errors(trail: list[str], tmp_path: Path) -> None:
    status, _, err = run("audit", "show", "--db", str(tmp_path / "none.sqlite3"))
    assert status == 2
    assert "no audit trail" in err
    status, _, err = run("audit", "export", *trail, "--since", "yesterday")
    assert status == 2
    assert "--since 'yesterday' is not an ISO 8601 time" in err
    status, _, err = run("audit", "show", *trail, "--postgres", "dbname=x")
    assert status == 2
    assert "not allowed with" in err
    other = tmp_path / "other.sqlite3"
    other.write_bytes(b"not a database at all, but some bytes long enough" * 100)
    status, _, err = run("audit", "show", "--db", str(other))
    assert status == 2
    assert "not a usable audit trail" in err


def test_a_postgresql_trail(request: pytest.FixtureRequest) -> None:
    conninfo = str(request.getfixturevalue("postgres_conninfo"))
    with PostgresAuditStore(conninfo) as store:
        store.record([full_event(), *series(2)])
    status, payload = run_json("audit", "show", "--postgres", conninfo)
    assert status == 0
    assert payload["counts"] == {"connect": 2, "send": 1}
    status, out, _ = run("audit", "export", "--postgres", conninfo, "--kind", "send")
    assert status == 0
    assert [AuditEvent.from_dict(json.loads(line)) for line in out.splitlines()] == [full_event()]
    status, payload = run_json("audit", "purge", "--postgres", conninfo, "--at", "2027-01-01T00:00:00Z")
    assert (status, payload["purged"], payload["kept"]) == (0, 3, 0)

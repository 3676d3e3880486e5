"""``mssante directory import | lookup | search`` per the command-line contract (offline index; online search
against a local server standing in for the FHIR API)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from mssante.testing import write_synthetic_extraction
from tests.cli.running import run, run_json
from tests.local_server import LocalServer, Reply

DATA = Path(__file__).parent.parent / "data" / "directory"
FIXTURE = str(DATA / "extraction-SYNTHETIC.txt")


@pytest.fixture
def db(tmp_path: Path) -> str:
    path = str(tmp_path / "index.sqlite3")
    status, payload = run_json("directory", "import", FIXTURE, "--db", path)
    assert status == 0, payload
    assert (payload["rows"], payload["mailboxes"]) == (3, 3)
    assert isinstance(payload["seconds"], float)
    return path


def test_lookup_by_address_rpps_and_idnps(db: str) -> None:
    for key in ("MARIE.EXEMPLE@ch-exemple.mssante.fr", "10000000002", "810000000002"):
        status, payload = run_json("directory", "lookup", key, "--db", db)
        assert status == 0, key
        [mailbox] = payload["mailboxes"]
        assert mailbox["address"] == "marie.exemple@ch-exemple.mssante.fr"
        assert (mailbox["type"], mailbox["rpps"], mailbox["idnps"]) == ("PER", "10000000002", "810000000002")
        assert mailbox["profession"] == "Infirmier"
        assert mailbox["structure"] == "CENTRE HOSPITALIER EXEMPLE"
    status, payload = run_json("directory", "lookup", "nobody@ch-exemple.mssante.fr", "--db", db)
    assert (status, payload["mailboxes"]) == (1, [])


def test_search(db: str) -> None:
    status, payload = run_json("directory", "search", "--name", "exemple", "--postcode", "75002", "--db", db)
    assert status == 0
    assert {mailbox["address"] for mailbox in payload["mailboxes"]} == {
        "marie.exemple@ch-exemple.mssante.fr", "secretariat.cardio@ch-exemple.mssante.fr",
    }  # fmt: skip
    status, out, _ = run("directory", "search", "--profession", "10", "--db", db)
    assert status == 0
    assert "jean.exemple@medecin.mssante.fr" in out
    status, out, err = run("directory", "search", "--db", db)
    assert status == 2
    assert "--name" in err


def test_reimport_reports_added_and_removed(db: str, tmp_path: Path) -> None:
    changed = tmp_path / "changed.txt"
    text = Path(FIXTURE).read_text(encoding="utf-8").replace("jean.exemple@", "jean.nouveau@")
    changed.write_text(text, encoding="utf-8")
    status, payload = run_json("directory", "import", str(changed), "--db", db)
    assert status == 0
    assert (payload["added"], payload["removed"]) == (1, 1)


def test_a_zip_of_a_generated_file(tmp_path: Path) -> None:
    archive = write_synthetic_extraction(tmp_path / "extraction.zip", 2000, seed=3, zip=True)
    status, payload = run_json("directory", "import", str(archive), "--db", str(tmp_path / "i.sqlite3"))
    assert status == 0
    assert payload["rows"] == 2000


def test_a_missing_index_says_what_to_do(tmp_path: Path) -> None:
    status, payload = run_json("directory", "lookup", "x@y.mssante.fr", "--db", str(tmp_path / "none.sqlite3"))
    assert status in (1, 2)
    if status == 2:
        assert "directory import" in payload["error"]


def test_a_bad_file_is_refused_and_the_index_kept(db: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_text("not|the|header\n", encoding="utf-8")
    status, payload = run_json("directory", "import", str(bad), "--db", db)
    assert status == 2
    assert payload["ok"] is False
    assert run_json("directory", "lookup", "10000000001", "--db", db)[0] == 0


@pytest.fixture
def fhir() -> Iterator[LocalServer]:
    server = LocalServer()
    body = (DATA / "fhir" / "mssig-bundle-bal-per-searchset.json").read_bytes()
    server.routes["/fhir/v2/Practitioner"] = Reply(body=body, headers={"Content-Type": "application/fhir+json"})
    yield server
    server.stop()


def test_search_online(fhir: LocalServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ESANTE_API_KEY", "test-key")
    base = fhir.url("/fhir/v2")
    status, payload = run_json("directory", "search", "--name", "dupont", "--online", "--base-url", base)
    assert status == 0, payload
    assert payload["mailboxes"]
    assert all(mailbox["source"] == "fhir" for mailbox in payload["mailboxes"])
    assert fhir.requests[0].headers["esante-api-key"] == "test-key"
    monkeypatch.delenv("ESANTE_API_KEY")
    status, payload = run_json("directory", "search", "--name", "dupont", "--online", "--base-url", base)
    assert status == 2
    assert "ESANTE_API_KEY" in payload["error"]
    assert json.dumps(payload)  # one JSON object

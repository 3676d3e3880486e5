"""PostgresDirectoryIndex: the answers of the SQLite index, imports replacing the old one whole, clear errors."""

from __future__ import annotations

import itertools
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("psycopg", reason="the PostgreSQL stores need psycopg")

from mssante.addresses import MailboxType
from mssante.directory import DirectoryIndex, PostgresDirectoryIndex
from mssante.directory._extraction import ExtractionReader
from mssante.directory._models import DirectoryMailbox
from mssante.errors import DirectoryError, InvalidInput, StoreUnavailable
from mssante.testing._extraction import write_synthetic_extraction
from tests.postgres import PostgresCluster, free_closed_port, fresh_database, postgres_cluster, postgres_conninfo  # noqa: F401

from .test_index import AT, CITIES, FIXTURE, HOSTILE, LINES, NAMES, OTHERS, write


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_synthetic_extraction(tmp_path_factory.mktemp("extraction") / "generated.txt", 3000, seed=5)


@pytest.fixture(scope="module")
def both(
    generated: Path, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[DirectoryIndex, PostgresDirectoryIndex]]:
    conninfo = request.getfixturevalue("postgres_conninfo")
    with (
        DirectoryIndex.open(tmp_path_factory.mktemp("index") / "index.sqlite3") as sqlite,
        PostgresDirectoryIndex(conninfo, schema="compared") as postgres,
    ):
        sqlite.import_extraction(generated, at=AT)
        postgres.import_extraction(generated, at=AT)
        yield sqlite, postgres


@pytest.fixture
def fresh(request: pytest.FixtureRequest) -> Iterator[PostgresDirectoryIndex]:
    cluster: PostgresCluster = request.getfixturevalue("postgres_cluster")
    with PostgresDirectoryIndex(fresh_database(cluster, "directory")) as index:
        yield index


def test_fixture_import_and_lookups(fresh: PostgresDirectoryIndex) -> None:
    result = fresh.import_extraction(FIXTURE, at=AT)
    assert (result.source, result.rows, result.mailboxes, result.added, result.removed) == (FIXTURE.name, 3, 3, 3, 0)
    assert fresh.imported() == {
        "source": FIXTURE.name,
        "imported_at": AT.isoformat(),
        "rows": "3",
        "mailboxes": "3",
        "skipped": "0",
    }
    expected = list(ExtractionReader(FIXTURE))
    assert fresh.by_address("JEAN.EXEMPLE@Medecin.MSSante.fr") == (expected[0],)
    assert fresh.lookup("mailto:jean.exemple@medecin.mssante.fr") == (expected[0],)
    assert fresh.lookup("10000000002") == fresh.by_rpps("10000000002") == (expected[1],)
    assert fresh.lookup("810000000002") == fresh.by_idnps("810000000002") == (expected[1],)
    assert fresh.lookup(" 1X0000009 ") == fresh.by_structure("1X0000009") == (expected[1], expected[2])
    assert fresh.by_structure("1X0000009", limit=1) == (expected[1],)
    assert fresh.lookup("nobody@nowhere.mssante.fr") == fresh.lookup("10000000009") == fresh.lookup("x") == ()


def test_lookups_and_searches_give_what_the_sqlite_index_gives(
    both: tuple[DirectoryIndex, PostgresDirectoryIndex], generated: Path
) -> None:
    sqlite, postgres = both
    for mailbox in list(ExtractionReader(generated))[::97]:
        assert postgres.by_address(mailbox.address) == sqlite.by_address(mailbox.address)
        if mailbox.person and mailbox.person.rpps:
            assert postgres.lookup(mailbox.person.rpps) == sqlite.lookup(mailbox.person.rpps)
        if mailbox.structure:
            identifier = mailbox.structure.identifier
            assert postgres.by_structure(identifier, limit=3) == sqlite.by_structure(identifier, limit=3)
    compared = 0
    for name, place, others in itertools.product((*NAMES, None), (*CITIES, None), OTHERS[::2]):
        criteria: dict[str, Any] = {"name": name, "city": place, **others}
        found = postgres.search(**criteria, limit=10_000)
        assert Counter(found) == Counter(sqlite.search(**criteria, limit=10_000)), criteria
        limited = postgres.search(**criteria, limit=7)
        assert len(limited) == min(7, len(found))
        assert set(limited) <= set(found)
        compared += len(found)
    assert compared


def test_another_node_reads_the_import(both: tuple[DirectoryIndex, PostgresDirectoryIndex]) -> None:
    _, postgres = both
    with PostgresDirectoryIndex(str(postgres.pool.conninfo), schema="compared", max_size=1) as reader:
        assert reader.search(name="mar", limit=20) == postgres.search(name="mar", limit=20)


@pytest.mark.parametrize("text", HOSTILE)
def test_injection_looking_input_is_harmless(both: tuple[DirectoryIndex, PostgresDirectoryIndex], text: str) -> None:
    _, postgres = both
    before = postgres.imported()
    assert postgres.lookup(text) == ()
    assert postgres.by_address(text) == postgres.by_rpps(text) == postgres.by_idnps(text) == ()
    assert postgres.by_structure(text) == ()
    for criteria in ({"name": text}, {"city": text}, {"postcode": text}, {"profession": text}, {"type": text}):
        for mailbox in postgres.search(**criteria):  # type: ignore[arg-type]
            assert isinstance(mailbox, DirectoryMailbox)
    assert postgres.search(postcode="' OR 1=1 --") == ()
    assert postgres.imported() == before


def test_reimport_reports_changes_and_replaces(fresh: PostgresDirectoryIndex, tmp_path: Path) -> None:
    other = LINES[0].replace("jean.exemple@", "paul.exemple@").replace("10000000001", "10000000003")
    first = fresh.import_extraction(write(tmp_path / "v1.txt", *LINES))
    second = fresh.import_extraction(write(tmp_path / "v2.txt", other, *LINES[1:], LINES[1]))
    assert (first.added, first.removed) == (3, 0)
    assert (second.rows, second.mailboxes, second.added, second.removed) == (4, 3, 1, 1)
    assert fresh.lookup("jean.exemple@medecin.mssante.fr") == ()
    assert len(fresh.lookup("paul.exemple@medecin.mssante.fr")) == 1
    assert len(fresh.lookup("marie.exemple@ch-exemple.mssante.fr")) == 2
    assert fresh.imported()["source"] == "v2.txt"


def test_a_failed_import_leaves_the_old_data(fresh: PostgresDirectoryIndex, tmp_path: Path) -> None:
    fresh.import_extraction(FIXTURE)
    with pytest.raises(InvalidInput):
        fresh.import_extraction(write(tmp_path / "bad.txt", *LINES, header=LINES[0]))

    def fail(rows: int) -> None:
        raise RuntimeError("stop")

    with pytest.raises(RuntimeError, match="stop"):
        fresh.import_extraction(FIXTURE, progress=fail)
    assert len(fresh.lookup("1X0000009")) == 2
    assert fresh.imported()["rows"] == "3"


def test_a_reader_sees_the_old_import_or_the_new_never_half(fresh: PostgresDirectoryIndex, tmp_path: Path) -> None:
    versions = [write_synthetic_extraction(tmp_path / f"v{seed}.txt", 200 + 200 * seed, seed=seed) for seed in (1, 2)]
    persons = [sum(mailbox.type is MailboxType.PER for mailbox in ExtractionReader(path)) for path in versions]
    fresh.import_extraction(versions[0])
    observed: list[tuple[str, int]] = []
    errors: list[BaseException] = []
    done = threading.Event()

    def read() -> None:
        try:
            while not done.is_set():
                observed.append((fresh.imported()["rows"], len(fresh.search(type="PER", limit=10_000))))
        except BaseException as error:
            errors.append(error)

    thread = threading.Thread(target=read)
    thread.start()
    try:
        for version in versions * 2:
            fresh.import_extraction(version)
    finally:
        done.set()
        thread.join()
    assert not errors
    assert {rows for rows, _ in observed} <= {"400", "600"}
    assert {count for _, count in observed} <= set(persons)
    assert fresh.imported()["rows"] == "600"


def test_nothing_imported_says_to_import(fresh: PostgresDirectoryIndex) -> None:
    with pytest.raises(DirectoryError, match="there is no directory index in schema 'mssante_directory'"):
        fresh.lookup("10000000001")
    with pytest.raises(DirectoryError, match="mssante directory import"):
        fresh.search(name="dupont")


def test_an_unreachable_database_is_a_clear_error() -> None:
    with pytest.raises(StoreUnavailable, match="did not happen"):
        PostgresDirectoryIndex(f"host=127.0.0.1 port={free_closed_port()} dbname=x user=x", connect_timeout=0.5)


@pytest.mark.parametrize("schema", ["", "Directory", "a-b", "x" * 41, 'd"; DROP TABLE x; --'])
def test_the_schema_must_be_a_plain_name(schema: str) -> None:
    with pytest.raises(ValueError, match="schema must be"):
        PostgresDirectoryIndex("dbname=x", schema=schema)

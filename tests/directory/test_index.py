"""The offline directory index: import, lookups, searches, atomic replacement, hostile queries, damaged files.

The fixture ``tests/data/directory/extraction-SYNTHETIC.txt`` is described in ``test_extraction.py``;
larger files come from :func:`mssante.testing._extraction.write_synthetic_extraction`.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import stat
import subprocess
import sys
import threading
import time
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mssante.addresses import MailboxType
from mssante.directory import _index_schema as _index
from mssante.directory._extraction import ExtractionReader
from mssante.directory._index import DirectoryIndex, ImportResult
from mssante.directory._models import DirectoryMailbox
from mssante.errors import DirectoryError, InvalidInput
from mssante.testing._extraction import write_synthetic_extraction
from tests.postgres import postgres_cluster, postgres_conninfo  # noqa: F401

if TYPE_CHECKING:
    from mssante.directory import PostgresDirectoryIndex

FIXTURE = Path(__file__).parent.parent / "data" / "directory" / "extraction-SYNTHETIC.txt"
HEADER, *LINES = FIXTURE.read_text(encoding="utf-8").splitlines()
AT = datetime(2026, 8, 26, 10, 13, tzinfo=timezone.utc)
GENERATED_LINES = 20_000


def write(path: Path, *lines: str, header: str = HEADER) -> Path:
    path.write_text("".join(line + "\n" for line in (header, *lines)), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_synthetic_extraction(tmp_path_factory.mktemp("extraction") / "generated.txt", GENERATED_LINES, seed=3)


@pytest.fixture(scope="module")
def mailboxes(generated: Path) -> list[DirectoryMailbox]:
    return list(ExtractionReader(generated))


@pytest.fixture(scope="module")
def big(generated: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DirectoryIndex]:
    with DirectoryIndex.open(tmp_path_factory.mktemp("index") / "index.sqlite3") as index:
        index.import_extraction(generated, at=AT)
        yield index


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def searched(
    request: pytest.FixtureRequest, big: DirectoryIndex, generated: Path
) -> Iterator[DirectoryIndex | PostgresDirectoryIndex]:
    """The big index, then the same extraction imported into PostgreSQL: the search tests run on both."""
    if request.param == "sqlite":
        yield big
        return
    conninfo = request.getfixturevalue("postgres_conninfo")  # skips when PostgreSQL or psycopg is missing
    from mssante.directory import PostgresDirectoryIndex  # noqa: PLC0415 - needs psycopg

    with PostgresDirectoryIndex(conninfo) as index:
        index.import_extraction(generated, at=AT)
        yield index


@pytest.fixture
def small(tmp_path: Path) -> Iterator[DirectoryIndex]:
    with DirectoryIndex.open(tmp_path / "index.sqlite3") as index:
        index.import_extraction(FIXTURE, at=AT)
        yield index


def fold(text: str) -> list[str]:
    return _index._words(text)


def words_match(words: list[str], text: str) -> bool:
    have = fold(text)
    return all(any(word.startswith(want) for word in have) for want in words)


def addresses(found: tuple[DirectoryMailbox, ...]) -> Counter[str]:
    return Counter(mailbox.address for mailbox in found)


# -- import ---------------------------------------------------------------------------------------------------------


def test_fixture_import_and_lookups(small: DirectoryIndex) -> None:
    expected = list(ExtractionReader(FIXTURE))
    info = small.info()
    assert (info.source, info.rows, info.mailboxes, info.skipped, info.imported_at) == (FIXTURE.name, 3, 3, 0, AT)
    assert info.full_text
    assert small.by_address("JEAN.EXEMPLE@Medecin.MSSante.fr") == (expected[0],)
    assert small.lookup("mailto:jean.exemple@medecin.mssante.fr") == (expected[0],)
    assert small.lookup("10000000002") == small.by_rpps("10000000002") == (expected[1],)
    assert small.lookup("810000000002") == small.by_idnps("810000000002") == (expected[1],)
    assert small.lookup(" 1X0000009 ") == small.by_structure("1X0000009") == (expected[1], expected[2])
    assert small.by_structure("1X0000009", limit=1) == (expected[1],)
    assert small.lookup("nobody@nowhere.mssante.fr") == small.lookup("10000000009") == small.lookup("x") == ()


def test_import_result(tmp_path: Path) -> None:
    seen: list[int] = []
    with DirectoryIndex.open(tmp_path / "sub" / "dir" / "index.sqlite3") as index:
        result = index.import_extraction(write(tmp_path / "x.txt", *LINES, "PER|broken"), progress=seen.append)
    assert isinstance(result, ImportResult)
    assert (result.source, result.rows, result.mailboxes, result.added, result.removed, result.skipped) == (
        "x.txt",
        3,
        3,
        3,
        0,
        1,
    )
    assert result.seconds > 0
    assert [finding.code for finding in result.findings] == ["MSS-DIR-003"]
    assert result.report.ok
    assert result.to_dict()["findings"][0]["code"] == "MSS-DIR-003"
    assert seen == [3]


def test_generated_import_matches_the_reader(big: DirectoryIndex, mailboxes: list[DirectoryMailbox]) -> None:
    info = big.info()
    counts = Counter(mailbox.address.lower() for mailbox in mailboxes)
    assert info.rows == GENERATED_LINES == len(mailboxes)
    assert info.mailboxes == len(counts) < GENERATED_LINES  # a few addresses are on two lines
    for mailbox in mailboxes[::997]:
        assert mailbox in big.by_address(mailbox.address.upper())
        assert len(big.by_address(mailbox.address)) == counts[mailbox.address.lower()]
        if mailbox.person and mailbox.person.rpps:
            assert mailbox in big.lookup(mailbox.person.rpps)
            assert big.lookup(mailbox.person.rpps) == big.lookup(str(mailbox.person.idnps))
        if mailbox.structure:
            assert mailbox in big.by_structure(mailbox.structure.identifier)
    duplicated = next(address for address, count in counts.items() if count > 1)
    assert len(big.lookup(duplicated)) == counts[duplicated]


def test_zip_import(tmp_path: Path, mailboxes: list[DirectoryMailbox]) -> None:
    archive = write_synthetic_extraction(tmp_path / "x.zip", 500, seed=3, zip=True)
    with DirectoryIndex.open(tmp_path / "index.sqlite3") as index:
        result = index.import_extraction(archive)
        assert result.source.startswith("Extraction_Correspondance_MSSante_")
        assert index.by_address(mailboxes[10].address) == (mailboxes[10],)


def test_default_location_is_the_user_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    index = DirectoryIndex.open()
    assert index.path == tmp_path / "mssante" / "directory" / "mssante-directory.sqlite3"
    with index:
        index.import_extraction(FIXTURE)
        assert index.lookup("10000000001")


# -- search ---------------------------------------------------------------------------------------------------------


def expected_search(
    mailboxes: list[DirectoryMailbox], predicate: Callable[[DirectoryMailbox], bool], *, names: list[str] | None = None
) -> Counter[str]:
    def by_name(mailbox: DirectoryMailbox) -> bool:
        if names is None:
            return True
        person = mailbox.person
        own = " ".join([person.given, person.family] if person else []) + " " + mailbox.service
        structure = mailbox.structure.name if mailbox.structure else ""
        return words_match(names, own) or words_match(names, structure)

    return Counter(mailbox.address for mailbox in mailboxes if predicate(mailbox) and by_name(mailbox))


def city(mailbox: DirectoryMailbox) -> str:
    return mailbox.structure.city if mailbox.structure else ""


def postcode(mailbox: DirectoryMailbox) -> str:
    return mailbox.structure.postcode if mailbox.structure else ""


@pytest.mark.parametrize(
    ("criteria", "names", "predicate"),
    [
        ({"name": "hélène"}, ["helene"], lambda m: True),
        ({"name": "HELENE"}, ["helene"], lambda m: True),
        ({"name": "hel dup"}, ["hel", "dup"], lambda m: True),
        ({"name": "Lefèvre"}, ["lefevre"], lambda m: True),
        ({"name": "z"}, ["z"], lambda m: True),
        ({"name": "centre hospitalier"}, ["centre", "hospitalier"], lambda m: True),
        ({"name": "cardiologie"}, ["cardiologie"], lambda m: True),
        ({"city": "orleans"}, None, lambda m: words_match(["orleans"], city(m))),
        ({"city": "Saint-Étienne"}, None, lambda m: words_match(["saint", "etienne"], city(m))),
        ({"postcode": "75"}, None, lambda m: postcode(m).startswith("75")),
        ({"postcode": "69003"}, None, lambda m: postcode(m) == "69003"),
        ({"profession": "60"}, None, lambda m: bool(m.person and m.person.profession_code == "60")),
        ({"profession": "médecin"}, None, lambda m: bool(m.person and m.person.profession_code == "10")),
        ({"profession": "Masseur kiné"}, None, lambda m: bool(m.person and m.person.profession_code == "70")),
        ({"type": "ORG", "postcode": "13"}, None, lambda m: m.type is MailboxType.ORG and postcode(m).startswith("13")),
        (
            {"name": "martin", "city": "paris", "profession": "10"},
            ["martin"],
            lambda m: words_match(["paris"], city(m)) and bool(m.person and m.person.profession_code == "10"),
        ),
        ({"type": MailboxType.PER, "name": "zoé"}, ["zoe"], lambda m: m.type is MailboxType.PER),
    ],
)
def test_search_finds_exactly_what_matches(
    searched: DirectoryIndex | PostgresDirectoryIndex,
    mailboxes: list[DirectoryMailbox],
    criteria: dict[str, str],
    names: list[str] | None,
    predicate: Callable[[DirectoryMailbox], bool],
) -> None:
    expected = expected_search(mailboxes, predicate, names=names)
    assert expected, criteria
    found = searched.search(**criteria, limit=10_000)
    assert addresses(found) == expected
    limited = searched.search(**criteria, limit=7)
    assert len(limited) == min(7, sum(expected.values()))
    assert set(limited) <= set(found)


NAMES = ("hélène", "Jean-Pierre", "d'almeida", "mar", "centre hosp")
CITIES = ("paris", "Saint-Étienne", "s")
OTHERS: tuple[dict[str, str], ...] = (
    {},
    {"profession": "médecin"},
    {"profession": "m"},
    {"profession": "60"},
    {"profession": "Sage-Femme", "type": "PER"},
    {"postcode": "13"},
    {"type": "ORG"},
    {"profession": "chirurgien dentiste", "postcode": "7"},
)


@pytest.fixture(scope="module")
def old_plans(generated: Path, big: DirectoryIndex) -> Iterator[DirectoryIndex]:
    """The same index, searched with the plans of format 1 (a query per criterion, no full-text narrowing)."""
    with DirectoryIndex.open(big.path) as index:
        index.info()
        index._columns = False
        yield index


@pytest.mark.parametrize("name", [*NAMES, None])
def test_narrowed_plans_return_what_the_old_plans_did(
    big: DirectoryIndex, old_plans: DirectoryIndex, mailboxes: list[DirectoryMailbox], name: str | None
) -> None:
    """Name, city and other criteria: the same mailboxes in the same order, whatever the limit."""
    compared = 0
    for place in CITIES:
        for others in OTHERS:
            criteria: dict[str, Any] = {"name": name, "city": place, **others}
            everything = big.search(**criteria, limit=10_000)
            assert everything == old_plans.search(**criteria, limit=10_000), criteria
            assert big.search(**criteria, limit=7) == old_plans.search(**criteria, limit=7), criteria
            compared += len(everything)
    assert compared


@pytest.mark.parametrize(
    ("criteria", "names", "predicate"),
    [
        (
            {"profession": "orthophoniste", "city": "brest"},
            None,
            lambda m: words_match(["brest"], city(m)) and bool(m.person and m.person.profession_code == "91"),
        ),
        (
            {"name": "jean-pierre", "city": "Saint-Étienne"},
            ["jean", "pierre"],
            lambda m: words_match(["saint", "etienne"], city(m)),
        ),
        (
            {"name": "centre hosp", "city": "paris", "profession": "m", "type": "PER"},
            ["centre", "hosp"],
            lambda m: (
                words_match(["paris"], city(m))
                and m.type is MailboxType.PER
                and bool(m.person and m.person.profession_code in ("10", "70"))
            ),
        ),
    ],
)
def test_narrowed_searches_find_exactly_what_matches(
    searched: DirectoryIndex | PostgresDirectoryIndex,
    mailboxes: list[DirectoryMailbox],
    criteria: dict[str, str],
    names: list[str] | None,
    predicate: Callable[[DirectoryMailbox], bool],
) -> None:
    expected = expected_search(mailboxes, predicate, names=names)
    assert expected, criteria
    assert addresses(searched.search(**criteria, limit=10_000)) == expected


def test_an_index_of_format_1_is_read_with_its_plans(tmp_path: Path) -> None:
    """An index of the previous format is still read, with the plans it was made for; a re-import counts changes."""
    path = tmp_path / "index.sqlite3"
    extraction = write_synthetic_extraction(tmp_path / "x.txt", 2000, seed=3)
    searches: list[dict[str, Any]] = [
        {"name": "jean", "city": "paris"},
        {"profession": "médecin", "city": "s"},
        {"name": "m", "city": "l"},
    ]
    with DirectoryIndex.open(path) as index:
        index.import_extraction(extraction)
        found = [index.search(**criteria) for criteria in searches]
        assert all(found)
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE meta SET value = '1' WHERE key = 'format'")
    connection.close()
    with DirectoryIndex.open(path) as index:
        assert [index.search(**criteria) for criteria in searches] == found
        assert not index._columns
        result = index.import_extraction(extraction)
        assert (result.added, result.removed) == (0, 0)
        assert index.info().rows == 2000
        assert index._columns


def test_search_without_criteria_or_words_finds_nothing(searched: DirectoryIndex | PostgresDirectoryIndex) -> None:
    assert searched.search() == ()
    assert searched.search(name="") == searched.search(name="  -- ") == searched.search(city="!!") == ()
    assert searched.search(name="zzzzzz") == searched.search(profession="astronaute") == ()
    assert searched.search(type="PER", limit=0) == ()
    assert len(searched.search(type="PER")) == 50


def test_search_without_full_text(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, generated: Path, big: DirectoryIndex
) -> None:
    monkeypatch.setattr(_index, "_create_fts", lambda connection: False)
    with DirectoryIndex.open(tmp_path / "plain.sqlite3") as plain:
        plain.import_extraction(generated)
        assert not plain.info().full_text
        for criteria in ({"name": "hél dup"}, {"name": "centre hosp", "postcode": "75"}, {"city": "saint-etienne"}):
            assert addresses(plain.search(**criteria, limit=10_000)) == addresses(big.search(**criteria, limit=10_000))


# -- hostile queries ------------------------------------------------------------------------------------------------

HOSTILE = [
    "x' OR '1'='1",
    "'; DROP TABLE mailbox; --",
    '" OR 1=1 --',
    "NEAR(a b)",
    "name : *",
    "a* OR b*",
    "^dupont",
    "%",
    "_",
    "\\",
    "\x00",
    'dup"ont',
    "{name} : x",
    "é" * 5000,
]


@pytest.mark.parametrize("text", HOSTILE)
def test_injection_looking_input_is_harmless(big: DirectoryIndex, text: str) -> None:
    before = big.info().rows
    assert big.lookup(text) == ()
    assert big.by_address(text) == big.by_rpps(text) == big.by_idnps(text) == big.by_structure(text) == ()
    for criteria in ({"name": text}, {"city": text}, {"postcode": text}, {"profession": text}, {"type": text}):
        for mailbox in big.search(**criteria):  # type: ignore[arg-type]
            assert isinstance(mailbox, DirectoryMailbox)
    assert big.search(postcode="' OR 1=1 --") == ()
    assert big.info().rows == before


@settings(max_examples=100, deadline=None)
@given(text=st.text(max_size=40))
def test_any_text_is_a_harmless_query(big: DirectoryIndex, text: str) -> None:
    big.lookup(text)
    for mailbox in big.search(name=text, limit=5) + big.search(city=text, postcode=text, limit=5):
        assert isinstance(mailbox, DirectoryMailbox)


# -- replacing the data ---------------------------------------------------------------------------------------------


def test_reimport_reports_changes_and_replaces(tmp_path: Path) -> None:
    other = LINES[0].replace("jean.exemple@", "paul.exemple@").replace("10000000001", "10000000003")
    with DirectoryIndex.open(tmp_path / "index.sqlite3") as index:
        first = index.import_extraction(write(tmp_path / "v1.txt", *LINES))
        second = index.import_extraction(write(tmp_path / "v2.txt", other, *LINES[1:], LINES[1]))
        assert (first.added, first.removed) == (3, 0)
        assert (second.rows, second.mailboxes, second.added, second.removed) == (4, 3, 1, 1)
        assert index.lookup("jean.exemple@medecin.mssante.fr") == ()
        assert len(index.lookup("paul.exemple@medecin.mssante.fr")) == 1
        assert len(index.lookup("marie.exemple@ch-exemple.mssante.fr")) == 2
        assert index.info().source == "v2.txt"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["index.sqlite3", "v1.txt", "v2.txt"]


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param(lambda path: write(path, *LINES, header=HEADER.replace("Adresse", "Adr")), id="bad header"),
        pytest.param(lambda path: path, id="missing file"),
        pytest.param(lambda path: path.write_bytes(b"PK\x03\x04 not a zip") and path, id="broken zip"),
    ],
)
def test_a_failed_import_leaves_the_old_data(tmp_path: Path, bad: Callable[[Path], Path]) -> None:
    with DirectoryIndex.open(tmp_path / "index.sqlite3") as index:
        index.import_extraction(FIXTURE)
        with pytest.raises(InvalidInput):
            index.import_extraction(bad(tmp_path / "bad.txt"))
        assert len(index.lookup("1X0000009")) == 2
        assert index.info().rows == 3
    assert {path.name for path in tmp_path.iterdir()} <= {"index.sqlite3", "bad.txt"}


def test_a_failing_progress_callback_aborts_cleanly(tmp_path: Path) -> None:
    def fail(rows: int) -> None:
        raise RuntimeError("stop")

    with DirectoryIndex.open(tmp_path / "index.sqlite3") as index:
        index.import_extraction(FIXTURE)
        with pytest.raises(RuntimeError, match="stop"):
            index.import_extraction(FIXTURE, progress=fail)
        assert index.info().rows == 3
    assert [path.name for path in tmp_path.iterdir()] == ["index.sqlite3"]


def test_concurrent_reader_sees_old_or_new_never_half(tmp_path: Path) -> None:
    versions = [write_synthetic_extraction(tmp_path / f"v{seed}.txt", 2000 + 1000 * seed, seed=seed) for seed in (1, 2)]
    persons = [sum(mailbox.type is MailboxType.PER for mailbox in ExtractionReader(path)) for path in versions]
    path = tmp_path / "index.sqlite3"
    with DirectoryIndex.open(path) as writer:
        writer.import_extraction(versions[0])
    observed: list[tuple[int, int]] = []
    errors: list[BaseException] = []
    done = threading.Event()

    def read() -> None:
        try:
            with DirectoryIndex.open(path) as reader:
                while not done.is_set():
                    observed.append((reader.info().rows, len(reader.search(type="PER", limit=100_000))))
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    thread = threading.Thread(target=read)
    thread.start()
    try:
        with DirectoryIndex.open(path) as writer:
            for version in versions * 2:
                writer.import_extraction(version)
    finally:
        done.set()
        thread.join()
    assert not errors
    assert observed
    assert {rows for rows, _ in observed} == {3000, 4000}  # each answer comes from one whole import...
    assert {count for _, count in observed} == set(persons)  # ...and the reader follows the imports


def test_one_index_serves_several_threads(big: DirectoryIndex, mailboxes: list[DirectoryMailbox]) -> None:
    sample = mailboxes[::500]
    failures: list[BaseException] = []

    def look() -> None:
        try:
            for mailbox in sample:
                assert mailbox in big.lookup(mailbox.address)
                big.search(name=mailbox.person.family if mailbox.person else "centre", limit=5)
        except BaseException as error:  # pragma: no cover - reported below
            failures.append(error)

    threads = [threading.Thread(target=look) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures


# -- crashes: what a killed import leaves is removed, a running import's never; synced before and after the rename --

HANG_GUARD = 60.0  # seconds: only a stuck child comes near it
IMPORTER = """
import sys, time
from mssante.directory._index import DirectoryIndex

def paused(rows):
    print("importing", flush=True)
    time.sleep(600)  # killed here, midway through its import

with DirectoryIndex.open(sys.argv[1]) as index:
    index.import_extraction(sys.argv[2], progress=paused)
"""


class Importer:
    """An import in another process, paused midway (its new database written, not renamed) until it is killed."""

    def __init__(self, index: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", IMPORTER, str(index), str(FIXTURE)], stdout=subprocess.PIPE, text=True
        )
        self._guard = threading.Timer(HANG_GUARD, self.process.kill)
        self._guard.start()
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        assert line == "importing\n", "the importer stopped before its import"

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=HANG_GUARD)
        self._guard.cancel()
        assert self.process.stdout is not None
        self.process.stdout.close()


def bounded(call: Callable[[], object], fifo: Path) -> BaseException | None:
    """What ``call()`` raised (None when nothing) in a thread; a failure when it is still blocked after the guard
    (the FIFO is then opened for writing, which sets a blocked reader free)."""
    raised: list[BaseException] = []

    def run() -> None:
        try:
            call()
        except BaseException as error:  # handed to the test
            raised.append(error)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(HANG_GUARD)
    if worker.is_alive():
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        worker.join(HANG_GUARD)
        pytest.fail(f"still blocked on a FIFO after {HANG_GUARD} seconds")
    return raised[0] if raised else None


def hidden(folder: Path) -> list[str]:
    """The names an import keeps beside the index while it runs (all begin with a dot)."""
    return sorted(path.name for path in folder.iterdir() if path.name.startswith("."))


def test_the_next_import_removes_what_a_killed_import_left(tmp_path: Path) -> None:
    index = tmp_path / "index.sqlite3"
    with DirectoryIndex.open(index) as first:
        first.import_extraction(FIXTURE)
    importer = Importer(index)
    importer.kill()
    left = hidden(tmp_path)
    assert any(name.endswith(".tmp") for name in left), left  # its new database, written midway
    with DirectoryIndex.open(index) as again:
        result = again.import_extraction(FIXTURE)
        assert result.rows == 3
    assert hidden(tmp_path) == []
    assert sorted(path.name for path in tmp_path.iterdir()) == ["index.sqlite3"]


def test_opening_the_index_removes_what_a_killed_import_left(tmp_path: Path) -> None:
    index = tmp_path / "index.sqlite3"
    Importer(index).kill()
    assert hidden(tmp_path) != []
    with DirectoryIndex.open(index) as opened, pytest.raises(DirectoryError, match="mssante directory import"):
        opened.info()
    assert hidden(tmp_path) == []


def test_a_running_import_is_left_alone(tmp_path: Path) -> None:
    index = tmp_path / "index.sqlite3"
    importer = Importer(index)
    try:
        running = hidden(tmp_path)
        with DirectoryIndex.open(index) as other:  # another import, while the first one runs
            assert other.import_extraction(FIXTURE).rows == 3
        assert hidden(tmp_path) == running
    finally:
        importer.kill()
    DirectoryIndex.open(index).close()
    assert hidden(tmp_path) == []


def test_only_our_own_stale_files_are_removed(tmp_path: Path) -> None:
    old = time.time() - 2 * 3600
    files = {
        ".index.sqlite3.k8i5dh2_.tmp": (old, False),  # an earlier version's, two hours old: removed
        ".index.sqlite3.ab12cd34.tmp": (time.time(), True),  # an earlier version's, maybe running: kept
        ".other.sqlite3.k8i5dh2_.tmp": (old, True),  # another index's
        ".other.sqlite3.import-1-00aa11bb.lock": (old, True),
        ".other.sqlite3.import-1-00aa11bb.tmp": (old, True),
        "notes.tmp": (old, True),
        ".index.sqlite3.backup": (old, True),
    }
    for name, (moment, _) in files.items():
        (tmp_path / name).write_bytes(b"x")
        os.utime(tmp_path / name, (moment, moment))
    with DirectoryIndex.open(tmp_path / "index.sqlite3") as index:
        index.import_extraction(FIXTURE)
    kept = sorted(name for name, (_, keep) in files.items() if keep)
    assert sorted(path.name for path in tmp_path.iterdir() if path.name != "index.sqlite3") == kept


def test_the_new_index_is_synced_before_the_rename_and_its_folder_after(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    events: list[str] = []
    fsync, replace = os.fsync, os.replace

    def spy_fsync(descriptor: int) -> None:
        fsync(descriptor)
        events.append("fsync directory" if stat.S_ISDIR(os.fstat(descriptor).st_mode) else "fsync file")

    def spy_replace(source: Any, target: Any, **kwargs: Any) -> None:
        replace(source, target, **kwargs)
        events.append("rename")

    monkeypatch.setattr(os, "fsync", spy_fsync)
    monkeypatch.setattr(os, "replace", spy_replace)
    with DirectoryIndex.open(tmp_path / "index.sqlite3") as index:
        index.import_extraction(FIXTURE)
    assert events[-3:] == ["fsync file", "rename", "fsync directory"]


@pytest.mark.parametrize("kind", ["fifo", "symbolic link", "directory"])
def test_an_import_replaces_only_a_regular_file(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "index.sqlite3"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "directory":
        path.mkdir()
    else:
        (tmp_path / "elsewhere.sqlite3").write_bytes(b"")
        path.symlink_to(tmp_path / "elsewhere.sqlite3")
    before = stat.S_IFMT(os.lstat(path).st_mode)
    with DirectoryIndex.open(path) as index:
        refusal = bounded(lambda: index.import_extraction(FIXTURE), fifo=path)
    assert isinstance(refusal, DirectoryError)
    assert "replaces only a regular file" in str(refusal)
    assert stat.S_IFMT(os.lstat(path).st_mode) == before
    assert hidden(tmp_path) == []


def test_an_index_that_is_a_fifo_is_refused_unopened(tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite3"
    os.mkfifo(path)
    refusal = bounded(lambda: DirectoryIndex.open(path).lookup("x@y.fr"), fifo=path)
    assert isinstance(refusal, DirectoryError)
    assert "FIFO" in str(refusal)


# -- damaged and missing indexes ------------------------------------------------------------------------------------


def test_missing_index_says_to_import(tmp_path: Path) -> None:
    with DirectoryIndex.open(tmp_path / "none.sqlite3") as index:
        for query in (lambda: index.lookup("x"), lambda: index.search(name="x"), index.info):
            with pytest.raises(DirectoryError, match="mssante directory import"):
                query()


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda data: b"this is not a database" * 100, id="garbage"),
        pytest.param(lambda data: data[: len(data) // 3], id="truncated"),
        pytest.param(lambda data: b"", id="empty"),
        pytest.param(lambda data: data[:100] + b"\xff" * 4000 + data[4100:], id="overwritten"),
    ],
)
def test_damaged_index_is_a_directory_error(tmp_path: Path, damage: Callable[[bytes], bytes]) -> None:
    path = tmp_path / "index.sqlite3"
    with DirectoryIndex.open(path) as index:
        index.import_extraction(write_synthetic_extraction(tmp_path / "x.txt", 3000, seed=5))
    path.write_bytes(damage(path.read_bytes()))
    with DirectoryIndex.open(path) as index:

        def every_query() -> None:
            index.info()
            index.lookup("x@y.fr")
            index.search(name="a", limit=10_000)

        with pytest.raises(DirectoryError, match="mssante directory import"):
            every_query()
        result = index.import_extraction(FIXTURE)  # an import repairs it
        assert (result.added, result.removed) == (3, 0)
        assert len(index.lookup("1X0000009")) == 2


def test_index_of_another_format_is_refused(small: DirectoryIndex) -> None:
    small.close()
    with sqlite3.connect(small.path) as connection:
        connection.execute("UPDATE meta SET value = '0' WHERE key = 'format'")
    connection.close()
    with pytest.raises(DirectoryError, match="another version"):
        small.lookup("x")


def test_empty_index_answers_empty(tmp_path: Path) -> None:
    with DirectoryIndex.open(tmp_path / "index.sqlite3") as index:
        result = index.import_extraction(write(tmp_path / "empty.txt"))
        assert (result.rows, result.mailboxes) == (0, 0)
        assert index.lookup("10000000001") == index.search(name="jean") == index.search(type="PER") == ()
        assert index.info().rows == 0


def test_fold() -> None:
    assert _index._fold("Hélène-Marie  D'ALMEIDA_ŒUF") == "helene marie d almeida œuf"
    assert unicodedata.is_normalized("NFC", _index._fold("Noël"))


def test_an_index_named_by_a_string_is_read(small: DirectoryIndex) -> None:
    """A notebook user writes the path as text: the constructor takes it as ``open`` does."""
    with DirectoryIndex(str(small.path)) as again:
        assert again.path == small.path
        found = again.search(name="exemple", limit=5)
        assert found
        assert found == small.search(name="exemple", limit=5)

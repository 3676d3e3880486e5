"""The offline directory index against bare SQLite: the import as a whole CLI process, and the searches.

Run: ``python benchmarks/bench_directory.py [LINES ...]`` from the repository root (default: 50,000 and 200,000
lines; the real file has about 536,000). Options: ``--turns N`` (import turns, default 3), ``--queries N``
(searches of each kind, default 300), ``--no-import`` / ``--no-search``. Prints Markdown tables.

Data: synthetic extraction files (:func:`mssante.testing.write_synthetic_extraction`), made of lines shaped like
the real sample rows (``tests/data/directory/``): the real header, accents, hyphens, ~85% PER and ~15% ORG lines.

Import: the whole ``mssante directory import FILE --db PATH`` process against a bare script in a process of its
own (``csv.reader`` + ``executemany`` into one table of the 31 columns, then the same indexes and the same two FTS5
tables, the same pragmas, an fsync), in alternating turns, a fresh database each time. Wall time of each process,
min and median, and its peak RSS (``os.wait4``: the rusage of that child alone).

Search: name + city and profession + city, drawn from the data (existing and missing names, accents, hyphens).
Ours is :meth:`DirectoryIndex.search` (``DirectoryMailbox`` values); the baseline is the bare FTS5 SQL that returns the
same rows (tuples), checked equal before timing. p50 and p99 of each over all the queries, run in turns.
"""

from __future__ import annotations

import argparse
import csv
import functools
import os
import platform
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SOURCE = HERE.parent / "src"

# The bare import: one table of the extraction's columns, then what our index has: 5 mailbox indexes, 2 structure
# indexes, a full-text table over the people's names and one over the structures' names and cities.
_BARE_PRAGMAS = (
    "page_size = 8192",
    "journal_mode = OFF",
    "synchronous = OFF",
    "locking_mode = EXCLUSIVE",
    "cache_size = -2048",
)
_BARE_INDEXES = (
    "CREATE INDEX line_address ON line (lower(c1))",
    "CREATE INDEX line_rpps ON line (c3) WHERE c3 <> ''",
    "CREATE INDEX line_idnps ON line (c4) WHERE c4 <> ''",
    "CREATE INDEX line_structure ON line (c6) WHERE c6 <> ''",
    "CREATE INDEX line_profession ON line (c13) WHERE c13 <> ''",
    "CREATE INDEX line_postcode ON line (c28) WHERE c28 <> ''",
    "CREATE VIRTUAL TABLE line_fts USING fts5(name, city, profession, content='', columnsize=0, detail=column, "
    "prefix='1 2', tokenize='unicode61 remove_diacritics 2')",
    "INSERT INTO line_fts (rowid, name, city, profession) "
    "SELECT rowid, c10 || ' ' || c9 || ' ' || c7, c27, 'p' || hex(c13) FROM line",
    "CREATE VIRTUAL TABLE structure_fts USING fts5(name, city, content='', columnsize=0, detail=column, "
    "prefix='1 2', tokenize='unicode61 remove_diacritics 2')",
    "INSERT INTO structure_fts (rowid, name, city) SELECT min(rowid), c18, c27 FROM line WHERE c6 <> '' GROUP BY c6",
)


def bare_import(text: str, database: str) -> None:
    """The baseline import (run in a process of its own: ``bench_directory.py --bare TEXT DATABASE``)."""
    connection = sqlite3.connect(database, isolation_level=None)
    for pragma in _BARE_PRAGMAS:
        connection.execute(f"PRAGMA {pragma}")
    with open(text, encoding="utf-8", newline="") as stream:
        rows = csv.reader(stream, delimiter="|", quoting=csv.QUOTE_NONE)
        width = len(next(rows))
        connection.execute(f"CREATE TABLE line ({', '.join(f'c{i}' for i in range(width))})")
        connection.execute("BEGIN")
        connection.executemany(f"INSERT INTO line VALUES ({', '.join('?' * width)})", rows)
        for statement in _BARE_INDEXES:
            connection.execute(statement)
        connection.execute("COMMIT")
    connection.close()
    descriptor = os.open(database, os.O_RDWR)
    os.fsync(descriptor)
    os.close(descriptor)


def _run(command: Sequence[str]) -> tuple[float, float]:
    """(seconds, peak RSS in MiB) of one child process; it must succeed."""
    environment = {**os.environ, "PYTHONPATH": str(SOURCE)}
    with tempfile.TemporaryFile() as errors:
        started = time.perf_counter()
        child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=errors, env=environment)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode:
            errors.seek(0)
            message = errors.read().decode(errors="replace")[-2000:]
            raise RuntimeError(f"{' '.join(command)} failed ({child.returncode}): {message}")
    return seconds, usage.ru_maxrss / 1024  # ru_maxrss is in KiB on Linux


def _ours_command(text: Path, database: Path) -> list[str]:
    return [sys.executable, "-m", "mssante", "directory", "import", str(text), "--db", str(database)]


def _bare_command(text: Path, database: Path) -> list[str]:
    return [sys.executable, str(Path(__file__).resolve()), "--bare", str(text), str(database)]


def _summary(values: list[float]) -> str:
    return f"{min(values):.2f} / {statistics.median(values):.2f}"


def bench_import(text: Path, folder: Path, turns: int) -> tuple[list[str], Path]:
    """Table rows of the import of ``text``; the index left by the last import of ours."""
    ours_db, bare_db = folder / "ours.sqlite3", folder / "bare.sqlite3"
    sides: dict[str, tuple[list[float], list[float]]] = {"ours": ([], []), "bare": ([], [])}
    for turn in range(turns):
        order = ["ours", "bare"] if turn % 2 == 0 else ["bare", "ours"]
        for side in order:
            database = ours_db if side == "ours" else bare_db
            database.unlink(missing_ok=True)
            command = (_ours_command if side == "ours" else _bare_command)(text, database)
            seconds, rss = _run(command)
            sides[side][0].append(seconds)
            sides[side][1].append(rss)
    (ours_s, ours_rss), (bare_s, bare_rss) = sides["ours"], sides["bare"]
    ratio_min = min(ours_s) / min(bare_s)
    ratio_median = statistics.median(ours_s) / statistics.median(bare_s)
    lines = sum(1 for _ in text.open("rb")) - 1
    row = (
        f"| {lines:,} | {_summary(ours_s)} | {_summary(bare_s)} | {ratio_min:.2f}x / {ratio_median:.2f}x "
        f"| {max(ours_rss):.0f} | {max(bare_rss):.0f} | {ours_db.stat().st_size / 2**20:.0f} "
        f"| {bare_db.stat().st_size / 2**20:.0f} |"
    )
    bare_db.unlink(missing_ok=True)
    return [row], ours_db


# -- searches -------------------------------------------------------------------------------------------------------

_LABELS = ("médecin", "infirmier", "pharmacien", "masseur-kiné", "sage-femme", "orthophoniste", "chirurgien dentiste")


def _queries(database: Path, count: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(name + city, profession + city) criteria drawn from the index: names as people type them."""
    rng = random.Random(8)
    connection = sqlite3.connect(database)
    people = connection.execute(
        "SELECT m.given, m.family, s.city FROM mailbox AS m JOIN structure AS s ON s.id = m.structure "
        "WHERE m.type = 'PER' AND s.city <> ''"
    ).fetchall()
    cities = sorted({city for _, _, city in people})
    connection.close()
    by_name: list[dict[str, Any]] = []
    for _ in range(count):
        given, family, city = rng.choice(people)
        style = rng.randrange(5)
        if style == 0:
            name = family.lower()
        elif style == 1:
            name = f"{given} {family}"
        elif style == 2:
            name = f"{given[:3]} {family[:4]}"
        elif style == 3:
            name = family.title()
        else:  # a name from elsewhere: few or no results in that city
            name = rng.choice(people)[1]
        place = city if rng.random() < 0.8 else rng.choice(cities)
        by_name.append({"name": name, "city": place.title() if rng.random() < 0.5 else place.lower()})
    by_profession = [{"profession": rng.choice(_LABELS), "city": rng.choice(cities).lower()} for _ in range(count)]
    return by_name, by_profession


def _bare_search(connection: sqlite3.Connection, columns: str, criteria: dict[str, Any], limit: int) -> list[Any]:
    """The bare FTS5 queries that give the rows our search gives: the people by name and city in one full-text
    query, then the structures by name and city; by city and profession, one full-text query per code."""
    from mssante.directory import _index_schema as _schema  # noqa: PLC0415 (private helpers to spell the same FTS5 queries)
    from mssante.directory import _index_search as _index  # noqa: PLC0415

    city = f"city : ({_index._match(_index._terms(_schema._words(criteria['city'])))})"
    select = f"SELECT m.id, {columns} FROM"
    people = (
        f"{select} mailbox_fts AS f JOIN mailbox AS m ON m.id = f.rowid LEFT JOIN structure AS s ON s.id = m.structure"
    )
    if "name" in criteria:
        names = f"name : ({_index._match(_index._terms(_schema._words(criteria['name'])))})"
        rows = connection.execute(
            f"{people} WHERE mailbox_fts MATCH ? LIMIT ?", (f"{names} AND {city}", limit)
        ).fetchall()
        if len(rows) < limit:
            seen = {row[0] for row in rows}
            sql = (
                f"{select} structure_fts AS t JOIN mailbox AS m ON m.structure = t.rowid "
                "LEFT JOIN structure AS s ON s.id = m.structure WHERE structure_fts MATCH ? LIMIT ?"
            )
            more = connection.execute(sql, (f"{names} AND {city}", limit)).fetchall()
            rows += [row for row in more if row[0] not in seen][: limit - len(rows)]
        return rows
    wanted = _schema._words(criteria["profession"])
    rows = []
    for code, label in sorted(connection.execute("SELECT code, label FROM profession").fetchall()):
        have = _schema._words(label)
        if len(have) >= len(wanted) and all(word.startswith(want) for word, want in zip(have, wanted, strict=False)):
            query = f'{city} AND profession : "p{code.encode().hex().upper()}"'
            rows += connection.execute(f"{people} WHERE mailbox_fts MATCH ? LIMIT ?", (query, limit - len(rows)))
            if len(rows) >= limit:
                break
    return rows


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def bench_search(database: Path, count: int, limit: int = 50) -> list[str]:
    """Table rows: p50 and p99 of our search and of the bare query, per kind of search."""
    from mssante.directory import DirectoryIndex  # noqa: PLC0415 (the bare import runs without mssante)
    from mssante.directory import _index_schema as _index  # noqa: PLC0415

    rows: list[str] = []
    by_name, by_profession = _queries(database, count)
    connection = sqlite3.connect(f"{database.resolve().as_uri()}?mode=ro", uri=True)
    with DirectoryIndex.open(database) as index:
        for kind, queries in (("name + city", by_name), ("profession + city", by_profession)):
            ours: list[float] = []
            bare: list[float] = []
            found = 0
            for criteria in queries:  # same answers first: the baseline returns what we return
                mine = [mailbox.address for mailbox in index.search(**criteria, limit=limit)]
                theirs = [row[1] for row in _bare_search(connection, _index._COLUMNS, criteria, limit)]
                if mine != theirs:
                    raise AssertionError(f"{criteria}: {len(mine)} results, baseline {len(theirs)}")
                found += len(mine)
            for turn, criteria in enumerate(queries * 2):
                sides: list[tuple[Callable[[], object], list[float]]] = [
                    (functools.partial(index.search, **criteria, limit=limit), ours),
                    (functools.partial(_bare_search, connection, _index._COLUMNS, criteria, limit), bare),
                ]
                for function, into in sides if turn % 2 else sides[::-1]:
                    started = time.perf_counter()
                    function()
                    into.append((time.perf_counter() - started) * 1e3)
            p50, p99 = _percentile(ours, 0.5), _percentile(ours, 0.99)
            b50, b99 = _percentile(bare, 0.5), _percentile(bare, 0.99)
            rows.append(
                f"| {kind} | {len(queries)} | {found / len(queries):.1f} | {p50:.2f} | {p99:.2f} | {b50:.2f} "
                f"| {b99:.2f} | {p50 / b50:.2f}x | {p99 / b99:.2f}x |"
            )
    connection.close()
    return rows


def main() -> None:
    """Print the tables."""
    if sys.argv[1:2] == ["--bare"]:
        bare_import(sys.argv[2], sys.argv[3])
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("lines", type=int, nargs="*", default=[50_000, 200_000])
    parser.add_argument("--turns", type=int, default=3)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--no-import", action="store_true")
    parser.add_argument("--no-search", action="store_true")
    parser.add_argument("--data", type=Path, help="a folder to keep the generated files in, between runs")
    parser.add_argument("--src", type=Path, help="the source tree to measure (default: this repository's src)")
    options = parser.parse_args()
    global SOURCE  # noqa: PLW0603 (the children's PYTHONPATH)
    SOURCE = (options.src or SOURCE).resolve()
    sys.path.insert(0, str(SOURCE))
    from mssante.testing import write_synthetic_extraction  # noqa: PLC0415

    print(f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, {os.cpu_count()} CPUs\n")
    imports = [
        "| lines | mssante s min / median | bare s min / median | ratio min / median "
        "| mssante peak RSS MiB | bare peak RSS MiB | index MiB | bare MiB |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    searches = [
        "| search (limit 50) | queries | results | mssante p50 ms | p99 ms | bare FTS5 p50 ms | p99 ms "
        "| ratio p50 | ratio p99 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    with tempfile.TemporaryDirectory(prefix="bench-directory-") as scratch:
        data = options.data or Path(scratch)
        data.mkdir(parents=True, exist_ok=True)
        for lines in options.lines:
            text = data / f"extraction-{lines}.txt"
            if not text.exists():
                write_synthetic_extraction(text, lines, seed=0)
            database = Path(scratch) / "ours.sqlite3"
            if options.no_import:
                _run(_ours_command(text, database))
            else:
                rows, database = bench_import(text, Path(scratch), options.turns)
                imports += rows
            if not options.no_search:
                searches += [row.replace("| ", f"| {lines:,}: ", 1) for row in bench_search(database, options.queries)]
    if not options.no_import:
        print(f"Import, {options.turns} turns each, alternating; whole processes\n")
        print("\n".join(imports) + "\n")
    if not options.no_search:
        print("Searches, each query run twice per side in alternating order\n")
        print("\n".join(searches))


if __name__ == "__main__":
    main()

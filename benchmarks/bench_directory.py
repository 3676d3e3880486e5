"""Importing the full-size MSSanté extraction into the offline index, and querying it, against bare SQLite.

Run: ``python benchmarks/bench_directory.py [LINES]`` (from the repository root; default 536,000 lines,
the size of the real file). The file is synthetic (:func:`mssante.testing._extraction.write_synthetic_extraction`),
shaped like the real one. Baseline of the import: ``csv.reader`` + ``executemany`` of the same lines into one
table of 31 text columns, no index, with the same ``journal_mode=OFF``/``synchronous=OFF`` pragmas. Our
import validates every line, builds the mailbox and structure tables, 7 indexes and 2 FTS5 tables, fsyncs
and renames the file; a re-import also counts the addresses added and removed; the ZIP row reads the same
lines from the deflated archive (against the same TXT baseline). Baseline of the queries: the
same SQL on the same database through bare ``sqlite3`` (rows, no model objects). Prints Markdown tables.
"""

from __future__ import annotations

import csv
import functools
import os
import platform
import sqlite3
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

from timing import best_ms

from mssante.directory._index import _COLUMNS, _FROM, DirectoryIndex
from mssante.testing._extraction import write_synthetic_extraction

LINES = 536_000
IMPORT_ROUNDS = 4


def _bare_import(text: Path, database: Path) -> None:
    """The baseline: csv.reader + executemany into one table, same pragmas, no index."""
    database.unlink(missing_ok=True)
    connection = sqlite3.connect(database)
    connection.execute("PRAGMA journal_mode = OFF")
    connection.execute("PRAGMA synchronous = OFF")
    with text.open(encoding="utf-8", newline="") as stream:
        rows = csv.reader(stream, delimiter="|")
        width = len(next(rows))
        connection.execute(f"CREATE TABLE line ({', '.join(f'c{i}' for i in range(width))})")
        connection.executemany(f"INSERT INTO line VALUES ({', '.join('?' * width)})", rows)
    connection.commit()
    connection.close()


def _our_import(text: Path, database: Path, *, fresh: bool) -> None:
    if fresh:
        database.unlink(missing_ok=True)
    with DirectoryIndex.open(database) as index:
        index.import_extraction(text)


def _seconds(function: Callable[[], object]) -> float:
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


_MEMORY_CHILD = """
import sys
from pathlib import Path
import bench_directory

def status(field):
    with open("/proc/self/status") as lines:
        return next(int(line.split()[1]) for line in lines if line.startswith(field + ":"))

text = Path(sys.argv[2])
before = status("VmRSS")
with open("/proc/self/clear_refs", "w") as clear:
    clear.write("5")  # resets VmHWM, the peak RSS, to the current RSS
if sys.argv[1] == "ours":
    bench_directory._our_import(text, text.with_suffix(".memory"), fresh=True)
else:
    bench_directory._bare_import(text, text.with_suffix(".bare-memory"))
print(before, status("VmHWM"))
"""


def _rss_mib(which: str, text: Path) -> tuple[float, float]:
    """(RSS once the library is imported, peak RSS during the import) of a fresh process, in MiB (Linux)."""
    here = Path(__file__).resolve().parent
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(here.parent / "src"), str(here)])}
    command = [sys.executable, "-c", _MEMORY_CHILD, which, str(text)]
    output = subprocess.run(command, check=True, capture_output=True, text=True, env=environment).stdout.split()
    before, after = (int(value) / 1024 for value in output[-2:])  # kB
    return before, after


def _python_peak_mib(text: Path, database: Path) -> float:
    """The peak of Python allocations during one import (tracemalloc: SQLite's own memory is not counted)."""
    database.unlink(missing_ok=True)
    tracemalloc.start()
    try:
        _our_import(text, database, fresh=True)
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def _queries(database: Path) -> list[tuple[str, float, float | None, int]]:
    """(query, our milliseconds, bare sqlite3 milliseconds or None, results) on the full index."""
    connection = sqlite3.connect(database)
    address, rpps, idnps = connection.execute(
        "SELECT address, rpps, idnps FROM mailbox "
        "WHERE rpps IS NOT NULL AND id > (SELECT max(id) / 2 FROM mailbox) LIMIT 1"
    ).fetchone()
    (structure,) = connection.execute("SELECT identifier FROM structure WHERE identifier <> '' LIMIT 1").fetchone()
    rows: list[tuple[str, float, float | None, int]] = []
    with DirectoryIndex.open(database) as index:

        def measure(label: str, ours: Callable[[], tuple[object, ...]], sql: str = "", *values: object) -> None:
            number = 2000 if sql else 50
            our_ms = best_ms(ours, number=number)
            bare_ms = best_ms(lambda: connection.execute(sql, values).fetchall(), number=number) if sql else None
            rows.append((label, our_ms, bare_ms, len(ours())))

        select = f"SELECT {_COLUMNS} FROM {_FROM}"
        upper = address.upper()
        measure(
            "lookup, address (other case)",
            lambda: index.lookup(upper),
            f"{select} WHERE lower(m.address) = lower(?)",
            upper,
        )
        measure("lookup, RPPS", lambda: index.lookup(rpps), f"{select} WHERE m.rpps = ?", rpps)
        measure("lookup, IDNPS", lambda: index.lookup(idnps), f"{select} WHERE m.idnps = ?", idnps)
        measure("by_structure", lambda: index.by_structure(structure))
        for criteria in (
            {"name": "dupont"},
            {"name": "hél dup"},
            {"name": "m"},
            {"name": "centre hospitalier"},
            {"name": "martin", "city": "paris"},
            {"city": "saint-étienne"},
            {"postcode": "75"},
            {"profession": "orthophoniste", "city": "brest"},
            {"type": "ORG", "postcode": "13"},
            {"name": "zzzz"},
        ):
            label = "search " + ", ".join(f"{key}={value!r}" for key, value in criteria.items())
            measure(label, functools.partial(index.search, **criteria))  # type: ignore[arg-type]
    connection.close()
    return rows


def main() -> None:
    """Print the tables."""
    lines = int(sys.argv[1]) if len(sys.argv) > 1 else LINES
    with tempfile.TemporaryDirectory(prefix="bench-directory-") as folder:
        text = write_synthetic_extraction(Path(folder) / "extraction.txt", lines, seed=0)
        archive = write_synthetic_extraction(Path(folder) / "extraction.zip", lines, seed=0, zip=True)
        size, zipped_size = text.stat().st_size, archive.stat().st_size
        database, bare = Path(folder) / "index.sqlite3", Path(folder) / "bare.sqlite3"
        fresh: list[float] = []
        again: list[float] = []
        baseline: list[float] = []
        from_zip: list[float] = []
        runs = [
            (fresh, lambda: _our_import(text, database, fresh=True)),
            (again, lambda: _our_import(text, database, fresh=False)),
            (baseline, lambda: _bare_import(text, bare)),
            (from_zip, lambda: _our_import(archive, database, fresh=True)),
        ]
        for turn in range(IMPORT_ROUNDS):  # in turns, each first once, so that a busy machine weighs on all alike
            for times, run in runs[turn:] + runs[:turn]:
                if times is again and not database.exists():
                    _our_import(text, database, fresh=True)
                times.append(_seconds(run))
        index_size, bare_size = database.stat().st_size, bare.stat().st_size
        queries = _queries(database)
        rss_ours, rss_bare = _rss_mib("ours", text), _rss_mib("bare", text)
        python_peak = _python_peak_mib(text, Path(folder) / "traced.sqlite3")

    print(
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, {os.cpu_count()} CPUs; "
        f"{lines:,} synthetic lines ({size / 1e6:.0f} MB, zipped {zipped_size / 1e6:.0f} MB); "
        f"best of {IMPORT_ROUNDS} imports\n"
    )
    best_bare = min(baseline)
    what = "csv.reader + executemany, 1 table, no index"
    print("| import | mssante s | baseline | baseline s | ratio |")
    print("|---|---:|---|---:|---:|")
    for label, times in (
        ("first import (no previous index)", fresh),
        ("re-import (+ addresses added/removed)", again),
        ("first import, from the ZIP", from_zip),
    ):
        print(f"| {label} | {min(times):.2f} | {what} | {best_bare:.2f} | {min(times) / best_bare:.2f} |")
    print(f"\nIndex file {index_size / 2**20:.0f} MiB (baseline table {bare_size / 2**20:.0f} MiB).\n")
    print("| memory of one import | mssante MiB | baseline MiB |")
    print("|---|---:|---:|")
    print(f"| Python heap peak (tracemalloc) | {python_peak:.1f} | - |")
    print(f"| RSS of the process before the import | {rss_ours[0]:.0f} | {rss_bare[0]:.0f} |")
    print(f"| peak RSS during the import | {rss_ours[1]:.0f} | {rss_bare[1]:.0f} |")
    print("\n| query (full index) | mssante ms | bare sqlite3 ms | ratio | results |")
    print("|---|---:|---:|---:|---:|")
    for label, ours, bare_ms, count in queries:
        ratio = f"{ours / bare_ms:.2f}" if bare_ms else "-"
        bare_text = f"{bare_ms:.4f}" if bare_ms else "-"
        print(f"| {label} | {ours:.4f} | {bare_text} | {ratio} | {count} |")


if __name__ == "__main__":
    main()

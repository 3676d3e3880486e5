"""The import of the extraction into a new directory index file, which then replaces the index in one rename.

Rows go straight from the :class:`~mssante.directory.ExtractionReader` to SQLite in batches; the indexes and the
full-text tables are built once the rows are in. The new file is synced before the rename and the directory after
it, so that a power loss leaves the old index or the new one, whole.
"""

from __future__ import annotations

import itertools
import os
import sqlite3
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import attrs

from mssante._files import sync_directory
from mssante.directory import _index_schema
from mssante.directory._extraction import RECORD_FIELDS, STRUCTURE_FIELDS, ExtractionReader, ExtractionSource
from mssante.directory._index_files import _check_replaceable, _identity, _ImportFiles, _remove_stale_imports
from mssante.directory._index_schema import _FORMAT, _FORMATS, _FTS_FILL, _INDEXES, _MAILBOX_COLUMNS, _SCHEMA
from mssante.errors import DirectoryError
from mssante.report import Finding, Report

__all__ = ["ImportResult", "import_extraction"]

_BATCH = 20_000
_CACHE_KIB = 2 * 1024  # the build's page cache, and the sorter's memory per run: what an import holds is bounded
# SQL is built from this module's constants only; every value is bound.
_INSERT_MAILBOX = "INSERT INTO mailbox ({}, structure) VALUES ({})".format(  # noqa: S608
    ", ".join(_MAILBOX_COLUMNS), ", ".join("?" * len(RECORD_FIELDS))
)
_INSERT_STRUCTURE = "INSERT INTO structure (id, {}) VALUES ({})".format(  # noqa: S608
    ", ".join(STRUCTURE_FIELDS), ", ".join("?" * (len(STRUCTURE_FIELDS) + 1))
)
_DISTINCT = "SELECT count(*) FROM (SELECT DISTINCT lower(address) FROM {schema}.mailbox)"
# Both sides come sorted from their address index: SQLite merges them in one pass (ORDER BY makes it a merge).
_ONLY_IN = (
    "SELECT count(*) FROM (SELECT lower(address) FROM {this}.mailbox "
    "EXCEPT SELECT lower(address) FROM {other}.mailbox ORDER BY 1)"
)
_BUILD_PRAGMAS = (
    "page_size = 8192",
    "journal_mode = OFF",
    "synchronous = OFF",
    "locking_mode = EXCLUSIVE",
    f"cache_size = -{_CACHE_KIB}",
)


@attrs.frozen(kw_only=True)
class ImportResult:
    """What an import did: rows stored, distinct addresses, the change since the last import, lines skipped."""

    source: str
    """The extraction's file name (the ZIP member's when zipped)."""
    rows: int
    """Lines stored (one per mailbox and structure)."""
    mailboxes: int
    """Distinct addresses (case-insensitive)."""
    added: int
    """Addresses absent from the previous import (all of them on a first import)."""
    removed: int
    """Addresses of the previous import that are gone."""
    skipped: int
    """Lines that could not be used; :attr:`findings` says why."""
    seconds: float
    findings: tuple[Finding, ...] = ()

    @property
    def report(self) -> Report:
        """The findings as a report (skipped lines are warnings: it stays ok)."""
        return Report(findings=self.findings, subject=self.source or "extraction")

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: counts, seconds and findings."""
        return {
            "source": self.source,
            "rows": self.rows,
            "mailboxes": self.mailboxes,
            "added": self.added,
            "removed": self.removed,
            "skipped": self.skipped,
            "seconds": round(self.seconds, 3),
            "findings": [finding.to_dict() for finding in self.findings],
        }


def import_extraction(
    path: Path,
    source: ExtractionSource,
    *,
    progress: Callable[[int], None] | None = None,
    at: datetime | None = None,
) -> ImportResult:
    """:meth:`DirectoryIndex.import_extraction <mssante.directory.DirectoryIndex.import_extraction>` for the index
    at ``path``."""
    started = time.perf_counter()
    imported_at = at or datetime.now(timezone.utc)
    _check_replaceable(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        _remove_stale_imports(path)
        files = _ImportFiles(path)
    except OSError as error:
        raise DirectoryError(f"the directory index cannot be written in {str(path.parent)!r} ({error})") from None
    try:
        result = _build(path, files.database, source, progress, imported_at, started)
        _check_replaceable(path)  # again: what appeared meanwhile is not replaced either
        os.replace(files.database, path)
        sync_directory(path.parent)
    except sqlite3.Error as error:
        raise DirectoryError(f"the directory index {str(path)!r} cannot be written ({error})") from None
    except OSError as error:
        raise DirectoryError(f"the directory index {str(path)!r} cannot be replaced ({error})") from None
    finally:
        files.release()
    return attrs.evolve(result, seconds=time.perf_counter() - started)


def _build(  # noqa: PLR0917 (the state of one import)
    path: Path,
    temporary: Path,
    source: ExtractionSource,
    progress: Callable[[int], None] | None,
    imported_at: datetime,
    started: float,
) -> ImportResult:
    """Fill the new database file; the counts of the result."""
    reader = ExtractionReader(source)
    connection = sqlite3.connect(temporary.resolve().as_uri(), uri=True, isolation_level=None)
    try:
        for pragma in _BUILD_PRAGMAS:
            connection.execute(f"PRAGMA main.{pragma}")
        connection.executescript(_SCHEMA)
        full_text = _index_schema._create_fts(connection)  # through the module, so that it can be replaced
        previous = _attach_previous(connection, path)
        connection.execute("BEGIN")
        rows = 0
        structures: list[tuple[int, str, str, str, str, str, str, str]] = []
        records = reader.numbered_records(structures)
        while True:  # rows go straight from the reader to SQLite; the structures they number follow
            inserted = connection.executemany(_INSERT_MAILBOX, itertools.islice(records, _BATCH)).rowcount
            connection.executemany(_INSERT_STRUCTURE, structures)
            structures.clear()
            if inserted <= 0:
                break
            rows += inserted
            if progress is not None:
                progress(rows)
        for statement in _INDEXES + (_FTS_FILL if full_text else ()):
            connection.execute(statement)
        (mailboxes,) = connection.execute(_DISTINCT.format(schema="main")).fetchone()
        added, removed = _changes(connection, mailboxes) if previous else (mailboxes, 0)
        meta = {
            "format": _FORMAT,
            "fts": "1" if full_text else "0",
            "source": reader.name,
            "imported_at": imported_at.isoformat(),
            "rows": str(rows),
            "mailboxes": str(mailboxes),
            "skipped": str(reader.skipped),
        }
        connection.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", meta.items())
        connection.execute("COMMIT")
    finally:
        connection.close()
    descriptor = os.open(temporary, os.O_RDWR | getattr(os, "O_CLOEXEC", 0))
    try:  # the build ran with synchronous=OFF: all of it reaches the disk before the rename
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    return ImportResult(
        source=reader.name,
        rows=rows,
        mailboxes=mailboxes,
        added=added,
        removed=removed,
        skipped=reader.skipped,
        seconds=time.perf_counter() - started,
        findings=reader.findings,
    )


def _attach_previous(connection: sqlite3.Connection, path: Path) -> bool:
    """Attach the index being replaced as ``previous``; False when there is none that can be read."""
    if _identity(path) is None:
        return False
    try:
        connection.execute("ATTACH DATABASE ? AS previous", (path.resolve().as_uri() + "?mode=ro",))
    except sqlite3.Error:
        return False
    try:
        row = connection.execute("SELECT value FROM previous.meta WHERE key = 'format'").fetchone()
    except sqlite3.Error:
        row = None
    if row is None or row[0] not in _FORMATS:  # the mailbox table is the same in every format read
        connection.execute("DETACH DATABASE previous")
        return False
    return True


def _changes(connection: sqlite3.Connection, mailboxes: int) -> tuple[int, int]:
    """Addresses (added, removed) against the attached previous index."""
    try:
        (added,) = connection.execute(_ONLY_IN.format(this="main", other="previous")).fetchone()
        (removed,) = connection.execute(_ONLY_IN.format(this="previous", other="main")).fetchone()
    except sqlite3.DatabaseError:  # the previous index is damaged: everything is new
        return mailboxes, 0
    return int(added), int(removed)

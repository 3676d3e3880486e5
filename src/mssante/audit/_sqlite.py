"""The audit trail in an SQLite file: WAL, one file shared by several processes, a versioned schema."""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from mssante._lifecycle import Closing
from mssante._sqlite import SqliteFile, begin, open_file
from mssante.audit._event import AuditEvent, format_time
from mssante.audit._rows import COLUMNS, to_row, where
from mssante.audit._store import AuditReading, AuditStoreError, PurgeResult, Retention, kinds_of, paged

__all__ = ["SCHEMA_VERSION", "SqliteAuditStore"]

SCHEMA_VERSION = 1
"""The schema version this code writes (``PRAGMA user_version``); a newer file is refused."""
_APPLICATION_ID = 0x4D534155  # "MSAU": marks the file as an audit trail

_SCHEMA = (
    """CREATE TABLE audit_event (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        kind TEXT NOT NULL,
        node TEXT NOT NULL,
        peer TEXT NOT NULL,
        port INTEGER,
        username TEXT,
        sender TEXT,
        certificate_subject TEXT,
        certificate_sha256 TEXT,
        outcome TEXT NOT NULL,
        reason TEXT NOT NULL,
        codes TEXT NOT NULL,
        message_id TEXT,
        recipients TEXT NOT NULL,
        details TEXT NOT NULL
    )""",
    "CREATE INDEX audit_event_at ON audit_event (at, id)",
    "CREATE INDEX audit_event_kind ON audit_event (kind, at)",
)
_INSERT = f"INSERT INTO audit_event ({', '.join(COLUMNS)}) VALUES ({', '.join('?' for _ in COLUMNS)})"  # noqa: S608
_PAGE = 500
_PURGE_BATCH = 10_000
_FILE = SqliteFile(
    noun="audit trail",
    article="an",
    schema="audit",
    application_id=_APPLICATION_ID,
    version=SCHEMA_VERSION,
    statements=_SCHEMA,
    error=AuditStoreError,
)
_PURGE = "DELETE FROM audit_event WHERE id IN (SELECT id FROM audit_event WHERE at < ? ORDER BY at LIMIT ?)"


class SqliteAuditStore(Closing, AuditReading):
    """An :class:`~mssante.audit.AuditStore` in an SQLite file, shared by several processes of one host.

    The file is created readable by its owner only (traces deserve the protection of the data they describe); it
    is in WAL mode (readers never wait for a writer) and each write is one ``BEGIN IMMEDIATE`` transaction, synced
    to disk when ``durable`` (the default). Raises :class:`~mssante.audit.AuditStoreError` on a file that is not an
    audit trail or was made by a newer version.
    """

    def __init__(
        self,
        path: Path | str,
        *,
        retention: Retention | None = None,
        durable: bool = True,
        timeout: float = 30.0,
    ) -> None:
        self.path = Path(path)
        self.retention = retention if retention is not None else Retention()
        self._lock = threading.RLock()
        self._closed = False
        self._connection = open_file(self.path, _FILE, durable=durable, timeout=timeout, private=True)

    def close(self) -> None:
        """Close the database connection."""
        with self._lock:
            self._closed = True
            self._connection.close()

    @contextlib.contextmanager
    def _transaction(self, *, write: bool) -> Iterator[sqlite3.Connection]:
        with self._lock:
            if self._closed:
                raise AuditStoreError(f"the audit trail {str(self.path)!r} is closed")
            connection = self._connection
            begin(connection, self.path, _FILE, write=write)
            try:
                yield connection
                connection.execute("COMMIT")
            except sqlite3.Error as error:
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
                raise AuditStoreError(f"the audit trail {str(self.path)!r} cannot be used ({error})") from None
            except BaseException:
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
                raise

    def record(self, events: Iterable[AuditEvent]) -> int:
        """Keep ``events`` in one transaction (all or none); return how many."""
        rows = [to_row(event) for event in events]
        if not rows:
            return 0
        with self._transaction(write=True) as connection:
            connection.executemany(_INSERT, rows)
        return len(rows)

    def events(
        self, *, since: dt.datetime | None = None, until: dt.datetime | None = None, kinds: Iterable[str] = ()
    ) -> Iterator[AuditEvent]:
        """The events in time order, read in pages of a few hundred (memory stays bounded)."""
        condition, parameters = where(since, until, kinds_of(kinds), marker="?", time=format_time)
        sql = f"SELECT id, {', '.join(COLUMNS)} FROM audit_event WHERE {condition}"  # noqa: S608 (placeholders)

        def page(after: tuple[Any, Any] | None) -> list[Any]:
            page_sql, page_parameters = sql, list(parameters)
            if after is not None:
                page_sql += " AND (at > ? OR (at = ? AND id > ?))"
                page_parameters += [after[0], after[0], after[1]]
            with self._transaction(write=False) as connection:
                return connection.execute(f"{page_sql} ORDER BY at, id LIMIT {_PAGE}", page_parameters).fetchall()

        yield from paged(page, _PAGE)

    def counts(self, *, since: dt.datetime | None = None, until: dt.datetime | None = None) -> dict[str, int]:
        """The number of events of each kind."""
        condition, parameters = where(since, until, (), marker="?", time=format_time)
        with self._transaction(write=False) as connection:
            rows = connection.execute(
                f"SELECT kind, count(*) FROM audit_event WHERE {condition} GROUP BY kind ORDER BY kind",  # noqa: S608
                parameters,
            ).fetchall()
        return {str(kind): int(count) for kind, count in rows}

    def purge(self, *, at: dt.datetime) -> PurgeResult:
        """Remove the events past retention at ``at``, a batch per transaction (writers wait little)."""
        cutoff = self.retention.cutoff(at)
        limit = format_time(cutoff)
        purged = 0
        while True:
            with self._transaction(write=True) as connection:
                removed = connection.execute(_PURGE, (limit, _PURGE_BATCH)).rowcount
            purged += removed
            if removed < _PURGE_BATCH:
                break
        with self._transaction(write=False) as connection:
            kept = int(connection.execute("SELECT count(*) FROM audit_event").fetchone()[0])
        return PurgeResult(purged=purged, kept=kept, cutoff=cutoff)

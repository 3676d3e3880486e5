"""The audit trail in an SQLite file: WAL, one file shared by several processes, a versioned schema."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import TracebackType

from mssante._files import check_regular
from mssante.audit._event import AuditEvent, format_time
from mssante.audit._rows import COLUMNS, from_row, to_row, where
from mssante.audit._store import AuditStoreError, PurgeResult, Retention, Writable, kinds_of, write_lines

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
_PURGE = "DELETE FROM audit_event WHERE id IN (SELECT id FROM audit_event WHERE at < ? ORDER BY at LIMIT ?)"


class SqliteAuditStore:
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
        try:
            with contextlib.suppress(FileExistsError):
                os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            check_regular(self.path)  # SQLite would block on a FIFO, or read a device
        except OSError as error:
            raise AuditStoreError(
                f"the audit trail {str(self.path)!r} cannot be opened: {error.strerror or error}"
            ) from None
        try:
            self._connection = sqlite3.connect(
                str(self.path), timeout=timeout, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as error:
            raise AuditStoreError(f"the audit trail {str(self.path)!r} cannot be opened ({error})") from None
        try:
            self._prepare(durable=durable, timeout=timeout)
        except sqlite3.Error as error:
            self._connection.close()
            raise AuditStoreError(f"{str(self.path)!r} is not a usable audit trail ({error})") from None
        except AuditStoreError:
            self._connection.close()
            raise

    def _prepare(self, *, durable: bool, timeout: float) -> None:
        connection = self._connection
        connection.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
        self._check(connection)
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute(f"PRAGMA synchronous = {'FULL' if durable else 'NORMAL'}")
        if connection.execute("PRAGMA user_version").fetchone()[0] < SCHEMA_VERSION:
            connection.execute("BEGIN IMMEDIATE")
            try:
                if self._check(connection) == 0:  # another process may have made it meanwhile
                    for statement in _SCHEMA:
                        connection.execute(statement)
                    connection.execute(f"PRAGMA application_id = {_APPLICATION_ID}")
                    connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                connection.execute("COMMIT")
            except BaseException:
                connection.execute("ROLLBACK")
                raise

    def _check(self, connection: sqlite3.Connection) -> int:
        """The schema version of the file (0 for an empty one); raises when it is not ours or newer."""
        version = int(connection.execute("PRAGMA user_version").fetchone()[0])
        application = int(connection.execute("PRAGMA application_id").fetchone()[0])
        if version == 0 and application == 0:
            if connection.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
                raise AuditStoreError(f"{str(self.path)!r} is an SQLite database, but not an audit trail")
            return 0
        if application != _APPLICATION_ID:
            raise AuditStoreError(f"{str(self.path)!r} is an SQLite database, but not an audit trail")
        if version > SCHEMA_VERSION:
            raise AuditStoreError(
                f"{str(self.path)!r} has audit schema {version}, newer than this mssante's {SCHEMA_VERSION}: "
                "upgrade mssante"
            )
        return version

    def __enter__(self) -> SqliteAuditStore:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

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
            try:
                connection.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            except sqlite3.Error as error:
                raise AuditStoreError(f"the audit trail {str(self.path)!r} is busy ({error})") from None
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
        after: tuple[str, int] | None = None
        while True:
            page_sql, page_parameters = sql, list(parameters)
            if after is not None:
                page_sql += " AND (at > ? OR (at = ? AND id > ?))"
                page_parameters += [after[0], after[0], after[1]]
            with self._transaction(write=False) as connection:
                rows = connection.execute(f"{page_sql} ORDER BY at, id LIMIT {_PAGE}", page_parameters).fetchall()
            for row in rows:
                yield from_row(row[1:])
            if len(rows) < _PAGE:
                return
            after = (rows[-1][1], rows[-1][0])

    def query(
        self,
        *,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        kinds: Iterable[str] = (),
        limit: int = 1000,
    ) -> list[AuditEvent]:
        """At most ``limit`` events, in time order."""
        found: list[AuditEvent] = []
        if limit <= 0:
            return found
        for event in self.events(since=since, until=until, kinds=kinds):
            found.append(event)
            if len(found) >= limit:
                break
        return found

    def export(
        self,
        stream: Writable,
        *,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        kinds: Iterable[str] = (),
    ) -> int:
        """Write the events as JSON lines to ``stream``, in time order; return how many."""
        return write_lines(stream, self.events(since=since, until=until, kinds=kinds))

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

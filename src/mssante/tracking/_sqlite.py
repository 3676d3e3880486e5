"""A tracking store in an SQLite file: WAL, one transaction per observation, a versioned schema."""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from mssante._lifecycle import Closing
from mssante._sqlite import SqliteFile, begin, open_file
from mssante.errors import MssanteError
from mssante.tracking._rows import changed_rows, tracked_from_rows
from mssante.tracking._store import StoreSession, Tracked

__all__ = ["SCHEMA_VERSION", "SqliteStore", "TrackingStoreError"]

SCHEMA_VERSION = 2
"""The schema version this code writes (``PRAGMA user_version``); a newer file is refused."""
_APPLICATION_ID = 0x4D535452  # "MSTR": marks the file as a tracking database

_SCHEMA = (
    "CREATE TABLE message (id TEXT PRIMARY KEY) WITHOUT ROWID",
    """CREATE TABLE recipient (
        message_id TEXT NOT NULL REFERENCES message (id),
        key TEXT NOT NULL,
        position INTEGER NOT NULL,
        address TEXT NOT NULL,
        status TEXT NOT NULL,
        sent_at TEXT NOT NULL,
        deadline TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (message_id, key)
    ) WITHOUT ROWID""",
    "CREATE INDEX recipient_awaiting ON recipient (deadline, message_id) WHERE status IN ('pending', 'delayed')",
    """CREATE TABLE event (
        message_id TEXT NOT NULL,
        key TEXT NOT NULL,
        seq INTEGER NOT NULL,
        at TEXT NOT NULL,
        status TEXT NOT NULL,
        source TEXT NOT NULL,
        detail TEXT NOT NULL,
        notification TEXT,
        applied INTEGER NOT NULL,
        reason TEXT,
        PRIMARY KEY (message_id, key, seq),
        FOREIGN KEY (message_id, key) REFERENCES recipient (message_id, key)
    ) WITHOUT ROWID""",
    "CREATE TABLE notification (id TEXT PRIMARY KEY, at TEXT NOT NULL) WITHOUT ROWID",
)
_UPSERT_RECIPIENT = (
    "INSERT INTO recipient (message_id, key, position, address, status, sent_at, deadline, updated_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (message_id, key) DO UPDATE SET "
    "status = excluded.status, sent_at = excluded.sent_at, deadline = excluded.deadline, "
    "updated_at = excluded.updated_at"
)
_INSERT_EVENT = (
    "INSERT OR IGNORE INTO event (message_id, key, seq, at, status, source, detail, notification, applied, reason) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


class TrackingStoreError(MssanteError):
    """The tracking database cannot be used: not a tracking database, made by a newer version, or unreadable."""


_FILE = SqliteFile(
    noun="tracking database",
    article="a",
    schema="tracking",
    application_id=_APPLICATION_ID,
    version=SCHEMA_VERSION,
    statements=_SCHEMA,
    upgrades={1: ("ALTER TABLE event ADD COLUMN reason TEXT",)},  # schema 2 records why a delivery failed
    pragmas=("foreign_keys = ON",),
    error=TrackingStoreError,
)


def _text(at: dt.datetime) -> str:
    """A UTC time as fixed-width text, so that text order is time order."""
    return at.astimezone(dt.timezone.utc).isoformat(timespec="microseconds")


def _time(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


class _Session:
    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection
        self.loaded: dict[str, Tracked] = {}

    def get(self, message_id: str) -> Tracked | None:
        tracked = _load(self.connection, message_id)
        if tracked is not None:
            self.loaded[message_id] = tracked
        return tracked

    def seen(self, notification: str) -> bool:
        row = self.connection.execute("SELECT 1 FROM notification WHERE id = ?", (notification,)).fetchone()
        return row is not None

    def put(self, tracked: Tracked) -> None:
        before = self.loaded.get(tracked.message_id)
        if before is None:
            self.connection.execute("INSERT OR IGNORE INTO message (id) VALUES (?)", (tracked.message_id,))
        rows, events = changed_rows(before, tracked, time=_text)
        self.connection.executemany(_UPSERT_RECIPIENT, rows)
        self.connection.executemany(_INSERT_EVENT, events)
        self.loaded[tracked.message_id] = tracked

    def mark_seen(self, notification: str, at: dt.datetime) -> None:
        self.connection.execute("INSERT OR IGNORE INTO notification (id, at) VALUES (?, ?)", (notification, _text(at)))

    def awaiting(self, *, due_by: dt.datetime | None = None) -> list[Tracked]:
        sql = "SELECT DISTINCT message_id FROM recipient WHERE status IN ('pending', 'delayed')"
        parameters: tuple[str, ...] = ()
        if due_by is not None:
            sql += " AND deadline <= ?"
            parameters = (_text(due_by),)
        ids = [row[0] for row in self.connection.execute(sql + " ORDER BY message_id", parameters).fetchall()]
        return [tracked for message_id in ids if (tracked := self.get(message_id)) is not None]


def _load(connection: sqlite3.Connection, message_id: str) -> Tracked | None:
    rows = connection.execute(
        "SELECT key, address, status, sent_at, deadline, updated_at FROM recipient WHERE message_id = ? "
        "ORDER BY position",
        (message_id,),
    ).fetchall()
    if not rows:
        return None
    events = connection.execute(
        "SELECT key, at, status, source, detail, notification, applied, reason FROM event WHERE message_id = ? "
        "ORDER BY key, seq",
        (message_id,),
    )
    return tracked_from_rows(message_id, rows, events, read_time=_time)


class SqliteStore(Closing):
    """A :class:`TrackingStore` in an SQLite file, shared safely by several processes.

    The file is in WAL mode (readers never wait for a writer); each transaction starts with
    ``BEGIN IMMEDIATE`` (read-modify-write is serialised between processes) and commits all of a
    notification's effects at once: a crash leaves the state before or after, never half. ``durable``
    (the default) syncs each commit to disk (``synchronous=FULL``); without it a power loss may drop the
    last commits, never corrupt. Raises :class:`TrackingStoreError` on a file that is not a tracking
    database or was made by a newer version.
    """

    def __init__(self, path: Path | str, *, durable: bool = True, timeout: float = 30.0) -> None:
        self.path = Path(path)
        self._lock = threading.RLock()
        self._before_commit: Callable[[], None] | None = None  # a test hook: runs after the writes, before COMMIT
        self._connection = open_file(self.path, _FILE, durable=durable, timeout=timeout)

    def close(self) -> None:
        """Close the database connection."""
        with self._lock:
            self._connection.close()

    @contextlib.contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[StoreSession]:
        """One ``BEGIN IMMEDIATE`` … ``COMMIT`` (a plain ``BEGIN``, a read, with ``write=False``); rolled back
        when the block raises."""
        with self._lock:
            connection = self._connection
            begin(connection, self.path, _FILE, write=write)
            try:
                yield _Session(connection)
                if self._before_commit is not None:
                    self._before_commit()
                connection.execute("COMMIT")
            except BaseException:
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
                raise

    def get(self, message_id: str) -> Tracked | None:
        """The tracked message, or None (one consistent read)."""
        with self._lock:
            try:
                self._connection.execute("BEGIN")
                try:
                    return _load(self._connection, message_id)
                finally:
                    self._connection.execute("COMMIT")
            except sqlite3.Error as error:
                raise TrackingStoreError(f"the tracking database {str(self.path)!r} cannot be read ({error})") from None

"""A tracking store in PostgreSQL, shared by the processes of several nodes."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Iterator

from mssante._postgres import Connection, Pool, PooledStore, translated
from mssante.tracking._rows import changed_rows, tracked_from_rows
from mssante.tracking._store import StoreSession, Tracked

__all__ = ["POSTGRES_MIGRATIONS", "PostgresTrackingStore"]

POSTGRES_MIGRATIONS = (
    """
    CREATE TABLE tracking_message (id text PRIMARY KEY);
    CREATE TABLE tracking_recipient (
        message_id text NOT NULL REFERENCES tracking_message (id),
        key text NOT NULL,
        position integer NOT NULL,
        address text NOT NULL,
        status text NOT NULL,
        sent_at timestamptz NOT NULL,
        deadline timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        PRIMARY KEY (message_id, key)
    );
    CREATE INDEX tracking_recipient_awaiting ON tracking_recipient (deadline, message_id)
        WHERE status IN ('pending', 'delayed');
    CREATE TABLE tracking_event (
        message_id text NOT NULL,
        key text NOT NULL,
        seq integer NOT NULL,
        at timestamptz NOT NULL,
        status text NOT NULL,
        source text NOT NULL,
        detail text NOT NULL,
        notification text,
        applied boolean NOT NULL,
        reason text,
        PRIMARY KEY (message_id, key, seq),
        FOREIGN KEY (message_id, key) REFERENCES tracking_recipient (message_id, key)
    );
    CREATE TABLE tracking_notification (id text PRIMARY KEY, at timestamptz NOT NULL);
    """,
)
"""The migrations of the tracking tables (``schema_version`` row ``tracking``), oldest first."""

_STORE = "tracking"
_MESSAGE_LOCK = "mssante.tracking.message:"
_NOTIFICATION_LOCK = "mssante.tracking.notification:"
_LOCK = "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))"
_UPSERT_RECIPIENT = (
    "INSERT INTO tracking_recipient (message_id, key, position, address, status, sent_at, deadline, updated_at) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (message_id, key) DO UPDATE SET "
    "status = excluded.status, sent_at = excluded.sent_at, deadline = excluded.deadline, "
    "updated_at = excluded.updated_at"
)
_INSERT_EVENT = (
    "INSERT INTO tracking_event (message_id, key, seq, at, status, source, detail, notification, applied, reason) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING"
)


def _utc(at: dt.datetime) -> dt.datetime:
    return at.astimezone(dt.timezone.utc)


class _Session:
    """One transaction; in a write transaction, :meth:`get` and :meth:`seen` take the locks described on the store."""

    def __init__(self, connection: Connection, *, write: bool) -> None:
        self.connection = connection
        self.write = write
        self.loaded: dict[str, Tracked] = {}

    def _locked(self, message_id: str) -> bool:
        """Lock the message's row; when there is none yet, lock its id (whoever creates it holds that lock)."""
        sql = "SELECT 1 FROM tracking_message WHERE id = %s FOR UPDATE"
        if self.connection.execute(sql, (message_id,)).fetchone() is not None:
            return True
        self.connection.execute(_LOCK, (_MESSAGE_LOCK + message_id,))
        return self.connection.execute(sql, (message_id,)).fetchone() is not None

    def get(self, message_id: str) -> Tracked | None:
        if self.write and not self._locked(message_id):
            return None
        tracked = _load(self.connection, message_id)
        if tracked is not None:
            self.loaded[message_id] = tracked
        return tracked

    def seen(self, notification: str) -> bool:
        if self.write:
            self.connection.execute(_LOCK, (_NOTIFICATION_LOCK + notification,))
        row = self.connection.execute("SELECT 1 FROM tracking_notification WHERE id = %s", (notification,)).fetchone()
        return row is not None

    def put(self, tracked: Tracked) -> None:
        before = self.loaded.get(tracked.message_id)
        if before is None:
            self.connection.execute(
                "INSERT INTO tracking_message (id) VALUES (%s) ON CONFLICT DO NOTHING", (tracked.message_id,)
            )
        rows, events = changed_rows(before, tracked, time=lambda at: at)
        with self.connection.cursor() as cursor:
            if rows:
                cursor.executemany(_UPSERT_RECIPIENT, rows)
            if events:
                cursor.executemany(_INSERT_EVENT, events)
        self.loaded[tracked.message_id] = tracked

    def mark_seen(self, notification: str, at: dt.datetime) -> None:
        self.connection.execute(
            "INSERT INTO tracking_notification (id, at) VALUES (%s, %s) ON CONFLICT (id) DO NOTHING", (notification, at)
        )

    def awaiting(self, *, due_by: dt.datetime | None = None) -> list[Tracked]:
        sql = "SELECT DISTINCT message_id FROM tracking_recipient WHERE status IN ('pending', 'delayed')"
        parameters: tuple[dt.datetime, ...] = ()
        if due_by is not None:
            sql += " AND deadline <= %s"
            parameters = (due_by,)
        ids = [row[0] for row in self.connection.execute(sql + " ORDER BY message_id", parameters).fetchall()]
        return [tracked for message_id in ids if (tracked := self.get(message_id)) is not None]


def _load(connection: Connection, message_id: str) -> Tracked | None:
    rows = connection.execute(
        "SELECT key, address, status, sent_at, deadline, updated_at FROM tracking_recipient WHERE message_id = %s "
        "ORDER BY position",
        (message_id,),
    ).fetchall()
    if not rows:
        return None
    events = connection.execute(
        "SELECT key, at, status, source, detail, notification, applied, reason FROM tracking_event "
        "WHERE message_id = %s ORDER BY key, seq",
        (message_id,),
    )
    return tracked_from_rows(message_id, rows, events, read_time=_utc)


class PostgresTrackingStore(PooledStore):
    """A :class:`TrackingStore` in PostgreSQL: several processes on several nodes record at once, safely.

    ``source`` is a conninfo (``"host=db1 dbname=mssante user=tracker"`` or a ``postgresql://`` URL; the store
    opens a pool of ``min_size`` to ``max_size`` connections and closes it in :meth:`close`) or a
    :class:`psycopg_pool.ConnectionPool` the caller owns. Opening creates or migrates the tables (``tracking_*``,
    version in ``schema_version``; several nodes starting together migrate once). Waits are bounded: a connection
    attempt (and waiting for a free connection) by ``connect_timeout``, a statement by ``statement_timeout``.

    **Exactly once, in any order, on any node.** The tracker reads and writes each notification in one
    transaction (``READ COMMITTED``); a write transaction takes, before reading what it changes:

    - a lock on the notification's identifier (``pg_advisory_xact_lock`` of its hash, in :meth:`~StoreSession.seen`):
      two nodes recording the same DSN or MDN queue up; the second reads, after the first committed, that it was
      recorded (``tracking_notification``, written ``ON CONFLICT DO NOTHING``) and changes nothing: it counts once;
    - the message's row (``SELECT ... FOR UPDATE``; when the message has no row yet, an advisory lock on its id,
      which whoever creates it holds): every change to one message (sending again, notifications, expiry) is
      serialised, and each reads the state the previous one committed. A status only moves up by rank, so the
      final statuses are those of any serial order: the same whatever the order of arrival.

    Locks are taken notification first, then the message (expiry: messages in identifier order), so two
    transactions do not wait on each other in a circle (should PostgreSQL still find a deadlock, it aborts one
    transaction, whose call raises as below). A transaction commits all its effects or none; when the
    database cannot be reached, is restarted mid-way or a statement times out, the tracker's call raises
    :class:`~mssante.errors.StoreUnavailable` and nothing of it was kept. Recording a notification again is always
    safe (a duplicate is recognised), so the caller may simply retry. Reads (``write=False``, :meth:`get`) run in
    ``REPEATABLE READ READ ONLY`` transactions: a consistent view, taking no lock.
    """

    def __init__(
        self,
        source: str | Pool,
        *,
        min_size: int = 1,
        max_size: int = 4,
        connect_timeout: float = 10.0,
        statement_timeout: float = 30.0,
    ) -> None:
        super().__init__(
            source,
            name=_STORE,
            min_size=min_size,
            max_size=max_size,
            connect_timeout=connect_timeout,
            statement_timeout=statement_timeout,
        )
        self._before_commit: Callable[[], None] | None = None  # a test hook: runs after the writes, before COMMIT
        self._migrate(_STORE, POSTGRES_MIGRATIONS)

    @contextlib.contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[StoreSession]:
        """One transaction, committed when the block ends without an exception, rolled back otherwise."""
        what = "recording in the tracking store" if write else "reading the tracking store"
        with translated(what, self._where), self._pool.connection() as connection, connection.transaction():
            if not write:
                connection.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield _Session(connection, write=write)
            if write and self._before_commit is not None:
                self._before_commit()

    def get(self, message_id: str) -> Tracked | None:
        """The tracked message, or None (one consistent read)."""
        with self.transaction(write=False) as session:
            return session.get(message_id)

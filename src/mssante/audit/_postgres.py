"""The audit trail in PostgreSQL, shared by the processes of several nodes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from typing import Any

from mssante._postgres import Pool, PooledStore, translated
from mssante.audit._event import AuditEvent
from mssante.audit._rows import COLUMNS, to_row, where
from mssante.audit._store import AuditReading, PurgeResult, Retention, kinds_of, paged

__all__ = ["POSTGRES_MIGRATIONS", "PostgresAuditStore"]

POSTGRES_MIGRATIONS = (
    """
    CREATE TABLE audit_event (
        id bigserial PRIMARY KEY,
        at timestamptz NOT NULL,
        kind text NOT NULL,
        node text NOT NULL,
        peer text NOT NULL,
        port integer,
        username text,
        sender text,
        certificate_subject text,
        certificate_sha256 text,
        outcome text NOT NULL,
        reason text NOT NULL,
        codes text NOT NULL,
        message_id text,
        recipients text NOT NULL,
        details text NOT NULL
    );
    CREATE INDEX audit_event_at ON audit_event (at, id);
    CREATE INDEX audit_event_kind ON audit_event (kind, at);
    """,
)
"""The migrations of the audit table (``schema_version`` row ``audit``), oldest first."""

_STORE = "audit"
_PAGE = 500
_PURGE_BATCH = 10_000
_INSERT = f"INSERT INTO audit_event ({', '.join(COLUMNS)}) VALUES ({', '.join('%s' for _ in COLUMNS)})"  # noqa: S608
_PURGE = "DELETE FROM audit_event WHERE id IN (SELECT id FROM audit_event WHERE at < %s ORDER BY at LIMIT %s)"


def _utc(at: dt.datetime) -> dt.datetime:
    return at.astimezone(dt.timezone.utc)


class PostgresAuditStore(PooledStore, AuditReading):
    """An :class:`~mssante.audit.AuditStore` in a PostgreSQL database, for an operator with several nodes.

    ``source`` is a conninfo (a pool is opened, with bounded waits, and closed with the store) or a
    :class:`psycopg_pool.ConnectionPool` the caller keeps. The table is created or migrated when the store opens
    (once, whichever node starts first). Each :meth:`record` is one transaction; times are ``timestamptz``, so
    nodes in any time zone sort together. A database that cannot be reached raises
    :class:`~mssante.errors.StoreUnavailable` (nothing was written), any other failure
    :class:`~mssante.errors.StoreError`.
    """

    def __init__(
        self,
        source: str | Pool,
        *,
        retention: Retention | None = None,
        connect_timeout: float = 10.0,
        statement_timeout: float = 30.0,
    ) -> None:
        self.retention = retention if retention is not None else Retention()
        super().__init__(source, name=_STORE, connect_timeout=connect_timeout, statement_timeout=statement_timeout)
        self._migrate(_STORE, POSTGRES_MIGRATIONS)

    def record(self, events: Iterable[AuditEvent]) -> int:
        """Keep ``events`` in one transaction (all or none); return how many."""
        rows = [to_row(event) for event in events]
        if not rows:
            return 0
        with (
            translated("recording audit events", self._where),
            self._pool.connection() as connection,
            connection.transaction(),
            connection.cursor() as cursor,
        ):
            cursor.executemany(_INSERT, rows)
        return len(rows)

    def events(
        self, *, since: dt.datetime | None = None, until: dt.datetime | None = None, kinds: Iterable[str] = ()
    ) -> Iterator[AuditEvent]:
        """The events in time order, read in pages of a few hundred (memory stays bounded)."""
        condition, parameters = where(since, until, kinds_of(kinds), marker="%s", time=_utc)
        sql = f"SELECT id, {', '.join(COLUMNS)} FROM audit_event WHERE {condition}"  # noqa: S608 (placeholders)

        def page(after: tuple[Any, Any] | None) -> list[Any]:
            page_sql, page_parameters = sql, list(parameters)
            if after is not None:
                page_sql += " AND (at, id) > (%s, %s)"
                page_parameters += list(after)
            with translated("reading audit events", self._where), self._pool.connection() as connection:
                return connection.execute(
                    f"{page_sql} ORDER BY at, id LIMIT {_PAGE}".encode(), page_parameters
                ).fetchall()

        yield from paged(page, _PAGE)

    def counts(self, *, since: dt.datetime | None = None, until: dt.datetime | None = None) -> dict[str, int]:
        """The number of events of each kind."""
        condition, parameters = where(since, until, (), marker="%s", time=_utc)
        with translated("counting audit events", self._where), self._pool.connection() as connection:
            rows = connection.execute(
                f"SELECT kind, count(*) FROM audit_event WHERE {condition} GROUP BY kind ORDER BY kind".encode(),  # noqa: S608
                parameters,
            ).fetchall()
        return {str(kind): int(count) for kind, count in rows}

    def purge(self, *, at: dt.datetime) -> PurgeResult:
        """Remove the events past retention at ``at``, a batch per transaction (nodes may purge at once)."""
        cutoff = self.retention.cutoff(at)
        purged = 0
        while True:
            with (
                translated("purging audit events", self._where),
                self._pool.connection() as connection,
                connection.transaction(),
            ):
                removed = connection.execute(_PURGE, (cutoff, _PURGE_BATCH)).rowcount
            purged += removed
            if removed < _PURGE_BATCH:
                break
        with translated("counting audit events", self._where), self._pool.connection() as connection:
            row = connection.execute("SELECT count(*) FROM audit_event").fetchone()
        return PurgeResult(purged=purged, kept=int(row[0]) if row else 0, cutoff=cutoff)

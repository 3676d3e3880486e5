"""What the PostgreSQL stores share: a bounded connection pool, versioned migrations, one error for every failure.

- :func:`open_pool` opens a :class:`psycopg_pool.ConnectionPool` from a conninfo with bounded waits: a connection
  attempt gives up after ``connect_timeout``, a statement after ``statement_timeout``, and waiting for a free
  connection after ``connect_timeout`` too. :func:`pool_for` takes a conninfo or a pool the caller already has
  (which the caller keeps and closes). A connection broken under a transaction (the server restarted) fails that
  transaction and is dropped when given back; the next one gets a new connection.
- :func:`migrate` brings a store's tables to the newest version: a store's migrations are an ordered sequence of SQL
  scripts, its version (how many were applied) is a row of the ``schema_version`` table. The missing ones are
  applied in one transaction under a transaction-level advisory lock: several nodes starting together migrate once,
  the others wait and find nothing to do; a database newer than the code is refused.
- :func:`translated` turns every psycopg and pool error into :class:`~mssante.errors.StoreUnavailable` (the database
  cannot be reached or did not answer in time; nothing was written) or :class:`~mssante.errors.StoreError`, naming
  the server without its password.
- :func:`retrying` runs a transaction again when PostgreSQL aborted it for a serialization failure or a deadlock.
- :class:`PooledStore` is the lifecycle of a store over a pool: opened from a conninfo or a caller's pool, its tables
  migrated when it opens, the pool closed with the store when the store opened it.

This module is the only one that knows psycopg's exceptions; it is imported by the PostgreSQL shells only.
"""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

import psycopg
from psycopg import errors as pg_errors
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import TupleRow
from psycopg_pool import ConnectionPool, PoolClosed, PoolTimeout

from mssante._lifecycle import Closing
from mssante.errors import StoreError, StoreUnavailable

__all__ = [
    "Connection",
    "Pool",
    "PooledStore",
    "describe",
    "migrate",
    "open_pool",
    "pool_for",
    "retrying",
    "schema_version",
    "translated",
]

Connection = psycopg.Connection[TupleRow]
Pool = ConnectionPool[Connection]
T = TypeVar("T")

_MIGRATION_LOCK = "mssante.schema_version"
_RETRIED = (pg_errors.SerializationFailure, pg_errors.DeadlockDetected)


def describe(conninfo: str) -> str:
    """The server and database of ``conninfo``, for a message: ``host:port/dbname`` (never a password)."""
    try:
        parts = conninfo_to_dict(conninfo)
    except psycopg.Error:
        return "(an invalid conninfo)"
    host = str(parts.get("host") or parts.get("hostaddr") or "localhost")
    port = str(parts.get("port") or 5432)
    database = str(parts.get("dbname") or parts.get("user") or "")
    return f"{host}:{port}/{database}"


def _reason(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


def translate(error: BaseException, *, what: str, where: str) -> StoreError:
    """The library error for a psycopg or pool ``error`` raised while doing ``what`` on the database ``where``."""
    if isinstance(error, PoolTimeout | PoolClosed | psycopg.OperationalError | psycopg.InterfaceError):
        return StoreUnavailable(
            f"{what}: the PostgreSQL database {where} is unavailable ({_reason(error)}); this write did not happen "
            "and can be retried once the database answers"
        )
    return StoreError(f"{what}: the PostgreSQL database {where} refused the request ({_reason(error)})")


@contextlib.contextmanager
def translated(what: str, where: str) -> Iterator[None]:
    """Raise the library error (:func:`translate`) for any psycopg or pool error raised in the block."""
    try:
        yield
    except (psycopg.Error, PoolTimeout, PoolClosed) as error:
        raise translate(error, what=what, where=where) from None


def open_pool(
    conninfo: str,
    *,
    name: str,
    min_size: int = 1,
    max_size: int = 4,
    connect_timeout: float = 10.0,
    statement_timeout: float = 30.0,
) -> Pool:
    """A pool of connections to ``conninfo``, open and checked, every wait bounded (see the module).

    Raises :class:`~mssante.errors.StoreUnavailable` when no connection can be made within ``connect_timeout``.
    """
    if connect_timeout <= 0 or statement_timeout <= 0:
        raise ValueError("connect_timeout and statement_timeout must be positive")
    milliseconds = max(1, int(statement_timeout * 1000))

    def configure(connection: Connection) -> None:
        connection.execute(f"SET statement_timeout = {milliseconds}")
        connection.commit()

    where = describe(conninfo)
    pool: Pool = ConnectionPool(
        conninfo,
        min_size=min_size,
        max_size=max(min_size, max_size),
        kwargs={"connect_timeout": max(1, round(connect_timeout))},
        configure=configure,
        timeout=connect_timeout,
        name=name,
        open=False,
    )
    try:
        with translated(f"opening the {name} store", where):
            pool.open(wait=True, timeout=connect_timeout)
    except BaseException:
        pool.close(timeout=0)
        raise
    return pool


def pool_for(
    source: str | Pool,
    *,
    name: str,
    min_size: int = 1,
    max_size: int = 4,
    connect_timeout: float = 10.0,
    statement_timeout: float = 30.0,
) -> tuple[Pool, bool]:
    """The pool for ``source`` and whether the caller owns it: a conninfo is opened here (:func:`open_pool`, the
    caller then owns the pool), a pool is used as it is (its owner closes it)."""
    if isinstance(source, str):
        opened = open_pool(
            source,
            name=name,
            min_size=min_size,
            max_size=max_size,
            connect_timeout=connect_timeout,
            statement_timeout=statement_timeout,
        )
        return opened, True
    return source, False


def schema_version(connection: Connection, store: str) -> int:
    """The version of ``store``'s tables (0 when it has none), read in the connection's current transaction."""
    exists = connection.execute("SELECT to_regclass('schema_version') IS NOT NULL").fetchone()
    if not exists or not exists[0]:
        return 0
    row = connection.execute("SELECT version FROM schema_version WHERE store = %s", (store,)).fetchone()
    return int(row[0]) if row else 0


def migrate(pool: Pool, store: str, migrations: Sequence[str]) -> int:
    """Apply ``store``'s missing ``migrations`` (in order) in one transaction; how many were applied.

    Two nodes running this at once serialise on an advisory lock: the second finds the work done. Raises
    :class:`~mssante.errors.StoreError` when the database has a newer version than ``migrations`` knows.
    """
    newest = len(migrations)
    where = describe(str(pool.conninfo))
    with (
        translated(f"migrating the {store} store", where),
        pool.connection() as connection,
        connection.transaction(),
    ):
        connection.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (_MIGRATION_LOCK,))
        connection.execute(
            "CREATE TABLE IF NOT EXISTS schema_version ("
            "store text PRIMARY KEY, version integer NOT NULL, migrated_at timestamptz NOT NULL DEFAULT now())"
        )
        version = schema_version(connection, store)
        if version > newest:
            raise StoreError(
                f"the {store} store in {where} has schema version {version}, newer than this "
                f"mssante's {newest}: upgrade mssante"
            )
        for script in migrations[version:]:
            connection.execute(script.encode())
        if version < newest:
            connection.execute(
                "INSERT INTO schema_version (store, version) VALUES (%s, %s) ON CONFLICT (store) DO UPDATE "
                "SET version = excluded.version, migrated_at = now()",
                (store, newest),
            )
    return newest - version


class PooledStore(Closing):
    """A store over a connection pool: :func:`pool_for` ``source`` (a conninfo, or a pool the caller keeps), the
    server described for messages, and the pool closed with the store when the store opened it."""

    def __init__(
        self,
        source: str | Pool,
        *,
        name: str,
        min_size: int = 1,
        max_size: int = 4,
        connect_timeout: float = 10.0,
        statement_timeout: float = 30.0,
    ) -> None:
        self._pool, self._owned = pool_for(
            source,
            name=name,
            min_size=min_size,
            max_size=max_size,
            connect_timeout=connect_timeout,
            statement_timeout=statement_timeout,
        )
        self._where = describe(str(self._pool.conninfo))

    def _migrate(self, store: str, migrations: Sequence[str]) -> None:
        """Bring the store's tables to the newest version (:func:`migrate`); the store is closed when that fails."""
        try:
            migrate(self._pool, store, migrations)
        except BaseException:
            self.close()
            raise

    @property
    def pool(self) -> Pool:
        """The connection pool (shared with other stores of the same database, if wanted)."""
        return self._pool

    def close(self) -> None:
        """Close the pool when the store opened it (a pool given by the caller stays open)."""
        if self._owned:
            self._pool.close()


def retrying(function: Callable[[], T], *, attempts: int = 5, delay: float = 0.02) -> T:
    """``function()``, run again (up to ``attempts`` times in all, after a short random wait) while PostgreSQL
    aborts it for a serialization failure or a deadlock; ``function`` must be one whole transaction."""
    for attempt in range(1, attempts):
        done, value = _attempt(function)
        if done:
            return value  # type: ignore[return-value]
        time.sleep(random.uniform(0, delay * 2**attempt))  # noqa: S311 - a jitter, not a secret
    return function()


def _attempt(function: Callable[[], T]) -> tuple[bool, T | None]:
    try:
        return True, function()
    except _RETRIED:
        return False, None

"""The PostgreSQL helpers every store uses (``mssante._postgres``): pool, migrations, errors, retries."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import psycopg
import pytest

pytest.importorskip("psycopg", reason="the PostgreSQL stores need psycopg")
from psycopg import errors as pg_errors

from mssante import _postgres
from mssante.errors import StoreError, StoreUnavailable
from tests.postgres import free_closed_port

_MIGRATIONS = (
    "CREATE TABLE widget (id integer PRIMARY KEY)",
    "ALTER TABLE widget ADD COLUMN name text NOT NULL DEFAULT ''; CREATE INDEX widget_name ON widget (name)",
)


@pytest.fixture
def pool(postgres_conninfo: str) -> Iterator[_postgres.Pool]:
    opened = _postgres.open_pool(postgres_conninfo, name="test", max_size=8)
    yield opened
    opened.close()


def _reset(pool: _postgres.Pool) -> None:
    with pool.connection() as connection:
        connection.execute("DROP TABLE IF EXISTS widget, schema_version")


def test_migrate_from_nothing_then_nothing_to_do(pool: _postgres.Pool) -> None:
    _reset(pool)
    assert _postgres.migrate(pool, "widgets", _MIGRATIONS) == 2
    assert _postgres.migrate(pool, "widgets", _MIGRATIONS) == 0
    with pool.connection() as connection:
        assert _postgres.schema_version(connection, "widgets") == 2
        assert _postgres.schema_version(connection, "other") == 0
        connection.execute("INSERT INTO widget (id, name) VALUES (1, 'a')")


def test_an_old_schema_is_migrated(pool: _postgres.Pool) -> None:
    _reset(pool)
    assert _postgres.migrate(pool, "widgets", _MIGRATIONS[:1]) == 1
    with pool.connection() as connection:
        connection.execute("INSERT INTO widget (id) VALUES (7)")
    assert _postgres.migrate(pool, "widgets", _MIGRATIONS) == 1
    with pool.connection() as connection:
        assert connection.execute("SELECT id, name FROM widget").fetchall() == [(7, "")]


def test_a_newer_schema_is_refused(pool: _postgres.Pool) -> None:
    _reset(pool)
    _postgres.migrate(pool, "widgets", _MIGRATIONS)
    with pytest.raises(StoreError, match="schema version 2, newer than this mssante's 1: upgrade mssante"):
        _postgres.migrate(pool, "widgets", _MIGRATIONS[:1])


def test_a_failed_migration_leaves_the_old_version(pool: _postgres.Pool) -> None:
    _reset(pool)
    _postgres.migrate(pool, "widgets", _MIGRATIONS[:1])
    with pytest.raises(StoreError) as caught:
        _postgres.migrate(pool, "widgets", (*_MIGRATIONS, "ALTER TABLE nowhere ADD COLUMN x integer"))
    assert not isinstance(caught.value, StoreUnavailable)
    with pool.connection() as connection:
        assert _postgres.schema_version(connection, "widgets") == 1
        columns = connection.execute("SELECT count(*) FROM information_schema.columns WHERE table_name = 'widget'")
        assert columns.fetchone() == (1,)


def test_concurrent_starts_migrate_once(pool: _postgres.Pool) -> None:
    _reset(pool)
    barrier = threading.Barrier(6)
    applied: list[int] = []
    failures: list[BaseException] = []

    def start() -> None:
        barrier.wait()
        try:
            applied.append(_postgres.migrate(pool, "widgets", _MIGRATIONS))
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=start) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert sorted(applied) == [0, 0, 0, 0, 0, 2]


def test_an_unreachable_database_is_a_clear_error() -> None:
    conninfo = f"host=127.0.0.1 port={free_closed_port()} dbname=nowhere user=u password=secret"
    with pytest.raises(StoreUnavailable) as caught:
        _postgres.open_pool(conninfo, name="test", connect_timeout=0.5)
    message = str(caught.value)
    assert "127.0.0.1" in message
    assert "did not happen" in message
    assert "secret" not in message


def test_describe_names_the_server_never_the_password() -> None:
    assert (
        _postgres.describe("host=db.example port=5433 dbname=track user=u password=hunter2") == "db.example:5433/track"
    )
    assert _postgres.describe("postgresql://u:hunter2@db.example/track") == "db.example:5432/track"
    assert _postgres.describe("not a conninfo =") == "(an invalid conninfo)"


def test_timeouts_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        _postgres.open_pool("dbname=x", name="test", connect_timeout=0)


def test_statement_timeout_is_applied(postgres_conninfo: str) -> None:
    pool = _postgres.open_pool(postgres_conninfo, name="test", statement_timeout=0.2)
    try:
        with (
            pytest.raises(StoreUnavailable, match="statement timeout"),
            _postgres.translated("sleeping", "here"),
            pool.connection() as connection,
        ):
            connection.execute("SELECT pg_sleep(5)")
    finally:
        pool.close()


def test_retrying_runs_again_on_serialization_failures() -> None:
    calls: list[int] = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise pg_errors.SerializationFailure("could not serialize access")
        return "done"

    assert _postgres.retrying(flaky, delay=0.001) == "done"
    assert len(calls) == 3

    def always() -> str:
        raise pg_errors.DeadlockDetected("deadlock detected")

    with pytest.raises(pg_errors.DeadlockDetected):
        _postgres.retrying(always, attempts=2, delay=0.001)

    def other() -> str:
        raise psycopg.ProgrammingError("syntax")

    with pytest.raises(psycopg.ProgrammingError):
        _postgres.retrying(other, delay=0.001)


def test_pool_for_keeps_a_given_pool(pool: _postgres.Pool) -> None:
    assert _postgres.pool_for(pool, name="test") == (pool, False)

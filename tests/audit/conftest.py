"""Fixtures of the audit tests: each store kind (SQLite, PostgreSQL on a private cluster), reopened at will."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from mssante.audit import AuditStore, PostgresAuditStore, Retention, SqliteAuditStore
from tests.postgres import postgres_cluster, postgres_conninfo  # noqa: F401

OpenStore = Callable[..., AuditStore]
"""Opens the test's store (the same file or database at each call), with an optional ``retention``."""


@pytest.fixture(params=["sqlite", "postgres"])
def store_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def location(store_kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The SQLite file, or the conninfo of the module's PostgreSQL database emptied for this test."""
    if store_kind == "sqlite":
        return str(tmp_path / "audit.sqlite3")
    conninfo = str(request.getfixturevalue("postgres_conninfo"))
    with PostgresAuditStore(conninfo) as store, store.pool.connection() as connection:
        connection.execute("TRUNCATE audit_event")
    return conninfo


@pytest.fixture
def open_store(store_kind: str, location: str) -> Iterator[OpenStore]:
    opened: list[AuditStore] = []

    def new(retention: Retention | None = None) -> AuditStore:
        store: AuditStore
        if store_kind == "sqlite":
            store = SqliteAuditStore(location, retention=retention, durable=False)
        else:
            store = PostgresAuditStore(location, retention=retention)
        opened.append(store)
        return store

    yield new
    for store in opened:
        store.close()

"""Fixtures of the tracking tests: each store kind on disk (SQLite, PostgreSQL on a private cluster)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from mssante.tracking import SqliteStore, TrackingStore
from tests.postgres import postgres_cluster, postgres_conninfo  # noqa: F401

if TYPE_CHECKING:
    from mssante.tracking import PostgresTrackingStore

STORE_KINDS = ["sqlite", "postgres"]

NewStore = Callable[[], TrackingStore]


def empty_postgres(store: PostgresTrackingStore) -> PostgresTrackingStore:
    """``store`` with its tables emptied."""
    with store.pool.connection() as connection:
        connection.execute("TRUNCATE tracking_event, tracking_recipient, tracking_message, tracking_notification")
    return store


@pytest.fixture(scope="module", params=STORE_KINDS)
def new_store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[NewStore]:
    """A function giving an empty store of each kind (the one PostgreSQL store, emptied again at each call)."""
    kind = request.param
    if kind == "sqlite":
        directory = tmp_path_factory.mktemp("stores")
        opened: list[SqliteStore] = []

        def sqlite() -> SqliteStore:
            store = SqliteStore(Path(directory) / f"{len(opened)}.sqlite3", durable=False)
            opened.append(store)
            return store

        yield sqlite
        for store in opened:
            store.close()
    else:
        conninfo = request.getfixturevalue("postgres_conninfo")  # skips when PostgreSQL or psycopg is missing
        from mssante.tracking import PostgresTrackingStore  # noqa: PLC0415 - needs psycopg

        with PostgresTrackingStore(conninfo) as postgres:
            yield lambda: empty_postgres(postgres)

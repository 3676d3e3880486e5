"""The SQLite audit store: its file (owner only, refused when not an audit trail), a closed store."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

import pytest

from mssante.audit import AuditStoreError, SqliteAuditStore
from tests.audit.helpers import series


def test_the_file_is_the_owner_s_only(tmp_path: Path) -> None:
    path = tmp_path / "audit.sqlite3"
    with SqliteAuditStore(path) as store:
        store.record(series(1))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_file_that_is_not_an_audit_trail_is_refused(tmp_path: Path) -> None:
    other = tmp_path / "other.sqlite3"
    with sqlite3.connect(other) as connection:
        connection.execute("CREATE TABLE t (x)")
    connection.close()  # the context manager commits, and leaves the connection open
    with pytest.raises(AuditStoreError, match="not an audit trail"):
        SqliteAuditStore(other)
    newer = tmp_path / "newer.sqlite3"
    SqliteAuditStore(newer).close()
    with sqlite3.connect(newer) as connection:
        connection.execute("PRAGMA user_version = 99")
    connection.close()
    with pytest.raises(AuditStoreError, match="upgrade mssante"):
        SqliteAuditStore(newer)
    with pytest.raises(AuditStoreError, match="cannot be opened"):
        SqliteAuditStore(tmp_path / "missing" / "audit.sqlite3")
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(AuditStoreError, match="cannot be opened"):
        SqliteAuditStore(fifo)


def test_a_closed_store_says_so(tmp_path: Path) -> None:
    store = SqliteAuditStore(tmp_path / "audit.sqlite3")
    store.close()
    with pytest.raises(AuditStoreError, match="closed"):
        store.record(series(1))

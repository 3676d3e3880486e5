"""mssante._sqlite: a store file marked as its own, its schema created once and upgraded step by step."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

import pytest

from mssante._sqlite import SqliteFile, begin, open_file


class WidgetError(Exception):
    pass


WIDGETS = SqliteFile(
    noun="widget file",
    article="a",
    schema="widget",
    application_id=0x57494447,
    version=3,
    statements=("CREATE TABLE widget (id INTEGER PRIMARY KEY, name TEXT, colour TEXT, size INTEGER)",),
    upgrades={
        1: ("ALTER TABLE widget ADD COLUMN colour TEXT",),
        2: ("ALTER TABLE widget ADD COLUMN size INTEGER",),
    },
    pragmas=("foreign_keys = ON",),
    error=WidgetError,
)


def test_a_new_file_gets_the_newest_schema_and_the_pragmas(tmp_path: Path) -> None:
    path = tmp_path / "widgets.sqlite3"
    connection = open_file(path, WIDGETS, durable=True, timeout=5.0, private=True)
    try:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert connection.execute("PRAGMA user_version").fetchone()[0] == 3
        assert connection.execute("PRAGMA application_id").fetchone()[0] == WIDGETS.application_id
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert connection.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        assert connection.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        connection.execute("INSERT INTO widget (name, colour, size) VALUES ('a', 'red', 1)")
    finally:
        connection.close()
    again = open_file(path, WIDGETS, durable=False, timeout=5.0)
    try:
        assert again.execute("SELECT name, colour, size FROM widget").fetchall() == [("a", "red", 1)]
    finally:
        again.close()


def test_an_older_file_is_upgraded_one_step_at_a_time(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    old = sqlite3.connect(path)
    old.execute("CREATE TABLE widget (id INTEGER PRIMARY KEY, name TEXT)")
    old.execute(f"PRAGMA application_id = {WIDGETS.application_id}")
    old.execute("PRAGMA user_version = 1")
    old.commit()
    old.close()
    connection = open_file(path, WIDGETS, durable=True, timeout=5.0)
    try:
        columns = [row[1] for row in connection.execute("PRAGMA table_info(widget)")]
        assert columns == ["id", "name", "colour", "size"]
        assert connection.execute("PRAGMA user_version").fetchone()[0] == 3
    finally:
        connection.close()


def test_what_is_not_ours_is_refused_with_the_store_error(tmp_path: Path) -> None:
    other = tmp_path / "other.sqlite3"
    connection = sqlite3.connect(other)
    connection.execute("CREATE TABLE t (x)")
    connection.commit()
    connection.close()
    with pytest.raises(WidgetError, match=r"is an SQLite database, but not a widget file$"):
        open_file(other, WIDGETS, durable=True, timeout=5.0)
    text = tmp_path / "notes.txt"
    text.write_bytes(b"not a database at all " * 100)
    with pytest.raises(WidgetError, match=r"is not a usable widget file \("):
        open_file(text, WIDGETS, durable=True, timeout=5.0)
    newer = tmp_path / "newer.sqlite3"
    open_file(newer, WIDGETS, durable=True, timeout=5.0).close()
    connection = sqlite3.connect(newer)
    connection.execute("PRAGMA user_version = 4")
    connection.commit()
    connection.close()
    with pytest.raises(WidgetError, match="has widget schema 4, newer than this mssante's 3: upgrade mssante"):
        open_file(newer, WIDGETS, durable=True, timeout=5.0)
    nowhere = tmp_path / "missing" / "widgets.sqlite3"
    with pytest.raises(WidgetError, match=r"^the widget file '.*' cannot be opened: No such file or directory$"):
        open_file(nowhere, WIDGETS, durable=True, timeout=5.0, private=True)
    with pytest.raises(WidgetError, match=r"^the widget file '.*' cannot be opened \(unable to open database file\)$"):
        open_file(nowhere, WIDGETS, durable=True, timeout=5.0)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(WidgetError, match="cannot be opened"):
        open_file(fifo, WIDGETS, durable=True, timeout=5.0)


def test_a_writer_waiting_too_long_is_told_the_file_is_busy(tmp_path: Path) -> None:
    path = tmp_path / "busy.sqlite3"
    holder = open_file(path, WIDGETS, durable=True, timeout=5.0)
    waiter = open_file(path, WIDGETS, durable=True, timeout=0.05)
    try:
        begin(holder, path, WIDGETS, write=True)
        with pytest.raises(WidgetError, match=r"^the widget file '.*' is busy \("):
            begin(waiter, path, WIDGETS, write=True)
        begin(waiter, path, WIDGETS, write=False)  # a reader does not wait for the writer
        waiter.execute("COMMIT")
        holder.execute("COMMIT")
    finally:
        holder.close()
        waiter.close()

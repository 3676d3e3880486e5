"""SqliteStore: same results as MemoryStore, a versioned schema, atomic against a crash, shared by processes."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from mssante.tracking import MemoryStore, SqliteStore, Status, Tracker, TrackingStoreError
from mssante.tracking._sqlite import SCHEMA_VERSION

from .helpers import ALICE, BOB, DISPLAYED, MID, RAW_BOUNCE, T0, dsn, mdn

HOUR = dt.timedelta(hours=1)
ROOT = Path(__file__).resolve().parents[2]
SEQUENCE = [
    dsn((ALICE, "delivered", "2.0.0"), (BOB, "delayed", "4.4.1")),
    mdn(ALICE, DISPLAYED),
    dsn((ALICE, "delivered", "2.0.0"), (BOB, "delayed", "4.4.1")),
    RAW_BOUNCE,
    b"garbage",
]


def play(tracking: Tracker) -> None:
    tracking.sent(MID, [ALICE, BOB], T0)
    tracking.sent("<second@chu.mssante.fr>", ["carol@x.mssante.fr"], T0)
    for step, data in enumerate(SEQUENCE, start=1):
        tracking.observe(data, T0 + step * HOUR)
    tracking.expire(T0 + dt.timedelta(days=8))


def assert_same_as_memory(tracking: Tracker, memory: Tracker) -> None:
    """``tracking``, reopened after :func:`play`, knows what ``memory`` knows after the same play."""
    for message_id in (MID, "<second@chu.mssante.fr>"):
        assert tracking.status(message_id) == memory.status(message_id)
    assert tracking.status("<none@x>") is None
    assert tracking.status(MID).statuses == {ALICE: Status.READ, BOB: Status.EXPIRED}  # type: ignore[union-attr]
    assert tracking.observe(SEQUENCE[0], T0).duplicate
    assert tracking.pending(T0) == ()


def test_same_results_as_memory_and_survives_reopening(tmp_path: Path) -> None:
    memory = Tracker(MemoryStore())
    play(memory)
    path = tmp_path / "tracking.sqlite3"
    with SqliteStore(path) as store:
        play(Tracker(store))
    with SqliteStore(path) as store:
        tracking = Tracker(store)
        assert_same_as_memory(tracking, memory)
        connection = sqlite3.connect(path)
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert connection.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        connection.close()


def test_refuses_other_files(tmp_path: Path) -> None:
    other = tmp_path / "other.sqlite3"
    connection = sqlite3.connect(other)
    connection.execute("CREATE TABLE t (x)")
    connection.commit()
    connection.close()
    with pytest.raises(TrackingStoreError, match="not a tracking database"):
        SqliteStore(other)
    text = tmp_path / "notes.txt"
    text.write_bytes(b"these are not the rows you are looking for" * 100)
    with pytest.raises(TrackingStoreError, match="not a usable tracking database"):
        SqliteStore(text)
    newer = tmp_path / "newer.sqlite3"
    SqliteStore(newer).close()
    connection = sqlite3.connect(newer)
    connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    connection.commit()
    connection.close()
    with pytest.raises(TrackingStoreError, match="newer"):
        SqliteStore(newer)
    with pytest.raises(TrackingStoreError, match="cannot be opened"):
        SqliteStore(tmp_path / "missing" / "dir" / "db.sqlite3")


def test_an_exception_inside_a_transaction_rolls_everything_back(tmp_path: Path) -> None:
    with SqliteStore(tmp_path / "t.sqlite3") as store:
        tracking = Tracker(store)
        tracking.sent(MID, [ALICE, BOB], T0)
        before = tracking.status(MID)

        def fail() -> None:
            raise RuntimeError("disk on fire")

        store._before_commit = fail
        with pytest.raises(RuntimeError):
            tracking.observe(dsn((ALICE, "delivered", "2.0.0"), (BOB, "failed", "5.1.1")), T0 + HOUR)
        store._before_commit = None
        assert tracking.status(MID) == before
        assert tracking.observe(dsn((ALICE, "delivered", "2.0.0"), (BOB, "failed", "5.1.1")), T0 + HOUR).recorded


CHILD = """
import datetime as dt, os, signal, sys
sys.path[:0] = [{root!r}, {src!r}]
from mssante.tracking import SqliteStore, Tracker
from tests.tracking.helpers import ALICE, BOB, T0, dsn
store = SqliteStore({path!r})
when = {when!r}
def die():
    os.kill(os.getpid(), signal.SIGKILL)
if when == "before-commit":
    store._before_commit = die
Tracker(store).observe(dsn((ALICE, "delivered", "2.0.0"), (BOB, "failed", "5.1.1")), T0 + dt.timedelta(hours=1))
if when == "after-commit":
    os._exit(0)
"""


def run_child(path: Path, when: str) -> int:
    code = textwrap.dedent(CHILD).format(root=str(ROOT), src=str(ROOT / "src"), path=str(path), when=when)
    return subprocess.run([sys.executable, "-c", code], check=False, timeout=60).returncode


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL")
def test_killed_between_writes_and_commit_leaves_the_state_before(tmp_path: Path) -> None:
    path = tmp_path / "crash.sqlite3"
    with SqliteStore(path) as store:
        Tracker(store).sent(MID, [ALICE, BOB], T0)
        before = store.get(MID)
    assert run_child(path, "before-commit") == -9
    with SqliteStore(path) as store:
        after = store.get(MID)
        assert after == before
        assert after is not None
        assert after.statuses == {ALICE: Status.PENDING, BOB: Status.PENDING}
        assert store._connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert store._connection.execute("SELECT count(*) FROM notification").fetchone()[0] == 0


@pytest.mark.skipif(os.name != "posix", reason="os._exit")
def test_killed_after_commit_keeps_the_state_after(tmp_path: Path) -> None:
    path = tmp_path / "crash.sqlite3"
    with SqliteStore(path) as store:
        Tracker(store).sent(MID, [ALICE, BOB], T0)
    assert run_child(path, "after-commit") == 0
    with SqliteStore(path) as store:
        tracked = store.get(MID)
        assert tracked is not None
        assert tracked.statuses == {ALICE: Status.DELIVERED, BOB: Status.FAILED}
        assert len(tracked.recipient(BOB).events) == 2  # type: ignore[union-attr]


WRITER = """
import datetime as dt, sys
sys.path[:0] = [{root!r}, {src!r}]
from mssante.tracking import SqliteStore, Tracker
T0 = dt.datetime(2024, 5, 6, 8, 0, tzinfo=dt.timezone.utc)
tracking = Tracker(SqliteStore({path!r}))
for number in range({count}):
    tracking.sent(f"<w{{number}}@chu.mssante.fr>", [f"r{{number}}@x.mssante.fr", "all@x.mssante.fr"], T0)
"""


def test_two_processes_share_one_file(tmp_path: Path) -> None:
    path = tmp_path / "shared.sqlite3"
    reader = SqliteStore(path, durable=False)
    count = 200
    code = textwrap.dedent(WRITER).format(root=str(ROOT), src=str(ROOT / "src"), path=str(path), count=count)
    writer = subprocess.Popen([sys.executable, "-c", code])
    seen = 0
    while writer.poll() is None:
        tracked = reader.get(f"<w{seen}@chu.mssante.fr>")
        if tracked is not None:
            assert len(tracked.recipients) == 2  # never a message with half its recipients
            seen += 1
    assert writer.wait(timeout=60) == 0
    tracking = Tracker(reader)
    assert all(tracking.status(f"<w{number}@chu.mssante.fr>") is not None for number in range(count))
    assert len(tracking.pending(T0)) == count
    reader.close()


def test_reading_what_waits_does_not_wait_for_a_writer(tmp_path: Path) -> None:
    path = tmp_path / "tracking.sqlite3"
    with SqliteStore(path) as store:
        Tracker(store).sent(MID, [ALICE, BOB], T0)
    writer = sqlite3.connect(path, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")  # another process in the middle of recording a notification
        with SqliteStore(path, timeout=0.2) as reader:
            assert [tracked.message_id for tracked in Tracker(reader).pending(T0)] == [MID]
            with pytest.raises(TrackingStoreError, match="busy"), reader.transaction():
                pass  # a write has to wait, and gives up after its timeout
        writer.execute("ROLLBACK")
    finally:
        writer.close()


def test_a_bounce_keeps_why_delivery_failed(tmp_path: Path) -> None:
    with SqliteStore(tmp_path / "t.sqlite3") as store:
        tracking = Tracker(store)
        tracking.sent(MID, [ALICE, BOB], T0)
        tracking.observe(dsn((ALICE, "failed", "5.2.1"), (BOB, "failed", "5.1.1")), T0 + dt.timedelta(hours=1))
    with SqliteStore(tmp_path / "t.sqlite3") as store:
        tracked = Tracker(store).status(MID)
    assert tracked is not None
    reasons = {
        state.address: [event.reason for event in state.events if event.source == "dsn"] for state in tracked.recipients
    }
    assert reasons == {ALICE: ["mailbox_closed"], BOB: ["unknown_recipient"]}


def test_a_schema_1_file_is_brought_to_schema_2(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    with SqliteStore(path) as store:
        play(Tracker(store))
    connection = sqlite3.connect(path)  # made as schema 1 was: no reason column
    with connection:
        connection.execute("ALTER TABLE event DROP COLUMN reason")
        connection.execute("PRAGMA user_version = 1")
    connection.close()
    with SqliteStore(path) as store:
        tracking = Tracker(store)
        assert tracking.status(MID).statuses == {ALICE: Status.READ, BOB: Status.EXPIRED}  # type: ignore[union-attr]
        tracking.sent("<again@x.mssante.fr>", [ALICE], T0)
        tracking.observe(dsn((ALICE, "failed", "5.1.1"), message_id="<again@x.mssante.fr>", envelope=None), T0)
    check = sqlite3.connect(path)
    assert check.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 2
    check.close()

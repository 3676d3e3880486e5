"""PostgresTrackingStore: same results as MemoryStore, all or nothing, exactly once across processes, clear errors."""

from __future__ import annotations

import collections
import contextlib
import datetime as dt
import multiprocessing
import threading
import time
from collections.abc import Callable, Iterator
from multiprocessing.queues import Queue

import pytest

pytest.importorskip("psycopg", reason="the PostgreSQL stores need psycopg")

from mssante.errors import StoreError, StoreUnavailable
from mssante.tracking import MemoryStore, Observation, PostgresTrackingStore, Status, Tracker
from mssante.tracking._postgres import POSTGRES_MIGRATIONS
from tests.postgres import PostgresCluster, free_closed_port, fresh_database, require_postgres

from . import pg_workers
from .conftest import empty_postgres
from .helpers import ALICE, BOB, MID, T0, dsn
from .test_sqlite import assert_same_as_memory, play

HOUR = dt.timedelta(hours=1)


@pytest.fixture(scope="module")
def store(postgres_conninfo: str) -> Iterator[PostgresTrackingStore]:
    with PostgresTrackingStore(postgres_conninfo, max_size=8) as opened:
        yield opened


@pytest.fixture
def empty(store: PostgresTrackingStore) -> PostgresTrackingStore:
    return empty_postgres(store)


def test_same_results_as_memory_and_survives_reopening(empty: PostgresTrackingStore, postgres_conninfo: str) -> None:
    memory = Tracker(MemoryStore())
    play(memory)
    play(Tracker(empty))
    with PostgresTrackingStore(postgres_conninfo) as reopened:
        tracking = Tracker(reopened)
        assert_same_as_memory(tracking, memory)
        with reopened.pool.connection() as connection:
            version = connection.execute("SELECT version FROM schema_version WHERE store = 'tracking'").fetchone()
        assert version == (len(POSTGRES_MIGRATIONS),)


def test_an_exception_inside_a_transaction_rolls_everything_back(empty: PostgresTrackingStore) -> None:
    tracking = Tracker(empty)
    tracking.sent(MID, [ALICE, BOB], T0)
    before = tracking.status(MID)

    def fail() -> None:
        raise RuntimeError("disk on fire")

    empty._before_commit = fail
    try:
        with pytest.raises(RuntimeError):
            tracking.observe(dsn((ALICE, "delivered", "2.0.0"), (BOB, "failed", "5.1.1")), T0 + HOUR)
    finally:
        empty._before_commit = None
    assert tracking.status(MID) == before
    assert tracking.observe(dsn((ALICE, "delivered", "2.0.0"), (BOB, "failed", "5.1.1")), T0 + HOUR).recorded


def _sequential(messages: int) -> Tracker:
    tracking = Tracker(MemoryStore())
    for number in range(messages):
        tracking.sent(pg_workers.message_id(number), [ALICE, BOB], T0)
        for data in pg_workers.notifications(number):
            tracking.observe(data, T0 + HOUR)
    return tracking


def _counted(tracking: Tracker, messages: int) -> dict[tuple[str, str, str | None], int]:
    """How many events each (message, recipient, notification) has."""
    counts: collections.Counter[tuple[str, str, str | None]] = collections.Counter()
    for number in range(messages):
        tracked = tracking.status(pg_workers.message_id(number))
        assert tracked is not None
        for state in tracked.recipients:
            counts.update((tracked.message_id, state.key, event.notification) for event in state.events)
    return dict(counts)


def test_processes_recording_the_same_notifications_count_each_once(empty: PostgresTrackingStore) -> None:
    messages, writers = 3, 4
    tracking = Tracker(empty)
    for number in range(messages):
        tracking.sent(pg_workers.message_id(number), [ALICE, BOB], T0)
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(writers)
    results: Queue[tuple[int, int]] = context.Queue()
    conninfo = str(empty.pool.conninfo)
    processes = [
        context.Process(target=pg_workers.record_into, args=(conninfo, seed, messages, barrier, results))
        for seed in range(writers)
    ]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=120) for _ in processes]
    for process in processes:
        process.join(timeout=60)
        assert process.exitcode == 0
    per_message = len(pg_workers.notifications(0))
    assert sum(recorded for recorded, _ in outcomes) == messages * per_message  # each applied by one writer
    assert sum(duplicates for _, duplicates in outcomes) == (writers - 1) * messages * per_message
    expected = _sequential(messages)
    for number in range(messages):
        got = tracking.status(pg_workers.message_id(number))
        assert got is not None
        assert got.statuses == expected.status(pg_workers.message_id(number)).statuses  # type: ignore[union-attr]
    assert _counted(tracking, messages) == _counted(expected, messages)  # no event lost or doubled
    with empty.pool.connection() as connection:
        assert connection.execute("SELECT count(*) FROM tracking_notification").fetchone() == (messages * per_message,)


def test_threads_sending_one_new_message_create_it_once(empty: PostgresTrackingStore) -> None:
    barrier = threading.Barrier(6)
    failures: list[BaseException] = []

    def send(number: int) -> None:
        barrier.wait()
        try:
            Tracker(empty).sent(MID, [ALICE, f"r{number}@x.mssante.fr"], T0)
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=send, args=(number,)) for number in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    tracked = empty.get(MID)
    assert tracked is not None
    assert len(tracked.recipients) == 7
    assert len(tracked.recipient(ALICE).events) == 6  # type: ignore[union-attr]


def test_an_unreachable_database_is_a_clear_error() -> None:
    with pytest.raises(StoreUnavailable, match="did not happen"):
        PostgresTrackingStore(f"host=127.0.0.1 port={free_closed_port()} dbname=x user=x", connect_timeout=0.5)


def test_a_database_that_goes_away_loses_nothing() -> None:
    require_postgres()
    with (
        PostgresCluster() as cluster,
        PostgresTrackingStore(fresh_database(cluster), connect_timeout=1, max_size=2) as store,
    ):
        tracking = Tracker(store)
        tracking.sent(MID, [ALICE, BOB], T0)
        cluster.stop()
        notification = dsn((ALICE, "delivered", "2.0.0"), (BOB, "failed", "5.1.1"))
        with pytest.raises(StoreUnavailable, match=r"recording in the tracking store: .* this write did not happen"):
            tracking.observe(notification, T0 + HOUR)
        with pytest.raises(StoreUnavailable, match="reading the tracking store"):
            tracking.status(MID)
        cluster.start()
        assert _retried(lambda: tracking.observe(notification, T0 + HOUR)).recorded  # applied now, once
        assert tracking.observe(notification, T0 + HOUR).duplicate
        assert tracking.status(MID).statuses == {ALICE: Status.DELIVERED, BOB: Status.FAILED}  # type: ignore[union-attr]


def _retried(call: Callable[[], Observation]) -> Observation:
    """``call()``, retried as a caller does while the database is coming back (the pool reconnects)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with contextlib.suppress(StoreUnavailable):
            return call()
        time.sleep(0.2)
    return call()


def test_stores_starting_together_migrate_once(postgres_cluster: PostgresCluster) -> None:
    conninfo = fresh_database(postgres_cluster, "migrations")
    barrier = threading.Barrier(4)
    failures: list[BaseException] = []

    def start() -> None:
        barrier.wait()
        try:
            PostgresTrackingStore(conninfo).close()
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    with PostgresTrackingStore(conninfo) as store, store.pool.connection() as connection:
        assert connection.execute("SELECT store, version FROM schema_version").fetchall() == [("tracking", 1)]
        connection.execute("UPDATE schema_version SET version = 99")
    with pytest.raises(StoreError, match="newer than this mssante's 1: upgrade mssante"):
        PostgresTrackingStore(conninfo)


def test_a_pool_given_by_the_caller_stays_open(store: PostgresTrackingStore) -> None:
    with PostgresTrackingStore(store.pool) as shared:
        assert shared.pool is store.pool
    assert not store.pool.closed
    assert store.get("<nothing@x>") is None

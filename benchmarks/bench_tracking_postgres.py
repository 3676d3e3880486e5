"""Tracking notifications from 1, 4 and 16 writer processes into PostgreSQL, against bare psycopg doing the same rows.

Run: ``python benchmarks/bench_tracking_postgres.py [--messages N] [--turns T]`` (from the repository root, with
PostgreSQL installed: a private cluster is started in a temporary directory, as the tests do).

Each message goes to two recipients and gets three notifications (a DSN ``delivered`` for both, then an MDN
``displayed`` from each); notification ``i`` goes to writer ``i mod W``, so the writers of one message contend for
it. mssante: each writer process records its share with :class:`~mssante.tracking.PostgresTrackingStore` and
``Tracker.observe`` (read, matched, one transaction each, taking the notification's and the message's locks).
Baseline, the same rows by hand with psycopg, one transaction per notification: insert the notification
``ON CONFLICT DO NOTHING``, update each recipient's status, insert its event. The writer processes are started once
(spawn) and reused; a turn times from a common start instant to the last writer's end; both sides alternate.

After every mssante turn the result is checked: every recipient READ with exactly three events (send, DSN, MDN),
each notification recorded once. Prints a Markdown table: notifications per second (best and median of the turns)
and the ratio of times.
"""

from __future__ import annotations

import argparse
import datetime as dt
import email.message
import hashlib
import multiprocessing
import statistics
import sys
import time
from collections.abc import Callable
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Event
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
T0 = dt.datetime(2024, 5, 6, 8, 0, tzinfo=dt.timezone.utc)
RECIPIENTS = ("alice@clinique.mssante.fr", "bob@labo.mssante.fr")
WRITERS = (1, 4, 16)

Row = tuple[str, str, tuple[tuple[str, str], ...]]
"""A notification as the baseline writes it: its id, the message id, each (recipient, status)."""
Task = tuple[str, str, list[bytes] | list[Row]]
"""(side, conninfo, share)."""

BARE_SCHEMA = """
CREATE TABLE IF NOT EXISTS bare_recipient (message_id text, key text, status text, updated_at timestamptz,
    PRIMARY KEY (message_id, key));
CREATE TABLE IF NOT EXISTS bare_event (message_id text, key text, at timestamptz, status text, notification text);
CREATE TABLE IF NOT EXISTS bare_notification (id text PRIMARY KEY, at timestamptz);
"""


def message_id(number: int) -> str:
    return f"<m{number}@chu.mssante.fr>"


def notifications(messages: int) -> tuple[list[bytes], list[Row]]:
    """The notifications, as mail for mssante and as rows for the baseline, in the same order."""
    from mssante.message import Disposition, Dsn, DsnRecipient, build_dsn, build_mdn  # noqa: PLC0415

    mails: list[bytes] = []
    rows: list[Row] = []
    displayed = Disposition(action_mode="manual-action", sending_mode="MDN-sent-manually", type="displayed")
    for number in range(messages):
        original = email.message.EmailMessage()
        original["From"] = "dr@chu.mssante.fr"
        original["To"] = ", ".join(RECIPIENTS)
        original["Subject"] = "CR"
        original["Message-ID"] = message_id(number)
        original["Disposition-Notification-To"] = "dr@chu.mssante.fr"
        original.set_content("Bonjour\n")
        report = Dsn(
            reporting_mta="mx.clinique.mssante.fr",
            original_envelope_id=message_id(number),
            recipients=[DsnRecipient(final_recipient=r, action="delivered", status="2.0.0") for r in RECIPIENTS],
        )
        mail = build_dsn(dsn=report, sender="MAILER-DAEMON@mx.fr", at=T0, original=original).as_bytes()
        mails.append(mail)
        rows.append((hashlib.sha256(mail).hexdigest(), message_id(number), tuple((r, "delivered") for r in RECIPIENTS)))
        for recipient in RECIPIENTS:
            mail = build_mdn(
                original=original, reporting_ua="ua", final_recipient=recipient, disposition=displayed, at=T0,
                sender=recipient, include_original=False,
            ).as_bytes()  # fmt: skip
            mails.append(mail)
            rows.append((hashlib.sha256(mail).hexdigest(), message_id(number), ((recipient, "read"),)))
    return mails, rows


def _ours(conninfo: str, share: list[bytes], ready: Callable[[], None]) -> float:
    from mssante.tracking import PostgresTrackingStore, Tracker  # noqa: PLC0415

    with PostgresTrackingStore(conninfo, max_size=1) as store:
        tracking = Tracker(store)
        ready()
        for mail in share:
            tracking.observe(mail, T0)
        return time.monotonic()


_RANK = {"pending": 0, "delivered": 3, "read": 5}


def _bare(conninfo: str, share: list[Row], ready: Callable[[], None]) -> float:
    import psycopg  # noqa: PLC0415

    with psycopg.connect(conninfo) as connection:
        ready()
        for notification, message, updates in share:
            with connection.transaction():
                inserted = connection.execute(
                    "INSERT INTO bare_notification VALUES (%s, %s) ON CONFLICT DO NOTHING RETURNING id",
                    (notification, T0),
                ).fetchone()
                if inserted is None:
                    continue
                for recipient, status in updates:
                    connection.execute(
                        "UPDATE bare_recipient SET status = %s, updated_at = %s WHERE message_id = %s AND key = %s "
                        "AND %s > CASE status WHEN 'pending' THEN 0 WHEN 'delivered' THEN 3 ELSE 5 END",
                        (status, T0, message, recipient, _RANK[status]),
                    )
                    connection.execute(
                        "INSERT INTO bare_event VALUES (%s, %s, %s, %s, %s)",
                        (message, recipient, T0, status, notification),
                    )
        return time.monotonic()


def worker(tasks: Queue[Task | None], ready: Queue[int], go: Event, ends: Queue[float]) -> None:
    """A writer process: runs each task it is given (its share of one turn) until told to stop.

    For each task it connects, says it is ready, waits for the common start, records its share and gives the
    instant it ended (the monotonic clock is the system's: comparable between processes).
    """
    import mssante.tracking  # noqa: F401, PLC0415 - imported before any turn is timed

    def started() -> None:
        ready.put(1)
        go.wait()

    while (task := tasks.get()) is not None:
        side, conninfo, share = task
        if side == "ours":
            ends.put(_ours(conninfo, share, started))  # type: ignore[arg-type]
        else:
            ends.put(_bare(conninfo, share, started))  # type: ignore[arg-type]


def _reset(conninfo: str, messages: int) -> None:
    import psycopg  # noqa: PLC0415

    from mssante.tracking import PostgresTrackingStore, Tracker  # noqa: PLC0415

    with PostgresTrackingStore(conninfo) as store:
        with store.pool.connection() as connection:
            connection.execute(
                "TRUNCATE tracking_event, tracking_recipient, tracking_message, tracking_notification, "
                "bare_recipient, bare_event, bare_notification"
            )
        tracking = Tracker(store)
        for number in range(messages):
            tracking.sent(message_id(number), RECIPIENTS, T0)
    with psycopg.connect(conninfo) as connection, connection.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO bare_recipient VALUES (%s, %s, 'pending', %s)",
            [(message_id(number), recipient, T0) for number in range(messages) for recipient in RECIPIENTS],
        )


def _check_ours(conninfo: str, messages: int, notifications: int) -> None:
    """Every recipient READ with three events (send, DSN, MDN), each notification recorded once."""
    from mssante.tracking import PostgresTrackingStore, Status  # noqa: PLC0415

    with PostgresTrackingStore(conninfo) as store:
        for number in range(messages):
            tracked = store.get(message_id(number))
            assert tracked is not None, number
            for state in tracked.recipients:
                assert state.status is Status.READ, (number, state)
                assert [event.source for event in state.events].count("send") == 1, state
                assert sorted(event.source for event in state.events) == ["dsn", "mdn", "send"], state
        with store.pool.connection() as connection:
            count = connection.execute("SELECT count(*) FROM tracking_notification").fetchone()
    assert count == (notifications,), count


def _check_bare(conninfo: str, messages: int, notifications: int) -> None:
    import psycopg  # noqa: PLC0415

    with psycopg.connect(conninfo) as connection:
        assert connection.execute("SELECT count(*) FROM bare_notification").fetchone() == (notifications,)
        read = connection.execute("SELECT count(*) FROM bare_recipient WHERE status = 'read'").fetchone()
        assert read == (messages * len(RECIPIENTS),), read


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=60)
    parser.add_argument("--turns", type=int, default=3)
    options = parser.parse_args()
    sys.path[:0] = [str(ROOT), str(ROOT / "src")]
    import psycopg  # noqa: PLC0415
    from tests.postgres import PostgresCluster, fresh_database  # noqa: PLC0415

    mails, rows = notifications(options.messages)
    context = multiprocessing.get_context("spawn")
    tasks: Queue[Task | None] = context.Queue()
    ready: Queue[int] = context.Queue()
    ends: Queue[float] = context.Queue()
    go = context.Event()
    processes = [context.Process(target=worker, args=(tasks, ready, go, ends)) for _ in range(max(WRITERS))]
    for process in processes:
        process.start()
    table: list[str] = []
    try:
        with PostgresCluster() as cluster:
            conninfo = fresh_database(cluster, "bench")
            with psycopg.connect(conninfo) as connection:
                connection.execute(BARE_SCHEMA.encode())
            for writers in WRITERS:
                seconds: dict[str, list[float]] = {"ours": [], "bare": []}
                for turn in range(options.turns):
                    sides = ["ours", "bare"] if turn % 2 == 0 else ["bare", "ours"]
                    for side in sides:
                        _reset(conninfo, options.messages)
                        work: list[bytes] | list[Row] = mails if side == "ours" else rows
                        for index in range(writers):
                            tasks.put((side, conninfo, work[index::writers]))
                        for _ in range(writers):
                            ready.get(timeout=300)
                        start = time.monotonic()
                        go.set()
                        last = max(ends.get(timeout=300) for _ in range(writers))
                        go.clear()
                        seconds[side].append(last - start)
                        check = _check_ours if side == "ours" else _check_bare
                        check(conninfo, options.messages, len(mails))
                ours, bare = seconds["ours"], seconds["bare"]
                table.append(
                    f"| {writers} | {len(mails) / min(ours):.0f} / {len(mails) / statistics.median(ours):.0f} | "
                    f"{len(mails) / min(bare):.0f} / {len(mails) / statistics.median(bare):.0f} | "
                    f"{min(ours) / min(bare):.2f}x / {statistics.median(ours) / statistics.median(bare):.2f}x |"
                )
    finally:
        for _ in processes:
            tasks.put(None)
        for process in processes:
            process.join(timeout=60)
    print(
        f"{options.messages} messages to {len(RECIPIENTS)} recipients, {len(mails)} notifications shared among the "
        f"writers (a DSN per message, an MDN per recipient); {options.turns} turns a side, alternating; "
        "every mssante turn checked (all READ, three events a recipient, each notification once)\n"
    )
    print("| writers | mssante notifications/s (best / median) | baseline notifications/s | time ratio |")
    print("|---:|---:|---:|---:|")
    print("\n".join(table))


if __name__ == "__main__":
    main()

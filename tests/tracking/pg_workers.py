"""What the writer processes of the multi-process PostgreSQL tests run (imported by ``multiprocessing`` spawn)."""

from __future__ import annotations

import datetime as dt
import random
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier

from mssante.tracking import PostgresTrackingStore, Tracker

from .helpers import ALICE, BOB, DISPLAYED, INTEGRATION_ERROR, PROCESSED, T0, dsn, mdn


def message_id(number: int) -> str:
    return f"<multi.{number}@chu.mssante.fr>"


def notifications(number: int) -> list[bytes]:
    """Every notification about message ``number``: DSNs and MDNs for both recipients, some conflicting."""
    mid = message_id(number)
    return [
        dsn((ALICE, "delayed", "4.4.1"), envelope=mid, message_id=mid),
        dsn((ALICE, "delivered", "2.0.0"), (BOB, "delayed", "4.4.1"), envelope=mid, message_id=mid, mta="mx2.x.fr"),
        dsn((BOB, "failed", "5.1.1"), envelope=mid, message_id=mid, mta="mx3.x.fr"),
        dsn((BOB, "relayed", "2.0.0"), envelope=mid, message_id=mid, mta="mx4.x.fr"),
        mdn(ALICE, DISPLAYED, message_id=mid),
        mdn(ALICE, INTEGRATION_ERROR, message_id=mid),
        mdn(BOB, PROCESSED, message_id=mid),
        mdn(BOB, DISPLAYED, message_id=mid),
    ]


def record(conninfo: str, seed: int, messages: int, barrier: Barrier | None) -> tuple[int, int]:
    """Record every notification of ``messages`` messages in an order drawn from ``seed``: (recorded, duplicates)."""
    chooser = random.Random(seed)
    work = [(number, data) for number in range(messages) for data in notifications(number)]
    chooser.shuffle(work)
    recorded = duplicates = 0
    with PostgresTrackingStore(conninfo, max_size=1) as store:
        tracking = Tracker(store)
        if barrier is not None:
            barrier.wait(timeout=60)
        for step, (_, data) in enumerate(work):
            observation = tracking.observe(data, T0 + dt.timedelta(minutes=step))
            recorded += observation.recorded
            duplicates += observation.duplicate
    return recorded, duplicates


def record_into(conninfo: str, seed: int, messages: int, barrier: Barrier, results: Queue[tuple[int, int]]) -> None:
    """:func:`record`, its result put in ``results`` (the target of a spawned process)."""
    results.put(record(conninfo, seed, messages, barrier))

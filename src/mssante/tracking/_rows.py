"""What the SQL stores of tracking share: a tracked message as table rows, and back.

A message is its recipients' rows (one per recipient, rewritten when its state changes) and their events (appended,
numbered per recipient); each store gives how it holds a time (``time``: SQLite keeps text, PostgreSQL
``timestamptz``) and how it reads one back (``read_time``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from mssante.tracking._store import Event, RecipientState, Status, Tracked

__all__ = ["Row", "changed_rows", "tracked_from_rows"]

Row = tuple[object, ...]


def changed_rows(
    before: Tracked | None, tracked: Tracked, *, time: Callable[[dt.datetime], object]
) -> tuple[list[Row], list[Row]]:
    """The recipient rows of ``tracked`` that differ from ``before`` (what the store holds), and the events it does
    not hold yet: ``(message_id, key, position, address, status, sent_at, deadline, updated_at)`` and
    ``(message_id, key, seq, at, status, source, detail, notification, applied, reason)``."""
    old = {state.key: state for state in before.recipients} if before else {}
    rows: list[Row] = []
    events: list[Row] = []
    for position, state in enumerate(tracked.recipients):
        previous = old.get(state.key)
        if previous == state:
            continue
        rows.append(
            (tracked.message_id, state.key, position, state.address, state.status.value, time(state.sent_at),
             time(state.deadline), time(state.updated_at))
        )  # fmt: skip
        start = len(previous.events) if previous else 0
        events.extend(
            (tracked.message_id, state.key, seq, time(event.at), event.status.value, event.source, event.detail,
             event.notification, event.applied, event.reason)
            for seq, event in enumerate(state.events[start:], start=start)
        )  # fmt: skip
    return rows, events


def tracked_from_rows(
    message_id: str,
    recipients: Sequence[Any],
    events: Iterable[Any],
    *,
    read_time: Callable[[Any], dt.datetime],
) -> Tracked | None:
    """The message from its ``recipients`` rows (``key, address, status, sent_at, deadline, updated_at``, in
    position order) and its ``events`` rows (``key, at, status, source, detail, notification, applied, reason``,
    in key and sequence order); None when it has no recipient row."""
    if not recipients:
        return None
    history: dict[str, list[Event]] = {}
    for key, at, status, source, detail, notification, applied, reason in events:
        history.setdefault(key, []).append(
            Event(at=read_time(at), status=Status(status), source=source, detail=detail, notification=notification,
                  applied=bool(applied), reason=reason)
        )  # fmt: skip
    return Tracked(
        message_id=message_id,
        recipients=[
            RecipientState(address=address, status=Status(status), sent_at=read_time(sent_at),
                           deadline=read_time(deadline), updated_at=read_time(updated_at), events=history.get(key, ()))
            for key, address, status, sent_at, deadline, updated_at in recipients
        ],
    )  # fmt: skip

"""The values of delivery tracking, the :class:`TrackingStore` protocol and :class:`MemoryStore`."""

from __future__ import annotations

import contextlib
import datetime as dt
import enum
import threading
from collections.abc import Iterable, Iterator, Mapping
from typing import Protocol

import attrs

__all__ = ["Event", "MemoryStore", "RecipientState", "Status", "StoreSession", "Tracked", "TrackingStore"]


class Status(str, enum.Enum):
    """Where a message stands for one recipient; :attr:`rank` orders them, and a status never goes down."""

    PENDING = "pending"
    """Sent (or deferred at sending), nothing came back yet."""
    DELAYED = "delayed"
    """A DSN said ``delayed``: the MTA still tries; not final."""
    EXPIRED = "expired"
    """Nothing final came back before the deadline (set by :meth:`Tracker.expire`)."""
    DELIVERED = "delivered"
    """Delivered (DSN ``delivered``/``relayed``/``expanded``) or processed (MDN ``processed``/``dispatched``)."""
    FAILED = "failed"
    """Refused at sending, DSN ``failed``, or an MDN with an error or ``deleted``."""
    READ = "read"
    """An MDN ``displayed``: shown to someone reading the recipient's mailbox."""

    def __str__(self) -> str:
        return self.value

    @property
    def rank(self) -> int:
        """The order of statuses: a recipient only ever moves to a higher rank."""
        return _RANKS[self]

    @property
    def is_final(self) -> bool:
        """True for READ, FAILED and EXPIRED: no more waiting (a DELIVERED recipient may still become READ)."""
        return self in (Status.READ, Status.FAILED, Status.EXPIRED)

    @property
    def is_awaiting(self) -> bool:
        """True for PENDING and DELAYED: no delivery outcome yet."""
        return self in (Status.PENDING, Status.DELAYED)


_RANKS = {status: rank for rank, status in enumerate(Status)}


def _aware(instance: object, attribute: attrs.Attribute[dt.datetime], value: dt.datetime) -> None:
    if value.utcoffset() is None:
        raise ValueError(f"{attribute.name} must be timezone-aware")


def utc(at: dt.datetime) -> dt.datetime:
    """``at`` in UTC; ValueError when it is naive."""
    if at.utcoffset() is None:
        raise ValueError("times must be timezone-aware datetimes")
    return at.astimezone(dt.timezone.utc)


@attrs.frozen(kw_only=True)
class Event:
    """One thing learnt about a recipient: when, what it meant, where from, and whether it changed the status."""

    at: dt.datetime = attrs.field(validator=_aware)
    status: Status = attrs.field(converter=Status)
    """The status this event points to (not necessarily the one the recipient ended with)."""
    source: str
    """``send``, ``dsn``, ``mdn`` or ``expire``."""
    detail: str = ""
    """What the source said: the SMTP reply, ``failed 5.1.1 …``, ``processed/error 902``."""
    notification: str | None = None
    """The identifier of the notification (a digest of its report block), for ``dsn`` and ``mdn`` events."""
    applied: bool = True
    """False when the recipient already had a status of equal or higher rank."""
    reason: str | None = None
    """Why delivery failed, for a ``dsn`` event that says so: a :class:`~mssante.message.BounceReason` value
    (``mailbox_closed``, ``unknown_recipient``, ``invalid_address``, ``too_large``, ``other``)."""


def _events(values: Iterable[Event]) -> tuple[Event, ...]:
    return tuple(values)


@attrs.frozen(kw_only=True)
class RecipientState:
    """One recipient of a tracked message: its status, its deadline and the history of its events."""

    address: str
    status: Status = attrs.field(converter=Status)
    sent_at: dt.datetime = attrs.field(validator=_aware)
    deadline: dt.datetime = attrs.field(validator=_aware)
    """When an awaiting recipient expires."""
    updated_at: dt.datetime = attrs.field(validator=_aware)
    events: tuple[Event, ...] = attrs.field(default=(), converter=_events)

    @property
    def key(self) -> str:
        """The address as compared: the domain in lower case."""
        return address_key(self.address)


def address_key(address: str) -> str:
    """``address`` as compared: ``rfc822;`` and angle brackets removed, the domain in lower case."""
    text = address.strip()
    if text[:7].lower() == "rfc822;":
        text = text[7:].strip()
    if text.startswith("<") and text.endswith(">"):
        text = text[1:-1].strip()
    local, at, domain = text.rpartition("@")
    return f"{local}@{domain.lower()}" if at else text


def _recipients(values: Iterable[RecipientState]) -> tuple[RecipientState, ...]:
    return tuple(values)


@attrs.frozen(kw_only=True)
class Tracked:
    """A sent message as tracked: its Message-ID and one :class:`RecipientState` per recipient, in sending order."""

    message_id: str
    recipients: tuple[RecipientState, ...] = attrs.field(converter=_recipients)

    @property
    def statuses(self) -> Mapping[str, Status]:
        """Each recipient's address and status."""
        return {recipient.address: recipient.status for recipient in self.recipients}

    def recipient(self, address: str) -> RecipientState | None:
        """The recipient ``address`` (domain compared without case), or None."""
        key = address_key(address)
        return next((recipient for recipient in self.recipients if recipient.key == key), None)

    @property
    def is_final(self) -> bool:
        """True when every recipient has a final status."""
        return all(recipient.status.is_final for recipient in self.recipients)


class StoreSession(Protocol):
    """What the tracker does inside one transaction of a store: read, then write all of it or none."""

    def get(self, message_id: str) -> Tracked | None:
        """The tracked message, or None."""
        ...

    def seen(self, notification: str) -> bool:
        """Whether this notification was already recorded."""
        ...

    def put(self, tracked: Tracked) -> None:
        """Record the message's new state (its events are only ever appended)."""
        ...

    def mark_seen(self, notification: str, at: dt.datetime) -> None:
        """Remember that this notification was recorded."""
        ...

    def awaiting(self, *, due_by: dt.datetime | None = None) -> list[Tracked]:
        """The messages with a PENDING or DELAYED recipient (whose deadline is at or before ``due_by``, if given)."""
        ...


class TrackingStore(Protocol):
    """Where tracked messages live; :meth:`transaction` applies everything or nothing."""

    def transaction(self, *, write: bool = True) -> contextlib.AbstractContextManager[StoreSession]:
        """A session whose writes are kept only when the ``with`` block ends without an exception.

        ``write=False`` promises the block only reads: a store may then let writers go on meanwhile.
        """
        ...

    def get(self, message_id: str) -> Tracked | None:
        """The tracked message, or None (read outside any transaction)."""
        ...


@attrs.define
class _MemoryData:
    messages: dict[str, Tracked] = attrs.Factory(dict)
    seen: dict[str, dt.datetime] = attrs.Factory(dict)


class _MemorySession:
    def __init__(self, data: _MemoryData) -> None:
        self.data = data

    def get(self, message_id: str) -> Tracked | None:
        return self.data.messages.get(message_id)

    def seen(self, notification: str) -> bool:
        return notification in self.data.seen

    def put(self, tracked: Tracked) -> None:
        self.data.messages[tracked.message_id] = tracked

    def mark_seen(self, notification: str, at: dt.datetime) -> None:
        self.data.seen.setdefault(notification, at)

    def awaiting(self, *, due_by: dt.datetime | None = None) -> list[Tracked]:
        return [
            tracked
            for tracked in self.data.messages.values()
            if any(
                recipient.status.is_awaiting and (due_by is None or recipient.deadline <= due_by)
                for recipient in tracked.recipients
            )
        ]


class MemoryStore:
    """A store in memory, for tests and short-lived processes; its transactions are atomic and serialised."""

    def __init__(self) -> None:
        self._data = _MemoryData()
        self._lock = threading.RLock()

    @contextlib.contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[StoreSession]:
        """A session on a copy of the data, which replaces the data only when the block succeeds."""
        with self._lock:
            staged = _MemoryData(dict(self._data.messages), dict(self._data.seen))
            yield _MemorySession(staged)
            self._data = staged

    def get(self, message_id: str) -> Tracked | None:
        """The tracked message, or None."""
        with self._lock:
            return self._data.messages.get(message_id)

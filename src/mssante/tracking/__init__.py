"""Delivery tracking of sent MSSanté messages: the DSNs and MDNs that come back, one status per recipient.

- :class:`Tracker` records what was sent (:meth:`~Tracker.sent`, :meth:`~Tracker.sent_result`), reads every
  returned mail (:meth:`~Tracker.observe`: a DSN, RFC 3464, or an MDN, RFC 8098 and the CI-SIS forms),
  matches it to the message and recipient, and keeps one :class:`Status` per recipient with its history.
  Statuses only move up (PENDING, DELAYED, EXPIRED, DELIVERED, FAILED, READ); the same notification twice
  changes nothing; unrelated or hostile mail gives findings (``MSS-TRK-*``), never an exception.
- :class:`MemoryStore` keeps the state in memory; :class:`SqliteStore` in an SQLite file, one transaction
  per notification, safe against a crash and shared by several processes; :class:`PostgresTrackingStore` in
  PostgreSQL, shared by the processes of several nodes (imported when first used: it needs psycopg).

The tracker is pure: it never reads the clock (every method takes ``at``) and its only I/O is the store's.
"""

from typing import TYPE_CHECKING

from mssante._lazy import lazy
from mssante.tracking._sqlite import SCHEMA_VERSION, SqliteStore, TrackingStoreError
from mssante.tracking._store import (
    Event,
    MemoryStore,
    RecipientState,
    Status,
    StoreSession,
    Tracked,
    TrackingStore,
)
from mssante.tracking._tracker import DEFAULT_EXPIRY, Change, Observation, Tracker, dsn_status, mdn_status

if TYPE_CHECKING:
    from mssante.tracking._postgres import PostgresTrackingStore

if not TYPE_CHECKING:
    __getattr__, __dir__ = lazy(__name__, globals(), {"PostgresTrackingStore": "mssante.tracking._postgres"})

__all__ = [
    "DEFAULT_EXPIRY",
    "SCHEMA_VERSION",
    "Change",
    "Event",
    "MemoryStore",
    "Observation",
    "PostgresTrackingStore",
    "RecipientState",
    "SqliteStore",
    "Status",
    "StoreSession",
    "Tracked",
    "Tracker",
    "TrackingStore",
    "TrackingStoreError",
    "dsn_status",
    "mdn_status",
]

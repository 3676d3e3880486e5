"""The audit trail: connections, TLS handshakes, authentications, sends, fetches and inbound policy decisions kept
as structured events, for as long as the rules recommend, exported for an audit and purged past retention.

- :class:`AuditEvent` is one event: its kind, time (UTC), node, peer, user, peer certificate (subject and SHA-256
  digest, never a key), outcome with its reason and codes, Message-ID and recipients. Its fields are a closed list,
  and every text is scrubbed of recognisable secrets, escaped and bounded: a secret or a body has nowhere to go.
- :class:`SqliteAuditStore` keeps events in one SQLite file shared by the processes of a host (the default);
  :class:`PostgresAuditStore` in a PostgreSQL database shared by several nodes. Both follow :class:`AuditStore`:
  ``record``, ``events``/``query``, ``export`` (JSON lines), ``counts`` and ``purge``.
- :class:`Retention` is how long events are kept: :data:`DEFAULT_RETENTION_DAYS` (six months, Référentiel #2
  ECO.4.1.1), applied by ``purge(at=...)`` only.
- :func:`attach` (an :class:`AuditHandler`) feeds a store with every event of the ``mssante.transport.audit``
  logger: existing sessions need no change. A failing store never breaks a send: the loss is counted and logged.
"""

from typing import TYPE_CHECKING

from mssante._lazy import lazy
from mssante.audit._event import (
    DETAIL_KEYS,
    KINDS,
    MAX_RECIPIENTS,
    AuditEvent,
    Outcome,
    RecipientOutcome,
    clean,
    format_time,
    parse_time,
)
from mssante.audit._records import event_from_record
from mssante.audit._store import (
    DEFAULT_RETENTION_DAYS,
    AuditStore,
    AuditStoreError,
    PurgeResult,
    Retention,
    write_lines,
)

if TYPE_CHECKING:
    from mssante.audit._handler import ERROR_LOGGER, AuditHandler, attach
    from mssante.audit._postgres import PostgresAuditStore
    from mssante.audit._sqlite import SqliteAuditStore

if not TYPE_CHECKING:
    __getattr__, __dir__ = lazy(
        __name__,
        globals(),
        {
            "ERROR_LOGGER": "mssante.audit._handler",
            "AuditHandler": "mssante.audit._handler",
            "attach": "mssante.audit._handler",
            "PostgresAuditStore": "mssante.audit._postgres",
            "SqliteAuditStore": "mssante.audit._sqlite",
        },
    )

__all__ = [
    "DEFAULT_RETENTION_DAYS",
    "DETAIL_KEYS",
    "ERROR_LOGGER",
    "KINDS",
    "MAX_RECIPIENTS",
    "AuditEvent",
    "AuditHandler",
    "AuditStore",
    "AuditStoreError",
    "Outcome",
    "PostgresAuditStore",
    "PurgeResult",
    "RecipientOutcome",
    "Retention",
    "SqliteAuditStore",
    "attach",
    "clean",
    "event_from_record",
    "format_time",
    "parse_time",
    "write_lines",
]

"""What an audit store does (:class:`AuditStore`), how long it keeps events (:class:`Retention`), and the export.

Retention is applied by :meth:`AuditStore.purge` only, never by reads: an event past retention stays readable
until a purge removes it, so that an export made for an audit is the same whatever the hour it runs.
"""

from __future__ import annotations

import datetime as dt
import json
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from types import TracebackType
from typing import Any, Protocol

import attrs

from mssante.audit._event import AuditEvent
from mssante.audit._rows import from_row
from mssante.errors import SecurityWarning, StoreError

__all__ = [
    "DEFAULT_RETENTION_DAYS",
    "AuditReading",
    "AuditStore",
    "AuditStoreError",
    "PurgeResult",
    "Retention",
    "Writable",
    "paged",
    "write_lines",
]

DEFAULT_RETENTION_DAYS = 183
"""Six months, as Référentiel #2 (ECO.4.1.1) recommends for the traces of an MSSanté client."""

_LONGEST_RETENTION_DAYS = 100 * 366


class AuditStoreError(StoreError):
    """The audit file cannot be used: not an audit trail, made by a newer version, unreadable, or busy.

    (A PostgreSQL store raises :class:`~mssante.errors.StoreError`, and :class:`~mssante.errors.StoreUnavailable`
    when the database cannot be reached: every failure of an audit store is a ``StoreError``.)
    """


class Writable(Protocol):
    """Where an export goes: a text stream."""

    def write(self, text: str, /) -> object: ...


def _days(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("retention days must be an integer")
    if not 1 <= value <= _LONGEST_RETENTION_DAYS:
        raise ValueError(f"a retention of {value} days is not possible (1 to {_LONGEST_RETENTION_DAYS})")
    return value


@attrs.frozen(kw_only=True)
class Retention:
    """How long events are kept: :data:`DEFAULT_RETENTION_DAYS` unless said otherwise.

    A retention shorter than the recommended six months is refused (``ValueError``) unless ``below_recommendation``
    says it is meant; then a :class:`~mssante.errors.SecurityWarning` is emitted: traces kept for less time than
    the rules recommend may be missing when an incident is investigated.
    """

    days: int = attrs.field(default=DEFAULT_RETENTION_DAYS, converter=_days)
    below_recommendation: bool = False

    def __attrs_post_init__(self) -> None:
        if self.days < DEFAULT_RETENTION_DAYS:
            if not self.below_recommendation:
                raise ValueError(
                    f"a retention of {self.days} days is below the {DEFAULT_RETENTION_DAYS} days (six months) "
                    "Référentiel #2 ECO.4.1.1 recommends: pass below_recommendation=True if it is meant"
                )
            warnings.warn(
                f"audit events kept {self.days} days only, below the {DEFAULT_RETENTION_DAYS} days recommended "
                "(Référentiel #2 ECO.4.1.1): traces may be missing when an incident is investigated",
                SecurityWarning,
                stacklevel=3,
            )

    def cutoff(self, at: dt.datetime) -> dt.datetime:
        """The oldest time still kept at ``at``: events before it are past retention."""
        if at.utcoffset() is None:
            raise ValueError("the time of a purge must be timezone-aware")
        return at.astimezone(dt.timezone.utc) - dt.timedelta(days=self.days)


@attrs.frozen(kw_only=True)
class PurgeResult:
    """What a purge did: events removed, events kept, and the cutoff (events before it were removed)."""

    purged: int
    kept: int
    cutoff: dt.datetime


class AuditStore(Protocol):
    """Where audit events are kept: :class:`~mssante.audit.SqliteAuditStore` (one file, several processes) or
    :class:`~mssante.audit.PostgresAuditStore` (several nodes).

    Times are bounds ``since <= at < until``; ``kinds`` (empty: all) filters by kind. Reads never apply the
    retention: :meth:`purge` does.
    """

    retention: Retention

    def record(self, events: Iterable[AuditEvent]) -> int:
        """Keep ``events`` (in one transaction: all or none); return how many."""
        ...

    def events(
        self, *, since: dt.datetime | None = None, until: dt.datetime | None = None, kinds: Iterable[str] = ()
    ) -> Iterator[AuditEvent]:
        """The events in time order, read in pages (memory stays bounded whatever the count)."""
        ...

    def query(
        self,
        *,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        kinds: Iterable[str] = (),
        limit: int = 1000,
    ) -> list[AuditEvent]:
        """At most ``limit`` events, in time order."""
        ...

    def export(
        self,
        stream: Writable,
        *,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        kinds: Iterable[str] = (),
    ) -> int:
        """Write the events as JSON lines (:meth:`AuditEvent.to_dict`) to ``stream``; return how many."""
        ...

    def counts(self, *, since: dt.datetime | None = None, until: dt.datetime | None = None) -> dict[str, int]:
        """The number of events of each kind."""
        ...

    def purge(self, *, at: dt.datetime) -> PurgeResult:
        """Remove the events past :attr:`retention` at ``at``."""
        ...

    def close(self) -> None:
        """Release the store's connections."""
        ...

    def __enter__(self) -> AuditStore: ...

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None: ...


class AuditReading:
    """What every audit store derives from its :meth:`events`: :meth:`query` and :meth:`export`."""

    def events(
        self, *, since: dt.datetime | None = None, until: dt.datetime | None = None, kinds: Iterable[str] = ()
    ) -> Iterator[AuditEvent]:
        """The events in time order, read in pages (memory stays bounded whatever the count)."""
        raise NotImplementedError

    def query(
        self,
        *,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        kinds: Iterable[str] = (),
        limit: int = 1000,
    ) -> list[AuditEvent]:
        """At most ``limit`` events, in time order."""
        found: list[AuditEvent] = []
        if limit <= 0:
            return found
        for event in self.events(since=since, until=until, kinds=kinds):
            found.append(event)
            if len(found) >= limit:
                break
        return found

    def export(
        self,
        stream: Writable,
        *,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        kinds: Iterable[str] = (),
    ) -> int:
        """Write the events as JSON lines to ``stream``, in time order; return how many."""
        return write_lines(stream, self.events(since=since, until=until, kinds=kinds))


def write_lines(stream: Writable, events: Iterable[AuditEvent]) -> int:
    """Write each event as one line of JSON (keys sorted, non-ASCII kept); return how many."""
    count = 0
    for event in events:
        stream.write(json.dumps(event.to_dict(), ensure_ascii=False, sort_keys=True) + "\n")
        count += 1
    return count


def paged(page: Callable[[tuple[Any, Any] | None], Sequence[Sequence[Any]]], size: int) -> Iterator[AuditEvent]:
    """The events of rows ``(id, *COLUMNS)`` read by ``page`` in time order, ``size`` at most a page; ``page`` is
    given the ``(at, id)`` of the last row read (None for the first page) and reads the rows after it."""
    after: tuple[Any, Any] | None = None
    while True:
        rows = page(after)
        for row in rows:
            yield from_row(row[1:])
        if len(rows) < size:
            return
        after = (rows[-1][1], rows[-1][0])


def kinds_of(kinds: Iterable[str]) -> tuple[str, ...]:
    """The kinds to filter on (a lone string is one kind)."""
    return (kinds,) if isinstance(kinds, str) else tuple(dict.fromkeys(kinds))

"""An audit event as a database row and back, the same for every store."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence

from mssante.audit._event import AuditEvent, RecipientOutcome, format_time, parse_time

__all__ = ["COLUMNS", "from_row", "to_row", "where"]

COLUMNS = (
    "at",
    "kind",
    "node",
    "peer",
    "port",
    "username",
    "sender",
    "certificate_subject",
    "certificate_sha256",
    "outcome",
    "reason",
    "codes",
    "message_id",
    "recipients",
    "details",
)
"""The columns of an event, in the order of :func:`to_row`."""


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def to_row(event: AuditEvent) -> tuple[object, ...]:
    """The values of :data:`COLUMNS` for ``event`` (times as fixed-width UTC text, lists as JSON text)."""
    return (
        format_time(event.at),
        event.kind,
        event.node,
        event.peer,
        event.port,
        event.user,
        event.sender,
        event.certificate_subject,
        event.certificate_sha256,
        event.outcome.value,
        event.reason,
        _json(list(event.codes)),
        event.message_id,
        _json([recipient.to_dict() for recipient in event.recipients]),
        _json(dict(event.details)),
    )


def from_row(row: Sequence[object]) -> AuditEvent:
    """The event of a row of :data:`COLUMNS`."""
    (at, kind, node, peer, port, user, sender, subject, sha256, outcome, reason, codes, message_id, recipients,
     details) = row  # fmt: skip
    return AuditEvent(
        at=at if isinstance(at, dt.datetime) else parse_time(str(at)),
        kind=kind,
        node=node,
        peer=peer,
        port=port,
        user=user,
        sender=sender,
        certificate_subject=subject,
        certificate_sha256=sha256,
        outcome=outcome,
        reason=reason,
        codes=json.loads(str(codes)),
        message_id=message_id,
        recipients=[RecipientOutcome.from_dict(item) for item in json.loads(str(recipients))],
        details=json.loads(str(details)),
    )


def where(
    since: dt.datetime | None,
    until: dt.datetime | None,
    kinds: Sequence[str],
    *,
    marker: str,
    time: Callable[[dt.datetime], object],
) -> tuple[str, list[object]]:
    """The conditions (joined by ``AND``; ``1 = 1`` when none) of a time range and kinds, and their parameters.

    ``marker`` is the driver's placeholder, ``time`` makes a bound a parameter.
    """
    conditions: list[str] = []
    parameters: list[object] = []
    if since is not None:
        conditions.append(f"at >= {marker}")
        parameters.append(time(since))
    if until is not None:
        conditions.append(f"at < {marker}")
        parameters.append(time(until))
    if kinds:
        conditions.append(f"kind IN ({', '.join(marker for _ in kinds)})")
        parameters.extend(kinds)
    return " AND ".join(conditions) or "1 = 1", parameters

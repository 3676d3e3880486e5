"""The events of the transports' audit logger as :class:`~mssante.audit.AuditEvent` values.

Each log record of ``mssante.transport.audit`` carries its fields in ``extra`` (see
:mod:`mssante.transport`); only the fields named here are read, each into its field of the event, so that
whatever else a record holds (its message text, its arguments) never reaches the trail.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping
from typing import Any

from mssante.audit._event import MAX_RECIPIENTS, AuditEvent, Outcome, RecipientOutcome

__all__ = ["event_from_record"]

_ACCEPTING = frozenset({"DUNNO", "OK", "PREPEND", "WARN"})


def _field(record: logging.LogRecord, name: str) -> Any:
    return record.__dict__.get(name)


def _success(record: logging.LogRecord) -> Outcome:
    return Outcome.OK if _field(record, "success") is not False else Outcome.REFUSED


def _code(value: object) -> tuple[str, ...]:
    return () if value is None or value == "" else (str(value),)


def _connect(record: logging.LogRecord) -> dict[str, Any]:
    port = _field(record, "port")
    return {
        "port": port if isinstance(port, int) and not isinstance(port, bool) and 0 <= port < 65536 else None,
        "codes": _code(_field(record, "code")),
        "details": {"reply": _field(record, "reply") or None},
    }


def _sha256(value: object) -> tuple[str | None, str | None]:
    """A SHA-256 fingerprint (colons and case as Postfix or OpenSSL write it), or None and what was given instead."""
    text = str(value or "").replace(":", "").strip().lower()
    if len(text) == 64 and all(c in "0123456789abcdef" for c in text):
        return text, None
    return None, text or None


def _tls(record: logging.LogRecord) -> dict[str, Any]:
    sha256, other = _sha256(_field(record, "peer_sha256"))
    return {
        "certificate_subject": _field(record, "peer_subject") or None,
        "certificate_sha256": sha256,
        "outcome": _success(record),
        "reason": _field(record, "reason") or "",
        "details": {"protocol": _field(record, "protocol"), "cipher": _field(record, "cipher"), "fingerprint": other},
    }


def _authenticate(record: logging.LogRecord) -> dict[str, Any]:
    return {
        "user": _field(record, "user"),
        "outcome": _success(record),
        "codes": _code(_field(record, "code")),
        "details": {"mechanism": _field(record, "mechanism")},
    }


def _send(record: logging.LogRecord) -> dict[str, Any]:
    outcomes = _field(record, "outcomes")
    items = [item for item in outcomes if isinstance(item, Mapping)] if isinstance(outcomes, list) else []
    recipients = [
        RecipientOutcome(address=item.get("recipient", ""), status=item.get("delivery", ""), code=item.get("code"))
        for item in items[:MAX_RECIPIENTS]
    ]
    refused = [recipient for recipient in recipients if recipient.status != "accepted"]
    omitted = len(items) - len(recipients)
    return {
        "message_id": _field(record, "message_id"),
        "recipients": recipients,
        "outcome": Outcome.OK if not refused else Outcome.REFUSED,
        "reason": f"{len(refused)} of {len(recipients)} recipients not accepted" if refused else "",
        "details": {"omitted": omitted or None},
    }


def _mailbox(record: logging.LogRecord) -> dict[str, Any]:
    size = _field(record, "size")
    return {
        "outcome": _success(record),
        "reason": _field(record, "reason") or "",
        "details": {
            "folder": _field(record, "folder"),
            "uid": _field(record, "uid"),
            "size": size if isinstance(size, int) else None,
            "to": _field(record, "to"),
        },
    }


def _reset(record: logging.LogRecord) -> dict[str, Any]:
    return {"outcome": Outcome.FAILED, "reason": _field(record, "reason") or ""}


def _policy(record: logging.LogRecord) -> dict[str, Any]:
    action = str(_field(record, "action") or "")
    verb = action.split(maxsplit=1)[0].upper() if action.strip() else ""
    sha256, other = _sha256(_field(record, "certificate_sha256"))
    recipient = _field(record, "recipient")
    return {
        "peer": _field(record, "client") or "",
        "sender": _field(record, "sender"),
        "certificate_subject": _field(record, "certificate_subject") or None,
        "certificate_sha256": sha256,
        "outcome": Outcome.OK if verb in _ACCEPTING else Outcome.REFUSED,
        "reason": _field(record, "reason") or "",
        "codes": _code(_field(record, "code")),
        "recipients": [RecipientOutcome(address=recipient, status=verb.lower() or "none")] if recipient else [],
        "details": {"action": action or None, "fingerprint": other},
    }


_FIELDS: dict[str, Callable[[logging.LogRecord], dict[str, Any]]] = {
    "connect": _connect,
    "tls": _tls,
    "authenticate": _authenticate,
    "send": _send,
    "fetch": _mailbox,
    "delete": _mailbox,
    "move": _mailbox,
    "reset": _reset,
    "policy": _policy,
}


def event_from_record(record: logging.LogRecord, *, node: str) -> AuditEvent | None:
    """The audit event of a record of the audit logger, or None when the record has no ``event`` field.

    The time is the record's; an event of a kind this version does not know keeps its kind, its server and its
    outcome (``success``, ``reason``) only.
    """
    kind = _field(record, "event")
    if not isinstance(kind, str):
        return None
    fields = _FIELDS.get(kind, _unknown)(record)
    details = {key: value for key, value in fields.pop("details", {}).items() if value is not None and value != ""}
    return AuditEvent(
        kind=kind,
        at=dt.datetime.fromtimestamp(record.created, dt.timezone.utc),
        node=node,
        peer=fields.pop("peer", None) or _field(record, "server") or "",
        details=details,
        **fields,
    )


def _unknown(record: logging.LogRecord) -> dict[str, Any]:
    return {"outcome": _success(record), "reason": _field(record, "reason") or ""}

"""Events the audit tests record: one of every field, and a series over time."""

from __future__ import annotations

import datetime as dt

from mssante.audit import AuditEvent, Outcome, RecipientOutcome

AT = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.timezone.utc)
SHA256 = "9f" * 32


def full_event(*, at: dt.datetime = AT, node: str = "node-1", kind: str = "send") -> AuditEvent:
    """An event with every field set."""
    return AuditEvent(
        kind=kind,
        at=at,
        node=node,
        peer="smtp.operateur.mssante.fr",
        port=587,
        user="dr.dupont@chu.mssante.fr",
        sender="dr.dupont@chu.mssante.fr",
        certificate_subject="CN=smtp.operateur.mssante.fr,OU=318751275100020,O=OPERATEUR,C=FR",
        certificate_sha256=SHA256,
        outcome=Outcome.REFUSED,
        reason="1 of 2 recipients not accepted: élève",
        codes=["550", "MSS-TRN-010"],
        message_id="<1@chu.mssante.fr>",
        recipients=[
            RecipientOutcome(address="alice@clinique.mssante.fr", status="accepted", code="250"),
            RecipientOutcome(address="bob@labo.mssante.fr", status="rejected", code="550"),
        ],
        details={"mechanism": "XOAUTH2", "protocol": "TLSv1.3"},
    )


def series(count: int, *, start: dt.datetime = AT, step: dt.timedelta = dt.timedelta(days=1)) -> list[AuditEvent]:
    """``count`` connect events, one every ``step`` from ``start``."""
    return [
        AuditEvent(kind="connect", at=start + index * step, node="node-1", peer="mx", port=25, codes=["220"])
        for index in range(count)
    ]

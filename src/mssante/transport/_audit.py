"""The audit trail of the transports: who was connected to, over what TLS, as whom, and what became of each message.

Events go to the ``mssante.transport.audit`` logger at INFO (failures at WARNING), each with a readable message
and structured fields in ``extra``: ``event`` (``connect``, ``tls``, ``authenticate``, ``send``, ``quit``,
``reset``, ``policy``) and the fields of that event. They never hold a secret (token, password, key) nor message
content.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from mssante.transport._results import RecipientResult

__all__ = ["AUDIT_LOGGER", "logger"]

AUDIT_LOGGER = "mssante.transport.audit"
"""The name of the audit logger: attach a handler to it to keep the trail."""

logger = logging.getLogger(AUDIT_LOGGER)


def connect(server: str, port: int, *, code: int, reply: str) -> None:
    """A connection was opened and the server greeted."""
    logger.info(
        "connected to %s:%d (%d)",
        server,
        port,
        code,
        extra={"event": "connect", "server": server, "port": port, "code": code, "reply": reply},
    )


def tls(
    server: str,
    *,
    peer_subject: str,
    protocol: str | None,
    cipher: str | None,
    ok: bool,
    reason: str = "",
    peer_sha256: str = "",
) -> None:
    """The TLS handshake ended; ``ok`` says whether the server certificate was accepted (``peer_sha256``: the SHA-256
    digest of its DER form, in hexadecimal, when known)."""
    level = logging.INFO if ok else logging.WARNING
    verdict = "accepted" if ok else f"refused: {reason}"
    logger.log(
        level,
        "TLS with %s (%s, %s), server certificate %r %s",
        server,
        protocol,
        cipher,
        peer_subject,
        verdict,
        extra={
            "event": "tls",
            "server": server,
            "peer_subject": peer_subject,
            "peer_sha256": peer_sha256,
            "protocol": protocol,
            "cipher": cipher,
            "success": ok,
            "reason": reason,
        },
    )


def authenticate(server: str, *, mechanism: str, user: str | None, ok: bool, code: int | None = None) -> None:
    """An authentication attempt and its outcome (never the secret)."""
    logger.log(
        logging.INFO if ok else logging.WARNING,
        "authentication %s as %s on %s %s",
        mechanism,
        user or "(certificate)",
        server,
        "succeeded" if ok else f"refused ({code})",
        extra={
            "event": "authenticate",
            "server": server,
            "mechanism": mechanism,
            "user": user,
            "success": ok,
            "code": code,
        },
    )


def send(server: str, *, message_id: str | None, results: Sequence[RecipientResult]) -> None:
    """What became of one message for each recipient."""
    outcomes = [{"recipient": r.recipient, "delivery": r.delivery.value, "code": r.code} for r in results]
    logger.info(
        "message %s via %s: %s",
        message_id,
        server,
        ", ".join(f"{r.recipient} {r.delivery.value} ({r.code})" for r in results),
        extra={"event": "send", "server": server, "message_id": message_id, "outcomes": outcomes},
    )


def quit(server: str) -> None:
    """The session was closed normally."""
    logger.info("session with %s closed", server, extra={"event": "quit", "server": server})


def reset(server: str, *, reason: str) -> None:
    """The connection was dropped (by the server or after an error): the next use reconnects."""
    logger.warning(
        "connection to %s reset: %s", server, reason, extra={"event": "reset", "server": server, "reason": reason}
    )


def policy(
    client: str,
    *,
    sender: str,
    recipient: str,
    certificate_subject: str,
    certificate_sha256: str,
    action: str,
    code: str,
    reason: str,
) -> None:
    """An inbound policy decision on one recipient of a message offered by ``client`` (``action``: what was done)."""
    verb = action.split(maxsplit=1)[0].upper() if action.strip() else ""
    accepted = verb in {"DUNNO", "OK", "PREPEND", "WARN"}
    logger.log(
        logging.INFO if accepted else logging.WARNING,
        "policy for %s from %s to %s: %s %s %s",
        client,
        sender,
        recipient,
        action,
        code,
        reason,
        extra={
            "event": "policy",
            "client": client,
            "sender": sender,
            "recipient": recipient,
            "certificate_subject": certificate_subject,
            "certificate_sha256": certificate_sha256,
            "action": action,
            "code": code,
            "reason": reason,
        },
    )

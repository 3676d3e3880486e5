"""What the sync and the async IMAP sessions share, without I/O: the message read, the checks of what a caller
gives (a UID, a folder name), how a server's answer is shown in an error, and the audit events of a mailbox."""

from __future__ import annotations

import logging
import re

import attrs

from mssante import _html
from mssante.message import Message
from mssante.transport import _audit

__all__ = [
    "UIDVALIDITY",
    "FetchedMessage",
    "audit_fetch",
    "audit_removal",
    "check_uid",
    "quote_folder",
    "text_of",
]

_UID = re.compile(r"[1-9][0-9]{0,9}")
UIDVALIDITY = re.compile(r"[1-9][0-9]{0,9}")
"""A UIDVALIDITY as a server announces it (a non-zero 32-bit number)."""


@attrs.frozen
class FetchedMessage:
    """One message read from the mailbox: its UID, its exact bytes, the parsed message and its flags."""

    uid: str
    raw: bytes = attrs.field(repr=lambda raw: f"<{len(raw)} bytes>")
    message: Message = attrs.field(repr=False)
    flags: tuple[str, ...] = ()

    @property
    def seen(self) -> bool:
        """Whether the message carried ``\\Seen`` when it was fetched."""
        return "\\Seen" in self.flags

    def _repr_html_(self) -> str:
        """Its place in the mailbox, then the message as read, for notebooks."""
        return _html.section(
            _html.definitions(
                [("UID", self.uid), ("size", f"{len(self.raw):,} bytes"), ("flags", " ".join(self.flags))]
            ),
            self.message._repr_html_(),
        )


def text_of(value: object) -> str:
    """A server's answer (bytes, or a list of them) as text for an error message."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, (list, tuple)):
        return " ".join(text_of(item) for item in value if item is not None)
    return str(value)


def quote_folder(folder: str) -> str:
    """An IMAP quoted string for a folder name (no CR, LF nor NUL)."""
    if not folder or any(c in folder for c in "\r\n\0"):
        raise ValueError(f"not a folder name: {folder!r}")
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def check_uid(uid: str) -> str:
    """``uid`` as a string when it is one message's UID (not a set nor a range); ValueError otherwise."""
    uid = str(uid)
    if not _UID.fullmatch(uid):
        raise ValueError(f"not an IMAP UID: {uid!r}")
    return uid


def audit_fetch(server: str, folder: str, uid: str, size: int, *, ok: bool, reason: str = "") -> None:
    """The ``fetch`` event: a message read, or refused (its size over the bound)."""
    _audit.logger.log(
        logging.INFO if ok else logging.WARNING,
        "message UID %s (%d bytes) in %s on %s %s",
        uid,
        size,
        folder,
        server,
        "fetched" if ok else f"refused: {reason}",
        extra={
            "event": "fetch",
            "server": server,
            "folder": folder,
            "uid": uid,
            "size": size,
            "success": ok,
            "reason": reason,
        },
    )


def audit_removal(server: str, folder: str, event: str, uid: str, *, to: str | None = None) -> None:
    """The ``delete`` or ``move`` event of a message (``to`` the folder it was moved to)."""
    _audit.logger.info(
        "message UID %s in %s on %s %s",
        uid,
        folder,
        server,
        "deleted" if to is None else f"moved to {to}",
        extra={"event": event, "server": server, "folder": folder, "uid": uid, "to": to},
    )

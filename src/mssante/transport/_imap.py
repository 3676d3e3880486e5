"""What the sync and the async IMAP sessions share, without I/O: the message read, the checks of what a caller
gives (a UID, a folder name), how a server's answer is shown in an error, the audit events of a mailbox, and
:class:`MailboxSession`: the settings of a mailbox and the errors both sessions raise, worded once."""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterable

import attrs

from mssante import _html
from mssante.errors import TransportError
from mssante.message import Message, MimeLimits, parse
from mssante.pki import TrustStore
from mssante.transport import _audit, codes
from mssante.transport._peer import Revocation
from mssante.transport._session import ClientCertificate, ClientSession, Token

__all__ = [
    "UIDVALIDITY",
    "FetchedMessage",
    "MailboxSession",
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


class MailboxSession(ClientSession[Token]):
    """The settings of an IMAP session (the folder, TLS from the first byte, the bounds of a message read), and
    what the sync and the async sessions say alike: their errors, their audit events, the message they give."""

    login_mechanism = "LOGIN"

    def __init__(
        self,
        host: str,
        port: int | None,
        *,
        store: TrustStore,
        client_certificate: ClientCertificate | None,
        username: str | None,
        token: Token | None,
        password: str | None,
        external: bool,
        implicit_tls: bool,
        folder: str,
        at: dt.datetime | None,
        revocation: Revocation,
        timeout: float,
        max_bytes: int | None,
        limits: MimeLimits | None,
        max_duration: float,
        asynchronous: bool = False,
    ) -> None:
        super().__init__(
            host, port if port is not None else (993 if implicit_tls else 143), store=store,
            client_certificate=client_certificate, username=username, token=token, password=password,
            external=external, at=at, revocation=revocation, timeout=timeout, asynchronous=asynchronous,
            max_duration=max_duration,
        )  # fmt: skip
        self.folder = folder
        quote_folder(folder)
        self.implicit_tls = implicit_tls
        self._limits = limits or MimeLimits()
        self.max_bytes = max_bytes if max_bytes is not None else self._limits.max_bytes
        self._uidvalidity: str | None = None

    # --- opening ----------------------------------------------------------------------------------------

    def _cannot_open(self, detail: str) -> TransportError:
        """The error for a session that failed while it was being opened (``detail`` already scrubbed)."""
        return self._failure(codes.CLOSED, f"cannot open an IMAP session with {self.server}: {detail}")

    def _no_starttls(self) -> TransportError:
        message = f"{self.server} does not offer STARTTLS: MSSanté refuses to read in plain text"
        return self._failure(codes.NO_STARTTLS, message)

    def _check_login(self, mechanism: str | None, capabilities: Iterable[str], *, preauthenticated: bool) -> None:
        """Refuse a login the server cannot take: none configured without PREAUTH, or a mechanism it does not
        offer (``capabilities`` in the order the error names them)."""
        if mechanism is None:
            if not preauthenticated:  # no PREAUTH from the server: it expects a login we cannot give
                message = (
                    f"{self.server} asks for a login and none is configured: give token (XOAUTH2), password "
                    "(LOGIN) or external=True (the client certificate, SASL EXTERNAL)"
                )
                raise self._failure(codes.NO_LOGIN, message)
            return
        if mechanism != "LOGIN" and f"AUTH={mechanism}" not in capabilities:
            offered = " ".join(c for c in capabilities if c.startswith("AUTH=")) or "none"
            message = f"{self.server} does not offer AUTHENTICATE {mechanism} (offers: {offered})"
            raise self._failure(codes.MECHANISM_NOT_OFFERED, message)

    def _login_failed(self, mechanism: str, detail: str, *, closed: bool) -> TransportError:
        """The error (audited) for a login the server ``closed`` the connection during, or refused; ``detail``
        (the server's answer) already scrubbed."""
        _audit.authenticate(self.server, mechanism=mechanism, user=self.username, ok=False)
        if closed:
            message = f"{self.server} closed the connection during {mechanism}: {detail}"
            return self._failure(codes.CLOSED, message)
        message = f"{self.server} refused {mechanism} as {self.username}: {detail}"
        # with EXTERNAL, the credentials refused are the client certificate
        refusal = codes.CLIENT_CERTIFICATE_REFUSED if mechanism == "EXTERNAL" else codes.LOGIN_REFUSED
        return self._failure(refusal, message)

    def _select_refused(self, answer: str) -> TransportError:
        return self._failure(codes.SELECT_REFUSED, f"{self.server} refused SELECT {self.folder}: {answer}")

    # --- commands ---------------------------------------------------------------------------------------

    def _refused(self, command: str, answer: str) -> TransportError:
        """The error for ``command`` the server refused (NO, BAD) with ``answer``."""
        return self._failure(codes.COMMAND_FAILED, f"{self.server} refused {command}: {answer}")

    def _unavailable(self, uid: str, *, size: bool = False) -> TransportError:
        """The error for message ``uid``: absent, or without its ``size``."""
        if size:
            return self._failure(codes.MESSAGE_UNAVAILABLE, f"{self.server} gave no RFC822.SIZE for UID {uid}")
        message = f"no message with UID {uid} in {self.folder} on {self.server}"
        return self._failure(codes.MESSAGE_UNAVAILABLE, message)

    def _no_content(self, uid: str) -> TransportError:
        return self._failure(codes.MESSAGE_UNAVAILABLE, f"{self.server} returned no content for UID {uid}")

    def _check_size(self, uid: str, size: int) -> None:
        """Refuse (audited) message ``uid`` of ``size`` bytes announced, over ``max_bytes``, before reading it."""
        if size > self.max_bytes:
            self._audit_fetch(uid, size, ok=False, reason=f"over {self.max_bytes} bytes")
            message = (
                f"message UID {uid} on {self.server} is {size} bytes, over the {self.max_bytes} bytes limit: "
                "not fetched"
            )
            raise self._failure(codes.MESSAGE_TOO_LARGE, message)

    def _received(self, uid: str, raw: bytes) -> None:
        """Audit message ``uid`` read, or refuse it when its bytes are over ``max_bytes``."""
        if len(raw) > self.max_bytes:
            self._audit_fetch(uid, len(raw), ok=False, reason=f"over {self.max_bytes} bytes")
            message = f"message UID {uid} on {self.server} is {len(raw)} bytes, over the limit"
            raise self._failure(codes.MESSAGE_TOO_LARGE, message)
        self._audit_fetch(uid, len(raw), ok=True)

    def _message(self, uid: str, raw: bytes, flags: tuple[str, ...]) -> FetchedMessage:
        """The message read, parsed within the session's limits."""
        return FetchedMessage(uid=uid, raw=raw, message=parse(raw, limits=self._limits), flags=flags)

    # --- audit ------------------------------------------------------------------------------------------

    def _audit_fetch(self, uid: str, size: int, *, ok: bool, reason: str = "") -> None:
        audit_fetch(self.server, self.folder, uid, size, ok=ok, reason=reason)

    def _audit_removal(self, event: str, uid: str, *, folder: str | None = None) -> None:
        audit_removal(self.server, self.folder, event, uid, to=folder)

"""ImapMailbox: a software vendor reads MSSanté mail from its operator (IMAP, STARTTLS or TLS, IGC Santé TLS, XOAUTH2).

The session is built in a fixed order and refuses every shortcut: CAPABILITY, STARTTLS (a server that
does not offer it is refused: there is no plain-text fallback) or TLS from the first byte on port 993,
the server certificate checked by :func:`mssante.pki.check_peer` for the ``server`` purpose and the host
name, then AUTHENTICATE XOAUTH2 (a Pro Santé Connect token) or EXTERNAL (the client certificate), or LOGIN,
then SELECT.

Nothing is deleted or moved unless asked: :meth:`ImapMailbox.fetch` reads with ``BODY.PEEK[]`` (the message
stays unseen) so a caller that dies before storing a message finds it again at the next run.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import imaplib
import re
import socket
import ssl
from collections.abc import Callable, Iterator
from typing import cast

import attrs

from mssante.errors import TransportError
from mssante.message import MimeLimits
from mssante.pki import RevocationMode, TrustStore
from mssante.transport import _audit, codes
from mssante.transport._deadline import DEFAULT_MAX_DURATION, Watchdog, WatchedContext, _shut, deadline_passed
from mssante.transport._imap import UIDVALIDITY, FetchedMessage, MailboxSession
from mssante.transport._imap import check_uid as _check_uid
from mssante.transport._imap import quote_folder as _quote
from mssante.transport._imap import text_of as _text
from mssante.transport._peer import Revocation, checker_of, judge_server
from mssante.transport._session import ClientCertificate, SessionContext

__all__ = ["FetchedMessage", "ImapMailbox"]

_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")
_FETCH_UID = re.compile(rb"UID (\d+)")


@attrs.define
class _Opening:
    """How far opening a session went, which tells what a failure then means."""

    reached: bool = False
    """The TCP connection is made."""
    secured: bool = False
    """TLS from the first byte is up (the handshake is over on this side)."""


class _Imap(imaplib.IMAP4):
    """imaplib's client, whose literals (the messages, and anything a server sends as ``{n}``) are bounded, and
    whose socket is followed by a :class:`~mssante.transport._deadline.Watchdog` from its creation to its closing.

    imaplib connects and reads the greeting in its constructor: the watchdog is there before.
    """

    max_literal = 0
    """The largest literal read; a larger one ends the session before any of it is read."""

    def __init__(self, host: str, port: int, *, timeout: float, watchdog: Watchdog, opening: _Opening) -> None:
        self.watchdog = watchdog
        self.opening = opening
        super().__init__(host, port, timeout=timeout)

    def open(self, host: str = "", port: int = 143, timeout: float | None = None) -> None:
        super().open(host, port, timeout)
        self.opening.reached = True
        self.watchdog.follow(self.sock)

    def read(self, size: int) -> bytes:
        if size > self.max_literal:
            raise self.abort(f"the server announced {size} bytes, over the {self.max_literal} bytes a message may be")
        return super().read(size)

    def shutdown(self) -> None:
        self.watchdog.forget()
        super().shutdown()


class _ImapTls(imaplib.IMAP4_SSL, _Imap):
    """The same, over TLS from the first byte (the handshake watched)."""

    def __init__(
        self, host: str, port: int, *, context: ssl.SSLContext, timeout: float, watchdog: Watchdog, opening: _Opening
    ) -> None:
        self.watchdog = watchdog
        self.opening = opening
        # IMAP4_SSL only calls the context's wrap_socket: the stand-in follows the TLS socket before its handshake
        watched = cast(ssl.SSLContext, _Progressing(WatchedContext(context, watchdog), opening))
        imaplib.IMAP4_SSL.__init__(self, host, port, ssl_context=watched, timeout=timeout)


class _Progressing:
    """Stands in for the context of TLS from the first byte: notes that the TCP connection was made (the socket
    to wrap is connected) and that the handshake is over."""

    def __init__(self, context: WatchedContext, opening: _Opening) -> None:
        self._context = context
        self._opening = opening

    def wrap_socket(self, sock: socket.socket, server_hostname: str) -> ssl.SSLSocket:
        self._opening.reached = True
        tls = self._context.wrap_socket(sock, server_hostname)
        self._opening.secured = True
        return tls


def _shutdown(imap: _Imap) -> None:
    """Close the connection whatever its state (a failed STARTTLS leaves a detached socket)."""
    imap.watchdog.forget()
    with contextlib.suppress(OSError):
        imap.shutdown()
    with contextlib.suppress(OSError):
        imap.sock.close()


def _uidvalidity(imap: imaplib.IMAP4) -> str | None:
    """The UIDVALIDITY the server announced at SELECT, None when it did not."""
    _, values = imap.response("UIDVALIDITY")
    for value in values or ():
        text = value.decode("ascii", "replace") if isinstance(value, bytes) else str(value)
        if UIDVALIDITY.fullmatch(text):
            return text
    return None


class ImapMailbox(SessionContext, MailboxSession[Callable[[], str]]):
    """An IMAP session to an MSSanté operator's mailbox, sync.

    ``client_certificate`` authenticates this side in TLS (same forms as for :class:`Submission`);
    authentication is XOAUTH2 when ``token`` is given (a callable returning a fresh Pro Santé Connect
    access token, called at each authentication and never kept), LOGIN with ``password``, or EXTERNAL with
    ``external=True`` (the server maps the client certificate to the mailbox; no authorisation identity is
    sent, ``username`` only names the session in the audit events). Port 143
    uses STARTTLS (required); ``implicit_tls=True`` (port 993) speaks TLS from the first byte. ``at``
    and ``revocation`` are as for :class:`Submission`. ``max_bytes`` bounds a message (``RFC822.SIZE``
    is checked before the message is fetched); ``limits`` are given to :func:`mssante.message.parse`.
    ``timeout`` bounds each read and write; ``max_duration`` each operation as a whole: opening the session
    (connection, greeting, STARTTLS or TLS, the server certificate and its CRLs, login, SELECT), each of
    :meth:`unseen`, :meth:`fetch`, :meth:`mark_seen`, :meth:`delete`, :meth:`move`, and LOGOUT (at most
    ``timeout``): past it the connection is dropped and :class:`~mssante.errors.TransportError` says so.

    Use as a context manager: the connection is opened and the folder selected on entry (or by
    :meth:`connect`), logged out on exit. Any failure raises :class:`~mssante.errors.TransportError`
    with the server's answer (never the token nor the password).
    """

    def __init__(
        self,
        host: str,
        port: int | None = None,
        *,
        store: TrustStore,
        client_certificate: ClientCertificate | None = None,
        username: str | None = None,
        token: Callable[[], str] | None = None,
        password: str | None = None,
        external: bool = False,
        implicit_tls: bool = False,
        folder: str = "INBOX",
        at: dt.datetime | None = None,
        revocation: Revocation = RevocationMode.HARD,
        timeout: float = 30.0,
        max_bytes: int | None = None,
        limits: MimeLimits | None = None,
        max_duration: float = DEFAULT_MAX_DURATION,
    ) -> None:
        super().__init__(
            host, port, store=store, client_certificate=client_certificate, username=username, token=token,
            password=password, external=external, implicit_tls=implicit_tls, folder=folder, at=at,
            revocation=revocation, timeout=timeout, max_bytes=max_bytes, limits=limits, max_duration=max_duration,
        )  # fmt: skip
        self._imap: _Imap | None = None

    def __repr__(self) -> str:
        state = "connected" if self._imap is not None else "not connected"
        return f"ImapMailbox({self.host!r}, {self.port}, user={self.username!r}, folder={self.folder!r}, {state})"

    # --- the session ------------------------------------------------------------------------------------

    def connect(self) -> None:
        """Open, secure, authenticate and select the folder; nothing when already open."""
        self._check_open()
        if self._imap is None:
            self._imap = self._open()

    def close(self) -> None:
        """LOGOUT and close (nothing is expunged); the next use reconnects."""
        imap, self._imap = self._imap, None
        if imap is None:
            return
        try:
            with imap.watchdog.bound(min(self._timeout, self.max_duration)):
                imap.logout()
        except (imaplib.IMAP4.error, OSError):
            _shutdown(imap)
        except BaseException:
            _shutdown(imap)
            raise
        _audit.quit(self.server)

    def _drop(self) -> None:
        imap: _Imap | None = getattr(self, "_imap", None)  # None too when ended before it was built
        if imap is not None and getattr(imap, "sock", None) is not None:
            _shut(imap.sock)

    def _reset(self, reason: str) -> None:
        imap, self._imap = self._imap, None
        if imap is not None:
            with contextlib.suppress(OSError):
                _shutdown(imap)
            _audit.reset(self.server, reason=reason)

    def _open(self) -> _Imap:
        """A session connected, secured, authenticated and selected within ``max_duration``; closed on failure."""
        watchdog = Watchdog()
        with watchdog.bound(self.max_duration):
            imap = self._connected(watchdog)
            try:
                self._establish(imap)
                watchdog.check()
            except BaseException as error:
                _shutdown(imap)
                if watchdog.expired:
                    raise self._deadline("opening the session") from None
                if isinstance(error, ssl.SSLCertVerificationError):
                    raise self._handshake_refused(error) from None
                if isinstance(error, ssl.SSLError):
                    raise self._tls_failed(error) from None
                if isinstance(error, (imaplib.IMAP4.error, OSError)):
                    raise self._cannot_open(self._scrub(str(error))) from None
                raise
        return imap

    def _connected(self, watchdog: Watchdog) -> _Imap:
        """Connected and greeted (TLS up with ``implicit_tls``)."""
        opening = _Opening()
        try:
            if self.implicit_tls:
                imap: _Imap = _ImapTls(
                    self.host, self.port, context=self._context, timeout=self._timeout, watchdog=watchdog,
                    opening=opening,
                )  # fmt: skip
            else:
                imap = _Imap(self.host, self.port, timeout=self._timeout, watchdog=watchdog, opening=opening)
        except (ssl.SSLError, imaplib.IMAP4.error, OSError) as error:  # imaplib has closed the socket
            if watchdog.expired:
                raise self._deadline("opening the session") from None
            if isinstance(error, ssl.SSLCertVerificationError):
                raise self._handshake_refused(error) from None
            if opening.secured:  # TLS was up, and the server ended the session before its greeting
                raise self._client_refused(self._scrub(str(error)) or type(error).__name__) from None
            if isinstance(error, ssl.SSLError):
                raise self._tls_failed(error) from None
            if not opening.reached:
                raise self._failure(codes.UNREACHABLE, f"cannot connect to {self.server}: {error}") from None
            message = f"{self.server} did not greet: {self._scrub(str(error))}"
            raise self._failure(codes.NO_GREETING, message) from None
        _audit.connect(self.host, self.port, code=0, reply=_text(imap.welcome))
        imap.max_literal = self.max_bytes  # what fetch() refuses when announced, it never reads either
        # imaplib sends a SASL response and its CRLF in two writes: without this the second waits for the
        # server's delayed ACK (about 40 ms at each login).
        with contextlib.suppress(OSError):
            imap.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return imap

    def _establish(self, imap: _Imap) -> None:
        if not self.implicit_tls:
            if "STARTTLS" not in imap.capabilities:
                raise self._no_starttls()
            self._starttls(imap)
        self._check_server(imap)
        self._authenticate(imap)
        selected = imap.select(_quote(self.folder))
        if selected[0] != "OK":
            raise self._select_refused(f"{selected[0]} {_text(selected[1])}")
        self._uidvalidity = _uidvalidity(imap)

    def _starttls(self, imap: _Imap) -> None:
        """STARTTLS, the handshake watched, then CAPABILITY under TLS (imaplib's ``starttls``)."""
        try:
            # imaplib only calls the context's wrap_socket: the stand-in follows the TLS socket before its handshake
            typ, data = imap.starttls(ssl_context=WatchedContext(self._context, imap.watchdog))
        except (imaplib.IMAP4.error, OSError) as error:
            if imap.watchdog.expired:
                raise
            if isinstance(imap.sock, ssl.SSLSocket):  # TLS was up, and no answer came under TLS
                raise self._client_refused(self._scrub(str(error)) or type(error).__name__) from None
            if type(error) is imaplib.IMAP4.error:  # imaplib's "Couldn't establish TLS session": not OK
                raise self._failure(codes.STARTTLS_REFUSED, f"{self.server} refused STARTTLS: {error}") from None
            raise
        if typ != "OK":  # pragma: no cover - imaplib raises on a refusal
            raise self._failure(codes.STARTTLS_REFUSED, f"{self.server} refused STARTTLS: {typ} {_text(data)}")

    def _check_server(self, imap: _Imap) -> None:
        sock = imap.sock
        if not isinstance(sock, ssl.SSLSocket):  # pragma: no cover - starttls() always wraps the socket
            raise self._failure(codes.TLS_FAILED, f"the connection to {self.server} is not encrypted")
        at = self._now()
        checker, notes = checker_of(self._revocation, sock, store=self._store, at=at)
        imap.watchdog.check()  # fetching the CRLs took the time left: the server is not judged
        judge_server(
            sock, server=self.server, host=self.host, store=self._store, at=at, revocation=checker, notes=notes
        )

    def _authenticate(self, imap: _Imap) -> None:
        mechanism = self._mechanism()
        self._check_login(mechanism, imap.capabilities, preauthenticated=imap.state != "NONAUTH")
        if mechanism is None:
            return
        secrets: tuple[str, ...] = ()
        try:
            if self._token is not None:
                text, secrets = self._initial_response(self._token())
                initial = text.encode()
                sent = False

                def respond(challenge: bytes) -> bytes:
                    nonlocal sent
                    if sent:  # a challenge after the credentials is the server's error detail: end the exchange
                        return b""
                    sent = True
                    return initial

                imap.authenticate("XOAUTH2", respond)
                del text, initial
            elif self._external:
                imap.authenticate("EXTERNAL", lambda challenge: b"")  # an empty authorisation identity
            else:
                assert self._password is not None
                assert self.username is not None
                try:
                    imap.login(self.username, self._password)
                finally:  # imaplib keeps its last commands (LOGIN and the password) in a debug history
                    history = getattr(imap, "_cmd_log", None)
                    if isinstance(history, dict):
                        history.clear()
        except imaplib.IMAP4.abort as error:
            raise self._login_failed(mechanism, self._scrub(str(error), secrets), closed=True) from None
        except imaplib.IMAP4.error as error:
            raise self._login_failed(mechanism, self._scrub(str(error), secrets), closed=False) from None
        _audit.authenticate(self.server, mechanism=mechanism, user=self.username, ok=True)

    # --- commands ---------------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _operation(self) -> Iterator[_Imap]:
        """The open session (opened if need be), for one operation of at most ``max_duration``.

        Past the deadline the connection is shut: the operation fails (its command says so) or, when its answer
        came just in time, the connection is dropped after it and the next operation reconnects.
        """
        self.connect()
        imap = self._imap
        assert imap is not None
        try:
            with imap.watchdog.bound(self.max_duration):
                yield imap
        finally:
            if imap.watchdog.expired and self._imap is imap:
                self._reset(deadline_passed(self.server, self.max_duration, "waiting for the server"))

    def _lost(self, imap: _Imap, command: str, error: Exception) -> TransportError:
        """The error for ``command`` that failed with ``error`` (the connection reset when it is lost)."""
        if imap.watchdog.expired:
            failure = self._deadline(command)
            self._reset(str(failure))
            return failure
        if isinstance(error, imaplib.IMAP4.abort):
            self._reset(f"connection lost: {error}")
            message = f"{self.server} dropped the connection during {command}: {error}"
            return self._failure(codes.COMMAND_FAILED, message)
        if isinstance(error, OSError):
            self._reset(f"connection lost: {error}")
        return self._refused(command, str(error))

    def _uid(self, imap: _Imap, command: str, *args: str) -> list[object]:
        """``UID <command> ...`` in the open session: its untagged data, or TransportError with the answer."""
        try:
            typ, data = imap.uid(command, *args)
        except (imaplib.IMAP4.error, OSError) as error:
            raise self._lost(imap, f"UID {command}", error) from None
        if typ != "OK":
            raise self._refused(f"UID {command}", f"{typ} {_text(data)}")
        return list(data)

    def _simple(self, imap: _Imap, command: str) -> None:
        try:
            typ, data = getattr(imap, command.lower())()
        except (imaplib.IMAP4.error, OSError) as error:
            raise self._lost(imap, command, error) from None
        if typ != "OK":
            raise self._refused(command, f"{typ} {_text(data)}")

    def unseen(self) -> list[str]:
        """The UIDs of the messages not yet seen in the folder, in the server's order."""
        with self._operation() as imap:
            data = self._uid(imap, "SEARCH", "UNSEEN")
        return [uid for item in data if isinstance(item, bytes) for uid in item.decode("ascii").split()]

    @property
    def uidvalidity(self) -> str | None:
        """The folder's UIDVALIDITY as announced at SELECT; None before the session opens or when none was."""
        return self._uidvalidity

    def fetch(self, uid: str) -> FetchedMessage:
        """Read one message without marking it seen (``BODY.PEEK[]``) and parse it.

        Refuses a message whose ``RFC822.SIZE`` is over ``max_bytes`` before reading its content. A message that
        cannot be parsed raises :class:`~mssante.errors.InvalidInput`: :meth:`fetch_raw` still gives its bytes.
        """
        return self._message(*self._read(uid))

    def fetch_raw(self, uid: str) -> bytes:
        """The exact bytes of one message, not parsed and not marked seen (``BODY.PEEK[]``), bounded as by fetch."""
        return self._read(uid)[1]

    def _read(self, uid: str) -> tuple[str, bytes, tuple[str, ...]]:
        uid = _check_uid(uid)
        with self._operation() as imap:
            raw, flags = self._fetch(imap, uid)
        self._received(uid, raw)
        return uid, raw, flags

    def _fetch(self, imap: _Imap, uid: str) -> tuple[bytes, tuple[str, ...]]:
        """The bytes and the flags of message ``uid``, its size checked first."""
        head = [item for item in self._uid(imap, "FETCH", uid, "(RFC822.SIZE FLAGS)") if isinstance(item, bytes)]
        if not head:
            raise self._unavailable(uid)
        size_match = _SIZE.search(head[0])
        if size_match is None:
            raise self._unavailable(uid, size=True)
        flags = tuple(flag.decode("ascii", "replace") for flag in imaplib.ParseFlags(head[0]))
        self._check_size(uid, int(size_match.group(1)))
        raw: bytes | None = None
        for item in self._uid(imap, "FETCH", uid, "(BODY.PEEK[])"):
            if isinstance(item, tuple) and len(item) == 2 and b"BODY[]" in item[0]:
                match = _FETCH_UID.search(item[0])
                if match is None or match.group(1).decode() == uid:
                    raw = bytes(item[1])
                    break
        if raw is None:
            raise self._no_content(uid)
        return raw, flags

    def mark_seen(self, uid: str) -> None:
        """Set ``\\Seen`` on a message."""
        uid = _check_uid(uid)
        with self._operation() as imap:
            self._uid(imap, "STORE", uid, "+FLAGS", "(\\Seen)")

    def delete(self, uid: str) -> None:
        """Delete a message now: ``\\Deleted`` then EXPUNGE (only when called: fetch never deletes)."""
        uid = _check_uid(uid)
        with self._operation() as imap:
            self._uid(imap, "STORE", uid, "+FLAGS", "(\\Deleted)")
            self._simple(imap, "EXPUNGE")
        self._audit_removal("delete", uid)

    def move(self, uid: str, folder: str) -> None:
        """Move a message to ``folder``: UID MOVE when offered, else COPY, ``\\Deleted`` and EXPUNGE."""
        uid = _check_uid(uid)
        target = _quote(folder)
        with self._operation() as imap:
            if "MOVE" in imap.capabilities:
                self._uid(imap, "MOVE", uid, target)
            else:
                self._uid(imap, "COPY", uid, target)
                self._uid(imap, "STORE", uid, "+FLAGS", "(\\Deleted)")
                self._simple(imap, "EXPUNGE")
        self._audit_removal("move", uid, folder=folder)

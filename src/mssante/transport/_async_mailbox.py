"""AsyncMailbox: the asyncio twin of :class:`~mssante.transport.ImapMailbox`, over the SDK's own IMAP reader.

The session is built in the same fixed order and refuses the same shortcuts: CAPABILITY, STARTTLS (required: a
server that does not offer it is refused; no plain-text fallback) or TLS from the first byte on port 993, the server
certificate judged by :func:`mssante.pki.check_peer` (through the same code as the sync class), then AUTHENTICATE
XOAUTH2, EXTERNAL or LOGIN, then SELECT. Nothing is marked, moved or deleted unless asked: :meth:`AsyncMailbox.fetch`
reads with ``BODY.PEEK[]``.

It speaks IMAP itself, over an :class:`asyncio.Protocol`, rather than through an async IMAP library: the maintained
one, ``aioimaplib`` (2.0), has no STARTTLS (upgrading the connection it opened, with the caller's
:class:`ssl.SSLContext`), and reads a literal of any announced size, and a line of any length, into memory. Here the
bytes go into :class:`~mssante.transport._imap_reader.Reader`, which refuses a literal over ``max_bytes`` when it is
announced (none of it is read: the connection is dropped), and bounds every line and response; STARTTLS upgrades the
same connection with :meth:`asyncio.loop.start_tls`, after checking that the server sent nothing past its answer
(bytes sent in clear before the handshake would be read as if they came under TLS).

Each operation (opening the session, each of :meth:`~AsyncMailbox.unseen`, :meth:`~AsyncMailbox.fetch`,
:meth:`~AsyncMailbox.mark_seen`, :meth:`~AsyncMailbox.delete`, :meth:`~AsyncMailbox.move`) runs under
:func:`asyncio.wait_for` with ``max_duration``, and each read waits at most ``timeout``: past the deadline the
operation is cancelled (an awaited CRL download too), the connection aborted and the next operation reconnects.
Closing waits until the socket is closed, so that leaving ``asyncio.run`` right after leaves nothing open.
"""

from __future__ import annotations

import asyncio
import base64
import collections
import datetime as dt
import ssl
from collections.abc import Awaitable, Callable
from typing import TypeVar

from mssante.errors import TransportError
from mssante.message import MimeLimits
from mssante.pki import RevocationMode, TrustStore
from mssante.transport import _audit, codes
from mssante.transport._deadline import DEFAULT_MAX_DURATION, deadline_passed
from mssante.transport._imap import UIDVALIDITY, FetchedMessage, MailboxSession, check_uid, quote_folder
from mssante.transport._imap_reader import (
    ProtocolViolation,
    Reader,
    Response,
    Status,
    Value,
    capabilities,
    fetch_items,
    status,
    values,
)
from mssante.transport._peer import Revocation, async_checker_of, judge_server
from mssante.transport._session import AsyncSessionContext, ClientCertificate

__all__ = ["AsyncMailbox"]

T = TypeVar("T")

_CLOSE_GRACE = 5.0
"""Seconds a server gets to answer the TLS shutdown (and LOGOUT) before the connection is aborted."""
_QUEUED = 64
"""Responses kept waiting before the connection stops being read (until they are taken)."""
_ANSWER_RESPONSES = 100_000
"""Untagged responses one command may receive before its answer."""
_CONTINUATIONS = 4
"""Continuation requests one authentication may receive."""


class _Lost(Exception):
    """The connection cannot be used further: closed, timed out, or what came broke the protocol or a bound."""

    def __init__(self, detail: str, cause: BaseException | None = None) -> None:
        super().__init__(detail)
        self.cause = cause


class _Wire(asyncio.Protocol):
    """One connection: the bytes go into a :class:`Reader`, the responses wait in a queue until taken."""

    def __init__(self, reader: Reader, loop: asyncio.AbstractEventLoop) -> None:
        self.reader = reader
        self.loop = loop
        self.transport: asyncio.Transport | None = None
        self.raw: asyncio.Transport | None = None
        self.responses: collections.deque[Response] = collections.deque()
        self.broken: _Lost | None = None
        self.gone: asyncio.Future[None] = loop.create_future()
        self._waiter: asyncio.Future[bool] | None = None
        self._paused = False

    # --- asyncio.Protocol -----------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = self.raw = transport

    def data_received(self, data: bytes) -> None:
        if self.broken is not None:
            return
        try:
            self.responses.extend(self.reader.feed(data))
        except ProtocolViolation as violation:
            self.broken = _Lost(str(violation), violation)
            self.abort()
        if len(self.responses) >= _QUEUED and not self._paused and self.transport is not None:
            self._paused = True
            self.transport.pause_reading()
        self._wake()

    def eof_received(self) -> bool:
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        if self.broken is None:
            detail = f"{type(exc).__name__}: {exc}" if exc is not None else "the server closed the connection"
            self.broken = _Lost(detail, exc)
        if not self.gone.done():
            self.gone.set_result(None)
        self._wake()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(True)

    # --- the session's side ---------------------------------------------------------------------------

    async def response(self, timeout: float) -> Response:
        """The next response; :class:`_Lost` when the connection ends first or nothing comes in ``timeout``."""
        while not self.responses:
            if self.broken is not None:
                raise self.broken
            # a plain future and a timer, not wait_for: a cancellation (the deadline) is never taken for an answer
            waiter = self._waiter = self.loop.create_future()
            timer = self.loop.call_later(timeout, _expire, waiter)
            try:
                woken = await waiter
            finally:
                timer.cancel()
                self._waiter = None
            if not woken:
                raise _Lost(f"no answer in {timeout:g} s")
        response = self.responses.popleft()
        if self._paused and len(self.responses) < _QUEUED // 2 and self.transport is not None:
            self._paused = False
            self.transport.resume_reading()
        return response

    def write(self, data: bytes) -> None:
        if self.broken is not None:
            raise self.broken
        assert self.transport is not None
        self.transport.write(data)

    def quiet(self) -> bool:
        """True when nothing was received past the last response taken."""
        return not self.responses and self.reader.buffered == 0

    def abort(self) -> None:
        """Drop the connection now (no TLS shutdown)."""
        for transport in (self.transport, self.raw):
            if transport is not None:
                transport.abort()

    async def _closed(self, grace: float) -> bool:
        """Wait at most ``grace`` seconds for the socket to be closed; whether it is.

        The connection is lost for this protocol once the socket is closed; but during a TLS handshake, asyncio
        does not say so: the socket of the connection is then looked at.
        """
        deadline = self.loop.time() + grace
        while not self.gone.done() and not _socket_closed(self.raw):
            left = deadline - self.loop.time()
            if left <= 0:
                return False
            await asyncio.wait({self.gone}, timeout=min(left, 0.01))
        return True

    async def close(self, grace: float, *, at_once: bool = False) -> None:
        """Close (or abort) the connection and return once its socket is closed; abort after ``grace`` seconds."""
        try:
            if at_once:
                self.abort()
            elif self.transport is not None and not self.transport.is_closing():
                self.transport.close()
            if not await self._closed(grace):
                self.abort()
                await self._closed(grace)
        except BaseException:  # cancelled while waiting: the connection still goes
            self.abort()
            raise
        finally:
            if self.raw is not None and not self.raw.is_closing():
                self.raw.abort()
        for _ in range(2):  # the transports close their sockets at the next turns of the event loop
            await asyncio.sleep(0)


class AsyncMailbox(AsyncSessionContext, MailboxSession[Callable[[], str | Awaitable[str]]]):
    """An async IMAP session to an MSSanté operator's mailbox.

    The arguments are those of :class:`~mssante.transport.ImapMailbox`; ``token`` may also be an async callable (or
    return an awaitable). Use as ``async with``: the connection is opened and the folder selected on entry (or by
    :meth:`connect`, or at the first use), logged out on exit, and :meth:`close` returns once the socket is closed.
    Operations on one session are serialised; open several sessions to read in parallel. The errors, finding codes
    and audit events are those of the sync class.
    """

    def __init__(
        self,
        host: str,
        port: int | None = None,
        *,
        store: TrustStore,
        client_certificate: ClientCertificate | None = None,
        username: str | None = None,
        token: Callable[[], str | Awaitable[str]] | None = None,
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
            asynchronous=True,
        )  # fmt: skip
        self._grace = min(timeout, _CLOSE_GRACE)
        self._wire: _Wire | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._capabilities: frozenset[str] = frozenset()
        self._tags = 0
        self._doing = ""

    def __repr__(self) -> str:
        state = "connected" if self._wire is not None else "not connected"
        return f"AsyncMailbox({self.host!r}, {self.port}, user={self.username!r}, folder={self.folder!r}, {state})"

    # --- the session ------------------------------------------------------------------------------------

    async def connect(self) -> None:
        """Open, secure, authenticate and select the folder now; nothing when already open."""
        self._check_open()
        async with self._session_lock():
            await self._connect()

    async def close(self) -> None:
        """LOGOUT and close (nothing is expunged), and return once the socket is closed; the next use reconnects."""
        async with self._session_lock():
            wire, self._wire = self._wire, None
            if wire is None:
                return
            try:
                await asyncio.wait_for(self._command(wire, "LOGOUT"), min(self._timeout, self.max_duration))
            except (asyncio.TimeoutError, _Lost, ProtocolViolation):
                await wire.close(self._grace, at_once=True)
            except BaseException:
                wire.abort()
                raise
            else:
                await wire.close(self._grace)
            _audit.quit(self.server)

    def _drop(self) -> None:
        """Abort the connection without blocking, from any thread (the token source ended)."""
        wire, loop = self._wire, self._loop
        if wire is None or loop is None:
            return
        try:
            loop.call_soon_threadsafe(wire.abort)
        except RuntimeError:  # the event loop is closed: so is its connection
            return

    async def _connect(self) -> _Wire:
        wire = self._wire
        if wire is not None and wire.broken is not None:  # the server closed it between two operations
            self._wire = None
            await wire.close(self._grace, at_once=True)
            _audit.reset(self.server, reason=f"connection lost: {wire.broken}")
            wire = None
        if wire is None:
            wire = self._wire = await self._open()
        return wire

    async def _reset(self, reason: str, *, at_once: bool = True) -> None:
        wire, self._wire = self._wire, None
        if wire is not None:
            await wire.close(self._grace, at_once=at_once)
            _audit.reset(self.server, reason=reason)

    async def _open(self) -> _Wire:
        """A session connected, secured, authenticated and selected within ``max_duration``; closed on failure."""
        opened: list[_Wire] = []
        try:
            return await asyncio.wait_for(self._opening(opened), self.max_duration)
        except asyncio.TimeoutError:
            pass
        except BaseException:
            for wire in opened:
                wire.abort()
            raise
        for wire in opened:  # cancelled past the deadline: aborted, and waited for
            await wire.close(self._grace, at_once=True)
        raise self._deadline("opening the session")

    async def _opening(self, opened: list[_Wire]) -> _Wire:
        loop = self._loop = asyncio.get_running_loop()
        wire = _Wire(Reader(max_literal=self.max_bytes), loop)
        try:
            await loop.create_connection(lambda: wire, self.host, self.port)
        except OSError as error:
            raise self._failure(codes.UNREACHABLE, f"cannot connect to {self.server}: {error}") from None
        opened.append(wire)
        try:
            greeting = await self._greeted(wire)
            _audit.connect(self.host, self.port, code=0, reply=greeting.lines[0].decode("utf-8", "replace"))
            await self._establish(wire, greeting)
            self._check_open()  # the token source ended while the session was being opened
        except TransportError:
            await wire.close(self._grace, at_once=True)
            raise
        except (_Lost, ProtocolViolation) as error:
            await wire.close(self._grace, at_once=True)
            raise self._cannot_open(self._scrub(str(error))) from None
        except BaseException:
            wire.abort()
            raise
        return wire

    async def _greeted(self, wire: _Wire) -> Response:
        """The greeting (TLS up first with ``implicit_tls``)."""
        if self.implicit_tls:
            await self._secure(wire, greeted=False)
        try:
            greeting = await wire.response(self._timeout)
        except _Lost as error:
            if self.implicit_tls:  # TLS was up, and the server ended the session before its greeting
                raise self._refused_under_tls(error) from None
            raise self._failure(codes.NO_GREETING, f"{self.server} did not greet: {self._scrub(str(error))}") from None
        said = status(greeting)
        if said is None or said.tag != "*" or said.kind not in ("OK", "PREAUTH"):
            if self.implicit_tls and said is not None and said.kind == "BYE":
                raise self._client_refused(self._scrub(str(said)))
            message = f"{self.server} did not greet: {self._scrub(greeting.text)}"
            raise self._failure(codes.NO_GREETING, message)
        return greeting

    def _refused_under_tls(self, error: _Lost) -> TransportError:
        """The error for a server that ended the session, under TLS, before any answer."""
        if isinstance(error.cause, ssl.SSLError):
            return self._tls_failed(error.cause, secured=True)
        return self._client_refused(self._scrub(str(error)))

    async def _establish(self, wire: _Wire, greeting: Response) -> None:
        said = status(greeting)
        assert said is not None
        self._capabilities = await self._capabilities_of(wire, said)
        if not self.implicit_tls:
            if "STARTTLS" not in self._capabilities:
                raise self._no_starttls()
            done, _ = await self._command(wire, "STARTTLS")
            if done.kind != "OK":
                raise self._failure(codes.STARTTLS_REFUSED, f"{self.server} refused STARTTLS: {self._scrub(str(done))}")
            await self._secure(wire, greeted=True)
            try:
                self._capabilities = await self._capabilities_of(wire, None)
            except _Lost as error:  # TLS was up, and no answer came under TLS
                raise self._refused_under_tls(error) from None
        await self._check_server(wire)
        await self._authenticate(wire, preauthenticated=said.kind == "PREAUTH")
        selected, untagged = await self._command(wire, "SELECT", quote_folder(self.folder))
        if selected.kind != "OK":
            raise self._select_refused(self._scrub(str(selected)))
        self._uidvalidity = _uidvalidity(untagged)

    async def _capabilities_of(self, wire: _Wire, greeting: Status | None) -> frozenset[str]:
        """The capabilities of the greeting's response code, or else those CAPABILITY gives."""
        if greeting is not None and greeting.code is not None and greeting.code.upper().startswith("CAPABILITY "):
            return capabilities(greeting.code[len("CAPABILITY ") :])
        done, untagged = await self._command(wire, "CAPABILITY")
        if done.kind != "OK":
            raise _Lost(f"CAPABILITY answered {done}")
        found: set[str] = set()
        for response in untagged:
            data = values(response)
            if len(data) > 1 and isinstance(data[1], str) and data[1].upper() == "CAPABILITY":
                found.update(item.upper() for item in data[2:] if isinstance(item, str))
        return frozenset(found)

    async def _secure(self, wire: _Wire, *, greeted: bool) -> None:
        """TLS over the connection, with the session's context: STARTTLS, or TLS from the first byte."""
        if not wire.quiet() and greeted:  # bytes sent in clear past the STARTTLS answer: read as if under TLS
            message = f"{self.server} sent data after its STARTTLS answer, before the TLS handshake: refused"
            raise self._failure(codes.CLOSED, message)
        if not wire.quiet():  # TLS from the first byte, and the server spoke in clear
            raise self._failure(codes.TLS_FAILED, f"TLS with {self.server} failed: it spoke in clear on its TLS port")
        assert wire.transport is not None
        try:
            secured = await wire.loop.start_tls(wire.transport, wire, self._context, server_hostname=self.host)
        except ssl.SSLCertVerificationError as error:
            raise self._handshake_refused(error) from None
        except ssl.SSLError as error:
            raise self._tls_failed(error) from None
        except (OSError, EOFError, RuntimeError) as error:  # RuntimeError: the connection was closed meanwhile
            if greeted:
                raise _Lost(f"TLS handshake: {type(error).__name__}: {error}", error) from None
            message = f"{self.server} did not greet: {self._scrub(str(error)) or type(error).__name__}"
            raise self._failure(codes.NO_GREETING, message) from None
        if secured is None:  # pragma: no cover - the connection was lost during the handshake
            raise _Lost("the connection was lost during the TLS handshake")
        wire.transport = secured

    async def _check_server(self, wire: _Wire) -> None:
        assert wire.transport is not None
        tls = wire.transport.get_extra_info("ssl_object")
        if not isinstance(tls, ssl.SSLObject | ssl.SSLSocket):  # pragma: no cover - TLS is up here
            raise self._failure(codes.TLS_FAILED, f"the connection to {self.server} is not encrypted")
        at = self._now()
        checker, notes = await async_checker_of(self._revocation, tls, store=self._store, at=at)
        judge_server(tls, server=self.server, host=self.host, store=self._store, at=at, revocation=checker, notes=notes)

    async def _authenticate(self, wire: _Wire, *, preauthenticated: bool) -> None:
        mechanism = self._mechanism()
        self._check_login(mechanism, sorted(self._capabilities), preauthenticated=preauthenticated)
        if mechanism is None:
            return
        secrets: tuple[str, ...] = ()
        try:
            if self._token is not None:
                produced = self._token()
                token = produced if isinstance(produced, str) else await produced
                text, secrets = self._initial_response(token)
                done = await self._sasl(wire, "XOAUTH2", text.encode())
                del text, token
            elif self._external:
                done = await self._sasl(wire, "EXTERNAL", b"")
            else:
                done = await self._login(wire)
        except (_Lost, ProtocolViolation) as error:
            raise self._login_failed(mechanism, self._scrub(str(error), secrets), closed=True) from None
        if done.kind != "OK":
            raise self._login_failed(mechanism, self._scrub(str(done), secrets), closed=False)
        _audit.authenticate(self.server, mechanism=mechanism, user=self.username, ok=True)
        if done.code is not None and done.code.upper().startswith("CAPABILITY "):  # what the login opened
            self._capabilities = capabilities(done.code[len("CAPABILITY ") :])

    async def _sasl(self, wire: _Wire, mechanism: str, response: bytes) -> Status:
        """AUTHENTICATE ``mechanism``, answering the first continuation request with ``response``."""
        tag = self._tag(f"AUTHENTICATE {mechanism}")
        wire.write(f"{tag} AUTHENTICATE {mechanism}\r\n".encode("ascii"))
        sent = 0
        while True:
            answer = await wire.response(self._timeout)
            if answer.tag == "+":
                if sent >= _CONTINUATIONS:
                    raise ProtocolViolation(f"the server asked for more than {_CONTINUATIONS} SASL responses")
                # a challenge after the credentials is the server's error detail: end the exchange (an empty answer)
                wire.write((base64.b64encode(response) if not sent else b"") + b"\r\n")
                sent += 1
                continue
            done = self._completion(answer, tag, "AUTHENTICATE")
            if done is not None:
                return done

    async def _login(self, wire: _Wire) -> Status:
        """LOGIN with the user name and the password (quoted strings, or literals when they cannot be)."""
        assert self.username is not None
        assert self._password is not None
        tag = self._tag("LOGIN")
        pieces = [_astring(self.username), _astring(self._password)]
        line = f"{tag} LOGIN".encode("ascii")
        for piece in pieces:
            if isinstance(piece, bytes):
                line += b" " + piece
                continue
            wire.write(line + b" {%d}\r\n" % len(piece[0]))
            while (answer := await wire.response(self._timeout)).tag != "+":
                done = self._completion(answer, tag, "LOGIN")
                if done is not None:  # refused before the literal was sent
                    return done
            line = piece[0]
        wire.write(line + b"\r\n")
        while True:
            done = self._completion(await wire.response(self._timeout), tag, "LOGIN")
            if done is not None:
                return done

    # --- commands ---------------------------------------------------------------------------------------

    def _tag(self, doing: str) -> str:
        self._tags += 1
        self._doing = doing
        return f"M{self._tags:04d}"

    def _completion(self, answer: Response, tag: str, command: str) -> Status | None:
        """The status of ``answer`` when it completes the command tagged ``tag``; None for an untagged response;
        :class:`_Lost` for a BYE (but to LOGOUT) or a continuation request, ProtocolViolation for a stranger."""
        if answer.tag == "*":
            said = status(answer)
            if said is not None and said.kind == "BYE" and command != "LOGOUT":
                raise _Lost(f"the server said {self._scrub(str(said))}")
            return None
        if answer.tag == "+":
            raise ProtocolViolation(f"the server asked for a continuation during {command}")
        said = status(answer)
        if answer.tag != tag or said is None or said.kind not in ("OK", "NO", "BAD"):
            raise ProtocolViolation(f"the server answered {self._scrub(answer.text[:200])!r} to {tag} {command}")
        return said

    async def _command(self, wire: _Wire, command: str, arguments: str = "") -> tuple[Status, list[Response]]:
        """Send ``command`` and wait for its completion: its status and the untagged responses before it."""
        tag = self._tag(command)
        wire.write(f"{tag} {command}{' ' + arguments if arguments else ''}\r\n".encode())
        untagged: list[Response] = []
        size = 0
        while True:
            answer = await wire.response(self._timeout)
            done = self._completion(answer, tag, command)
            if done is not None:
                return done, untagged
            size += answer.size
            if len(untagged) >= _ANSWER_RESPONSES or size > wire.reader.max_response:
                raise ProtocolViolation(f"the server sent more than a command's answer may be to {command}")
            untagged.append(answer)

    async def _operation(self, work: Callable[[_Wire], Awaitable[T]]) -> T:
        """``work`` in the open session (opened if need be), as one operation of at most ``max_duration``.

        Past the deadline, or when the connection is lost, the connection is dropped and the next operation
        reconnects; a refusal (NO, BAD) leaves it open.
        """
        self._check_open()
        async with self._session_lock():
            wire = await self._connect()
            try:
                return await asyncio.wait_for(work(wire), self.max_duration)
            except asyncio.TimeoutError:
                await self._reset(deadline_passed(self.server, self.max_duration, f"waiting for {self._doing}"))
                self._check_open()
                raise self._deadline(self._doing) from None
            except (_Lost, ProtocolViolation) as error:
                await self._reset(f"connection lost: {error}")
                self._check_open()
                message = f"{self.server} dropped the connection during {self._doing}: {self._scrub(str(error))}"
                raise self._failure(codes.COMMAND_FAILED, message) from None
            except TransportError:
                raise
            except BaseException:  # cancelled: the dialogue cannot be resumed
                self._wire = None
                wire.abort()
                raise

    async def _uid(self, wire: _Wire, command: str, arguments: str) -> list[Response]:
        """``UID <command> ...``: its untagged responses, or TransportError with the server's refusal."""
        done, untagged = await self._command(wire, f"UID {command}", arguments)
        if done.kind != "OK":
            raise self._refused(f"UID {command}", self._scrub(str(done)))
        return untagged

    async def _simple(self, wire: _Wire, command: str) -> None:
        done, _ = await self._command(wire, command)
        if done.kind != "OK":
            raise self._refused(command, self._scrub(str(done)))

    async def unseen(self) -> list[str]:
        """The UIDs of the messages not yet seen in the folder, in the server's order."""

        async def search(wire: _Wire) -> list[str]:
            found: list[str] = []
            for response in await self._uid(wire, "SEARCH", "UNSEEN"):
                data = values(response)
                if len(data) > 1 and isinstance(data[1], str) and data[1].upper() == "SEARCH":
                    found.extend(item for item in data[2:] if isinstance(item, str))
            return found

        return await self._operation(search)

    @property
    def uidvalidity(self) -> str | None:
        """The folder's UIDVALIDITY as announced at SELECT; None before the session opens or when none was."""
        return self._uidvalidity

    async def fetch(self, uid: str) -> FetchedMessage:
        """Read one message without marking it seen (``BODY.PEEK[]``) and parse it.

        Refuses a message whose ``RFC822.SIZE`` is over ``max_bytes`` before reading its content, and a content
        announced over ``max_bytes`` before reading any of it. A message that cannot be parsed raises
        :class:`~mssante.errors.InvalidInput`: :meth:`fetch_raw` still gives its bytes.
        """
        return self._message(*await self._read(uid))

    async def fetch_raw(self, uid: str) -> bytes:
        """The exact bytes of one message, not parsed and not marked seen (``BODY.PEEK[]``), bounded as by fetch."""
        return (await self._read(uid))[1]

    async def _read(self, uid: str) -> tuple[str, bytes, tuple[str, ...]]:
        uid = check_uid(uid)
        raw, flags = await self._operation(lambda wire: self._fetch(wire, uid))
        self._received(uid, raw)
        return uid, raw, flags

    async def _fetch(self, wire: _Wire, uid: str) -> tuple[bytes, tuple[str, ...]]:
        """The bytes and the flags of message ``uid``, its size checked first."""
        head = _fetched(await self._uid(wire, "FETCH", f"{uid} (RFC822.SIZE FLAGS)"), uid, "RFC822.SIZE")
        if head is None:
            raise self._unavailable(uid)
        size = head["RFC822.SIZE"]
        if not isinstance(size, str) or not size.isdigit() or len(size) > 19:
            raise self._unavailable(uid, size=True)
        flags_value = head.get("FLAGS")
        flags = tuple(flag for flag in flags_value if isinstance(flag, str)) if isinstance(flags_value, list) else ()
        self._check_size(uid, int(size))
        body = _fetched(await self._uid(wire, "FETCH", f"{uid} (BODY.PEEK[])"), uid, "BODY[]")
        raw = body["BODY[]"] if body is not None else None
        if not isinstance(raw, bytes):
            raise self._no_content(uid)
        return raw, flags

    async def mark_seen(self, uid: str) -> None:
        """Set ``\\Seen`` on a message."""
        uid = check_uid(uid)

        async def store(wire: _Wire) -> None:
            await self._uid(wire, "STORE", f"{uid} +FLAGS (\\Seen)")

        await self._operation(store)

    async def delete(self, uid: str) -> None:
        """Delete a message now: ``\\Deleted`` then EXPUNGE (only when called: fetch never deletes)."""
        uid = check_uid(uid)

        async def remove(wire: _Wire) -> None:
            await self._uid(wire, "STORE", f"{uid} +FLAGS (\\Deleted)")
            await self._simple(wire, "EXPUNGE")

        await self._operation(remove)
        self._audit_removal("delete", uid)

    async def move(self, uid: str, folder: str) -> None:
        """Move a message to ``folder``: UID MOVE when offered, else COPY, ``\\Deleted`` and EXPUNGE."""
        uid = check_uid(uid)
        target = quote_folder(folder)

        async def transfer(wire: _Wire) -> None:
            if "MOVE" in self._capabilities:
                await self._uid(wire, "MOVE", f"{uid} {target}")
            else:
                await self._uid(wire, "COPY", f"{uid} {target}")
                await self._uid(wire, "STORE", f"{uid} +FLAGS (\\Deleted)")
                await self._simple(wire, "EXPUNGE")

        await self._operation(transfer)
        self._audit_removal("move", uid, folder=folder)


def _expire(waiter: asyncio.Future[bool]) -> None:
    """The read timeout passed: wake the reader up, with nothing."""
    if not waiter.done():
        waiter.set_result(False)


def _socket_closed(transport: asyncio.Transport | None) -> bool:
    """Whether the socket of ``transport`` is closed (or it has none)."""
    sock = transport.get_extra_info("socket") if transport is not None else None
    return sock is None or sock.fileno() == -1


def _astring(text: str) -> bytes | tuple[bytes]:
    """``text`` as an IMAP quoted string, or as the bytes of a literal (in a 1-tuple) when it cannot be quoted."""
    data = text.encode("utf-8")
    if all(0x20 <= byte < 0x7F for byte in data):
        return b'"' + data.replace(b"\\", b"\\\\").replace(b'"', b'\\"') + b'"'
    return (data,)


def _uidvalidity(untagged: list[Response]) -> str | None:
    """The UIDVALIDITY announced at SELECT (``* OK [UIDVALIDITY n]``), None when none was."""
    for response in untagged:
        said = status(response)
        if said is not None and said.code is not None and said.code.upper().startswith("UIDVALIDITY "):
            value = said.code[len("UIDVALIDITY ") :].strip()
            if UIDVALIDITY.fullmatch(value):
                return value
    return None


def _fetched(untagged: list[Response], uid: str, item: str) -> dict[str, Value] | None:
    """The items of the FETCH response for ``uid`` that holds ``item`` (a server may send others unasked)."""
    for response in untagged:
        found = fetch_items(values(response))
        if found is None or item not in found[1]:
            continue
        items = found[1]
        if "UID" not in items or items["UID"] == uid:
            return items
    return None

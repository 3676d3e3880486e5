"""AsyncSubmission: the asyncio twin of :class:`~mssante.transport.Submission`, on ``aiosmtplib`` (the ``async`` extra).

The session is built in the same fixed order: EHLO, STARTTLS (required: a server that does not offer it
is refused), the server certificate checked by :func:`mssante.pki.check_peer` before anything else is
said, EHLO again, then SASL (XOAUTH2, PLAIN or EXTERNAL); only then MAIL, RCPT and DATA. The message
preparation, the per-recipient outcomes and the audit events are those of the sync class.

Closing a session waits until its socket is closed. Closing a TLS transport only starts the TLS
shutdown (a ``close_notify`` each way): the socket is closed a few event-loop turns later. A caller
that leaves ``asyncio.run`` right after would close the loop before that, leaving the socket open
(a ``ResourceWarning`` at garbage collection). So every path that ends a connection, QUIT, a reset
after a 421 or a lost connection, a refusal while opening, waits for the connection to be lost, and
aborts it when the server does not answer the shutdown in time.

Each operation, opening the session and each message's transaction, runs under :func:`asyncio.wait_for` with
``max_duration``: past it the operation is cancelled (an awaited CRL download too), the connection aborted at once
(no TLS shutdown: the server already had its time) and waited for until its socket is closed.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import ssl
from collections.abc import Awaitable, Callable, Sequence
from email.message import EmailMessage

try:
    import aiosmtplib
    from aiosmtplib import (
        SMTPConnectResponseError,
        SMTPDataError,
        SMTPException,
        SMTPHeloError,
        SMTPReadTimeoutError,
        SMTPResponseException,
        SMTPServerDisconnected,
    )
except ImportError as error:  # pragma: no cover - the extra is installed where the tests run
    raise ImportError(
        "AsyncSubmission needs aiosmtplib: pip install 'mssante[async]'", name=error.name, path=error.path
    ) from error

from mssante.errors import TransportError
from mssante.pki import RevocationMode, TrustStore
from mssante.transport import _audit, codes
from mssante.transport._deadline import DEFAULT_MAX_DURATION, deadline_passed
from mssante.transport._peer import Revocation, async_checker_of, judge_server
from mssante.transport._results import Envelope, RecipientResult, SendResult
from mssante.transport._session import AsyncSessionContext, ClientCertificate, ClientSession
from mssante.transport._submission import _prepare
from mssante.transport._transaction import After, Outcome, Transaction

__all__ = ["AsyncSubmission"]

_CLOSE_GRACE = 5.0
"""Seconds a server gets to answer the TLS shutdown before the connection is aborted."""


class _Closing(asyncio.Protocol):
    """Stands in for the protocol of a transport being closed: passes ``connection_lost`` on and says when it came."""

    def __init__(self, former: asyncio.BaseProtocol, gone: asyncio.Future[None]) -> None:
        self._former = former
        self._gone = gone

    def connection_lost(self, exc: Exception | None) -> None:
        if not self._gone.done():
            self._gone.set_result(None)
        self._former.connection_lost(exc)


async def _close_transport(transport: asyncio.Transport | None, grace: float) -> None:
    """Close ``transport`` (if not yet closing) and return once its socket is closed; abort after ``grace`` seconds.

    A transport whose protocol is gone has already had its ``connection_lost``: its socket is closed.
    """
    if transport is None:
        return
    former: asyncio.BaseProtocol | None = transport.get_protocol()  # None once the connection is lost
    if former is None:
        return
    gone: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    transport.set_protocol(_Closing(former, gone))
    try:
        if not transport.is_closing():
            transport.close()
        await asyncio.wait({gone}, timeout=grace)
        if not gone.done():  # the server did not answer the TLS shutdown: drop the connection
            transport.abort()
            await asyncio.wait({gone}, timeout=grace)
    except BaseException:  # cancelled while waiting: the connection still goes
        transport.abort()
        raise


class _Session:
    """An aiosmtplib client and the outermost transport it has used.

    aiosmtplib lets go of its transport when a command fails; the session keeps it so that it can
    still be closed, and waited for.
    """

    __slots__ = ("smtp", "transport")

    def __init__(self, smtp: aiosmtplib.SMTP) -> None:
        self.smtp = smtp
        self.transport: asyncio.Transport | None = None
        self.follow()

    def follow(self) -> None:
        """Take the transport aiosmtplib uses now (the TLS one after STARTTLS), if it still has one."""
        if isinstance(self.smtp.transport, asyncio.Transport):
            self.transport = self.smtp.transport

    async def close(self, grace: float) -> None:
        """Close the connection (without QUIT) and wait until its socket is closed."""
        self.follow()
        self.smtp.close()
        await _close_transport(self.transport, grace)

    def abort(self) -> None:
        """Drop the connection now (a cancelled operation leaves the SMTP dialogue in an unknown state)."""
        self.follow()
        self.smtp.close()
        if self.transport is not None:
            self.transport.abort()

    async def drop(self, grace: float) -> None:
        """Drop the connection now, and wait until its socket is closed."""
        self.abort()
        await _close_transport(self.transport, grace)


class AsyncSubmission(AsyncSessionContext, ClientSession[Callable[[], str | Awaitable[str]]]):
    """An async SMTP submission session to an MSSanté operator, reused for several messages.

    The arguments are those of :class:`~mssante.transport.Submission`; ``token`` may also be an async
    callable (or return an awaitable). Use as ``async with``: the connection is opened at the first
    :meth:`send` and closed on exit, and :meth:`close` returns once the socket is closed. Sends on one
    session are serialised (one SMTP transaction at a time); open several sessions to send in parallel.
    ``max_duration`` bounds opening the session and each transaction as for the sync class.
    """

    def __init__(
        self,
        host: str,
        port: int = 587,
        *,
        store: TrustStore,
        client_certificate: ClientCertificate | None = None,
        username: str | None = None,
        token: Callable[[], str | Awaitable[str]] | None = None,
        password: str | None = None,
        external: bool = False,
        at: dt.datetime | None = None,
        revocation: Revocation = RevocationMode.HARD,
        timeout: float = 30.0,
        local_hostname: str | None = None,
        max_duration: float = DEFAULT_MAX_DURATION,
    ) -> None:
        super().__init__(
            host, port, store=store, client_certificate=client_certificate, username=username, token=token,
            password=password, external=external, at=at, revocation=revocation, timeout=timeout, asynchronous=True,
            max_duration=max_duration,
        )  # fmt: skip
        self._grace = min(timeout, _CLOSE_GRACE)
        self._local_hostname = local_hostname
        self._session: _Session | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def __repr__(self) -> str:
        state = "connected" if self._session is not None else "not connected"
        return f"AsyncSubmission({self.host!r}, {self.port}, user={self.username!r}, {state})"

    # --- the session ------------------------------------------------------------------------------------

    async def connect(self) -> None:
        """Open and secure the session now (entering the ``with`` block does it, or else the first send)."""
        async with self._session_lock():
            await self._connect()

    async def close(self) -> None:
        """QUIT, close, and return once the socket is closed; the next send reconnects."""
        async with self._session_lock():
            session, self._session = self._session, None
            if session is None:
                return
            try:
                await session.smtp.quit()
            except (SMTPException, OSError):
                pass
            except BaseException:
                session.abort()
                raise
            await session.close(self._grace)
            _audit.quit(self.server)

    async def _connect(self) -> aiosmtplib.SMTP:
        self._check_open()
        session = self._session
        if session is not None and not session.smtp.is_connected:  # the server closed it between two sends
            self._session = None
            await session.close(self._grace)
            _audit.reset(self.server, reason="connection closed by the server")
            session = None
        if session is None:
            self._loop = asyncio.get_running_loop()
            session = self._session = await self._open()
        return session.smtp

    def _drop(self) -> None:
        session: _Session | None = getattr(self, "_session", None)  # None too when ended before it was built
        loop: asyncio.AbstractEventLoop | None = getattr(self, "_loop", None)
        if session is None or loop is None:
            return
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            session.abort()
        elif not loop.is_closed():
            loop.call_soon_threadsafe(session.abort)

    async def _reset(self, reason: str, *, at_once: bool = False) -> None:
        session, self._session = self._session, None
        if session is not None:
            await (session.drop(self._grace) if at_once else session.close(self._grace))
            _audit.reset(self.server, reason=reason)

    async def _open(self) -> _Session:
        """A session connected, secured and authenticated within ``max_duration``; closed on any failure."""
        opened: list[_Session] = []
        try:
            return await asyncio.wait_for(self._opening(opened), self.max_duration)
        except asyncio.TimeoutError:
            pass
        for session in opened:  # cancelled past the deadline: aborted, and now waited for
            await session.drop(self._grace)
        await asyncio.sleep(0)  # a connection aiosmtplib closed while connecting: let the event loop close it
        raise self._deadline("opening the session")

    async def _opening(self, opened: list[_Session]) -> _Session:
        smtp = aiosmtplib.SMTP(
            hostname=self.host,
            port=self.port,
            local_hostname=self._local_hostname,
            timeout=self._timeout,
            start_tls=False,
            tls_context=self._context,
        )
        try:
            greeting = await smtp.connect()
        except (SMTPException, OSError) as error:
            # aiosmtplib has closed the connection, if it was made: let the event loop finish closing it
            await asyncio.sleep(0)
            if isinstance(error, SMTPConnectResponseError):
                message = f"{self.server} did not greet: {error.code} {error.message}"
                raise self._failure(codes.NO_GREETING, message) from None
            if isinstance(error, (SMTPServerDisconnected, SMTPReadTimeoutError)):  # connected, and no greeting
                raise self._failure(codes.NO_GREETING, f"{self.server} did not greet: {error}") from None
            raise self._failure(codes.UNREACHABLE, f"cannot connect to {self.server}: {error}") from None
        except BaseException:  # cancelled mid-greeting: some aiosmtplib releases leave the connection open
            smtp.close()
            raise
        session = _Session(smtp)
        opened.append(session)
        _audit.connect(self.host, self.port, code=greeting.code, reply="")
        try:
            await self._establish(session)
        except (TransportError, SMTPException, OSError) as error:
            await session.close(self._grace)
            raise self._opening_failed(error) from None
        except BaseException:
            session.abort()
            raise
        return session

    def _opening_failed(self, error: TransportError | SMTPException | OSError) -> TransportError:
        """What opening the session raises for ``error``."""
        if isinstance(error, TransportError):
            return error
        if isinstance(error, ssl.SSLCertVerificationError):
            return self._handshake_refused(error)
        if isinstance(error, ssl.SSLError):
            return self._tls_failed(error)
        if isinstance(error, SMTPServerDisconnected):
            message = f"{self.server} closed the connection while opening the session: {error}"
            return self._failure(codes.CLOSED, message)
        return self._failure(codes.CLOSED, f"cannot open an SMTP session with {self.server}: {error}")

    async def _establish(self, session: _Session) -> None:
        smtp = session.smtp
        try:
            await smtp.ehlo()
        except SMTPHeloError as error:
            message = f"{self.server} refused EHLO: {error.code} {error.message}"
            raise self._failure(codes.EHLO_REFUSED, message) from None
        if not smtp.supports_extension("starttls"):
            message = f"{self.server} does not offer STARTTLS: MSSanté refuses to send in plain text"
            raise self._failure(codes.NO_STARTTLS, message)
        try:
            await smtp.starttls(tls_context=self._context, server_hostname=self.host)
        except SMTPResponseException as error:
            message = f"{self.server} refused STARTTLS: {error.code} {error.message}"
            raise self._failure(codes.STARTTLS_REFUSED, message) from None
        session.follow()
        await self._check_server(smtp)
        try:
            await smtp.ehlo()
        except SMTPHeloError as error:  # accepted in clear, refused under TLS: what changed is this side's certificate
            message = f"{self.server} refused EHLO after STARTTLS: {error.code} {error.message}"
            raise self._failure(codes.CLIENT_CERTIFICATE_REFUSED, message) from None
        except (SMTPServerDisconnected, ssl.SSLError) as error:  # no answer at all under TLS: refused by the server
            raise self._client_refused(str(error) or type(error).__name__) from None
        await self._authenticate(smtp)

    async def _check_server(self, smtp: aiosmtplib.SMTP) -> None:
        tls = smtp.get_transport_info("ssl_object")
        if not isinstance(tls, ssl.SSLObject | ssl.SSLSocket):  # pragma: no cover - starttls() always wraps
            raise self._failure(codes.TLS_FAILED, f"the connection to {self.server} is not encrypted")
        at = self._now()
        checker, notes = await async_checker_of(self._revocation, tls, store=self._store, at=at)
        judge_server(tls, server=self.server, host=self.host, store=self._store, at=at, revocation=checker, notes=notes)

    async def _authenticate(self, smtp: aiosmtplib.SMTP) -> None:
        mechanism = self._mechanism()
        if mechanism is None:
            return
        offered = smtp.esmtp_extensions.get("auth", "").upper().split()
        if mechanism not in offered:
            message = f"{self.server} does not offer AUTH {mechanism} (offers: {' '.join(offered) or 'none'})"
            raise self._failure(codes.MECHANISM_NOT_OFFERED, message)
        token: str | None = None
        if self._token is not None:
            produced = self._token()
            token = produced if isinstance(produced, str) else await produced
        initial, secrets = self._initial_response(token)
        encoded = base64.b64encode(initial.encode()).decode("ascii")
        reply = await smtp.execute_command(b"AUTH", mechanism.encode("ascii"), (encoded or "=").encode("ascii"))
        if reply.code == 334:  # a challenge after the credentials is the server's error detail: end the exchange
            reply = await smtp.execute_command(b"")
        code, detail = reply.code, self._scrub(reply.message, secrets)
        ok = code in (235, 503)
        _audit.authenticate(self.server, mechanism=mechanism, user=self.username, ok=ok, code=code)
        if not ok:  # with EXTERNAL, the credentials refused are the client certificate
            message = f"{self.server} refused AUTH {mechanism} as {self.username}: {code} {detail}"
            refusal = codes.CLIENT_CERTIFICATE_REFUSED if mechanism == "EXTERNAL" else codes.LOGIN_REFUSED
            raise self._failure(refusal, message)

    # --- sending ----------------------------------------------------------------------------------------

    async def send(
        self, message: EmailMessage | bytes, envelope: Envelope | None = None, *, dsn: bool = False
    ) -> SendResult:
        """Send one message: a :class:`RecipientResult` per recipient (accepted, rejected or deferred).

        As :meth:`Submission.send <mssante.transport.Submission.send>`: the envelope defaults to From and
        To/Cc/Bcc, ``Bcc`` is never transmitted, ``dsn`` asks for delivery status notifications. Raises
        :class:`TransportError` only when the session cannot be opened, secured or authenticated.
        """
        data, message_id, envelope = _prepare(message, envelope)
        async with self._session_lock():
            smtp = await self._connect()
            try:
                results = await self._transaction(smtp, data, message_id, envelope, dsn=dsn)
            except BaseException:  # cancelled mid-transaction: the dialogue cannot be resumed
                session, self._session = self._session, None
                if session is not None:
                    session.abort()
                raise
        result = SendResult(message_id=message_id, server=self.server, recipients=results)
        _audit.send(self.server, message_id=message_id, results=result.recipients)
        return result

    async def send_many(self, messages: Sequence[EmailMessage | bytes]) -> list[SendResult]:
        """Send messages one after the other over one connection (reopened if the server drops it)."""
        return [await self.send(message) for message in messages]

    async def _transaction(
        self, smtp: aiosmtplib.SMTP, data: bytes, message_id: str | None, envelope: Envelope, *, dsn: bool
    ) -> list[RecipientResult]:
        features = {name: str(value) for name, value in smtp.esmtp_extensions.items()}
        exchange = Transaction(data, message_id, envelope, dsn=dsn, features=features, server=self.server)
        if (refused := exchange.refusal()) is not None:
            return refused.results
        try:
            outcome = await asyncio.wait_for(self._exchange(smtp, exchange), self.max_duration)
        except asyncio.TimeoutError:
            reason = deadline_passed(self.server, self.max_duration, "sending the message")
            await self._reset(reason, at_once=True)
            return exchange.lost(f"connection lost: {reason}").results
        if outcome.after is After.RESET:
            await self._reset(outcome.reason)
        elif outcome.after is After.RSET:
            await self._rset(smtp)
        return outcome.results

    async def _exchange(self, smtp: aiosmtplib.SMTP, exchange: Transaction) -> Outcome:
        """MAIL, RCPT and DATA: the outcome of the transaction."""

        async def command(verb: str, address: str, options: list[str]) -> tuple[int, str]:
            # the validated address as it is (aiosmtplib's mail() and rcpt() would quote and parse it again)
            path = exchange.path(verb, address).encode("ascii")
            arguments = (option.encode("ascii") for option in options)
            reply = await smtp.execute_command(verb.encode("ascii"), path, *arguments)
            return reply.code, reply.message

        try:
            outcome = exchange.mail(*await command("MAIL", exchange.sender, exchange.mail_options))
            for recipient in exchange.recipients if outcome is None else ():
                code, text = await command("RCPT", recipient, exchange.rcpt_options)
                if (outcome := exchange.rcpt(recipient, code, text)) is not None:
                    break
            if outcome is None and (outcome := exchange.before_data()) is None:
                try:
                    reply = await smtp.data(exchange.data)
                    code, text = reply.code, reply.message
                except SMTPDataError as error:  # DATA itself, or the end of data, refused
                    code, text = error.code, error.message
                outcome = exchange.data_sent(code, text)
        except (SMTPException, OSError) as error:  # dropped, timed out or a malformed reply: the session is over
            lost = "connection lost" if isinstance(error, (SMTPServerDisconnected, OSError)) else "session failed"
            outcome = exchange.lost(f"{lost}: {error}")
        return outcome

    async def _rset(self, smtp: aiosmtplib.SMTP) -> None:
        try:
            reply = await smtp.execute_command(b"RSET")
        except (SMTPException, OSError) as error:
            await self._reset(f"RSET failed: {error}")
            return
        if reply.code != 250:
            await self._reset(f"RSET answered {reply.code} {reply.message}")

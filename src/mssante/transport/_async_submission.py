"""AsyncSubmission: the asyncio twin of :class:`~mssante.transport.Submission`, on ``aiosmtplib`` (the ``async`` extra).

The session is built in the same fixed order: EHLO, STARTTLS (required: a server that does not offer it
is refused), the server certificate checked by :func:`mssante.pki.check_peer` before anything else is
said, EHLO again, then SASL (XOAUTH2, PLAIN or EXTERNAL); only then MAIL, RCPT and DATA. The message
preparation, the per-recipient outcomes and the audit events are those of the sync class.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import inspect
import ssl
import uuid
from collections.abc import Awaitable, Callable, Sequence
from email.message import EmailMessage
from types import TracebackType

import aiosmtplib
from aiosmtplib.errors import (
    SMTPConnectError,
    SMTPConnectResponseError,
    SMTPDataError,
    SMTPException,
    SMTPHeloError,
    SMTPResponseException,
    SMTPServerDisconnected,
)

from mssante.errors import TransportError
from mssante.pki import Purpose, RevocationChecker, RevocationMode, TrustStore, check_peer
from mssante.transport import _audit
from mssante.transport._results import Delivery, Envelope, RecipientResult, SendResult
from mssante.transport._submission import (
    _VERIFY_CODES,
    ClientCertificate,
    _context,
    _delivery,
    _prepare,
    _xtext,
)

__all__ = ["AsyncSubmission"]


def _address(address: str) -> str:
    return address if address.startswith("<") else f"<{address}>"


class AsyncSubmission:
    """An async SMTP submission session to an MSSanté operator, reused for several messages.

    The arguments are those of :class:`~mssante.transport.Submission`; ``token`` may also be an async
    callable (or return an awaitable). Use as ``async with``: the connection is opened at the first
    :meth:`send` and closed on exit. Sends on one session are serialised (one SMTP transaction at a
    time); open several sessions to send in parallel.
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
        revocation: RevocationChecker | RevocationMode | str = RevocationMode.HARD,
        timeout: float = 30.0,
        local_hostname: str | None = None,
    ) -> None:
        if sum((token is not None, password is not None, external)) > 1:
            raise ValueError("choose one authentication: token (XOAUTH2), password (PLAIN) or external")
        if (token is not None or password is not None) and not username:
            raise ValueError("XOAUTH2 and PLAIN need the username (the MSSanté address)")
        if at is not None and at.tzinfo is None:
            raise ValueError("at is timezone-aware (UTC)")
        self.host = host
        self.port = port
        self.username = username
        self._store = store
        self._context = _context(store, client_certificate)
        self._token = token
        self._password = password
        self._external = external
        self._at = at
        self._revocation = (
            revocation
            if isinstance(revocation, RevocationChecker)
            else RevocationChecker(mode=RevocationMode(revocation))
        )
        self._timeout = timeout
        self._local_hostname = local_hostname
        self._smtp: aiosmtplib.SMTP | None = None
        self._lock: asyncio.Lock | None = None

    def __repr__(self) -> str:
        state = "connected" if self._smtp is not None else "not connected"
        return f"AsyncSubmission({self.host!r}, {self.port}, user={self.username!r}, {state})"

    # --- the session ------------------------------------------------------------------------------------

    async def __aenter__(self) -> AsyncSubmission:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        await self.close()

    @property
    def server(self) -> str:
        """``host:port``, as the results name it."""
        return f"{self.host}:{self.port}"

    def _session_lock(self) -> asyncio.Lock:
        if self._lock is None:
            self._lock = asyncio.Lock()
        return self._lock

    async def connect(self) -> None:
        """Open and secure the session now (otherwise done by the first send); nothing when already open."""
        async with self._session_lock():
            await self._connect()

    async def _connect(self) -> aiosmtplib.SMTP:
        if self._smtp is None:
            self._smtp = await self._open()
        return self._smtp

    async def close(self) -> None:
        """QUIT and close; the next send reconnects."""
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            await smtp.quit()
        except (SMTPException, OSError):
            smtp.close()
        _audit.quit(self.server)

    def _reset(self, reason: str) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            smtp.close()
            _audit.reset(self.server, reason=reason)

    async def _open(self) -> aiosmtplib.SMTP:
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
        except SMTPConnectResponseError as error:
            raise TransportError(f"{self.server} did not greet: {error.code} {error.message}") from None
        except (SMTPConnectError, SMTPException, OSError) as error:
            raise TransportError(f"cannot connect to {self.server}: {error}") from None
        _audit.connect(self.host, self.port, code=greeting.code, reply="")
        try:
            await self._establish(smtp)
        except TransportError:
            smtp.close()
            raise
        except ssl.SSLCertVerificationError as error:
            smtp.close()
            finding = _VERIFY_CODES.get(error.verify_code)
            code = f"{finding.id}: " if finding else ""
            _audit.tls(
                self.server, peer_subject="", protocol=None, cipher=None, ok=False, reason=str(error.verify_message)
            )
            raise TransportError(
                f"the server certificate of {self.host} was refused in the TLS handshake: {code}{error.verify_message}"
            ) from None
        except ssl.SSLError as error:
            smtp.close()
            raise TransportError(f"TLS with {self.server} failed: {error.reason or error}") from None
        except SMTPServerDisconnected as error:
            smtp.close()
            raise TransportError(f"{self.server} closed the connection while opening the session: {error}") from None
        except (SMTPException, OSError) as error:
            smtp.close()
            raise TransportError(f"cannot open an SMTP session with {self.server}: {error}") from None
        return smtp

    async def _establish(self, smtp: aiosmtplib.SMTP) -> None:
        try:
            await smtp.ehlo()
        except SMTPHeloError as error:
            raise TransportError(f"{self.server} refused EHLO: {error.code} {error.message}") from None
        if not smtp.supports_extension("starttls"):
            raise TransportError(f"{self.server} does not offer STARTTLS: MSSanté refuses to send in plain text")
        try:
            await smtp.starttls(tls_context=self._context, server_hostname=self.host)
        except SMTPResponseException as error:
            raise TransportError(f"{self.server} refused STARTTLS: {error.code} {error.message}") from None
        self._check_server(smtp)
        try:
            await smtp.ehlo()
        except SMTPHeloError as error:
            raise TransportError(f"{self.server} refused EHLO after STARTTLS: {error.code} {error.message}") from None
        await self._authenticate(smtp)

    def _check_server(self, smtp: aiosmtplib.SMTP) -> None:
        tls = smtp.get_transport_info("ssl_object")
        if not isinstance(tls, ssl.SSLObject | ssl.SSLSocket):  # pragma: no cover - starttls() always wraps
            raise TransportError(f"the connection to {self.server} is not encrypted")
        cipher = tls.cipher()
        at = self._at or dt.datetime.now(dt.timezone.utc)
        report = check_peer(
            tls, purpose=Purpose.SERVER, store=self._store, at=at, host=self.host, revocation=self._revocation
        )
        if report is None:
            reason = "the server presented no certificate"
            subject = ""
        else:
            subject = report.certificate.subject.rfc4514_string()
            reason = "; ".join(str(finding) for finding in report.report.errors)
        ok = report is not None and report.ok
        _audit.tls(
            self.server, peer_subject=subject, protocol=tls.version(), cipher=cipher[0] if cipher else None, ok=ok,
            reason=reason,
        )  # fmt: skip
        if not ok:
            raise TransportError(f"the server certificate of {self.host} is refused: {reason}")

    async def _authenticate(self, smtp: aiosmtplib.SMTP) -> None:
        if self._token is None and self._password is None and not self._external:
            return
        mechanism = "XOAUTH2" if self._token is not None else "PLAIN" if self._password is not None else "EXTERNAL"
        offered = smtp.esmtp_extensions.get("auth", "").upper().split()
        if mechanism not in offered:
            raise TransportError(
                f"{self.server} does not offer AUTH {mechanism} (offers: {' '.join(offered) or 'none'})"
            )
        secrets: list[str] = []
        if self._token is not None:
            produced = self._token()
            token = await produced if inspect.isawaitable(produced) else produced
            secrets.append(token)
            initial = f"user={self.username}\x01auth=Bearer {token}\x01\x01"
        elif self._password is not None:
            secrets.append(self._password)
            initial = f"\0{self.username}\0{self._password}"
        else:
            initial = ""
        encoded = base64.b64encode(initial.encode()).decode("ascii")
        secrets.append(encoded)
        reply = await smtp.execute_command(b"AUTH", mechanism.encode("ascii"), (encoded or "=").encode("ascii"))
        if reply.code == 334:  # a challenge after the credentials is the server's error detail: end the exchange
            reply = await smtp.execute_command(b"")
        code, detail = reply.code, reply.message
        for secret in secrets:
            if secret:
                detail = detail.replace(secret, "[secret]")
        ok = code in (235, 503)
        _audit.authenticate(self.server, mechanism=mechanism, user=self.username, ok=ok, code=code)
        if not ok:
            raise TransportError(f"{self.server} refused AUTH {mechanism} as {self.username}: {code} {detail}")

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
            results = await self._transaction(smtp, data, message_id, envelope, dsn=dsn)
        result = SendResult(message_id=message_id, server=self.server, recipients=results)
        _audit.send(self.server, message_id=message_id, results=result.recipients)
        return result

    async def send_many(self, messages: Sequence[EmailMessage | bytes]) -> list[SendResult]:
        """Send messages one after the other over one connection (reopened if the server drops it)."""
        return [await self.send(message) for message in messages]

    async def _transaction(
        self, smtp: aiosmtplib.SMTP, data: bytes, message_id: str | None, envelope: Envelope, *, dsn: bool
    ) -> list[RecipientResult]:
        recipients = list(dict.fromkeys(envelope.recipients))
        results: dict[str, RecipientResult] = {}

        def every(delivery: Delivery, code: int | None, reply: str, among: Sequence[str]) -> list[RecipientResult]:
            for recipient in among:
                if recipient not in results or results[recipient].delivery is Delivery.ACCEPTED:
                    results[recipient] = RecipientResult(recipient=recipient, delivery=delivery, code=code, reply=reply)
            return [results[recipient] for recipient in recipients]

        limit = smtp.esmtp_extensions.get("size", "").strip()
        if limit.isdigit() and int(limit) and len(data) > int(limit):
            too_big = f"not sent: the message is {len(data)} bytes, over the {limit} bytes {self.server} accepts (SIZE)"
            return every(Delivery.REJECTED, 552, too_big, recipients)
        addresses = [envelope.sender, *recipients]
        mail_options: list[str] = []
        rcpt_options: list[str] = []
        encoding = "ascii"
        if not all(address.isascii() for address in addresses):
            if not smtp.supports_extension("smtputf8"):
                no_utf8 = f"not sent: {self.server} does not offer SMTPUTF8 for non-ASCII addresses"
                return every(Delivery.REJECTED, 553, no_utf8, recipients)
            mail_options.append("SMTPUTF8")
            encoding = "utf-8"
        if smtp.supports_extension("size"):
            mail_options.append(f"SIZE={len(data)}")
        if dsn and smtp.supports_extension("dsn"):
            mail_options += ["RET=HDRS", f"ENVID={_xtext(message_id or uuid.uuid4().hex)}"]
            rcpt_options.append("NOTIFY=SUCCESS,FAILURE,DELAY")
        accepted: list[str] = []
        try:
            reply = await smtp.execute_command(
                b"MAIL",
                b"FROM:" + _address(envelope.sender).encode(encoding),
                *(option.encode("ascii") for option in mail_options),
            )
            if reply.code == 421:
                self._reset(f"{reply.code} {reply.message}")
                return every(Delivery.DEFERRED, reply.code, reply.message, recipients)
            if not 200 <= reply.code < 300:
                await self._rset(smtp)
                return every(_delivery(reply.code), reply.code, reply.message, recipients)
            for index, recipient in enumerate(recipients):
                reply = await smtp.execute_command(
                    b"RCPT",
                    b"TO:" + _address(recipient).encode(encoding),
                    *(option.encode("ascii") for option in rcpt_options),
                )
                results[recipient] = RecipientResult(
                    recipient=recipient, delivery=_delivery(reply.code), code=reply.code, reply=reply.message
                )
                if reply.code == 421:
                    self._reset(f"{reply.code} {reply.message}")
                    return every(Delivery.DEFERRED, reply.code, reply.message, recipients[index:])
                if 200 <= reply.code < 300:
                    accepted.append(recipient)
            if not accepted:
                await self._rset(smtp)
                return [results[recipient] for recipient in recipients]
            try:
                reply = await smtp.data(data)
                code, text = reply.code, reply.message
            except SMTPDataError as error:  # DATA itself, or the end of data, refused
                code, text = error.code, error.message
            if code == 421:
                self._reset(f"{code} {text}")
            elif not 200 <= code < 300:
                await self._rset(smtp)
            return every(_delivery(code), code, text, accepted)
        except (SMTPException, OSError) as error:  # dropped, timed out or a malformed reply: the session is over
            lost = "connection lost" if isinstance(error, (SMTPServerDisconnected, OSError)) else "session failed"
            self._reset(f"{lost}: {error}")
            pending = [r for r in recipients if r not in results or r in accepted]
            return every(Delivery.DEFERRED, None, f"{lost}: {error}", pending)

    async def _rset(self, smtp: aiosmtplib.SMTP) -> None:
        try:
            reply = await smtp.execute_command(b"RSET")
        except (SMTPException, OSError) as error:
            self._reset(f"RSET failed: {error}")
            return
        if reply.code != 250:
            self._reset(f"RSET answered {reply.code} {reply.message}")

"""Submission: a software vendor sends MSSanté mail to its operator (SMTP, STARTTLS, IGC Santé TLS, SASL).

The session is built in a fixed order and refuses every shortcut: EHLO, STARTTLS (a server that does
not offer it is refused: there is no plain-text fallback), the server certificate checked by
:func:`mssante.pki.check_peer` for the ``server`` purpose and the host name, EHLO again, then SASL
(XOAUTH2 with a Pro Santé Connect token, PLAIN or EXTERNAL). Only then MAIL, RCPT and DATA.
"""

from __future__ import annotations

import datetime as dt
import email.policy
import re
import smtplib
import socket
import ssl
import sys
from collections.abc import Callable, Sequence
from email.message import EmailMessage
from typing import BinaryIO

from mssante.errors import TransportError
from mssante.pki import (
    RevocationMode,
    TrustStore,
)
from mssante.transport import _audit, codes
from mssante.transport._deadline import DEFAULT_MAX_DURATION, Watchdog, _shut, deadline_passed
from mssante.transport._headers import header_recipients, prepare
from mssante.transport._peer import Revocation, checker_of, judge_server
from mssante.transport._results import Envelope, RecipientResult, SendResult
from mssante.transport._session import ClientCertificate, ClientSession, SessionContext
from mssante.transport._transaction import After, Transaction

__all__ = ["Submission", "header_recipients"]

_BARE_LF = re.compile(rb"(?<!\r)\n")


MAX_REPLY_BYTES = 32 * 1024
"""The longest server reply read (as aiosmtplib bounds it): a server that goes on is cut off."""


class _Budget:
    """The reply stream of a session, read at most :data:`MAX_REPLY_BYTES` at a time (one reply)."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self.left = MAX_REPLY_BYTES

    def readline(self, limit: int = -1) -> bytes:
        line = self.stream.readline(limit)
        self.left -= len(line)
        if self.left < 0:  # smtplib turns an OSError into "connection unexpectedly closed" and closes
            raise OSError(f"the server's reply is longer than {MAX_REPLY_BYTES} bytes")
        return line

    def close(self) -> None:
        self.stream.close()


class _Smtp(smtplib.SMTP):
    """smtplib's client, whose replies are bounded (a hostile server cannot make one grow without end), and whose
    socket is followed by a :class:`~mssante.transport._deadline.Watchdog` from its creation to its closing."""

    def __init__(self, watchdog: Watchdog, *, local_hostname: str | None, timeout: float) -> None:
        self.watchdog = watchdog
        self.reached = False
        """True once the TCP connection is made."""
        self.unanswered = False
        """True from the end of the TLS handshake until the server's first reply under TLS: a session that ends then
        was ended by a server that refused the client certificate (a TLS 1.3 server checks it after the handshake)."""
        super().__init__(local_hostname=local_hostname, timeout=timeout)

    def greet(self, host: str, port: int) -> tuple[int, bytes]:
        """Connect and read the greeting (smtplib's ``connect``, the socket followed before the first read)."""
        sys.audit("smtplib.connect", self, host, port)
        self.sock = socket.create_connection((host, port), self.timeout)
        self.reached = True
        self.file = None
        self.watchdog.follow(self.sock)
        return self.getreply()

    def secure(self, context: ssl.SSLContext, host: str) -> tuple[int, bytes]:
        """STARTTLS (smtplib's ``starttls``, its handshake watched): the reply, TLS up when it is 220."""
        code, reply = self.docmd("STARTTLS")
        if code != 220:
            return code, reply
        assert self.sock is not None
        self.file = None  # what the server sent after its 220, before TLS, is dropped
        self.sock = self.watchdog.wrap(context, self.sock, host)
        self.unanswered = True
        # RFC 3207: forget what was learnt before TLS
        self.helo_resp = self.ehlo_resp = None
        self.esmtp_features = {}
        self.does_esmtp = False
        return code, reply

    def close(self) -> None:
        self.watchdog.forget()
        super().close()

    def getreply(self) -> tuple[int, bytes]:
        if self.file is None and self.sock is not None:
            self.file = self.sock.makefile("rb")
        if self.file is not None and not isinstance(self.file, _Budget):
            self.file = _Budget(self.file)
        if isinstance(self.file, _Budget):
            self.file.left = MAX_REPLY_BYTES
        reply = super().getreply()
        self.unanswered = False
        return reply


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply


def _prepare(message: EmailMessage | bytes, envelope: Envelope | None) -> tuple[bytes, str | None, Envelope]:
    """The bytes to transmit (CRLF, no ``Bcc`` nor ``Resent-Bcc``), the Message-ID and the envelope (from the
    headers when not given), as :func:`~mssante.transport._headers.prepare` reads them for every transport.

    Each address of the headers must be one valid address: :class:`~mssante.errors.InvalidAddress` otherwise.
    """
    if isinstance(message, EmailMessage):
        data = message.as_bytes(policy=email.policy.SMTP)
    else:
        data = _BARE_LF.sub(b"\r\n", bytes(message))
    prepared = prepare(data, envelope, refuse=TransportError)
    return prepared.data, prepared.message_id, prepared.envelope


class Submission(SessionContext, ClientSession[Callable[[], str]]):
    """An SMTP submission session to an MSSanté operator, sync, reused for several messages.

    ``client_certificate`` authenticates this side in TLS (see :data:`ClientCertificate`); SASL is
    XOAUTH2 when ``token`` is given (a callable returning a fresh Pro Santé Connect access token, called
    at each authentication and never kept), PLAIN with ``password``, EXTERNAL with ``external=True``
    (the server maps the client certificate). ``at`` is the moment certificates are checked (default:
    now, at each connection); ``revocation`` a :class:`~mssante.pki.RevocationChecker` holding CRLs or
    OCSP answers, or a mode (``hard``, the default, refuses an unknown status).

    ``timeout`` bounds each read and write (seconds); ``max_duration`` each operation as a whole: opening the
    session (connection, greeting, STARTTLS, the server certificate and its CRLs, login), each message's
    transaction, QUIT (at most ``timeout``). A server that trickles its bytes cannot hold one longer.

    Use as a context manager: the connection is opened at the first :meth:`send` and closed on exit.
    A failure to connect, secure or authenticate (or opening past ``max_duration``) raises
    :class:`~mssante.errors.TransportError`; once the session is up, what happens to a message is in its
    :class:`SendResult` (a transaction past ``max_duration`` is deferred, the connection dropped).
    """

    def __init__(
        self,
        host: str,
        port: int = 587,
        *,
        store: TrustStore,
        client_certificate: ClientCertificate | None = None,
        username: str | None = None,
        token: Callable[[], str] | None = None,
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
            password=password, external=external, at=at, revocation=revocation, timeout=timeout,
            max_duration=max_duration,
        )  # fmt: skip
        self._local_hostname = local_hostname
        self._smtp: _Smtp | None = None

    def __repr__(self) -> str:
        state = "connected" if self._smtp is not None else "not connected"
        return f"Submission({self.host!r}, {self.port}, user={self.username!r}, {state})"

    # --- the session ------------------------------------------------------------------------------------

    def connect(self) -> None:
        """Open and secure the session now (entering the ``with`` block does it, or else the first send)."""
        self._check_open()
        if self._smtp is None:
            self._smtp = self._open()

    def close(self) -> None:
        """QUIT and close; the next send reconnects."""
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            with smtp.watchdog.bound(min(self._timeout, self.max_duration)):
                smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()
        except BaseException:
            smtp.close()
            raise
        _audit.quit(self.server)

    def _drop(self) -> None:
        smtp: _Smtp | None = getattr(self, "_smtp", None)  # None too when ended before it was built
        if smtp is not None and smtp.sock is not None:
            _shut(smtp.sock)

    def _reset(self, reason: str) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            smtp.close()
            _audit.reset(self.server, reason=reason)

    def _open(self) -> _Smtp:
        """A session connected, secured and authenticated within ``max_duration``; closed on any failure."""
        watchdog = Watchdog()
        smtp = _Smtp(watchdog, local_hostname=self._local_hostname, timeout=self._timeout)
        try:
            with watchdog.bound(self.max_duration):
                self._greet(smtp)
                self._establish(smtp)
                watchdog.check()
        except BaseException as error:
            smtp.close()
            if watchdog.expired:
                raise self._deadline("opening the session") from None
            if isinstance(error, ssl.SSLCertVerificationError):
                raise self._handshake_refused(error) from None
            if isinstance(error, ssl.SSLError):
                raise self._tls_failed(error, secured=smtp.unanswered) from None
            if isinstance(error, (smtplib.SMTPException, OSError)):
                if smtp.unanswered:
                    raise self._client_refused(str(error) or type(error).__name__) from None
                if isinstance(error, smtplib.SMTPServerDisconnected):
                    message = f"{self.server} closed the connection while opening the session: {error}"
                else:
                    message = f"cannot open an SMTP session with {self.server}: {error}"
                raise self._failure(codes.CLOSED, message) from None
            raise
        return smtp

    def _greet(self, smtp: _Smtp) -> None:
        try:
            code, reply = smtp.greet(self.host, self.port)
        except (smtplib.SMTPException, OSError) as error:
            if not smtp.reached:
                raise self._failure(codes.UNREACHABLE, f"cannot connect to {self.server}: {error}") from None
            raise self._failure(codes.NO_GREETING, f"{self.server} did not greet: {error}") from None
        if code != 220:
            raise self._failure(codes.NO_GREETING, f"{self.server} did not greet: {code} {_text(reply)}")
        _audit.connect(self.host, self.port, code=220, reply="")

    def _establish(self, smtp: _Smtp) -> None:
        code, reply = smtp.ehlo()
        if code != 250:
            raise self._failure(codes.EHLO_REFUSED, f"{self.server} refused EHLO: {code} {_text(reply)}")
        if not smtp.has_extn("starttls"):
            message = f"{self.server} does not offer STARTTLS: MSSanté refuses to send in plain text"
            raise self._failure(codes.NO_STARTTLS, message)
        code, reply = smtp.secure(self._context, self.host)
        if code != 220:
            raise self._failure(codes.STARTTLS_REFUSED, f"{self.server} refused STARTTLS: {code} {_text(reply)}")
        self._check_server(smtp)
        code, reply = smtp.ehlo()
        if code != 250:  # accepted in clear, refused under TLS: what changed is this side's certificate
            message = f"{self.server} refused EHLO after STARTTLS: {code} {_text(reply)}"
            raise self._failure(codes.CLIENT_CERTIFICATE_REFUSED, message)
        self._authenticate(smtp)

    def _check_server(self, smtp: _Smtp) -> None:
        sock = smtp.sock
        if not isinstance(sock, ssl.SSLSocket):  # pragma: no cover - starttls() always wraps the socket
            raise self._failure(codes.TLS_FAILED, f"the connection to {self.server} is not encrypted")
        at = self._now()
        checker, notes = checker_of(self._revocation, sock, store=self._store, at=at)
        smtp.watchdog.check()  # fetching the CRLs took the time left: the server is not judged
        judge_server(
            sock, server=self.server, host=self.host, store=self._store, at=at, revocation=checker, notes=notes
        )

    def _authenticate(self, smtp: _Smtp) -> None:
        mechanism = self._mechanism()
        if mechanism is None:
            return
        offered = smtp.esmtp_features.get("auth", "").upper().split()
        if mechanism not in offered:
            message = f"{self.server} does not offer AUTH {mechanism} (offers: {' '.join(offered) or 'none'})"
            raise self._failure(codes.MECHANISM_NOT_OFFERED, message)
        initial, secrets = self._initial_response(self._token() if self._token is not None else None)
        sent = False

        def respond(challenge: bytes | None = None) -> str:
            nonlocal sent
            if sent:  # a challenge after the credentials is the server's error detail: end the exchange
                return ""
            sent = True
            return initial

        reply: bytes | str
        try:
            if mechanism == "EXTERNAL":
                code, reply = smtp.docmd("AUTH", "EXTERNAL =")
            else:
                code, reply = smtp.auth(mechanism, respond, initial_response_ok=True)
        except smtplib.SMTPAuthenticationError as error:
            code, reply = error.smtp_code, error.smtp_error
        detail = self._scrub(_text(reply), secrets)
        ok = code in (235, 503)
        _audit.authenticate(self.server, mechanism=mechanism, user=self.username, ok=ok, code=code)
        if not ok:  # with EXTERNAL, the credentials refused are the client certificate
            message = f"{self.server} refused AUTH {mechanism} as {self.username}: {code} {detail}"
            refusal = codes.CLIENT_CERTIFICATE_REFUSED if mechanism == "EXTERNAL" else codes.LOGIN_REFUSED
            raise self._failure(refusal, message)

    # --- sending ----------------------------------------------------------------------------------------

    def send(self, message: EmailMessage | bytes, envelope: Envelope | None = None, *, dsn: bool = False) -> SendResult:
        """Send one message: a :class:`RecipientResult` per recipient (accepted, rejected or deferred).

        The envelope defaults to From and To/Cc/Bcc; the ``Bcc`` header is never transmitted. With ``dsn``
        and a server that offers DSN, asks for delivery status notifications (RFC 3461: ``NOTIFY=SUCCESS,
        FAILURE,DELAY``, ``RET=HDRS``, ``ENVID`` the Message-ID). Raises :class:`TransportError` only when the
        session cannot be opened, secured or authenticated, and :class:`~mssante.errors.InvalidAddress` when an
        address of the headers is not one valid address (nothing is sent then). The transaction has
        ``max_duration``: past it, what was not refused is deferred and the connection dropped.
        """
        self._check_open()
        data, message_id, envelope = _prepare(message, envelope)
        self.connect()
        smtp = self._smtp
        assert smtp is not None
        with smtp.watchdog.bound(self.max_duration):
            results = self._transaction(smtp, data, message_id, envelope, dsn=dsn)
        result = SendResult(message_id=message_id, server=self.server, recipients=results)
        _audit.send(self.server, message_id=message_id, results=result.recipients)
        return result

    def send_many(self, messages: Sequence[EmailMessage | bytes]) -> list[SendResult]:
        """Send messages one after the other over one connection (reopened if the server drops it)."""
        return [self.send(message) for message in messages]

    def _transaction(
        self, smtp: _Smtp, data: bytes, message_id: str | None, envelope: Envelope, *, dsn: bool
    ) -> list[RecipientResult]:
        features = {name: str(value) for name, value in smtp.esmtp_features.items()}
        exchange = Transaction(data, message_id, envelope, dsn=dsn, features=features, server=self.server)
        if (refused := exchange.refusal()) is not None:
            return refused.results
        try:  # MAIL and RCPT carry the validated addresses as they are (smtplib's mail() and rcpt() parse again)
            code, reply = smtp.docmd("MAIL", " ".join([exchange.path("MAIL", exchange.sender), *exchange.mail_options]))
            outcome = exchange.mail(code, _text(reply))
            for recipient in exchange.recipients if outcome is None else ():
                code, reply = smtp.docmd("RCPT", " ".join([exchange.path("RCPT", recipient), *exchange.rcpt_options]))
                if (outcome := exchange.rcpt(recipient, code, _text(reply))) is not None:
                    break
            if outcome is None and (outcome := exchange.before_data()) is None:
                answer: tuple[int, bytes | str]
                try:
                    answer = smtp.data(data)
                except smtplib.SMTPDataError as error:  # the DATA command itself refused
                    answer = error.smtp_code, error.smtp_error
                outcome = exchange.data_sent(answer[0], _text(answer[1]))
        except (smtplib.SMTPServerDisconnected, OSError) as error:
            reason = (
                f"connection lost: {deadline_passed(self.server, self.max_duration, 'sending the message')}"
                if smtp.watchdog.expired
                else f"connection lost: {error}"
            )
            outcome = exchange.lost(reason)
        if smtp.watchdog.expired and outcome.after is not After.RESET:  # the answers came, the connection is shut
            self._reset(deadline_passed(self.server, self.max_duration, "sending the message"))
        elif outcome.after is After.RESET:
            self._reset(outcome.reason)
        elif outcome.after is After.RSET:
            self._rset(smtp)
        return outcome.results

    def _rset(self, smtp: _Smtp) -> None:
        try:
            code, reply = smtp.rset()
        except (smtplib.SMTPException, OSError) as error:
            self._reset(f"RSET failed: {error}")
            return
        if code != 250:
            self._reset(f"RSET answered {code} {_text(reply)}")

"""What every client session shares: where it connects, how this side proves itself, how the server is judged.

:class:`ClientSession` holds the settings of :class:`~mssante.transport.Submission`,
:class:`~mssante.transport.AsyncSubmission`, :class:`~mssante.transport.ImapMailbox` and
:class:`~mssante.transport.AsyncMailbox`, checked once, the same way; :class:`SessionContext` and
:class:`AsyncSessionContext` make a sync or an async session a context manager.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import os
import ssl
import weakref
from collections.abc import Callable
from types import TracebackType
from typing import Generic, Protocol, TypeVar, runtime_checkable

from mssante._secrets import scrub
from mssante.errors import TransportError
from mssante.pki import Pkcs12Bundle, TrustStore, client_context, load_pkcs12
from mssante.pki import codes as pki_codes
from mssante.report import Code
from mssante.transport import _audit, codes
from mssante.transport._deadline import DEFAULT_MAX_DURATION, check_max_duration, deadline_passed
from mssante.transport._peer import Revocation, Source, source_of

__all__ = ["AsyncSessionContext", "ClientCertificate", "ClientSession", "EndingTokenSource", "SessionContext"]

_Path = str | os.PathLike[str]

ClientCertificate = _Path | tuple[_Path, _Path] | tuple[bytes, bytes | None] | Pkcs12Bundle
"""A PEM file with chain and key; a ``(certificate, key)`` pair of PEM files; PKCS#12 ``(data, password)``;
or a :class:`~mssante.pki.Pkcs12Bundle` already opened."""

# OpenSSL verification errors (X509_V_ERR_*) and the certificate finding that says the same thing.
_VERIFY_CODES = {
    2: pki_codes.NO_PATH,
    9: pki_codes.NOT_YET_VALID,
    10: pki_codes.EXPIRED,
    18: pki_codes.NO_PATH,
    19: pki_codes.NO_PATH,
    20: pki_codes.NO_PATH,
    21: pki_codes.NO_PATH,
    26: pki_codes.EKU_MISSING,
    62: pki_codes.HOST_MISMATCH,
}

# The alerts a TLS server sends when it refuses the client's certificate, or wants one (OpenSSL's reason names).
_CERTIFICATE_ALERTS = frozenset(
    {
        "SSLV3_ALERT_BAD_CERTIFICATE",
        "SSLV3_ALERT_UNSUPPORTED_CERTIFICATE",
        "SSLV3_ALERT_CERTIFICATE_REVOKED",
        "SSLV3_ALERT_CERTIFICATE_EXPIRED",
        "SSLV3_ALERT_CERTIFICATE_UNKNOWN",
        "TLSV1_ALERT_UNKNOWN_CA",
        "TLSV1_ALERT_ACCESS_DENIED",
        "TLSV13_ALERT_CERTIFICATE_REQUIRED",
    }
)

Token = TypeVar("Token")
_Sync = TypeVar("_Sync", bound="SessionContext")
_Async = TypeVar("_Async", bound="AsyncSessionContext")


@runtime_checkable
class EndingTokenSource(Protocol):
    """A token source (a callable giving a fresh access token) that can end: when its token can no longer be
    refreshed, it calls each callback registered with :meth:`on_end` with the reason. A session given such a source
    drops its connection then, and refuses every later operation (``MSS-TRN-024``; SC.MSS/CONF.10): the user must
    log in again. :class:`mssante.psc.TokenSource` is one; a plain callable works as before."""

    def __call__(self) -> object: ...

    def on_end(self, callback: Callable[[str], None]) -> Callable[[], None]:
        """Register ``callback``, called once with the reason when the source ends (at once if it has ended);
        returns the function that unregisters it."""
        ...


def _context(store: TrustStore, certificate: ClientCertificate | None) -> ssl.SSLContext:
    if certificate is None:
        return client_context(store)
    if isinstance(certificate, Pkcs12Bundle):
        return client_context(store, certificate=certificate)
    if isinstance(certificate, tuple):
        first, second = certificate
        if isinstance(first, bytes):
            password = second if isinstance(second, bytes) else None
            return client_context(store, certificate=load_pkcs12(first, password))
        if second is None or isinstance(second, bytes):
            raise TypeError("a (certificate, key) pair of PEM files is two paths")
        return client_context(store, certificate=first, key=second)
    return client_context(store, certificate=certificate)


class ClientSession(Generic[Token]):
    """The settings of a client session; ``token`` is the callable giving a fresh access token (its type is
    the session's: a sync callable, or one that may return an awaitable)."""

    login_mechanism = "PLAIN"
    """The SASL mechanism or command that carries a password (named in the errors)."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        store: TrustStore,
        client_certificate: ClientCertificate | None,
        username: str | None,
        token: Token | None,
        password: str | None,
        external: bool,
        at: dt.datetime | None,
        revocation: Revocation,
        timeout: float,
        asynchronous: bool = False,
        max_duration: float = DEFAULT_MAX_DURATION,
    ) -> None:
        with_password = self.login_mechanism
        if sum((token is not None, password is not None, external)) > 1:
            raise ValueError(f"choose one authentication: token (XOAUTH2), password ({with_password}) or external")
        if (token is not None or password is not None) and not username:
            raise ValueError(f"XOAUTH2 and {with_password} need the username (the MSSanté address)")
        if at is not None and at.tzinfo is None:
            raise ValueError("at is timezone-aware (UTC)")
        self.host = host
        self.port = port
        self.username = username
        self._store = store
        self._context = _context(store, client_certificate)
        self._with_certificate = client_certificate is not None
        self._token = token
        self._password = password
        self._external = external
        self._at = at
        self._revocation: Source = source_of(revocation, asynchronous=asynchronous)
        self._timeout = timeout
        self.max_duration = check_max_duration(max_duration)
        """Seconds allowed to one operation as a whole (opening the session, a transaction, a mailbox command)."""
        self._ended: str | None = None
        if isinstance(token, EndingTokenSource):  # held weakly: the source does not keep the session alive
            ended = weakref.WeakMethod(self._token_ended)
            token.on_end(lambda reason: None if (method := ended()) is None else method(reason))

    def _token_ended(self, reason: str) -> None:
        """The token source ended (called from any thread): the session is over, its connection dropped."""
        self._ended = reason
        self._drop()

    def _drop(self) -> None:
        """Shut the connection without blocking, from any thread; each session says how (here: nothing). It may be
        called from ``__init__`` (a source that has already ended), before the session's own attributes exist."""

    def _check_open(self) -> None:
        """Raise ``MSS-TRN-024`` once the token source has ended: the user must log in again."""
        if self._ended is not None:
            message = (
                f"the Pro Santé Connect session ended ({self._ended}): the session with {self.server} was closed; "
                "the user must log in again"
            )
            raise self._failure(codes.TOKEN_ENDED, message)

    @property
    def server(self) -> str:
        """``host:port``, as the results and the audit events name it."""
        return f"{self.host}:{self.port}"

    def _mechanism(self) -> str | None:
        """The SASL mechanism configured: XOAUTH2 (token), the login mechanism (password), EXTERNAL, or None."""
        if self._token is not None:
            return "XOAUTH2"
        if self._password is not None:
            return self.login_mechanism
        return "EXTERNAL" if self._external else None

    def _initial_response(self, token: str | None) -> tuple[str, tuple[str, ...]]:
        """The SASL initial response for ``token`` (XOAUTH2) or the password (PLAIN), and the secrets it holds."""
        if token is not None:
            initial = f"user={self.username}\x01auth=Bearer {token}\x01\x01"
            secret = token
        elif self._password is not None:
            initial = f"\0{self.username}\0{self._password}"
            secret = self._password
        else:
            return "", ()
        return initial, (secret, base64.b64encode(initial.encode()).decode("ascii"))

    def _scrub(self, text: str, secrets: tuple[str, ...] = ()) -> str:
        """``text`` (a server's answer) without the token, the password or their encodings."""
        return scrub(text, (*secrets, self._password or ""))

    def _failure(self, code: Code, message: str) -> TransportError:
        """A :class:`~mssante.errors.TransportError` saying ``message``, with the finding of ``code`` at the server."""
        return codes.failure(code, message, server=self.server)

    def _handshake_refused(self, error: ssl.SSLCertVerificationError) -> TransportError:
        """The error (audited) for a server certificate OpenSSL refused in the handshake, with its finding code."""
        known = _VERIFY_CODES.get(error.verify_code)
        code = known or codes.SERVER_CERTIFICATE_REFUSED
        _audit.tls(self.server, peer_subject="", protocol=None, cipher=None, ok=False, reason=str(error.verify_message))
        refused = f"the server certificate of {self.host} was refused in the TLS handshake"
        return self._failure(code, f"{refused}: {code.id}: {error.verify_message}")

    def _tls_failed(self, error: ssl.SSLError, *, secured: bool = False) -> TransportError:
        """The error for TLS that failed: a certificate alert from the server, or an alert once the handshake was
        over (``secured``) before any answer under TLS, is a refusal of the client certificate (``MSS-TRN-006``);
        anything else a failed handshake (``MSS-TRN-005``)."""
        reason = error.reason or str(error)
        if secured or error.reason in _CERTIFICATE_ALERTS:
            return self._client_refused(f"TLS alert {reason}")
        return self._failure(codes.TLS_FAILED, f"TLS with {self.server} failed: {reason}")

    def _client_refused(self, detail: str) -> TransportError:
        """The error for a server that ended the session right after the TLS handshake (``MSS-TRN-006``)."""
        which = "refused the client certificate" if self._with_certificate else "requires a client certificate"
        message = f"{self.server} {which}: it ended the session at or right after the TLS handshake ({detail})"
        return self._failure(codes.CLIENT_CERTIFICATE_REFUSED, message)

    def _deadline(self, doing: str) -> TransportError:
        """The error for an operation past ``max_duration`` (``MSS-TRN-014``)."""
        return self._failure(codes.DEADLINE, deadline_passed(self.server, self.max_duration, doing))

    def _now(self) -> dt.datetime:
        """The moment certificates are checked at: ``at``, or now."""
        return self._at or dt.datetime.now(dt.timezone.utc)


class SessionContext:
    """A sync session used as ``with``: :meth:`connect` on entry, :meth:`close` on exit (each session says how)."""

    def connect(self) -> None:
        """Open the session now."""
        raise NotImplementedError

    def close(self) -> None:
        """End the session and close its connection."""
        raise NotImplementedError

    def __enter__(self: _Sync) -> _Sync:
        self.connect()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()


class AsyncSessionContext:
    """An async session used as ``async with``: :meth:`connect` on entry, :meth:`close` on exit (each session says
    how), its operations serialised by one :class:`asyncio.Lock` made at the first use (in the running loop)."""

    _lock: asyncio.Lock | None = None

    async def connect(self) -> None:
        """Open the session now."""
        raise NotImplementedError

    async def close(self) -> None:
        """End the session, and return once its connection is closed."""
        raise NotImplementedError

    async def __aenter__(self: _Async) -> _Async:
        await self.connect()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        await self.close()

    def _session_lock(self) -> asyncio.Lock:
        if self._lock is None:
            self._lock = asyncio.Lock()
        return self._lock

"""A local MSSanté operator for tests and demonstrations: SMTP submission and IMAP on 127.0.0.1.

:class:`LocalOperator` runs an aiosmtpd submission server (STARTTLS required, a client certificate of
the test PKI required and checked, AUTH XOAUTH2, PLAIN optionally, SIZE, DSN) that delivers into
in-memory mailboxes, and the IMAP server of :mod:`mssante.testing._imap` over the same mailboxes. A user's
XOAUTH2 token is a fixed string, or whatever a token verifier accepts (an access token the identity provider
says is active: see :meth:`LocalOperator.add_user`).
Everything needed is imported before the server threads start.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import datetime as dt
import email.parser
import email.policy
import email.utils
import logging
import re
import secrets
import socket
import ssl
import tempfile
import threading
import weakref
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, overload

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509

from mssante.addresses import PATIENT_DOMAIN, check
from mssante.message import Dsn, DsnRecipient, build_dsn, compose, decode_xtext, parse
from mssante.pki import Environment, Purpose, RevocationChecker, TrustStore, check_peer, server_context, verify
from mssante.testing._imap import ImapAccounts, ImapState, Recorded, serve
from mssante.testing._pki import CA_NAMES, IssuedCertificate, TestPki
from mssante.transport import ImapMailbox, Submission

__all__ = ["DEFAULT_DOMAINS", "DEFAULT_MAX_MESSAGE_SIZE", "LocalOperator"]

DEFAULT_DOMAINS: tuple[str, ...] = ("hopital.mssante.fr", PATIENT_DOMAIN)
"""The domains a :class:`LocalOperator` serves by default: one professional domain and the patient domain."""
DEFAULT_MAX_MESSAGE_SIZE = 10 * 1024 * 1024
"""The SIZE a :class:`LocalOperator` announces by default (bytes)."""
TokenVerifier = Callable[[str], bool]
"""Judges an XOAUTH2 bearer token: true to accept it (e.g. :meth:`LocalPscProvider.token_verifier
<mssante.testing.LocalPscProvider.token_verifier>`, which asks the provider)."""

_DSN_PARAMETERS = frozenset({"RET", "ENVID", "NOTIFY", "ORCPT"})
_ENVID = re.compile(r"(?:^|\s)ENVID=(\S+)", re.IGNORECASE)
_HEADERS = email.parser.BytesHeaderParser(policy=email.policy.default)
_CLIENT_PURPOSES = (Purpose.ORGANISATION, Purpose.PERSON)

_QUIET = (
    "Session.login_data is deprecated",  # aiosmtpd's own assignment, at every successful AUTH
    "tls_context.verify_mode not in",  # client certificates are required on purpose
)


class _Quiet(logging.Filter):
    """Drop aiosmtpd's two warnings that say nothing about the session (logger ``mail.log``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(_QUIET)


logging.getLogger("mail.log").addFilter(_Quiet())

_shared_lock = threading.Lock()
_Material = tuple[TestPki, IssuedCertificate, IssuedCertificate, tuple[bytes, ...]]
_cache: dict[int, _Material] = {}  # by id() of the PKI, which the entry keeps alive; 0: the shared PKI


def _material(pki: TestPki | None) -> _Material:
    """The PKI, the server and client certificates and the CRLs: issued once per PKI in the process.

    Without a PKI, one TEST PKI made at the first call and shared by the operators of the process.
    """
    with _shared_lock:
        if pki is None:
            if 0 not in _cache:
                made = TestPki.create(environment=Environment.TEST, at=dt.datetime.now(dt.timezone.utc))
                _cache[0] = _issue(made)
            pki = _cache[0][0]
        if id(pki) not in _cache:
            _cache[id(pki)] = _issue(pki)
        return _cache[id(pki)]


def _issue(pki: TestPki) -> _Material:
    crls = tuple(pki.crl(name) for name in CA_NAMES)
    return pki, pki.server(["localhost"]), pki.organisation("LOGICIEL", usage="auth"), crls


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class _Smtp(SMTP):
    """aiosmtpd's server, taking the DSN parameters (RFC 3461) and keeping the MAIL arguments as sent."""

    mail_arguments: str = ""

    def _getparams(self, params: Sequence[str]) -> dict[str, str | bool] | None:
        result = super()._getparams(params)
        if result is None:
            return None
        return {key: value for key, value in result.items() if key.upper() not in _DSN_PARAMETERS}

    async def smtp_MAIL(self, arg: str) -> None:  # noqa: N802 (aiosmtpd's naming)
        self.mail_arguments = arg or ""
        await super().smtp_MAIL(arg)


class _Backend:
    """What the IMAP server logs users in with: the accounts, and the operator's token verifiers."""

    def __init__(self, operator: LocalOperator) -> None:
        self._operator = operator

    @property
    def commands(self) -> Recorded:
        return self._operator._accounts.commands

    @property
    def auth_attempts(self) -> Recorded:
        return self._operator._accounts.auth_attempts

    def login(self, user: str, *, token: str | None = None, password: str | None = None) -> ImapState | None:
        return self._operator._login(user, token=token, password=password)


class _Controller(Controller):
    def factory(self) -> SMTP:
        return _Smtp(self.handler, **self.SMTP_kwargs)


class _Handler:
    """The submission side: authentication, the checks before data, delivery, DSN."""

    def __init__(self, operator: LocalOperator) -> None:
        self.operator = operator
        self.notify: weakref.WeakKeyDictionary[Envelope, dict[str, bool]] = weakref.WeakKeyDictionary()
        self.envids: weakref.WeakKeyDictionary[Envelope, str] = weakref.WeakKeyDictionary()

    async def handle_EHLO(  # noqa: N802 (aiosmtpd's naming)
        self, server: SMTP, session: Session, envelope: Envelope, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname
        return [*responses[:-1], "250-DSN", responses[-1]]

    async def auth_XOAUTH2(self, server: SMTP, args: list[str]) -> AuthResult:  # noqa: N802 (aiosmtpd's naming)
        """``AUTH XOAUTH2 <base64 of user=...^Aauth=Bearer ...^A^A>``."""
        if len(args) < 2:
            return AuthResult(success=False, handled=False)
        try:
            decoded = base64.b64decode(args[-1], validate=True).decode()
        except (ValueError, binascii.Error):
            return AuthResult(success=False, handled=False)
        fields = dict(part.partition("=")[::2] for part in decoded.rstrip("\x01").split("\x01"))
        user, auth = fields.get("user", ""), fields.get("auth", "")
        token = auth[len("Bearer ") :] if auth.startswith("Bearer ") else None
        if not user or token is None:
            ok = False
        elif self.operator._verifier(user) is None:
            ok = self.operator._login(user, token=token) is not None
        else:  # the verifier may ask a provider over the network: not in the event loop
            ok = await asyncio.to_thread(self.operator._login, user, token=token) is not None
        return AuthResult(success=ok, handled=False, auth_data=user.lower() if ok else None)

    def authenticate_plain(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        """PLAIN (when allowed): the mailbox address and its password."""
        if mechanism != "PLAIN" or not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        user = auth_data.login.decode("utf-8", "replace")
        password = auth_data.password.decode("utf-8", "replace")
        ok = self.operator._accounts.login(user, password=password) is not None
        return AuthResult(success=ok, handled=False, auth_data=user.lower() if ok else None)

    def _client_refused(self, session: Session) -> str | None:
        extra = session.ssl or {}
        connection = extra.get("ssl_object")
        if not isinstance(connection, ssl.SSLObject):
            return "530 5.7.0 a client certificate is required"
        refused = self.operator._client_refusal(connection)
        return None if refused is None else f"530 5.7.0 {refused}"

    async def handle_MAIL(  # noqa: N802 (aiosmtpd's naming)
        self, server: SMTP, session: Session, envelope: Envelope, address: str, mail_options: list[str]
    ) -> str:
        refused = self._client_refused(session)
        if refused is not None:
            return refused
        if address.lower() != str(session.auth_data):
            return f"553 5.7.1 <{address}>: sender address not owned by the authenticated user"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        arguments = server.mail_arguments if isinstance(server, _Smtp) else ""
        found = _ENVID.search(arguments)
        if found is not None:
            self.envids[envelope] = decode_xtext(found.group(1))[:200]
        return "250 2.1.0 OK"

    async def handle_RCPT(  # noqa: N802 (aiosmtpd's naming)
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        verdict = check(address)
        if verdict.address is None:
            return f"553 5.1.3 <{address}>: not a valid MSSanté address"
        if verdict.address.domain.lower() not in self.operator.domains:
            return f"550 5.1.1 <{address}>: recipient not served here"
        if len(envelope.rcpt_tos) >= 100:
            return "452 4.5.3 too many recipients"
        envelope.rcpt_tos.append(address)
        notify = next((option[7:] for option in rcpt_options if option.upper().startswith("NOTIFY=")), "")
        self.notify.setdefault(envelope, {})[address] = "SUCCESS" in notify.upper().split(",")
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        content = envelope.original_content or b""
        sender = str(envelope.mail_from)
        now = dt.datetime.now(dt.timezone.utc)
        received = (
            f"Return-Path: <{sender}>\r\n"
            f"Received: from {session.host_name or 'unknown'} by {self.operator.host} (mssante LocalOperator)"
            f" with ESMTPS; {email.utils.format_datetime(now)}\r\n"
        ).encode()
        successes = []
        for recipient in envelope.rcpt_tos:
            self.operator._accounts.account(recipient).add(received + content)
            if self.notify.get(envelope, {}).get(recipient):
                successes.append(recipient)
        if successes:
            self._report(sender, successes, content, self.envids.get(envelope), now)
        return "250 2.0.0 delivered"

    def _report(self, sender: str, recipients: list[str], content: bytes, envid: str | None, at: dt.datetime) -> None:
        """A ``delivered`` DSN into the sender's mailbox (when it is one of ours)."""
        domain = sender.rpartition("@")[2].lower()
        if domain not in self.operator.domains:
            return
        original = _HEADERS.parsebytes(content)
        dsn = Dsn(
            reporting_mta=self.operator.host,
            arrival_date=at,
            original_envelope_id=envid,
            recipients=[
                DsnRecipient(final_recipient=recipient, action="delivered", status="2.0.0") for recipient in recipients
            ],
        )
        report = build_dsn(
            dsn=dsn, sender=f"MAILER-DAEMON@{self.operator.domains[0]}", at=at, original=original, to=sender
        )
        self.operator._accounts.account(sender).add(b"Return-Path: <>\r\n" + report.as_bytes())


class LocalOperator:
    """An MSSanté operator on this machine: SMTP submission and IMAP on 127.0.0.1, mailboxes in memory.

    The submission server requires STARTTLS, a client certificate of the test PKI (checked as an ORG or
    CPS authentication certificate, revocation included), then AUTH XOAUTH2 with a user's token (PLAIN
    with its password when ``allow_plain``); the sender must be the authenticated address. Recipients in
    ``domains`` get a mailbox on first delivery, others are refused with ``550 5.1.1``; ``NOTIFY=SUCCESS``
    puts a ``delivered`` DSN in the sender's mailbox. The IMAP server (STARTTLS and a client certificate
    required) logs in a user by XOAUTH2 token or password. A user added with a ``token_verifier`` is logged in
    with any token the verifier accepts, checked at each authentication: with
    :meth:`LocalPscProvider.token_verifier <mssante.testing.LocalPscProvider.token_verifier>`, the access tokens of
    a Pro Santé Connect session, a refreshed one included, and none once expired or revoked.

    ``pki`` is the :class:`TestPki` to use (default: one TEST PKI shared by the operators of the process);
    ``at`` the time client certificates are checked at (default: now). Use as a context manager, or call
    :meth:`start` and :meth:`stop`::

        with LocalOperator() as operator, operator.submission() as smtp:
            smtp.send(message)
    """

    host = "localhost"
    """The host name to connect to (the server certificate's name)."""

    def __init__(
        self,
        *,
        domains: Sequence[str] = DEFAULT_DOMAINS,
        pki: TestPki | None = None,
        at: dt.datetime | None = None,
        allow_plain: bool = False,
        max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
        timeout: float = 10.0,
    ) -> None:
        if not domains:
            raise ValueError("an operator serves at least one domain")
        if at is not None and at.tzinfo is None:
            raise ValueError("at is timezone-aware (UTC)")
        self.domains: tuple[str, ...] = tuple(domain.lower() for domain in domains)
        """The domains served, the first one for the operator's own addresses."""
        self.application = f"application@{self.domains[0]}"
        """The address of an application user added at start (XOAUTH2 token), the default for :meth:`submission`."""
        self.allow_plain = allow_plain
        self.max_message_size = max_message_size
        self._pki_given = pki
        self._at = at
        self._timeout = timeout
        self._accounts = ImapAccounts()
        self._verifiers: dict[str, TokenVerifier] = {}
        self._pki: TestPki | None = None
        self._server: IssuedCertificate | None = None
        self._client_files: tuple[Path, Path] | None = None
        self._store: TrustStore | None = None
        self._revocation: RevocationChecker | None = None
        self._revoked: list[x509.Certificate] = []
        self._controller: Controller | None = None
        self._imap_port: int | None = None
        self._stack: contextlib.ExitStack | None = None

    def __repr__(self) -> str:
        state = f"smtp={self._controller.port}, imap={self._imap_port}" if self._controller else "stopped"
        return f"LocalOperator({', '.join(self.domains)}; {state})"

    # --- lifecycle ----------------------------------------------------------------------------------------

    def __enter__(self) -> LocalOperator:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> None:
        """Issue the certificates (once) and start both servers; nothing when already running."""
        if self._stack is not None:
            return
        pki, server, client, crls = _material(self._pki_given)
        self._pki, self._server = pki, server
        self._store = TrustStore.from_certificates([*pki.anchors, *pki.intermediates], environment=pki.environment)
        if not self._revoked:
            self._revocation = RevocationChecker(crls=list(crls))
        with contextlib.ExitStack() as stack:
            directory = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="mssante-operator-")))
            server_files = server.write(directory, "server")
            self._client_files = client.write(directory, "client")
            context = server_context(self._store, certificate=server_files[0], key=server_files[1])
            self._warm_up(client)
            if self.application.lower() not in self._accounts.accounts:
                self.add_user(self.application, token=secrets.token_urlsafe(24))
            self._imap_port = stack.enter_context(
                serve(_Backend(self), tls=context, timeout=self._timeout, check_client=self._client_refusal)
            )
            handler = _Handler(self)
            controller = _Controller(
                handler,
                hostname="127.0.0.1",
                port=_free_port(),
                server_hostname=self.host,
                tls_context=context,
                require_starttls=True,
                auth_required=True,
                auth_require_tls=True,
                auth_exclude_mechanism=["LOGIN"] if self.allow_plain else ["LOGIN", "PLAIN"],
                authenticator=handler.authenticate_plain,
                data_size_limit=self.max_message_size,
                timeout=self._timeout,
            )
            controller.start()
            stack.callback(controller.stop)
            self._controller = controller
            self._stack = stack.pop_all()

    def stop(self) -> None:
        """Stop both servers and delete the certificate files; the mailboxes stay readable."""
        stack, self._stack, self._controller, self._imap_port = self._stack, None, None, None
        if stack is not None:
            stack.close()

    def _verifier(self, user: str) -> TokenVerifier | None:
        with self._accounts.lock:
            return self._verifiers.get(user.lower())

    def _login(self, user: str, *, token: str | None = None, password: str | None = None) -> ImapState | None:
        """The account when the token or password is its own, or its verifier accepts the token; else None."""
        found = self._accounts.login(user, token=token, password=password)
        if found is not None or token is None:
            return found
        verifier = self._verifier(user)
        if verifier is None:
            return None
        try:
            accepted = verifier(token)
        except Exception:  # a verifier that fails refuses (fail closed), as a server would
            return None
        if not accepted:
            return None
        with self._accounts.lock:
            return self._accounts.accounts.get(user.lower())

    def _client_refusal(self, connection: ssl.SSLObject | ssl.SSLSocket) -> str | None:
        """Why the client of ``connection`` is refused (its certificate, revocation included), or None."""
        at = self._at or dt.datetime.now(dt.timezone.utc)
        for purpose in _CLIENT_PURPOSES:
            report = check_peer(connection, purpose=purpose, store=self.trust_store, at=at, revocation=self.revocation)
            if report is None:
                return "a client certificate is required"
            if report.ok:
                return None
            if any(finding.code == "MSS-REV-002" for finding in report.report.errors):
                return "the client certificate is revoked"
        return "the client certificate is not an IGC Santé ORG or CPS authentication certificate"

    def revoke(self, *certificates: IssuedCertificate | x509.Certificate) -> None:
        """Revoke ``certificates`` from now on: the operator's CRLs list them, both servers refuse them, and
        :attr:`revocation` (given to the clients it makes) says so."""
        for item in certificates:
            certificate = item.certificate if isinstance(item, IssuedCertificate) else item
            self._revoked.append(certificate)
        pki = self.pki
        crls = [pki.crl(name, revoked=[c for c in self._revoked if pki.issuer_of(c).name == name]) for name in CA_NAMES]
        self._revocation = RevocationChecker(crls=crls)

    def _warm_up(self, client: IssuedCertificate) -> None:
        """Run once, in this thread, what the server threads will run (imports done before they start)."""
        assert self._store is not None
        at = self._at or dt.datetime.now(dt.timezone.utc)
        verify(client.certificate, purpose=Purpose.ORGANISATION, store=self._store, at=at, revocation=self.revocation)
        sample = compose(sender=self.application, to=[self.application], nil="WARMUP", at=at, text="-")
        dsn = Dsn(
            reporting_mta=self.host,
            recipients=[DsnRecipient(final_recipient=self.application, action="delivered", status="2.0.0")],
        )
        build_dsn(dsn=dsn, sender=self.application, at=at, original=_HEADERS.parsebytes(sample.as_bytes())).as_bytes()
        parse(sample.as_bytes())

    # --- what tests use -----------------------------------------------------------------------------------

    def _running(self) -> Controller:
        if self._controller is None:
            raise RuntimeError("the operator is not running: use it as a context manager or call start()")
        return self._controller

    @property
    def smtp_port(self) -> int:
        """The submission server's port on 127.0.0.1."""
        port: int = self._running().port
        return port

    @property
    def imap_port(self) -> int:
        """The IMAP server's port on 127.0.0.1 (STARTTLS)."""
        self._running()
        assert self._imap_port is not None
        return self._imap_port

    @property
    def pki(self) -> TestPki:
        """The test PKI the certificates come from."""
        if self._pki is None:
            self._pki = _material(self._pki_given)[0]
        return self._pki

    @property
    def trust_store(self) -> TrustStore:
        """The trust store of the test PKI, for clients of this operator."""
        if self._store is None:
            pki = self.pki
            self._store = TrustStore.from_certificates([*pki.anchors, *pki.intermediates], environment=pki.environment)
        return self._store

    @property
    def revocation(self) -> RevocationChecker:
        """A revocation checker holding a CRL of every CA of the test PKI."""
        if self._revocation is None:
            self._revocation = RevocationChecker(crls=list(_material(self._pki_given)[3]))
        return self._revocation

    @property
    def server_certificate(self) -> IssuedCertificate:
        """The servers' certificate (SERV SSL for ``localhost``)."""
        if self._server is None:
            self._server = _material(self._pki_given)[1]
        return self._server

    def client_certificate(self, directory: str | Path, *, name: str = "LOGICIEL") -> tuple[Path, Path]:
        """Issue an ORG authentication certificate named ``name``; its PEM files (chain, key) in ``directory``."""
        return self.pki.organisation(name, usage="auth").write(directory, re.sub(r"\W", "_", name.lower()))

    @overload
    def add_user(
        self, address: str, *, token: str, password: str | None = None, token_verifier: TokenVerifier | None = None
    ) -> str: ...
    @overload
    def add_user(
        self, address: str, *, token: None = None, password: None = None, token_verifier: None = None
    ) -> str: ...
    @overload
    def add_user(
        self, address: str, *, token: None = None, password: str, token_verifier: TokenVerifier | None = None
    ) -> None: ...
    @overload
    def add_user(
        self, address: str, *, token: None = None, password: str | None = None, token_verifier: TokenVerifier
    ) -> None: ...
    @overload
    def add_user(
        self,
        address: str,
        *,
        token: str | None = None,
        password: str | None = None,
        token_verifier: TokenVerifier | None = None,
    ) -> str | None: ...
    def add_user(
        self,
        address: str,
        *,
        token: str | None = None,
        password: str | None = None,
        token_verifier: TokenVerifier | None = None,
    ) -> str | None:
        """Create (or update) the mailbox ``address`` with an XOAUTH2 ``token``, a ``token_verifier`` and/or a
        ``password``; the credentials given replace the ones it had.

        ``token_verifier`` is called with each XOAUTH2 token this user authenticates with (in a server thread)
        and accepts it when it returns true (an exception refuses it): give :meth:`LocalPscProvider.token_verifier
        <mssante.testing.LocalPscProvider.token_verifier>` to accept the access tokens the provider issued for
        the user, whichever the session holds at the time. With none of the three, a random token is made.
        Returns the token (None when none was given or made).
        """
        verdict = check(address)
        if verdict.address is None:
            raise ValueError(f"not a valid MSSanté address: {address!r}")
        if verdict.address.domain.lower() not in self.domains:
            raise ValueError(f"{address!r} is not in the operator's domains ({', '.join(self.domains)})")
        if token is None and password is None and token_verifier is None:
            token = secrets.token_urlsafe(24)
        account = self._accounts.account(address)
        with account.lock:
            account.token, account.password = token, password
        with self._accounts.lock:
            if token_verifier is None:
                self._verifiers.pop(address.lower(), None)
            else:
                self._verifiers[address.lower()] = token_verifier
        return token

    def token(self, address: str) -> str | None:
        """The XOAUTH2 token of ``address`` (None when it has none)."""
        return self._accounts.account(address).token

    def account(self, address: str) -> ImapState:
        """The mailbox of ``address``: its folders, flags and what its clients asked (created when missing)."""
        return self._accounts.account(address)

    def messages(self, address: str, folder: str = "INBOX") -> list[bytes]:
        """The messages in the mailbox of ``address``, oldest first, as delivered (``Return-Path`` and
        ``Received`` added)."""
        account = self._accounts.account(address)
        with account.lock:
            return [stored.data for stored in account.folders.get(folder, [])]

    def _client(self, certificate: tuple[Path, Path] | None) -> tuple[Path, Path]:
        if certificate is not None:
            return certificate
        self._running()
        assert self._client_files is not None
        return self._client_files

    def _credentials(self, address: str, token: str | None, password: str | None) -> tuple[str | None, str | None]:
        if token is not None or password is not None:
            return token, password
        account = self._accounts.account(address)
        return (account.token, None) if account.token is not None else (None, account.password)

    def submission(
        self,
        address: str | None = None,
        *,
        token: str | None = None,
        password: str | None = None,
        client_certificate: tuple[Path, Path] | None = None,
        timeout: float = 10.0,
    ) -> Submission:
        """A :class:`~mssante.transport.Submission` to this operator as ``address`` (default :attr:`application`).

        Every check is in force: the server certificate, revocation, the client certificate (default: one
        issued at start), and XOAUTH2 with the user's token (PLAIN with ``password``).
        """
        address = address or self.application
        token, password = self._credentials(address, token, password)
        return Submission(
            self.host,
            self.smtp_port,
            store=self.trust_store,
            client_certificate=self._client(client_certificate),
            username=address,
            token=(lambda: token) if token is not None else None,
            password=password if token is None else None,
            revocation=self.revocation,
            timeout=timeout,
        )

    def mailbox(
        self,
        address: str,
        *,
        token: str | None = None,
        password: str | None = None,
        client_certificate: tuple[Path, Path] | None = None,
        folder: str = "INBOX",
        timeout: float = 10.0,
    ) -> ImapMailbox:
        """A :class:`~mssante.transport.ImapMailbox` on the mailbox of ``address``, every TLS check in force.

        XOAUTH2 with the user's token, LOGIN with its password when it has no token (or with ``password``).
        """
        token, password = self._credentials(address, token, password)
        return ImapMailbox(
            self.host,
            self.imap_port,
            store=self.trust_store,
            client_certificate=self._client(client_certificate),
            username=address,
            token=(lambda: token) if token is not None else None,
            password=password if token is None else None,
            folder=folder,
            revocation=self.revocation,
            timeout=timeout,
        )

    def deliveries(self) -> Iterator[tuple[str, bytes]]:
        """Every message held, as ``(address, bytes)``, mailbox by mailbox."""
        with self._accounts.lock:
            accounts = list(self._accounts.accounts.items())
        for address, account in accounts:
            with account.lock:
                data = [stored.data for folder in account.folders.values() for stored in folder]
            for item in data:
                yield address, item

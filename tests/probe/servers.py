"""The servers the probe tests set up, right and wrong: the aiosmtpd recorder of the transport tests with the
options of an MSSanté MX or submission server (and each one's misconfiguration), and the test IMAP server of
:mod:`mssante.testing` (LOGINDISABLED before STARTTLS), or misconfigured: LOGIN allowed, or a plain-text mechanism
offered, before it."""

from __future__ import annotations

import contextlib
import ssl
import threading
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path

import attrs
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from mssante.net import TLS12_CIPHERS
from mssante.pki import TrustStore, server_context
from mssante.testing import IssuedCertificate
from mssante.testing._imap import ImapAccounts, _Handler, _Server
from tests.transport.smtp_server import Recorder, free_port


@attrs.define
class ProbedRecorder(Recorder):
    """The transport tests' recorder, announcing DSN after STARTTLS and naming itself ``ehlo_name`` in EHLO."""

    dsn: bool = True
    ehlo_name: str | None = None

    async def handle_EHLO(
        self, server: SMTP, session: Session, envelope: Envelope, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname  # what aiosmtpd does itself when the handler has no EHLO hook
        if self.ehlo_name is not None:
            responses[0] = f"250-{self.ehlo_name}"
        if self.dsn and session.ssl is not None:
            responses.insert(-1, "250-DSN")
        return responses


class _Recording(SMTP):
    """aiosmtpd's server, which tells its handler every envelope, data and login command, as it came."""

    async def smtp_MAIL(self, arg: str | None) -> None:
        self._record(f"MAIL {arg}")
        await super().smtp_MAIL(arg)

    async def smtp_RCPT(self, arg: str | None) -> None:
        self._record(f"RCPT {arg}")
        await super().smtp_RCPT(arg)

    async def smtp_DATA(self, arg: str | None) -> None:
        self._record(f"DATA {arg or ''}")
        await super().smtp_DATA(arg)

    async def smtp_AUTH(self, arg: str | None) -> None:
        self._record(f"AUTH {arg}")
        await super().smtp_AUTH(arg)

    def _record(self, command: str) -> None:
        if isinstance(self.event_handler, Recorder):
            self.event_handler.commands.append(command)


class _Controller(Controller):
    def factory(self) -> SMTP:
        return _Recording(self.handler, **self.SMTP_kwargs)


@contextlib.contextmanager
def smtp(
    handler: Recorder,
    *,
    tls: ssl.SSLContext | None,
    require_starttls: bool = True,
    auth_require_tls: bool = True,
    size: int | None = 100_000,
    mechanisms_excluded: Sequence[str] = ("LOGIN", "PLAIN"),
    hostname: str = "localhost",
) -> Iterator[Controller]:
    """An aiosmtpd server on 127.0.0.1 during the block: STARTTLS (required by default) when given a context."""
    controller = _Controller(
        handler,
        hostname="127.0.0.1",
        port=free_port(),
        server_hostname=hostname,
        tls_context=tls,
        require_starttls=tls is not None and require_starttls,
        data_size_limit=size,
        auth_require_tls=auth_require_tls,
        auth_exclude_mechanism=list(mechanisms_excluded),
    )
    controller.start()
    try:
        yield controller
    finally:
        controller.stop()


def context(
    store: TrustStore,
    issued: IssuedCertificate,
    directory: Path,
    name: str,
    *,
    require_client_certificate: bool = True,
    minimum: ssl.TLSVersion | None = None,
    ciphers: Sequence[str] = TLS12_CIPHERS,
    also_trusted: Sequence[str] = (),
) -> ssl.SSLContext:
    """A server context with ``issued`` (its chain) and the misconfiguration asked for: an older TLS version
    allowed, other suites, no client certificate required, other anchors trusted for the clients' certificates."""
    certificate, key = issued.write(directory, name)
    made = server_context(
        store,
        certificate=certificate,
        key=key,
        require_client_certificate=require_client_certificate,
        ciphers=ciphers,
    )
    if minimum is not None:
        with warnings.catch_warnings():  # TLS 1.0 and 1.1 are deprecated: this server allows them on purpose
            warnings.simplefilter("ignore", DeprecationWarning)
            made.minimum_version = minimum
        made.set_ciphers("DEFAULT:@SECLEVEL=0")  # the suites of TLS 1.0 and 1.1 too
    for pem in also_trusted:
        made.load_verify_locations(cadata=pem)
    return made


@attrs.frozen
class ImapOptions:
    """How the test IMAP server is misconfigured before STARTTLS (by default it is not)."""

    login_disabled: bool = True
    plain_before_tls: bool = False


class _MisconfiguredHandler(_Handler):
    """The test IMAP server's handler, its capabilities before TLS changed as ``probe_options`` says."""

    def capabilities(self) -> str:
        items = super().capabilities().split()
        options: ImapOptions = getattr(self.server, "probe_options", ImapOptions())
        if not self.encrypted:
            if not options.login_disabled:
                items = [item for item in items if item != "LOGINDISABLED"]
            if options.plain_before_tls:
                items.append("AUTH=PLAIN")
        return " ".join(items)


@contextlib.contextmanager
def imap(tls: ssl.SSLContext | None, options: ImapOptions = ImapOptions()) -> Iterator[int]:
    """The test IMAP server (no mailbox needed: the probe never logs in) with ``options``; its port."""
    server = _Server(ImapAccounts(), tls, implicit=False, timeout=5.0, check_client=None)
    if options != ImapOptions():
        server.RequestHandlerClass = _MisconfiguredHandler
        server.probe_options = options  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.close_connections()
        server.server_close()
        thread.join(5)

"""An in-process aiosmtpd server for the transport tests: STARTTLS, mutual TLS, AUTH XOAUTH2, SIZE, and faults.

:class:`Recorder` is the handler: it keeps what arrived (and the ``MAIL`` and ``RCPT`` command lines as they came
over the wire) and can be told to answer MAIL, some recipients or DATA with a given reply, to drop the connection
during DATA, or to trickle continuation lines before its answer to DATA. :func:`serve` runs a
:class:`~aiosmtpd.controller.Controller` on 127.0.0.1 (a free port) for the length of a ``with`` block.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import socket
import ssl
from collections.abc import Iterator
from typing import Any

import attrs
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, Session

USER = "application@hopital.mssante.fr"
TOKEN = "psc-access-token-5f1e0c"
TRICKLE_INTERVAL = 0.025
"""Seconds between two continuation lines of a trickled reply."""


@attrs.define
class Received:
    """One message as the server took it."""

    sender: str
    recipients: list[str]
    data: bytes
    mail_options: list[str]
    peer: Any


@attrs.define
class Recorder:
    """The handler: records messages and the connections that sent MAIL; faults on request."""

    user: str = USER
    token: str = TOKEN
    mail_reply: str | None = None
    rcpt_replies: dict[str, str] = attrs.Factory(dict)
    data_reply: str | None = None
    drop_in_data: bool = False
    data_trickle: int = 0
    """Continuation lines (``250-``) sent one at a time, slowly, before the answer to the data."""
    trickled: int = 0
    messages: list[Received] = attrs.Factory(list)
    mail_peers: list[Any] = attrs.Factory(list)
    data_commands: int = 0
    auth_attempts: list[str] = attrs.Factory(list)
    commands: list[str] = attrs.Factory(list)
    """The ``MAIL`` and ``RCPT`` commands as they came, before any parsing (``RCPT TO:<...> NOTIFY=...``)."""

    @property
    def connections(self) -> int:
        """How many distinct connections (client address and port) sent MAIL."""
        return len(set(self.mail_peers))

    async def auth_XOAUTH2(self, server: SMTP, args: list[str]) -> AuthResult:
        """``args``: ``XOAUTH2 <initial response>``: the base64 of ``user=...^Aauth=Bearer ...^A^A``."""
        if len(args) < 2:
            return AuthResult(success=False, handled=False)
        try:
            decoded = base64.b64decode(args[-1], validate=True).decode()
        except ValueError:
            return AuthResult(success=False, handled=False)
        self.auth_attempts.append(decoded)
        return AuthResult(success=decoded == f"user={self.user}\x01auth=Bearer {self.token}\x01\x01", handled=False)

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, mail_options: list[str]
    ) -> str:
        self.mail_peers.append(session.peer)
        if self.mail_reply is not None:
            return self.mail_reply
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if address in self.rcpt_replies:
            return self.rcpt_replies[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.data_commands += 1
        if self.drop_in_data:
            assert server.transport is not None
            server.transport.close()  # before any reply: the client sees the connection drop
            return "451 dropped"
        for _ in range(self.data_trickle):
            if server.transport is None or server.transport.is_closing():  # the client has gone
                return "451 gone"
            await server.push("250-still working")
            self.trickled += 1
            await asyncio.sleep(TRICKLE_INTERVAL)
        if self.data_reply is not None:
            return self.data_reply
        content = envelope.original_content or b""
        self.messages.append(
            Received(
                sender=str(envelope.mail_from),
                recipients=list(envelope.rcpt_tos),
                data=content,
                mail_options=list(envelope.mail_options),
                peer=session.peer,
            )
        )
        return "250 2.0.0 queued"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class _Recording(SMTP):
    """aiosmtpd's server, which gives its handler the MAIL and RCPT command lines as they came."""

    async def smtp_MAIL(self, arg: str | None) -> None:
        if isinstance(self.event_handler, Recorder):
            self.event_handler.commands.append(f"MAIL {arg}")
        await super().smtp_MAIL(arg)

    async def smtp_RCPT(self, arg: str | None) -> None:
        if isinstance(self.event_handler, Recorder):
            self.event_handler.commands.append(f"RCPT {arg}")
        await super().smtp_RCPT(arg)


class _Controller(Controller):
    def factory(self) -> SMTP:
        return _Recording(self.handler, **self.SMTP_kwargs)


@contextlib.contextmanager
def serve(
    handler: Recorder, *, tls: ssl.SSLContext | None, size: int = 100_000, hostname: str = "localhost"
) -> Iterator[Controller]:
    """Run the server on 127.0.0.1 during the block: STARTTLS required when given a TLS context, none otherwise."""
    controller = _Controller(
        handler,
        hostname="127.0.0.1",
        port=free_port(),
        server_hostname=hostname,
        tls_context=tls,
        require_starttls=tls is not None,
        data_size_limit=size,
        auth_require_tls=True,
        auth_exclude_mechanism=["LOGIN", "PLAIN"],
    )
    controller.start()
    try:
        yield controller
    finally:
        controller.stop()

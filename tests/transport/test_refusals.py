"""Every refusal a session meets carries its finding: ``TransportError.report`` says why, with a stable code.

A refused server certificate gives the codes of the certificate check (``MSS-PKI-*``), a missing STARTTLS
``MSS-TRN-003``, a refused client certificate ``MSS-TRN-006``, an unreachable server ``MSS-TRN-001``: the same for
Submission, AsyncSubmission and ImapMailbox (STARTTLS and TLS from the first byte), against servers started here on
127.0.0.1. The report is never empty and never ok.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest

from mssante.errors import TransportError
from mssante.pki import RevocationChecker, TrustStore
from mssante.testing import TestPki
from mssante.testing._imap import ImapState
from mssante.testing._imap import serve as serve_imap
from mssante.transport import ImapMailbox, Submission
from mssante.transport._async_submission import AsyncSubmission
from tests.transport.conftest import Files, tls, write
from tests.transport.smtp_server import TOKEN, USER, Recorder
from tests.transport.smtp_server import serve as serve_smtp

CLIENTS = ["sync", "async", "imap", "imap implicit"]


@contextlib.contextmanager
def server(kind: str, context: ssl.SSLContext | None) -> Iterator[int]:
    """A server of ``kind`` on 127.0.0.1 with ``context`` (STARTTLS, or TLS from the first byte), its port."""
    if kind.startswith("imap"):
        with serve_imap(ImapState(), tls=context, implicit=kind == "imap implicit") as port:
            yield port
    else:
        with serve_smtp(Recorder(), tls=context) as controller:
            yield controller.port


@pytest.fixture
def nowhere() -> Iterator[int]:
    """A port of this machine where nothing listens."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        yield probe.getsockname()[1]


def open_session(kind: str, port: int, store: TrustStore, crls: RevocationChecker, client: Files | None) -> None:
    """Open a session of ``kind`` (SMTP submission, sync or async, or IMAP) to ``port``, with ``client``."""
    options = {
        "store": store, "client_certificate": (client.certificate, client.key) if client else None,
        "username": USER, "token": lambda: TOKEN, "revocation": crls, "timeout": 5,
    }  # fmt: skip
    if kind == "sync":
        with Submission("localhost", port, **options) as smtp:  # type: ignore[arg-type]
            smtp.connect()
    elif kind == "async":

        async def scenario() -> None:
            async with AsyncSubmission("localhost", port, **options) as smtp:  # type: ignore[arg-type]
                await smtp.connect()

        asyncio.run(scenario())
    else:
        ImapMailbox("localhost", port, implicit_tls=kind == "imap implicit", **options).connect()  # type: ignore[arg-type]


def refusal(kind: str, port: int, store: TrustStore, crls: RevocationChecker, client: Files | None) -> TransportError:
    """What opening a session of ``kind`` to ``port`` raises: never an empty report, never an ok one."""
    with pytest.raises(TransportError) as caught:
        open_session(kind, port, store, crls, client)
    error = caught.value
    assert not error.report.ok
    assert error.report.findings[0].message  # said, not only coded
    return error


@pytest.mark.parametrize("kind", CLIENTS)
def test_a_server_certificate_for_another_host(
    kind: str, pki: TestPki, store: TrustStore, crls: RevocationChecker, client: Files, files: Path
) -> None:
    context = tls(store, write(pki.server(["mss.example.org"]), files, "refusals-other-host"))
    with server(kind, context) as port:
        error = refusal(kind, port, store, crls, client)
    assert "MSS-PKI-010" in error.report.codes
    assert "MSS-PKI-010" in str(error)


@pytest.mark.parametrize("kind", CLIENTS)
def test_an_expired_server_certificate(
    kind: str, pki: TestPki, store: TrustStore, crls: RevocationChecker, client: Files, files: Path
) -> None:
    context = tls(store, write(pki.server(["localhost"], expired=True), files, "refusals-expired"))
    with server(kind, context) as port:
        assert "MSS-PKI-007" in refusal(kind, port, store, crls, client).report.codes


@pytest.mark.parametrize("kind", ["sync", "async", "imap"])
def test_no_starttls(kind: str, store: TrustStore, crls: RevocationChecker, client: Files) -> None:
    with server(kind, None) as port:
        assert refusal(kind, port, store, crls, client).report.codes == ("MSS-TRN-003",)


@pytest.mark.parametrize("kind", CLIENTS)
def test_a_client_certificate_of_another_pki(
    kind: str, foreign: TestPki, server_tls: ssl.SSLContext, store: TrustStore, crls: RevocationChecker, files: Path
) -> None:
    stranger = write(foreign.organisation("LOGICIEL", usage="auth"), files, "refusals-stranger")
    with server(kind, server_tls) as port:
        error = refusal(kind, port, store, crls, stranger)
    assert error.report.codes == ("MSS-TRN-006",)
    assert "refused the client certificate" in str(error)


@pytest.mark.parametrize("kind", CLIENTS)
def test_no_client_certificate(
    kind: str, server_tls: ssl.SSLContext, store: TrustStore, crls: RevocationChecker
) -> None:
    with server(kind, server_tls) as port:
        error = refusal(kind, port, store, crls, None)
    assert error.report.codes == ("MSS-TRN-006",)
    assert "requires a client certificate" in str(error)


@pytest.mark.parametrize("kind", CLIENTS)
def test_an_unreachable_server(kind: str, nowhere: int, store: TrustStore, crls: RevocationChecker) -> None:
    assert refusal(kind, nowhere, store, crls, None).report.codes == ("MSS-TRN-001",)


def test_a_message_without_sender_or_recipient(store: TrustStore, crls: RevocationChecker) -> None:
    session = Submission("localhost", 1, store=store, revocation=crls)
    with pytest.raises(TransportError) as caught:
        session.send(b"To: dr.martin@hopital.mssante.fr\r\n\r\nbody\r\n")
    assert caught.value.report.codes == ("MSS-TRN-020",)
    with pytest.raises(TransportError) as caught:
        session.send(f"From: {USER}\r\nSubject: x\r\n\r\nbody\r\n".encode())
    assert caught.value.report.codes == ("MSS-TRN-021",)

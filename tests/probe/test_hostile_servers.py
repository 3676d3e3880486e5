"""Hostile servers end a probe in findings, within its deadline: never a traceback, never a hang."""

from __future__ import annotations

import datetime as dt
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mssante.errors import InvalidInput
from mssante.pki import TrustStore
from mssante.probe import probe_server
from tests.transport.liars import TLS_RECORD, Liar, imap_greeting, smtp_endless_reply, smtp_greeting

TIMEOUT = 0.5
MAX_DURATION = 2.0


def _trickled_handshake(liar: Liar, connection: socket.socket) -> None:
    """STARTTLS required and accepted, then a TLS handshake trickled."""
    stream = connection.makefile("rb")
    connection.sendall(b"220 mx.example ESMTP\r\n")
    liar.command(stream)  # EHLO
    connection.sendall(b"250-mx.example\r\n250 STARTTLS\r\n")
    liar.command(stream)  # MAIL FROM:<>
    connection.sendall(b"530 5.7.0 STARTTLS first\r\n")
    liar.command(stream)  # STARTTLS
    connection.sendall(b"220 2.0.0 ready to start TLS\r\n")
    liar.trickle(connection, TLS_RECORD)


def _huge_line(liar: Liar, connection: socket.socket) -> None:
    connection.sendall(b"220 " + b"x" * 10_000 + b"\r\n")


def _not_smtp(liar: Liar, connection: socket.socket) -> None:
    connection.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n")


def _closes(liar: Liar, connection: socket.socket) -> None:
    connection.sendall(b"220-mx.example\r\n")


@pytest.fixture
def liar(request: pytest.FixtureRequest) -> Iterator[Liar]:
    served = Liar(request.param)
    try:
        yield served
    finally:
        served.close()


@pytest.mark.parametrize(
    ("liar", "code"),
    [
        (smtp_greeting, "MSS-PRB-021"),
        (smtp_endless_reply, "MSS-PRB-021"),
        (_trickled_handshake, "MSS-PRB-021"),
        (_huge_line, "MSS-PRB-022"),
        (_not_smtp, "MSS-PRB-022"),
        (_closes, "MSS-PRB-002"),
    ],
    indirect=["liar"],
)
def test_a_hostile_server_is_a_finding_within_the_deadline(
    liar: Liar, code: str, store: TrustStore, now: dt.datetime
) -> None:
    started = time.monotonic()
    report = probe_server(
        "127.0.0.1", liar.port, role="mx", store=store, at=now, timeout=TIMEOUT, max_duration=MAX_DURATION
    )
    assert time.monotonic() - started < MAX_DURATION + 1.0
    assert code in report.codes, str(report)
    assert not report.ok
    if liar.script is _trickled_handshake:
        assert report.check("tls-handshake").codes == ("MSS-PRB-021",)


def test_nothing_listening(store: TrustStore, now: dt.datetime) -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    report = probe_server("127.0.0.1", port, store=store, at=now, timeout=TIMEOUT)
    assert [check.name for check in report.checks] == ["connection"]
    assert report.codes == ("MSS-PRB-001",)


@pytest.mark.parametrize("liar", [imap_greeting], indirect=True)
def test_a_trickling_imap_server(liar: Liar, store: TrustStore, now: dt.datetime) -> None:
    report = probe_server("127.0.0.1", liar.port, role="imap", store=store, at=now, timeout=TIMEOUT)
    assert report.check("greeting").codes == ("MSS-PRB-021",)


def test_settings_the_probe_cannot_use(store: TrustStore, now: dt.datetime, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="TLS settings"):
        probe_server("127.0.0.1", 1, store=store, at=now, allowed_suites=["NO-SUCH-SUITE"])
    (tmp_path / "empty.pem").write_bytes(b"")
    with pytest.raises((InvalidInput, OSError)):
        probe_server("127.0.0.1", 1, store=store, at=now, client_certificate=(tmp_path / "empty.pem",) * 2)

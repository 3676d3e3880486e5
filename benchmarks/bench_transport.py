"""Submission of 1,000 small messages over one STARTTLS connection, against bare smtplib on the same server.

Run: ``python benchmarks/bench_transport.py`` (from the repository root; needs ``aiosmtpd``). The server is an
in-process aiosmtpd on 127.0.0.1 with STARTTLS (a SERV SSL certificate of a throw-away test PKI), SIZE, no
AUTH and no client certificate. ``mssante`` opens the session (STARTTLS, IGC Santé check of the server
certificate) and sends with :meth:`Submission.send_many`; the baseline is ``smtplib``: ``starttls()`` with the
same client context, then ``send_message`` for each message. Prints a Markdown table: milliseconds for the
whole batch (best of a few turns, ours and the baseline interleaved) and the ratio.
"""

from __future__ import annotations

import datetime as dt
import smtplib
import socket
import tempfile
import time
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from mssante.message import compose
from mssante.pki import Environment, RevocationChecker, TrustStore, client_context, server_context
from mssante.testing import CA_NAMES, TestPki
from mssante.transport._submission import Submission

MESSAGES = 1_000
TURNS = 3
SENDER = "application@hopital.mssante.fr"
TO = "dr.martin@hopital.mssante.fr"


class Sink:
    """Counts the messages it takes."""

    def __init__(self) -> None:
        self.count = 0

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        self.count += 1
        return "250 OK"


def _port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _messages() -> list[EmailMessage]:
    at = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.timezone.utc)
    return [
        compose(sender=SENDER, to=[TO], nil="DEV000001", at=at, subject=f"Message {n}", text="Bonjour.\n" * 20)
        for n in range(MESSAGES)
    ]


def _best(function: Callable[[], object]) -> float:
    start = time.perf_counter()
    function()
    return (time.perf_counter() - start) * 1e3


def main() -> None:
    """Print the table."""
    now = dt.datetime.now(dt.timezone.utc)
    pki = TestPki.create(environment=Environment.PROD, at=now)
    store = TrustStore.from_certificates([*pki.anchors, *pki.intermediates], environment=pki.environment)
    crls = RevocationChecker(crls=[pki.crl(name) for name in CA_NAMES])
    issued = pki.server(["localhost"])
    messages = _messages()
    sink = Sink()
    with tempfile.TemporaryDirectory() as directory:
        certificate, key = Path(directory) / "server.pem", Path(directory) / "server.key"
        certificate.write_bytes(issued.pem())
        key.write_bytes(issued.key_pem())
        tls = server_context(store, certificate=certificate, key=key, require_client_certificate=False)
        controller = Controller(
            sink,
            hostname="127.0.0.1",
            port=_port(),
            tls_context=tls,
            require_starttls=True,
            server_hostname="localhost",
        )
    controller.start()
    context = client_context(store)

    def ours() -> None:
        with Submission("localhost", controller.port, store=store, revocation=crls) as smtp:
            results = smtp.send_many(messages)
        assert all(result.ok for result in results)

    def bare() -> None:
        with smtplib.SMTP("localhost", controller.port) as smtp:
            smtp.starttls(context=context)
            for message in messages:
                smtp.send_message(message)

    try:
        mine, theirs = [], []
        for _ in range(TURNS):
            mine.append(_best(ours))
            theirs.append(_best(bare))
    finally:
        controller.stop()
    assert sink.count == 2 * TURNS * MESSAGES
    ours_ms, base_ms = min(mine), min(theirs)
    print(f"Best of {TURNS} runs, {MESSAGES} messages over one STARTTLS connection\n")
    print("| operation | mssante ms | baseline | baseline ms | ratio |")
    print("|---|---:|---|---:|---:|")
    print(
        f"| Submission.send_many, {MESSAGES} messages | {ours_ms:.0f} | smtplib starttls + send_message "
        f"| {base_ms:.0f} | {ours_ms / base_ms:.2f} |"
    )


if __name__ == "__main__":
    main()

"""Submission of 1,000 small messages: against bare smtplib on one connection, then sync against async.

Run: ``python benchmarks/bench_transport.py`` (from the repository root; needs ``aiosmtpd`` and the ``async``
extra). The server is an in-process aiosmtpd on 127.0.0.1 with STARTTLS (a SERV SSL certificate of a throw-away
test PKI), SIZE, no AUTH and no client certificate. ``mssante`` opens the session (STARTTLS, IGC Santé check of
the server certificate) for each connection.

1. :meth:`Submission.send_many` over one connection against ``smtplib``: ``starttls()`` with the same client
   context, then ``send_message`` for each message.
2. The same 1,000 messages sent by :class:`Submission` over one connection and by :class:`AsyncSubmission` over
   10 concurrent connections (100 messages each, ``asyncio.gather``), against the same server: first as is,
   then with the server taking 2 ms per message (``await asyncio.sleep(0.002)`` before answering the data,
   for both clients alike), closer to a real operator that writes each message to its queue before it
   answers. Client and server share one process (and its GIL): without that latency the server's CPU is the
   bottleneck and concurrency has nothing to overlap.
3. The same comparison with the server in a process of its own (no server time added), so that client and server
   each have a core, as a vendor and its operator do.

Prints Markdown tables: milliseconds for the whole batch (best of a few turns, the two sides interleaved) and
the ratio.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import multiprocessing
import smtplib
import socket
import ssl
import tempfile
import time
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from mssante.message import compose
from mssante.pki import Environment, RevocationChecker, TrustStore, client_context, server_context
from mssante.testing import CA_NAMES, TestPki
from mssante.transport._async_submission import AsyncSubmission
from mssante.transport._submission import Submission

MESSAGES = 1_000
TURNS = 3
CONNECTIONS = 10
LATENCY = 0.002
SENDER = "application@hopital.mssante.fr"
TO = "dr.martin@hopital.mssante.fr"


class Sink:
    """Counts the messages it takes; waits ``delay`` seconds before answering each one."""

    def __init__(self) -> None:
        self.count = 0
        self.delay = 0.0

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        if self.delay:
            await asyncio.sleep(self.delay)
        self.count += 1
        return "250 OK"


def _serve_elsewhere(certificate: str, key: str, port: int, ready: Any, stop: Any) -> None:
    """The server of part 3, in its own process: STARTTLS, no client certificate, answers at once."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certificate, key)
    controller = Controller(
        Sink(), hostname="127.0.0.1", port=port, tls_context=context, require_starttls=True,
        server_hostname="localhost",
    )  # fmt: skip
    controller.start()
    ready.set()
    stop.wait()
    controller.stop()


@contextlib.contextmanager
def _server_apart(certificate: Path, key: Path) -> Iterator[int]:
    """Part 3's server running in a process of its own during the block: its port."""
    spawn = multiprocessing.get_context("spawn")
    ready, stop = spawn.Event(), spawn.Event()
    port = _port()
    server = spawn.Process(target=_serve_elsewhere, args=(str(certificate), str(key), port, ready, stop))
    server.start()
    try:
        if not ready.wait(30):
            raise RuntimeError("the server process did not start")
        yield port
    finally:
        stop.set()
        server.join(30)


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


def _interleaved(first: Callable[[], object], second: Callable[[], object]) -> tuple[float, float]:
    """The best milliseconds of each of the two, run in turns: a busy machine weighs on both alike."""
    ones, twos = [], []
    for _ in range(TURNS):
        ones.append(_best(first))
        twos.append(_best(second))
    return min(ones), min(twos)


def _report(
    ours_ms: float, base_ms: float, paired: dict[float, tuple[float, float]], apart: tuple[float, float]
) -> None:
    """Print the two tables."""
    each = MESSAGES // CONNECTIONS
    print(f"Best of {TURNS} runs, {MESSAGES} messages over one STARTTLS connection\n")
    print("| operation | mssante ms | baseline | baseline ms | ratio |")
    print("|---|---:|---|---:|---:|")
    print(
        f"| Submission.send_many, {MESSAGES} messages | {ours_ms:.0f} | smtplib starttls + send_message "
        f"| {base_ms:.0f} | {ours_ms / base_ms:.2f} |"
    )
    print(
        f"\nBest of {TURNS} runs, {MESSAGES} messages: Submission over one connection, AsyncSubmission over "
        f"{CONNECTIONS} concurrent connections of {each} messages\n"
    )
    print("| server time per message, server | Submission ms | AsyncSubmission ms | async / sync |")
    print("|---|---:|---:|---:|")
    for delay, (sync_ms, async_ms) in paired.items():
        print(f"| {delay * 1e3:.0f} ms, same process | {sync_ms:.0f} | {async_ms:.0f} | {async_ms / sync_ms:.2f} |")
    sync_ms, async_ms = apart
    print(f"| 0 ms, server in its own process | {sync_ms:.0f} | {async_ms:.0f} | {async_ms / sync_ms:.2f} |")


def main() -> None:
    """Print the tables."""
    now = dt.datetime.now(dt.timezone.utc)
    pki = TestPki.create(environment=Environment.PROD, at=now)
    store = TrustStore.from_certificates([*pki.anchors, *pki.intermediates], environment=pki.environment)
    crls = RevocationChecker(crls=[pki.crl(name) for name in CA_NAMES])
    issued = pki.server(["localhost"])
    messages = _messages()
    sink = Sink()
    with tempfile.TemporaryDirectory() as directory:
        certificate, key = issued.write(directory, "server")
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
    each = MESSAGES // CONNECTIONS
    port = controller.port

    def ours() -> None:
        with Submission("localhost", port, store=store, revocation=crls) as smtp:
            results = smtp.send_many(messages)
        assert all(result.ok for result in results)

    def bare() -> None:
        with smtplib.SMTP("localhost", port) as smtp:
            smtp.starttls(context=context)
            for message in messages:
                smtp.send_message(message)

    async def one(batch: list[EmailMessage]) -> None:
        async with AsyncSubmission("localhost", port, store=store, revocation=crls) as smtp:
            results = await smtp.send_many(batch)
        assert all(result.ok for result in results)

    async def gathered() -> None:
        await asyncio.gather(*(one(messages[n * each : (n + 1) * each]) for n in range(CONNECTIONS)))

    try:
        ours_ms, base_ms = _interleaved(ours, bare)
        paired: dict[float, tuple[float, float]] = {}
        for delay in (0.0, LATENCY):
            sink.delay = delay
            paired[delay] = _interleaved(ours, lambda: asyncio.run(gathered()))
    finally:
        controller.stop()
    assert sink.count == 6 * TURNS * MESSAGES
    with tempfile.TemporaryDirectory() as directory:
        certificate, key = issued.write(directory, "server")
        with _server_apart(certificate, key) as elsewhere:
            port = elsewhere  # ours() and gathered() connect to ``port``
            apart = _interleaved(ours, lambda: asyncio.run(gathered()))
    _report(ours_ms, base_ms, paired, apart)


if __name__ == "__main__":
    main()

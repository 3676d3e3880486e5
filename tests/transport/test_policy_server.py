"""The policy service's asyncio server: concurrent connections, bounds, deadlines, reload, stop."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from cryptography import x509

from mssante.pki import Environment, TrustStore
from mssante.testing import TestPki
from mssante.transport._policy_server import PolicyServer, WatchedFile
from mssante.transport._policy_service import PolicyService
from mssante.trustspace import AllowList
from tests.transport.test_policy_core import AT, DOMAIN, allowlist, attributes, listing, request_bytes


@pytest.fixture(scope="module")
def pki() -> TestPki:
    return TestPki.create(environment=Environment.PROD, at=AT)


@pytest.fixture(scope="module")
def peer(pki: TestPki) -> x509.Certificate:
    return pki.server(["relay.clinique.example"], organisation="OPERATEUR-CLINIQUE").certificate


@pytest.fixture(scope="module")
def service(pki: TestPki, peer: x509.Certificate) -> PolicyService:
    store = TrustStore.from_certificates([*pki.anchors, *pki.intermediates], environment="prod")
    return PolicyService(allowlist((DOMAIN, peer)), store, revocation="soft")


def run(
    service: PolicyService,
    test: Callable[[PolicyServer], Awaitable[None]],
    **options: float | tuple[WatchedFile[AllowList], ...],
) -> PolicyServer:
    async def main() -> PolicyServer:
        server = PolicyServer(service, clock=lambda: AT, **options)  # type: ignore[arg-type]
        await server.start()
        try:
            await asyncio.wait_for(test(server), 30)
        finally:
            await server.stop(grace=1.0)
        return server

    return asyncio.run(main())


async def answer(reader: asyncio.StreamReader) -> bytes:
    return await reader.readuntil(b"\n\n")


def test_many_concurrent_connections_each_with_several_requests(service: PolicyService, peer: x509.Certificate) -> None:
    async def client(server: PolicyServer) -> list[bytes]:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        answers = []
        for request in (attributes(peer), attributes(None), attributes(peer, sender="x@inconnu.mssante.fr")):
            writer.write(request_bytes(request))
            answers.append(await answer(reader))
        writer.close()
        return answers

    async def test(server: PolicyServer) -> None:
        results = await asyncio.gather(*(client(server) for _ in range(50)))
        for answers in results:
            assert answers[0] == b"action=DUNNO\n\n"
            assert answers[1].startswith(b"action=REJECT 5.7.1 MSS-PKI-001 ")
            assert answers[2].startswith(b"action=REJECT 5.7.1 MSS-WL-011 ")

    server = run(service, test, max_connections=8)
    assert server.answered == 150
    assert server.active == 0


def test_connections_beyond_the_bound_wait_for_a_slot(service: PolicyService, peer: x509.Certificate) -> None:
    async def test(server: PolicyServer) -> None:
        first = await asyncio.open_connection("127.0.0.1", server.port)
        await asyncio.sleep(0.05)
        assert server.active == 1
        second = await asyncio.open_connection("127.0.0.1", server.port)
        second[1].write(request_bytes(attributes(peer)))
        await asyncio.sleep(0.1)
        assert server.active == 1  # the second waits
        first[1].close()
        assert await asyncio.wait_for(answer(second[0]), 2) == b"action=DUNNO\n\n"
        second[1].close()

    run(service, test, max_connections=1, request_deadline=5.0)


def test_a_connection_waiting_too_long_for_a_slot_is_closed(service: PolicyService) -> None:
    async def test(server: PolicyServer) -> None:
        first = await asyncio.open_connection("127.0.0.1", server.port)
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        assert await asyncio.wait_for(reader.read(), 2) == b""  # closed unanswered
        first[1].close()
        writer.close()

    run(service, test, max_connections=1, request_deadline=0.3)


def test_a_trickling_client_is_cut_at_the_request_deadline(service: PolicyService, peer: x509.Certificate) -> None:
    async def test(server: PolicyServer) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        data = request_bytes(attributes(peer))

        async def trickle() -> None:  # one byte every 50 ms: 30 s for the whole request
            for byte in data:
                writer.write(bytes([byte]))
                await writer.drain()
                await asyncio.sleep(0.05)

        started = time.monotonic()
        sending = asyncio.ensure_future(trickle())
        reply = await asyncio.wait_for(reader.read(), 3)
        assert time.monotonic() - started < 1.5
        assert reply.startswith(b"action=DEFER 4.7.1 MSS-POL-001 ")
        sending.cancel()
        await asyncio.gather(sending, return_exceptions=True)
        writer.close()

    run(service, test, request_deadline=0.5)


def test_an_idle_connection_is_closed_after_the_idle_timeout(service: PolicyService) -> None:
    async def test(server: PolicyServer) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        started = time.monotonic()
        assert await asyncio.wait_for(reader.read(), 2) == b""
        assert 0.2 <= time.monotonic() - started < 1.5
        writer.close()

    run(service, test, idle_timeout=0.3)


def test_a_hostile_request_is_answered_defer_and_the_connection_closed(service: PolicyService) -> None:
    async def test(server: PolicyServer) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(b"sender=" + b"x" * 100_000)
        reply = await asyncio.wait_for(reader.read(), 2)
        assert reply.startswith(b"action=DEFER 4.7.1 MSS-POL-001 ")
        assert reply.endswith(b"\n\n")
        writer.close()

    run(service, test)


def test_stop_closes_idle_connections_at_once(service: PolicyService) -> None:
    async def main() -> float:
        server = PolicyServer(service, clock=lambda: AT, idle_timeout=60)
        await server.start()
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        await asyncio.sleep(0.05)
        started = time.monotonic()
        await server.stop(grace=5)
        assert await asyncio.wait_for(reader.read(), 2) == b""
        writer.close()
        return time.monotonic() - started

    assert asyncio.run(main()) < 1.0


def test_the_allow_list_file_is_reloaded_when_it_changes_and_kept_when_it_breaks(
    pki: TestPki, peer: x509.Certificate, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = TrustStore.from_certificates([*pki.anchors, *pki.intermediates], environment="prod")
    other = pki.server(["relay.autre.example"], organisation="AUTRE").certificate
    path = tmp_path / "liste.xml"
    path.write_bytes(b"")
    own = PolicyService(allowlist((DOMAIN, other)), store, revocation="soft")
    watched = WatchedFile(path, AllowList.load, lambda value: own.replace(allowlist=value))

    async def ask(server: PolicyServer) -> bytes:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(request_bytes(attributes(peer)))
        reply = await answer(reader)
        writer.close()
        return reply

    async def until(server: PolicyServer, expected: bytes) -> None:
        while not (await ask(server)).startswith(expected):
            await asyncio.sleep(0.02)

    async def test(server: PolicyServer) -> None:
        assert (await ask(server)).startswith(b"action=REJECT 5.7.1 MSS-WL-013 ")
        path.write_bytes(listing((DOMAIN, peer)))
        await until(server, b"action=DUNNO")
        path.write_bytes(b"<not an allow-list")
        await asyncio.sleep(0.3)
        assert await ask(server) == b"action=DUNNO\n\n"  # the broken file is not used
        path.write_bytes(listing((DOMAIN, other)))
        await until(server, b"action=REJECT 5.7.1 MSS-WL-013 ")

    run(own, test, reload_interval=0.05, watched=(watched,))
    assert any("reloading" in record.getMessage() and "failed" in record.getMessage() for record in caplog.records)

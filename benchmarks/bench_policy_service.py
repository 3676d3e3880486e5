"""The Postfix policy service under a burst of queries, against a trivial policy server, in the same run.

Run: ``python benchmarks/bench_policy_service.py [--connections N] [--requests N] [--turns N]`` (from the repository
root). A client in this process opens ``--connections`` connections at once to a server in a child process and sends
``--requests`` policy requests on each, one after the other, as Postfix's smtpd processes do on the connections they
reuse (the Postfix protocol over TCP on 127.0.0.1). It measures the requests answered per second and the 99th
percentile of the time from a request sent to its answer read. The servers:

- ``baseline``: a trivial asyncio policy server that reads a request up to its empty line and answers
  ``action=DUNNO``, nothing parsed nor decided;
- ``service, by CN``: ``mssante``'s server with the real allow-list (6,554 entries, one of them the peer's), the
  request bounded and parsed, the peer decided from its subject CN (``--revocation soft``) and the answer kept for
  60 seconds for that certificate and sender (the default), an audit event each;
- ``service, cached certificate``: the same with the peer's certificate in the certificate cache: the whole
  certificate is checked (DN on the allow-list, chain, IGC Santé profile, revocation against the CRLs), and the
  answer kept for 60 seconds for that certificate and sender (the default);
- ``... each request checked whole``: the same with nothing kept (``decision_ttl=0``): the cost of the whole check.

Each turn runs the baseline and the service alternately; the table gives the best and median of the turns.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import functools
import logging
import multiprocessing
import socket
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes

from mssante.pki import Environment, RevocationChecker, TrustStore
from mssante.testing import CA_NAMES, TestPki
from mssante.transport._policy_server import PolicyServer
from mssante.transport._policy_service import PolicyService, certificate_index
from mssante.trustspace import AllowList, OperatorDn

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "listeblanchemssante-2025-03-13-restored.xml"
AT = dt.datetime(2025, 3, 14, tzinfo=dt.timezone.utc)
DOMAIN = "clinique-bench.mssante.fr"


@functools.cache
def _peer() -> tuple[TestPki, x509.Certificate]:
    """The test PKI and the peer's certificate: made once, before the servers are forked, so all share them."""
    pki = TestPki.create(environment=Environment.PROD, at=AT)
    return pki, pki.server(["relay.clinique.example"], organisation="OPERATEUR-CLINIQUE").certificate


def _allowlist(peer: x509.Certificate) -> AllowList:
    entry = (
        f"<Domaine><Nom>{DOMAIN}</Nom><Description>d</Description><DNCertificatOperateur>"
        f"{OperatorDn.from_name(peer.subject)}</DNCertificatOperateur><ResponsableContact>r</ResponsableContact>"
        "<SupportContact>s</SupportContact><DateMAJ>2025-03-13T00:00:00Z</DateMAJ></Domaine>"
    ).encode()
    data = DATA.read_bytes()
    at = data.index(b"<Domaine>")
    return AllowList.parse(data[:at] + entry + data[at:])


def request_of(peer: x509.Certificate) -> bytes:
    issuer = str(peer.issuer.get_attributes_for_oid(x509.oid.NameOID.COMMON_NAME)[0].value)
    return (
        "request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTP\nclient_address=192.0.2.7\n"
        f"client_name=relay.clinique.example\nhelo_name=relay.clinique.example\nsender=secretariat@{DOMAIN}\n"
        "recipient=dr.martin@hopital.mssante.fr\nrecipient_count=0\nqueue_id=\nsize=12345\n"
        "encryption_protocol=TLSv1.3\nencryption_cipher=TLS_AES_256_GCM_SHA384\nencryption_keysize=256\n"
        f"ccert_subject=relay.clinique.example\nccert_issuer={issuer.replace(' ', '+20')}\n"
        f"ccert_fingerprint={peer.fingerprint(hashes.SHA256()).hex(':').upper()}\n\n"
    ).encode()


async def _baseline(port: int, ready: Callable[[], None]) -> None:
    async def session(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while await reader.readuntil(b"\n\n"):
                writer.write(b"action=DUNNO\n\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        writer.close()

    server = await asyncio.start_server(session, "127.0.0.1", port)
    ready()
    await server.serve_forever()


async def _service(port: int, ready: Callable[[], None], kind: str) -> None:
    logging.getLogger("mssante.transport.audit").setLevel(logging.INFO)  # the audit events are made, not written
    logging.getLogger("mssante.transport.audit").addHandler(logging.NullHandler())
    pki, peer = _peer()
    store = TrustStore.from_certificates([*pki.anchors, *pki.intermediates], environment="prod")
    cached = kind != "cn"
    revocation = RevocationChecker(crls=[pki.crl(name) for name in CA_NAMES]) if cached else "soft"
    service = PolicyService(
        _allowlist(peer), store, certificates=certificate_index([peer]) if cached else None, revocation=revocation,
        decision_ttl=dt.timedelta(seconds=0 if kind == "whole" else 60),
    )  # fmt: skip
    server = PolicyServer(service, port=port, max_connections=200, clock=lambda: AT)
    await server.start()
    ready()
    await server.serve()


def _child(kind: str, port: int, ready: multiprocessing.synchronize.Event) -> None:
    if kind == "baseline":
        asyncio.run(_baseline(port, ready.set))
    else:
        asyncio.run(_service(port, ready.set, kind))


async def _burst(port: int, request: bytes, connections: int, requests: int) -> tuple[float, list[float]]:
    latencies: list[float] = []

    async def client() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        for _ in range(requests):
            started = time.perf_counter()
            writer.write(request)
            answer = await reader.readuntil(b"\n\n")
            latencies.append(time.perf_counter() - started)
            assert answer == b"action=DUNNO\n\n", answer
        writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(connections)))
    return connections * requests / (time.perf_counter() - started), latencies


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def measure(kind: str, request: bytes, connections: int, requests: int) -> tuple[float, float]:
    """Requests per second and p99 milliseconds of one burst against a fresh server of ``kind``."""
    port = _free_port()
    context = multiprocessing.get_context("fork")
    ready = context.Event()
    child = context.Process(target=_child, args=(kind, port, ready), daemon=True)
    child.start()
    try:
        if not ready.wait(60):
            raise RuntimeError(f"the {kind} server did not start")
        asyncio.run(_burst(port, request, connections, 2))  # warm up: connections, caches
        rate, latencies = asyncio.run(_burst(port, request, connections, requests))
    finally:
        child.terminate()
        child.join(10)
    return rate, statistics.quantiles(latencies, n=100)[98] * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--turns", type=int, default=3)
    args = parser.parse_args()
    _, peer = _peer()
    request = request_of(peer)
    print(f"{args.connections} connections x {args.requests} requests, {args.turns} turns\n")
    print("| server | requests/s best / median | p99 ms best / median | throughput vs baseline (median) |")
    print("|---|---|---|---|")
    results: dict[str, list[tuple[float, float]]] = {"baseline": [], "cn": [], "cached": [], "whole": []}
    for _ in range(args.turns):
        for kind, rows in results.items():
            rows.append(measure(kind, request, args.connections, args.requests))
    base = statistics.median(rate for rate, _ in results["baseline"])
    names = {
        "baseline": "baseline (trivial DUNNO)", "cn": "service, by CN", "cached": "service, cached certificate",
        "whole": "service, cached certificate, each request checked whole",
    }  # fmt: skip
    for kind, rows in results.items():
        rates, p99s = [rate for rate, _ in rows], [p99 for _, p99 in rows]
        print(
            f"| {names[kind]} | {max(rates):,.0f} / {statistics.median(rates):,.0f} | {min(p99s):.2f} / "
            f"{statistics.median(p99s):.2f} | {statistics.median(rates) / base:.2f}x |"
        )


if __name__ == "__main__":
    main()

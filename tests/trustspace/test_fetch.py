"""Fetching the allow-list: a real local HTTPS server with an IGC-Santé-shaped certificate, the cache, failures.

The server is a ``ThreadingHTTPServer`` on 127.0.0.1 (port 0) behind TLS, its certificate a SERV SSL certificate
for ``localhost`` from a :class:`~mssante.testing.TestPki`; the client trusts that PKI's anchors only. Each test
starts its servers and stops them at teardown: handler threads are joined, every socket has a timeout and every
server-side wait ends when the server stops.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import json
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization

from mssante.errors import InvalidInput, TrustError
from mssante.pki import Environment, TrustStore
from mssante.report import Severity
from mssante.testing import IssuedCertificate, TestPki
from mssante.trustspace._fetch import (
    MAX_CHECKSUM_BYTES,
    AllowListCache,
    AllowListFetcher,
    AllowListFetchError,
    AsyncAllowListFetcher,
    FetchResult,
    default_cache_directory,
)
from tests.counting import HANG_GUARD
from tests.local_server import TIMEOUT, LocalServer, Reply, Request

DATA = Path(__file__).parent.parent / "data"
RESTORED = DATA / "listeblanchemssante-2025-03-13-restored.xml"
MIRROR_HEAD = DATA / "listeblanchemssante-mirror-head.xml"
RESTORED_SHA256 = "7e7b3b9e2f42f2b8969b04aa1dc84188a970a2fb5de6c769a85a46b1141d8723"
MIRROR_HEAD_SHA256 = "fcec0113fe62c11c551882adc97f9eb254665d41fc31404cf984a0672cd9b2b2"  # its published checksum
PATH = "/listeblanchemssante.xml"
AT = datetime(2025, 3, 14, 8, 0, tzinfo=timezone.utc)
ETAG, MODIFIED = '"67d2f1a2-387209"', "Thu, 13 Mar 2025 14:54:12 GMT"

DOWNLOADED, NOT_MODIFIED, UNCHANGED, HTTP_ERROR = "MSS-WLF-001", "MSS-WLF-002", "MSS-WLF-003", "MSS-WLF-004"
DOWNLOAD_FAILED, TIMED_OUT, OVERSIZE, BODY_REFUSED = "MSS-WLF-005", "MSS-WLF-006", "MSS-WLF-007", "MSS-WLF-008"
CHECKSUM_MISMATCH, FROM_CACHE, CACHE_DAMAGED = "MSS-WLF-009", "MSS-WLF-010", "MSS-WLF-011"
CACHE_NOT_WRITTEN, OLDER_THAN_CACHED, BAD_CHECKSUM_FILE, URL_REFUSED = (
    "MSS-WLF-012",
    "MSS-WLF-013",
    "MSS-WLF-014",
    "MSS-WLF-015",
)

_LEVELS = b"".join(b'<!ENTITY lol%d "%s">' % (n, (b"&lol%d;" % (n - 1)) * 10) for n in range(1, 10))
BOMB = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol0 "lol">' + _LEVELS + b"]>"
    b'<ListeBlancheMSSante xmlns="https://listeblanche.mssante.fr/schema">&lol9;</ListeBlancheMSSante>'
)


DN = "CN=mss.example.org,OU=318751275100020,O=ASIP-SANTE,ST=Paris (75),C=FR"


def small_list(generated: str = "2025-03-13T14:54:10Z", *domains: str) -> bytes:
    """An allow-list in the ANS format, with one entry per domain."""
    entries = "".join(
        f"""
        <Domaine>
            <Nom>{domain}</Nom>
            <Description>Test {index}</Description>
            <DNCertificatOperateur>{DN}</DNCertificatOperateur>
            <ResponsableContact>01 02 03 04 05, responsable@example.org</ResponsableContact>
            <SupportContact>01 02 03 04 06, support@example.org</SupportContact>
            <DateMAJ>{generated}</DateMAJ>
        </Domaine>"""
        for index, domain in enumerate(domains or ("hopital-a.mssante.fr", "clinique-b.mssante.fr"))
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><ListeBlancheMSSante xmlns="https://listeblanche.mssante.fr/schema">\n'
        f"    <DateDeGeneration>{generated}</DateDeGeneration>\n"
        f"    <ListeDomaines>{entries}\n    </ListeDomaines>\n</ListeBlancheMSSante>\n"
    ).encode()


SMALL = small_list()
NEWER = small_list("2025-03-20T09:00:00Z", "hopital-a.mssante.fr", "clinique-b.mssante.fr", "ehpad-c.mssante.fr")
OLDER = small_list("2025-01-02T09:00:00Z", "hopital-a.mssante.fr")


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """The local servers are reached directly, whatever proxy the environment names."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


# --- certificates -----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def now() -> datetime:
    """The moment of the module's PKIs: OpenSSL checks validity against the real clock."""
    return datetime.now(timezone.utc)


@pytest.fixture(scope="module")
def pki(now: datetime) -> TestPki:
    return TestPki.create(environment=Environment.PROD, at=now)


@pytest.fixture(scope="module")
def store(pki: TestPki) -> TrustStore:
    return TrustStore.from_certificates([*pki.anchors, *pki.intermediates], environment=pki.environment)


@dataclass(frozen=True)
class Identity:
    issued: IssuedCertificate
    certificate: Path
    key: Path


def write_identity(issued: IssuedCertificate, directory: Path) -> Identity:
    directory.mkdir(parents=True, exist_ok=True)
    certificate, key = directory / "chain.pem", directory / "key.pem"
    certificate.write_bytes(issued.pem())
    key.write_bytes(issued.key_pem())
    return Identity(issued=issued, certificate=certificate, key=key)


@pytest.fixture(scope="module")
def server_id(pki: TestPki, tmp_path_factory: pytest.TempPathFactory) -> Identity:
    """The SERV SSL certificate of the list's server."""
    return write_identity(pki.server(["localhost"]), tmp_path_factory.mktemp("server"))


@pytest.fixture(scope="module")
def foreign_id(now: datetime, tmp_path_factory: pytest.TempPathFactory) -> Identity:
    """A certificate for the same name from another PKI with the same CA names: only the keys differ."""
    foreign = TestPki.create(environment=Environment.PROD, at=now)
    return write_identity(foreign.server(["localhost"]), tmp_path_factory.mktemp("foreign"))


# --- a local HTTPS server ---------------------------------------------------------------------------------------


class Server(LocalServer):
    """The local server of these tests, over TLS with ``identity`` (plain HTTP without one)."""

    def __init__(self, identity: Identity | None) -> None:
        context = None
        if identity is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.minimum_version = ssl.TLSVersion.TLSv1_2
            context.load_cert_chain(identity.certificate, identity.key)
        super().__init__(context, host="localhost")

    def url(self, path: str = PATH) -> str:
        return super().url(path)


@pytest.fixture
def server(server_id: Identity) -> Iterator[Server]:
    running = Server(server_id)
    yield running
    running.stop()


@pytest.fixture
def cache(tmp_path: Path) -> AllowListCache:
    return AllowListCache(tmp_path / "cache")


def fetch(server: Server, store: TrustStore, cache: AllowListCache | None = None, **options: Any) -> FetchResult:
    at = options.pop("at", AT)
    options.setdefault("timeout", TIMEOUT)
    with AllowListFetcher(cache=cache, store=store, url=options.pop("url", server.url()), **options) as fetcher:
        return fetcher.fetch(at=at)


def refused(server: Server, store: TrustStore, cache: AllowListCache | None = None, **options: Any) -> Any:
    """The report of a fetch that raised AllowListFetchError."""
    with pytest.raises(AllowListFetchError) as raised:
        fetch(server, store, cache, **options)
    assert raised.value.url == options.get("url", server.url())
    assert not raised.value.report.ok
    return raised.value.report


def snapshot(cache: AllowListCache) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(cache.directory.iterdir())}


def conditional(body: bytes) -> Callable[[Request], Reply]:
    """A route that answers 304 when the request carries the validators of ``body``."""

    def route(request: Request) -> Reply:
        if request.headers.get("if-none-match") == ETAG or request.headers.get("if-modified-since") == MODIFIED:
            return Reply(status=304, headers={"ETag": ETAG})
        return Reply(body=body, headers={"ETag": ETAG, "Last-Modified": MODIFIED, "Content-Type": "application/xml"})

    return route


def prime(server: Server, store: TrustStore, cache: AllowListCache, body: bytes = SMALL) -> FetchResult:
    """Fill the cache with ``body`` through a first download."""
    server.routes[PATH] = conditional(body)
    result = fetch(server, store, cache)
    assert result.changed
    server.routes.clear()
    server.requests.clear()
    return result


# --- downloads ---------------------------------------------------------------------------------------------------


def test_real_list_downloaded_then_not_modified(server: Server, store: TrustStore, cache: AllowListCache) -> None:
    server.routes[PATH] = conditional(RESTORED.read_bytes())
    first = fetch(server, store, cache)
    assert (first.changed, first.from_cache, first.report.ok) == (True, False, True)
    assert first.report.codes == (DOWNLOADED,)
    assert len(first.allowlist) == 6554
    assert first.allowlist.sha256 == RESTORED_SHA256
    assert first.allowlist.generated == datetime(2025, 3, 13, 14, 54, 10, tzinfo=timezone.utc)
    assert (first.fetched_at, first.checked_at, first.url) == (AT, AT, server.url())
    assert "if-none-match" not in server.requests[0].headers
    assert server.requests[0].headers["accept-encoding"] == "identity"

    later = AT + timedelta(days=1)
    second = fetch(server, store, cache, at=later)
    sent = server.requests[1].headers
    assert (sent["if-none-match"], sent["if-modified-since"]) == (ETAG, MODIFIED)
    assert (second.changed, second.from_cache, second.report.codes) == (False, True, (NOT_MODIFIED,))
    assert second.allowlist.sha256 == RESTORED_SHA256
    assert len(second.allowlist) == 6554
    assert (second.fetched_at, second.checked_at) == (AT, later)
    assert second.age(later + timedelta(hours=2)) == timedelta(hours=2)

    cached = cache.load()
    assert cached is not None
    assert (cached.url, cached.etag, cached.last_modified) == (server.url(), ETAG, MODIFIED)
    assert cached.sha256 == RESTORED_SHA256
    assert (cached.fetched_at, cached.checked_at) == (AT, later)
    assert cached.path.read_bytes() == RESTORED.read_bytes()


def test_without_cache_every_fetch_downloads(server: Server, store: TrustStore) -> None:
    server.routes[PATH] = conditional(SMALL)
    for _ in range(2):
        result = fetch(server, store)
        assert (result.changed, result.from_cache, result.report.codes) == (True, False, (DOWNLOADED,))
    assert all("if-none-match" not in request.headers for request in server.requests)
    assert sorted(result.allowlist.domains) == ["clinique-b.mssante.fr", "hopital-a.mssante.fr"]


def test_a_newer_list_replaces_the_cached_one(server: Server, store: TrustStore, cache: AllowListCache) -> None:
    prime(server, store, cache)
    server.routes[PATH] = Reply(body=NEWER, headers={"ETag": '"v2"'})
    result = fetch(server, store, cache)
    assert (result.changed, result.from_cache, result.report.codes) == (True, False, (DOWNLOADED,))
    assert server.requests[0].headers["if-none-match"] == ETAG
    assert "ehpad-c.mssante.fr" in result.allowlist
    cached = cache.load()
    assert cached is not None
    assert (cached.sha256, cached.etag) == (hashlib.sha256(NEWER).hexdigest(), '"v2"')
    assert [path.name for path in cache.directory.glob("*.xml")] == [cached.path.name]  # the old document is gone


def test_the_same_document_again_is_unchanged(server: Server, store: TrustStore, cache: AllowListCache) -> None:
    prime(server, store, cache)
    server.routes[PATH] = Reply(body=SMALL)  # a server that ignores the validators
    result = fetch(server, store, cache, at=AT + timedelta(hours=1))
    assert (result.changed, result.from_cache, result.report.codes) == (False, False, (UNCHANGED,))
    assert (result.fetched_at, result.checked_at) == (AT, AT + timedelta(hours=1))


def test_a_list_older_than_the_cached_one_is_refused(server: Server, store: TrustStore, cache: AllowListCache) -> None:
    prime(server, store, cache)
    before = snapshot(cache)
    server.routes[PATH] = Reply(body=OLDER)
    result = fetch(server, store, cache)
    assert (result.from_cache, result.report.ok, result.report.codes) == (True, True, (OLDER_THAN_CACHED, FROM_CACHE))
    assert result.allowlist.sha256 == hashlib.sha256(SMALL).hexdigest()
    assert snapshot(cache) == before


# --- failures: the cached list is kept, or nothing is returned ---------------------------------------------------


def test_http_error_keeps_the_cached_list(server: Server, store: TrustStore, cache: AllowListCache) -> None:
    primed = prime(server, store, cache)
    before = snapshot(cache)
    server.routes[PATH] = Reply(status=500, body=b"oops")
    result = fetch(server, store, cache, at=AT + timedelta(days=2))
    assert (result.changed, result.from_cache, result.report.ok) == (False, True, True)
    assert result.report.codes == (HTTP_ERROR, FROM_CACHE)
    assert [finding.severity for finding in result.report] == [Severity.WARNING, Severity.WARNING]
    assert "HTTP 500" in result.report.findings[0].message
    assert result.allowlist.sha256 == primed.allowlist.sha256
    assert (result.fetched_at, result.checked_at) == (AT, AT)
    assert result.age(AT + timedelta(days=2)) == timedelta(days=2)
    assert snapshot(cache) == before


def test_http_error_without_a_cached_list_raises(server: Server, store: TrustStore, cache: AllowListCache) -> None:
    server.routes[PATH] = Reply(status=500)
    report = refused(server, store, cache)
    assert report.codes == (HTTP_ERROR,)
    assert report.findings[0].severity is Severity.ERROR
    assert isinstance(AllowListFetchError("x", url=""), TrustError)
    assert not cache.directory.exists()


@pytest.mark.parametrize(
    "body",
    [MIRROR_HEAD.read_bytes(), b"\x00\xff garbage <<<", BOMB, b"<other xmlns='urn:x'/>", b""],
    ids=["truncated-mirror", "garbage", "xml-bomb", "other-xml", "empty"],
)
def test_a_bad_body_is_refused_and_the_cache_kept(
    server: Server, store: TrustStore, cache: AllowListCache, body: bytes
) -> None:
    prime(server, store, cache)
    before = snapshot(cache)
    server.routes[PATH] = Reply(body=body)
    result = fetch(server, store, cache)
    assert (result.from_cache, result.report.ok, result.report.codes) == (True, True, (BODY_REFUSED, FROM_CACHE))
    assert result.allowlist.sha256 == hashlib.sha256(SMALL).hexdigest()
    assert snapshot(cache) == before

    [finding] = result.report.findings[:1]
    assert finding.message.count(server.url(PATH)) == 1  # the address once, then what is wrong
    report = refused(server, store)  # no cache: nothing to give
    assert report.codes == (BODY_REFUSED,)


def test_the_truncated_mirror_is_refused_even_with_its_published_checksum(server: Server, store: TrustStore) -> None:
    body = MIRROR_HEAD.read_bytes()
    assert hashlib.sha256(body).hexdigest() == MIRROR_HEAD_SHA256
    server.routes[PATH] = Reply(body=body)
    server.routes["/checksum"] = Reply(body=MIRROR_HEAD_SHA256.encode())  # as published: no newline
    with AllowListFetcher(store=store, url=server.url(), timeout=TIMEOUT) as fetcher:
        expected = fetcher.fetch_checksum(server.url("/checksum"))
        assert expected == MIRROR_HEAD_SHA256
        with pytest.raises(AllowListFetchError) as raised:
            fetcher.fetch(at=AT, expected_sha256=expected)
    assert raised.value.report.codes == (BODY_REFUSED,)
    assert "ends before" in raised.value.report.findings[0].message


def test_sha256_mismatch_is_refused(server: Server, store: TrustStore, cache: AllowListCache) -> None:
    wrong = "ab" * 32
    server.routes[PATH] = Reply(body=SMALL)
    assert refused(server, store, cache, expected_sha256=wrong).codes == (CHECKSUM_MISMATCH,)
    assert not cache.directory.exists()

    good = fetch(server, store, cache, expected_sha256=hashlib.sha256(SMALL).hexdigest().upper())
    assert good.report.codes == (DOWNLOADED,)
    server.routes[PATH] = Reply(body=NEWER)
    result = fetch(server, store, cache, expected_sha256=wrong)
    assert result.report.codes == (CHECKSUM_MISMATCH, FROM_CACHE)
    assert "if-none-match" not in server.requests[-1].headers  # the cached list is not the one expected
    assert result.allowlist.sha256 == good.allowlist.sha256
    with pytest.raises(ValueError, match="64 hexadecimal"):
        AllowListFetcher(store=store, url=server.url(), expected_sha256="abc")


def test_timeout(server: Server, store: TrustStore, cache: AllowListCache) -> None:
    prime(server, store, cache)
    server.routes[PATH] = Reply(body=SMALL, delay=2.0)
    result = fetch(server, store, cache, timeout=0.3)
    assert result.report.codes == (TIMED_OUT, FROM_CACHE)
    assert "timed out" in result.report.findings[0].message
    assert refused(server, store, timeout=0.3).codes == (TIMED_OUT,)


def test_overall_duration_is_bounded(server: Server, store: TrustStore) -> None:
    many = small_list("2025-03-20T09:00:00Z", *(f"site-{n}.mssante.fr" for n in range(30)))
    server.routes[PATH] = Reply(body=many, drip=0.05)  # each KiB in time, the whole too slow
    report = refused(server, store, max_duration=0.2)
    assert report.codes == (TIMED_OUT,)
    assert "took longer" in report.findings[0].message


# A server that trickles: each byte in time for the per-read timeout (the hang guard here), the whole reply some ten
# seconds, max_duration half a second. The checks are counts, never durations: the fetch says that the deadline passed,
# and the server had not written its whole reply when the fetch returned (the client hung up first).
TRICKLES = {
    "headers": Reply(body=SMALL, head_drip=0.1),  # the status line and headers, a byte at a time
    "body": Reply(body=SMALL * 2, drip=0.1, piece=16),  # the body, 16 bytes at a time: never a whole chunk
}
DEADLINE = 0.5


def fetch_from(mode: str, url: str, store: TrustStore, **options: Any) -> FetchResult:
    """A fetch of ``url`` with AllowListFetcher (sync) or AsyncAllowListFetcher (async)."""
    if mode == "sync":
        with AllowListFetcher(store=store, url=url, **options) as fetcher:
            return fetcher.fetch(at=AT)

    async def run() -> FetchResult:
        async with AsyncAllowListFetcher(store=store, url=url, **options) as fetcher:
            return await fetcher.fetch(at=AT)

    return asyncio.run(run())


MODES = ["sync", "async"]


@pytest.mark.parametrize("trickle", TRICKLES.values(), ids=TRICKLES)
@pytest.mark.parametrize("mode", MODES)
def test_a_trickling_server_cannot_stretch_max_duration(
    mode: str, server: Server, store: TrustStore, trickle: Reply
) -> None:
    # Catches a deadline checked only when a 64 KiB chunk is complete, or not before the headers have come.
    server.routes[PATH] = trickle
    heard: list[int] = []
    with pytest.raises(AllowListFetchError) as raised:
        fetch_from(
            mode, server.url(), store, timeout=HANG_GUARD, max_duration=DEADLINE,
            progress=lambda got, _: heard.append(got),
        )  # fmt: skip
    assert raised.value.report.codes == (TIMED_OUT,)
    assert "took too long" in str(raised.value)
    [request] = server.requests
    assert not request.complete  # the fetch gave up while the server was still sending
    assert all(got < len(trickle.body) for got in heard)


class Mute:
    """A TCP server on the loopback that accepts one connection and never answers: a TLS handshake that stalls.

    It holds the connection for some ten seconds at most, and records whether the client hung up first; ``ended`` is
    set once it knows.
    """

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self.client_hung_up = False
        self.ended = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._hold)
        self._thread.start()

    def _hold(self) -> None:
        try:
            self._serve()
        finally:
            self.ended.set()

    def _serve(self) -> None:
        self._listener.settimeout(HANG_GUARD)
        try:
            connection, _ = self._listener.accept()
        except OSError:
            return
        with connection:
            connection.settimeout(0.1)
            for _ in range(100):  # ten seconds at most, a tenth at a time
                if self._stop.is_set():
                    return
                try:
                    if connection.recv(4096) == b"":
                        self.client_hung_up = True
                        return
                except TimeoutError:
                    continue
                except OSError:
                    self.client_hung_up = True
                    return

    def stop(self) -> None:
        self._stop.set()
        self._listener.close()
        self._thread.join(HANG_GUARD)
        assert not self._thread.is_alive()


@pytest.mark.parametrize("mode", MODES)
def test_a_stalled_tls_handshake_is_cut_at_max_duration(mode: str, store: TrustStore) -> None:
    # Catches a deadline that starts with the answer: connecting and the TLS handshake are inside it too.
    mute = Mute()
    url = f"https://localhost:{mute.port}{PATH}"
    try:
        with pytest.raises(AllowListFetchError) as raised:
            fetch_from(mode, url, store, timeout=HANG_GUARD, max_duration=DEADLINE)
        assert mute.ended.wait(HANG_GUARD)  # the server saw the client hang up, or its ten seconds passed
    finally:
        mute.stop()
    assert raised.value.report.codes == (TIMED_OUT,)
    assert "took too long" in str(raised.value)
    assert mute.client_hung_up  # the client gave up while the server still held the handshake


@pytest.mark.parametrize("length", [True, False], ids=["content-length", "until-close"])
def test_oversize_body(server: Server, store: TrustStore, cache: AllowListCache, length: bool) -> None:
    prime(server, store, cache)
    server.routes[PATH] = Reply(body=NEWER, length=length)
    result = fetch(server, store, cache, max_bytes=1000)
    assert result.report.codes == (OVERSIZE, FROM_CACHE)
    assert "1000" in result.report.findings[0].message


def test_a_compressed_body_is_refused(server: Server, store: TrustStore) -> None:
    server.routes[PATH] = Reply(body=gzip.compress(SMALL), headers={"Content-Encoding": "gzip"})
    report = refused(server, store)
    assert report.codes == (DOWNLOAD_FAILED,)
    assert "gzip" in report.findings[0].message


def test_a_304_to_an_unconditional_request_is_an_error(server: Server, store: TrustStore) -> None:
    server.routes[PATH] = Reply(status=304)
    assert refused(server, store).codes == (HTTP_ERROR,)


# --- trust: IGC Santé anchors only, https only ------------------------------------------------------------------


@pytest.fixture
def foreign_server(foreign_id: Identity) -> Iterator[Server]:
    running = Server(foreign_id)
    running.routes[PATH] = Reply(body=NEWER)
    yield running
    running.stop()


def test_a_server_of_another_pki_is_refused(
    foreign_server: Server, server: Server, store: TrustStore, cache: AllowListCache
) -> None:
    report = refused(foreign_server, store)
    assert report.codes == (DOWNLOAD_FAILED,)
    assert "CERTIFICATE_VERIFY_FAILED" in report.findings[0].message

    prime(server, store, cache)
    result = fetch(foreign_server, store, cache)
    assert result.report.codes == (DOWNLOAD_FAILED, FROM_CACHE)
    assert result.allowlist.sha256 == hashlib.sha256(SMALL).hexdigest()  # not the foreign server's list
    assert foreign_server.requests == []  # no request was sent after the handshake failed


def test_the_system_and_environment_stores_are_never_used(
    server: Server, foreign_server: Server, foreign_id: Identity, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # By default the client trusts the bundled production IGC Santé anchors, which never issued the test server's
    # certificate; the anchors named by SSL_CERT_FILE (httpx and OpenSSL read it) are not consulted.
    bundle = tmp_path / "anchors.pem"
    bundle.write_bytes(foreign_id.issued.anchor.public_bytes(serialization.Encoding.PEM))
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    monkeypatch.setenv("SSL_CERT_DIR", str(tmp_path))
    server.routes[PATH] = Reply(body=SMALL)
    for target in (server, foreign_server):
        with AllowListFetcher(url=target.url(), timeout=TIMEOUT) as fetcher, pytest.raises(AllowListFetchError) as no:
            fetcher.fetch(at=AT)
        assert no.value.report.codes == (DOWNLOAD_FAILED,)
        assert "CERTIFICATE_VERIFY_FAILED" in str(no.value)
    assert server.requests == foreign_server.requests == []


@pytest.mark.parametrize(
    "url", ["http://espacedeconfiance.mssante.fr/listeblanchemssante.xml", "ftp://x/y", "https:///x", "file:///etc"]
)
def test_only_https_urls(store: TrustStore, url: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        AllowListFetcher(store=store, url=url)
    assert raised.value.report.codes == (URL_REFUSED,)
    with httpx.Client() as client, pytest.raises(InvalidInput):  # an explicit client changes nothing
        AllowListFetcher(client, url=url)
    with pytest.raises(InvalidInput), AllowListFetcher(store=store) as fetcher:
        fetcher.fetch_checksum(url)


def test_a_redirect_to_http_is_refused(server: Server, store: TrustStore) -> None:
    plain = Server(None)
    try:
        plain.routes[PATH] = Reply(body=SMALL)
        server.routes[PATH] = Reply(status=302, headers={"Location": plain.url()})
        report = refused(server, store)
    finally:
        plain.stop()
    assert report.codes == (DOWNLOAD_FAILED,)
    assert "not https" in report.findings[0].message


@pytest.mark.parametrize("mode", MODES)
def test_a_redirect_to_http_is_not_followed(mode: str, server: Server, store: TrustStore) -> None:
    # Catches a redirection judged only once followed: the plain-http server must not even be asked.
    plain = Server(None)
    try:
        plain.routes[PATH] = Reply(body=SMALL)
        server.routes[PATH] = Reply(status=302, headers={"Location": plain.url()})
        with pytest.raises(AllowListFetchError) as raised:
            fetch_from(mode, server.url(), store, timeout=TIMEOUT)
        asked = plain.requests
    finally:
        plain.stop()
    assert raised.value.report.codes == (DOWNLOAD_FAILED,)
    assert "not https" in str(raised.value)
    assert asked == []


def test_an_explicit_client_is_used_as_given(server: Server, store: TrustStore) -> None:
    from mssante.pki import client_context  # noqa: PLC0415

    server.routes[PATH] = Reply(body=SMALL)
    with httpx.Client(verify=client_context(store)) as client:
        with AllowListFetcher(client, url=server.url()) as fetcher:
            assert fetcher.fetch(at=AT).report.codes == (DOWNLOADED,)
        assert not client.is_closed  # the caller's client stays open
    with pytest.raises(ValueError, match="not both"), httpx.Client() as client:
        AllowListFetcher(client, store=store)


# --- the checksum file ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "digest"),
    [
        (f"{MIRROR_HEAD_SHA256} ".encode(), MIRROR_HEAD_SHA256),
        (f"\ufeff{MIRROR_HEAD_SHA256.upper()}  listeblanchemssante.xml\n".encode(), MIRROR_HEAD_SHA256),
    ],
)
def test_checksum_file(server: Server, store: TrustStore, body: bytes, digest: str) -> None:
    server.routes["/checksum"] = Reply(body=body)
    with AllowListFetcher(store=store, url=server.url(), timeout=TIMEOUT) as fetcher:
        assert fetcher.fetch_checksum(server.url("/checksum")) == digest


@pytest.mark.parametrize(
    ("reply", "code"),
    [
        (Reply(body=b"not a checksum"), BAD_CHECKSUM_FILE),
        (Reply(body=b""), BAD_CHECKSUM_FILE),
        (Reply(body=MIRROR_HEAD_SHA256[:63].encode()), BAD_CHECKSUM_FILE),
        (Reply(status=404), HTTP_ERROR),
        (Reply(body=b"0" * (MAX_CHECKSUM_BYTES + 1)), OVERSIZE),
    ],
    ids=["words", "empty", "short", "missing", "oversize"],
)
def test_bad_checksum_file(server: Server, store: TrustStore, reply: Reply, code: str) -> None:
    server.routes["/checksum"] = reply
    with (
        AllowListFetcher(store=store, url=server.url(), timeout=TIMEOUT) as fetcher,
        pytest.raises(AllowListFetchError) as raised,
    ):
        fetcher.fetch_checksum(server.url("/checksum"))
    assert raised.value.report.codes == (code,)


# --- the async twin ---------------------------------------------------------------------------------------------


def test_async_fetcher(server: Server, store: TrustStore, cache: AllowListCache) -> None:
    server.routes[PATH] = conditional(RESTORED.read_bytes())
    server.routes["/checksum"] = Reply(body=f"{RESTORED_SHA256}\n".encode())

    async def run() -> tuple[FetchResult, FetchResult, FetchResult, str]:
        async with AsyncAllowListFetcher(cache=cache, store=store, url=server.url(), timeout=TIMEOUT) as fetcher:
            digest = await fetcher.fetch_checksum(server.url("/checksum"))
            first = await fetcher.fetch(at=AT, expected_sha256=digest)
            second = await fetcher.fetch(at=AT + timedelta(hours=1))
            server.routes[PATH] = Reply(status=503)
            third = await fetcher.fetch(at=AT + timedelta(hours=2))
        return first, second, third, digest

    first, second, third, digest = asyncio.run(run())
    assert digest == RESTORED_SHA256
    assert (first.changed, first.report.codes, len(first.allowlist)) == (True, (DOWNLOADED,), 6554)
    assert (second.from_cache, second.report.codes) == (True, (NOT_MODIFIED,))
    assert server.requests[2].headers["if-none-match"] == ETAG
    assert (third.from_cache, third.report.ok, third.report.codes) == (True, True, (HTTP_ERROR, FROM_CACHE))
    assert third.checked_at == AT + timedelta(hours=1)


def test_async_fetcher_refuses_another_pki_and_http(foreign_server: Server, store: TrustStore) -> None:
    async def run() -> AllowListFetchError:
        async with AsyncAllowListFetcher(store=store, url=foreign_server.url(), timeout=TIMEOUT) as fetcher:
            with pytest.raises(AllowListFetchError) as raised:
                await fetcher.fetch(at=AT)
            return raised.value

    error = asyncio.run(run())
    assert error.report.codes == (DOWNLOAD_FAILED,)
    assert "CERTIFICATE_VERIFY_FAILED" in str(error)
    assert foreign_server.requests == []
    with pytest.raises(InvalidInput):
        AsyncAllowListFetcher(store=store, url="http://localhost/listeblanchemssante.xml")


def test_async_fetcher_bounds_the_body(server: Server, store: TrustStore) -> None:
    server.routes[PATH] = Reply(body=NEWER, length=False)

    async def run() -> AllowListFetchError:
        async with AsyncAllowListFetcher(store=store, url=server.url(), timeout=TIMEOUT, max_bytes=1000) as fetcher:
            with pytest.raises(AllowListFetchError) as raised:
                await fetcher.fetch(at=AT)
            return raised.value

    assert asyncio.run(run()).report.codes == (OVERSIZE,)


# --- progress ---------------------------------------------------------------------------------------------------


def test_progress_hears_of_the_list_as_it_arrives(server: Server, store: TrustStore) -> None:
    body = RESTORED.read_bytes()
    server.routes[PATH] = Reply(body=body)
    heard: list[tuple[int, int | None]] = []
    result = fetch(server, store, progress=lambda got, of: heard.append((got, of)))
    assert result.changed
    assert heard[0] == (0, len(body))
    assert heard[-1] == (len(body), len(body))
    received = [got for got, _ in heard]
    assert received == sorted(received)
    assert len(set(received)) == len(received) > 2
    assert {of for _, of in heard} == {len(body)}


def test_async_progress_without_a_declared_length(server: Server, store: TrustStore) -> None:
    server.routes[PATH] = Reply(body=NEWER, length=False)
    heard: list[tuple[int, int | None]] = []

    async def run() -> FetchResult:
        options: dict[str, Any] = {"store": store, "url": server.url(), "timeout": TIMEOUT}
        async with AsyncAllowListFetcher(**options, progress=lambda got, of: heard.append((got, of))) as fetcher:
            return await fetcher.fetch(at=AT)

    assert asyncio.run(run()).changed
    assert heard == [(0, None), (len(NEWER), None)]


def test_progress_hears_nothing_of_a_304(server: Server, store: TrustStore, cache: AllowListCache) -> None:
    prime(server, store, cache)
    server.routes[PATH] = conditional(SMALL)
    heard: list[tuple[int, int | None]] = []
    assert fetch(server, store, cache, progress=lambda got, of: heard.append((got, of))).from_cache
    assert heard == []


# --- the cache --------------------------------------------------------------------------------------------------


def test_default_cache_directory() -> None:
    assert default_cache_directory({"XDG_CACHE_HOME": "/var/cache/x"}) == Path("/var/cache/x/mssante/allowlist")
    assert default_cache_directory({"XDG_CACHE_HOME": "relative"}) == Path.home() / ".cache/mssante/allowlist"
    assert default_cache_directory({}) == Path.home() / ".cache/mssante/allowlist"
    assert AllowListCache().directory == default_cache_directory()


def test_cache_store_and_load(cache: AllowListCache) -> None:
    assert cache.load() is None
    assert cache.read()[1].codes == ()
    stored = cache.store(SMALL, url="https://example.org/l.xml", fetched_at=AT, etag='"e"', last_modified=MODIFIED)
    loaded = cache.load()
    assert loaded is not None
    assert (loaded.url, loaded.etag, loaded.last_modified, loaded.fetched_at, loaded.checked_at) == (
        "https://example.org/l.xml",
        '"e"',
        MODIFIED,
        AT,
        AT,
    )
    assert loaded.sha256 == stored.sha256 == hashlib.sha256(SMALL).hexdigest()
    assert loaded.conditional_headers() == {"If-None-Match": '"e"', "If-Modified-Since": MODIFIED}
    assert (cache.directory.stat().st_mode & 0o777) == 0o700

    before = snapshot(cache)
    with pytest.raises(InvalidInput):
        cache.store(MIRROR_HEAD.read_bytes(), url="https://example.org/l.xml", fetched_at=AT)
    with pytest.raises(TrustError, match="older"):
        cache.store(OLDER, url="https://example.org/l.xml", fetched_at=AT)
    with pytest.raises(ValueError, match="timezone"):
        cache.store(NEWER, url="https://example.org/l.xml", fetched_at=datetime(2025, 3, 14))
    assert snapshot(cache) == before
    assert [path.name for path in cache.directory.iterdir() if path.name.startswith(".tmp")] == []


def _damage_metadata(cache: AllowListCache) -> None:
    cache.metadata_path.write_text("{not json")


def _damage_document(cache: AllowListCache) -> None:
    cached = cache.load()
    assert cached is not None
    cached.path.write_bytes(SMALL.replace(b"hopital-a", b"hopital-z"))  # a valid list, but not the one stored


def _remove_document(cache: AllowListCache) -> None:
    for path in cache.directory.glob("*.xml"):
        path.unlink()


def _wrong_fields(cache: AllowListCache) -> None:
    meta = json.loads(cache.metadata_path.read_text())
    cache.metadata_path.write_text(json.dumps({**meta, "fetched_at": "yesterday"}))


def _not_an_object(cache: AllowListCache) -> None:
    cache.metadata_path.write_text("[]")


def _not_a_list(cache: AllowListCache) -> None:
    """A document that is not an allow-list, with metadata that names it faithfully."""
    meta = json.loads(cache.metadata_path.read_text())
    _remove_document(cache)
    document = b"<ListeBlancheMSSante/>"
    meta["sha256"] = hashlib.sha256(document).hexdigest()
    (cache.directory / f"listeblanchemssante-{meta['sha256']}.xml").write_bytes(document)
    cache.metadata_path.write_text(json.dumps(meta))


@pytest.mark.parametrize(
    "damage", [_damage_metadata, _damage_document, _remove_document, _wrong_fields, _not_an_object, _not_a_list]
)
def test_a_damaged_cache_is_ignored_with_a_finding(
    server: Server, store: TrustStore, cache: AllowListCache, damage: Callable[[AllowListCache], None]
) -> None:
    prime(server, store, cache)
    damage(cache)
    cached, report = cache.read()
    assert cached is None
    assert report.codes == (CACHE_DAMAGED,)
    assert report.ok

    server.routes[PATH] = conditional(SMALL)
    result = fetch(server, store, cache)
    assert "if-none-match" not in server.requests[0].headers  # nothing to re-validate
    assert (result.changed, result.report.codes) == (True, (CACHE_DAMAGED, DOWNLOADED))
    assert cache.load() is not None  # repaired by the download

    damage(cache)
    server.routes[PATH] = Reply(status=500)
    assert refused(server, store, cache).codes == (CACHE_DAMAGED, HTTP_ERROR)


def test_a_cache_that_cannot_be_written(server: Server, store: TrustStore, tmp_path: Path) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_bytes(b"")
    server.routes[PATH] = Reply(body=SMALL)
    result = fetch(server, store, AllowListCache(blocked / "cache"))
    assert (result.changed, result.report.ok) == (True, True)
    assert result.report.codes == (CACHE_DAMAGED, DOWNLOADED, CACHE_NOT_WRITTEN)  # not readable, not writable


def test_time_must_be_explicit_and_aware(server: Server, store: TrustStore) -> None:
    with AllowListFetcher(store=store, url=server.url()) as fetcher, pytest.raises(ValueError, match="timezone"):
        fetcher.fetch(at=datetime(2025, 3, 14))

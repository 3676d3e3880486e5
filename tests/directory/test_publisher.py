"""MailboxPublisher against hostile endpoints: where the key may go, what an answer may hold, how long it may take.

The endpoint is the shared local server (``tests/local_server.py``) on 127.0.0.1, started and stopped by each test.
The checks are counts, never durations: a trickling endpoint is cut while it is still sending; a compression bomb is
measured by the memory the publisher allocated (``tracemalloc``), far below what the bomb inflates to.
"""

from __future__ import annotations

import gzip
import json
import tracemalloc
import zlib
from collections.abc import Iterator
from typing import Any

import pytest

from mssante.directory import MailboxPatch, MailboxPublisher, PatchTarget
from mssante.directory._fhir import (
    DirectoryBadRequest,
    DirectoryFailure,
    DirectoryResponseError,
    DirectoryUnavailable,
)
from mssante.errors import DirectoryError
from tests.counting import HANG_GUARD
from tests.local_server import TIMEOUT, LocalServer, Reply

KEY = "pub-S3CRET-0123456789abcdef"
BASE = "/fhir/mss"
TARGET = PatchTarget.of("finess", "123456789")
ROUTE = f"{BASE}/Organization"
UPDATED = json.dumps({"resourceType": "Organization", "id": "001-01-1"}).encode()


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """The local server is reached directly, whatever proxy the environment names."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


@pytest.fixture
def server() -> Iterator[LocalServer]:
    running = LocalServer()
    yield running
    running.stop()


def patch() -> MailboxPatch:
    return MailboxPatch.for_target(TARGET).insert("structure@domain.mssante.fr", "ORG", description="BAL")


def publish(server: LocalServer, **options: Any) -> dict[str, Any]:
    options.setdefault("timeout", TIMEOUT)
    with MailboxPublisher(server.url(BASE), api_key=KEY, accept_draft_api=True, **options) as publisher:
        return publisher.publish(TARGET, patch())


def refused(error: type[DirectoryFailure], server: LocalServer, **options: Any) -> DirectoryFailure:
    """The error a publication raises, checked to keep the API key to itself."""
    with pytest.raises(error) as raised:
        publish(server, **options)
    found = raised.value
    for text in (str(found), repr(found), str(found.report), found.url, *found.diagnostics):
        assert KEY not in text
        assert KEY[:12] not in text
    return found


def test_a_patch_is_sent_with_the_key_and_its_answer_read(server: LocalServer) -> None:
    server.routes[ROUTE] = Reply(UPDATED, headers={"Content-Type": "application/fhir+json"})
    assert publish(server) == {"resourceType": "Organization", "id": "001-01-1"}
    [request] = server.requests
    assert request.method == "PATCH"
    assert request.headers["esante-api-key"] == KEY
    assert json.loads(request.body) == patch().to_json()


# --- where the key may go ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://localhost.attacker.example/fhir/mss",  # starts like the loopback, is not
        "http://127.0.0.1.attacker.example/fhir/mss",
        "http://127.0.0.1@attacker.example/fhir/mss",  # the loopback as user name, the host elsewhere
        "http://localhost:80@attacker.example/fhir/mss",
        "http://user:pw@127.0.0.1/fhir/mss",  # credentials, even on the loopback
        "https://user@gateway.example/fhir/mss",
        "http://attacker.example/fhir/mss?via=http://127.0.0.1",
        "http://10.0.0.1/fhir/mss",
        "ftp://127.0.0.1/fhir/mss",
        "https:///fhir/mss",
        "http://127.0.0.1/fhir/mss#fragment",
        "not a url",
    ],
)
def test_the_key_goes_over_plain_http_to_the_loopback_only(url: str) -> None:
    # Catches a loopback test on how the URL starts: the key would be sent in clear to another host.
    with pytest.raises(ValueError, match="https"):
        MailboxPublisher(url, api_key=KEY, accept_draft_api=True)


@pytest.mark.parametrize(
    "url",
    [
        "https://gateway.example/fhir/mss",
        "http://127.0.0.1:8080/fhir/mss",
        "http://127.3.4.5/fhir/mss",
        "http://localhost:8080/fhir/mss",
        "HTTP://LOCALHOST:8080/fhir/mss",
        "http://[::1]:8080/fhir/mss",
    ],
)
def test_https_or_the_loopback_is_accepted(url: str) -> None:
    MailboxPublisher(url, api_key=KEY, accept_draft_api=True).close()


def test_publishing_is_still_an_explicit_opt_in() -> None:
    with pytest.raises(DirectoryError, match="draft"):
        MailboxPublisher("https://gateway.example/fhir/mss", api_key=KEY)


def test_a_redirection_is_not_followed(server: LocalServer) -> None:
    elsewhere = LocalServer()
    try:
        server.routes[ROUTE] = Reply(status=307, headers={"Location": elsewhere.url(ROUTE)})
        refused(DirectoryResponseError, server)
        assert elsewhere.requests == []
    finally:
        elsewhere.stop()


# --- what an answer may hold ------------------------------------------------------------------------------------


def outcome(text: str) -> bytes:
    issue = {"severity": "error", "code": "multiple-matches", "diagnostics": text}
    return json.dumps({"resourceType": "OperationOutcome", "issue": [issue]}).encode()


@pytest.mark.parametrize(
    "echo",
    [
        f"Multiple matches for the request sent with ESANTE-API-KEY={KEY}",
        "x" * 480 + f" key {KEY}",  # the key cut by the length limit of the diagnostics
        "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl",
    ],
)
def test_a_412_that_echoes_secrets_does_not_put_them_in_the_error(server: LocalServer, echo: str) -> None:
    # Catches the 412 diagnostics quoted as the endpoint wrote them.
    server.routes[ROUTE] = Reply(outcome(echo), status=412, headers={"Content-Type": "application/fhir+json"})
    error = refused(DirectoryBadRequest, server)
    assert isinstance(error, DirectoryBadRequest)
    assert error.status == 412
    assert "[secret]" in error.diagnostics[0]
    assert "eyJhbGciOiJIUzI1NiJ9" not in str(error)


def bomb(size: int) -> bytes:
    """``size`` zero bytes, gzip-compressed (a thousand times smaller), compressed piece by piece."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zeros = bytes(1024 * 1024)
    return b"".join(packer.compress(zeros) for _ in range(size // len(zeros))) + packer.flush()


def test_a_compression_bomb_is_not_inflated(server: LocalServer) -> None:
    # Catches a whole answer read and decoded in memory: 200 MiB of zeros from some 200 KiB on the wire.
    body = bomb(200 * 1024 * 1024)
    server.routes[ROUTE] = Reply(body, headers={"Content-Encoding": "gzip", "Content-Type": "application/fhir+json"})
    tracemalloc.start()
    try:
        with pytest.raises(DirectoryResponseError) as raised:
            publish(server)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert raised.value.code == "MSS-FHIR-002"
    assert peak < 50 * 1024 * 1024  # far from the 200 MiB the bomb inflates to


def test_a_compressed_answer_within_the_bound_is_read(server: LocalServer) -> None:
    server.routes[ROUTE] = Reply(gzip.compress(UPDATED), headers={"Content-Encoding": "gzip"})
    assert publish(server)["id"] == "001-01-1"
    assert refused(DirectoryResponseError, server, max_bytes=10).code == "MSS-FHIR-002"


def test_a_damaged_compressed_answer_is_refused(server: LocalServer) -> None:
    server.routes[ROUTE] = Reply(gzip.compress(UPDATED)[:-12], headers={"Content-Encoding": "gzip"})
    refused(DirectoryResponseError, server)


# --- how long it may take ---------------------------------------------------------------------------------------

# Each byte in time for the per-read timeout (the hang guard here), the whole answer some ten seconds, max_duration
# half a second: the publisher says the deadline passed, and the endpoint had not written all it had.
TRICKLES = {
    "headers": Reply(UPDATED, head_drip=0.1),
    "body": Reply(UPDATED * 20, drip=0.1, piece=16),
}


@pytest.mark.parametrize("trickle", TRICKLES.values(), ids=TRICKLES)
def test_a_trickling_endpoint_cannot_stretch_max_duration(server: LocalServer, trickle: Reply) -> None:
    # Catches a publisher without an overall deadline: only the per-read timeout, which a trickle never trips.
    server.routes[ROUTE] = trickle
    error = refused(DirectoryUnavailable, server, timeout=HANG_GUARD, max_duration=0.5)
    assert "took too long" in str(error)
    [request] = server.requests
    assert not request.complete  # the publisher gave up while the endpoint was still sending

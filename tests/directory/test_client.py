"""The directory clients against a real local server that replays the fixtures and plays the failures.

The server is a ``ThreadingHTTPServer`` on 127.0.0.1 (port 0), started and stopped by each test: plain HTTP (the
clients accept http for a loopback host only), and once HTTPS with a certificate from a
:class:`~mssante.testing.TestPki`. Every socket has a timeout; a delayed answer ends when the server stops.
Time is injected: ``sleep`` records the waits asked for and advances a fake ``clock``, so retries and the rate
limit cost no real time. The FHIR bodies are the fixtures of ``tests/data/directory/fhir/`` (see
``test_fhir.py`` for their sources).
"""

from __future__ import annotations

import asyncio
import gzip
import json
import logging
import random
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest

from mssante.addresses import MailboxType
from mssante.directory._client import (
    DEFAULT_MAX_PAGES,
    AsyncDirectoryClient,
    DirectoryClient,
    RateLimiter,
    retry_after_seconds,
)
from mssante.directory._fhir import (
    DirectoryAuthError,
    DirectoryBadRequest,
    DirectoryFailure,
    DirectoryNotFound,
    DirectoryRateLimited,
    DirectoryResponseError,
    DirectoryUnavailable,
    Page,
    Practitioner,
    Query,
)
from mssante.directory._models import Mailbox, Person
from mssante.errors import DirectoryError, InvalidAddress
from mssante.pki import Environment, TrustStore, client_context
from mssante.testing import TestPki
from tests.counting import HANG_GUARD
from tests.local_server import TIMEOUT, LocalServer, Reply, Request

DATA = Path(__file__).parent.parent / "data" / "directory" / "fhir"
KEY = "k3y-S3CRET-0123456789abcdef"
FHIR = "/fhir/v2"
EMAIL_TYPE = "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-contact-point-email-type"
METADATA = "https://interop.esante.gouv.fr/ig/fhir/annuaire/StructureDefinition/as-ext-mailbox-mss-metadata"

AUTH, NOT_FOUND, RATE_LIMITED, UNAVAILABLE = "MSS-FHIR-011", "MSS-FHIR-012", "MSS-FHIR-013", "MSS-FHIR-014"
NETWORK, BAD_REQUEST, NO_API_KEY, UNEXPECTED = "MSS-FHIR-015", "MSS-FHIR-016", "MSS-FHIR-017", "MSS-FHIR-018"
NOT_JSON, TOO_LARGE, LINK_REFUSED = "MSS-FHIR-001", "MSS-FHIR-002", "MSS-FHIR-010"


def loaded(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / name).read_bytes())
    return data


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """The local servers are reached directly, whatever proxy the environment names."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


# --- a local HTTP(S) server --------------------------------------------------------------------------------------


class Server(LocalServer):
    """The local stand-in for the FHIR API: no automatic Date header (the tests choose it)."""

    def __init__(self, context: ssl.SSLContext | None = None, host: str = "127.0.0.1") -> None:
        super().__init__(context, host=host, automatic_headers=False)

    @property
    def base(self) -> str:
        return self.url(FHIR)


@pytest.fixture
def server() -> Iterator[Server]:
    running = Server()
    yield running
    running.stop()


@pytest.fixture
def elsewhere() -> Iterator[Server]:
    """Another server, which must never be asked anything."""
    running = Server()
    yield running
    running.stop()
    assert running.requests == []


def fhir(data: object, status: int = 200, headers: dict[str, str] | None = None) -> Reply:
    return Reply(
        body=json.dumps(data).encode(),
        status=status,
        headers={"Content-Type": "application/fhir+json", **(headers or {})},
    )


def bundle(*resources: dict[str, Any], next: str | None = None) -> dict[str, Any]:
    links = [{"relation": "next", "url": next}] if next else []
    return {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": r} for r in resources], "link": links}


def replies(*sequence: Reply) -> Callable[[Request], Reply]:
    """A route answering ``sequence`` in order, then its last reply again and again."""
    remaining = list(sequence)

    def route(_request: Request) -> Reply:
        return remaining.pop(0) if len(remaining) > 1 else remaining[0]

    return route


OUTCOME = (DATA / "apidoc-v2-operationoutcome-unknown-resource.json").read_bytes()
MSS_BUNDLE = loaded("mssig-bundle-bal-per-searchset.json")
IG_PRACTITIONER = loaded("ig-Practitioner-334081DP.json")
V1_PRACTITIONER = loaded("v1-practitioner-mailboxmss-SYNTHETIC.json")
NANCY = loaded("ig-Organization-example-organization-nancy.json")


def page_of(data: dict[str, Any], *, next: str | None = None) -> Reply:
    return fhir({**data, "link": [{"relation": "next", "url": next}] if next else []})


# --- time -------------------------------------------------------------------------------------------------------


class FakeTime:
    """A monotonic clock that only ``sleep`` moves, and the list of the waits asked for."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    async def asleep(self, seconds: float) -> None:
        self.sleep(seconds)


@pytest.fixture
def time() -> FakeTime:
    return FakeTime()


def directory(server: Server, time: FakeTime, **options: Any) -> DirectoryClient:
    options.setdefault("rate", None)
    options.setdefault("timeout", TIMEOUT)
    return DirectoryClient(
        KEY, base_url=server.base, clock=time.clock, sleep=time.sleep, rng=random.Random(7), **options
    )


def async_directory(server: Server, time: FakeTime, **options: Any) -> AsyncDirectoryClient:
    options.setdefault("rate", None)
    options.setdefault("timeout", TIMEOUT)
    return AsyncDirectoryClient(
        KEY, base_url=server.base, clock=time.clock, sleep=time.asleep, rng=random.Random(7), **options
    )


def failure(error: type[DirectoryFailure], call: Callable[[], object]) -> DirectoryFailure:
    """The error ``call`` raises, checked to keep the API key to itself."""
    with pytest.raises(error) as raised:
        call()
    assert_no_key(raised.value)
    return raised.value


def assert_no_key(error: DirectoryError) -> None:
    assert isinstance(error, DirectoryFailure)
    for text in (str(error), repr(error), str(error.report), error.url, *error.diagnostics):
        assert KEY not in text


# --- paging ------------------------------------------------------------------------------------------------------

PAGE_TOKEN = "u0Am-X_Z%2Fab~c"


def three_pages(server: Server) -> None:
    """Practitioner search: the MSS IG bundle, then the IG practitioner, then the v1 one, linked by next."""
    server.routes[f"{FHIR}/Practitioner"] = page_of(MSS_BUNDLE, next=server.url(f"{FHIR}/_page?id={PAGE_TOKEN}"))

    def pages(request: Request) -> Reply:
        if request.query == [("id", PAGE_TOKEN.replace("%2F", "/"))]:
            return fhir(bundle(IG_PRACTITIONER, next=server.url(f"{FHIR}/_page?id=3&_bundletype=searchset")))
        return fhir(bundle(V1_PRACTITIONER))

    server.routes[f"{FHIR}/_page"] = pages


EXPECTED_ADDRESSES = [
    "jean-marie.dupont@infirmier.mssante.fr",
    "sophie.martin@medecin.mssante.fr",
    "jeromebonnet@pro.mssante.fr",
    "camille.exemple@medecin.mssante.fr",
    "cabinet.exemple@medecin.mssante.fr",
]


def test_paging_over_three_pages_lazily(server: Server, time: FakeTime) -> None:
    three_pages(server)
    query = Query(resource="Practitioner").mailbox("@", modifier="contains").count(2)
    with directory(server, time) as client:
        found = client.search(query)
        assert server.requests == []  # nothing asked before the first mailbox is wanted
        first = next(found)
        assert len(server.requests) == 1
        rest = list(found)
    assert [m.address for m in [first, *rest]] == EXPECTED_ADDRESSES
    assert all(m.source == "fhir" and m.person is not None for m in [first, *rest])
    first_request, second, third = server.requests
    assert first_request.route == f"{FHIR}/Practitioner"
    assert first_request.query == [("mailbox-mss:contains", "@"), ("_count", "2")]
    assert second.path == f"{FHIR}/_page?id={PAGE_TOKEN}"  # the link as given, not rebuilt
    assert third.path == f"{FHIR}/_page?id=3&_bundletype=searchset"
    for request in server.requests:
        assert request.headers["esante-api-key"] == KEY
        assert request.headers["accept"].startswith("application/fhir+json")
        assert request.headers["accept-encoding"] == "identity"
    assert time.sleeps == []


def test_pages_and_resources(server: Server, time: FakeTime) -> None:
    three_pages(server)
    with directory(server, time) as client:
        pages = list(client.pages(Query(resource="Practitioner")))
        records = list(client.resources(Query(resource="Practitioner")))
    assert [page.total for page in pages] == [2, None, None]
    assert [len(page.resources) for page in pages] == [2, 1, 1]
    assert [r.id for r in records if isinstance(r, Practitioner)] == [
        "mss-practitioner-bal-per-dupont",
        "mss-practitioner-bal-per-martin",
        "334081DP",
        "SYNTHETIC-v1-mailboxmss",
    ]


@pytest.mark.parametrize(
    "link",
    [
        "http://localhost:{port}/fhir/v2/_page?id=2",  # another host name
        "http://127.0.0.1:{other}/fhir/v2/_page?id=2",  # another port
        "https://127.0.0.1:{port}/fhir/v2/_page?id=2",  # another scheme
        "http://user:pw@127.0.0.1:{port}/fhir/v2/_page?id=2",  # credentials
        "/fhir/v2/_page?id=2",  # not absolute
    ],
)
def test_a_next_link_elsewhere_is_refused(server: Server, elsewhere: Server, time: FakeTime, link: str) -> None:
    port, other = server.base.split(":")[2].split("/")[0], elsewhere.base.split(":")[2].split("/")[0]
    server.routes[f"{FHIR}/Practitioner"] = page_of(MSS_BUNDLE, next=link.format(port=port, other=other))
    server.routes[f"{FHIR}/_page"] = fhir(bundle())
    with directory(server, time) as client:
        found = client.search(Query(resource="Practitioner"))
        assert len([next(found), next(found)]) == 2  # the first page is given
        error = failure(DirectoryResponseError, lambda: next(found))
    assert error.code == LINK_REFUSED
    assert "is not followed" in str(error)
    assert len(server.requests) == 1


def test_a_next_link_followed_twice_stops_paging(server: Server, time: FakeTime) -> None:
    server.routes[f"{FHIR}/Practitioner"] = page_of(MSS_BUNDLE, next=server.url(f"{FHIR}/_page?id=loop"))
    server.routes[f"{FHIR}/_page"] = fhir(bundle(next=server.url(f"{FHIR}/_page?id=loop")))
    with directory(server, time) as client:
        error = failure(DirectoryResponseError, lambda: list(client.search(Query(resource="Practitioner"))))
    assert error.code == LINK_REFUSED
    assert len(server.requests) == 2


# --- retries -----------------------------------------------------------------------------------------------------


def test_429_with_retry_after_then_success(server: Server, time: FakeTime) -> None:
    server.routes[f"{FHIR}/Practitioner"] = replies(
        Reply(status=429, body=b'{"message": "Rate limit exceeded"}', headers={"Retry-After": "3"}),
        fhir(MSS_BUNDLE),
    )
    with directory(server, time) as client:
        found = list(client.search(Query(resource="Practitioner")))
    assert len(found) == 2
    assert time.sleeps == [3.0]
    assert len(server.requests) == 2


def test_retry_after_as_an_http_date(server: Server, time: FakeTime) -> None:
    dated = {"Retry-After": "Wed, 21 Oct 2015 07:28:07 GMT", "Date": "Wed, 21 Oct 2015 07:28:00 GMT"}
    undated = {"Retry-After": "Wed, 21 Oct 2015 07:28:30 GMT"}
    server.routes[f"{FHIR}/Practitioner"] = replies(
        Reply(status=503, headers=dated), Reply(status=429, headers=undated), fhir(MSS_BUNDLE)
    )
    wall = datetime(2015, 10, 21, 7, 28, 10, tzinfo=timezone.utc)
    with directory(server, time, wall_clock=lambda: wall) as client:
        assert len(list(client.search(Query(resource="Practitioner")))) == 2
    assert time.sleeps == [7.0, 20.0]


def test_429_until_the_retries_are_spent(server: Server, time: FakeTime) -> None:
    server.routes[f"{FHIR}/Practitioner"] = Reply(status=429, headers={"Retry-After": "1"})
    with directory(server, time, retries=2) as client:
        error = failure(DirectoryRateLimited, lambda: list(client.search(Query(resource="Practitioner"))))
    assert (error.code, error.status, error.retry_after) == (RATE_LIMITED, 429, 1.0)
    assert "3 attempts" in str(error)
    assert time.sleeps == [1.0, 1.0]
    assert len(server.requests) == 3


def test_the_key_is_never_logged(server: Server, time: FakeTime, caplog: pytest.LogCaptureFixture) -> None:
    server.routes[f"{FHIR}/Practitioner"] = replies(Reply(status=503), fhir(MSS_BUNDLE), Reply(status=401))
    caplog.set_level(logging.DEBUG)
    with directory(server, time) as client:
        assert len(list(client.search(Query(resource="Practitioner")))) == 2
        failure(DirectoryAuthError, lambda: list(client.search(Query(resource="Practitioner"))))
    assert "answered 503; retry 1" in caplog.text
    assert KEY not in caplog.text


def test_a_retry_after_too_long_is_not_waited(server: Server, time: FakeTime) -> None:
    server.routes[f"{FHIR}/Practitioner"] = Reply(status=429, headers={"Retry-After": "3600"})
    with directory(server, time) as client:
        error = failure(DirectoryRateLimited, lambda: list(client.search(Query(resource="Practitioner"))))
    assert error.retry_after == 3600.0
    assert time.sleeps == []
    assert len(server.requests) == 1


def test_502_then_success(server: Server, time: FakeTime) -> None:
    server.routes[f"{FHIR}/Practitioner"] = replies(
        Reply(status=502, body=b"<html>Bad Gateway</html>"), fhir(MSS_BUNDLE)
    )
    with directory(server, time) as client:
        assert len(list(client.search(Query(resource="Practitioner")))) == 2
    (wait,) = time.sleeps
    assert 0.25 <= wait <= 0.5  # half to all of the first backoff step (0.5 s)


def test_503_backs_off_exponentially_then_gives_up(server: Server, time: FakeTime) -> None:
    server.routes[f"{FHIR}/Practitioner"] = Reply(status=503)
    with directory(server, time) as client:
        error = failure(DirectoryUnavailable, lambda: list(client.search(Query(resource="Practitioner"))))
    assert (error.code, error.status) == (UNAVAILABLE, 503)
    assert "5 attempts" in str(error)
    assert len(server.requests) == 5
    assert len(time.sleeps) == 4
    for step, wait in enumerate(time.sleeps):
        assert 0.25 * 2**step <= wait <= 0.5 * 2**step


def test_500_is_not_retried(server: Server, time: FakeTime) -> None:
    server.routes[f"{FHIR}/Practitioner"] = Reply(status=500, body=OUTCOME)
    with directory(server, time) as client:
        error = failure(DirectoryUnavailable, lambda: list(client.search(Query(resource="Practitioner"))))
    assert error.diagnostics[0].startswith("error processing: HAPI-0302")
    assert len(server.requests) == 1


def test_a_slow_answer_times_out_after_the_retries(server: Server, time: FakeTime) -> None:
    server.routes[f"{FHIR}/Practitioner"] = Reply(delay=3.0, body=json.dumps(MSS_BUNDLE).encode())
    with directory(server, time, timeout=0.25, retries=1) as client:
        error = failure(DirectoryUnavailable, lambda: list(client.search(Query(resource="Practitioner"))))
    assert (error.code, error.status) == (NETWORK, None)
    assert "ReadTimeout" in str(error)
    assert "2 attempts" in str(error)
    assert len(server.requests) == 2
    assert len(time.sleeps) == 1


def test_a_closed_port_is_unavailable_after_the_retries(time: FakeTime) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = DirectoryClient(
        KEY, base_url=f"http://127.0.0.1:{port}/fhir/v2", rate=None, retries=2, clock=time.clock, sleep=time.sleep
    )
    with client:
        error = failure(DirectoryUnavailable, lambda: client.mailboxes_of(rpps="10001234567"))
    assert error.code == NETWORK
    assert "ConnectError" in str(error)
    assert len(time.sleeps) == 2


# --- errors ------------------------------------------------------------------------------------------------------


def test_401_with_a_gateway_html_page(server: Server, time: FakeTime) -> None:
    server.routes[f"{FHIR}/Practitioner"] = Reply(
        status=401, body=b"<!DOCTYPE html><html><body><h1>401 Unauthorized</h1></body></html>"
    )
    with directory(server, time) as client:
        error = failure(DirectoryAuthError, lambda: list(client.search(Query(resource="Practitioner"))))
    assert (error.code, error.status, error.diagnostics) == (AUTH, 401, ())
    assert "portal.api.esante.gouv.fr" in str(error)
    assert "<h1>" not in str(error)
    assert len(server.requests) == 1
    assert time.sleeps == []


@pytest.mark.parametrize(
    ("reply", "error", "code", "said"),
    [
        (Reply(status=403, body=b'{"message": "Unauthorized", "http_status_code": 403}'), DirectoryAuthError, AUTH,
         "Unauthorized"),
        (Reply(status=404, body=b"Not found"), DirectoryNotFound, NOT_FOUND, ""),
        (Reply(status=400, body=OUTCOME), DirectoryBadRequest, BAD_REQUEST, "HAPI-0302"),
        (Reply(status=302, headers={"Location": "http://example.org/"}), DirectoryResponseError, UNEXPECTED, ""),
        (Reply(body=b"<html>maintenance</html>"), DirectoryResponseError, NOT_JSON, ""),
        (Reply(body=gzip.compress(b"{}"), headers={"Content-Encoding": "gzip"}), DirectoryResponseError, NOT_JSON,
         "gzip"),
        (fhir(NANCY), DirectoryResponseError, "MSS-FHIR-003", "not 'Organization'"),
    ],
)  # fmt: skip
def test_error_answers(
    server: Server, time: FakeTime, reply: Reply, error: type[DirectoryFailure], code: str, said: str
) -> None:
    server.routes[f"{FHIR}/PractitionerRole"] = reply  # the first of the three searches of owner_of
    with directory(server, time) as client:
        found = failure(error, lambda: client.owner_of("secretariat@chu-exemple.mssante.fr"))
    assert found.code == code
    assert said in str(found)
    assert len(server.requests) == 1


def test_a_redirection_is_not_followed(server: Server, elsewhere: Server, time: FakeTime) -> None:
    server.routes[f"{FHIR}/Practitioner"] = Reply(status=307, headers={"Location": elsewhere.url(f"{FHIR}/x")})
    with directory(server, time) as client:
        error = failure(DirectoryResponseError, lambda: list(client.search(Query(resource="Practitioner"))))
    assert (error.code, error.status) == (UNEXPECTED, 307)


def test_a_page_over_the_size_limit(server: Server, time: FakeTime) -> None:
    server.routes[f"{FHIR}/Practitioner"] = fhir(MSS_BUNDLE)
    with directory(server, time, max_page_bytes=1000) as client:
        error = failure(DirectoryResponseError, lambda: list(client.search(Query(resource="Practitioner"))))
    assert error.code == TOO_LARGE


# --- the usual searches ------------------------------------------------------------------------------------------


def role(rid: str, *telecoms: dict[str, Any], practitioner: str = "Practitioner/334081DP") -> dict[str, Any]:
    resource: dict[str, Any] = {"resourceType": "PractitionerRole", "id": rid, "telecom": list(telecoms)}
    resource["practitioner"] = {"reference": practitioner}
    resource["organization"] = {"reference": "Organization/example-organization-nancy"}
    return resource


def telecom(address: str, kind: str | None = None, **metadata: str) -> dict[str, Any]:
    extensions: list[dict[str, Any]] = [{"url": EMAIL_TYPE, "valueCoding": {"code": "MSSANTE"}}]
    sub = [{"url": "type", "valueCode": kind}] if kind else []
    sub += [{"url": name, "valueString": value} for name, value in metadata.items()]
    if sub:
        extensions.append({"url": METADATA, "extension": sub})
    return {"system": "email", "value": address, "extension": extensions}


SAUCIER = Person(
    rpps="10003461033",
    idnps="810003461033",
    civility="M",
    family="Saucier",
    given="Arthur",
    profession_code="10",
    profession="Médecin",
)


def test_mailboxes_of_a_practitioner_merge_the_roles(server: Server, time: FakeTime) -> None:
    first = bundle(
        IG_PRACTITIONER,
        role("r1", telecom("JeromeBonnet@pro.mssante.fr", "PER"), telecom("arthur.saucier@chu-nancy.mssante.fr")),
        next=server.url(f"{FHIR}/_page?id=2"),
    )
    server.routes[f"{FHIR}/Practitioner"] = fhir(first)
    server.routes[f"{FHIR}/_page"] = fhir(
        bundle(role("r2", telecom("arthur.saucier@chu-nancy.mssante.fr", description="Consultations")))
    )
    with directory(server, time) as client:
        found = client.mailboxes_of(rpps="10003461033")
    assert [(m.address, m.type, m.description, m.person) for m in found] == [
        ("jeromebonnet@pro.mssante.fr", MailboxType.PER, "", SAUCIER),
        ("arthur.saucier@chu-nancy.mssante.fr", None, "Consultations", SAUCIER),
    ]
    assert server.requests[0].query == [
        ("identifier", "10003461033"),
        ("_revinclude", "PractitionerRole:practitioner"),
    ]
    with directory(server, time) as client:
        client.mailboxes_of(idnps="810003461033")
        assert server.requests[-2].query[0] == ("identifier", "urn:oid:1.2.250.1.71.4.2.1|810003461033")
        with pytest.raises(ValueError, match="one of them"):
            client.mailboxes_of()
        with pytest.raises(ValueError, match="one of them"):
            client.mailboxes_of(rpps="10003461033", idnps="810003461033")


def test_owner_of_an_address_asks_the_three_resource_types(server: Server, time: FakeTime) -> None:
    address = "arthur.saucier@chu-nancy.mssante.fr"
    server.routes[f"{FHIR}/PractitionerRole"] = fhir(bundle(role("r1", telecom(address)), IG_PRACTITIONER, NANCY))
    practitioner = {**IG_PRACTITIONER, "telecom": [telecom(address, "PER"), telecom("other@pro.mssante.fr", "PER")]}
    server.routes[f"{FHIR}/Practitioner"] = fhir(bundle(practitioner))
    server.routes[f"{FHIR}/Organization"] = fhir(bundle())
    with directory(server, time) as client:
        owner = client.owner_of("arthur.saucier@CHU-Nancy.MSSante.fr")  # the domain's case does not matter
        nobody = client.owner_of("nobody@chu-nancy.mssante.fr")
        with pytest.raises(InvalidAddress):
            client.owner_of("not-an-address")
    assert owner is not None
    assert owner == Mailbox(
        address=address,
        type=MailboxType.PER,
        person=SAUCIER,
        structure=owner.structure,
        source="fhir",
    )
    assert owner.structure is not None
    assert owner.structure.name == "CHRU NANCY - HOPITAUX DE BRABOIS"
    assert nobody is None
    assert [(r.route, r.query[0]) for r in server.requests[:3]] == [
        (f"{FHIR}/PractitionerRole", ("mailbox-mss", address)),
        (f"{FHIR}/Practitioner", ("mailbox-mss", address)),
        (f"{FHIR}/Organization", ("mailbox-mss", address)),
    ]
    assert server.requests[0].query[1:] == [
        ("_include", "PractitionerRole:practitioner"),
        ("_include", "PractitionerRole:organization"),
    ]
    assert len(server.requests) == 6


def test_search_mailboxes_by_name_or_place(server: Server, time: FakeTime) -> None:
    server.routes[f"{FHIR}/Practitioner"] = fhir(MSS_BUNDLE)
    server.routes[f"{FHIR}/Organization"] = fhir(bundle(NANCY))
    with directory(server, time) as client:
        people = [m.address for m in client.search_mailboxes(name="Sophie MARTIN")]
        places = [m.address for m in client.search_mailboxes(city="Vandoeuvre", postcode="54511")]
        with pytest.raises(ValueError, match="not both"):
            client.search_mailboxes(name="MARTIN", city="Lyon")
    assert people == EXPECTED_ADDRESSES[:2]
    assert places == ["exemple.address@address.mssante.fr"]
    assert server.requests[0].query[:2] == [("name", "Sophie"), ("name", "MARTIN")]
    assert server.requests[1].query[-1] == ("_revinclude", "PractitionerRole:organization")


# --- the rate limit ----------------------------------------------------------------------------------------------


def test_the_rate_limiter_spaces_requests(server: Server, time: FakeTime) -> None:
    three_pages(server)
    with directory(server, time, rate=4.0) as client:
        assert len(list(client.search(Query(resource="Practitioner")))) == 5
        assert time.sleeps == [0.25, 0.25]  # three requests, a quarter of a second apart
        time.now += 10.0  # idle: the next request goes at once
        server.routes[f"{FHIR}/Organization"] = fhir(bundle())
        list(client.pages(Query(resource="Organization")))
    assert time.sleeps == [0.25, 0.25]


def test_rate_limiter() -> None:
    limiter = RateLimiter(17.0)
    assert [round(limiter.reserve(0.0) * 17, 6) for _ in range(4)] == [0, 1, 2, 3]
    assert limiter.reserve(10.0) == 0.0
    bursty = RateLimiter(2.0, burst=3)
    assert [bursty.reserve(0.0) for _ in range(5)] == [0.0, 0.0, 0.0, 0.5, 1.0]
    assert repr(bursty) == "RateLimiter(2, burst=3)"
    with pytest.raises(ValueError, match="positive"):
        RateLimiter(0.0)
    with pytest.raises(ValueError, match="positive"):
        RateLimiter(1.0, burst=0)


def test_rate_limiter_is_thread_safe() -> None:
    limiter = RateLimiter(100.0)
    waits: list[float] = []
    threads = [threading.Thread(target=lambda: waits.extend(limiter.reserve(0.0) for _ in range(50))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(round(wait * 100) for wait in waits) == list(range(200))


def test_retry_after_seconds() -> None:
    at = datetime(2015, 10, 21, 7, 28, 0, tzinfo=timezone.utc)
    assert retry_after_seconds("120") == 120.0
    assert retry_after_seconds(" 1.5 ") == 1.5
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:07 GMT", now=at) == 7.0
    assert retry_after_seconds("Wed, 21 Oct 2015 07:27:00 GMT", now=at) == 0.0
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:07 GMT", date="Wed, 21 Oct 2015 07:28:05 GMT", now=at) == 2.0
    for unreadable in (None, "", "soon", "-1", "Wed, 99 Foo 2015", "1e9999"):
        assert retry_after_seconds(unreadable, now=at) is None
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:07 GMT") is None  # no reference time
    with pytest.raises(ValueError, match="timezone-aware"):
        retry_after_seconds("Wed, 21 Oct 2015 07:28:07 GMT", now=datetime(2015, 10, 21))


# --- configuration -----------------------------------------------------------------------------------------------


def test_the_api_key_comes_from_the_environment_or_is_asked_for(server: Server, time: FakeTime) -> None:
    server.routes[f"{FHIR}/Practitioner"] = fhir(bundle())
    with DirectoryClient(base_url=server.base, environ={"ESANTE_API_KEY": " env-key "}, rate=None) as client:
        list(client.pages(Query(resource="Practitioner")))
    assert server.requests[0].headers["esante-api-key"] == "env-key"
    for environ in ({}, {"ESANTE_API_KEY": "  "}):
        with pytest.raises(DirectoryAuthError) as raised:
            DirectoryClient(environ=environ)
        assert raised.value.code == NO_API_KEY
        assert "ESANTE_API_KEY" in str(raised.value)
        assert "https://portal.api.esante.gouv.fr" in str(raised.value)
    with pytest.raises(DirectoryAuthError):
        AsyncDirectoryClient(environ={})
    with pytest.raises(ValueError, match="not shown") as bad:
        DirectoryClient("secret\r\nX-Injected: 1")
    assert "secret" not in str(bad.value)


@pytest.mark.parametrize(
    "url",
    [
        "http://gateway.api.esante.gouv.fr/fhir/v2",  # the key in clear
        "https://gateway.api.esante.gouv.fr/fhir/v2?x=1",
        "https://user:pw@gateway.api.esante.gouv.fr/fhir/v2",
        "ftp://127.0.0.1/fhir",
        "gateway.api.esante.gouv.fr/fhir/v2",
    ],
)
def test_base_url_must_be_https(url: str) -> None:
    with pytest.raises(ValueError, match="base_url"):
        DirectoryClient(KEY, base_url=url)


def test_the_key_is_not_in_the_client_repr_and_an_own_client_is_kept(server: Server, time: FakeTime) -> None:
    server.routes[f"{FHIR}/Practitioner"] = fhir(bundle())
    with httpx.Client() as own:
        with DirectoryClient(KEY, base_url=server.base + "/", client=own, rate=None) as client:
            assert KEY not in repr(client)
            assert repr(client) == f"DirectoryClient({server.base!r})"
            list(client.pages(Query(resource="Practitioner")))
        assert not own.is_closed
    assert server.requests[0].route == f"{FHIR}/Practitioner"
    made = DirectoryClient(KEY)
    made.close()
    assert made.client.is_closed


# --- over HTTPS --------------------------------------------------------------------------------------------------


def test_over_https_with_an_igc_sante_shaped_certificate(tmp_path: Path, time: FakeTime) -> None:
    pki = TestPki.create(environment=Environment.PROD, at=datetime.now(timezone.utc))
    issued = pki.server(["localhost"])
    (tmp_path / "chain.pem").write_bytes(issued.pem())
    (tmp_path / "key.pem").write_bytes(issued.key_pem())
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "chain.pem", tmp_path / "key.pem")
    secure = Server(context, host="localhost")
    try:
        secure.routes[f"{FHIR}/Practitioner"] = page_of(MSS_BUNDLE, next=secure.url(f"{FHIR}/_page?id=2"))
        secure.routes[f"{FHIR}/_page"] = fhir(bundle(IG_PRACTITIONER))
        store = TrustStore.from_certificates([*pki.anchors, *pki.intermediates], environment=pki.environment)
        with httpx.Client(verify=client_context(store)) as tls:
            client = DirectoryClient(KEY, base_url=secure.base, client=tls, rate=None, sleep=time.sleep)
            found = list(client.search(Query(resource="Practitioner")))
        assert [m.address for m in found] == EXPECTED_ADDRESSES[:3]
        with (
            DirectoryClient(KEY, base_url=secure.base, rate=None, retries=0) as default,
            pytest.raises(DirectoryUnavailable, match="CERTIFICATE_VERIFY_FAILED"),  # not in the system store
        ):
            default.owner_of("a@b.mssante.fr")
    finally:
        secure.stop()


# --- the async twin ----------------------------------------------------------------------------------------------


def test_async_paging(server: Server, time: FakeTime) -> None:
    three_pages(server)

    async def run() -> tuple[list[Mailbox], int, list[str]]:
        async with async_directory(server, time, rate=4.0) as client:
            found = client.search(Query(resource="Practitioner"))
            first = await found.__anext__()
            asked = len(server.requests)
            rest = [mailbox async for mailbox in found]
            ids = [r.id async for r in client.resources(Query(resource="Practitioner"))]
        return [first, *rest], asked, ids

    found, asked, ids = asyncio.run(run())
    assert asked == 1
    assert [m.address for m in found] == EXPECTED_ADDRESSES
    assert ids[-1] == "SYNTHETIC-v1-mailboxmss"
    assert server.requests[1].path == f"{FHIR}/_page?id={PAGE_TOKEN}"
    assert time.sleeps == [0.25] * 5  # six requests, spaced by the limiter


def test_async_429_then_success_and_the_usual_searches(server: Server, time: FakeTime) -> None:
    address = "arthur.saucier@chu-nancy.mssante.fr"
    server.routes[f"{FHIR}/Practitioner"] = replies(
        Reply(status=429, headers={"Retry-After": "2"}),
        fhir(bundle(IG_PRACTITIONER, role("r1", telecom(address, "PER")))),
    )
    server.routes[f"{FHIR}/PractitionerRole"] = fhir(bundle())
    server.routes[f"{FHIR}/Organization"] = fhir(bundle())

    async def run() -> tuple[tuple[Mailbox, ...], Mailbox | None, list[str]]:
        async with async_directory(server, time) as client:
            mailboxes, owner = await client.mailboxes_of(rpps="10003461033"), await client.owner_of(address)
            places = [m.address async for m in client.search_mailboxes(postcode="54511")]
            return mailboxes, owner, places

    mailboxes, owner, places = asyncio.run(run())
    assert places == []
    assert [m.address for m in mailboxes] == ["jeromebonnet@pro.mssante.fr", address]
    assert time.sleeps == [2.0]
    assert owner is not None
    assert (owner.type, owner.person) == (MailboxType.PER, SAUCIER)


def test_async_401_and_a_foreign_next_link(server: Server, elsewhere: Server, time: FakeTime) -> None:
    server.routes[f"{FHIR}/Practitioner"] = Reply(status=401, body=b"<html>401</html>")
    server.routes[f"{FHIR}/Organization"] = page_of(MSS_BUNDLE, next=elsewhere.url(f"{FHIR}/_page?id=2"))
    server.routes[f"{FHIR}/PractitionerRole"] = Reply(delay=3.0)

    async def error_of(client: AsyncDirectoryClient, resource: str) -> DirectoryError:
        with pytest.raises(DirectoryError) as raised:
            async for _ in client.search(Query(resource=resource)):
                pass
        return raised.value

    async def run() -> list[DirectoryError]:
        async with async_directory(server, time, timeout=0.25, retries=1) as client:
            return [await error_of(client, name) for name in ("Practitioner", "Organization", "PractitionerRole")]

    auth, link, slow = asyncio.run(run())
    assert isinstance(auth, DirectoryAuthError)
    assert isinstance(link, DirectoryResponseError)
    assert isinstance(slow, DirectoryUnavailable)
    assert [auth.code, link.code, slow.code] == [AUTH, LINK_REFUSED, NETWORK]
    for error in (auth, link, slow):
        assert_no_key(error)
    assert len(server.requests) == 4  # 401 not retried; the page; the slow one twice


# --- hostile servers: the same cases for the sync and async clients ---------------------------------------------

MODES = ["sync", "async"]
PAGES, ENTRIES, QUERY_BYTES, QUERY_DURATION = "MSS-DIR-040", "MSS-DIR-041", "MSS-DIR-042", "MSS-DIR-043"


def read_pages(
    mode: str, server: Server, time: FakeTime, query: Query, **options: Any
) -> tuple[list[Page], DirectoryFailure | None]:
    """The pages ``query`` gives (sync or async client) until the end or an error, and that error."""
    pages: list[Page] = []
    if mode == "sync":
        with directory(server, time, **options) as client:
            try:
                for page in client.pages(query):
                    pages.append(page)  # noqa: PERF402 (the pages given before an error are kept)
            except DirectoryFailure as error:
                return pages, error
        return pages, None

    async def run() -> DirectoryFailure | None:
        async with async_directory(server, time, **options) as client:
            try:
                async for page in client.pages(query):
                    pages.append(page)  # noqa: PERF401 (the pages given before an error are kept)
            except DirectoryFailure as error:
                return error
        return None

    return pages, asyncio.run(run())


def failed(mode: str, server: Server, time: FakeTime, query: Query, **options: Any) -> DirectoryFailure:
    """The error a query ends with, checked to keep the API key to itself."""
    _, error = read_pages(mode, server, time, query, **options)
    assert error is not None, "the query ended without an error"
    assert_no_key(error)
    return error


# A server that trickles: each byte in time for the per-read timeout (the hang guard here), the whole reply some ten
# seconds, max_duration half a second. Counts, never durations: the client says the deadline passed, and the server had
# not written its whole reply when the client returned.
TRICKLES = {
    "headers": Reply(body=json.dumps(bundle()).encode(), head_drip=0.1),
    "body": Reply(body=json.dumps(MSS_BUNDLE).encode(), drip=0.1, piece=16),
}


@pytest.mark.parametrize("trickle", TRICKLES.values(), ids=TRICKLES)
@pytest.mark.parametrize("mode", MODES)
def test_a_trickling_directory_cannot_stretch_max_duration(
    mode: str, server: Server, time: FakeTime, trickle: Reply
) -> None:
    # Catches a deadline checked only when a 64 KiB chunk is complete, or not before the headers have come.
    server.routes[f"{FHIR}/Practitioner"] = trickle
    error = failed(mode, server, time, Query(resource="Practitioner"), timeout=HANG_GUARD, max_duration=0.5, retries=0)
    assert isinstance(error, DirectoryUnavailable)
    assert error.code == NETWORK
    assert "took too long" in str(error)
    [request] = server.requests
    assert not request.complete  # the client gave up while the server was still sending


@pytest.mark.parametrize("mode", MODES)
def test_a_query_as_a_whole_has_a_deadline(mode: str, server: Server, time: FakeTime) -> None:
    # Catches retries (or pages) that each get a fresh max_duration: a trickling server would hold a query for
    # (retries + 1) times max_duration per page. The query's own bound ends it at once, without retrying.
    server.routes[f"{FHIR}/Practitioner"] = TRICKLES["body"]
    error = failed(
        mode, server, time, Query(resource="Practitioner"), timeout=HANG_GUARD, max_duration=HANG_GUARD,
        max_query_duration=0.5, retries=3,
    )  # fmt: skip
    assert isinstance(error, DirectoryUnavailable)
    assert error.code == QUERY_DURATION
    assert "max_query_duration" in str(error)
    [request] = server.requests
    assert not request.complete
    assert time.sleeps == []


def endless(server: Server, *, stop_after: int, link: Callable[[int], str]) -> None:
    """Pages of one practitioner, each with a next link ``link(n)``, for ``stop_after`` pages (a guard: "forever")."""

    def page(request: Request) -> Reply:
        number = len(server.requests)
        more = link(number) if number < stop_after else None
        return fhir(bundle(IG_PRACTITIONER, next=more))

    server.routes[f"{FHIR}/Practitioner"] = page
    server.routes[f"{FHIR}/_page"] = page


@pytest.mark.parametrize("mode", MODES)
def test_endless_paging_stops_at_the_default_bound(mode: str, server: Server, time: FakeTime) -> None:
    # Catches a client that follows new next links forever (?page=N+1), gathering results in memory.
    endless(server, stop_after=DEFAULT_MAX_PAGES + 20, link=lambda n: server.url(f"{FHIR}/_page?page={n + 1}"))
    pages, error = read_pages(mode, server, time, Query(resource="Practitioner"))
    assert error is not None
    assert (type(error), error.code) == (DirectoryResponseError, PAGES)
    assert f"max_pages={DEFAULT_MAX_PAGES}" in str(error)
    assert len(pages) == len(server.requests) == DEFAULT_MAX_PAGES


LOOPS = {
    "an extra &": lambda base: f"{base}/_page?id=loop&x=1" + "&" * 1,
    "a leading &": lambda base: f"{base}/_page?&id=loop&x=1",
    "parameters reordered": lambda base: f"{base}/_page?x=1&id=loop",
    "a letter percent-encoded": lambda base: f"{base}/_page?id=l%6Fop&x=1",
    "the scheme in capitals": lambda base: f"HTTP{base[4:]}/_page?id=loop&x=1",
    "a fragment": lambda base: f"{base}/_page?id=loop&x=1#more",
}


@pytest.mark.parametrize("variant", LOOPS.values(), ids=LOOPS)
@pytest.mark.parametrize("mode", MODES)
def test_a_next_link_already_followed_in_another_form_stops_paging(
    mode: str, server: Server, time: FakeTime, variant: Callable[[str], str]
) -> None:
    # Catches loop detection on the link as written: the same page with one more '&' each time is not a new page.
    first = server.url(f"{FHIR}/_page?id=loop&x=1")
    forms = [first, variant(server.base)]
    endless(server, stop_after=50, link=lambda n: forms[0] if n == 1 else forms[1] + "&" * (n - 2))
    pages, error = read_pages(mode, server, time, Query(resource="Practitioner"))
    assert error is not None
    assert error.code == LINK_REFUSED
    assert "already followed" in str(error)
    assert len(pages) == len(server.requests) == 2


@pytest.mark.parametrize("mode", MODES)
def test_a_next_link_back_to_the_first_page_stops_paging(mode: str, server: Server, time: FakeTime) -> None:
    query = Query(resource="Practitioner").count(2)
    server.routes[f"{FHIR}/Practitioner"] = fhir(
        bundle(IG_PRACTITIONER, next=server.url(query.url(FHIR) + "?_count=2"))
    )
    pages, error = read_pages(mode, server, time, query)
    assert error is not None
    assert error.code == LINK_REFUSED
    assert len(pages) == len(server.requests) == 1


@pytest.mark.parametrize("mode", MODES)
def test_a_query_stops_at_max_entries(mode: str, server: Server, time: FakeTime) -> None:
    three = bundle(IG_PRACTITIONER, V1_PRACTITIONER, IG_PRACTITIONER, next=server.url(f"{FHIR}/_page?page=x"))
    endless(server, stop_after=50, link=lambda n: server.url(f"{FHIR}/_page?page={n + 1}"))
    server.routes[f"{FHIR}/Practitioner"] = fhir(three)
    pages, error = read_pages(mode, server, time, Query(resource="Practitioner"), max_entries=3)
    assert error is not None
    assert (type(error), error.code) == (DirectoryResponseError, ENTRIES)
    assert "max_entries=3" in str(error)
    assert [len(page.resources) for page in pages] == [3]  # the page that goes past the bound is not given
    assert len(server.requests) == 2


@pytest.mark.parametrize("mode", MODES)
def test_a_query_stops_at_max_query_bytes(mode: str, server: Server, time: FakeTime) -> None:
    endless(server, stop_after=50, link=lambda n: server.url(f"{FHIR}/_page?page={n + 1}"))
    size = len(json.dumps(bundle(IG_PRACTITIONER, next=server.url(f"{FHIR}/_page?page=2"))))
    pages, error = read_pages(mode, server, time, Query(resource="Practitioner"), max_query_bytes=3 * size)
    assert error is not None
    assert (type(error), error.code) == (DirectoryResponseError, QUERY_BYTES)
    assert len(pages) == 3
    assert len(server.requests) == 4


def test_the_query_bounds_are_checked() -> None:
    for bound in ("max_pages", "max_entries", "max_query_bytes", "max_query_duration"):
        options: dict[str, Any] = {bound: 0}
        with pytest.raises(ValueError, match=bound):
            DirectoryClient(KEY, **options)


# --- secrets: the API key and bearer tokens never leave in an error or a log line ------------------------------


def echoing(text: str) -> bytes:
    """An OperationOutcome whose diagnostics say ``text`` (a gateway that echoes the request)."""
    issue = {"severity": "error", "code": "security", "diagnostics": text}
    return json.dumps({"resourceType": "OperationOutcome", "issue": [issue]}).encode()


ECHOES = {
    "the key": f"invalid ESANTE-API-KEY: {KEY}",
    "the key cut by the length limit": "x" * 480 + f" key {KEY}",
    "the key percent-encoded": f"GET /fhir/v2/Practitioner?apikey={KEY.replace('-', '%2D')}",
    "a bearer token": "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl refused",
}


@pytest.mark.parametrize("echo", ECHOES.values(), ids=ECHOES)
@pytest.mark.parametrize("mode", MODES)
def test_a_gateway_that_echoes_secrets_does_not_put_them_in_the_error(
    mode: str, server: Server, time: FakeTime, caplog: pytest.LogCaptureFixture, echo: str
) -> None:
    # Catches DirectoryAuthError (and the log) quoting the diagnostics as the gateway wrote them.
    caplog.set_level(logging.DEBUG)
    server.routes[f"{FHIR}/Practitioner"] = replies(
        Reply(status=503, body=echoing(echo)), Reply(status=401, body=echoing(echo))
    )
    error = failed(mode, server, time, Query(resource="Practitioner"))
    assert isinstance(error, DirectoryAuthError)
    assert error.code == AUTH
    texts = [str(error), repr(error), str(error.report), error.url, *error.diagnostics, caplog.text]
    for secret in (KEY, KEY[:12], KEY.replace("-", "%2D")[:12], "eyJhbGciOiJIUzI1NiJ9"):
        assert not any(secret in text for text in texts), secret
    assert "[secret]" in error.diagnostics[0]


@pytest.mark.parametrize("mode", MODES)
def test_a_next_link_holding_the_key_is_not_logged_nor_shown(
    mode: str, server: Server, time: FakeTime, caplog: pytest.LogCaptureFixture
) -> None:
    # Catches the retry log line and the error quoting a next link as the server wrote it.
    caplog.set_level(logging.DEBUG)
    server.routes[f"{FHIR}/Practitioner"] = fhir(bundle(next=server.url(f"{FHIR}/_page?id=2&apikey={KEY}")))
    server.routes[f"{FHIR}/_page"] = replies(Reply(status=503), Reply(status=400, body=echoing("bad page")))
    error = failed(mode, server, time, Query(resource="Practitioner"))
    assert isinstance(error, DirectoryBadRequest)
    assert "answered 503; retry 1" in caplog.text
    assert KEY not in caplog.text
    assert "apikey=[secret]" in error.url

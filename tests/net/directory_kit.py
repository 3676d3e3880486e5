"""What the directory client tests share: the local FHIR stand-in, its fixtures and failures, a fake clock."""

from __future__ import annotations

import json
import ssl
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mssante.directory import DirectoryFailure, Person
from mssante.errors import DirectoryError
from tests.local_server import LocalServer, Reply, Request

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


class Server(LocalServer):
    """The local stand-in for the FHIR API: no automatic Date header (the tests choose it)."""

    def __init__(self, context: ssl.SSLContext | None = None, host: str = "127.0.0.1") -> None:
        super().__init__(context, host=host, automatic_headers=False)

    @property
    def base(self) -> str:
        return self.url(FHIR)


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


def assert_no_key(error: DirectoryError) -> None:
    assert isinstance(error, DirectoryFailure)
    for text in (str(error), repr(error), str(error.report), error.url, *error.diagnostics):
        assert KEY not in text


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


PAGES, ENTRIES, QUERY_BYTES, QUERY_DURATION = "MSS-DIR-040", "MSS-DIR-041", "MSS-DIR-042", "MSS-DIR-043"


# A server that trickles: each byte in time for the per-read timeout (the hang guard here), the whole reply some ten
# seconds, max_duration half a second. Counts, never durations: the client says the deadline passed, and the server had
# not written its whole reply when the client returned.
TRICKLES = {
    "headers": Reply(body=json.dumps(bundle()).encode(), head_drip=0.1),
    "body": Reply(body=json.dumps(MSS_BUNDLE).encode(), drip=0.1, piece=16),
}


def endless(server: Server, *, stop_after: int, link: Callable[[int], str]) -> None:
    """Pages of one practitioner, each with a next link ``link(n)``, for ``stop_after`` pages (a guard: "forever")."""

    def page(request: Request) -> Reply:
        number = len(server.requests)
        more = link(number) if number < stop_after else None
        return fhir(bundle(IG_PRACTITIONER, next=more))

    server.routes[f"{FHIR}/Practitioner"] = page
    server.routes[f"{FHIR}/_page"] = page


LOOPS = {
    "an extra &": lambda base: f"{base}/_page?id=loop&x=1" + "&" * 1,
    "a leading &": lambda base: f"{base}/_page?&id=loop&x=1",
    "parameters reordered": lambda base: f"{base}/_page?x=1&id=loop",
    "a letter percent-encoded": lambda base: f"{base}/_page?id=l%6Fop&x=1",
    "the scheme in capitals": lambda base: f"HTTP{base[4:]}/_page?id=loop&x=1",
    "a fragment": lambda base: f"{base}/_page?id=loop&x=1#more",
}


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

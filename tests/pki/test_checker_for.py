"""CrlFetcher.checker_for: the CRLs of a certificate met at connection time and of the CAs above it, downloaded
from their distribution points (a local HTTP server publishing a test IGC Santé)."""

from __future__ import annotations

import asyncio
import datetime as dt
import urllib.parse
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from cryptography import x509

from mssante.pki import AsyncCrlFetcher, CrlFetcher, Purpose, RevocationChecker, TrustStore, verify
from mssante.report import Finding, Severity
from mssante.testing import CA_NAMES, IssuedCertificate, TestPki
from tests.counting import HANG_GUARD
from tests.local_server import LocalServer, Reply

NOW = dt.datetime(2026, 6, 1, tzinfo=dt.timezone.utc)


@pytest.fixture(scope="module")
def publisher() -> Iterator[LocalServer]:
    server = LocalServer()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def pki(publisher: LocalServer) -> TestPki:
    return TestPki.create(at=NOW, publication=publisher.url(""))


@pytest.fixture(scope="module")
def store(pki: TestPki) -> TrustStore:
    return TrustStore.from_certificates([*pki.anchors, *pki.intermediates], environment=pki.environment)


@pytest.fixture
def publish(publisher: LocalServer, pki: TestPki) -> Iterator[Callable[[dict[str, list[IssuedCertificate]]], None]]:
    """Publish every CA's CRL on the local server, listing the given certificates as revoked per CA."""

    def put(revoked: dict[str, list[IssuedCertificate]]) -> None:
        for name in CA_NAMES:
            path = urllib.parse.urlsplit(pki.ca(name).crl_url).path
            publisher.routes[path] = Reply(pki.crl(name, revoked=revoked.get(name, [])))

    yield put
    publisher.routes.clear()
    publisher.requests.clear()


def checker(
    certificate: x509.Certificate, store: TrustStore, *, asynchronous: bool, **options: Any
) -> tuple[RevocationChecker, list[Finding]]:
    if not asynchronous:
        with CrlFetcher(**options) as fetcher:
            return fetcher.checker_for(certificate, store=store, at=NOW)

    async def run() -> tuple[RevocationChecker, list[Finding]]:
        async with AsyncCrlFetcher(**options) as fetcher:
            return await fetcher.checker_for(certificate, store=store, at=NOW)

    return asyncio.run(run())


def problems(findings: list[Finding]) -> list[Finding]:
    """What is more than information (an LDAP distribution point left aside is information)."""
    return [finding for finding in findings if finding.severity is not Severity.INFO]


BOTH = [pytest.param(False, id="sync"), pytest.param(True, id="async")]


@pytest.mark.parametrize("asynchronous", BOTH)
def test_a_server_certificate_is_checked_with_the_crls_of_its_path(
    asynchronous: bool, pki: TestPki, store: TrustStore, publisher: LocalServer, publish: Callable[..., None]
) -> None:
    publish({})
    server = pki.server(["mss.example.org"])
    found, findings = checker(server.certificate, store, asynchronous=asynchronous)
    assert not problems(findings)
    fetched = sorted(urllib.parse.urlsplit(request.path).path for request in publisher.requests)
    assert fetched == ["/CRL/ACI-EL-ORG-TEST.crl", "/CRL/ACR-EL-TEST.crl"]  # the leaf's CA, then the root's ARL
    report = verify(server.certificate, purpose=Purpose.SERVER, store=store, at=NOW, host="mss.example.org",
                    intermediates=server.intermediates, revocation=found)  # fmt: skip
    assert report.ok, report.report


@pytest.mark.parametrize("asynchronous", BOTH)
def test_a_revoked_certificate_is_refused(
    asynchronous: bool, pki: TestPki, store: TrustStore, publish: Callable[..., None]
) -> None:
    server = pki.server(["mss.example.org"])
    publish({"ACI-EL-ORG": [server]})
    found, _ = checker(server.certificate, store, asynchronous=asynchronous)
    report = verify(server.certificate, purpose=Purpose.SERVER, store=store, at=NOW, host="mss.example.org",
                    intermediates=server.intermediates, revocation=found)  # fmt: skip
    assert "MSS-REV-002" in {finding.code for finding in report.report.errors}


def test_a_crl_that_cannot_be_had_leaves_the_status_unknown(
    pki: TestPki, store: TrustStore, publisher: LocalServer, publish: Callable[..., None]
) -> None:
    publish({})
    del publisher.routes["/CRL/ACI-EL-ORG-TEST.crl"]  # the server answers 404
    server = pki.server(["mss.example.org"])
    found, findings = checker(server.certificate, store, asynchronous=False)
    assert problems(findings)
    assert all(finding.where.endswith("ACI-EL-ORG-TEST.crl") for finding in problems(findings))
    report = verify(server.certificate, purpose=Purpose.SERVER, store=store, at=NOW, host="mss.example.org",
                    intermediates=server.intermediates, revocation=found)  # fmt: skip
    assert not report.ok
    assert "MSS-REV-001" in {finding.code for finding in report.report.errors}


def test_a_certificate_from_elsewhere_fetches_nothing(store: TrustStore, publisher: LocalServer) -> None:
    stranger = TestPki.create(at=NOW).server(["mss.example.org"])
    found, findings = checker(stranger.certificate, store, asynchronous=False)
    assert findings == []
    assert publisher.requests == []
    assert isinstance(found, RevocationChecker)


@pytest.mark.parametrize("asynchronous", BOTH)
def test_a_trickling_publisher_cannot_hold_the_connection_past_max_duration(
    asynchronous: bool, pki: TestPki, store: TrustStore, publisher: LocalServer, publish: Callable[..., None]
) -> None:
    # Catches what held `mssante send`: anyone on the path of the plain-HTTP CRLs trickles them a few bytes at a
    # time, each in time for the per-read timeout. checker_for as a whole gets max_duration (half a second here; the
    # CRLs would take some ten seconds each): the first CRL is cut while the server still sends, the second is not
    # even asked for. Counts, not durations.
    for name in CA_NAMES:
        path = urllib.parse.urlsplit(pki.ca(name).crl_url).path
        publisher.routes[path] = Reply(pki.crl(name, revoked=[]), drip=0.1, piece=16)
    server = pki.server(["mss.example.org"])
    found, findings = checker(
        server.certificate, store, asynchronous=asynchronous, timeout=HANG_GUARD, max_duration=0.5
    )
    report = verify(server.certificate, purpose=Purpose.SERVER, store=store, at=NOW, host="mss.example.org",
                    intermediates=server.intermediates, revocation=found)  # fmt: skip
    assert "MSS-REV-001" in {finding.code for finding in report.report.errors}  # unknown status: refused
    assert [finding.code for finding in problems(findings)] == ["MSS-REV-032", "MSS-REV-032"]
    assert all("took too long" in finding.message for finding in problems(findings))
    [asked] = publisher.requests  # the leaf's CA CRL; no time was left for the root's
    assert urllib.parse.urlsplit(asked.path).path == "/CRL/ACI-EL-ORG-TEST.crl"
    assert not asked.complete

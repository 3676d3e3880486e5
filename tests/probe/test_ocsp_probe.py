"""The server certificate's revocation as the probe fetches it: the CRLs of its path and the answer of the OCSP
responder it names. A revocation only OCSP knows is found; a good answer passes; a responder down is a warning
while the CRLs prove the status, and without them the SDK's rule holds (hard: an error, soft: a warning).

The CRL and OCSP URLs of the test PKI are answered in-process (httpx's mock transport): nothing leaves the host."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path

import attrs
import httpx
import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509 import ocsp

from mssante.errors import SecurityWarning
from mssante.pki import CertStatus, CrlFetcher, RevocationMode, TrustStore
from mssante.probe import probe_server
from mssante.probe._server import judge_certificate
from mssante.report import Report
from mssante.testing import CA_NAMES, IssuedCertificate, TestPki
from tests.probe.servers import ProbedRecorder, context, smtp

_OCSP = "application/ocsp-response"


@attrs.define
class Publication:
    """What the PKI's HTTP servers answer: each CA's CRL (listing ``revoked``), OCSP saying ``status`` of the
    certificates ``issued``; each can be down. ``asked`` records the requests."""

    pki: TestPki
    issued: list[IssuedCertificate] = attrs.Factory(list)
    revoked: list[IssuedCertificate] = attrs.Factory(list)
    status: CertStatus = CertStatus.GOOD
    ocsp_up: bool = True
    crls_up: bool = True
    asked: list[str] = attrs.Factory(list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.asked.append(f"{request.method} {request.url}")
        if request.method == "POST":
            if not self.ocsp_up:
                raise httpx.ConnectError("connection refused", request=request)
            serial = ocsp.load_der_ocsp_request(request.content).serial_number
            leaf = next(item for item in self.issued if item.certificate.serial_number == serial)
            body = self.pki.ocsp_response(leaf, self.status)
            return httpx.Response(200, stream=httpx.ByteStream(body), headers={"Content-Type": _OCSP})
        if not self.crls_up:
            return httpx.Response(503)
        for name in CA_NAMES:
            if self.pki.ca(name).crl_url == str(request.url):
                revoked = [item for item in self.revoked if self.pki.issuer_of(item.certificate).name == name]
                return httpx.Response(200, stream=httpx.ByteStream(self.pki.crl(name, revoked)))
        return httpx.Response(404)


@pytest.fixture
def leaf(pki: TestPki) -> IssuedCertificate:
    return pki.server(["localhost"])


@pytest.fixture
def publication(pki: TestPki, leaf: IssuedCertificate) -> Publication:
    return Publication(pki=pki, issued=[leaf])


@pytest.fixture
def fetcher(publication: Publication) -> Iterator[CrlFetcher]:
    with CrlFetcher(client=httpx.Client(transport=httpx.MockTransport(publication)), timeout=2.0) as made:
        yield made


def _judge(
    leaf: IssuedCertificate, store: TrustStore, now: dt.datetime, fetcher: CrlFetcher, mode: str = "hard"
) -> Report:
    der = leaf.certificate.public_bytes(Encoding.DER)
    return judge_certificate(der, "localhost", store=store, at=now, revocation=fetcher, revocation_mode=mode)


def test_the_probe_asks_the_responder_and_a_good_answer_passes(
    leaf: IssuedCertificate, store: TrustStore, now: dt.datetime, fetcher: CrlFetcher, publication: Publication
) -> None:
    report = _judge(leaf, store, now, fetcher)
    assert report.ok, str(report)
    assert any(line.startswith("POST ") for line in publication.asked)
    good = [finding.message for finding in report if finding.code == "MSS-REV-004"]
    assert "OCSP response" in good[0]  # the leaf's status proven by OCSP, preferred to its CRL


def test_a_revocation_only_ocsp_knows_is_found_through_a_live_server(
    pki: TestPki,
    leaf: IssuedCertificate,
    store: TrustStore,
    now: dt.datetime,
    fetcher: CrlFetcher,
    publication: Publication,
    directory: Path,
    client: tuple[Path, Path],
) -> None:
    publication.status = CertStatus.REVOKED  # the CRLs do not list it yet
    with smtp(ProbedRecorder(), tls=context(store, leaf, directory, "ocsp-revoked")) as controller:
        report = probe_server(
            "localhost", controller.port, role="mx", store=store, at=now, client_certificate=client,
            revocation=fetcher, timeout=5.0,
        )  # fmt: skip
    check = report.check("server-certificate")
    assert "MSS-REV-002" in check.codes, str(report)
    assert not check.ok
    assert "OCSP" in next(finding.message for finding in check.findings if finding.code == "MSS-REV-002")


def test_a_responder_down_is_a_warning_while_the_crls_prove_the_status(
    leaf: IssuedCertificate, store: TrustStore, now: dt.datetime, fetcher: CrlFetcher, publication: Publication
) -> None:
    publication.ocsp_up = False
    report = _judge(leaf, store, now, fetcher)
    assert report.ok, str(report)
    assert [finding.code for finding in report.warnings if finding.code.startswith("MSS-PRB")] == ["MSS-PRB-031"]
    assert "MSS-REV-004" in report.codes


@pytest.mark.parametrize(("mode", "severity"), [("hard", "error"), ("soft", "warning")])
def test_nothing_to_prove_the_status_follows_the_mode(
    leaf: IssuedCertificate,
    store: TrustStore,
    now: dt.datetime,
    fetcher: CrlFetcher,
    publication: Publication,
    mode: str,
    severity: str,
) -> None:
    publication.ocsp_up = publication.crls_up = False
    judging: Callable[[], Report] = lambda: _judge(leaf, store, now, fetcher, mode)  # noqa: E731
    if mode == "soft":
        with pytest.warns(SecurityWarning):
            report = judging()
    else:
        report = judging()
    unknown = [finding for finding in report if finding.code == "MSS-REV-001"]
    assert unknown
    assert {finding.severity.value for finding in unknown} == {severity}
    assert "MSS-PRB-031" in report.codes
    assert report.ok is (RevocationMode(mode) is RevocationMode.SOFT)

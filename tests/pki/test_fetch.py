"""Fetching CRLs and OCSP responses: real local HTTP servers (sync and async), the on-disk cache, and failures.

Each test that needs a server starts a ``ThreadingHTTPServer`` on 127.0.0.1 (port 0) and stops it at teardown.
``httpx.MockTransport`` is used where a server adds nothing (exceptions raised by the transport).
"""

from __future__ import annotations

import asyncio
import gzip
import json
import threading
import tracemalloc
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import ocsp
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID

from mssante._http import CHUNK
from mssante.errors import InvalidInput, TrustError
from mssante.pki._fetch import (
    AsyncCrlFetcher,
    CachedCrl,
    CrlCache,
    CrlFetcher,
    RevocationFetchError,
    build_ocsp_request,
    default_cache_directory,
)
from mssante.pki._revocation import IndexedCrl, RevocationChecker
from mssante.pki._types import CertStatus
from mssante.report import Finding, Severity
from tests.counting import HANG_GUARD
from tests.local_server import LocalServer, Reply, Request

T0 = datetime(2025, 6, 2, 12, 0, tzinfo=timezone.utc)
HOUR, DAY = timedelta(hours=1), timedelta(days=1)

LDAP_NOT_CHECKED, URL_REFUSED, NO_DISTRIBUTION_POINT = "MSS-REV-029", "MSS-REV-030", "MSS-REV-031"
DOWNLOAD_FAILED, DOWNLOAD_REFUSED, FROM_CACHE = "MSS-REV-032", "MSS-REV-033", "MSS-REV-034"


# --- certificates, CRLs and OCSP responses ----------------------------------------------------------------------


def _usage(*flags: str) -> x509.KeyUsage:
    names = "digital_signature content_commitment key_encipherment data_encipherment key_agreement"
    names += " key_cert_sign crl_sign encipher_only decipher_only"
    return x509.KeyUsage(**{name: name in flags for name in names.split()})


def _ski(key: ec.EllipticCurvePrivateKey) -> x509.SubjectKeyIdentifier:
    return x509.SubjectKeyIdentifier.from_public_key(key.public_key())


@dataclass
class Issued:
    """A certificate and its private key."""

    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey


@dataclass
class Ca:
    """A small certificate authority issuing what the fetch tests serve."""

    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    @classmethod
    def create(cls, name: x509.Name | None = None) -> Ca:
        key = ec.generate_private_key(ec.SECP256R1())
        name = name or x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "FR"),
                x509.NameAttribute(NameOID.COMMON_NAME, "TEST AC IGC-SANTE ELEMENTAIRE ORGANISATIONS"),
            ]
        )
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(T0 - 365 * DAY)
            .not_valid_after(T0 + 365 * DAY)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(_usage("key_cert_sign", "crl_sign"), critical=True)
            .add_extension(_ski(key), critical=False)
            .sign(key, hashes.SHA256())
        )
        return cls(cert=cert, key=key)

    def impostor(self) -> Ca:
        """A CA with the same name and another key."""
        return Ca.create(self.cert.subject)

    def issue(
        self,
        *,
        subject: x509.Name | None = None,
        serial: int | None = None,
        crl_urls: Sequence[str] = (),
        ocsp_urls: Sequence[str] = (),
        usage: x509.KeyUsage | None = None,
        eku: Sequence[x509.ObjectIdentifier] = (),
        points: Sequence[x509.DistributionPoint] = (),
    ) -> Issued:
        key = ec.generate_private_key(ec.SECP256R1())
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject or x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "serveur.mssante.fr")]))
            .issuer_name(self.cert.subject)
            .public_key(key.public_key())
            .serial_number(serial or x509.random_serial_number())
            .not_valid_before(T0 - 30 * DAY)
            .not_valid_after(T0 + 30 * DAY)
            .add_extension(_ski(key), critical=False)
        )
        if usage is not None:
            builder = builder.add_extension(usage, critical=True)
        if eku:
            builder = builder.add_extension(x509.ExtendedKeyUsage(list(eku)), critical=False)
        if crl_urls:
            names = [x509.UniformResourceIdentifier(url) for url in crl_urls]
            points = [x509.DistributionPoint(names, None, None, None), *points]
        if points:
            builder = builder.add_extension(x509.CRLDistributionPoints(list(points)), critical=False)
        if ocsp_urls:
            access = [
                x509.AccessDescription(AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(url))
                for url in ocsp_urls
            ]
            builder = builder.add_extension(x509.AuthorityInformationAccess(access), critical=False)
        return Issued(cert=builder.sign(self.key, hashes.SHA256()), key=key)

    def crl_signer(self) -> Issued:
        """A separate CRL signer: the CA's own name, keyUsage cRLSign only, issued by the CA's key."""
        return self.issue(subject=self.cert.subject, usage=_usage("crl_sign"))

    def responder(self) -> Issued:
        """A delegated OCSP responder."""
        return self.issue(usage=_usage("digital_signature"), eku=[ExtendedKeyUsageOID.OCSP_SIGNING])

    def crl(
        self,
        revoked: Sequence[tuple[int, datetime]] = (),
        *,
        this_update: datetime = T0 - HOUR,
        next_update: datetime = T0 + DAY,
        number: int = 1,
        signer: Issued | None = None,
        extensions: Sequence[tuple[x509.ExtensionType, bool]] = (),
    ) -> bytes:
        """A DER CRL signed by the CA (or ``signer``), its AKI naming the signing key."""
        key = signer.key if signer else self.key
        entries = [x509.RevokedCertificateBuilder().serial_number(s).revocation_date(d).build() for s, d in revoked]
        builder = x509.CertificateRevocationListBuilder(
            issuer_name=self.cert.subject,
            last_update=this_update,
            next_update=next_update,
            revoked_certificates=entries,
        )
        builder = builder.add_extension(x509.CRLNumber(number), critical=False)
        builder = builder.add_extension(x509.AuthorityKeyIdentifier(_ski(key).digest, None, None), critical=False)
        for extension, critical in extensions:
            builder = builder.add_extension(extension, critical=critical)
        return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)

    def ocsp(self, cert: x509.Certificate, status: ocsp.OCSPCertStatus, *, responder: Issued) -> bytes:
        """A DER OCSP response about ``cert`` signed by a delegated ``responder`` (included)."""
        revoked = status is ocsp.OCSPCertStatus.REVOKED
        response = (
            ocsp.OCSPResponseBuilder()
            .add_response(
                cert=cert,
                issuer=self.cert,
                algorithm=hashes.SHA1(),
                cert_status=status,
                this_update=T0 - HOUR,
                next_update=T0 + DAY,
                revocation_time=T0 - DAY if revoked else None,
                revocation_reason=x509.ReasonFlags.key_compromise if revoked else None,
            )
            .responder_id(ocsp.OCSPResponderEncoding.HASH, responder.cert)
            .certificates([responder.cert])
            .sign(responder.key, hashes.SHA256())
        )
        return response.public_bytes(serialization.Encoding.DER)


# --- a local HTTP server ----------------------------------------------------------------------------------------


class Server(LocalServer):
    """The local HTTP server of these tests (plain HTTP: CRLs and OCSP answers are signed, not secret)."""


@pytest.fixture
def server() -> Iterator[Server]:
    running = Server()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def ca() -> Ca:
    return Ca.create()


def codes_of(findings: list[Finding]) -> list[str]:
    return [finding.code for finding in findings]


def leaf_for(ca: Ca, *urls: str, ocsp_urls: tuple[str, ...] = ()) -> x509.Certificate:
    return ca.issue(serial=0x1234, crl_urls=urls, ocsp_urls=ocsp_urls).cert


def fetch(
    ca: Ca, cert: x509.Certificate, *, at: datetime = T0, **options: Any
) -> tuple[list[IndexedCrl], list[Finding]]:
    with CrlFetcher(**options) as fetcher:
        return fetcher.fetch(cert, ca.cert, at=at)


def afetch(
    ca: Ca, cert: x509.Certificate, *, at: datetime = T0, **options: Any
) -> tuple[list[IndexedCrl], list[Finding]]:
    async def run() -> tuple[list[IndexedCrl], list[Finding]]:
        async with AsyncCrlFetcher(**options) as fetcher:
            return await fetcher.fetch(cert, ca.cert, at=at)

    return asyncio.run(run())


FETCHERS = [pytest.param(fetch, id="sync"), pytest.param(afetch, id="async")]
Fetch = Callable[..., tuple[list[IndexedCrl], list[Finding]]]


# --- fetching CRLs ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("run", FETCHERS)
def test_fetch_a_good_crl_and_decide(run: Fetch, server: Server, ca: Ca) -> None:
    server.routes["/ca.crl"] = Reply(ca.crl([(0x99, T0 - DAY)]), headers={"Content-Type": "application/pkix-crl"})
    cert = leaf_for(ca, server.url("/ca.crl"))
    crls, findings = run(ca, cert)
    assert findings == []
    assert [crl.source for crl in crls] == [server.url("/ca.crl")]
    result = RevocationChecker(crls=crls).check(cert, ca.cert, at=T0)
    assert result.status is CertStatus.GOOD
    assert server.url("/ca.crl") in result.findings[0].message
    assert server.requests[0].headers["accept-encoding"] == "identity"


@pytest.mark.parametrize("run", FETCHERS)
def test_fetch_a_crl_that_revokes(run: Fetch, server: Server, ca: Ca) -> None:
    server.routes["/ca.crl"] = Reply(ca.crl([(0x1234, T0 - DAY)]))
    cert = leaf_for(ca, server.url("/ca.crl"))
    crls, _ = run(ca, cert)
    assert RevocationChecker(crls=crls).check(cert, ca.cert, at=T0).status is CertStatus.REVOKED


@pytest.mark.parametrize("run", FETCHERS)
def test_pem_crl_is_read(run: Fetch, server: Server, ca: Ca) -> None:
    pem = x509.load_der_x509_crl(ca.crl()).public_bytes(serialization.Encoding.PEM)
    server.routes["/ca.pem"] = Reply(pem)
    crls, findings = run(ca, leaf_for(ca, server.url("/ca.pem")))
    assert len(crls) == 1
    assert findings == []


@pytest.mark.parametrize("status", [404, 500])
@pytest.mark.parametrize("run", FETCHERS)
def test_http_error_status_is_a_finding(run: Fetch, server: Server, ca: Ca, status: int) -> None:
    server.routes["/ca.crl"] = Reply(b"oops", status=status)
    crls, findings = run(ca, leaf_for(ca, server.url("/ca.crl")))
    assert crls == []
    assert codes_of(findings) == [DOWNLOAD_FAILED]
    assert f"answered HTTP {status}" in findings[0].message
    assert findings[0].where == server.url("/ca.crl")
    result = RevocationChecker(crls=crls).check(leaf_for(ca), ca.cert, at=T0).extended(findings)
    assert result.status is CertStatus.UNKNOWN


@pytest.mark.parametrize("run", FETCHERS)
def test_timeout_is_a_finding(run: Fetch, server: Server, ca: Ca) -> None:
    # Catches a fetch that ignores its timeout: the server answers only once the fetch is over (or at the hang guard).
    crl, over = ca.crl(), threading.Event()

    def held(request: Request) -> Reply:
        over.wait(HANG_GUARD)
        return Reply(crl)

    server.routes["/slow.crl"] = held
    try:
        crls, findings = run(ca, leaf_for(ca, server.url("/slow.crl")), timeout=0.2)
    finally:
        over.set()
    assert crls == []
    assert codes_of(findings) == [DOWNLOAD_FAILED]
    assert "timed out" in findings[0].message


@pytest.mark.parametrize("run", FETCHERS)
def test_slow_drip_is_cut_at_max_duration(run: Fetch, server: Server, ca: Ca) -> None:
    # Catches a body let drip past max_duration: the fetch must give up while the server is still sending.
    # Each KiB comes well within the timeout (a hang guard here); the whole body takes over a second.
    body = ca.crl([(n, T0 - DAY) for n in range(1, 8000)])
    assert len(body) > 2 * CHUNK  # more than the client reads at once: it can give up before the end
    server.routes["/drip.crl"] = Reply(body, drip=0.01)
    heard: list[int] = []
    crls, findings = run(
        ca, leaf_for(ca, server.url("/drip.crl")), timeout=HANG_GUARD, max_duration=0.2,
        progress=lambda got, _: heard.append(got),
    )  # fmt: skip
    assert crls == []
    assert codes_of(findings) == [DOWNLOAD_FAILED]
    assert "took too long" in findings[0].message
    assert heard[-1] < len(body)


# A server that trickles: each byte comes well within the per-read timeout (the hang guard here), the whole reply would
# take about ten seconds, and max_duration is half a second. The checks are counts, never durations: the fetch says the
# deadline passed, and the server had not written its whole reply when the fetch returned (the client hung up first).
TRICKLES = {
    "headers": lambda body: Reply(body, head_drip=0.1),  # the status line and headers, a byte at a time
    "body": lambda body: Reply(body, drip=0.1, piece=16),  # the body, 16 bytes at a time: never a whole chunk
}
DEADLINE = 0.5


@pytest.mark.parametrize("trickle", TRICKLES.values(), ids=TRICKLES)
@pytest.mark.parametrize("run", FETCHERS)
def test_a_trickling_server_cannot_stretch_max_duration(
    run: Fetch, server: Server, ca: Ca, trickle: Callable[[bytes], Reply]
) -> None:
    # Catches a deadline checked only when a 64 KiB chunk is complete, or not before the headers have come.
    server.routes["/slow.crl"] = trickle(b"\x30" * 1600)
    heard: list[int] = []
    crls, findings = run(
        ca, leaf_for(ca, server.url("/slow.crl")), timeout=HANG_GUARD, max_duration=DEADLINE,
        progress=lambda got, _: heard.append(got),
    )  # fmt: skip
    assert crls == []
    assert codes_of(findings) == [DOWNLOAD_FAILED]
    assert "took too long" in findings[0].message
    [request] = server.requests
    assert not request.complete  # the fetch gave up while the server was still sending
    assert all(got < 1600 for got in heard)


@pytest.mark.parametrize("run", FETCHERS)
def test_max_duration_bounds_a_whole_fetch_not_each_url(run: Fetch, server: Server, ca: Ca) -> None:
    # Catches a deadline per request: with two URLs (or two points) that trickle, a fetch would last twice as long.
    server.routes["/one.crl"] = TRICKLES["body"](b"\x30" * 1600)
    server.routes["/two.crl"] = TRICKLES["body"](b"\x30" * 1600)
    crls, findings = run(
        ca, leaf_for(ca, server.url("/one.crl"), server.url("/two.crl")), timeout=HANG_GUARD, max_duration=DEADLINE
    )
    assert crls == []
    assert codes_of(findings) == [DOWNLOAD_FAILED, DOWNLOAD_FAILED]
    assert all("took too long" in finding.message for finding in findings)
    assert [request.route for request in server.requests] == ["/one.crl"]  # no time was left to ask the second


@pytest.mark.parametrize("run", FETCHERS)
def test_a_redirect_counts_against_the_deadline(run: Fetch, server: Server, ca: Ca) -> None:
    # Catches a deadline restarted at each hop, or redirections left outside it.
    server.routes["/moved.crl"] = Reply(status=302, headers={"Location": server.url("/slow.crl")})
    server.routes["/slow.crl"] = TRICKLES["headers"](ca.crl())
    crls, findings = run(ca, leaf_for(ca, server.url("/moved.crl")), timeout=HANG_GUARD, max_duration=DEADLINE)
    assert (crls, codes_of(findings)) == ([], [DOWNLOAD_FAILED])
    assert "took too long" in findings[0].message
    assert [request.route for request in server.requests] == ["/moved.crl", "/slow.crl"]
    assert not server.requests[1].complete


@pytest.mark.parametrize("run", FETCHERS)
def test_the_body_of_a_redirect_is_not_read(run: Fetch, server: Server, ca: Ca) -> None:
    # Catches redirections followed by httpx, which reads (and inflates) the body of each: a bomb in a 302.
    bomb = gzip.compress(bytes(200 * 1024 * 1024), compresslevel=9)
    server.routes["/moved.crl"] = Reply(
        bomb, status=302, headers={"Location": server.url("/ca.crl"), "Content-Encoding": "gzip"}
    )
    server.routes["/ca.crl"] = Reply(ca.crl())
    tracemalloc.start()
    try:
        crls, findings = run(ca, leaf_for(ca, server.url("/moved.crl")))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (len(crls), findings) == (1, [])
    assert peak < 50 * 1024 * 1024  # far from the 200 MiB the bomb inflates to


@pytest.mark.parametrize("length", [True, False], ids=["content-length", "close-delimited"])
@pytest.mark.parametrize("run", FETCHERS)
def test_oversize_body_is_refused(run: Fetch, server: Server, ca: Ca, length: bool) -> None:
    server.routes["/big.crl"] = Reply(b"\x30" * 300_000, length=length)
    crls, findings = run(ca, leaf_for(ca, server.url("/big.crl")), max_bytes=100_000)
    assert crls == []
    assert codes_of(findings) == [DOWNLOAD_FAILED]
    assert "over the limit of 100000" in findings[0].message


@pytest.mark.parametrize("run", FETCHERS)
def test_compressed_body_is_refused(run: Fetch, server: Server, ca: Ca) -> None:
    server.routes["/ca.crl"] = Reply(gzip.compress(ca.crl()), headers={"Content-Encoding": "gzip"})
    crls, findings = run(ca, leaf_for(ca, server.url("/ca.crl")))
    assert crls == []
    assert "content-encoding 'gzip' refused" in findings[0].message


@pytest.mark.parametrize("run", FETCHERS)
def test_garbage_and_bad_signature_are_refused_without_cache(run: Fetch, server: Server, ca: Ca) -> None:
    server.routes["/garbage.crl"] = Reply(b"<html>not a CRL</html>")
    server.routes["/forged.crl"] = Reply(ca.impostor().crl())
    for path in ("/garbage.crl", "/forged.crl"):
        crls, findings = run(ca, leaf_for(ca, server.url(path)))
        assert crls == []
        assert codes_of(findings) == [DOWNLOAD_REFUSED]


@pytest.mark.parametrize("run", FETCHERS)
def test_second_url_of_a_point_is_tried(run: Fetch, server: Server, ca: Ca) -> None:
    server.routes["/down.crl"] = Reply(status=503)
    server.routes["/up.crl"] = Reply(ca.crl())
    crls, findings = run(ca, leaf_for(ca, server.url("/down.crl"), server.url("/up.crl")))
    assert [crl.source for crl in crls] == [server.url("/up.crl")]
    assert codes_of(findings) == [DOWNLOAD_FAILED]


@pytest.mark.parametrize("run", FETCHERS)
def test_connection_refused_is_a_finding(run: Fetch, ca: Ca) -> None:
    closed = Server()
    url = closed.url("/ca.crl")
    closed.stop()
    crls, findings = run(ca, leaf_for(ca, url), timeout=2.0)
    assert crls == []
    assert codes_of(findings) == [DOWNLOAD_FAILED]
    assert "ConnectError" in findings[0].message


def test_ldap_only_distribution_point_is_not_checked(ca: Ca) -> None:
    url = "ldap://annuaire-igc.esante.gouv.fr/cn=AC?certificaterevocationlist;binary?base?objectclass=pkiCa"
    crls, findings = fetch(ca, leaf_for(ca, url), client=_refusing_client())
    assert crls == []
    assert codes_of(findings) == [LDAP_NOT_CHECKED]
    assert findings[0].severity is Severity.INFO
    assert findings[0].message.startswith("LDAP distribution point not checked")


def test_ldap_next_to_http_is_silent(server: Server, ca: Ca) -> None:
    server.routes["/ca.crl"] = Reply(ca.crl())
    crls, findings = fetch(ca, leaf_for(ca, "ldap://annuaire.example/cn=AC", server.url("/ca.crl")))
    assert len(crls) == 1
    assert findings == []


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://igc.example/ca.crl",
        "gopher://x/",
        "not a url",
        "http://igc.example/ca.crl\nMSS-REV-004 info: forged line",
        "http://igc.example/ca crl",
        "http://igc.example/" + "a" * 3000,
    ],
)
def test_other_schemes_and_odd_urls_are_refused(ca: Ca, url: str) -> None:
    crls, findings = fetch(ca, leaf_for(ca, url), client=_refusing_client())
    assert crls == []
    assert codes_of(findings) == [URL_REFUSED]
    assert findings[0].message.isprintable()
    assert len(findings[0].message) < 400


def test_distribution_points_that_cannot_be_used(ca: Ca) -> None:
    url = x509.UniformResourceIdentifier("http://igc.example/ca.crl")
    relative = x509.RelativeDistinguishedName([x509.NameAttribute(NameOID.COMMON_NAME, "CRL1")])
    points = [
        x509.DistributionPoint([url], None, None, [x509.DirectoryName(ca.cert.subject)]),
        x509.DistributionPoint(None, relative, None, None),
        x509.DistributionPoint([x509.DirectoryName(ca.cert.subject)], None, None, None),
    ]
    crls, findings = fetch(ca, ca.issue(points=points).cert, client=_refusing_client())
    assert crls == []
    assert codes_of(findings) == [URL_REFUSED] * 3
    assert [f.message.split(" ")[-2:] for f in findings][:2] == [["CRL", "issuer"], ["relative", "name"]]


def test_certificate_without_distribution_point(ca: Ca) -> None:
    crls, findings = fetch(ca, leaf_for(ca), client=_refusing_client())
    assert crls == []
    assert codes_of(findings) == [NO_DISTRIBUTION_POINT]


def test_time_must_be_timezone_aware(ca: Ca) -> None:
    with pytest.raises(InvalidInput):
        fetch(ca, leaf_for(ca), at=datetime(2025, 6, 2), client=_refusing_client())


# --- httpx exceptions through a MockTransport -------------------------------------------------------------------


def _refusing_client() -> httpx.Client:
    def handler(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"no request expected, got {request.url}")

    return httpx.Client(transport=httpx.MockTransport(handler))


@pytest.mark.parametrize(
    "error",
    [
        httpx.ConnectError("connection refused"),
        httpx.ReadTimeout("read timed out"),
        httpx.RemoteProtocolError("peer closed connection"),
        httpx.TooManyRedirects("too many redirects"),
        httpx.UnsupportedProtocol("ldap not supported"),
    ],
)
def test_every_httpx_error_becomes_a_finding(ca: Ca, error: httpx.HTTPError) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise error

    client = httpx.Client(transport=httpx.MockTransport(handler))
    crls, findings = fetch(ca, leaf_for(ca, "http://igc.example/ca.crl"), client=client)
    assert crls == []
    assert codes_of(findings) == [DOWNLOAD_FAILED]
    assert type(error).__name__ in findings[0].message
    assert not client.is_closed  # a client given by the caller stays open
    client.close()


def test_every_httpx_error_becomes_a_fetch_error_for_ocsp(ca: Ca) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectTimeout("connect timed out")

    cert = ca.issue(ocsp_urls=["http://ocsp.example"]).cert
    client = httpx.Client(transport=httpx.MockTransport(handler))
    with CrlFetcher(client) as fetcher, pytest.raises(RevocationFetchError, match="timed out") as raised:
        fetcher.ocsp(cert, ca.cert)
    client.close()
    assert isinstance(raised.value, TrustError)
    assert raised.value.url == "http://ocsp.example"


def test_redirects_are_followed_by_the_default_client(server: Server, ca: Ca) -> None:
    server.routes["/old.crl"] = Reply(status=301, headers={"Location": server.url("/new.crl")})
    server.routes["/new.crl"] = Reply(ca.crl())
    crls, findings = fetch(ca, leaf_for(ca, server.url("/old.crl")))
    assert len(crls) == 1
    assert findings == []


# --- the cache --------------------------------------------------------------------------------------------------


def test_cache_keeps_a_fresh_crl_without_downloading(server: Server, ca: Ca, tmp_path: Path) -> None:
    server.routes["/ca.crl"] = Reply(ca.crl(), headers={"ETag": '"v1"'})
    cert = leaf_for(ca, server.url("/ca.crl"))
    cache = CrlCache(tmp_path / "crl")
    assert fetch(ca, cert, cache=cache)[1] == []
    assert len(server.requests) == 1
    crls, findings = fetch(ca, cert, cache=cache, at=T0 + HOUR)
    assert len(crls) == 1
    assert codes_of(findings) == [FROM_CACHE]
    assert "is fresh at" in findings[0].message
    assert len(server.requests) == 1  # no download while the cached CRL is fresh


@pytest.mark.parametrize("run", FETCHERS)
def test_a_cached_crl_older_than_refresh_after_is_asked_for_again(
    run: Fetch, server: Server, ca: Ca, tmp_path: Path
) -> None:
    older = ca.crl(this_update=T0 - HOUR, next_update=T0 + 7 * DAY)
    newer = ca.crl([(0x1234, T0 + DAY)], this_update=T0 + DAY + HOUR, next_update=T0 + 8 * DAY)
    server.routes["/ca.crl"] = Reply(older)
    cert = leaf_for(ca, server.url("/ca.crl"))
    cache = CrlCache(tmp_path)
    run(ca, cert, cache=cache)
    server.routes["/ca.crl"] = Reply(newer)  # the next day's CRL revokes the certificate
    crls, _ = run(ca, cert, cache=cache, at=T0 + DAY + 2 * HOUR)
    assert len(server.requests) == 2  # a day old: asked for again, though its nextUpdate is days away
    assert RevocationChecker(crls=crls).check(cert, ca.cert, at=T0 + DAY + 2 * HOUR).status is CertStatus.REVOKED
    _, notes = run(ca, cert, cache=cache, at=T0 + DAY + 3 * HOUR, refresh_after=None)
    assert codes_of(notes) == [FROM_CACHE]  # refresh_after=None: only at nextUpdate
    assert len(server.requests) == 2


@pytest.mark.parametrize("run", FETCHERS)
def test_conditional_get_when_the_cached_crl_is_stale(run: Fetch, server: Server, ca: Ca, tmp_path: Path) -> None:
    modified = "Mon, 02 Jun 2025 11:00:00 GMT"
    first = ca.crl(this_update=T0 - HOUR, next_update=T0 + HOUR)

    def conditional(request: Request) -> Reply:
        if request.headers.get("if-none-match") == '"v1"':
            return Reply(status=304)
        return Reply(first, headers={"ETag": '"v1"', "Last-Modified": modified})

    server.routes["/ca.crl"] = conditional
    cert = leaf_for(ca, server.url("/ca.crl"))
    cache = CrlCache(tmp_path)
    run(ca, cert, cache=cache)
    cached = cache.load(server.url("/ca.crl"))
    assert isinstance(cached, CachedCrl)
    assert (cached.etag, cached.last_modified) == ('"v1"', modified)

    crls, findings = run(ca, cert, cache=cache, at=T0 + 2 * HOUR)
    assert server.requests[-1].headers["if-none-match"] == '"v1"'
    assert server.requests[-1].headers["if-modified-since"] == modified
    assert len(crls) == 1
    assert codes_of(findings) == [FROM_CACHE]
    assert "not modified" in findings[0].message
    # The cached CRL is stale: the checker, not the fetcher, says it cannot prove good.
    result = RevocationChecker(crls=crls).check(cert, ca.cert, at=T0 + 2 * HOUR)
    assert result.status is CertStatus.UNKNOWN


@pytest.mark.parametrize("bad", ["garbage", "forged", "older", "delta"])
@pytest.mark.parametrize("run", FETCHERS)
def test_cache_keeps_the_last_valid_crl(run: Fetch, server: Server, ca: Ca, tmp_path: Path, bad: str) -> None:
    good = ca.crl([(0x1234, T0 - DAY)], this_update=T0 - HOUR, next_update=T0 + HOUR, number=5)
    server.routes["/ca.crl"] = Reply(good)
    cert = leaf_for(ca, server.url("/ca.crl"))
    cache = CrlCache(tmp_path)
    run(ca, cert, cache=cache)
    replacement = {
        "garbage": b"\x30\x82\x00\x10garbage",
        "forged": ca.impostor().crl(this_update=T0 + HOUR, next_update=T0 + DAY, number=6),
        "older": ca.crl(this_update=T0 - 2 * HOUR, next_update=T0 + DAY, number=4),
        "delta": ca.crl(this_update=T0 + HOUR, next_update=T0 + DAY, extensions=[(x509.DeltaCRLIndicator(5), True)]),
    }[bad]
    server.routes["/ca.crl"] = Reply(replacement)
    crls, findings = run(ca, cert, cache=cache, at=T0 + 2 * HOUR)
    assert codes_of(findings) == [DOWNLOAD_REFUSED, FROM_CACHE]
    assert "the last valid CRL" in findings[1].message
    assert [crl.number for crl in crls] == [5]
    cached = cache.load(server.url("/ca.crl"))
    assert cached is not None
    assert cached.crl.crl.public_bytes(serialization.Encoding.DER) == good
    # The last valid CRL still proves the revocation.
    assert RevocationChecker(crls=crls).check(cert, ca.cert, at=T0 + 2 * HOUR).status is CertStatus.REVOKED


@pytest.mark.parametrize("run", FETCHERS)
def test_cache_is_used_when_the_server_fails(run: Fetch, server: Server, ca: Ca, tmp_path: Path) -> None:
    server.routes["/ca.crl"] = Reply(ca.crl(next_update=T0 + HOUR))
    cert = leaf_for(ca, server.url("/ca.crl"))
    cache = CrlCache(tmp_path)
    run(ca, cert, cache=cache)
    server.routes["/ca.crl"] = Reply(status=500)
    crls, findings = run(ca, cert, cache=cache, at=T0 + 2 * HOUR)
    assert len(crls) == 1
    assert codes_of(findings) == [DOWNLOAD_FAILED, FROM_CACHE]


def test_cache_that_cannot_be_written_still_gives_the_crl(server: Server, ca: Ca, tmp_path: Path) -> None:
    server.routes["/ca.crl"] = Reply(ca.crl())
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the cache directory should be")
    crls, findings = fetch(ca, leaf_for(ca, server.url("/ca.crl")), cache=CrlCache(blocker))
    assert len(crls) == 1
    assert codes_of(findings) == ["MSS-REV-035"]
    assert "could not be cached" in findings[0].message
    assert repr(CrlCache(blocker)) == f"CrlCache({str(blocker)!r})"


def test_cache_takes_a_newer_valid_crl(server: Server, ca: Ca, tmp_path: Path) -> None:
    server.routes["/ca.crl"] = Reply(ca.crl(next_update=T0 + HOUR, number=1))
    cert = leaf_for(ca, server.url("/ca.crl"))
    cache = CrlCache(tmp_path)
    fetch(ca, cert, cache=cache)
    server.routes["/ca.crl"] = Reply(ca.crl([(0x1234, T0 + HOUR)], this_update=T0 + HOUR, number=2))
    crls, findings = fetch(ca, cert, cache=cache, at=T0 + 2 * HOUR)
    assert findings == []
    assert [crl.number for crl in crls] == [2]
    cached = cache.load(server.url("/ca.crl"))
    assert cached is not None
    assert cached.crl.number == 2


def test_crl_signed_by_a_separate_signer_is_cached(server: Server, ca: Ca, tmp_path: Path) -> None:
    signer = ca.crl_signer()
    server.routes["/ca.crl"] = Reply(ca.crl(signer=signer))
    cert = leaf_for(ca, server.url("/ca.crl"))
    crls, findings = fetch(ca, cert, cache=CrlCache(tmp_path))
    assert (crls, codes_of(findings)) == ([], [DOWNLOAD_REFUSED])
    crls, findings = fetch(ca, cert, cache=CrlCache(tmp_path), crl_signers=[signer.cert])
    assert len(crls) == 1
    assert findings == []
    result = RevocationChecker(crls=crls, crl_signers=[signer.cert]).check(cert, ca.cert, at=T0)
    assert result.status is CertStatus.GOOD


def test_cache_store_verifies_before_writing(ca: Ca, tmp_path: Path) -> None:
    cache = CrlCache(tmp_path / "new")
    url = "http://igc.example/ca.crl"
    with pytest.raises(InvalidInput):
        cache.store(url, b"garbage", ca.cert, at=T0)
    with pytest.raises(TrustError, match="does not verify"):
        cache.store(url, ca.impostor().crl(), ca.cert, at=T0)
    assert not (tmp_path / "new").exists()
    stored = cache.store(url, ca.crl(number=3), ca.cert, at=T0, etag='"x"')
    assert stored.number == 3
    with pytest.raises(TrustError, match="older than the cached"):
        cache.store(url, ca.crl(number=2), ca.cert, at=T0)
    loaded = cache.load(url)
    assert loaded is not None
    assert (loaded.crl.number, loaded.etag, loaded.url) == (3, '"x"', url)
    assert loaded.conditional_headers() == {"If-None-Match": '"x"'}
    assert cache.load("http://igc.example/other.crl") is None


def test_cache_survives_damaged_files(ca: Ca, tmp_path: Path) -> None:
    cache = CrlCache(tmp_path)
    url = "http://igc.example/ca.crl"
    cache.store(url, ca.crl(), ca.cert, at=T0, etag='"x"')
    crl_file, meta_file = sorted(tmp_path.glob("*.crl")), sorted(tmp_path.glob("*.json"))
    assert len(crl_file) == len(meta_file) == 1
    assert json.loads(meta_file[0].read_text())["url"] == url
    meta_file[0].write_text("{not json")
    loaded = cache.load(url)
    assert loaded is not None
    assert loaded.etag is None  # validators lost, CRL kept
    crl_file[0].write_bytes(b"damaged")
    assert cache.load(url) is None


def test_default_cache_directory() -> None:
    assert default_cache_directory({"XDG_CACHE_HOME": "/var/cache/me"}) == Path("/var/cache/me/mssante/crl")
    assert default_cache_directory({}) == Path.home() / ".cache" / "mssante" / "crl"
    assert default_cache_directory({"XDG_CACHE_HOME": "relative"}) == Path.home() / ".cache" / "mssante" / "crl"
    assert CrlCache().directory == default_cache_directory()


# --- OCSP -------------------------------------------------------------------------------------------------------


def _ocsp_route(ca: Ca, status: ocsp.OCSPCertStatus = ocsp.OCSPCertStatus.GOOD) -> Callable[[Request], Reply]:
    responder = ca.responder()

    def answer(request: Request) -> Reply:
        if request.method != "POST" or request.headers.get("content-type") != "application/ocsp-request":
            return Reply(status=405)
        asked = ocsp.load_der_ocsp_request(request.body)
        cert = ca.issue(serial=asked.serial_number).cert  # same issuer: the CertID matches
        body = ca.ocsp(cert, status, responder=responder)
        return Reply(body, headers={"Content-Type": "application/ocsp-response"})

    return answer


def _aocsp(cert: x509.Certificate, issuer: x509.Certificate, **options: Any) -> bytes | None:
    async def run() -> bytes | None:
        async with AsyncCrlFetcher(**options) as fetcher:
            return await fetcher.ocsp(cert, issuer)

    return asyncio.run(run())


def _ocsp(cert: x509.Certificate, issuer: x509.Certificate, **options: Any) -> bytes | None:
    with CrlFetcher(**options) as fetcher:
        return fetcher.ocsp(cert, issuer)


OCSP_FETCHERS = [pytest.param(_ocsp, id="sync"), pytest.param(_aocsp, id="async")]
OcspFetch = Callable[..., bytes | None]


@pytest.mark.parametrize("status", [ocsp.OCSPCertStatus.GOOD, ocsp.OCSPCertStatus.REVOKED])
@pytest.mark.parametrize("run", OCSP_FETCHERS)
def test_ocsp_post_and_decide(run: OcspFetch, server: Server, ca: Ca, status: ocsp.OCSPCertStatus) -> None:
    server.routes["/"] = _ocsp_route(ca, status)
    cert = leaf_for(ca, ocsp_urls=("ldap://ocsp.example/", server.url("/")))
    data = run(cert, ca.cert)
    assert data is not None
    request = server.requests[0]
    assert request.headers["content-type"] == "application/ocsp-request"
    assert request.body == build_ocsp_request(cert, ca.cert)
    assert ocsp.load_der_ocsp_request(request.body).serial_number == 0x1234
    result = RevocationChecker(ocsp_responses=[data]).check(cert, ca.cert, at=T0)
    expected = CertStatus.GOOD if status is ocsp.OCSPCertStatus.GOOD else CertStatus.REVOKED
    assert (result.status, result.source) == (expected, "ocsp")


@pytest.mark.parametrize("run", OCSP_FETCHERS)
def test_ocsp_without_responder_is_none(run: OcspFetch, ca: Ca) -> None:
    assert run(leaf_for(ca), ca.cert, client=None) is None
    assert run(leaf_for(ca, ocsp_urls=("ldap://ocsp.example/",)), ca.cert) is None


@pytest.mark.parametrize("reply", [Reply(status=500), Reply(b"not OCSP"), Reply(b"\x30" * 2_000_000)])
@pytest.mark.parametrize("run", OCSP_FETCHERS)
def test_ocsp_failures_raise_a_fetch_error(run: OcspFetch, server: Server, ca: Ca, reply: Reply) -> None:
    server.routes["/"] = reply
    with pytest.raises(RevocationFetchError) as raised:
        run(leaf_for(ca, ocsp_urls=(server.url("/"),)), ca.cert)
    assert raised.value.url == server.url("/")


@pytest.mark.parametrize("run", OCSP_FETCHERS)
def test_ocsp_timeout_raises_a_fetch_error(run: OcspFetch, server: Server, ca: Ca) -> None:
    server.routes["/"] = Reply(b"", delay=1.0)
    with pytest.raises(RevocationFetchError, match="timed out"):
        run(leaf_for(ca, ocsp_urls=(server.url("/"),)), ca.cert, timeout=0.2)


@pytest.mark.parametrize("trickle", TRICKLES.values(), ids=TRICKLES)
@pytest.mark.parametrize("run", OCSP_FETCHERS)
def test_a_trickling_ocsp_responder_cannot_stretch_max_duration(
    run: OcspFetch, server: Server, ca: Ca, trickle: Callable[[bytes], Reply]
) -> None:
    server.routes["/"] = trickle(b"\x30" * 1600)
    with pytest.raises(RevocationFetchError, match="took too long"):
        run(leaf_for(ca, ocsp_urls=(server.url("/"),)), ca.cert, timeout=HANG_GUARD, max_duration=DEADLINE)
    [request] = server.requests
    assert not request.complete


def test_async_fetcher_keeps_a_given_client_open(server: Server, ca: Ca) -> None:
    server.routes["/ca.crl"] = Reply(ca.crl())

    async def run() -> bool:
        async with httpx.AsyncClient() as client:
            async with AsyncCrlFetcher(client) as fetcher:
                crls, _ = await fetcher.fetch(leaf_for(ca, server.url("/ca.crl")), ca.cert, at=T0)
                assert len(crls) == 1
            return client.is_closed

    assert asyncio.run(run()) is False


# --- progress ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("length", [True, False], ids=["content-length", "close-delimited"])
@pytest.mark.parametrize("run", FETCHERS)
def test_progress_hears_of_the_bytes_as_they_arrive(run: Fetch, server: Server, ca: Ca, length: bool) -> None:
    body = ca.crl([(n, T0 - DAY) for n in range(1, 8000)])  # a CRL of several chunks
    assert len(body) > 2 * CHUNK
    server.routes["/big.crl"] = Reply(body, length=length)
    heard: list[tuple[int, int | None]] = []
    crls, findings = run(ca, leaf_for(ca, server.url("/big.crl")), progress=lambda got, of: heard.append((got, of)))
    assert (len(crls), findings) == (1, [])
    total = len(body) if length else None
    assert heard[0] == (0, total)
    assert heard[-1] == (len(body), total)
    received = [got for got, _ in heard]
    assert received == sorted(received)
    assert len(set(received)) == len(received) > 2
    assert {of for _, of in heard} == {total}


@pytest.mark.parametrize("run", FETCHERS)
def test_progress_hears_nothing_without_a_body(run: Fetch, server: Server, ca: Ca) -> None:
    server.routes["/gone.crl"] = Reply(status=404)
    heard: list[tuple[int, int | None]] = []
    run(ca, leaf_for(ca, server.url("/gone.crl")), progress=lambda got, of: heard.append((got, of)))
    assert heard == []


def test_a_failing_progress_callback_ends_the_fetch(server: Server, ca: Ca) -> None:
    server.routes["/ca.crl"] = Reply(ca.crl())

    def stop(received: int, total: int | None) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        fetch(ca, leaf_for(ca, server.url("/ca.crl")), progress=stop)

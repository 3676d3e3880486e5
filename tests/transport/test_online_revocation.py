"""Sessions given a CRL fetcher as ``revocation``: the CRLs of the server's certificate are fetched at connection
time from its distribution points (a local HTTP server publishing the test IGC Santé), then judged."""

from __future__ import annotations

import asyncio
import datetime as dt
import ssl
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from cryptography.hazmat.primitives.serialization import Encoding

from mssante.errors import TransportError
from mssante.message import compose
from mssante.pki import AsyncCrlFetcher, CrlFetcher, Environment, TrustStore
from mssante.testing import CA_NAMES, IssuedCertificate, TestPki
from mssante.transport import AsyncSubmission, InboundPolicy, Submission
from mssante.trustspace import AllowList, OperatorDn
from tests.cli.running import run_json
from tests.local_server import LocalServer, Reply
from tests.transport.conftest import Files, tls, write
from tests.transport.smtp_server import TOKEN, USER, Recorder, serve

TO = "dr.martin@hopital.mssante.fr"


@pytest.fixture(scope="module")
def publisher() -> Iterator[LocalServer]:
    server = LocalServer()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def pki(now: dt.datetime, publisher: LocalServer) -> TestPki:
    return TestPki.create(environment=Environment.PROD, at=now, publication=publisher.url(""))


@pytest.fixture(scope="module")
def server_certificate(pki: TestPki) -> IssuedCertificate:
    return pki.server(["localhost"])


@pytest.fixture(scope="module")
def server_tls(store: TrustStore, server_certificate: IssuedCertificate, files: Files) -> ssl.SSLContext:
    return tls(store, write(server_certificate, files, "published"))  # type: ignore[arg-type]


def publish(publisher: LocalServer, pki: TestPki, revoked: tuple[IssuedCertificate, ...] = ()) -> None:
    """Every CA's CRL on the local server; the ORG CA's lists ``revoked``."""
    publisher.routes.clear()
    for name in CA_NAMES:
        path = urllib.parse.urlsplit(pki.ca(name).crl_url).path
        publisher.routes[path] = Reply(pki.crl(name, revoked=revoked if name == "ACI-EL-ORG" else ()))


@pytest.fixture
def smtp(server_tls: ssl.SSLContext) -> Iterator[tuple[Controller, Recorder]]:
    recorder = Recorder()
    with serve(recorder, tls=server_tls) as controller:
        yield controller, recorder


def mail() -> bytes:
    at = dt.datetime(2026, 1, 5, tzinfo=dt.timezone.utc)
    return compose(sender=USER, to=[TO], nil="DEV000001", at=at, subject="Avis", text="...").as_bytes()


def submission(controller: Controller, store: TrustStore, client: Files, fetcher: CrlFetcher) -> Submission:
    return Submission("localhost", controller.port, store=store, client_certificate=(client.certificate, client.key),
                      username=USER, token=lambda: TOKEN, revocation=fetcher, timeout=5)  # fmt: skip


def test_the_server_crls_are_fetched_at_connection(
    smtp: tuple[Controller, Recorder], publisher: LocalServer, pki: TestPki, store: TrustStore, client: Files
) -> None:
    controller, recorder = smtp
    publish(publisher, pki)
    publisher.requests.clear()
    with CrlFetcher() as fetcher, submission(controller, store, client, fetcher) as session:
        assert session.send(mail()).ok
    fetched = sorted(urllib.parse.urlsplit(request.path).path for request in publisher.requests)
    assert fetched == ["/CRL/ACI-EL-ORG.crl", "/CRL/ACR-EL.crl"]
    assert len(recorder.messages) == 1


def test_a_server_revoked_since_is_refused(
    smtp: tuple[Controller, Recorder],
    publisher: LocalServer,
    pki: TestPki,
    store: TrustStore,
    client: Files,
    server_certificate: IssuedCertificate,
) -> None:
    controller, recorder = smtp
    publish(publisher, pki, revoked=(server_certificate,))
    with (
        CrlFetcher() as fetcher,
        pytest.raises(TransportError, match="MSS-REV-002"),
        submission(controller, store, client, fetcher) as session,
    ):
        session.send(mail())
    assert recorder.mail_peers == []


def test_a_crl_that_cannot_be_had_refuses_and_says_why(
    smtp: tuple[Controller, Recorder], publisher: LocalServer, pki: TestPki, store: TrustStore, client: Files
) -> None:
    controller, recorder = smtp
    publish(publisher, pki)
    publisher.routes["/CRL/ACI-EL-ORG.crl"] = Reply(status=503)
    with (
        CrlFetcher() as fetcher,
        pytest.raises(TransportError, match=r"MSS-REV-001.*fetching the CRLs: .*503"),
        submission(controller, store, client, fetcher) as session,
    ):
        session.send(mail())
    assert recorder.mail_peers == []


def test_the_async_session_awaits_its_fetcher(
    smtp: tuple[Controller, Recorder],
    publisher: LocalServer,
    pki: TestPki,
    store: TrustStore,
    client: Files,
    server_certificate: IssuedCertificate,
) -> None:
    controller, recorder = smtp

    async def send() -> bool:
        async with (
            AsyncCrlFetcher() as fetcher,
            AsyncSubmission(
                "localhost",
                controller.port,
                store=store,
                client_certificate=(client.certificate, client.key),
                username=USER,
                token=lambda: TOKEN,
                revocation=fetcher,
                timeout=5,
            ) as session,  # fmt: skip
        ):
            return (await session.send(mail())).ok

    publish(publisher, pki)
    assert asyncio.run(send())
    publish(publisher, pki, revoked=(server_certificate,))
    with pytest.raises(TransportError, match="MSS-REV-002"):
        asyncio.run(send())
    assert len(recorder.messages) == 1


def test_each_session_takes_the_fetcher_of_its_kind(store: TrustStore) -> None:
    async def attempt() -> None:
        async with AsyncCrlFetcher() as fetcher:
            with pytest.raises(TypeError, match="with CrlFetcher, not AsyncCrlFetcher"):
                Submission("localhost", store=store, revocation=fetcher)

    asyncio.run(attempt())
    with CrlFetcher() as fetcher, pytest.raises(TypeError, match="with AsyncCrlFetcher, not CrlFetcher"):
        AsyncSubmission("localhost", store=store, revocation=fetcher)


def test_the_inbound_policy_fetches_the_client_certificate_crls(
    publisher: LocalServer, pki: TestPki, store: TrustStore, now: dt.datetime
) -> None:
    peer = pki.server(["mx.autre-operateur.mssante.fr"], organisation="AUTRE")
    dn = OperatorDn.from_name(peer.certificate.subject)
    allow = AllowList.parse(
        (
            '<?xml version="1.0" encoding="UTF-8"?><ListeBlancheMSSante xmlns="https://listeblanche.mssante.fr/schema">'
            "<DateDeGeneration>2026-06-01T00:00:00Z</DateDeGeneration><ListeDomaines><Domaine>"
            "<Nom>autre.mssante.fr</Nom><Description>d</Description>"
            f"<DNCertificatOperateur>{dn}</DNCertificatOperateur><ResponsableContact>r</ResponsableContact>"
            "<SupportContact>s</SupportContact><DateMAJ>2026-06-01T00:00:00Z</DateMAJ></Domaine></ListeDomaines>"
            "</ListeBlancheMSSante>"
        ).encode()
    )
    with CrlFetcher() as fetcher:
        policy = InboundPolicy(allow, store, revocation=fetcher)
        publish(publisher, pki)
        accepted = policy.decide(client_certificate=peer.certificate, envelope_sender="a@autre.mssante.fr", at=now)
        publish(publisher, pki, revoked=(peer,))
        refused = policy.decide(client_certificate=peer.certificate, envelope_sender="a@autre.mssante.fr", at=now)
    assert accepted.action == "OK", accepted.reason
    assert refused.action == "REJECT"
    assert "MSS-REV-002" in refused.reason


def test_mssante_send_fetches_the_server_crls(
    smtp: tuple[Controller, Recorder],
    publisher: LocalServer,
    pki: TestPki,
    client: Files,
    server_certificate: IssuedCertificate,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    controller, recorder = smtp
    anchors = tmp_path / "anchors.pem"
    anchors.write_bytes(b"".join(c.public_bytes(Encoding.PEM) for c in [*pki.anchors, *pki.intermediates]))
    eml = tmp_path / "message.eml"
    eml.write_bytes(mail())
    monkeypatch.setenv("PSC_TOKEN", TOKEN)
    command = (
        "send", str(eml), "--server", f"localhost:{controller.port}", "--cert", str(client.certificate), "--key",
        str(client.key), "--trust-anchor", str(anchors), "--user", USER, "--xoauth2-token-env", "PSC_TOKEN",
    )  # fmt: skip
    publish(publisher, pki)
    status, payload = run_json(*command, "--cache-dir", str(tmp_path / "crl"))
    assert status == 0, payload
    assert payload["accepted"] == [TO]
    assert any((tmp_path / "crl").iterdir())  # the CRLs were kept for the next run
    publish(publisher, pki, revoked=(server_certificate,))
    status, payload = run_json(*command, "--cache-dir", str(tmp_path / "another"))  # a day later, say
    assert status == 1  # the server certificate is refused: a verdict, with its code
    assert "MSS-REV-002" in payload["error"]
    assert "MSS-REV-002" in [finding["code"] for finding in payload["findings"]]
    assert payload["accepted"] == []
    assert len(recorder.messages) == 1

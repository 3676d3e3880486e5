"""client_context, server_context and check_peer over real TLS handshakes on 127.0.0.1.

Each exchange is one connection: a server thread accepts it, both sides run their check after the
handshake, the server greets and waits for the client to close. Every socket operation has a timeout,
and a handshake refused on one side ends the other side too.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import os
import socket
import ssl
import stat
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal, cast

import pytest
from cryptography.hazmat.primitives import serialization

from mssante.errors import InvalidInput
from mssante.pki import (
    TLS12_CIPHERS,
    CertificateReport,
    Environment,
    Pkcs12Bundle,
    RevocationChecker,
    TrustStore,
    check_peer,
    client_context,
    load_pkcs12,
    server_context,
)
from mssante.testing import IssuedCertificate, TestPki
from tests.pki.conftest import store_of

HOST = "mss.example.org"
TIMEOUT = 5.0
GREETING = b"MSS\n"
_PEM = serialization.Encoding.PEM
_DER = serialization.Encoding.DER

Check = Callable[[ssl.SSLSocket], CertificateReport | None]

# OpenSSL verification results (X509_V_ERR_*), as SSLCertVerificationError.verify_code.
UNABLE_TO_GET_ISSUER_CERT = 2
CERT_HAS_EXPIRED = 10
UNABLE_TO_GET_ISSUER_CERT_LOCALLY = 20
INVALID_PURPOSE = 26
HOSTNAME_MISMATCH = 62


# --- the PKI and the files each side loads ------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Identity:
    """An issued certificate written out as a TLS peer loads it: the chain (PEM, leaf first) and the key."""

    issued: IssuedCertificate
    certificate: Path
    key: Path


def write_identity(issued: IssuedCertificate, directory: Path, *, leaf_only: bool = False) -> Identity:
    directory.mkdir(parents=True, exist_ok=True)
    name = issued.certificate.serial_number
    certificate, key = directory / f"{name}.pem", directory / f"{name}.key"
    certificate.write_bytes(issued.certificate.public_bytes(_PEM) if leaf_only else issued.pem())
    key.write_bytes(issued.key_pem())
    return Identity(issued=issued, certificate=certificate, key=key)


@pytest.fixture(scope="module")
def now() -> dt.datetime:
    """The moment of the module's PKI: OpenSSL checks validity against the real clock."""
    return dt.datetime.now(dt.timezone.utc)


@pytest.fixture(scope="module")
def tls_pki(now: dt.datetime) -> TestPki:
    return TestPki.create(environment=Environment.PROD, at=now)


@pytest.fixture(scope="module")
def foreign_pki(now: dt.datetime) -> TestPki:
    """Another hierarchy with the same names and environment: only its keys differ."""
    return TestPki.create(environment=Environment.PROD, at=now)


@pytest.fixture(scope="module")
def store(tls_pki: TestPki) -> TrustStore:
    return store_of(tls_pki)


@pytest.fixture(scope="module")
def roots_only(store: TrustStore) -> TrustStore:
    return TrustStore(environment=store.environment, anchors=store.anchors)


@pytest.fixture(scope="module")
def crls(tls_pki: TestPki) -> RevocationChecker:
    """Fresh, empty CRLs of the CAs the module's certificates come from."""
    return RevocationChecker(crls=[tls_pki.crl(name) for name in ("ACR-EL", "ACI-EL-ORG", "ACR-FO", "ACI-FO-PER")])


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("tls")


@pytest.fixture(scope="module")
def server_id(tls_pki: TestPki, files: Path) -> Identity:
    """Our operator's SERV SSL certificate."""
    return write_identity(tls_pki.server([HOST, "mx.example.org"]), files)


@pytest.fixture(scope="module")
def operator_id(tls_pki: TestPki, files: Path) -> Identity:
    """Another operator's SERV SSL certificate, presented as TLS client (server to server)."""
    return write_identity(tls_pki.server(["smtp.operator.example"], structure="318751275100021"), files)


@pytest.fixture(scope="module")
def organisation_id(tls_pki: TestPki, files: Path) -> Identity:
    """An organisation's ORG AUTH_CLI certificate."""
    return write_identity(tls_pki.organisation(), files)


@pytest.fixture(scope="module")
def person_id(tls_pki: TestPki, files: Path) -> Identity:
    """A professional's CPS authentication certificate."""
    return write_identity(tls_pki.person(), files)


def serving(
    store: TrustStore, identity: Identity, *, require_client_certificate: bool = True, **options: Any
) -> ssl.SSLContext:
    return server_context(
        store,
        certificate=identity.certificate,
        key=identity.key,
        require_client_certificate=require_client_certificate,
        **options,
    )


def connecting(store: TrustStore, identity: Identity | None = None, **options: Any) -> ssl.SSLContext:
    if identity is None:
        return client_context(store, **options)
    return client_context(store, certificate=identity.certificate, key=identity.key, **options)


# --- one connection on loopback --------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Side:
    """What one side saw: protocol, suite and its report on the peer; or the error that ended the connection."""

    version: str | None = None
    cipher: str | None = None
    report: CertificateReport | None = None
    error: Exception | None = None


def _session(tls: ssl.SSLSocket, check: Check | None) -> Side:
    cipher = tls.cipher()
    return Side(version=tls.version(), cipher=cipher[0] if cipher else None, report=check(tls) if check else None)


class _Server:
    """Accepts one connection in a thread; its outcome is read after :meth:`stop`."""

    def __init__(self, context: ssl.SSLContext, check: Check | None) -> None:
        self._context, self._check = context, check
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)
        self.port: int = self._listener.getsockname()[1]
        self._stop = threading.Event()
        self._side = Side(error=TimeoutError("no client connected"))
        self._thread = threading.Thread(target=self._run, name="tls-test-server", daemon=True)
        self._thread.start()

    def _accept(self) -> socket.socket | None:
        deadline = time.monotonic() + TIMEOUT
        while not self._stop.is_set() and time.monotonic() < deadline:
            with contextlib.suppress(TimeoutError):
                return self._listener.accept()[0]
        return None

    def _run(self) -> None:
        try:
            raw = self._accept()
            if raw is None:
                return
            with raw:
                raw.settimeout(TIMEOUT)
                with self._context.wrap_socket(raw, server_side=True) as tls:
                    side = _session(tls, self._check)
                    tls.sendall(GREETING)
                    with contextlib.suppress(OSError):
                        tls.recv(1)  # until the client closes: closing first could reset the greeting away
            self._side = side
        except Exception as error:  # the test asserts on it
            self._side = Side(error=error)
        finally:
            self._listener.close()

    def stop(self) -> Side:
        self._stop.set()
        self._thread.join(TIMEOUT + 1)
        assert not self._thread.is_alive(), "the server thread did not end"
        return self._side


def _connect(context: ssl.SSLContext, port: int, host: str | None, check: Check | None) -> Side:
    try:
        with (
            socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as raw,
            context.wrap_socket(raw, server_hostname=host) as tls,
        ):
            side = _session(tls, check)
            greeting = tls.recv(len(GREETING))  # in TLS 1.3 a refused client certificate shows here
            if greeting != GREETING:
                raise ConnectionError(f"the server closed the connection without greeting ({greeting!r})")
            return side
    except Exception as error:  # the test asserts on it
        return Side(error=error)


def exchange(
    server: ssl.SSLContext,
    client: ssl.SSLContext,
    *,
    host: str | None = HOST,
    server_check: Check | None = None,
    client_check: Check | None = None,
) -> tuple[Side, Side]:
    """One connection from ``client`` to ``server`` on 127.0.0.1: what the client saw, then the server."""
    listener = _Server(server, server_check)
    try:
        client_side = _connect(client, listener.port, host, client_check)
    finally:
        server_side = listener.stop()
    return client_side, server_side


def connected(client: Side, server: Side) -> None:
    assert client.error is None, f"client: {client.error!r} / server: {server.error!r}"
    assert server.error is None, f"server: {server.error!r}"
    assert client.version == server.version
    assert client.cipher == server.cipher


def report_of(side: Side) -> CertificateReport:
    assert side.error is None, repr(side.error)
    assert side.report is not None, "the peer presented no certificate"
    return side.report


def errors(report: CertificateReport) -> set[str]:
    return {finding.code for finding in report.report.errors}


def located_errors(report: CertificateReport) -> list[tuple[str, str]]:
    """The errors and which certificate of the chain each is about."""
    return [(finding.code, finding.where.split(".", 1)[0]) for finding in report.report.errors]


def verification_error(side: Side) -> ssl.SSLCertVerificationError:
    assert isinstance(side.error, ssl.SSLCertVerificationError), repr(side.error)
    return side.error


def refused(side: Side, reason: str) -> None:
    assert isinstance(side.error, ssl.SSLError), repr(side.error)
    assert side.error.reason == reason, repr(side.error)


# --- mutual TLS and check_peer ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("client_name", "purpose"),
    [("operator_id", "client"), ("organisation_id", "organisation"), ("person_id", "person")],
    ids=["operator-serv-ssl", "organisation-auth-cli", "person-cps"],
)
def test_mutual_tls_and_both_checks_pass(
    request: pytest.FixtureRequest,
    store: TrustStore,
    crls: RevocationChecker,
    now: dt.datetime,
    server_id: Identity,
    client_name: str,
    purpose: str,
) -> None:
    peer: Identity = request.getfixturevalue(client_name)
    client, server = exchange(
        serving(store, server_id),
        connecting(store, peer),
        client_check=lambda tls: check_peer(tls, purpose="server", store=store, at=now, host=HOST, revocation=crls),
        server_check=lambda tls: check_peer(tls, purpose=purpose, store=store, at=now, revocation=crls),
    )
    connected(client, server)
    assert client.version == "TLSv1.3"
    seen_by_client, seen_by_server = report_of(client), report_of(server)
    assert seen_by_client.ok, seen_by_client.report
    assert seen_by_client.certificate == server_id.issued.certificate
    assert seen_by_client.identity.fqdns == (HOST, "mx.example.org")
    assert seen_by_server.ok, seen_by_server.report
    assert seen_by_server.certificate == peer.issued.certificate
    assert len(seen_by_server.chain) == 3  # leaf, intermediate, root


def test_the_host_checked_defaults_to_the_name_connected_to(
    store: TrustStore, crls: RevocationChecker, now: dt.datetime, server_id: Identity, organisation_id: Identity
) -> None:
    other: dict[str, CertificateReport | None] = {}

    def check(tls: ssl.SSLSocket) -> CertificateReport | None:
        other["wrong host"] = check_peer(
            tls, purpose="server", store=store, at=now, host="other.example.org", revocation=crls
        )
        return check_peer(tls, purpose="server", store=store, at=now, revocation=crls)

    client, server = exchange(serving(store, server_id), connecting(store, organisation_id), client_check=check)
    connected(client, server)
    assert report_of(client).ok, report_of(client).report
    wrong = other["wrong host"]
    assert wrong is not None
    assert "MSS-PKI-010" in errors(wrong)


def test_check_peer_fails_closed_without_revocation_information(
    store: TrustStore, now: dt.datetime, server_id: Identity, organisation_id: Identity
) -> None:
    client, server = exchange(
        serving(store, server_id),
        connecting(store, organisation_id),
        client_check=lambda tls: check_peer(tls, purpose="server", store=store, at=now),
        server_check=lambda tls: check_peer(tls, purpose="organisation", store=store, at=now),
    )
    connected(client, server)
    for side in (client, server):
        assert not report_of(side).ok
        assert "MSS-REV-001" in errors(report_of(side))


def test_a_revoked_server_certificate_fails_check_peer(
    tls_pki: TestPki, store: TrustStore, now: dt.datetime, files: Path, organisation_id: Identity
) -> None:
    revoked = write_identity(tls_pki.server([HOST]), files)
    checker = RevocationChecker(crls=[tls_pki.crl("ACI-EL-ORG", revoked=[revoked.issued]), tls_pki.crl("ACR-EL")])
    client, server = exchange(
        serving(store, revoked),
        connecting(store, organisation_id),
        client_check=lambda tls: check_peer(tls, purpose="server", store=store, at=now, revocation=checker),
    )
    connected(client, server)  # OpenSSL does not look at revocation: check_peer does
    report = report_of(client)
    assert not report.ok
    assert located_errors(report) == [("MSS-REV-002", "chain[0]")]


@pytest.mark.parametrize("purpose", ["client", "organisation"])
def test_a_revoked_client_certificate_fails_check_peer(
    tls_pki: TestPki,
    store: TrustStore,
    now: dt.datetime,
    files: Path,
    server_id: Identity,
    purpose: Literal["client", "organisation"],
) -> None:
    issued = tls_pki.server(["smtp.revoked.example"]) if purpose == "client" else tls_pki.organisation("REVOKED")
    revoked = write_identity(issued, files)
    checker = RevocationChecker(crls=[tls_pki.crl("ACI-EL-ORG", revoked=[issued]), tls_pki.crl("ACR-EL")])
    client, server = exchange(
        serving(store, server_id),
        connecting(store, revoked),
        server_check=lambda tls: check_peer(tls, purpose=purpose, store=store, at=now, revocation=checker),
    )
    connected(client, server)
    report = report_of(server)
    assert not report.ok
    assert located_errors(report) == [("MSS-REV-002", "chain[0]")]


def test_a_revoked_intermediate_fails_check_peer(
    tls_pki: TestPki, store: TrustStore, now: dt.datetime, server_id: Identity, organisation_id: Identity
) -> None:
    checker = RevocationChecker(
        crls=[tls_pki.crl("ACI-EL-ORG"), tls_pki.crl("ACR-EL", revoked=[tls_pki.ca("ACI-EL-ORG").certificate])]
    )
    client, server = exchange(
        serving(store, server_id),
        connecting(store, organisation_id),
        client_check=lambda tls: check_peer(tls, purpose="server", store=store, at=now, revocation=checker),
    )
    connected(client, server)
    assert located_errors(report_of(client)) == [("MSS-REV-002", "chain[1]")]


def test_check_peer_tells_a_card_from_an_operator_that_openssl_accepts_alike(
    store: TrustStore, crls: RevocationChecker, now: dt.datetime, server_id: Identity, person_id: Identity
) -> None:
    as_person: dict[str, CertificateReport | None] = {}

    def check(tls: ssl.SSLSocket) -> CertificateReport | None:
        as_person["report"] = check_peer(tls, purpose="person", store=store, at=now, revocation=crls)
        return check_peer(tls, purpose="client", store=store, at=now, revocation=crls)

    client, server = exchange(serving(store, server_id), connecting(store, person_id), server_check=check)
    connected(client, server)  # a CPS card has clientAuth: OpenSSL lets it in
    assert "MSS-PKI-013" in errors(report_of(server))  # not the SERV SSL of an operator
    person = as_person["report"]
    assert person is not None
    assert person.ok, person.report


def test_check_peer_gives_none_when_the_client_presented_no_certificate(
    store: TrustStore, crls: RevocationChecker, now: dt.datetime, server_id: Identity, organisation_id: Identity
) -> None:
    optional = serving(store, server_id, require_client_certificate=False)
    assert optional.verify_mode == ssl.CERT_OPTIONAL

    def check(tls: ssl.SSLSocket) -> CertificateReport | None:
        return check_peer(tls, purpose="organisation", store=store, at=now, revocation=crls)

    client, server = exchange(optional, connecting(store), server_check=check)
    connected(client, server)
    assert server.report is None
    # The same server still asks for a certificate, and checks one when given.
    client, server = exchange(optional, connecting(store, organisation_id), server_check=check)
    connected(client, server)
    assert report_of(server).ok


def test_check_peer_on_asyncio_streams(
    store: TrustStore, crls: RevocationChecker, now: dt.datetime, server_id: Identity, organisation_id: Identity
) -> None:
    """asyncio hands out an ``SSLObject``, not an ``SSLSocket``."""

    async def run() -> tuple[CertificateReport | None, CertificateReport | None]:
        seen_by_server: list[CertificateReport | None] = []

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            connection = writer.get_extra_info("ssl_object")
            assert isinstance(connection, ssl.SSLObject)
            seen_by_server.append(check_peer(connection, purpose="organisation", store=store, at=now, revocation=crls))
            writer.write(GREETING)
            await writer.drain()
            await reader.read()  # until the client closes
            writer.close()

        listener = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=serving(store, server_id))
        async with listener:
            port = listener.sockets[0].getsockname()[1]
            reader, writer = await asyncio.open_connection(
                "127.0.0.1", port, ssl=connecting(store, organisation_id), server_hostname=HOST
            )
            connection = writer.get_extra_info("ssl_object")
            assert isinstance(connection, ssl.SSLObject)
            seen_by_client = check_peer(connection, purpose="server", store=store, at=now, revocation=crls)
            assert await reader.readexactly(len(GREETING)) == GREETING
            writer.close()
            await writer.wait_closed()
        return seen_by_client, seen_by_server[0]

    async def bounded() -> tuple[CertificateReport | None, CertificateReport | None]:
        return await asyncio.wait_for(run(), TIMEOUT)

    seen_by_client, seen_by_server = asyncio.run(bounded())
    assert seen_by_client is not None
    assert seen_by_client.ok, seen_by_client.report
    assert seen_by_server is not None
    assert seen_by_server.ok, seen_by_server.report


class _SentChain:
    """An ``SSLSocket`` that also tells the chain the peer sent, as ``get_unverified_chain`` does on Python 3.13+."""

    def __init__(self, tls: ssl.SSLSocket, chain: Sequence[bytes]) -> None:
        self._tls, self._chain = tls, list(chain)
        self.server_hostname = tls.server_hostname

    def getpeercert(self, binary_form: bool = False) -> Any:
        return self._tls.getpeercert(binary_form=binary_form)

    def get_unverified_chain(self) -> list[bytes]:
        return list(self._chain)


def test_check_peer_uses_the_intermediates_the_peer_sent(
    roots_only: TrustStore, crls: RevocationChecker, now: dt.datetime, server_id: Identity, organisation_id: Identity
) -> None:
    sent = [certificate.public_bytes(_DER) for certificate in server_id.issued.chain]
    reports: dict[str, CertificateReport | None] = {}

    def check(tls: ssl.SSLSocket) -> CertificateReport | None:
        for name, chain in (("with leaf", sent), ("without leaf", sent[1:])):
            wrapped = cast(ssl.SSLSocket, _SentChain(tls, chain))
            reports[name] = check_peer(wrapped, purpose="server", store=roots_only, at=now, revocation=crls)
        return check_peer(tls, purpose="server", store=roots_only, at=now, revocation=crls)

    # The client trusts the roots alone: the intermediate comes from the server.
    client, server = exchange(
        serving(roots_only, server_id), connecting(roots_only, organisation_id), client_check=check
    )
    connected(client, server)
    for name in ("with leaf", "without leaf"):
        report = reports[name]
        assert report is not None
        assert report.ok, (name, report.report)
    if hasattr(ssl.SSLSocket, "get_unverified_chain"):
        assert report_of(client).ok, report_of(client).report
    else:  # this Python cannot tell what the peer sent: the store must hold the intermediates
        assert "MSS-PKI-008" in errors(report_of(client))


# --- refusals at the TLS layer ------------------------------------------------------------------------------


def test_a_server_of_another_hierarchy_is_refused(
    foreign_pki: TestPki, store: TrustStore, files: Path, organisation_id: Identity
) -> None:
    foreign = write_identity(foreign_pki.server([HOST]), files)
    foreign_store = store_of(foreign_pki)
    client, server = exchange(
        serving(foreign_store, foreign, require_client_certificate=False), connecting(store, organisation_id)
    )
    assert verification_error(client).verify_code == UNABLE_TO_GET_ISSUER_CERT_LOCALLY
    assert server.error is not None
    # The same server is fine for a client that trusts its hierarchy.
    connected(*exchange(serving(foreign_store, foreign, require_client_certificate=False), connecting(foreign_store)))


def test_a_test_environment_server_is_refused_by_a_production_store(
    now: dt.datetime, store: TrustStore, files: Path, organisation_id: Identity
) -> None:
    test_pki = TestPki.create(environment=Environment.TEST, at=now)
    test_server = write_identity(test_pki.server([HOST]), files)
    client, server = exchange(serving(store, test_server), connecting(store, organisation_id))
    assert verification_error(client).verify_code == UNABLE_TO_GET_ISSUER_CERT_LOCALLY
    assert server.error is not None


def test_a_wrong_host_name_is_refused(store: TrustStore, server_id: Identity, organisation_id: Identity) -> None:
    client, server = exchange(serving(store, server_id), connecting(store, organisation_id), host="other.example.org")
    assert verification_error(client).verify_code == HOSTNAME_MISMATCH
    assert server.error is not None
    # The second name of the certificate is fine.
    connected(*exchange(serving(store, server_id), connecting(store, organisation_id), host="mx.example.org"))


def test_a_client_context_needs_a_host_name(store: TrustStore, server_id: Identity) -> None:
    context = connecting(store)
    assert context.check_hostname
    client, _ = exchange(serving(store, server_id, require_client_certificate=False), context, host=None)
    assert isinstance(client.error, ValueError)  # raised before anything is sent


def test_an_expired_server_certificate_is_refused(
    tls_pki: TestPki, store: TrustStore, files: Path, organisation_id: Identity
) -> None:
    expired = write_identity(tls_pki.server([HOST], expired=True), files)
    client, server = exchange(serving(store, expired), connecting(store, organisation_id))
    assert verification_error(client).verify_code == CERT_HAS_EXPIRED
    assert server.error is not None


def test_a_server_with_a_client_only_certificate_is_refused(
    tls_pki: TestPki, store: TrustStore, files: Path, organisation_id: Identity
) -> None:
    client_only = write_identity(tls_pki.organisation("NOT A SERVER"), files)
    client, _ = exchange(serving(store, client_only), connecting(store, organisation_id))
    assert verification_error(client).verify_code == INVALID_PURPOSE


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3], ids=["tls1.2", "tls1.3"])
def test_a_client_without_certificate_is_refused_by_default(
    store: TrustStore, server_id: Identity, version: ssl.TLSVersion
) -> None:
    server_side = serving(store, server_id)
    assert server_side.verify_mode == ssl.CERT_REQUIRED
    client_side = connecting(store)
    client_side.maximum_version = version
    client, server = exchange(server_side, client_side)
    refused(server, "PEER_DID_NOT_RETURN_A_CERTIFICATE")
    assert isinstance(client.error, OSError)


@pytest.mark.parametrize("require_client_certificate", [True, False], ids=["required", "optional"])
def test_a_client_certificate_of_another_hierarchy_is_refused(
    foreign_pki: TestPki, store: TrustStore, files: Path, server_id: Identity, require_client_certificate: bool
) -> None:
    foreign = write_identity(foreign_pki.organisation(), files)
    client, server = exchange(
        serving(store, server_id, require_client_certificate=require_client_certificate),
        connecting(store, foreign),
    )
    assert verification_error(server).verify_code == UNABLE_TO_GET_ISSUER_CERT_LOCALLY
    assert isinstance(client.error, OSError)


def test_a_client_signing_certificate_is_refused(
    tls_pki: TestPki, store: TrustStore, files: Path, server_id: Identity
) -> None:
    signing = write_identity(tls_pki.organisation(usage="sign"), files)
    _, server = exchange(serving(store, server_id), connecting(store, signing))
    assert verification_error(server).verify_code == INVALID_PURPOSE


def test_the_system_trust_store_is_never_used(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    foreign_pki: TestPki,
    store: TrustStore,
    server_id: Identity,
    organisation_id: Identity,
) -> None:
    foreign_certificates = [*foreign_pki.anchors, *foreign_pki.intermediates]
    system = tmp_path / "system.pem"
    system.write_bytes(b"".join(certificate.public_bytes(_PEM) for certificate in foreign_certificates))
    (tmp_path / "certs").mkdir()
    monkeypatch.setenv("SSL_CERT_FILE", str(system))
    monkeypatch.setenv("SSL_CERT_DIR", str(tmp_path / "certs"))
    foreign_server = write_identity(foreign_pki.server([HOST]), tmp_path)
    foreign_client = write_identity(foreign_pki.organisation(), tmp_path)
    foreign_store = store_of(foreign_pki)

    # The control: a context that loads the system store trusts the foreign hierarchy.
    default = ssl.create_default_context()
    assert {c.public_bytes(_DER) for c in foreign_certificates} <= set(default.get_ca_certs(binary_form=True))
    connected(*exchange(serving(foreign_store, foreign_server, require_client_certificate=False), default))

    ours = connecting(store)
    expected = {certificate.public_bytes(_DER) for certificate in (*store.anchors, *store.intermediates)}
    assert set(ours.get_ca_certs(binary_form=True)) == expected
    client, _ = exchange(serving(foreign_store, foreign_server, require_client_certificate=False), ours)
    assert verification_error(client).verify_code == UNABLE_TO_GET_ISSUER_CERT_LOCALLY

    # Server side: the system store does not let a foreign client in either.
    ours_serving = serving(store, server_id)
    assert set(ours_serving.get_ca_certs(binary_form=True)) == expected
    _, server = exchange(ours_serving, connecting(store, foreign_client))
    assert verification_error(server).verify_code == UNABLE_TO_GET_ISSUER_CERT_LOCALLY


# --- protocol versions and suites ----------------------------------------------------------------------------


def _legacy(side: Literal["client", "server"], version: ssl.TLSVersion, identity: Identity) -> ssl.SSLContext:
    """A context that speaks only ``version``, with every suite OpenSSL has, checking nothing."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT if side == "client" else ssl.PROTOCOL_TLS_SERVER)
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            context.set_ciphers("ALL:@SECLEVEL=0")
            context.minimum_version = version
            context.maximum_version = version
        except (ValueError, ssl.SSLError) as error:
            pytest.skip(f"this OpenSSL cannot build a {version.name}-only context: {error}")
    context.load_cert_chain(identity.certificate, identity.key)
    return context


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1], ids=["tls1.0", "tls1.1"])
def test_tls_below_1_2_is_refused_both_ways(
    store: TrustStore, server_id: Identity, organisation_id: Identity, version: ssl.TLSVersion
) -> None:
    legacy_server, legacy_client = _legacy("server", version, server_id), _legacy("client", version, organisation_id)
    control_client, control_server = exchange(legacy_server, legacy_client)
    if control_client.error is not None or control_server.error is not None:
        pytest.skip(f"this OpenSSL no longer speaks {version.name}: {control_client.error or control_server.error!r}")
    assert control_client.version == version.name.replace("_", ".")

    client, server = exchange(serving(store, server_id), legacy_client)
    refused(server, "UNSUPPORTED_PROTOCOL")
    assert isinstance(client.error, OSError)

    client, server = exchange(legacy_server, connecting(store, organisation_id))
    refused(server, "UNSUPPORTED_PROTOCOL")  # our client offered nothing below TLS 1.2
    assert isinstance(client.error, OSError)

    forced = connecting(store, organisation_id)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            forced.maximum_version = version
        except (ValueError, ssl.SSLError) as error:
            pytest.skip(f"this OpenSSL refuses a {version.name} maximum: {error}")
    assert forced.minimum_version == ssl.TLSVersion.TLSv1_2
    client, _ = exchange(legacy_server, forced)
    assert isinstance(client.error, ssl.SSLError)


@pytest.mark.parametrize("side", ["client", "server"])
def test_only_forward_secret_aead_suites_are_offered(store: TrustStore, server_id: Identity, side: str) -> None:
    context = connecting(store) if side == "client" else serving(store, server_id)
    ciphers = context.get_ciphers()
    assert {cipher["protocol"] for cipher in ciphers} <= {"TLSv1.2", "TLSv1.3"}
    assert all(cipher["aead"] for cipher in ciphers)
    tls12 = [cipher for cipher in ciphers if cipher["protocol"] == "TLSv1.2"]
    assert {"ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-RSA-AES128-GCM-SHA256"} <= {cipher["name"] for cipher in tls12}
    assert {cipher["name"] for cipher in tls12} <= set(TLS12_CIPHERS)
    assert all(cipher["kea"] in ("kx-ecdhe", "kx-dhe") for cipher in tls12)
    assert context.minimum_version == ssl.TLSVersion.TLSv1_2


def test_tls_1_2_negotiates_a_listed_suite(store: TrustStore, server_id: Identity, organisation_id: Identity) -> None:
    client_side = connecting(store, organisation_id)
    client_side.maximum_version = ssl.TLSVersion.TLSv1_2
    client, server = exchange(serving(store, server_id), client_side)
    connected(client, server)
    assert client.version == "TLSv1.2"
    assert client.cipher in TLS12_CIPHERS


@pytest.mark.parametrize(
    "suite",
    ["ECDHE-RSA-AES128-SHA256", "ECDHE-RSA-AES256-SHA", "AES128-GCM-SHA256", "AES256-SHA256"],
    ids=["ecdhe-cbc", "ecdhe-cbc-sha1", "rsa-kx-gcm", "rsa-kx-cbc"],
)
def test_the_server_refuses_a_client_offering_only_a_weak_suite(
    store: TrustStore, server_id: Identity, organisation_id: Identity, suite: str
) -> None:
    weak = connecting(store, organisation_id, ciphers=[suite])
    weak.maximum_version = ssl.TLSVersion.TLSv1_2
    client, server = exchange(serving(store, server_id), weak)
    refused(server, "NO_SHARED_CIPHER")
    assert isinstance(client.error, OSError)


def test_the_client_refuses_a_server_offering_only_a_cbc_suite(
    store: TrustStore, server_id: Identity, organisation_id: Identity
) -> None:
    weak = serving(store, server_id, ciphers=["ECDHE-RSA-AES128-SHA256"])
    weak.maximum_version = ssl.TLSVersion.TLSv1_2
    client, server = exchange(weak, connecting(store, organisation_id))
    refused(server, "NO_SHARED_CIPHER")
    assert isinstance(client.error, OSError)


# --- chains ----------------------------------------------------------------------------------------------------


def test_a_server_sending_its_leaf_alone_validates_through_the_store(
    store: TrustStore,
    roots_only: TrustStore,
    crls: RevocationChecker,
    now: dt.datetime,
    files: Path,
    server_id: Identity,
) -> None:
    leaf_only = write_identity(server_id.issued, files / "leaf-only", leaf_only=True)
    # A server whose store has no intermediate cannot complete its chain: it sends the leaf alone...
    bare = serving(roots_only, leaf_only, require_client_certificate=False)
    client, _ = exchange(bare, connecting(roots_only))
    assert verification_error(client).verify_code == UNABLE_TO_GET_ISSUER_CERT_LOCALLY
    # ... and a client whose store carries the intermediates validates it, at the TLS layer and in check_peer.
    client, server = exchange(
        bare,
        connecting(store),
        client_check=lambda tls: check_peer(tls, purpose="server", store=store, at=now, revocation=crls),
    )
    connected(client, server)
    assert report_of(client).ok, report_of(client).report


def test_a_leaf_alone_is_completed_from_the_server_store(
    store: TrustStore, roots_only: TrustStore, files: Path, server_id: Identity
) -> None:
    leaf_only = write_identity(server_id.issued, files / "leaf-only", leaf_only=True)
    client, server = exchange(serving(store, leaf_only, require_client_certificate=False), connecting(roots_only))
    connected(client, server)


def test_a_partial_chain_is_never_trusted(
    tls_pki: TestPki, foreign_pki: TestPki, server_id: Identity, organisation_id: Identity, store: TrustStore
) -> None:
    # The intermediate is in the store, its root is not.
    partial = TrustStore(
        environment=Environment.PROD, anchors=foreign_pki.anchors, intermediates=[tls_pki.ca("ACI-EL-ORG").certificate]
    )
    context = connecting(partial, organisation_id)
    client, _ = exchange(serving(store, server_id), context)
    assert verification_error(client).verify_code == UNABLE_TO_GET_ISSUER_CERT
    # The control: with OpenSSL's partial-chain flag the same store would accept it.
    context = connecting(partial, organisation_id)
    context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
    connected(*exchange(serving(store, server_id), context))


# --- certificates and keys from memory --------------------------------------------------------------------------


def test_pkcs12_bundles_authenticate_both_sides(
    store: TrustStore, crls: RevocationChecker, now: dt.datetime, server_id: Identity, organisation_id: Identity
) -> None:
    server_bundle = load_pkcs12(server_id.issued.pkcs12(b"server secret"), b"server secret")
    client_bundle = load_pkcs12(organisation_id.issued.pkcs12())
    client, server = exchange(
        server_context(store, certificate=server_bundle),
        client_context(store, certificate=client_bundle),
        client_check=lambda tls: check_peer(tls, purpose="server", store=store, at=now, revocation=crls),
        server_check=lambda tls: check_peer(tls, purpose="organisation", store=store, at=now, revocation=crls),
    )
    connected(client, server)
    assert report_of(client).certificate == server_id.issued.certificate
    assert report_of(client).ok
    assert report_of(server).certificate == organisation_id.issued.certificate
    assert report_of(server).ok


def test_a_bundle_key_is_written_encrypted_to_a_private_file_then_deleted(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, store: TrustStore, server_id: Identity
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    seen: list[tuple[int, bytes, object]] = []
    original = ssl.SSLContext.load_cert_chain

    def spy(context: ssl.SSLContext, certfile: str, keyfile: str | None = None, password: Any = None) -> None:
        seen.append((stat.S_IMODE(os.stat(certfile).st_mode), Path(certfile).read_bytes(), password))
        original(context, certfile, keyfile, password)

    monkeypatch.setattr(ssl.SSLContext, "load_cert_chain", spy)
    issued = server_id.issued
    server_context(store, certificate=Pkcs12Bundle(key=issued.key, certificate=issued.certificate, additional=()))
    [(mode, content, password)] = seen
    if os.name == "posix":
        assert mode == 0o600
    assert b"-----BEGIN ENCRYPTED PRIVATE KEY-----" in content
    assert b"-----BEGIN PRIVATE KEY-----" not in content
    assert issued.certificate.public_bytes(_PEM) in content
    assert isinstance(password, bytes)
    assert len(password) >= 32
    assert list(tmp_path.iterdir()) == []


def test_a_bundle_whose_key_does_not_match_fails_and_leaves_no_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, store: TrustStore, server_id: Identity, organisation_id: Identity
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    mismatched = Pkcs12Bundle(key=organisation_id.issued.key, certificate=server_id.issued.certificate, additional=())
    with pytest.raises(ssl.SSLError):
        client_context(store, certificate=mismatched)
    assert list(tmp_path.iterdir()) == []


def test_misused_identity_arguments_are_refused(store: TrustStore, server_id: Identity) -> None:
    issued = server_id.issued
    bundle = Pkcs12Bundle(key=issued.key, certificate=issued.certificate, additional=issued.intermediates)
    with pytest.raises(ValueError, match="holds its own key"):
        server_context(store, certificate=bundle, key=server_id.key)
    with pytest.raises(ValueError, match="holds its own key"):
        client_context(store, certificate=bundle, password=b"secret")
    with pytest.raises(InvalidInput, match="private key and its certificate"):
        server_context(store, certificate=Pkcs12Bundle(key=None, certificate=issued.certificate, additional=()))
    with pytest.raises(ValueError, match="without the certificate"):
        client_context(store, key=server_id.key)

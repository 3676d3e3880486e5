"""What the transport tests share: a test PKI shaped like IGC Santé, its store and CRLs, certificate files, the
SMTP test server (STARTTLS with a required client certificate) and its recorder."""

from __future__ import annotations

import dataclasses
import datetime as dt
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from mssante.pki import Environment, RevocationChecker, TrustStore, server_context
from mssante.testing import CA_NAMES, IssuedCertificate, TestPki
from tests.transport.imap_server import ImapState
from tests.transport.smtp_server import Recorder, serve


@dataclasses.dataclass(frozen=True)
class Files:
    certificate: Path
    key: Path


def write(issued: IssuedCertificate, directory: Path, name: str) -> Files:
    """The certificate (with its chain) and the key of ``issued`` as PEM files in ``directory``."""
    return Files(*issued.write(directory, name))


def tls(store: TrustStore, server: Files) -> ssl.SSLContext:
    """A server TLS context asking for a client certificate from ``store``."""
    return server_context(store, certificate=server.certificate, key=server.key)


@pytest.fixture
def state() -> ImapState:
    """An empty mailbox for the IMAP test server."""
    return ImapState()


@pytest.fixture(scope="module")
def now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


@pytest.fixture(scope="module")
def pki(now: dt.datetime) -> TestPki:
    return TestPki.create(environment=Environment.PROD, at=now)


@pytest.fixture(scope="module")
def store(pki: TestPki) -> TrustStore:
    return TrustStore.from_certificates([*pki.anchors, *pki.intermediates], environment=pki.environment)


@pytest.fixture(scope="module")
def crls(pki: TestPki) -> RevocationChecker:
    return RevocationChecker(crls=[pki.crl(name) for name in CA_NAMES])


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("transport")


@pytest.fixture(scope="module")
def client(pki: TestPki, files: Path) -> Files:
    return write(pki.organisation("LOGICIEL", usage="auth"), files, "client")


@pytest.fixture(scope="module")
def server_tls(pki: TestPki, store: TrustStore, files: Path) -> ssl.SSLContext:
    return tls(store, write(pki.server(["localhost"]), files, "server"))


@pytest.fixture(scope="module")
def foreign(now: dt.datetime) -> TestPki:
    """Another PKI shaped like IGC Santé: nothing it issues chains to the trusted anchors."""
    return TestPki.create(environment=Environment.PROD, at=now)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def server(recorder: Recorder, server_tls: ssl.SSLContext) -> Iterator[Controller]:
    with serve(recorder, tls=server_tls) as controller:
        yield controller

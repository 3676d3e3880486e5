"""What the PSC tests share: a test PKI, the provider over HTTPS with its server certificate, a client."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from mssante.pki import Environment, TrustStore, server_context
from mssante.psc import PscClient
from mssante.testing import TestPki
from tests.psc.lying_provider import CLIENT_ID, CLIENT_SECRET, Provider, serving


@pytest.fixture(scope="session")
def pki() -> TestPki:
    return TestPki.create(environment=Environment.PROD, at=dt.datetime.now(dt.timezone.utc))


@pytest.fixture(scope="session")
def psc_files(pki: TestPki, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("psc")
    authorities = [*pki.anchors, *pki.intermediates]
    (folder / "ca.pem").write_bytes(b"".join(c.public_bytes(serialization.Encoding.PEM) for c in authorities))
    pki.server(["localhost"]).write(folder, "server")
    pki.organisation("LPS").write(folder, "client")
    return folder


@pytest.fixture
def provider(pki: TestPki, psc_files: Path) -> Iterator[Provider]:
    store = TrustStore.from_certificates([*pki.anchors, *pki.intermediates], environment=pki.environment)
    context = server_context(
        store, certificate=psc_files / "server.pem", key=psc_files / "server.key", require_client_certificate=False
    )
    with serving(context) as running:
        yield running


@pytest.fixture
def client(provider: Provider, psc_files: Path) -> Iterator[PscClient]:
    with PscClient(provider.issuer, CLIENT_ID, client_secret=CLIENT_SECRET, ca_file=psc_files / "ca.pem") as made:
        yield made

"""What the probe tests share: a test PKI shaped like IGC Santé, its store and CRLs, the probe's client
certificate, and a second PKI outside the trust."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from mssante.pki import Environment, RevocationChecker, TrustStore
from mssante.testing import CA_NAMES, TestPki


@pytest.fixture(scope="package")
def now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


@pytest.fixture(scope="package")
def pki(now: dt.datetime) -> TestPki:
    return TestPki.create(environment=Environment.PROD, at=now)


@pytest.fixture(scope="package")
def foreign(now: dt.datetime) -> TestPki:
    """Another PKI shaped like IGC Santé: nothing it issues chains to the trusted anchors."""
    return TestPki.create(environment=Environment.PROD, at=now)


@pytest.fixture(scope="package")
def store(pki: TestPki) -> TrustStore:
    return TrustStore.from_certificates([*pki.anchors, *pki.intermediates], environment=pki.environment)


@pytest.fixture(scope="package")
def crls(pki: TestPki) -> RevocationChecker:
    return RevocationChecker(crls=[pki.crl(name) for name in CA_NAMES])


@pytest.fixture(scope="package")
def directory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("probe")


@pytest.fixture(scope="package")
def client(pki: TestPki, directory: Path) -> tuple[Path, Path]:
    """An IGC Santé client certificate of the operator's own, as the probe is given it."""
    return pki.server(["mx.operateur.example"]).write(directory, "client")


@pytest.fixture(scope="package")
def outsider(foreign: TestPki, directory: Path) -> tuple[Path, Path]:
    """A certificate outside the trust: the other PKI's."""
    return foreign.server(["mx.outsider.example"]).write(directory, "outsider")


@pytest.fixture(scope="package")
def foreign_anchors(foreign: TestPki) -> str:
    """The other PKI's CAs, as PEM: what a misconfigured server trusts besides IGC Santé."""
    certificates = [*foreign.anchors, *foreign.intermediates]
    return b"".join(item.public_bytes(serialization.Encoding.PEM) for item in certificates).decode("ascii")

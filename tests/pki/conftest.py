"""Shared fixtures: one IGC-Santé-shaped test PKI per environment for the whole session."""

from __future__ import annotations

import datetime as dt

import pytest

from mssante.pki import Environment, RevocationChecker, TrustStore
from mssante.testing import TestPki

AT = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.timezone.utc)


@pytest.fixture(scope="session")
def prod_pki() -> TestPki:
    return TestPki.create(environment=Environment.PROD, at=AT)


@pytest.fixture(scope="session")
def test_pki() -> TestPki:
    return TestPki.create(environment=Environment.TEST, at=AT)


def store_of(pki: TestPki) -> TrustStore:
    return TrustStore.from_certificates([*pki.anchors, *pki.intermediates], environment=pki.environment)


@pytest.fixture(scope="session")
def prod_store(prod_pki: TestPki) -> TrustStore:
    return store_of(prod_pki)


@pytest.fixture(scope="session")
def fresh_crls(prod_pki: TestPki) -> RevocationChecker:
    """Valid, empty CRLs for every CA of the production-shaped PKI: every certificate is good."""
    return RevocationChecker(crls=[prod_pki.crl(name) for name in prod_pki_ca_names()])


def prod_pki_ca_names() -> tuple[str, ...]:
    from mssante.testing import CA_NAMES  # noqa: PLC0415

    return CA_NAMES

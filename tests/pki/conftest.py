"""Shared fixtures: one IGC-Santé-shaped test PKI per environment for the whole session."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa

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


def ca_pair(testing_pki: TestPki, name: str) -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
    authority = testing_pki.ca(name)
    return authority.certificate, authority.key


def issue(
    template: x509.Certificate,
    issuer: tuple[x509.Certificate, rsa.RSAPrivateKey],
    *,
    public_key: rsa.RSAPublicKey | None = None,
    subject: x509.Name | None = None,
    replace: tuple[x509.ExtensionType, ...] = (),
    critical: bool = False,
) -> x509.Certificate:
    """A copy of ``template`` (or of its key, name and extensions) issued and signed by ``issuer``.

    The authority key identifier names the issuer's key; ``replace`` swaps extensions of the same type (added,
    with ``critical``, when the template has none). Used to re-sign a CA's key under another root, and to make
    CAs the test PKI does not (a sub-CA, name constraints).
    """
    issuer_certificate, issuer_key = issuer
    key = public_key if public_key is not None else template.public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    issuer_ski = issuer_certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject if subject is not None else template.subject)
        .issuer_name(issuer_certificate.subject)
        .public_key(key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(template.not_valid_before_utc)
        .not_valid_after(template.not_valid_after_utc)
    )
    replaced = {type(value): value for value in replace}
    for extension in template.extensions:
        value = extension.value
        if isinstance(value, x509.AuthorityKeyIdentifier):
            value = x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(issuer_ski)
        elif isinstance(value, x509.SubjectKeyIdentifier):
            value = x509.SubjectKeyIdentifier.from_public_key(key)
        builder = builder.add_extension(replaced.pop(type(value), value), critical=extension.critical)
    for value in replaced.values():
        builder = builder.add_extension(value, critical=critical)
    return builder.sign(issuer_key, hashes.SHA256())

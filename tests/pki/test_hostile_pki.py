"""Hostile certificates and chains: each gets a finding in bounded time, never a traceback or a hang."""

from __future__ import annotations

import datetime as dt
import time

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from hypothesis import given, settings
from hypothesis import strategies as st

from mssante import pki
from mssante.errors import InvalidInput
from mssante.pki import RevocationChecker, TrustStore
from mssante.testing import TestPki
from tests.pki.conftest import AT


def _ca(
    name: str, issuer: str, key: ec.EllipticCurvePrivateKey, signer: ec.EllipticCurvePrivateKey
) -> x509.Certificate:
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(AT - dt.timedelta(days=10))
        .not_valid_after(AT + dt.timedelta(days=10))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(signer.public_key()), critical=False)
        .sign(signer, hashes.SHA256())
    )


def test_a_chain_that_loops_ends_in_a_finding(prod_pki: TestPki, prod_store: TrustStore) -> None:
    first, second = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    # A signs B and B signs A: a loop of intermediates that never reaches an anchor.
    loop = [_ca("LOOP A", "LOOP B", first, second), _ca("LOOP B", "LOOP A", second, first)] * 10
    leaf = prod_pki.server(issuer="ACI-EL-ORG").certificate
    stranger = (
        x509.CertificateBuilder()
        .subject_name(leaf.subject)
        .issuer_name(loop[0].subject)
        .public_key(leaf.public_key())
        .serial_number(1)
        .not_valid_before(AT - dt.timedelta(days=1))
        .not_valid_after(AT + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("mss.example.org")]), critical=False)
        .sign(first, hashes.SHA256())
    )
    started = time.perf_counter()
    with_loop = pki.verify(
        stranger, purpose="server", store=prod_store, at=AT, host="mss.example.org", intermediates=loop,
        revocation=RevocationChecker(),
    )  # fmt: skip
    assert time.perf_counter() - started < 5
    assert not with_loop.ok
    assert "MSS-PKI-008" in with_loop.report.codes


def test_too_many_intermediates_are_not_all_tried(prod_pki: TestPki, prod_store: TrustStore) -> None:
    junk = [prod_pki.server().certificate] * 500
    started = time.perf_counter()
    result = pki.verify(
        prod_pki.server().certificate, purpose="server", store=prod_store, at=AT, host="mss.example.org",
        intermediates=junk, revocation=RevocationChecker(),
    )  # fmt: skip
    assert time.perf_counter() - started < 5
    assert not result.ok


@settings(max_examples=60, deadline=None)
@given(position=st.integers(min_value=0), junk=st.binary(min_size=1, max_size=4))
def test_corrupted_certificates_are_refused_or_judged(prod_pki: TestPki, position: int, junk: bytes) -> None:
    der = prod_pki.server().certificate.public_bytes(serialization.Encoding.DER)
    position %= len(der)
    corrupted = der[:position] + junk + der[position + len(junk) :]
    try:
        certificate = pki.load_certificate(corrupted)
    except InvalidInput:
        return
    description = pki.describe(certificate)  # whatever parses, is described without a traceback
    assert isinstance(description.to_dict()["ok"], bool)

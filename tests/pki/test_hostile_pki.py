"""Hostile certificates and chains: each gets a finding after bounded work, never a traceback or a hang."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, NamedTuple

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from hypothesis import given, settings
from hypothesis import strategies as st

from mssante import pki
from mssante.errors import InvalidInput
from mssante.pki import MAX_CHAIN_DEPTH, RevocationChecker, TrustStore
from mssante.pki._verify import _MAX_INTERMEDIATES
from mssante.testing import TestPki
from tests.counting import CountingSequence
from tests.pki.conftest import AT, store_of


class PathSearch(NamedTuple):
    """One search of a path to an anchor: the depth it was allowed and how many certificates it was offered."""

    depth: int | None
    candidates: int


class _Recording:
    """A ``cryptography`` policy builder, or a verifier built from it, that records each path search it runs."""

    def __init__(self, inner: Any, searches: list[PathSearch], depth: int | None = None) -> None:
        self._inner, self._searches, self._depth = inner, searches, depth

    def max_chain_depth(self, depth: int) -> _Recording:
        return _Recording(self._inner.max_chain_depth(depth), self._searches, depth)

    def verify(self, leaf: x509.Certificate, intermediates: list[x509.Certificate]) -> Any:
        self._searches.append(PathSearch(self._depth, len(intermediates)))
        return self._inner.verify(leaf, intermediates)

    def __getattr__(self, name: str) -> Callable[..., _Recording]:
        method = getattr(self._inner, name)

        def building(*args: Any, **kwargs: Any) -> _Recording:
            return _Recording(method(*args, **kwargs), self._searches, self._depth)

        return building


def recording_path_searches(test_pki: TestPki) -> tuple[TrustStore, list[PathSearch]]:
    """A store of ``test_pki``, and the path searches of the checks made with it as they come."""
    store = store_of(test_pki)
    searches: list[PathSearch] = []
    # The store keeps the policy builder it made on first use: the recording one takes its place.
    object.__setattr__(store, "_policy_builder", _Recording(store._policy_builder, searches))
    return store, searches


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


def test_a_chain_that_loops_ends_in_a_finding(prod_pki: TestPki) -> None:
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
    store, searches = recording_path_searches(prod_pki)
    with_loop = pki.verify(
        stranger, purpose="server", store=store, at=AT, host="mss.example.org", intermediates=loop,
        revocation=RevocationChecker(),
    )  # fmt: skip
    assert not with_loop.ok
    assert "MSS-PKI-008" in with_loop.report.codes
    # Catches an unbounded path search around the loop: its work grows with its depth and the certificates offered.
    assert [search.depth for search in searches] == [MAX_CHAIN_DEPTH]
    assert searches[0].candidates <= _MAX_INTERMEDIATES + len(store.intermediates)


def test_too_many_intermediates_are_not_all_tried(prod_pki: TestPki) -> None:
    junk = CountingSequence([prod_pki.server().certificate] * 500)
    store, searches = recording_path_searches(prod_pki)
    result = pki.verify(
        prod_pki.server().certificate, purpose="server", store=store, at=AT, host="mss.example.org",
        intermediates=junk, revocation=RevocationChecker(),
    )  # fmt: skip
    assert not result.ok
    # Catches reading (and offering the path search) every intermediate given, however many.
    assert junk.taken <= _MAX_INTERMEDIATES
    assert [search.depth for search in searches] == [MAX_CHAIN_DEPTH]
    assert searches[0].candidates <= _MAX_INTERMEDIATES + len(store.intermediates)


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

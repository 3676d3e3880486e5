"""The bundled IGC Santé anchors and trust stores scoped to one environment."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from cryptography import x509

from mssante import pki
from mssante.errors import SecurityWarning, TrustError
from mssante.pki import Environment, TrustStore

DATA = Path(__file__).parent.parent / "data" / "pki"


def test_production_store_holds_the_three_roots_and_five_intermediates() -> None:
    store = TrustStore.bundled("prod")
    assert store.environment is Environment.PROD
    assert sorted(anchor.subject.rfc4514_string() for anchor in store.anchors) == [
        "CN=AC RACINE IGC-SANTE ELEMENTAIRE,OU=IGC-SANTE,OU=0002 187512751,O=ASIP-SANTE,C=FR",
        "CN=AC RACINE IGC-SANTE FORT,OU=IGC-SANTE,OU=0002 187512751,O=ASIP-SANTE,C=FR",
        "CN=AC RACINE IGC-SANTE STANDARD,OU=IGC-SANTE,OU=0002 187512751,O=ASIP-SANTE,C=FR",
    ]
    assert len(store.intermediates) == 5
    assert store.fingerprints == {
        pki.BUNDLED_FINGERPRINTS[Environment.PROD][name] for name in ("acr-el", "acr-st", "acr-fo")
    }


def test_bundled_certificates_are_the_published_ones() -> None:
    # The same 8 certificates as ANS's official PKCS#7 bundle (read with its BER fallback).
    official = pki.load_certificates((DATA / "Chaine_de_certification-IGC-Sante.p7b").read_bytes())
    store = TrustStore.bundled("prod")
    assert {pki.fingerprint(c) for c in official} == {
        pki.fingerprint(c) for c in (*store.anchors, *store.intermediates)
    }


def test_test_store_warns_and_never_mixes_with_production() -> None:
    with pytest.warns(SecurityWarning, match="TEST"):
        test = TrustStore.bundled(Environment.TEST)
    production = TrustStore.bundled("prod")
    assert [anchor.subject.rfc4514_string() for anchor in test.anchors] == [
        "CN=TEST AC RACINE IGC-SANTE ELEMENTAIRE,OU=IGC-SANTE TEST,OU=0002 187512751,O=ASIP-SANTE,C=FR"
    ]
    assert not test.fingerprints & production.fingerprints
    assert not any(production.is_anchor(anchor) for anchor in test.anchors)
    # Same O and OU: only the keys tell them apart.
    assert test.anchors[0].subject.get_attributes_for_oid(x509.NameOID.ORGANIZATION_NAME) == (
        production.anchors[0].subject.get_attributes_for_oid(x509.NameOID.ORGANIZATION_NAME)
    )


def test_production_store_does_not_warn() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        TrustStore.bundled("prod")


def test_store_needs_self_issued_anchors() -> None:
    production = TrustStore.bundled("prod")
    with pytest.raises(TrustError, match="self-issued"):
        TrustStore(environment=Environment.PROD, anchors=production.intermediates)
    with pytest.raises(TrustError, match="at least one"):
        TrustStore(environment=Environment.PROD, anchors=())
    split = TrustStore.from_certificates([*production.intermediates, *production.anchors], environment="prod")
    assert split.anchors == production.anchors
    assert set(split.intermediates) == set(production.intermediates)


def test_knows_issuer_by_key_identifier() -> None:
    production = TrustStore.bundled("prod")
    aci_el_org = next(c for c in production.intermediates if "ELEMENTAIRE ORGANISATIONS" in c.subject.rfc4514_string())
    assert production.knows_issuer_of(aci_el_org)
    with pytest.warns(SecurityWarning):
        test = TrustStore.bundled("test")
    assert not test.knows_issuer_of(aci_el_org)

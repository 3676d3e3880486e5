"""The IGC Santé CAs mssante knows but does not ship (the TEST FORT ones): named when missing, pinned when added.

The real TEST FORT CAs are in no public repository, so a test PKI stands in for them: its FORT hierarchy has the
real names, and ``TestPki.published_cas()`` pins the store's catalogue to its keys, with the kinds of pin the real
catalogue has (``ACI-FO-PP-TEST`` by key identifier, its root by none).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from mssante import pki
from mssante.errors import InvalidInput, SecurityWarning
from mssante.pki import Environment, Profile, RevocationChecker, TrustStore
from mssante.testing import IssuedCertificate, TestPki
from tests.pki.conftest import AT, ca_pair, issue

# The authority key identifier of ANS's TEST CPS certificates, so the identifier of the key of ACI-FO-PP-TEST
# (shared fixtures README of the PKI research, "Second search for the TEST FORT chain").
ANS_KEY_ID = "3A:F1:E7:F5:CE:EB:ED:F7:8D:C9:C9:B2:9F:ED:D4:65:29:DC:1F:FD"
ANS_FORT_PERSONNES = "http://igc-sante.esante.gouv.fr/AC%20TEST/ACI-FO-PP-TEST.cer"
ANS_FORT_ROOT = "http://igc-sante.esante.gouv.fr/AC%20TEST/ACR-FO-TEST.cer"


@pytest.fixture(scope="module")
def other() -> TestPki:
    """Another TEST PKI: same names, other keys (a look-alike)."""
    return TestPki.create(environment=Environment.TEST, at=AT)


@pytest.fixture(scope="module")
def elementaire(test_pki: TestPki) -> TrustStore:
    """What the bundled TEST store holds (ELEMENTAIRE root and ORGANISATIONS), pinned to the test PKI's keys."""
    return TrustStore.from_certificates(
        [test_pki.ca("ACR-EL").certificate, test_pki.ca("ACI-EL-ORG").certificate],
        environment="test",
        catalogue=test_pki.published_cas(),
    )


def fort(testing_pki: TestPki) -> list[x509.Certificate]:
    """The two files ANS publishes for the TEST FORT hierarchy, root first."""
    return [testing_pki.ca("ACR-FO").certificate, testing_pki.ca("ACI-FO-PER").certificate]


def fort_crls(testing_pki: TestPki) -> RevocationChecker:
    return RevocationChecker(crls=[testing_pki.crl("ACI-FO-PER"), testing_pki.crl("ACR-FO")])


def card_check(
    card: IssuedCertificate,
    store: TrustStore,
    revocation: RevocationChecker | str = "off",
    intermediates: Sequence[x509.Certificate] = (),
) -> pki.CertificateReport:
    with pytest.warns(SecurityWarning) if revocation == "off" else contextlib.nullcontext():
        return pki.verify(
            card.certificate, purpose="person", store=store, at=AT, revocation=revocation, intermediates=intermediates
        )


def codes(result: pki.CertificateReport) -> list[str]:
    return [finding.code for finding in result.report.errors]


def test_the_refusal_names_the_missing_test_fort_cas_and_where_ans_publishes_them(test_pki: TestPki) -> None:
    # A TEST card whose issuer is ANS's ACI-FO-PP-TEST (its authority key identifier is ANS's), checked with the
    # bundled TEST store, which does not hold the FORT CAs.
    ans_key = x509.AuthorityKeyIdentifier(bytes.fromhex(ANS_KEY_ID.replace(":", "")), None, None)
    card = test_pki.person(extra_extensions=[(ans_key, False)])
    with pytest.warns(SecurityWarning):
        store = TrustStore.bundled("test")
    result = card_check(card, store)
    assert not result.ok
    missing = [f for f in result.report.errors if f.code == "MSS-PKI-023"]
    assert [f.message for f in missing] == [
        f"TEST AC IGC-SANTE FORT PERSONNES is not in the store: add ACI-FO-PP-TEST from {ANS_FORT_PERSONNES}",
        f"TEST AC RACINE IGC-SANTE FORT is not in the store: add ACR-FO-TEST from {ANS_FORT_ROOT}",
    ]
    assert "MSS-PKI-008" not in codes(result)  # not "no chain"
    assert result.profile is Profile.CPS_AUTH  # classified all the same


def test_a_look_alike_issuer_is_not_a_missing_ca(test_pki: TestPki) -> None:
    # Same issuer name as ANS's ACI-FO-PP-TEST, another key: adding ANS's file would not help.
    with pytest.warns(SecurityWarning):
        store = TrustStore.bundled("test")
    result = card_check(test_pki.person(), store)
    assert "MSS-PKI-023" not in codes(result)
    assert "MSS-PKI-008" in codes(result)


def test_cas_added_from_the_published_files_validate_a_card(test_pki: TestPki, elementaire: TrustStore) -> None:
    card = test_pki.person("810000001916")
    before = card_check(card, elementaire)
    assert [f.where for f in before.report.errors if f.code == "MSS-PKI-023"] == ["ACI-FO-PP-TEST", "ACR-FO-TEST"]
    first = next(f for f in before.report.errors if f.code == "MSS-PKI-023")
    assert first.message.endswith("add ACI-FO-PP-TEST from " + test_pki.ca("ACI-FO-PER").ca_issuers_url)

    only_intermediate = elementaire.with_published_cas(fort(test_pki)[1:])
    halfway = card_check(card, only_intermediate)
    assert [f.where for f in halfway.report.errors if f.code == "MSS-PKI-023"] == ["ACR-FO-TEST"]

    store = elementaire.with_published_cas(reversed(fort(test_pki)))  # in any order
    assert len(store.anchors) == 2
    assert len(store.intermediates) == 2
    assert store.guarded_anchors == {pki.fingerprint(test_pki.ca("ACR-FO").certificate)}
    result = card_check(card, store, fort_crls(test_pki))
    assert result.ok, result.report
    assert [c.subject for c in result.chain] == [card.certificate.subject, *(c.subject for c in fort(test_pki)[::-1])]
    assert elementaire.with_published_cas(fort(test_pki)).with_published_cas(fort(test_pki)) == store  # added once


def test_a_ca_file_with_another_key_identifier_is_refused(test_pki: TestPki, other: TestPki) -> None:
    with pytest.warns(SecurityWarning):
        bundled = TrustStore.bundled("test")
    # The test PKI's FORT PERSONNES is not ANS's: its key identifier is not the pinned one.
    with pytest.raises(InvalidInput, match="not the ACI-FO-PP-TEST") as caught:
        bundled.with_published_cas(fort(test_pki))
    report = caught.value.report
    assert set(report.codes) == {"MSS-PKI-024"}
    message = next(f.message for f in report.findings if f.where == "TEST AC IGC-SANTE FORT PERSONNES")
    own = test_pki.ca("ACI-FO-PER").key_identifier
    assert message == (
        f"TEST AC IGC-SANTE FORT PERSONNES holds a key whose identifier is {own.hex(':').upper()}, not {ANS_KEY_ID}: "
        "it is not the ACI-FO-PP-TEST that ANS publishes"
    )
    # The same with the stand-in catalogue: a look-alike PKI's file is refused, and nothing is added.
    stand_in = TrustStore.from_certificates(
        [test_pki.ca("ACR-EL").certificate], environment="test", catalogue=test_pki.published_cas()
    )
    with pytest.raises(InvalidInput) as caught:
        stand_in.with_published_cas(fort(other))
    assert len(caught.value.report.findings) == 2  # the intermediate's key, and the root with nothing it issued
    assert all(f.code == "MSS-PKI-024" for f in caught.value.report.findings)


def test_a_key_identifier_written_to_match_is_not_enough(test_pki: TestPki) -> None:
    # A certificate that writes the pinned identifier in its SKI but holds another key: the key is what counts.
    real = test_pki.ca("ACI-FO-PER")
    forged_key = test_pki.ca("ACI-EL-ORG").certificate.public_key()
    assert isinstance(forged_key, rsa.RSAPublicKey)
    forged = issue(
        real.certificate,
        ca_pair(test_pki, "ACR-FO"),
        public_key=forged_key,
        replace=(x509.SubjectKeyIdentifier(real.key_identifier),),
    )
    stand_in = TrustStore.from_certificates(
        [test_pki.ca("ACR-EL").certificate], environment="test", catalogue=test_pki.published_cas()
    )
    with pytest.raises(InvalidInput, match="not the ACI-FO-PP-TEST"):
        stand_in.with_published_cas([test_pki.ca("ACR-FO").certificate, forged])


def test_a_root_without_a_pin_is_taken_only_with_a_pinned_ca_it_issued(
    test_pki: TestPki, other: TestPki, elementaire: TrustStore
) -> None:
    with pytest.raises(InvalidInput, match="has no pin of its own") as caught:
        elementaire.with_published_cas(fort(test_pki)[:1])
    assert "ACI-FO-PP-TEST" in caught.value.report.findings[0].message
    # Another root of the same name did not issue the pinned CA: refused, whatever the name says.
    with pytest.raises(InvalidInput, match="has no pin of its own"):
        elementaire.with_published_cas([other.ca("ACR-FO").certificate, test_pki.ca("ACI-FO-PER").certificate])


def test_a_downloaded_root_is_trusted_only_through_the_pinned_ca(
    test_pki: TestPki, other: TestPki, elementaire: TrustStore
) -> None:
    # A forged root (the look-alike's) that re-signed the genuine FORT PERSONNES key: both pass their checks...
    genuine = test_pki.ca("ACI-FO-PER").certificate
    resigned = issue(genuine, ca_pair(other, "ACR-FO"))
    store = elementaire.with_published_cas([other.ca("ACR-FO").certificate, resigned])
    crls = RevocationChecker(crls=[test_pki.crl("ACI-FO-PER"), other.crl("ACR-FO"), other.crl("ACI-FO-PER")])
    # ...and only what the genuine key signed validates: the forged root's own CAs and leaves do not.
    assert card_check(test_pki.person(), store, crls).ok
    through_its_own_ca = card_check(other.person(), store, crls, intermediates=[other.ca("ACI-FO-PER").certificate])
    assert len(through_its_own_ca.chain) == 3
    refusal = next(f for f in through_its_own_ca.report.errors if f.code == "MSS-PKI-017")
    assert refusal.message.startswith(
        "the chain ends at TEST AC RACINE IGC-SANTE FORT, added without a pin of its own: it is trusted only "
        "through ACI-FO-PP-TEST"
    )
    direct = card_check(other.person(issuer="ACR-FO"), store, crls)
    assert "MSS-PKI-017" in codes(direct)


def test_what_a_store_refuses_to_add(test_pki: TestPki, prod_pki: TestPki, elementaire: TrustStore) -> None:
    card = test_pki.person().certificate
    production_ca = prod_pki.ca("ACI-EL-ORG").certificate
    with pytest.raises(InvalidInput) as caught:
        elementaire.with_published_cas([card, production_ca])
    messages = [f.message for f in caught.value.report.findings]  # every refusal, not the first
    assert len(messages) == 2
    assert "is not a CA certificate" in messages[0]
    assert messages[1].startswith("AC IGC-SANTE ELEMENTAIRE ORGANISATIONS is not an IGC Santé CA of the test")
    assert elementaire.with_published_cas(elementaire.intermediates) == elementaire


def test_the_catalogue_pins_what_mssante_ships() -> None:
    for environment in Environment:
        with pytest.warns(SecurityWarning) if environment is Environment.TEST else contextlib.nullcontext():
            store = TrustStore.bundled(environment)
        shipped = {pki.fingerprint(c): c for c in (*store.anchors, *store.intermediates)}
        entries = [e for e in pki.IGC_SANTE_CAS if e.environment is environment and e.sha256]
        assert {e.sha256 for e in entries} == set(shipped) == set(pki.BUNDLED_FINGERPRINTS[environment].values())
        for entry in entries:
            certificate = shipped[entry.sha256 or ""]
            assert x509.SubjectKeyIdentifier.from_public_key(certificate.public_key()).digest == entry.key_identifier
            name = certificate.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value
            assert name == entry.common_name
        # A store of the roots alone takes the shipped intermediates back, checked by fingerprint.
        roots = TrustStore(environment=environment, anchors=store.anchors)
        assert roots.with_published_cas(store.intermediates).intermediates == store.intermediates
    fort_personnes = next(e for e in pki.IGC_SANTE_CAS if e.name == "ACI-FO-PP-TEST")
    assert fort_personnes.key_identifier == bytes.fromhex(ANS_KEY_ID.replace(":", ""))
    assert fort_personnes.url == ANS_FORT_PERSONNES


def test_a_card_signature_certificate_is_classified_and_refused_for_its_usage(
    test_pki: TestPki, elementaire: TrustStore
) -> None:
    signature = test_pki.person(usage="sign")
    for store in (elementaire, elementaire.with_published_cas(fort(test_pki))):
        result = card_check(signature, store)
        assert result.profile is Profile.CPS_SIGN
        errors = codes(result)
        assert "MSS-PKI-025" in errors
        assert "MSS-PKI-013" not in errors  # not a generic mismatch
        assert "MSS-PKI-008" not in errors  # not "no chain"
        usage = next(f for f in result.report.errors if f.code == "MSS-PKI-025")
        assert usage.message == (
            "this is a card's signature certificate (cps-sign: nonRepudiation, emailProtection): it signs messages "
            "and documents and never authenticates TLS; a person check needs a card's authentication certificate "
            "(cps-auth: digitalSignature, clientAuth)"
        )
    assert "MSS-PKI-023" in codes(card_check(signature, elementaire))  # and the missing CA is named

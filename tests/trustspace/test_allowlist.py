"""Decisions of the allow-list: domain, operator certificate, and peer (listed and valid for IGC Santé)."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography import x509

from mssante.pki import Environment, RevocationChecker, TrustStore
from mssante.testing import TestPki
from mssante.trustspace import AllowList, OperatorDn

AT = dt.datetime(2026, 6, 1, 12, tzinfo=dt.timezone.utc)
MIPIH = "CN=medimail-asip.mipih.fr,OU=318310021300028,O=GIP MIPIH,ST=Haute-Garonne (31),C=FR"


def test_a_listed_domain_whatever_its_case(real_list: AllowList) -> None:
    decision = real_list.check_domain("UC-CMP.mssante.fr")
    assert decision.ok
    assert decision.listed
    assert decision.domain == "uc-cmp.mssante.fr"
    assert decision.report.codes == ("MSS-WL-012",)
    assert decision.to_dict()["dns"] == [MIPIH]


def test_domains_outside_mssante_fr_are_listed(real_list: AllowList) -> None:
    assert real_list.check_domain("mssante.apicrypt.org").ok
    operators = real_list.operators("interop-mssante.apicrypt.org")
    assert {dn.common_name for dn in operators} == {
        "mailin.interop-mssante.apicrypt.org",
        "mailin2.interop-mssante.apicrypt.org",
    }


def test_a_domain_with_several_operators(real_list: AllowList) -> None:
    operators = real_list.operators("15-20.mssante.fr")
    assert len(operators) >= 3
    assert any("enovacom" in (dn.common_name or "") for dn in operators)


@pytest.mark.parametrize(
    ("domain", "code"),
    [
        ("unknown.mssante.fr", "MSS-WL-011"),
        ("not a domain", "MSS-WL-016"),
        ("sessad@ase.ditepbeziers.mssante.fr", "MSS-WL-016"),
    ],
    ids=["unlisted", "not-a-domain", "the-malformed-published-entry"],
)
def test_unlisted_or_invalid_domains_are_refused(real_list: AllowList, domain: str, code: str) -> None:
    decision = real_list.check_domain(domain)
    assert not decision.ok
    assert not decision.listed
    assert code in decision.report.codes


def test_operator_dn_is_compared_by_value(real_list: AllowList) -> None:
    variant = "CN=medimail-asip.mipih.fr, OU=318310021300028, O=GIP MIPIH, L=Haute-Garonne(31), C=FR"
    assert real_list.check_operator("uc-cmp.mssante.fr", variant).ok
    assert real_list.check_operator("uc-cmp.mssante.fr", x509.Name.from_rfc4514_string(MIPIH)).ok
    wrong = real_list.check_operator("uc-cmp.mssante.fr", MIPIH.replace("medimail-asip", "other"))
    assert not wrong.ok
    assert "MSS-WL-013" in wrong.report.codes
    garbage = real_list.check_operator("uc-cmp.mssante.fr", "nonsense")
    assert "MSS-WL-017" in garbage.report.codes


def test_an_old_list_carries_a_finding(real_list: AllowList) -> None:
    fresh = real_list.check_domain("uc-cmp.mssante.fr", at=real_list.generated, max_age=dt.timedelta(days=2))
    assert fresh.report.codes == ("MSS-WL-012",)
    stale = real_list.check_domain("uc-cmp.mssante.fr", at=AT, max_age=dt.timedelta(days=2))
    assert stale.report.codes == ("MSS-WL-015", "MSS-WL-012")
    assert stale.ok  # a warning: the decision stands, the operator is told to refresh


@pytest.fixture(scope="module")
def pki() -> TestPki:
    return TestPki.create(environment=Environment.PROD, at=AT)


@pytest.fixture(scope="module")
def peer_setup(pki: TestPki) -> tuple[AllowList, TrustStore, RevocationChecker]:
    server = pki.server(["mx1.operateur.example"], structure="318751275100020", organisation="OPERATEUR")
    dn = OperatorDn.from_name(server.certificate.subject)
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?><ListeBlancheMSSante xmlns="https://listeblanche.mssante.fr/schema">'
        "<DateDeGeneration>2026-06-01T00:00:00Z</DateDeGeneration><ListeDomaines><Domaine>"
        f"<Nom>chu-x.mssante.fr</Nom><Description>CHU X</Description><DNCertificatOperateur>{dn}"
        "</DNCertificatOperateur><ResponsableContact>r</ResponsableContact><SupportContact>s</SupportContact>"
        "<DateMAJ>2026-06-01T00:00:00Z</DateMAJ></Domaine></ListeDomaines></ListeBlancheMSSante>"
    )
    store = TrustStore.from_certificates([*pki.anchors, *pki.intermediates], environment="prod")
    crls = RevocationChecker(crls=[pki.crl("ACI-EL-ORG"), pki.crl("ACR-EL")])
    return AllowList.parse(xml.encode()), store, crls


def test_a_listed_valid_peer_is_authorised_both_ways(
    pki: TestPki, peer_setup: tuple[AllowList, TrustStore, RevocationChecker]
) -> None:
    allow, store, crls = peer_setup
    # The same certificate subject, the listed one: re-issue it with the listed name.
    server = pki.server(["mx1.operateur.example"], structure="318751275100020", organisation="OPERATEUR")
    inbound = allow.authorise_inbound("CHU-X.mssante.fr", server.certificate, store=store, at=AT, revocation=crls)
    assert inbound.ok, inbound.report
    assert inbound.certificate is not None
    outbound = allow.authorise_outbound(
        "chu-x.mssante.fr", server.certificate, host="mx1.operateur.example", store=store, at=AT, revocation=crls
    )
    assert outbound.ok, outbound.report


def test_a_valid_certificate_not_listed_for_the_domain_is_refused(
    pki: TestPki, peer_setup: tuple[AllowList, TrustStore, RevocationChecker]
) -> None:
    allow, store, crls = peer_setup
    other = pki.server(["mx9.autre.example"], organisation="AUTRE")
    decision = allow.authorise_inbound("chu-x.mssante.fr", other.certificate, store=store, at=AT, revocation=crls)
    assert not decision.ok
    assert "MSS-WL-013" in decision.report.codes
    assert decision.certificate is not None
    assert decision.certificate.ok  # the certificate itself is fine: the list says no


def test_a_listed_subject_with_an_invalid_certificate_is_refused(
    pki: TestPki, peer_setup: tuple[AllowList, TrustStore, RevocationChecker]
) -> None:
    allow, store, crls = peer_setup
    expired = pki.server(["mx1.operateur.example"], structure="318751275100020", organisation="OPERATEUR", expired=True)
    decision = allow.authorise_outbound(
        "chu-x.mssante.fr", expired.certificate, host="mx1.operateur.example", store=store, at=AT, revocation=crls
    )
    assert not decision.ok
    assert "MSS-WL-014" in decision.report.codes  # listed...
    assert "MSS-PKI-007" in decision.report.codes  # ...but expired
    assert any(f.where.startswith("certificate") for f in decision.report.findings)


def test_a_peer_for_an_unlisted_domain_is_refused(
    pki: TestPki, peer_setup: tuple[AllowList, TrustStore, RevocationChecker]
) -> None:
    allow, store, crls = peer_setup
    server = pki.server(["mx1.operateur.example"], structure="318751275100020", organisation="OPERATEUR")
    decision = allow.authorise_inbound("other.mssante.fr", server.certificate, store=store, at=AT, revocation=crls)
    assert "MSS-WL-011" in decision.report.codes
    assert not decision.ok

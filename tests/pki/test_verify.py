"""verify(): every profile and every defect of the test PKI, each validating or failing as it should."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import ExtendedKeyUsageOID, ExtensionOID

from mssante import pki
from mssante.errors import InvalidInput, SecurityWarning
from mssante.identifiers import IdNatStruct, Idnps
from mssante.pki import CertStatus, IdentityKind, Profile, Purpose, RevocationChecker, TrustStore
from mssante.testing import IssuedCertificate, TestPki
from tests.pki.conftest import AT, store_of


def check(
    issued: IssuedCertificate,
    store: TrustStore,
    revocation: RevocationChecker,
    purpose: str = "server",
    host: str | None = "mss.example.org",
    at: dt.datetime = AT,
) -> pki.CertificateReport:
    return pki.verify(issued.certificate, purpose=purpose, store=store, at=at, host=host, revocation=revocation)


def errors(result: pki.CertificateReport) -> set[str]:
    return {finding.code for finding in result.report.errors}


def test_operator_server_certificate_is_accepted(
    prod_pki: TestPki, prod_store: TrustStore, fresh_crls: RevocationChecker
) -> None:
    issued = prod_pki.server(["mss.example.org", "mss2.example.org"], structure="318751275100020")
    result = check(issued, prod_store, fresh_crls)
    assert result.ok, result.report
    assert result.profile is Profile.SERV_SSL
    assert [c.subject for c in result.chain] == [c.subject for c in (*issued.chain, issued.anchor)]
    assert [r.status for r in result.revocation] == [CertStatus.GOOD, CertStatus.GOOD]
    assert "MSS-PKI-014" in result.report.codes
    identity = result.identity
    assert identity.kind is IdentityKind.SERVER
    assert identity.structure == IdNatStruct(value="318751275100020")
    assert identity.fqdns == ("mss.example.org", "mss2.example.org")
    data = result.to_dict()
    assert data["ok"] is True
    assert data["profile"] == "serv-ssl"
    assert data["chain"][0] == issued.certificate.subject.rfc4514_string()


def test_server_certificate_also_serves_as_client(
    prod_pki: TestPki, prod_store: TrustStore, fresh_crls: RevocationChecker
) -> None:
    result = check(prod_pki.server(), prod_store, fresh_crls, purpose="client", host=None)
    assert result.ok, result.report


def test_second_name_of_the_server_matches(
    prod_pki: TestPki, prod_store: TrustStore, fresh_crls: RevocationChecker
) -> None:
    issued = prod_pki.server(["mx1.example.org", "mx2.example.org"])
    assert check(issued, prod_store, fresh_crls, host="MX2.example.org").ok


@pytest.mark.parametrize(
    ("host", "code"),
    [("other.example.org", "MSS-PKI-010"), (None, "MSS-PKI-018"), ("", "MSS-PKI-018"), ("bad host", "MSS-PKI-010")],
    ids=["wrong-host", "no-host", "empty-host", "not-a-host-name"],
)
def test_server_host_name_is_required_and_checked(
    prod_pki: TestPki, prod_store: TrustStore, fresh_crls: RevocationChecker, host: str | None, code: str
) -> None:
    result = check(prod_pki.server(["mss.example.org"]), prod_store, fresh_crls, host=host)
    assert code in errors(result)
    assert not result.ok


@pytest.mark.parametrize(
    ("variant", "code"),
    [
        ({"expired": True}, "MSS-PKI-007"),
        ({"not_yet_valid": True}, "MSS-PKI-006"),
        ({"unknown_critical_extension": True}, "MSS-PKI-005"),
        ({"signature_hash": hashes.SHA1()}, "MSS-PKI-003"),
        ({"eku": [ExtendedKeyUsageOID.CLIENT_AUTH]}, "MSS-PKI-011"),
        ({"san": []}, "MSS-PKI-010"),
    ],
    ids=["expired", "not-yet-valid", "unknown-critical-extension", "sha1", "client-auth-only", "no-dns-name"],
)
def test_each_server_defect_has_its_code(
    prod_pki: TestPki, prod_store: TrustStore, fresh_crls: RevocationChecker, variant: dict[str, object], code: str
) -> None:
    issued = prod_pki.server(["mss.example.org"], **variant)  # type: ignore[arg-type]
    result = check(issued, prod_store, fresh_crls)
    assert not result.ok
    assert code in errors(result), result.report


def test_expiry_is_said_once(prod_pki: TestPki, prod_store: TrustStore, fresh_crls: RevocationChecker) -> None:
    result = check(prod_pki.server(expired=True), prod_store, fresh_crls)
    assert [f.code for f in result.report.errors].count("MSS-PKI-007") == 1
    assert "MSS-PKI-017" not in errors(result)


def test_wrong_eku_also_fails_the_profile(
    prod_pki: TestPki, prod_store: TrustStore, fresh_crls: RevocationChecker
) -> None:
    result = check(prod_pki.server(eku=[ExtendedKeyUsageOID.CLIENT_AUTH]), prod_store, fresh_crls)
    mismatch = next(f for f in result.report.errors if f.code == "MSS-PKI-013")
    assert "serverAuth" in mismatch.message


def test_server_issued_by_a_personnes_ca_is_not_serv_ssl(
    prod_pki: TestPki, prod_store: TrustStore, fresh_crls: RevocationChecker
) -> None:
    result = check(prod_pki.server(issuer="ACI-EL-PER"), prod_store, fresh_crls)
    assert "MSS-PKI-013" in errors(result)
    assert "ELEMENTAIRE ORGANISATIONS" in str(result.report)


def test_test_certificate_in_production_and_the_reverse(
    prod_pki: TestPki, test_pki: TestPki, prod_store: TrustStore, fresh_crls: RevocationChecker
) -> None:
    result = check(test_pki.server(), prod_store, fresh_crls)
    assert errors(result) >= {"MSS-PKI-009"}
    assert result.chain == ()
    test_store = store_of(test_pki)
    reverse = check(prod_pki.server(), test_store, fresh_crls)
    assert "MSS-PKI-009" in errors(reverse)
    assert "MSS-PKI-021" in reverse.report.codes  # a TEST store always says so


def test_test_anchors_put_in_a_production_store_do_not_make_a_production_identity(test_pki: TestPki) -> None:
    mixed = TrustStore.from_certificates([*test_pki.anchors, *test_pki.intermediates], environment="prod")
    checker = RevocationChecker(crls=[test_pki.crl("ACI-EL-ORG"), test_pki.crl("ACR-EL")])
    result = check(test_pki.server(), mixed, checker)
    assert len(result.chain) == 3  # the path is built...
    assert "MSS-PKI-009" in errors(result)  # ...and refused: it ends at a TEST anchor
    assert not result.ok


def test_test_hierarchy_validates_in_a_test_store_with_a_warning(test_pki: TestPki) -> None:
    checker = RevocationChecker(crls=[test_pki.crl("ACI-EL-ORG"), test_pki.crl("ACR-EL")])
    result = check(test_pki.server(), store_of(test_pki), checker)
    assert result.ok, result.report
    assert "MSS-PKI-021" in [f.code for f in result.report.warnings]


def test_missing_intermediate_then_given(
    prod_pki: TestPki, prod_store: TrustStore, fresh_crls: RevocationChecker
) -> None:
    issued = prod_pki.server()
    roots_only = TrustStore(environment=prod_store.environment, anchors=prod_store.anchors)
    result = check(issued, roots_only, fresh_crls)
    assert errors(result) >= {"MSS-PKI-008"}
    given = pki.verify(
        issued.certificate, purpose="server", store=roots_only, at=AT, host="mss.example.org",
        intermediates=issued.intermediates, revocation=fresh_crls,
    )  # fmt: skip
    assert given.ok, given.report


def test_bundled_production_anchors_refuse_a_look_alike_hierarchy(
    prod_pki: TestPki, fresh_crls: RevocationChecker
) -> None:
    # Same names as the real IGC Santé CAs, other keys: matched by key, never by name.
    result = check(prod_pki.server(), TrustStore.bundled("prod"), fresh_crls)
    assert "MSS-PKI-008" in errors(result)


def test_revoked_server_is_refused(prod_pki: TestPki, prod_store: TrustStore) -> None:
    issued = prod_pki.server()
    checker = RevocationChecker(crls=[prod_pki.crl("ACI-EL-ORG", revoked=[issued]), prod_pki.crl("ACR-EL")])
    result = check(issued, prod_store, checker)
    assert not result.ok
    assert result.revocation[0].status is CertStatus.REVOKED


def test_revoked_intermediate_is_refused(prod_pki: TestPki, prod_store: TrustStore) -> None:
    issued = prod_pki.server()
    intermediate = prod_pki.ca("ACI-EL-ORG").certificate
    checker = RevocationChecker(crls=[prod_pki.crl("ACI-EL-ORG"), prod_pki.crl("ACR-EL", revoked=[intermediate])])
    result = check(issued, prod_store, checker)
    assert not result.ok
    assert [r.status for r in result.revocation] == [CertStatus.GOOD, CertStatus.REVOKED]


def test_ocsp_proves_good_status(prod_pki: TestPki, prod_store: TrustStore) -> None:
    issued = prod_pki.server()
    checker = RevocationChecker(ocsp_responses=[prod_pki.ocsp_response(issued)], crls=[prod_pki.crl("ACR-EL")])
    result = check(issued, prod_store, checker)
    assert result.ok, result.report
    assert result.revocation[0].source == "ocsp"


def test_revocation_is_hard_by_default(prod_pki: TestPki, prod_store: TrustStore) -> None:
    issued = prod_pki.server()
    result = pki.verify(issued.certificate, purpose="server", store=prod_store, at=AT, host="mss.example.org")
    assert not result.ok
    assert [r.status for r in result.revocation] == [CertStatus.UNKNOWN, CertStatus.UNKNOWN]


@pytest.mark.parametrize("mode", ["soft", "off"])
def test_weaker_revocation_modes_warn(prod_pki: TestPki, prod_store: TrustStore, mode: str) -> None:
    issued = prod_pki.server()
    with pytest.warns(SecurityWarning):
        result = pki.verify(
            issued.certificate, purpose="server", store=prod_store, at=AT, host="mss.example.org", revocation=mode
        )
    assert result.ok, result.report


def test_organisation_certificate(prod_pki: TestPki, prod_store: TrustStore, fresh_crls: RevocationChecker) -> None:
    issued = prod_pki.organisation("EMA", usage="auth", structure="1540002698", organisation="CHU EXEMPLE")
    result = check(issued, prod_store, fresh_crls, purpose="organisation", host=None)
    assert result.ok, result.report
    assert result.profile is Profile.ORG_AUTH_CLI
    assert result.identity.kind is IdentityKind.ORGANISATION
    assert result.identity.structure == IdNatStruct(value="1540002698")
    assert result.identity.to_dict()["type"] == "idnst"
    # It is not an operator's server: no DNS name, no serverAuth.
    as_server = check(issued, prod_store, fresh_crls, purpose="server")
    assert {"MSS-PKI-011", "MSS-PKI-013"} <= errors(as_server)
    as_client = check(issued, prod_store, fresh_crls, purpose="client", host=None)
    assert "MSS-PKI-013" in errors(as_client)


@pytest.mark.parametrize(("usage", "profile"), [("sign", Profile.ORG_SIGN), ("conf", Profile.ORG_CONF)])
def test_organisation_signature_and_encryption_certificates_are_not_tls_clients(
    prod_pki: TestPki, prod_store: TrustStore, fresh_crls: RevocationChecker, usage: str, profile: Profile
) -> None:
    issued = prod_pki.organisation(usage=usage)  # type: ignore[arg-type]
    result = check(issued, prod_store, fresh_crls, purpose="organisation", host=None)
    assert result.profile is profile
    assert {"MSS-PKI-011", "MSS-PKI-025"} <= errors(result)  # a usage that never authenticates TLS
    assert "MSS-PKI-013" not in errors(result)


def test_person_authentication_certificate(
    prod_pki: TestPki, prod_store: TrustStore, fresh_crls: RevocationChecker
) -> None:
    issued = prod_pki.person("810000001916", given_name="CAMILLE", surname="DUPONT", profession=10)
    result = check(issued, prod_store, fresh_crls, purpose="person", host=None)
    assert result.ok, result.report
    assert result.profile is Profile.CPS_AUTH
    identity = result.identity
    assert identity.kind is IdentityKind.PERSON
    assert identity.person == Idnps(value="810000001916")
    assert identity.person.rpps is not None
    assert identity.profession == 10
    assert identity.name == "CAMILLE DUPONT"
    assert identity.to_dict() == {
        "kind": "person", "type": "idnps", "value": "810000001916", "name": "CAMILLE DUPONT", "profession": 10,
        "organisation": None, "structure": None, "fqdns": [],
    }  # fmt: skip


def test_person_with_adeli(prod_pki: TestPki, prod_store: TrustStore, fresh_crls: RevocationChecker) -> None:
    issued = prod_pki.person("00B6087510", given_name="OLIVIER", surname="INFIRMCS ADELI8751", profession=60)
    result = check(issued, prod_store, fresh_crls, purpose="person", host=None)
    assert result.ok, result.report
    assert result.identity.person is not None
    assert result.identity.person.adeli is not None
    assert result.identity.profession == 60


def test_person_signature_certificate_is_not_for_tls(
    prod_pki: TestPki, prod_store: TrustStore, fresh_crls: RevocationChecker
) -> None:
    result = check(prod_pki.person(usage="sign"), prod_store, fresh_crls, purpose="person", host=None)
    assert result.profile is Profile.CPS_SIGN
    assert {"MSS-PKI-011", "MSS-PKI-012", "MSS-PKI-025"} <= errors(result)
    assert "MSS-PKI-013" not in errors(result)
    assert "signs messages and documents and never authenticates TLS" in str(result.report)


def test_person_with_an_invalid_identifier_is_flagged(
    prod_pki: TestPki, prod_store: TrustStore, fresh_crls: RevocationChecker
) -> None:
    issued = prod_pki.person("810000001917")  # wrong RPPS key
    result = check(issued, prod_store, fresh_crls, purpose="person", host=None)
    assert "MSS-PKI-013" in errors(result)
    assert result.identity.person is None


def test_ca_certificate_is_not_a_leaf(prod_pki: TestPki, prod_store: TrustStore, fresh_crls: RevocationChecker) -> None:
    intermediate = prod_pki.ca("ACI-EL-ORG").certificate
    result = pki.verify(intermediate, purpose="client", store=prod_store, at=AT, revocation=fresh_crls)
    assert "MSS-PKI-013" in errors(result)
    assert "CA certificate" in str(result.report)


def test_time_must_be_aware(prod_pki: TestPki, prod_store: TrustStore) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        pki.verify(prod_pki.server().certificate, purpose="server", store=prod_store, at=dt.datetime(2026, 1, 1))


def test_profiles_say_why_they_do_not_match(prod_pki: TestPki) -> None:
    matches = {m.profile: m for m in pki.match_profiles(prod_pki.server().certificate)}
    assert matches[Profile.SERV_SSL].matched
    assert not matches[Profile.ORG_AUTH_CLI].matched
    assert "extended key usage has serverAuth" in matches[Profile.ORG_AUTH_CLI].reasons
    assert any("PERSONNES" in reason for reason in matches[Profile.CPS_AUTH].reasons)


def test_purposes_need_their_profile() -> None:
    assert {purpose.value: purpose.profile.value for purpose in Purpose} == {
        "server": "serv-ssl", "client": "serv-ssl", "organisation": "org-auth-cli", "person": "cps-auth",
    }  # fmt: skip
    assert pki.ca_role(x509.Name.from_rfc4514_string("CN=TEST AC IGC-SANTE FORT PERSONNES,O=ASIP-SANTE")) == (
        pki.CaRole(gamme="FORT", domain="PERSONNES", test=True)
    )


def test_a_certificate_whose_extensions_do_not_parse_is_input_that_cannot_be_read(
    prod_pki: TestPki, prod_store: TrustStore
) -> None:
    broken_key_usage = x509.UnrecognizedExtension(ExtensionOID.KEY_USAGE, b"\x05\x00")
    issued = prod_pki.server(extra_extensions=[(broken_key_usage, True)])
    with pytest.raises(InvalidInput) as caught:
        pki.verify(issued.certificate, purpose="server", store=prod_store, at=AT, host="mss.example.org")
    assert caught.value.report.codes == ("MSS-PKI-004",)


def test_an_expired_intermediate_is_reported_even_when_the_leaf_is_valid(
    prod_pki: TestPki, prod_store: TrustStore, fresh_crls: RevocationChecker
) -> None:
    intermediate = prod_pki.ca("ACI-EL-ORG").certificate
    later = intermediate.not_valid_after_utc + dt.timedelta(days=1)
    issued = prod_pki.server(not_after=later + dt.timedelta(days=30))
    result = check(issued, prod_store, fresh_crls, at=later)
    assert "MSS-PKI-007" not in errors(result)  # the leaf itself is valid then
    (finding,) = [f for f in result.report.errors if f.code == "MSS-PKI-017"]
    assert finding.message.startswith("the issuing CA CN=AC IGC-SANTE ELEMENTAIRE ORGANISATIONS")


def test_a_subject_with_two_ous_has_no_structure_identifier(
    prod_pki: TestPki, prod_store: TrustStore, fresh_crls: RevocationChecker
) -> None:
    unit = x509.NameOID.ORGANIZATIONAL_UNIT_NAME
    subject = x509.Name([
        x509.NameAttribute(x509.NameOID.COUNTRY_NAME, "FR"),
        x509.NameAttribute(x509.NameOID.ORGANIZATION_NAME, "EXEMPLE"),
        x509.NameAttribute(unit, "318751275100020"),
        x509.NameAttribute(unit, "1540002698"),
        x509.NameAttribute(x509.NameOID.COMMON_NAME, "mss.example.org"),
    ])  # fmt: skip
    result = check(prod_pki.server(subject=subject), prod_store, fresh_crls)
    assert result.identity.structure is None
    assert "MSS-PKI-015" in result.report.codes


def test_a_critical_policy_extension_on_a_leaf_is_refused(
    prod_pki: TestPki, prod_store: TrustStore, fresh_crls: RevocationChecker
) -> None:
    policies = x509.CertificatePolicies([x509.PolicyInformation(x509.ObjectIdentifier("1.2.3.4"), None)])
    result = check(prod_pki.server(extra_extensions=[(policies, True)]), prod_store, fresh_crls)
    assert "MSS-PKI-005" in errors(result)


def _test_server(test_pki: TestPki, **variant: object) -> IssuedCertificate:
    return test_pki.server(["mss.example.org"], **variant)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("variant", "host", "expected"),
    [
        ({}, None, {"MSS-PKI-018", "MSS-PKI-009"}),
        ({}, "bad host", {"MSS-PKI-010", "MSS-PKI-009"}),
        ({"expired": True}, "other.example.org", {"MSS-PKI-007", "MSS-PKI-010", "MSS-PKI-009"}),
        ({"not_yet_valid": True}, None, {"MSS-PKI-006", "MSS-PKI-018", "MSS-PKI-009"}),
        ({"unknown_critical_extension": True}, "mss.example.org", {"MSS-PKI-005", "MSS-PKI-009"}),
        ({"signature_hash": hashes.SHA1()}, "mss.example.org", {"MSS-PKI-003", "MSS-PKI-009"}),
    ],
    ids=["no-host", "bad-host", "expired-wrong-host", "not-yet-valid-no-host", "critical-extension", "sha1"],
)
def test_every_problem_is_reported_not_the_first(
    test_pki: TestPki,
    prod_store: TrustStore,
    fresh_crls: RevocationChecker,
    variant: dict[str, object],
    host: str | None,
    expected: set[str],
) -> None:
    # TEST server certificates checked with a production store: the environment is one problem among others.
    result = check(_test_server(test_pki, **variant), prod_store, fresh_crls, host=host)
    assert errors(result) == expected, result.report
    codes = [f.code for f in result.report.errors]
    assert len(codes) == len(set(codes)), result.report  # each said once


def test_a_problem_of_the_path_is_reported_with_the_leaf_s_own(
    prod_pki: TestPki, prod_store: TrustStore, fresh_crls: RevocationChecker
) -> None:
    # The leaf expired, and so had its CA by then: both are said.
    intermediate = prod_pki.ca("ACI-EL-ORG").certificate
    later = intermediate.not_valid_after_utc + dt.timedelta(days=1)
    issued = prod_pki.server(not_after=later - dt.timedelta(hours=1))
    result = check(issued, prod_store, fresh_crls, at=later)
    assert errors(result) == {"MSS-PKI-007", "MSS-PKI-017"}
    assert result.chain == ()
    # A valid path is not a verified chain when the leaf itself is out of time.
    assert check(prod_pki.server(expired=True), prod_store, fresh_crls).chain == ()


def test_a_server_certificate_without_a_host_has_its_chain_judged(
    prod_pki: TestPki, prod_store: TrustStore, fresh_crls: RevocationChecker
) -> None:
    result = check(prod_pki.server(), prod_store, fresh_crls, host=None)
    assert errors(result) == {"MSS-PKI-018"}
    assert len(result.chain) == 3
    assert [r.status for r in result.revocation] == [CertStatus.GOOD, CertStatus.GOOD]


def test_messages_read_as_sentences(prod_pki: TestPki, prod_store: TrustStore, fresh_crls: RevocationChecker) -> None:
    result = check(prod_pki.server(), prod_store, fresh_crls, purpose="organisation", host=None)
    text = str(result.report)
    assert "an organisation certificate is org-auth-cli" in text
    assert "a organisation" not in text
    # Key usages by their RFC 5280 names, not Python's.
    as_client = pki.verify(prod_pki.ca("ACI-EL-ORG").certificate, purpose="client", store=prod_store, at=AT,
                           revocation=fresh_crls)  # fmt: skip
    assert "key usage lacks digitalSignature" in str(as_client.report)
    assert "digital_signature" not in str(as_client.report)

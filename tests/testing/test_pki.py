"""The test PKI: certificates shaped like the real IGC Santé ones, which verify where the real ones do."""

from __future__ import annotations

import inspect
import ipaddress
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Literal

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509 import ocsp
from cryptography.x509 import verification as v
from cryptography.x509.oid import ExtendedKeyUsageOID, ExtensionOID, NameOID

from mssante.identifiers import IdNatStruct, Idnps
from mssante.pki._types import (
    OID_GIP_CPS_2_3,
    OID_PRODUCT_CATEGORY,
    OID_PRODUCT_TYPE,
    OID_PROFESSION,
    TEST_POLICY_OID,
    CertStatus,
    Environment,
)
from mssante.testing import (
    CA_NAMES,
    SYNTHETIC_PROD_POLICY_OID,
    UNKNOWN_EXTENSION_OID,
    IssuedCertificate,
    TestPki,
)
from tests.counting import spy

AT = datetime(2025, 6, 1, 12, 0, tzinfo=timezone.utc)
HOSTS = ["platines.qualif1.henix.asipsante.fr", "platines.qualif2.henix.asipsante.fr"]
ANY_POLICY = x509.ObjectIdentifier("2.5.29.32.0")
OCSP_NOCHECK = x509.ObjectIdentifier("1.3.6.1.5.5.7.48.1.5")

# The order of the extensions in the real certificates.
BC, SKI, AKI, KU, CP = "2.5.29.19", "2.5.29.14", "2.5.29.35", "2.5.29.15", "2.5.29.32"
EKU, SAN, PKUP, CRLDP, DELTA, AIA = "2.5.29.37", "2.5.29.17", "2.5.29.16", "2.5.29.31", "2.5.29.46", "1.3.6.1.5.5.7.1.1"
ROOT_ORDER = [BC, KU, CP, SKI, AKI]
INTERMEDIATE_ORDER = [BC, KU, CP, CRLDP, SKI, AKI]
SERVER_ORDER = [BC, SKI, AKI, KU, CP, EKU, SAN, CRLDP, DELTA, AIA, "1.2.250.1.71.1.2.5"]
CPS_SIGN_ORDER = [BC, SKI, AKI, KU, CP, EKU, PKUP, CRLDP, DELTA, AIA, *(f"1.2.250.1.71.1.2.{n}" for n in (5, 2, 3, 7))]

# The subject of a real TEST CPS signature certificate, DER: one multi-valued RDN givenName+CN+surname.
REAL_CPS_SUBJECT = bytes.fromhex(
    "3061310b300906035504061302465231123010060355040c0c09496e6669726d696572313e300e060355042a0c074f4c4956494552"
    "301106035504030c0a30304236303837353130301906035504040c12494e4649524d4353204144454c4938373531"
)

# The subjects of the real production ACR-EL and TEST ACI-EL-ORG, DER (C PrintableString, the others UTF8String).
REAL_ACR_EL_SUBJECT = bytes.fromhex(
    "3079310b300906035504061302465231133011060355040a0c0a415349502d53414e544531173015060355040b0c0e3030303220313837"
    "35313237353131123010060355040b0c094947432d53414e54453128302606035504030c1f414320524143494e45204947432d53414e54"
    "4520454c454d454e5441495245"
)
REAL_TEST_ACI_EL_ORG_SUBJECT = bytes.fromhex(
    "30818a310b300906035504061302465231133011060355040a0c0a415349502d53414e544531173015060355040b0c0e30303032203138"
    "3735313237353131173015060355040b0c0e4947432d53414e544520544553543134303206035504030c2b54455354204143204947432d"
    "53414e544520454c454d454e5441495245204f5247414e49534154494f4e53"
)

CA_SUBJECTS = {
    "ACR-EL": "AC RACINE IGC-SANTE ELEMENTAIRE",
    "ACI-EL-ORG": "AC IGC-SANTE ELEMENTAIRE ORGANISATIONS",
    "ACI-EL-PER": "AC IGC-SANTE ELEMENTAIRE PERSONNES",
    "ACR-ST": "AC RACINE IGC-SANTE STANDARD",
    "ACI-ST-ORG": "AC IGC-SANTE STANDARD ORGANISATIONS",
    "ACI-ST-PER": "AC IGC-SANTE STANDARD PERSONNES",
    "ACR-FO": "AC RACINE IGC-SANTE FORT",
    "ACI-FO-ORG": "AC IGC-SANTE FORT ORGANISATIONS",
    "ACI-FO-PER": "AC IGC-SANTE FORT PERSONNES",
}
PARENTS = {name: "ACR-" + name.split("-")[1] for name in CA_SUBJECTS if name.startswith("ACI-")}


@pytest.fixture(scope="module")
def pki() -> TestPki:
    return TestPki.create(environment=Environment.TEST, at=AT)


@pytest.fixture(scope="module")
def prod() -> TestPki:
    return TestPki.create(environment=Environment.PROD, at=AT)


@pytest.fixture(scope="module")
def server(pki: TestPki) -> IssuedCertificate:
    return pki.server(HOSTS)


def oids(certificate: x509.Certificate) -> list[str]:
    return [extension.oid.dotted_string for extension in certificate.extensions]


def value(certificate: x509.Certificate, oid: x509.ObjectIdentifier | str) -> x509.ExtensionType:
    wanted = oid if isinstance(oid, x509.ObjectIdentifier) else x509.ObjectIdentifier(oid)
    return certificate.extensions.get_extension_for_oid(wanted).value


def critical(certificate: x509.Certificate) -> set[str]:
    return {extension.oid.dotted_string for extension in certificate.extensions if extension.critical}


def aki(certificate: x509.Certificate) -> bytes | None:
    return certificate.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier


def differences(left: x509.Certificate, right: x509.Certificate) -> set[str]:
    """The extension OIDs whose presence, value or criticality differ (the key identifiers aside)."""
    first = {e.oid.dotted_string: (e.critical, e.value) for e in left.extensions if e.oid.dotted_string != SKI}
    second = {e.oid.dotted_string: (e.critical, e.value) for e in right.extensions if e.oid.dotted_string != SKI}
    return {oid for oid in first.keys() | second.keys() if first.get(oid) != second.get(oid)}


def period_of(certificate: x509.Certificate) -> tuple[datetime | None, datetime | None]:
    period = value(certificate, PKUP)
    assert isinstance(period, x509.PrivateKeyUsagePeriod)
    return period.not_before, period.not_after  # naive UTC, as cryptography reads them


def validity(certificate: x509.Certificate) -> tuple[datetime, datetime]:
    return certificate.not_valid_before_utc.replace(tzinfo=None), certificate.not_valid_after_utc.replace(tzinfo=None)


def uris(extension: x509.ExtensionType) -> list[str]:
    assert isinstance(extension, (x509.CRLDistributionPoints, x509.FreshestCRL))
    return [str(name.value) for point in extension for name in point.full_name or ()]


def ca_subject(name: str, environment: Environment) -> str:
    if environment is Environment.TEST:
        return f"CN=TEST {CA_SUBJECTS[name]},OU=IGC-SANTE TEST,OU=0002 187512751,O=ASIP-SANTE,C=FR"
    return f"CN={CA_SUBJECTS[name]},OU=IGC-SANTE,OU=0002 187512751,O=ASIP-SANTE,C=FR"


def verifier(pki: TestPki, ee_policy: v.ExtensionPolicy | None = None) -> v.PolicyBuilder:
    builder = v.PolicyBuilder().store(v.Store(pki.anchors)).time(AT)
    if ee_policy is not None:
        builder = builder.extension_policies(ca_policy=v.ExtensionPolicy.webpki_defaults_ca(), ee_policy=ee_policy)
    return builder


# --- the hierarchy -------------------------------------------------------------------------------------


def test_the_pki_is_not_collected_as_a_test_class() -> None:
    assert TestPki.__test__ is False


def test_at_must_be_timezone_aware() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        TestPki.create(at=datetime(2025, 6, 1))


def test_at_is_kept_in_utc() -> None:
    paris = timezone(timedelta(hours=2))
    assert TestPki.create(at=datetime(2025, 6, 1, 14, 0, 0, 123, tzinfo=paris)).at == AT


def test_ca_subjects_are_encoded_as_the_real_ones(pki: TestPki, prod: TestPki) -> None:
    assert prod.ca("ACR-EL").certificate.subject.public_bytes() == REAL_ACR_EL_SUBJECT
    assert pki.ca("ACI-EL-ORG").certificate.subject.public_bytes() == REAL_TEST_ACI_EL_ORG_SUBJECT


def test_ca_names() -> None:
    assert tuple(CA_SUBJECTS) == CA_NAMES


@pytest.mark.parametrize("environment", list(Environment))
@pytest.mark.parametrize("name", list(CA_SUBJECTS))
def test_ca_subjects(name: str, environment: Environment, pki: TestPki, prod: TestPki) -> None:
    authority = (pki if environment is Environment.TEST else prod).ca(name)
    assert authority.name == name
    assert authority.certificate.subject.rfc4514_string() == ca_subject(name, environment)


@pytest.mark.parametrize("environment", list(Environment))
@pytest.mark.parametrize("name", ["ACR-EL", "ACR-ST", "ACR-FO"])
def test_roots(name: str, environment: Environment, pki: TestPki, prod: TestPki) -> None:
    the_pki = pki if environment is Environment.TEST else prod
    authority = the_pki.ca(name)
    root = authority.certificate
    assert authority.is_root
    assert authority.root is authority
    assert authority.path == ()
    assert oids(root) == ROOT_ORDER
    assert critical(root) == {BC, KU}
    assert value(root, BC).public_bytes() == bytes.fromhex("30030101ff")  # CA, no pathLen
    assert value(root, KU).public_bytes() == bytes.fromhex("03020106")  # keyCertSign, cRLSign
    cps = "http://igc-sante.esante.gouv.fr/PC" + ("%20TEST" if environment is Environment.TEST else "")
    assert value(root, CP) == x509.CertificatePolicies([x509.PolicyInformation(ANY_POLICY, [cps])])
    ski = x509.SubjectKeyIdentifier.from_public_key(root.public_key())
    assert value(root, SKI) == ski
    assert value(root, AKI) == x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski)
    root.verify_directly_issued_by(root)
    assert root.issuer == root.subject
    assert root.not_valid_before_utc == datetime(2020, 6, 1, tzinfo=timezone.utc)
    assert root.not_valid_after_utc == datetime(2040, 6, 1, tzinfo=timezone.utc)
    assert root.serial_number >> 128 == 0x1120
    assert isinstance(root.signature_hash_algorithm, hashes.SHA256)
    public_key = root.public_key()
    assert isinstance(public_key, rsa.RSAPublicKey)
    assert public_key.key_size == 2048


@pytest.mark.parametrize("environment", list(Environment))
@pytest.mark.parametrize("name", list(PARENTS))
def test_intermediates(name: str, environment: Environment, pki: TestPki, prod: TestPki) -> None:
    the_pki = pki if environment is Environment.TEST else prod
    authority, parent = the_pki.ca(name), the_pki.ca(PARENTS[name])
    certificate = authority.certificate
    assert authority.parent is parent
    assert authority.root is parent
    assert authority.path == (certificate,)
    assert oids(certificate) == INTERMEDIATE_ORDER
    assert critical(certificate) == {BC, KU}
    assert value(certificate, BC).public_bytes() == bytes.fromhex("30060101ff020100")  # CA, pathLen 0
    assert value(certificate, KU).public_bytes() == bytes.fromhex("03020106")
    test = environment is Environment.TEST
    root_cn = CA_SUBJECTS[PARENTS[name]].replace(" ", "%20")
    assert uris(value(certificate, CRLDP)) == [
        f"http://igc-sante.esante.gouv.fr/CRL/{PARENTS[name]}{'-TEST' if test else ''}.crl",
        f"ldap://annuaire-igc.esante.gouv.fr/CN={'TEST%20' if test else ''}{root_cn},"
        f"OU=IGC-SANTE{'%20TEST' if test else ''},OU=0002%20187512751,O=ASIP-SANTE,C=FR"
        "?certificaterevocationlist;binary?base?objectclass=pkiCa",
    ]
    assert value(certificate, AKI) == x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(
        x509.SubjectKeyIdentifier.from_public_key(parent.certificate.public_key())
    )
    certificate.verify_directly_issued_by(parent.certificate)
    assert certificate.not_valid_before_utc == parent.certificate.not_valid_before_utc
    assert certificate.not_valid_after_utc == parent.certificate.not_valid_after_utc - timedelta(days=1)


def test_the_real_production_crl_urls(prod: TestPki) -> None:
    authority = prod.ca("ACI-EL-ORG")
    assert uris(value(authority.certificate, CRLDP))[0] == "http://igc-sante.esante.gouv.fr/CRL/ACR-EL.crl"
    assert authority.crl_url == "http://igc-sante.esante.gouv.fr/CRL/ACI-EL-ORG.crl"
    assert authority.ca_issuers_url == "http://igc-sante.esante.gouv.fr/AC/ACI-EL-ORG.cer"


def test_anchors_and_intermediates(pki: TestPki) -> None:
    assert [c.subject.rfc4514_string() for c in pki.anchors] == [
        ca_subject(name, Environment.TEST) for name in ("ACR-EL", "ACR-ST", "ACR-FO")
    ]
    assert [c.subject.rfc4514_string() for c in pki.intermediates] == [
        ca_subject(name, Environment.TEST) for name in PARENTS
    ]


def test_published_cas_stand_in_for_the_real_catalogue(pki: TestPki, prod: TestPki) -> None:
    from mssante.pki import IGC_SANTE_CAS  # noqa: PLC0415

    for testing in (pki, prod):
        real = [entry for entry in IGC_SANTE_CAS if entry.environment is testing.environment]
        stand_in = testing.published_cas()
        assert [(e.common_name, e.issuer) for e in stand_in] == [(e.common_name, e.issuer) for e in real]
        for mine, theirs in zip(stand_in, real, strict=True):
            assert (mine.sha256 is None, mine.key_identifier is None) == (
                theirs.sha256 is None,
                theirs.key_identifier is None,
            )
            authority = next(
                a
                for a in (*testing.anchors, *testing.intermediates)
                if a.subject.rfc4514_string().startswith(f"CN={mine.common_name},")
            )
            if mine.sha256:
                assert mine.sha256 == authority.fingerprint(hashes.SHA256()).hex()
            if mine.key_identifier:
                assert mine.key_identifier == x509.SubjectKeyIdentifier.from_public_key(authority.public_key()).digest
            assert mine.url is not None
            assert mine.url.endswith(f"/{mine.name}.cer")
    fort = {e.name: e for e in pki.published_cas() if "FORT" in e.common_name}
    assert fort["ACI-FO-PP-TEST"].url == "http://igc-sante.esante.gouv.fr/AC%20TEST/ACI-FO-PP-TEST.cer"
    assert fort["ACI-FO-PP-TEST"].key_identifier == pki.ca("ACI-FO-PER").key_identifier
    assert not fort["ACR-FO-TEST"].pinned  # as ANS's: nothing published names the root's key


def test_cas_are_made_once(pki: TestPki) -> None:
    assert pki.ca("ACI-EL-ORG") is pki.ca("ACI-EL-ORG")


def test_unknown_ca() -> None:
    with pytest.raises(ValueError, match="unknown CA 'ACI-XX'"):
        TestPki.create(at=AT).ca("ACI-XX")


def test_environments_and_instances_have_their_own_keys(pki: TestPki, prod: TestPki) -> None:
    other = TestPki.create(environment=Environment.TEST, at=AT)
    keys = {the_pki.ca("ACR-EL").key.public_key().public_numbers().n for the_pki in (pki, prod, other)}
    assert len(keys) == 3
    assert other.ca("ACR-EL").certificate.subject == pki.ca("ACR-EL").certificate.subject


# --- SERV SSL ------------------------------------------------------------------------------------------


def test_server_has_the_real_shape(pki: TestPki, server: IssuedCertificate) -> None:
    certificate = server.certificate
    assert certificate.subject.rfc4514_string() == (
        "CN=platines.qualif1.henix.asipsante.fr,OU=318751275100020,O=ASIP-SANTE,ST=Paris (75),C=FR"
    )
    assert certificate.issuer == pki.ca("ACI-EL-ORG").certificate.subject
    assert oids(certificate) == SERVER_ORDER
    assert critical(certificate) == {KU}
    assert value(certificate, BC) == x509.BasicConstraints(ca=False, path_length=None)
    assert value(certificate, KU).public_bytes() == bytes.fromhex("030205a0")  # digitalSignature, keyEncipherment
    assert value(certificate, EKU) == x509.ExtendedKeyUsage(
        [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
    )
    assert value(certificate, SAN) == x509.SubjectAlternativeName([x509.DNSName(host) for host in HOSTS])
    assert value(certificate, CP) == x509.CertificatePolicies(
        [x509.PolicyInformation(TEST_POLICY_OID, ["http://igc-sante.esante.gouv.fr/PC%20TEST"])]
    )
    ldap = (
        "ldap://annuaire-igc.esante.gouv.fr/cn=TEST%20AC%20IGC-SANTE%20ELEMENTAIRE%20ORGANISATIONS,"
        "ou=TEST%20AC%20RACINE%20IGC-SANTE%20ELEMENTAIRE,ou=IGC-SANTE%20TEST,ou=0002%20187512751,o=ASIP-SANTE,c=FR"
    )
    assert uris(value(certificate, CRLDP)) == [
        "http://igc-sante.esante.gouv.fr/CRL/ACI-EL-ORG-TEST.crl",
        f"{ldap}?certificaterevocationlist;binary?base?objectClass=pkiCA",
    ]
    assert uris(value(certificate, DELTA)) == [f"{ldap}?deltarevocationlist;binary?base?objectClass=pkiCA"]
    assert value(certificate, AIA) == x509.AuthorityInformationAccess(
        [
            x509.AccessDescription(
                x509.oid.AuthorityInformationAccessOID.OCSP,
                x509.UniformResourceIdentifier("http://ocsp.esante.gouv.fr"),
            ),
            x509.AccessDescription(
                x509.oid.AuthorityInformationAccessOID.CA_ISSUERS,
                x509.UniformResourceIdentifier("http://igc-sante.esante.gouv.fr/AC%20TEST/ACI-EL-ORG-TEST.cer"),
            ),
        ]
    )
    assert value(certificate, OID_PRODUCT_CATEGORY) == x509.UnrecognizedExtension(OID_PRODUCT_CATEGORY, b"\x04\x01\x83")
    assert value(certificate, SKI) == x509.SubjectKeyIdentifier.from_public_key(certificate.public_key())
    assert aki(certificate) == pki.ca("ACI-EL-ORG").key_identifier
    assert certificate.not_valid_before_utc == AT - timedelta(days=30)
    assert certificate.not_valid_after_utc == datetime(2028, 5, 2, 12, 0, tzinfo=timezone.utc)
    assert isinstance(certificate.signature_hash_algorithm, hashes.SHA256)
    assert 0 < certificate.serial_number < 2**127
    assert server.key.key_size == 2048
    assert server.chain == (certificate, pki.ca("ACI-EL-ORG").certificate)
    assert server.anchor == pki.ca("ACR-EL").certificate


def test_server_defaults_and_identifiers(pki: TestPki) -> None:
    issued = pki.server(
        "mx.example.org", structure=IdNatStruct.parse("318751275100020"), organisation="GIP", department="Nord (59)"
    )
    assert issued.certificate.subject.rfc4514_string() == (
        "CN=mx.example.org,OU=318751275100020,O=GIP,ST=Nord (59),C=FR"
    )
    assert value(issued.certificate, SAN) == x509.SubjectAlternativeName([x509.DNSName("mx.example.org")])
    with pytest.raises(ValueError, match="at least one FQDN"):
        pki.server([])


def test_production_server(prod: TestPki) -> None:
    certificate = prod.server(HOSTS).certificate
    assert oids(certificate) == SERVER_ORDER
    assert value(certificate, CP) == x509.CertificatePolicies(
        [x509.PolicyInformation(SYNTHETIC_PROD_POLICY_OID, ["http://igc-sante.esante.gouv.fr/PC"])]
    )
    assert uris(value(certificate, CRLDP)) == [
        "http://igc-sante.esante.gouv.fr/CRL/ACI-EL-ORG.crl",
        "ldap://annuaire-igc.esante.gouv.fr/cn=AC%20IGC-SANTE%20ELEMENTAIRE%20ORGANISATIONS,"
        "ou=AC%20RACINE%20IGC-SANTE%20ELEMENTAIRE,ou=IGC-SANTE,ou=0002%20187512751,o=ASIP-SANTE,c=FR"
        "?certificaterevocationlist;binary?base?objectClass=pkiCA",
    ]
    aia = value(certificate, AIA)
    assert isinstance(aia, x509.AuthorityInformationAccess)
    assert [d.access_location.value for d in aia] == [
        "http://ocsp.esante.gouv.fr",
        "http://igc-sante.esante.gouv.fr/AC/ACI-EL-ORG.cer",
    ]


# --- ORG -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("usage", "key_usage", "eku", "usage_period"),
    [
        ("auth", "03020780", ExtendedKeyUsageOID.CLIENT_AUTH, False),  # digitalSignature
        ("sign", "030206c0", ExtendedKeyUsageOID.EMAIL_PROTECTION, True),  # digitalSignature, nonRepudiation
        ("conf", "03020520", ExtendedKeyUsageOID.EMAIL_PROTECTION, False),  # keyEncipherment
    ],
)
def test_organisation(
    usage: Literal["auth", "sign", "conf"], key_usage: str, eku: x509.ObjectIdentifier, usage_period: bool, pki: TestPki
) -> None:
    issued = pki.organisation(
        "EMA",
        usage=usage,
        structure="1750712184",
        organisation="HOPITAL DES 3. DAMES",
    )
    certificate = issued.certificate
    assert certificate.subject.rfc4514_string() == "CN=EMA,OU=1750712184,O=HOPITAL DES 3. DAMES,ST=Paris (75),C=FR"
    assert certificate.issuer == pki.ca("ACI-EL-ORG").certificate.subject
    expected = [BC, SKI, AKI, KU, CP, EKU, *([PKUP] if usage_period else []), CRLDP, DELTA, AIA, "1.2.250.1.71.1.2.5"]
    assert oids(certificate) == expected
    assert SAN not in oids(certificate)
    assert critical(certificate) == {KU}
    assert value(certificate, KU).public_bytes() == bytes.fromhex(key_usage)
    assert value(certificate, EKU) == x509.ExtendedKeyUsage([eku])
    assert value(certificate, OID_PRODUCT_CATEGORY).public_bytes() == b"\x04\x01\x83"
    assert uris(value(certificate, CRLDP))[0] == "http://igc-sante.esante.gouv.fr/CRL/ACI-EL-ORG-TEST.crl"
    if usage_period:
        assert period_of(certificate) == validity(certificate)


def test_organisation_usage_is_checked(pki: TestPki) -> None:
    with pytest.raises(ValueError, match="usage"):
        pki.organisation(usage="ssl")  # type: ignore[arg-type]


# --- CPS -----------------------------------------------------------------------------------------------


def test_cps_signature_certificate_has_the_real_shape(pki: TestPki) -> None:
    issued = pki.person(
        "00B6087510",
        given_name="OLIVIER",
        surname="INFIRMCS ADELI8751",
        profession=60,
        usage="sign",
        extension_2_3="8025000001/2800636234",
    )
    certificate = issued.certificate
    assert certificate.subject.public_bytes() == REAL_CPS_SUBJECT
    assert certificate.subject.rfc4514_string() == (
        "2.5.4.42=OLIVIER+CN=00B6087510+2.5.4.4=INFIRMCS ADELI8751,2.5.4.12=Infirmier,C=FR"
    )
    assert certificate.issuer.rfc4514_string() == ca_subject("ACI-FO-PER", Environment.TEST)
    assert oids(certificate) == CPS_SIGN_ORDER
    assert critical(certificate) == {KU}
    assert value(certificate, KU).public_bytes() == bytes.fromhex("03020640")  # nonRepudiation only
    assert value(certificate, EKU) == x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION])
    assert period_of(certificate) == validity(certificate)
    assert value(certificate, OID_PRODUCT_CATEGORY).public_bytes() == b"\x04\x01\x80"
    assert value(certificate, OID_PRODUCT_TYPE).public_bytes() == b"\x02\x01\x00"
    assert value(certificate, OID_GIP_CPS_2_3).public_bytes() == b"\x13\x158025000001/2800636234"
    assert value(certificate, OID_PROFESSION).public_bytes() == b"\x02\x01\x3c"
    assert uris(value(certificate, CRLDP)) == [
        "http://igc-sante.esante.gouv.fr/CRL/ACI-FO-PP-TEST.crl",
        "ldap://annuaire-igc.esante.gouv.fr/cn=TEST%20AC%20IGC-SANTE%20FORT%20PERSONNES,"
        "ou=TEST%20AC%20RACINE%20IGC-SANTE%20FORT,ou=IGC-SANTE%20TEST,ou=0002%20187512751,o=ASIP-SANTE,c=FR"
        "?certificaterevocationlist;binary?base?objectClass=pkiCA",
    ]
    aia = value(certificate, AIA)
    assert isinstance(aia, x509.AuthorityInformationAccess)
    assert aia[1].access_location.value == "http://igc-sante.esante.gouv.fr/AC%20TEST/ACI-FO-PP-TEST.cer"
    assert issued.chain == (certificate, pki.ca("ACI-FO-PER").certificate)
    assert issued.anchor == pki.ca("ACR-FO").certificate


def test_cps_authentication_certificate(pki: TestPki) -> None:
    certificate = pki.person(Idnps.parse("810000001916"), given_name="JEAN", surname="MARTIN").certificate
    assert certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "810000001916"
    assert certificate.subject.get_attributes_for_oid(NameOID.TITLE)[0].value == "Médecin"
    assert len(certificate.subject.rdns) == 3
    assert len(certificate.subject.rdns[2]) == 3  # givenName + CN + surname in one RDN
    assert value(certificate, KU).public_bytes() == bytes.fromhex("03020780")  # digitalSignature
    assert value(certificate, EKU) == x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH])
    assert PKUP not in oids(certificate)
    assert value(certificate, OID_PROFESSION).public_bytes() == b"\x02\x01\x0a"


@pytest.mark.parametrize(("gamme", "ca"), [("FO", "ACI-FO-PER"), ("ST", "ACI-ST-PER"), ("EL", "ACI-EL-PER")])
def test_cps_gammes(gamme: Literal["FO", "ST", "EL"], ca: str, pki: TestPki) -> None:
    certificate = pki.person(gamme=gamme).certificate
    assert certificate.issuer == pki.ca(ca).certificate.subject
    certificate.verify_directly_issued_by(pki.ca(ca).certificate)


def test_cps_profession_label(pki: TestPki) -> None:
    certificate = pki.person(profession=99, title="Psychologue").certificate
    assert certificate.subject.get_attributes_for_oid(NameOID.TITLE)[0].value == "Psychologue"
    assert value(certificate, OID_PROFESSION).public_bytes() == b"\x02\x01\x63"
    with pytest.raises(ValueError, match="title="):
        pki.person(profession=99)
    with pytest.raises(ValueError, match="usage"):
        pki.person(usage="conf")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="gamme"):
        pki.person(gamme="XX")  # type: ignore[arg-type]


# --- variants: one defect each -------------------------------------------------------------------------


def test_expired_and_not_yet_valid(pki: TestPki, server: IssuedCertificate) -> None:
    expired = pki.server(HOSTS, expired=True).certificate
    assert expired.not_valid_after_utc == AT - timedelta(days=1)
    assert expired.not_valid_before_utc == datetime(2022, 5, 31, 12, 0, tzinfo=timezone.utc)
    early = pki.server(HOSTS, not_yet_valid=True).certificate
    assert early.not_valid_before_utc == AT + timedelta(days=1)
    for certificate in (expired, early):
        assert differences(certificate, server.certificate) == set()


def test_explicit_validity(pki: TestPki) -> None:
    start = datetime(2024, 1, 1, tzinfo=timezone.utc)
    certificate = pki.organisation(usage="sign", not_before=start, not_after=start + timedelta(days=10)).certificate
    assert (certificate.not_valid_before_utc, certificate.not_valid_after_utc) == (start, start + timedelta(days=10))
    assert period_of(certificate) == validity(certificate)
    with pytest.raises(ValueError, match="choose one"):
        pki.server(expired=True, not_yet_valid=True)
    with pytest.raises(ValueError, match="choose one"):
        pki.server(expired=True, not_after=start)
    with pytest.raises(ValueError, match="timezone-aware"):
        pki.server(not_before=datetime(2024, 1, 1))


def test_eku_key_usage_san_and_policy_overrides(pki: TestPki, server: IssuedCertificate) -> None:
    reference = server.certificate
    wrong_eku = pki.server(HOSTS, eku=[ExtendedKeyUsageOID.EMAIL_PROTECTION]).certificate
    assert differences(wrong_eku, reference) == {EKU}
    assert value(wrong_eku, EKU) == x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION])
    no_eku = pki.server(HOSTS, eku=None).certificate
    assert differences(no_eku, reference) == {EKU}
    assert EKU not in oids(no_eku)
    signing_only = x509.KeyUsage(False, True, False, False, False, False, False, False, False)
    wrong_ku = pki.server(HOSTS, key_usage=signing_only).certificate
    assert differences(wrong_ku, reference) == {KU}
    assert KU in critical(wrong_ku)
    assert differences(pki.server(HOSTS, key_usage=None).certificate, reference) == {KU}
    wrong_host = pki.server(HOSTS, san=["other.example.org", x509.IPAddress(ipaddress.ip_address("192.0.2.1"))])
    assert differences(wrong_host.certificate, reference) == {SAN}
    assert wrong_host.certificate.subject == reference.subject
    assert SAN not in oids(pki.server(HOSTS, san=None).certificate)
    no_policy = pki.server(HOSTS, policies=None).certificate
    assert differences(no_policy, reference) == {CP}
    other_policy = pki.server(HOSTS, policies=[SYNTHETIC_PROD_POLICY_OID]).certificate
    assert differences(other_policy, reference) == {CP}


def test_org_with_a_san(pki: TestPki) -> None:
    certificate = pki.organisation(san=["bal.example.org"]).certificate
    assert oids(certificate).index(SAN) == oids(certificate).index(EKU) + 1


def test_omit_and_extra_extensions(pki: TestPki, server: IssuedCertificate) -> None:
    reference = server.certificate
    no_aki = pki.server(HOSTS, omit=[ExtensionOID.AUTHORITY_KEY_IDENTIFIER, ExtensionOID.AUTHORITY_INFORMATION_ACCESS])
    assert differences(no_aki.certificate, reference) == {AKI, AIA}
    relaxed_ku = x509.KeyUsage(True, False, True, False, False, False, False, False, False)
    replaced = pki.server(HOSTS, extra_extensions=[(relaxed_ku, False), (x509.OCSPNoCheck(), False)]).certificate
    assert oids(replaced) == [*SERVER_ORDER, OCSP_NOCHECK.dotted_string]
    assert critical(replaced) == set()
    assert differences(replaced, reference) == {KU, OCSP_NOCHECK.dotted_string}


def test_unknown_critical_extension(pki: TestPki, server: IssuedCertificate) -> None:
    certificate = pki.server(HOSTS, unknown_critical_extension=True).certificate
    assert differences(certificate, server.certificate) == {UNKNOWN_EXTENSION_OID.dotted_string}
    assert UNKNOWN_EXTENSION_OID.dotted_string in critical(certificate)


def test_sha1_signature(pki: TestPki, server: IssuedCertificate) -> None:
    certificate = pki.server(HOSTS, signature_hash=hashes.SHA1()).certificate
    assert isinstance(certificate.signature_hash_algorithm, hashes.SHA1)
    assert differences(certificate, server.certificate) == set()
    issuer_key = pki.ca("ACI-EL-ORG").key.public_key()
    issuer_key.verify(
        certificate.signature,
        certificate.tbs_certificate_bytes,
        padding.PKCS1v15(),
        hashes.SHA1(),
    )
    with pytest.raises(ValueError, match="Unsupported signature algorithm"):
        certificate.verify_directly_issued_by(pki.ca("ACI-EL-ORG").certificate)
    sha384 = pki.server(HOSTS, signature_hash=hashes.SHA384()).certificate
    assert isinstance(sha384.signature_hash_algorithm, hashes.SHA384)
    sha384.verify_directly_issued_by(pki.ca("ACI-EL-ORG").certificate)
    with pytest.raises(ValueError, match="cannot sign with md5"):
        pki.server(signature_hash=hashes.MD5())


def test_issuer_override(pki: TestPki, server: IssuedCertificate) -> None:
    issued = pki.server(HOSTS, issuer="ACI-EL-PER")
    certificate = issued.certificate
    assert certificate.issuer == pki.ca("ACI-EL-PER").certificate.subject
    certificate.verify_directly_issued_by(pki.ca("ACI-EL-PER").certificate)
    assert aki(certificate) == pki.ca("ACI-EL-PER").key_identifier
    assert uris(value(certificate, CRLDP))[0] == "http://igc-sante.esante.gouv.fr/CRL/ACI-EL-PP-TEST.crl"
    assert issued.chain == (certificate, pki.ca("ACI-EL-PER").certificate)
    assert differences(certificate, server.certificate) == {AKI, CRLDP, DELTA, AIA}
    from_root = pki.server(HOSTS, issuer="ACR-EL")
    assert from_root.chain == (from_root.certificate,)
    assert from_root.anchor == pki.ca("ACR-EL").certificate


def test_subject_serial_and_keys(pki: TestPki, server: IssuedCertificate) -> None:
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "platines.qualif1.henix.asipsante.fr")])
    renamed = pki.server(HOSTS, subject=subject, serial_number=42, key=server.key)
    assert renamed.certificate.subject == subject
    assert renamed.certificate.serial_number == 42
    assert renamed.key is server.key
    assert renamed.certificate.public_key() == server.certificate.public_key()
    assert differences(renamed.certificate, server.certificate) == set()
    weak = pki.server(HOSTS, key_size=1024)
    assert weak.key.key_size == 1024
    with pytest.raises(TypeError, match="unknown leaf option"):
        pki.server(HOSTS, hostname="x")  # type: ignore[call-arg]


# --- verification with cryptography, as the real certificates behave ---------------------------------------


def test_server_certificate_verifies(pki: TestPki, server: IssuedCertificate) -> None:
    for host in HOSTS:
        chain = (
            verifier(pki)
            .build_server_verifier(x509.DNSName(host))
            .verify(server.certificate, list(server.intermediates))
        )
        assert chain == [server.certificate, pki.ca("ACI-EL-ORG").certificate, pki.ca("ACR-EL").certificate]
    client = verifier(pki).build_client_verifier().verify(server.certificate, list(server.intermediates))
    assert client.subjects == [x509.DNSName(host) for host in HOSTS]


def test_production_server_verifies_against_production_anchors_only(pki: TestPki, prod: TestPki) -> None:
    issued = prod.server(HOSTS)
    host = x509.DNSName(HOSTS[0])
    verifier(prod).build_server_verifier(host).verify(issued.certificate, list(issued.intermediates))
    with pytest.raises(v.VerificationError):
        verifier(pki).build_server_verifier(host).verify(issued.certificate, list(issued.intermediates))


def test_test_server_never_verifies_against_other_anchors(
    pki: TestPki, prod: TestPki, server: IssuedCertificate
) -> None:
    host = x509.DNSName(HOSTS[0])
    with pytest.raises(v.VerificationError):
        verifier(prod).build_server_verifier(host).verify(server.certificate, list(server.intermediates))
    other = TestPki.create(environment=Environment.TEST, at=AT)  # same names, other keys
    with pytest.raises(v.VerificationError):
        verifier(other).build_server_verifier(host).verify(server.certificate, list(server.intermediates))
    with pytest.raises(v.VerificationError):  # the other instance's intermediate does not help
        verifier(pki).build_server_verifier(host).verify(server.certificate, other.intermediates)


@pytest.mark.parametrize(
    ("variant", "message"),
    [
        ({"expired": True}, "not valid at validation time"),
        ({"not_yet_valid": True}, "not valid at validation time"),
        ({"san": ["other.example.org"]}, "no matching subjectAltName"),
        ({"eku": [ExtendedKeyUsageOID.CLIENT_AUTH]}, "required EKU not found"),
        ({"unknown_critical_extension": True}, "unaccounted-for critical extensions"),
    ],
)
def test_server_defects_fail_verification(variant: dict[str, object], message: str, pki: TestPki) -> None:
    issued = pki.server(HOSTS, **variant)  # type: ignore[arg-type]
    with pytest.raises(v.VerificationError, match=message):
        verifier(pki).build_server_verifier(x509.DNSName(HOSTS[0])).verify(
            issued.certificate, list(issued.intermediates)
        )


def test_server_without_intermediate_fails(pki: TestPki, server: IssuedCertificate) -> None:
    with pytest.raises(v.VerificationError, match="candidates exhausted"):
        verifier(pki).build_server_verifier(x509.DNSName(HOSTS[0])).verify(server.certificate, [])


def test_org_authentication_needs_a_relaxed_san_policy(pki: TestPki) -> None:
    issued = pki.organisation(usage="auth")
    with pytest.raises(v.VerificationError, match=r"2\.5\.29\.17"):
        verifier(pki).build_client_verifier().verify(issued.certificate, list(issued.intermediates))
    relaxed = v.ExtensionPolicy.webpki_defaults_ee().may_be_present(
        x509.SubjectAlternativeName, v.Criticality.AGNOSTIC, None
    )
    verified = verifier(pki, relaxed).build_client_verifier().verify(issued.certificate, list(issued.intermediates))
    assert verified.chain[-1] == pki.ca("ACR-EL").certificate


def test_cps_signature_fails_the_client_eku_as_the_real_one(pki: TestPki) -> None:
    issued = pki.person(usage="sign")
    with pytest.raises(v.VerificationError, match="required EKU not found"):
        verifier(pki).build_client_verifier().verify(issued.certificate, list(issued.intermediates))
    verified = (
        verifier(pki, v.ExtensionPolicy.permit_all())
        .build_client_verifier()
        .verify(issued.certificate, list(issued.intermediates))
    )
    assert verified.chain[-1] == pki.ca("ACR-FO").certificate


# --- CRLs ----------------------------------------------------------------------------------------------


def test_crl_signed_by_the_ca(pki: TestPki, server: IssuedCertificate) -> None:
    revoked_at = AT - timedelta(days=3)
    data = pki.crl("ACI-EL-ORG", [(7, revoked_at), 8, server], crl_number=12, reason=x509.ReasonFlags.key_compromise)
    crl = x509.load_der_x509_crl(data)
    authority = pki.ca("ACI-EL-ORG")
    assert crl.issuer == authority.certificate.subject
    assert crl.is_signature_valid(authority.key.public_key())
    assert not crl.is_signature_valid(pki.ca("ACR-EL").key.public_key())
    assert crl.last_update_utc == AT - timedelta(hours=1)
    assert crl.next_update_utc == AT - timedelta(hours=1) + timedelta(days=7)
    assert isinstance(crl.signature_hash_algorithm, hashes.SHA256)
    assert crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number == 12
    assert crl.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier == (
        authority.key_identifier
    )
    assert len(crl) == 3
    entry = crl.get_revoked_certificate_by_serial_number(7)
    assert entry is not None
    assert entry.revocation_date_utc == revoked_at
    assert entry.extensions.get_extension_for_class(x509.CRLReason).value.reason is x509.ReasonFlags.key_compromise
    listed = crl.get_revoked_certificate_by_serial_number(server.certificate.serial_number)
    assert listed is not None
    assert listed.revocation_date_utc == crl.last_update_utc
    assert crl.get_revoked_certificate_by_serial_number(9) is None


def test_crl_dates(pki: TestPki) -> None:
    start = AT - timedelta(days=10)
    crl = x509.load_der_x509_crl(pki.crl("ACR-EL", this_update=start, next_update=start + timedelta(days=1)))
    assert (crl.last_update_utc, crl.next_update_utc) == (start, start + timedelta(days=1))
    assert crl.issuer == pki.ca("ACR-EL").certificate.subject
    assert len(crl) == 0


def test_crl_signer_is_a_separate_certificate_of_the_ca(pki: TestPki) -> None:
    authority = pki.ca("ACI-EL-ORG")
    signer = pki.crl_signer("ACI-EL-ORG")
    assert pki.crl_signer("ACI-EL-ORG") is signer
    certificate = signer.certificate
    assert certificate.subject == certificate.issuer == authority.certificate.subject
    certificate.verify_directly_issued_by(authority.certificate)
    assert oids(certificate) == [AKI, SKI, KU, CP]
    assert critical(certificate) == {KU}
    assert value(certificate, KU).public_bytes() == bytes.fromhex("03020102")  # cRLSign only
    assert aki(certificate) == authority.key_identifier
    assert certificate.public_key() != authority.certificate.public_key()
    assert signer.chain == (certificate, authority.certificate)

    crl = x509.load_der_x509_crl(pki.crl("ACI-EL-ORG", [1], signer="separate"))
    assert crl.issuer == authority.certificate.subject
    assert crl.is_signature_valid(signer.key.public_key())
    assert not crl.is_signature_valid(authority.key.public_key())
    assert crl.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier == (
        x509.SubjectKeyIdentifier.from_public_key(signer.key.public_key()).digest
    )


def test_crl_signed_by_a_wrong_signer(pki: TestPki, server: IssuedCertificate) -> None:
    crl = x509.load_der_x509_crl(pki.crl("ACI-EL-ORG", signer=server))
    assert crl.is_signature_valid(server.key.public_key())
    assert not crl.is_signature_valid(pki.ca("ACI-EL-ORG").key.public_key())
    with pytest.raises(ValueError, match="signer must be"):
        pki.crl("ACI-EL-ORG", signer="root")  # type: ignore[arg-type]


def test_sha1_crl(pki: TestPki) -> None:
    crl = x509.load_der_x509_crl(pki.crl("ACI-EL-ORG", [3], signature_hash=hashes.SHA1()))
    assert isinstance(crl.signature_hash_algorithm, hashes.SHA1)
    pki.ca("ACI-EL-ORG").key.public_key().verify(
        crl.signature,
        crl.tbs_certlist_bytes,
        padding.PKCS1v15(),
        hashes.SHA1(),
    )
    assert not crl.is_signature_valid(pki.ca("ACI-EL-ORG").key.public_key())  # cryptography refuses SHA-1


def test_big_crl(pki: TestPki) -> None:
    crl = x509.load_der_x509_crl(pki.crl("ACI-EL-ORG", range(1, 200_001)))
    assert len(crl) == 200_000
    assert crl.get_revoked_certificate_by_serial_number(200_000) is not None


def test_a_crl_is_built_in_linear_work(pki: TestPki, monkeypatch: pytest.MonkeyPatch) -> None:
    signature = inspect.signature(x509.CertificateRevocationListBuilder)
    builders = spy(monkeypatch, x509.CertificateRevocationListBuilder, "__init__")

    def entries_handed_to_builders(count: int) -> int:
        builders.clear()
        pki.crl("ACI-EL-ORG", range(1, count + 1))
        given = [signature.bind(*args[1:], **kwargs).arguments for args, kwargs in builders]  # args[0]: the builder
        return sum(len(arguments.get("revoked_certificates", ())) for arguments in given)

    # Catches a quadratic build: entries added one at a time, each copying the list into a new builder.
    assert entries_handed_to_builders(2000) <= 2 * entries_handed_to_builders(1000)


def test_production_crl(prod: TestPki) -> None:
    crl = x509.load_der_x509_crl(prod.crl("ACI-EL-ORG"))
    assert crl.issuer.rfc4514_string() == ca_subject("ACI-EL-ORG", Environment.PROD)


# --- OCSP ----------------------------------------------------------------------------------------------


def cert_id(certificate: x509.Certificate, issuer: x509.Certificate) -> ocsp.OCSPRequest:
    return ocsp.OCSPRequestBuilder().add_certificate(certificate, issuer, hashes.SHA1()).build()


def test_delegated_ocsp_response(pki: TestPki, server: IssuedCertificate) -> None:
    authority = pki.ca("ACI-EL-ORG")
    response = ocsp.load_der_ocsp_response(pki.ocsp_response(server))
    responder = pki.ocsp_responder("ACI-EL-ORG")
    request = cert_id(server.certificate, authority.certificate)
    assert response.response_status is ocsp.OCSPResponseStatus.SUCCESSFUL
    assert response.certificate_status is ocsp.OCSPCertStatus.GOOD
    assert response.serial_number == server.certificate.serial_number
    assert response.issuer_key_hash == request.issuer_key_hash
    assert response.issuer_name_hash == request.issuer_name_hash
    assert isinstance(response.hash_algorithm, hashes.SHA1)
    assert response.this_update_utc == AT - timedelta(hours=1)
    assert response.next_update_utc == AT - timedelta(hours=1) + timedelta(days=1)
    assert response.certificates == [responder.certificate]
    assert response.responder_name is None
    # the key hash of a CertID whose issuer is the responder is the hash of the responder's key
    assert response.responder_key_hash == cert_id(responder.certificate, responder.certificate).issuer_key_hash
    responder.key.public_key().verify(
        response.signature, response.tbs_response_bytes, padding.PKCS1v15(), hashes.SHA256()
    )
    assert isinstance(response.signature_hash_algorithm, hashes.SHA256)


def test_ocsp_responder_certificate(pki: TestPki) -> None:
    authority = pki.ca("ACI-FO-PER")
    responder = pki.ocsp_responder("ACI-FO-PER")
    assert pki.ocsp_responder("ACI-FO-PER") is responder
    certificate = responder.certificate
    assert certificate.subject.rfc4514_string() == (
        "CN=TEST OCSP AC IGC-SANTE FORT PERSONNES,OU=IGC-SANTE TEST,OU=0002 187512751,O=ASIP-SANTE,C=FR"
    )
    certificate.verify_directly_issued_by(authority.certificate)
    assert value(certificate, EKU) == x509.ExtendedKeyUsage([ExtendedKeyUsageOID.OCSP_SIGNING])
    assert value(certificate, OCSP_NOCHECK) == x509.OCSPNoCheck()
    assert value(certificate, KU).public_bytes() == bytes.fromhex("03020780")
    assert critical(certificate) == {KU}
    assert aki(certificate) == authority.key_identifier
    assert responder.chain == (certificate, authority.certificate)


def test_ocsp_response_signed_by_the_ca(pki: TestPki) -> None:
    issued = pki.person()
    authority = pki.ca("ACI-FO-PER")
    response = ocsp.load_der_ocsp_response(pki.ocsp_response(issued.certificate, responder="ca", responder_id="name"))
    assert response.certificates == []
    assert response.responder_name == authority.certificate.subject
    assert response.issuer_key_hash == cert_id(issued.certificate, authority.certificate).issuer_key_hash
    authority.key.public_key().verify(
        response.signature, response.tbs_response_bytes, padding.PKCS1v15(), hashes.SHA256()
    )


def test_revoked_and_unknown_ocsp_responses(pki: TestPki, server: IssuedCertificate) -> None:
    revoked = ocsp.load_der_ocsp_response(
        pki.ocsp_response(server, CertStatus.REVOKED, revocation_reason=x509.ReasonFlags.superseded)
    )
    assert revoked.certificate_status is ocsp.OCSPCertStatus.REVOKED
    assert revoked.revocation_time_utc == AT - timedelta(hours=1)
    assert revoked.revocation_reason is x509.ReasonFlags.superseded
    when = AT - timedelta(days=2)
    dated = ocsp.load_der_ocsp_response(pki.ocsp_response(server, CertStatus.REVOKED, revocation_time=when))
    assert dated.revocation_time_utc == when
    unknown = ocsp.load_der_ocsp_response(pki.ocsp_response(server, CertStatus.UNKNOWN, revocation_time=when))
    assert unknown.certificate_status is ocsp.OCSPCertStatus.UNKNOWN
    assert unknown.revocation_time_utc is None


def test_ocsp_response_with_a_wrong_responder_or_issuer(pki: TestPki, server: IssuedCertificate) -> None:
    stranger = pki.ocsp_responder("ACI-EL-PER")
    response = ocsp.load_der_ocsp_response(pki.ocsp_response(server, responder=stranger))
    assert response.certificates == [stranger.certificate]
    other_ca = pki.ca("ACI-ST-ORG")
    misdirected = ocsp.load_der_ocsp_response(pki.ocsp_response(server, issuer="ACI-ST-ORG", responder="ca"))
    assert misdirected.issuer_key_hash == cert_id(server.certificate, other_ca.certificate).issuer_key_hash
    assert misdirected.responder_name is None
    with pytest.raises(ValueError, match="responder must be"):
        pki.ocsp_response(server, responder="root")  # type: ignore[arg-type]


def test_ocsp_for_a_foreign_certificate(pki: TestPki, prod: TestPki) -> None:
    foreign = prod.server(HOSTS)
    with pytest.raises(ValueError, match="not issued by this test PKI"):
        pki.ocsp_response(foreign)
    assert pki.issuer_of(pki.ca("ACI-EL-ORG").certificate) is pki.ca("ACR-EL")


def test_unsuccessful_ocsp_response() -> None:
    response = ocsp.load_der_ocsp_response(TestPki.ocsp_unsuccessful(ocsp.OCSPResponseStatus.TRY_LATER))
    assert response.response_status is ocsp.OCSPResponseStatus.TRY_LATER


# --- IssuedCertificate -----------------------------------------------------------------------------------


def test_pem_and_key(server: IssuedCertificate) -> None:
    certificates = x509.load_pem_x509_certificates(server.pem())
    assert certificates == list(server.chain)
    assert server.intermediates == server.chain[1:]
    key = serialization.load_pem_private_key(server.key_pem(), password=None)
    assert key.public_key() == server.certificate.public_key()


def test_write_the_pem_files(server: IssuedCertificate, tmp_path: Path) -> None:
    certificate, key = server.write(tmp_path, "mx")
    assert (certificate, key) == (tmp_path / "mx.pem", tmp_path / "mx.key")
    assert certificate.read_bytes() == server.pem()
    assert key.read_bytes() == server.key_pem()
    assert key.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("password", [None, b"secret"])
def test_pkcs12(password: bytes | None, server: IssuedCertificate) -> None:
    key, certificate, others = pkcs12.load_key_and_certificates(server.pkcs12(password, name=b"mss"), password)
    assert certificate == server.certificate
    assert key is not None
    assert key.public_key() == server.certificate.public_key()
    assert others == list(server.intermediates)

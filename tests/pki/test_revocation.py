"""Revocation without I/O: CRL indexing, CRL signatures and freshness, OCSP evaluation, and the checker's modes.

The certificates, CRLs and OCSP responses are built here with ``cryptography``'s builders (see :class:`Ca`);
the GIP-CPS CRL, its CA and its separate CRL signer are the real ones (``tests/data/pki``).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.x509 import ocsp
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID
from hypothesis import given, settings
from hypothesis import strategies as st

from mssante.errors import InvalidInput, SecurityWarning
from mssante.pki._crl import IndexedCrl
from mssante.pki._revocation import RevocationChecker, RevocationResult
from mssante.pki._types import CertStatus, RevocationMode
from mssante.report import Severity

DATA = Path(__file__).parent.parent / "data" / "pki"
T0 = datetime(2025, 6, 2, 12, 0, tzinfo=timezone.utc)
HOUR, DAY = timedelta(hours=1), timedelta(days=1)

UNKNOWN, REVOKED, OFF, GOOD, NO_SOURCE, WRONG_ISSUER = (f"MSS-REV-{n:03d}" for n in range(1, 7))
CRL_UNREADABLE, CRL_BAD_SIGNATURE, WEAK, SIGNER_REFUSED = (f"MSS-REV-{n:03d}" for n in range(7, 11))
CRL_EXPIRED, CRL_NOT_YET_VALID, CRL_TOO_OLD = "MSS-REV-011", "MSS-REV-012", "MSS-REV-013"
CRL_OUT_OF_SCOPE, CRL_CRITICAL, DELTA_IGNORED, DELTA_NOT_CHECKED = (f"MSS-REV-{n:03d}" for n in range(15, 19))
REVOKED_LATER, OCSP_UNREADABLE, OCSP_NOT_SUCCESSFUL, OCSP_OTHER = (f"MSS-REV-{n:03d}" for n in range(19, 23))
OCSP_BAD_SIGNATURE, OCSP_UNAUTHORISED, OCSP_EXPIRED, OCSP_NOT_YET_VALID = (f"MSS-REV-{n:03d}" for n in range(23, 27))
OCSP_TOO_OLD, OCSP_UNKNOWN = "MSS-REV-027", "MSS-REV-028"

_RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey


def _digest(key: PrivateKey) -> hashes.SHA256 | None:
    """The hash to sign with: SHA-256, none for EdDSA."""
    return None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256()


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "FR"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "MSSANTE TEST"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _ski(key: PrivateKey) -> x509.SubjectKeyIdentifier:
    return x509.SubjectKeyIdentifier.from_public_key(key.public_key())


def _usage(*flags: str) -> x509.KeyUsage:
    names = "digital_signature content_commitment key_encipherment data_encipherment key_agreement"
    names += " key_cert_sign crl_sign encipher_only decipher_only"
    return x509.KeyUsage(**{name: name in flags for name in names.split()})


CA_USAGE = _usage("key_cert_sign", "crl_sign")
CERT_SIGN_ONLY = _usage("key_cert_sign")
CRL_SIGN_ONLY = _usage("crl_sign")
SIGNATURE_ONLY = _usage("digital_signature")


@dataclass
class Issued:
    """A certificate and its private key."""

    cert: x509.Certificate
    key: PrivateKey


@dataclass
class Ca:
    """A small certificate authority: issues certificates, CRLs and OCSP responses for the tests."""

    cert: x509.Certificate
    key: PrivateKey

    @classmethod
    def create(
        cls,
        common_name: str = "TEST AC RACINE",
        *,
        key: PrivateKey | None = None,
        usage: x509.KeyUsage = CA_USAGE,
        name: x509.Name | None = None,
        ski: bool = True,
    ) -> Ca:
        key = key or ec.generate_private_key(ec.SECP256R1())
        name = name or _name(common_name)
        builder = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(T0 - 365 * DAY)
            .not_valid_after(T0 + 365 * DAY)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(usage, critical=True)
        )
        if ski:
            builder = builder.add_extension(_ski(key), critical=False)
        return cls(cert=builder.sign(key, _digest(key)), key=key)

    @property
    def name(self) -> x509.Name:
        return self.cert.subject

    def impostor(self) -> Ca:
        """A CA with the same name and another key."""
        return Ca.create(name=self.name)

    def issue(
        self,
        common_name: str = "serveur.mssante.fr",
        *,
        subject: x509.Name | None = None,
        serial: int | None = None,
        ca: bool = False,
        usage: x509.KeyUsage | None = None,
        eku: Sequence[x509.ObjectIdentifier] | None = None,
        crl_urls: Sequence[str] = (),
        ocsp_urls: Sequence[str] = (),
        freshest: Sequence[str] = (),
        not_before: datetime = T0 - 30 * DAY,
        not_after: datetime = T0 + 30 * DAY,
        signing_key: PrivateKey | None = None,
    ) -> Issued:
        key = ec.generate_private_key(ec.SECP256R1())
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject or _name(common_name))
            .issuer_name(self.name)
            .public_key(key.public_key())
            .serial_number(serial or x509.random_serial_number())
            .not_valid_before(not_before)
            .not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            .add_extension(_ski(key), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(_ski(self.key)), critical=False
            )
        )
        if usage is not None:
            builder = builder.add_extension(usage, critical=True)
        if eku is not None:
            builder = builder.add_extension(x509.ExtendedKeyUsage(list(eku)), critical=False)
        if crl_urls:
            points = [x509.DistributionPoint([x509.UniformResourceIdentifier(u) for u in crl_urls], None, None, None)]
            builder = builder.add_extension(x509.CRLDistributionPoints(points), critical=False)
        if freshest:
            points = [x509.DistributionPoint([x509.UniformResourceIdentifier(u) for u in freshest], None, None, None)]
            builder = builder.add_extension(x509.FreshestCRL(points), critical=False)
        if ocsp_urls:
            access = [
                x509.AccessDescription(AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(u))
                for u in ocsp_urls
            ]
            builder = builder.add_extension(x509.AuthorityInformationAccess(access), critical=False)
        cert = builder.sign(signing_key or self.key, _digest(signing_key or self.key))
        return Issued(cert=cert, key=key)

    def crl_signer(self, *, usage: x509.KeyUsage = CRL_SIGN_ONLY, **options: object) -> Issued:
        """A separate CRL signer in the GIP-CPS pattern: the CA's own name, issued by the CA's key."""
        return self.issue(subject=self.name, usage=usage, **options)  # type: ignore[arg-type]

    def responder(
        self, *, eku: Sequence[x509.ObjectIdentifier] = (ExtendedKeyUsageOID.OCSP_SIGNING,), **options: object
    ) -> Issued:
        """A delegated OCSP responder certificate."""
        return self.issue("OCSP RESPONDER", eku=eku, usage=SIGNATURE_ONLY, **options)  # type: ignore[arg-type]

    def crl(
        self,
        revoked: Iterable[tuple[int, datetime]] = (),
        *,
        this_update: datetime = T0 - HOUR,
        next_update: datetime = T0 + DAY,
        number: int = 1,
        signer: Issued | None = None,
        signing_key: PrivateKey | None = None,
        aki: bytes | None = None,
        with_aki: bool = True,
        extensions: Sequence[tuple[x509.ExtensionType, bool]] = (),
        issuer_name: x509.Name | None = None,
    ) -> bytes:
        """A DER CRL, signed by the CA's key or by ``signer``; the AKI names the signing key unless given."""
        key = signing_key or (signer.key if signer else self.key)
        entries = [
            x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(date).build()
            for serial, date in revoked
        ]
        builder = x509.CertificateRevocationListBuilder(
            issuer_name=issuer_name or self.name,
            last_update=this_update,
            next_update=next_update,
            revoked_certificates=entries,
        )
        builder = builder.add_extension(x509.CRLNumber(number), critical=False)
        key_id = aki if aki is not None else _ski(key).digest
        if with_aki:
            builder = builder.add_extension(x509.AuthorityKeyIdentifier(key_id, None, None), critical=False)
        for extension, critical in extensions:
            builder = builder.add_extension(extension, critical=critical)
        crl = builder.sign(key, _digest(key))
        return crl.public_bytes(serialization.Encoding.DER)

    def ocsp(
        self,
        cert: x509.Certificate,
        status: ocsp.OCSPCertStatus = ocsp.OCSPCertStatus.GOOD,
        *,
        responder: Issued | None = None,
        include: Sequence[x509.Certificate] | None = None,
        signing_key: PrivateKey | None = None,
        this_update: datetime = T0 - HOUR,
        next_update: datetime | None = T0 + DAY,
        revoked_at: datetime = T0 - DAY,
        certid_issuer: x509.Certificate | None = None,
        by_name: bool = False,
    ) -> bytes:
        """A DER OCSP response about ``cert``, signed by the CA or by ``responder`` (included unless told)."""
        responder_cert = responder.cert if responder else self.cert
        key = signing_key or (responder.key if responder else self.key)
        revoked = status is ocsp.OCSPCertStatus.REVOKED
        builder = (
            ocsp.OCSPResponseBuilder()
            .add_response(
                cert=cert,
                issuer=certid_issuer or self.cert,
                algorithm=hashes.SHA1(),
                cert_status=status,
                this_update=this_update,
                next_update=next_update,
                revocation_time=revoked_at if revoked else None,
                revocation_reason=x509.ReasonFlags.key_compromise if revoked else None,
            )
            .responder_id(
                ocsp.OCSPResponderEncoding.NAME if by_name else ocsp.OCSPResponderEncoding.HASH, responder_cert
            )
        )
        certificates = list(include) if include is not None else ([responder.cert] if responder else [])
        if certificates:
            builder = builder.certificates(certificates)
        response = builder.sign(key, _digest(key))
        return response.public_bytes(serialization.Encoding.DER)


@pytest.fixture(scope="module")
def ca() -> Ca:
    return Ca.create()


@pytest.fixture(scope="module")
def rsa_ca() -> Ca:
    return Ca.create("TEST AC RSA", key=_RSA_KEY)


@pytest.fixture(scope="module")
def leaf(ca: Ca) -> x509.Certificate:
    return ca.issue(serial=0x1234).cert


def check(
    cert: x509.Certificate,
    issuer: Ca | x509.Certificate,
    *,
    at: datetime = T0,
    **options: object,
) -> RevocationResult:
    checker = RevocationChecker(**options)  # type: ignore[arg-type]
    return checker.check(cert, issuer.cert if isinstance(issuer, Ca) else issuer, at=at)


def codes_of(result: RevocationResult) -> list[str]:
    return [finding.code for finding in result.findings]


# --- IndexedCrl -------------------------------------------------------------------------------------------------


def test_indexed_crl_reads_der_and_pem(ca: Ca) -> None:
    der = ca.crl([(5, T0 - 2 * DAY), (7, T0 - DAY)], number=42)
    pem = x509.load_der_x509_crl(der).public_bytes(serialization.Encoding.PEM)
    for data in (der, pem, b"\n  " + pem):
        crl = IndexedCrl.load(data, source="http://crl.example/ca.crl")
        assert len(crl) == 2
        assert crl.issuer == ca.name
        assert crl.this_update == T0 - HOUR
        assert crl.this_update.tzinfo is not None
        assert crl.next_update == T0 + DAY
        assert crl.number == 42
        assert crl.authority_key_identifier == _ski(ca.key).digest
        assert crl.delta_crl_indicator is None
        assert not crl.is_delta
        assert crl.revoked(5) == T0 - 2 * DAY
        assert crl.revoked(7) == T0 - DAY
        assert crl.revoked(6) is None
        assert 5 in crl
        assert 6 not in crl
        entry = crl.entry(7)
        assert entry is not None
        assert entry.serial_number == 7
        assert "number 42" in crl.describe()
        assert "http://crl.example/ca.crl" in repr(crl)


def test_indexed_crl_description_is_printable(ca: Ca) -> None:
    crl = IndexedCrl.load(ca.crl(), source="http://igc.example/ca.crl\nMSS-REV-004 info: forged")
    assert crl.describe().isprintable()
    assert "\\n" in crl.describe()


def test_indexed_crl_exposes_the_delta_indicator(ca: Ca) -> None:
    crl = IndexedCrl.load(ca.crl(extensions=[(x509.DeltaCRLIndicator(41), True)]))
    assert crl.delta_crl_indicator == 41
    assert crl.is_delta


def test_indexed_crl_keeps_serials_only_and_finds_listed_entries_on_demand(ca: Ca) -> None:
    serials = range(1000, 1000 + 3000)
    crl = IndexedCrl.load(ca.crl([(serial, T0 - DAY - timedelta(seconds=serial)) for serial in serials]))
    assert len(crl) == 3000
    for serial in (*serials, *serials[:5]):  # more than the entries kept once found: each is found again
        assert crl.revoked(serial) == T0 - DAY - timedelta(seconds=serial)
        assert serial in crl
    assert crl.revoked(999) is None
    assert crl.entry(4000) is None
    assert 4000 not in crl


def test_a_serial_listed_twice_reads_as_its_last_entry(ca: Ca) -> None:
    crl = IndexedCrl.load(ca.crl([(5, T0 - 2 * DAY), (9, T0 - DAY), (5, T0 - HOUR)]))
    assert len(crl) == 2
    assert crl.revoked(5) == T0 - HOUR
    assert crl.revoked(9) == T0 - DAY


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"not a CRL at all", id="text"),
        pytest.param(b"-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n", id="bad-pem"),
        pytest.param(b"-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n", id="other-pem"),
        pytest.param(b"\x30\x82\xff\xff\x30", id="truncated-header"),
    ],
)
def test_indexed_crl_refuses_garbage(data: bytes) -> None:
    with pytest.raises(InvalidInput) as raised:
        IndexedCrl.load(data)
    assert raised.value.report.codes == (CRL_UNREADABLE,)


def test_indexed_crl_refuses_truncated_der(ca: Ca) -> None:
    der = ca.crl([(n, T0 - DAY) for n in range(1, 50)])
    for cut in (1, 10, len(der) // 2, len(der) - 1):
        with pytest.raises(InvalidInput):
            IndexedCrl.load(der[:cut])


def test_indexed_crl_refuses_over_the_size_limit(ca: Ca) -> None:
    der = ca.crl()
    with pytest.raises(InvalidInput, match="over the limit"):
        IndexedCrl.load(der, max_bytes=len(der) - 1)
    assert len(IndexedCrl.load(der, max_bytes=len(der))) == 0


def test_indexed_crl_refuses_a_50_mb_random_blob() -> None:
    blob = os.urandom(50 * 1024 * 1024)
    with pytest.raises(InvalidInput):
        IndexedCrl.load(blob)
    with pytest.raises(InvalidInput):
        IndexedCrl.load(b"\x30\x84\x03\x20\x00\x00" + blob)


def test_indexed_crl_refuses_what_is_not_bytes() -> None:
    with pytest.raises(InvalidInput):
        IndexedCrl.load("-----BEGIN X509 CRL-----")  # type: ignore[arg-type]


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=4096))
def test_random_bytes_only_ever_raise_invalid_input(data: bytes) -> None:
    with contextlib.suppress(InvalidInput):
        IndexedCrl.load(data)


@pytest.fixture(scope="module")
def sample_crl_der() -> bytes:
    return Ca.create().crl([(n, T0 - n * HOUR) for n in range(1, 20)])


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_mutated_crls_load_or_raise_invalid_input(sample_crl_der: bytes, data: st.DataObject) -> None:
    mutated = bytearray(sample_crl_der)
    for _ in range(data.draw(st.integers(1, 4))):
        position = data.draw(st.integers(0, len(mutated) - 1))
        mutated[position] = data.draw(st.integers(0, 255))
    try:
        crl = IndexedCrl.load(bytes(mutated))
    except InvalidInput:
        return
    crl.revoked(1)
    crl.describe()


# --- CRL signatures ---------------------------------------------------------------------------------------------


def test_crl_signed_by_the_issuer_verifies(ca: Ca) -> None:
    signature = IndexedCrl.load(ca.crl()).check_signature(ca.cert, at=T0)
    assert signature.valid
    assert signature.signer == ca.cert
    assert signature.findings == ()


def test_crl_signed_by_another_key_does_not_verify(ca: Ca) -> None:
    intruder = ec.generate_private_key(ec.SECP256R1())
    for aki in (_ski(ca.key).digest, _ski(intruder).digest):
        signature = IndexedCrl.load(ca.crl(signing_key=intruder, aki=aki)).check_signature(ca.cert, at=T0)
        assert not signature.valid
        assert [f.code for f in signature.findings] == [CRL_BAD_SIGNATURE]


def test_crl_of_another_issuer_does_not_verify(ca: Ca) -> None:
    other = Ca.create("TEST AC AUTRE")
    signature = IndexedCrl.load(other.crl()).check_signature(ca.cert, at=T0)
    assert not signature.valid
    assert "is not issued by" in signature.findings[0].message


def test_separate_crl_signer_matched_by_aki_and_crl_sign(ca: Ca, leaf: x509.Certificate) -> None:
    signer = ca.crl_signer()
    data = ca.crl([(0x99, T0 - DAY)], signer=signer)
    crl = IndexedCrl.load(data)
    assert crl.authority_key_identifier == _ski(signer.key).digest
    signature = crl.check_signature(ca.cert, signers=[signer.cert], at=T0)
    assert signature.valid
    assert signature.signer == signer.cert
    assert not crl.check_signature(ca.cert, at=T0).valid  # the signer must be supplied

    result = check(leaf, ca, crls=[data], crl_signers=[signer.cert])
    assert result.status is CertStatus.GOOD
    assert result.source == "crl"


def test_separate_crl_signer_without_crl_sign_is_refused(ca: Ca) -> None:
    signer = ca.crl_signer(usage=SIGNATURE_ONLY)
    signature = IndexedCrl.load(ca.crl(signer=signer)).check_signature(ca.cert, signers=[signer.cert], at=T0)
    assert not signature.valid
    assert [f.code for f in signature.findings] == [SIGNER_REFUSED, CRL_BAD_SIGNATURE]
    assert "no keyUsage cRLSign" in signature.findings[0].message


def test_separate_crl_signer_with_another_key_identifier_is_not_used(ca: Ca) -> None:
    signer = ca.crl_signer()
    other = ca.crl_signer()
    data = ca.crl(signer=signer)
    signature = IndexedCrl.load(data).check_signature(ca.cert, signers=[other.cert], at=T0)
    assert not signature.valid
    assert [f.code for f in signature.findings] == [CRL_BAD_SIGNATURE]
    assert _ski(signer.key).digest.hex() in signature.findings[0].message


def test_separate_crl_signer_not_issued_by_the_ca_key_is_refused(ca: Ca) -> None:
    # The right name, the right keyUsage, the CRL's AKI: but signed by another key (a forged "self-issued" signer).
    forger = ec.generate_private_key(ec.SECP256R1())
    signer = ca.crl_signer(signing_key=forger)
    signature = IndexedCrl.load(ca.crl(signer=signer)).check_signature(ca.cert, signers=[signer.cert], at=T0)
    assert not signature.valid
    assert "does not verify under the key" in signature.findings[0].message


def test_separate_crl_signer_of_another_ca_is_refused(ca: Ca) -> None:
    other = Ca.create("TEST AC AUTRE")
    signer = other.issue(subject=ca.name, usage=CRL_SIGN_ONLY)
    signature = IndexedCrl.load(ca.crl(signer=signer)).check_signature(ca.cert, signers=[signer.cert], at=T0)
    assert not signature.valid
    assert "is issued by" in signature.findings[0].message


def test_separate_crl_signer_with_another_name_is_refused(ca: Ca) -> None:
    signer = ca.issue("TEST CRL SIGNER", usage=CRL_SIGN_ONLY)
    signature = IndexedCrl.load(ca.crl(signer=signer)).check_signature(ca.cert, signers=[signer.cert], at=T0)
    assert not signature.valid
    assert "is not the CRL issuer" in signature.findings[0].message


def test_separate_crl_signer_must_be_valid_at_the_time_checked(ca: Ca) -> None:
    signer = ca.crl_signer(not_before=T0 - 10 * DAY, not_after=T0 - DAY)
    signature = IndexedCrl.load(ca.crl(signer=signer)).check_signature(ca.cert, signers=[signer.cert], at=T0)
    assert not signature.valid
    assert "not valid at" in signature.findings[0].message
    assert IndexedCrl.load(ca.crl(signer=signer)).check_signature(ca.cert, signers=[signer.cert], at=T0 - 2 * DAY).valid


def test_issuer_without_crl_sign_cannot_sign_its_own_crl() -> None:
    ca = Ca.create("TEST AC CERTSIGN", usage=CERT_SIGN_ONLY)
    signature = IndexedCrl.load(ca.crl()).check_signature(ca.cert, at=T0)
    assert not signature.valid
    assert [f.code for f in signature.findings] == [SIGNER_REFUSED, CRL_BAD_SIGNATURE]


SHA256_RSA = bytes.fromhex("300d06092a864886f70d01010b0500")
SHA1_RSA = bytes.fromhex("300d06092a864886f70d0101050500")


def _sha1_rsa_key(ca: Ca) -> rsa.RSAPrivateKey:
    assert isinstance(ca.key, rsa.RSAPrivateKey)
    return ca.key


def sha1_crl(ca: Ca, der: bytes) -> bytes:
    """``der`` (sha256WithRSA) re-signed with sha1WithRSA, which cryptography's builders no longer produce."""
    der = der.replace(SHA256_RSA, SHA1_RSA)  # in the TBS and outside
    crl = x509.load_der_x509_crl(der)
    signature = _sha1_rsa_key(ca).sign(crl.tbs_certlist_bytes, padding.PKCS1v15(), hashes.SHA1())
    return der.replace(crl.signature, signature)


def sha1_ocsp(ca: Ca, der: bytes) -> bytes:
    """An OCSP response signed by ``ca`` itself (no certificates) re-signed with sha1WithRSA."""
    response = ocsp.load_der_ocsp_response(der)
    signature = _sha1_rsa_key(ca).sign(response.tbs_response_bytes, padding.PKCS1v15(), hashes.SHA1())
    return der.replace(SHA256_RSA, SHA1_RSA).replace(response.signature, signature)


def tampered(der: bytes, signature: bytes) -> bytes:
    """``der`` with the last byte of its ``signature`` changed: the structure holds, the signature fails."""
    assert der.count(signature) == 1
    return der.replace(signature, signature[:-1] + bytes([signature[-1] ^ 0x01]))


def test_sha1_crl_is_not_accepted(rsa_ca: Ca) -> None:
    data = sha1_crl(rsa_ca, rsa_ca.crl())
    assert isinstance(x509.load_der_x509_crl(data).signature_hash_algorithm, hashes.SHA1)
    signature = IndexedCrl.load(data).check_signature(rsa_ca.cert, at=T0)
    assert not signature.valid
    assert [f.code for f in signature.findings] == [WEAK]
    assert "SHA-1 signature not accepted" in signature.findings[0].message


def test_rsa_crl_verifies(rsa_ca: Ca) -> None:
    assert IndexedCrl.load(rsa_ca.crl()).check_signature(rsa_ca.cert, at=T0).valid


def test_ed25519_crl_and_ocsp_verify() -> None:
    ca = Ca.create("TEST AC ED25519", key=ed25519.Ed25519PrivateKey.generate())
    cert = ca.issue().cert
    assert check(cert, ca, crls=[ca.crl()]).status is CertStatus.GOOD
    assert check(cert, ca, ocsp_responses=[ca.ocsp(cert)]).status is CertStatus.GOOD


def test_crl_without_aki_is_checked_against_the_issuer_only(ca: Ca, leaf: x509.Certificate) -> None:
    assert check(leaf, ca, crls=[ca.crl(with_aki=False)]).status is CertStatus.GOOD
    signer = ca.crl_signer()
    result = check(leaf, ca, crls=[ca.crl(signer=signer, with_aki=False)], crl_signers=[signer.cert])
    assert codes_of(result) == [CRL_BAD_SIGNATURE, UNKNOWN]


def test_issuer_without_ski_extension_is_matched_by_its_computed_key_identifier() -> None:
    ca = Ca.create("TEST AC SANS SKI", ski=False)
    assert not any(isinstance(e.value, x509.SubjectKeyIdentifier) for e in ca.cert.extensions)
    assert check(ca.issue().cert, ca, crls=[ca.crl()]).status is CertStatus.GOOD


# --- the real GIP-CPS CRL ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def gip() -> tuple[IndexedCrl, x509.Certificate, x509.Certificate]:
    crl = IndexedCrl.load((DATA / "gip-cps-anonyme-2010.crl.pem").read_bytes(), source="gip-cps-anonyme-2010.crl.pem")
    root = x509.load_pem_x509_certificate((DATA / "gip-cps-anonyme-root.pem").read_bytes())
    signer = x509.load_pem_x509_certificate((DATA / "gip-cps-anonyme-crl-signer.pem").read_bytes())
    return crl, root, signer


def _gip_leaf(root: x509.Certificate) -> x509.Certificate:
    """A certificate named as issued by GIP-CPS ANONYME (its signature is not the checker's concern)."""
    key = ec.generate_private_key(ec.SECP256R1())
    return (
        x509.CertificateBuilder()
        .subject_name(_name("porteur anonyme"))
        .issuer_name(root.subject)
        .public_key(key.public_key())
        .serial_number(0x2947)
        .not_valid_before(datetime(2009, 1, 1, tzinfo=timezone.utc))
        .not_valid_after(datetime(2012, 1, 1, tzinfo=timezone.utc))
        .sign(key, hashes.SHA256())
    )


def test_gip_cps_crl_is_read(gip: tuple[IndexedCrl, x509.Certificate, x509.Certificate]) -> None:
    crl, root, signer = gip
    assert crl.issuer == root.subject == signer.subject
    assert crl.number == 2947
    assert len(crl) == 0
    assert crl.this_update == datetime(2010, 1, 7, 3, 0, 15, tzinfo=timezone.utc)
    assert crl.next_update == datetime(2010, 1, 13, 3, 0, 15, tzinfo=timezone.utc)
    # The CRL names the separate signer's key (AKI = signer SKI), not the CA's.
    signer_ski = signer.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    root_ski = root.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    assert crl.authority_key_identifier == signer_ski != root_ski
    # What the SDK refuses is the hash, not the structure: with SHA-1 allowed, the chain of signatures holds.
    signer_key, root_key = signer.public_key(), root.public_key()
    assert isinstance(signer_key, rsa.RSAPublicKey)
    assert isinstance(root_key, rsa.RSAPublicKey)
    signer_key.verify(crl.crl.signature, crl.crl.tbs_certlist_bytes, padding.PKCS1v15(), hashes.SHA1())
    root_key.verify(signer.signature, signer.tbs_certificate_bytes, padding.PKCS1v15(), hashes.SHA1())


def test_gip_cps_crl_sha1_signature_is_not_accepted(
    gip: tuple[IndexedCrl, x509.Certificate, x509.Certificate],
) -> None:
    crl, root, signer = gip
    signature = crl.check_signature(root, signers=[signer], at=datetime(2010, 1, 10, tzinfo=timezone.utc))
    assert not signature.valid
    assert [f.code for f in signature.findings] == [WEAK]
    assert "SHA-1 signature not accepted" in signature.findings[0].message
    assert "sha1WithRSAEncryption" in signature.findings[0].message


@pytest.mark.parametrize(
    "at", [datetime(2010, 1, 13, 3, 1, tzinfo=timezone.utc), datetime(2014, 6, 1, tzinfo=timezone.utc), T0]
)
def test_gip_cps_crl_is_expired_after_2010_01_13(
    gip: tuple[IndexedCrl, x509.Certificate, x509.Certificate], at: datetime
) -> None:
    crl, root, signer = gip
    result = check(_gip_leaf(root), root, at=at, crls=[crl], crl_signers=[signer])
    assert result.status is CertStatus.UNKNOWN
    assert codes_of(result) == [WEAK, CRL_EXPIRED, UNKNOWN]
    assert "expired at 2010-01-13T03:00:15Z" in result.findings[1].message
    assert not result.report.ok


def test_gip_cps_crl_within_its_dates_is_still_refused_for_sha1(
    gip: tuple[IndexedCrl, x509.Certificate, x509.Certificate],
) -> None:
    crl, root, signer = gip
    result = check(
        _gip_leaf(root), root, at=datetime(2010, 1, 10, tzinfo=timezone.utc), crls=[crl], crl_signers=[signer]
    )
    assert result.status is CertStatus.UNKNOWN
    assert codes_of(result) == [WEAK, UNKNOWN]


def test_gip_cps_signer_is_refused_for_its_own_sha1_signature(
    gip: tuple[IndexedCrl, x509.Certificate, x509.Certificate],
) -> None:
    # A SHA-256 CRL claiming the GIP-CPS signer's key: the signer certificate itself is SHA-1 and is refused.
    _, root, signer = gip
    forger = ec.generate_private_key(ec.SECP256R1())
    ski = signer.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    data = Ca(cert=root, key=forger).crl(aki=ski, this_update=datetime(2010, 1, 7, tzinfo=timezone.utc),
                                         next_update=datetime(2010, 1, 13, tzinfo=timezone.utc))  # fmt: skip
    signature = IndexedCrl.load(data).check_signature(
        root, signers=[signer], at=datetime(2010, 1, 10, tzinfo=timezone.utc)
    )
    assert not signature.valid
    assert [f.code for f in signature.findings] == [WEAK, CRL_BAD_SIGNATURE]
    assert "signer certificate is signed with sha1WithRSAEncryption" in signature.findings[0].message


# --- the checker with CRLs --------------------------------------------------------------------------------------


def test_good_by_crl(ca: Ca, leaf: x509.Certificate) -> None:
    result = check(leaf, ca, crls=[ca.crl([(0x99, T0 - DAY)], number=7)])
    assert result.status is CertStatus.GOOD
    assert result.source == "crl"
    assert codes_of(result) == [GOOD]
    assert "number 7" in result.findings[0].message
    assert result.report.ok


def test_revoked_by_crl(ca: Ca, leaf: x509.Certificate) -> None:
    result = check(leaf, ca, crls=[IndexedCrl.load(ca.crl([(0x1234, T0 - DAY)]))])
    assert result.status is CertStatus.REVOKED
    assert result.source == "crl"
    assert codes_of(result) == [REVOKED]
    assert result.findings[0].severity is Severity.ERROR
    assert "revoked since 2025-06-01T12:00:00Z" in result.findings[0].message
    assert "serial 1234" in result.findings[0].message


def test_revoked_after_the_time_checked_is_not_revoked_then(ca: Ca, leaf: x509.Certificate) -> None:
    result = check(leaf, ca, crls=[ca.crl([(0x1234, T0 + 2 * HOUR)])], at=T0)
    assert result.status is CertStatus.GOOD
    assert codes_of(result) == [REVOKED_LATER, GOOD]


def test_unknown_without_crl(ca: Ca, leaf: x509.Certificate) -> None:
    result = check(leaf, ca)
    assert result.status is CertStatus.UNKNOWN
    assert result.source == ""
    assert codes_of(result) == [NO_SOURCE, UNKNOWN]
    assert result.findings[-1].severity is Severity.ERROR
    assert not result.report.ok


def test_crl_of_another_issuer_is_no_source(ca: Ca, leaf: x509.Certificate) -> None:
    result = check(leaf, ca, crls=[Ca.create("TEST AC AUTRE").crl()])
    assert codes_of(result) == [NO_SOURCE, UNKNOWN]


def test_crl_with_bad_signature_proves_nothing(ca: Ca, leaf: x509.Certificate) -> None:
    forged = ca.crl(signing_key=ec.generate_private_key(ec.SECP256R1()), aki=_ski(ca.key).digest)
    result = check(leaf, ca, crls=[forged])
    assert result.status is CertStatus.UNKNOWN
    assert codes_of(result) == [CRL_BAD_SIGNATURE, UNKNOWN]


def test_crl_with_bad_signature_cannot_revoke_either(ca: Ca, leaf: x509.Certificate) -> None:
    forged = ca.crl([(0x1234, T0 - DAY)], signing_key=ec.generate_private_key(ec.SECP256R1()))
    assert check(leaf, ca, crls=[forged]).status is CertStatus.UNKNOWN


def test_crl_past_next_update_is_not_proof_of_good(ca: Ca, leaf: x509.Certificate) -> None:
    stale = ca.crl(this_update=T0 - 3 * DAY, next_update=T0 - 1 * DAY)
    result = check(leaf, ca, crls=[stale])
    assert result.status is CertStatus.UNKNOWN
    assert codes_of(result) == [CRL_EXPIRED, UNKNOWN]
    assert "expired at 2025-06-01T12:00:00Z, checked at 2025-06-02T12:00:00Z" in result.findings[0].message
    # No clock-skew allowance on nextUpdate.
    assert check(leaf, ca, crls=[ca.crl(next_update=T0 - timedelta(seconds=1))]).status is CertStatus.UNKNOWN


def test_expired_crl_still_proves_a_revocation(ca: Ca, leaf: x509.Certificate) -> None:
    stale = ca.crl([(0x1234, T0 - 5 * DAY)], this_update=T0 - 3 * DAY, next_update=T0 - DAY)
    result = check(leaf, ca, crls=[stale])
    assert result.status is CertStatus.REVOKED
    assert codes_of(result) == [CRL_EXPIRED, REVOKED]


def test_crl_not_yet_valid(ca: Ca, leaf: x509.Certificate) -> None:
    early = ca.crl(this_update=T0 + HOUR, next_update=T0 + DAY)
    result = check(leaf, ca, crls=[early])
    assert codes_of(result) == [CRL_NOT_YET_VALID, UNKNOWN]
    within_skew = ca.crl(this_update=T0 + timedelta(minutes=4), next_update=T0 + DAY)
    assert check(leaf, ca, crls=[within_skew]).status is CertStatus.GOOD
    strict = check(leaf, ca, crls=[within_skew], clock_skew=timedelta(0))
    assert codes_of(strict) == [CRL_NOT_YET_VALID, UNKNOWN]


def test_crl_older_than_max_age(ca: Ca, leaf: x509.Certificate) -> None:
    data = ca.crl(this_update=T0 - 3 * DAY, next_update=T0 + 4 * DAY)
    assert check(leaf, ca, crls=[data]).status is CertStatus.GOOD
    result = check(leaf, ca, crls=[data], max_crl_age=2 * DAY)
    assert codes_of(result) == [CRL_TOO_OLD, UNKNOWN]


def test_newest_valid_crl_wins_over_a_stale_one(ca: Ca, leaf: x509.Certificate) -> None:
    stale = ca.crl(this_update=T0 - 3 * DAY, next_update=T0 - DAY, number=1)
    fresh = ca.crl(number=2)
    result = check(leaf, ca, crls=[stale, fresh])
    assert result.status is CertStatus.GOOD
    assert codes_of(result) == [CRL_EXPIRED, GOOD]


def test_delta_crl_is_ignored(ca: Ca, leaf: x509.Certificate) -> None:
    delta = ca.crl([(0x1234, T0 - DAY)], extensions=[(x509.DeltaCRLIndicator(1), True)])
    result = check(leaf, ca, crls=[delta])
    assert result.status is CertStatus.UNKNOWN
    assert codes_of(result) == [DELTA_IGNORED, UNKNOWN]


def test_ldap_only_delta_crl_is_an_info_finding(ca: Ca) -> None:
    cert = ca.issue(freshest=["ldap://annuaire-igc.esante.gouv.fr/cn=AC?deltarevocationlist;binary"]).cert
    result = check(cert, ca, crls=[ca.crl()])
    assert result.status is CertStatus.GOOD
    assert codes_of(result) == [DELTA_NOT_CHECKED, GOOD]
    note = result.findings[0]
    assert note.severity is Severity.INFO
    assert note.message.startswith("delta CRL (LDAP) not checked")


def test_crl_with_unknown_critical_extension_is_not_used(ca: Ca, leaf: x509.Certificate) -> None:
    odd = x509.UnrecognizedExtension(x509.ObjectIdentifier("1.2.250.1.999.1"), b"\x05\x00")
    result = check(leaf, ca, crls=[ca.crl(extensions=[(odd, True)])])
    assert codes_of(result) == [CRL_CRITICAL, UNKNOWN]
    assert "1.2.250.1.999.1" in result.findings[0].message


def _idp(**options: object) -> x509.IssuingDistributionPoint:
    values: dict[str, object] = {
        "full_name": None,
        "relative_name": None,
        "only_contains_user_certs": False,
        "only_contains_ca_certs": False,
        "only_some_reasons": None,
        "indirect_crl": False,
        "only_contains_attribute_certs": False,
    }
    values.update(options)
    return x509.IssuingDistributionPoint(**values)  # type: ignore[arg-type]


def test_crl_scope_from_issuing_distribution_point(ca: Ca, leaf: x509.Certificate) -> None:
    url = "http://igc.example/CRL/ACI.crl"
    cert = ca.issue(crl_urls=[url]).cert
    ca_cert = ca.issue("TEST AC INTERMEDIAIRE", ca=True, crl_urls=[url]).cert
    in_scope = _idp(full_name=[x509.UniformResourceIdentifier(url)])
    other_scope = _idp(full_name=[x509.UniformResourceIdentifier("http://igc.example/CRL/other.crl")])
    users_only = _idp(only_contains_user_certs=True)
    cas_only = _idp(only_contains_ca_certs=True)
    assert check(cert, ca, crls=[ca.crl(extensions=[(in_scope, True)])]).status is CertStatus.GOOD
    assert check(cert, ca, crls=[ca.crl(extensions=[(users_only, True)])]).status is CertStatus.GOOD
    assert check(ca_cert, ca, crls=[ca.crl(extensions=[(cas_only, True)])]).status is CertStatus.GOOD
    for cert_checked, idp in [(cert, other_scope), (leaf, in_scope), (cert, cas_only), (ca_cert, users_only)]:
        result = check(cert_checked, ca, crls=[ca.crl(extensions=[(idp, True)])])
        assert codes_of(result) == [CRL_OUT_OF_SCOPE, UNKNOWN], idp
    relative = x509.RelativeDistinguishedName([x509.NameAttribute(NameOID.COMMON_NAME, "CRL1")])
    for idp in [
        _idp(only_some_reasons=frozenset({x509.ReasonFlags.key_compromise})),
        _idp(indirect_crl=True),
        _idp(only_contains_attribute_certs=True),
        _idp(relative_name=relative),
    ]:
        assert codes_of(check(cert, ca, crls=[ca.crl(extensions=[(idp, True)])])) == [CRL_OUT_OF_SCOPE, UNKNOWN], idp
    # Out of scope cannot prove good, but a listed serial of the same issuer is still revoked.
    listed = ca.crl([(cert.serial_number, T0 - DAY)], extensions=[(cas_only, True)])
    assert check(cert, ca, crls=[listed]).status is CertStatus.REVOKED


def test_issuer_that_is_not_the_certificates_issuer(ca: Ca, leaf: x509.Certificate) -> None:
    other = Ca.create("TEST AC AUTRE")
    result = check(leaf, other, crls=[other.crl()])
    assert codes_of(result) == [WRONG_ISSUER, UNKNOWN]


def test_unreadable_crl_bytes_are_refused_at_construction() -> None:
    with pytest.raises(InvalidInput):
        RevocationChecker(crls=[b"garbage"])


def test_time_must_be_timezone_aware(ca: Ca, leaf: x509.Certificate) -> None:
    checker = RevocationChecker(crls=[ca.crl()])
    with pytest.raises(InvalidInput, match="timezone-aware"):
        checker.check(leaf, ca.cert, at=datetime(2025, 6, 2, 12, 0))
    other_zone = timezone(timedelta(hours=2))
    assert checker.check(leaf, ca.cert, at=T0.astimezone(other_zone)).status is CertStatus.GOOD


def test_a_checker_serves_many_certificates(ca: Ca) -> None:
    certs = [ca.issue(serial=n).cert for n in range(100, 110)]
    checker = RevocationChecker(crls=[ca.crl([(103, T0 - DAY), (107, T0 - DAY)])])
    statuses = [checker.check(cert, ca.cert, at=T0).status for cert in certs]
    assert [n for n, status in zip(range(100, 110), statuses, strict=True) if status is CertStatus.REVOKED] == [
        103,
        107,
    ]


# --- modes ------------------------------------------------------------------------------------------------------


def test_hard_mode_is_the_default_and_warns_nothing(ca: Ca, leaf: x509.Certificate) -> None:
    checker = RevocationChecker()
    assert checker.mode is RevocationMode.HARD
    result = checker.check(leaf, ca.cert, at=T0)
    assert result.findings[-1].severity is Severity.ERROR


def test_soft_mode_warns_and_makes_unknown_a_warning(ca: Ca, leaf: x509.Certificate) -> None:
    with pytest.warns(SecurityWarning, match="soft-fail"):
        checker = RevocationChecker(mode=RevocationMode.SOFT)
    result = checker.check(leaf, ca.cert, at=T0)
    assert result.status is CertStatus.UNKNOWN
    assert codes_of(result) == [NO_SOURCE, UNKNOWN]
    assert result.findings[-1].severity is Severity.WARNING
    assert result.report.ok


def test_soft_mode_still_refuses_a_revoked_certificate(ca: Ca, leaf: x509.Certificate) -> None:
    with pytest.warns(SecurityWarning):
        checker = RevocationChecker(mode="soft", crls=[ca.crl([(0x1234, T0 - DAY)])])
    result = checker.check(leaf, ca.cert, at=T0)
    assert result.status is CertStatus.REVOKED
    assert not result.report.ok


def test_off_mode_warns_and_does_no_work(ca: Ca, leaf: x509.Certificate) -> None:
    with pytest.warns(SecurityWarning, match="off"):
        checker = RevocationChecker(mode=RevocationMode.OFF, crls=[b"never read"], ocsp_responses=[b"never read"])
    result = checker.check(leaf, ca.cert, at=T0)
    assert result.status is CertStatus.UNKNOWN
    assert codes_of(result) == [OFF]
    assert result.findings[0].severity is Severity.INFO
    assert result.report.ok


def test_result_can_be_extended(ca: Ca, leaf: x509.Certificate) -> None:
    result = check(leaf, ca, crls=[ca.crl()])
    extra = check(leaf, ca).findings
    extended = result.extended(extra)
    assert extended.status is CertStatus.GOOD
    assert codes_of(extended) == [GOOD, NO_SOURCE, UNKNOWN]


# --- OCSP -------------------------------------------------------------------------------------------------------


def test_ocsp_good_signed_by_the_ca(rsa_ca: Ca) -> None:
    cert = rsa_ca.issue().cert
    for by_name in (False, True):
        result = check(cert, rsa_ca, ocsp_responses=[rsa_ca.ocsp(cert, by_name=by_name)])
        assert result.status is CertStatus.GOOD
        assert result.source == "ocsp"
        assert codes_of(result) == [GOOD]
        assert "OCSP response by" in result.findings[0].message


def test_ocsp_good_signed_by_a_delegated_responder(ca: Ca, leaf: x509.Certificate) -> None:
    responder = ca.responder()
    for by_name in (False, True):
        result = check(leaf, ca, ocsp_responses=[ca.ocsp(leaf, responder=responder, by_name=by_name)])
        assert result.status is CertStatus.GOOD, result.findings
        assert result.source == "ocsp"


def test_ocsp_revoked(ca: Ca, leaf: x509.Certificate) -> None:
    data = ca.ocsp(leaf, ocsp.OCSPCertStatus.REVOKED, responder=ca.responder(), revoked_at=T0 - 2 * HOUR)
    result = check(leaf, ca, ocsp_responses=[data])
    assert result.status is CertStatus.REVOKED
    assert result.source == "ocsp"
    assert codes_of(result) == [REVOKED]
    assert "2025-06-02T10:00:00Z" in result.findings[0].message


def test_ocsp_revoked_after_the_time_checked(ca: Ca, leaf: x509.Certificate) -> None:
    data = ca.ocsp(leaf, ocsp.OCSPCertStatus.REVOKED, revoked_at=T0 + HOUR, this_update=T0 - HOUR)
    result = check(leaf, ca, ocsp_responses=[data])
    assert result.status is CertStatus.GOOD
    assert codes_of(result) == [REVOKED_LATER, GOOD]


def test_ocsp_is_preferred_to_a_crl(ca: Ca, leaf: x509.Certificate) -> None:
    result = check(leaf, ca, crls=[ca.crl()], ocsp_responses=[ca.ocsp(leaf)])
    assert result.status is CertStatus.GOOD
    assert result.source == "ocsp"


def test_a_revocation_in_a_valid_crl_wins_over_a_good_ocsp(ca: Ca, leaf: x509.Certificate) -> None:
    result = check(leaf, ca, crls=[ca.crl([(0x1234, T0 - DAY)])], ocsp_responses=[ca.ocsp(leaf)])
    assert result.status is CertStatus.REVOKED
    assert result.source == "crl"


def test_crl_is_used_when_the_ocsp_response_proves_nothing(ca: Ca, leaf: x509.Certificate) -> None:
    stale = ca.ocsp(leaf, this_update=T0 - 3 * DAY, next_update=T0 - DAY)
    result = check(leaf, ca, crls=[ca.crl()], ocsp_responses=[stale])
    assert result.status is CertStatus.GOOD
    assert result.source == "crl"
    assert codes_of(result) == [OCSP_EXPIRED, GOOD]


def test_ocsp_for_another_certificate(ca: Ca, leaf: x509.Certificate) -> None:
    other = ca.issue(serial=0x5678).cert
    result = check(leaf, ca, ocsp_responses=[ca.ocsp(other)])
    assert result.status is CertStatus.UNKNOWN
    assert codes_of(result) == [OCSP_OTHER, NO_SOURCE, UNKNOWN]
    assert "5678" in result.findings[0].message


def test_ocsp_with_the_same_serial_under_another_issuer_key(ca: Ca, leaf: x509.Certificate) -> None:
    impostor = ca.impostor()
    data = ca.ocsp(leaf, certid_issuer=impostor.cert)
    result = check(leaf, ca, ocsp_responses=[data])
    assert codes_of(result) == [OCSP_OTHER, NO_SOURCE, UNKNOWN]


def test_ocsp_responder_without_ocsp_signing(ca: Ca, leaf: x509.Certificate) -> None:
    responder = ca.responder(eku=[ExtendedKeyUsageOID.CLIENT_AUTH])
    result = check(leaf, ca, ocsp_responses=[ca.ocsp(leaf, responder=responder)])
    assert result.status is CertStatus.UNKNOWN
    assert codes_of(result) == [OCSP_UNAUTHORISED, UNKNOWN]
    assert "no extended key usage OCSPSigning" in result.findings[0].message


def test_ocsp_responder_issued_by_another_ca(ca: Ca, leaf: x509.Certificate) -> None:
    other = Ca.create("TEST AC AUTRE")
    responder = other.responder()
    result = check(leaf, ca, ocsp_responses=[ca.ocsp(leaf, responder=responder)])
    assert codes_of(result) == [OCSP_UNAUTHORISED, UNKNOWN]
    assert "not by the CA" in result.findings[0].message


def test_ocsp_responder_forged_with_the_ca_name(ca: Ca, leaf: x509.Certificate) -> None:
    responder = ca.responder(signing_key=ec.generate_private_key(ec.SECP256R1()))
    result = check(leaf, ca, ocsp_responses=[ca.ocsp(leaf, responder=responder)])
    assert codes_of(result) == [OCSP_UNAUTHORISED, UNKNOWN]
    assert "does not verify under the CA's key" in result.findings[0].message


def test_ocsp_responder_not_included(ca: Ca, leaf: x509.Certificate) -> None:
    result = check(leaf, ca, ocsp_responses=[ca.ocsp(leaf, responder=ca.responder(), include=[])])
    assert codes_of(result) == [OCSP_UNAUTHORISED, UNKNOWN]


def test_ocsp_responder_expired(ca: Ca, leaf: x509.Certificate) -> None:
    responder = ca.responder(not_before=T0 - 10 * DAY, not_after=T0 - DAY)
    result = check(leaf, ca, ocsp_responses=[ca.ocsp(leaf, responder=responder)])
    assert codes_of(result) == [OCSP_UNAUTHORISED, UNKNOWN]


def _forged(der: bytes) -> bytes:
    return tampered(der, ocsp.load_der_ocsp_response(der).signature)


def test_ocsp_with_a_bad_signature(ca: Ca, rsa_ca: Ca, leaf: x509.Certificate) -> None:
    for by_name in (False, True):
        result = check(leaf, ca, ocsp_responses=[_forged(ca.ocsp(leaf, by_name=by_name))])
        assert codes_of(result) == [OCSP_BAD_SIGNATURE, UNKNOWN]
        forged = _forged(ca.ocsp(leaf, responder=ca.responder(), by_name=by_name))
        assert codes_of(check(leaf, ca, ocsp_responses=[forged])) == [OCSP_BAD_SIGNATURE, UNKNOWN]
    cert = rsa_ca.issue().cert
    assert codes_of(check(cert, rsa_ca, ocsp_responses=[_forged(rsa_ca.ocsp(cert))])) == [OCSP_BAD_SIGNATURE, UNKNOWN]


def test_ocsp_sha1_signature_is_not_accepted(rsa_ca: Ca) -> None:
    cert = rsa_ca.issue().cert
    data = sha1_ocsp(rsa_ca, rsa_ca.ocsp(cert))
    assert isinstance(ocsp.load_der_ocsp_response(data).signature_hash_algorithm, hashes.SHA1)
    result = check(cert, rsa_ca, ocsp_responses=[data])
    assert codes_of(result) == [WEAK, UNKNOWN]
    assert "SHA-1 signature not accepted" in result.findings[0].message


def test_ocsp_freshness(ca: Ca, leaf: x509.Certificate) -> None:
    expired = ca.ocsp(leaf, this_update=T0 - 3 * DAY, next_update=T0 - DAY)
    assert codes_of(check(leaf, ca, ocsp_responses=[expired])) == [OCSP_EXPIRED, UNKNOWN]
    early = ca.ocsp(leaf, this_update=T0 + HOUR, next_update=T0 + DAY)
    assert codes_of(check(leaf, ca, ocsp_responses=[early])) == [OCSP_NOT_YET_VALID, UNKNOWN]
    open_ended = ca.ocsp(leaf, this_update=T0 - HOUR, next_update=None)
    assert codes_of(check(leaf, ca, ocsp_responses=[open_ended])) == [OCSP_TOO_OLD, UNKNOWN]
    good = check(leaf, ca, ocsp_responses=[open_ended], max_ocsp_age=2 * HOUR)
    assert good.status is CertStatus.GOOD
    assert codes_of(check(leaf, ca, ocsp_responses=[open_ended], max_ocsp_age=HOUR / 2)) == [OCSP_TOO_OLD, UNKNOWN]


def test_ocsp_unknown_status(ca: Ca, leaf: x509.Certificate) -> None:
    result = check(leaf, ca, ocsp_responses=[ca.ocsp(leaf, ocsp.OCSPCertStatus.UNKNOWN)])
    assert codes_of(result) == [OCSP_UNKNOWN, UNKNOWN]


def test_ocsp_not_successful(ca: Ca, leaf: x509.Certificate) -> None:
    data = ocsp.OCSPResponseBuilder.build_unsuccessful(ocsp.OCSPResponseStatus.TRY_LATER)
    result = check(leaf, ca, ocsp_responses=[data.public_bytes(serialization.Encoding.DER)])
    assert codes_of(result) == [OCSP_NOT_SUCCESSFUL, NO_SOURCE, UNKNOWN]
    assert "try_later" in result.findings[0].message


@pytest.mark.parametrize("data", [b"", b"garbage", b"\x30\x03\x0a\x01\x00" * 2, b"\x30" * (2 * 1024 * 1024)])
def test_unreadable_ocsp_response_is_refused_at_construction(data: bytes) -> None:
    with pytest.raises(InvalidInput) as raised:
        RevocationChecker(ocsp_responses=[data])
    assert raised.value.report.codes == (OCSP_UNREADABLE,)

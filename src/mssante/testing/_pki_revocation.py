"""What the test PKI publishes on revocation: CRLs and their signers, OCSP responses and their responders."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Literal, TypeAlias

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID

from mssante.pki import CertStatus
from mssante.testing._pki_hierarchy import SPECS, CertificateAuthority, Flavour, ca_name, ca_policies
from mssante.testing._pki_issued import IssuedCertificate
from mssante.testing._pki_signing import sign_crl
from mssante.testing._pki_x509 import add_years, key_identifier_of, make_key_usage, random_serial, utc

__all__ = [
    "Revoked",
    "make_crl",
    "make_crl_signer",
    "make_ocsp_responder",
    "make_ocsp_response",
    "ocsp_unsuccessful",
]

Revoked: TypeAlias = int | tuple[int, datetime] | x509.Certificate | IssuedCertificate
"""A revoked certificate as a CRL takes it: its serial, ``(serial, revocation date)``, or the certificate."""

_OCSP_STATUS = {
    CertStatus.GOOD: ocsp.OCSPCertStatus.GOOD,
    CertStatus.REVOKED: ocsp.OCSPCertStatus.REVOKED,
    CertStatus.UNKNOWN: ocsp.OCSPCertStatus.UNKNOWN,
}


def _issued(
    builder: x509.CertificateBuilder, authority: CertificateAuthority, key: rsa.RSAPrivateKey
) -> IssuedCertificate:
    """The certificate ``builder`` describes, signed by ``authority``, with its ``key`` and its path."""
    certificate = builder.sign(authority.key, hashes.SHA256())
    return IssuedCertificate(
        certificate=certificate, key=key, chain=(certificate, *authority.path), anchor=authority.root.certificate
    )


def make_crl_signer(authority: CertificateAuthority, *, key: rsa.RSAPrivateKey, flavour: Flavour) -> IssuedCertificate:
    """The separate CRL-signing certificate of ``authority``, with ``key`` (see :meth:`TestPki.crl_signer`)."""
    builder = (
        x509.CertificateBuilder()
        .subject_name(authority.certificate.subject)
        .issuer_name(authority.certificate.subject)
        .public_key(key.public_key())
        .serial_number(random_serial())
        .not_valid_before(authority.certificate.not_valid_before_utc)
        .not_valid_after(authority.certificate.not_valid_after_utc)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(key_identifier_of(authority)),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(make_key_usage(crl_sign=True), critical=True)
        .add_extension(ca_policies(flavour), critical=False)
    )
    return _issued(builder, authority, key)


def make_crl(
    authority: CertificateAuthority,
    revoked: Iterable[Revoked],
    *,
    this_update: datetime,
    next_update: datetime,
    key: rsa.RSAPrivateKey,
    signer_key_identifier: x509.SubjectKeyIdentifier,
    signature_hash: hashes.HashAlgorithm,
    crl_number: int,
    reason: x509.ReasonFlags | None,
) -> bytes:
    """A DER CRL of ``authority`` listing ``revoked``, signed by ``key`` (see :meth:`TestPki.crl`)."""
    entries = [_revoked_entry(item, this_update, reason) for item in revoked]
    # One list given at once: add_revoked_certificate() copies the list each time (quadratic).
    builder = (
        x509.CertificateRevocationListBuilder(revoked_certificates=entries)
        .issuer_name(authority.certificate.subject)
        .last_update(this_update)
        .next_update(next_update)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(signer_key_identifier), critical=False
        )
        .add_extension(x509.CRLNumber(crl_number), critical=False)
    )
    return sign_crl(builder, key, signature_hash)


def _revoked_entry(item: Revoked, default_date: datetime, reason: x509.ReasonFlags | None) -> x509.RevokedCertificate:
    if isinstance(item, tuple):
        serial, date = item[0], utc(item[1], "revocation date")
    elif isinstance(item, IssuedCertificate):
        serial, date = item.certificate.serial_number, default_date
    elif isinstance(item, x509.Certificate):
        serial, date = item.serial_number, default_date
    else:
        serial, date = item, default_date
    entry = x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(date)
    if reason is not None:
        entry = entry.add_extension(x509.CRLReason(reason), critical=False)
    return entry.build()


def make_ocsp_responder(
    authority: CertificateAuthority, *, key: rsa.RSAPrivateKey, flavour: Flavour, at: datetime
) -> IssuedCertificate:
    """The delegated OCSP responder of ``authority``, with ``key`` (see :meth:`TestPki.ocsp_responder`)."""
    subject = ca_name(flavour, f"OCSP {SPECS[authority.name].cn}")
    start = at - timedelta(days=30)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(authority.certificate.subject)
        .public_key(key.public_key())
        .serial_number(random_serial())
        .not_valid_before(start)
        .not_valid_after(add_years(start, 3))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(key_identifier_of(authority)),
            critical=False,
        )
        .add_extension(make_key_usage(digital_signature=True), critical=True)
        .add_extension(
            x509.CertificatePolicies([x509.PolicyInformation(flavour.leaf_policy, [flavour.cps_uri])]),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.OCSP_SIGNING]), critical=False)
        .add_extension(x509.OCSPNoCheck(), critical=False)
    )
    return _issued(builder, authority, key)


def make_ocsp_response(
    leaf: x509.Certificate,
    authority: CertificateAuthority,
    status: CertStatus,
    *,
    this_update: datetime,
    next_update: datetime,
    revocation_time: datetime | None,
    revocation_reason: x509.ReasonFlags | None,
    cert_id_hash: hashes.HashAlgorithm | None,
    signature_hash: hashes.HashAlgorithm | None,
    responder_id: Literal["hash", "name"],
    signer: x509.Certificate,
    key: rsa.RSAPrivateKey,
    included: bool,
) -> bytes:
    """A DER OCSP response on ``leaf`` of ``authority``, signed by ``signer`` (see :meth:`TestPki.ocsp_response`).

    ``included``: the signer's certificate is put in the response (a delegated or wrong responder).
    """
    cert_status = _OCSP_STATUS[CertStatus(status)]
    revoked = cert_status is ocsp.OCSPCertStatus.REVOKED
    when = (this_update if revocation_time is None else utc(revocation_time, "revocation_time")) if revoked else None
    builder = ocsp.OCSPResponseBuilder().add_response(
        cert=leaf,
        issuer=authority.certificate,
        algorithm=cert_id_hash or hashes.SHA1(),  # noqa: S303 - the usual CertID hash
        cert_status=cert_status,
        this_update=this_update,
        next_update=next_update,
        revocation_time=when,
        revocation_reason=revocation_reason if revoked else None,
    )
    encoding = ocsp.OCSPResponderEncoding.HASH if responder_id == "hash" else ocsp.OCSPResponderEncoding.NAME
    builder = builder.responder_id(encoding, signer)
    if included:
        builder = builder.certificates([signer])
    response = builder.sign(key, signature_hash or hashes.SHA256())
    return response.public_bytes(serialization.Encoding.DER)


def ocsp_unsuccessful(status: ocsp.OCSPResponseStatus) -> bytes:
    """A DER OCSP response that carries only an error status (``TRY_LATER``, ``UNAUTHORIZED``...)."""
    return ocsp.OCSPResponseBuilder.build_unsuccessful(status).public_bytes(serialization.Encoding.DER)

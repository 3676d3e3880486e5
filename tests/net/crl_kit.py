"""What the CRL and OCSP tests share: a small CA issuing certificates, CRLs and OCSP answers, and a local server."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import ocsp
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID

from mssante.report import Finding
from tests.local_server import LocalServer, Reply

T0 = datetime(2025, 6, 2, 12, 0, tzinfo=timezone.utc)
HOUR, DAY = timedelta(hours=1), timedelta(days=1)

LDAP_NOT_CHECKED, URL_REFUSED, NO_DISTRIBUTION_POINT = "MSS-REV-029", "MSS-REV-030", "MSS-REV-031"
DOWNLOAD_FAILED, DOWNLOAD_REFUSED, FROM_CACHE = "MSS-REV-032", "MSS-REV-033", "MSS-REV-034"


# --- certificates, CRLs and OCSP responses ----------------------------------------------------------------------


def _usage(*flags: str) -> x509.KeyUsage:
    names = "digital_signature content_commitment key_encipherment data_encipherment key_agreement"
    names += " key_cert_sign crl_sign encipher_only decipher_only"
    return x509.KeyUsage(**{name: name in flags for name in names.split()})


def _ski(key: ec.EllipticCurvePrivateKey) -> x509.SubjectKeyIdentifier:
    return x509.SubjectKeyIdentifier.from_public_key(key.public_key())


@dataclass
class Issued:
    """A certificate and its private key."""

    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey


@dataclass
class Ca:
    """A small certificate authority issuing what the fetch tests serve."""

    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    @classmethod
    def create(cls, name: x509.Name | None = None) -> Ca:
        key = ec.generate_private_key(ec.SECP256R1())
        name = name or x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "FR"),
                x509.NameAttribute(NameOID.COMMON_NAME, "TEST AC IGC-SANTE ELEMENTAIRE ORGANISATIONS"),
            ]
        )
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(T0 - 365 * DAY)
            .not_valid_after(T0 + 365 * DAY)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(_usage("key_cert_sign", "crl_sign"), critical=True)
            .add_extension(_ski(key), critical=False)
            .sign(key, hashes.SHA256())
        )
        return cls(cert=cert, key=key)

    def impostor(self) -> Ca:
        """A CA with the same name and another key."""
        return Ca.create(self.cert.subject)

    def issue(
        self,
        *,
        subject: x509.Name | None = None,
        serial: int | None = None,
        crl_urls: Sequence[str] = (),
        ocsp_urls: Sequence[str] = (),
        usage: x509.KeyUsage | None = None,
        eku: Sequence[x509.ObjectIdentifier] = (),
        points: Sequence[x509.DistributionPoint] = (),
    ) -> Issued:
        key = ec.generate_private_key(ec.SECP256R1())
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject or x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "serveur.mssante.fr")]))
            .issuer_name(self.cert.subject)
            .public_key(key.public_key())
            .serial_number(serial or x509.random_serial_number())
            .not_valid_before(T0 - 30 * DAY)
            .not_valid_after(T0 + 30 * DAY)
            .add_extension(_ski(key), critical=False)
        )
        if usage is not None:
            builder = builder.add_extension(usage, critical=True)
        if eku:
            builder = builder.add_extension(x509.ExtendedKeyUsage(list(eku)), critical=False)
        if crl_urls:
            names = [x509.UniformResourceIdentifier(url) for url in crl_urls]
            points = [x509.DistributionPoint(names, None, None, None), *points]
        if points:
            builder = builder.add_extension(x509.CRLDistributionPoints(list(points)), critical=False)
        if ocsp_urls:
            access = [
                x509.AccessDescription(AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(url))
                for url in ocsp_urls
            ]
            builder = builder.add_extension(x509.AuthorityInformationAccess(access), critical=False)
        return Issued(cert=builder.sign(self.key, hashes.SHA256()), key=key)

    def crl_signer(self) -> Issued:
        """A separate CRL signer: the CA's own name, keyUsage cRLSign only, issued by the CA's key."""
        return self.issue(subject=self.cert.subject, usage=_usage("crl_sign"))

    def responder(self) -> Issued:
        """A delegated OCSP responder."""
        return self.issue(usage=_usage("digital_signature"), eku=[ExtendedKeyUsageOID.OCSP_SIGNING])

    def crl(
        self,
        revoked: Sequence[tuple[int, datetime]] = (),
        *,
        this_update: datetime = T0 - HOUR,
        next_update: datetime = T0 + DAY,
        number: int = 1,
        signer: Issued | None = None,
        extensions: Sequence[tuple[x509.ExtensionType, bool]] = (),
    ) -> bytes:
        """A DER CRL signed by the CA (or ``signer``), its AKI naming the signing key."""
        key = signer.key if signer else self.key
        entries = [x509.RevokedCertificateBuilder().serial_number(s).revocation_date(d).build() for s, d in revoked]
        builder = x509.CertificateRevocationListBuilder(
            issuer_name=self.cert.subject,
            last_update=this_update,
            next_update=next_update,
            revoked_certificates=entries,
        )
        builder = builder.add_extension(x509.CRLNumber(number), critical=False)
        builder = builder.add_extension(x509.AuthorityKeyIdentifier(_ski(key).digest, None, None), critical=False)
        for extension, critical in extensions:
            builder = builder.add_extension(extension, critical=critical)
        return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)

    def ocsp(self, cert: x509.Certificate, status: ocsp.OCSPCertStatus, *, responder: Issued) -> bytes:
        """A DER OCSP response about ``cert`` signed by a delegated ``responder`` (included)."""
        revoked = status is ocsp.OCSPCertStatus.REVOKED
        response = (
            ocsp.OCSPResponseBuilder()
            .add_response(
                cert=cert,
                issuer=self.cert,
                algorithm=hashes.SHA1(),
                cert_status=status,
                this_update=T0 - HOUR,
                next_update=T0 + DAY,
                revocation_time=T0 - DAY if revoked else None,
                revocation_reason=x509.ReasonFlags.key_compromise if revoked else None,
            )
            .responder_id(ocsp.OCSPResponderEncoding.HASH, responder.cert)
            .certificates([responder.cert])
            .sign(responder.key, hashes.SHA256())
        )
        return response.public_bytes(serialization.Encoding.DER)


# --- a local HTTP server ----------------------------------------------------------------------------------------


class Server(LocalServer):
    """The local HTTP server of these tests (plain HTTP: CRLs and OCSP answers are signed, not secret)."""


def codes_of(findings: list[Finding]) -> list[str]:
    return [finding.code for finding in findings]


def leaf_for(ca: Ca, *urls: str, ocsp_urls: tuple[str, ...] = ()) -> x509.Certificate:
    return ca.issue(serial=0x1234, crl_urls=urls, ocsp_urls=ocsp_urls).cert


# A server that trickles: each byte comes well within the per-read timeout (the hang guard here), the whole reply would
# take about ten seconds, and max_duration is half a second. The checks are counts, never durations: the fetch says the
# deadline passed, and the server had not written its whole reply when the fetch returned (the client hung up first).
TRICKLES = {
    "headers": lambda body: Reply(body, head_drip=0.1),  # the status line and headers, a byte at a time
    "body": lambda body: Reply(body, drip=0.1, piece=16),  # the body, 16 bytes at a time: never a whole chunk
}
DEADLINE = 0.5

"""A throw-away PKI shaped like IGC Santé: its CAs, leaves of every profile, CRLs and OCSP responses.

Names, extensions and their order copy the real IGC Santé certificates (production and TEST CAs, TEST
SERV SSL and CPS leaves). The keys are fresh RSA-2048 keys, made when first needed and kept by the
:class:`TestPki` that made them, so nothing it issues is trusted by the real anchors, and two
instances never trust each other's certificates.
"""

from __future__ import annotations

import secrets
import threading
import types
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Literal, TypedDict

import attrs
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509 import ocsp
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID

from mssante.identifiers import IdNatStruct, Idnps
from mssante.pki._anchors import IGC_SANTE_CAS, PublishedCa, fingerprint
from mssante.pki._types import (
    OID_GIP_CPS_2_3,
    OID_PRODUCT_CATEGORY,
    OID_PRODUCT_TYPE,
    OID_PROFESSION,
    TEST_POLICY_OID,
    CertStatus,
    Environment,
)

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = [
    "CA_NAMES",
    "SYNTHETIC_PROD_POLICY_OID",
    "UNKNOWN_EXTENSION_OID",
    "CertificateAuthority",
    "IssuedCertificate",
    "LeafOptions",
    "TestPki",
]

SYNTHETIC_PROD_POLICY_OID = x509.ObjectIdentifier("1.2.250.1.213.1.7.1.1.1.1.1")
"""The policy of the production-shaped leaves. Made up: the real production policy OIDs are unpublished."""

UNKNOWN_EXTENSION_OID = x509.ObjectIdentifier("2.25.215026857390746591643126174228456570676")
"""A UUID-based OID nobody knows, for the ``unknown_critical_extension`` variant."""

_OCSP_URL = "http://ocsp.esante.gouv.fr"
_HTTP = "http://igc-sante.esante.gouv.fr"
_LDAP = "ldap://annuaire-igc.esante.gouv.fr"
_ASIP_ID = "0002 187512751"
_RSA_BITS = 2048


@attrs.frozen(kw_only=True)
class _Flavour:
    """What tells the TEST hierarchy from production: names, URLs and the leaves' policy."""

    cn_prefix: str
    ou: str
    cps_uri: str
    file_suffix: str
    ca_folder: str
    leaf_policy: x509.ObjectIdentifier


_FLAVOURS: Mapping[Environment, _Flavour] = types.MappingProxyType(
    {
        Environment.PROD: _Flavour(
            cn_prefix="",
            ou="IGC-SANTE",
            cps_uri=f"{_HTTP}/PC",
            file_suffix="",
            ca_folder="AC",
            leaf_policy=SYNTHETIC_PROD_POLICY_OID,
        ),
        Environment.TEST: _Flavour(
            cn_prefix="TEST ",
            ou="IGC-SANTE TEST",
            cps_uri=f"{_HTTP}/PC%20TEST",
            file_suffix="-TEST",
            ca_folder="AC%20TEST",
            leaf_policy=TEST_POLICY_OID,
        ),
    }
)


@attrs.frozen(kw_only=True)
class _CaSpec:
    cn: str
    parent: str | None
    stem: str  # file name of its CRL and certificate on igc-sante.esante.gouv.fr, before "-TEST"


# The PERSONNES CAs publish as "…-PP" (seen for TEST FORT PERSONNES: ACI-FO-PP-TEST.crl; assumed for the others).
_SPECS: Mapping[str, _CaSpec] = types.MappingProxyType(
    {
        "ACR-EL": _CaSpec(cn="AC RACINE IGC-SANTE ELEMENTAIRE", parent=None, stem="ACR-EL"),
        "ACI-EL-ORG": _CaSpec(cn="AC IGC-SANTE ELEMENTAIRE ORGANISATIONS", parent="ACR-EL", stem="ACI-EL-ORG"),
        "ACI-EL-PER": _CaSpec(cn="AC IGC-SANTE ELEMENTAIRE PERSONNES", parent="ACR-EL", stem="ACI-EL-PP"),
        "ACR-ST": _CaSpec(cn="AC RACINE IGC-SANTE STANDARD", parent=None, stem="ACR-ST"),
        "ACI-ST-ORG": _CaSpec(cn="AC IGC-SANTE STANDARD ORGANISATIONS", parent="ACR-ST", stem="ACI-ST-ORG"),
        "ACI-ST-PER": _CaSpec(cn="AC IGC-SANTE STANDARD PERSONNES", parent="ACR-ST", stem="ACI-ST-PP"),
        "ACR-FO": _CaSpec(cn="AC RACINE IGC-SANTE FORT", parent=None, stem="ACR-FO"),
        "ACI-FO-ORG": _CaSpec(cn="AC IGC-SANTE FORT ORGANISATIONS", parent="ACR-FO", stem="ACI-FO-ORG"),
        "ACI-FO-PER": _CaSpec(cn="AC IGC-SANTE FORT PERSONNES", parent="ACR-FO", stem="ACI-FO-PP"),
    }
)

CA_NAMES: tuple[str, ...] = tuple(_SPECS)
"""The short names :meth:`TestPki.ca` knows: the 3 roots ``ACR-*`` and their intermediates ``ACI-*``."""

_PROFESSIONS: Mapping[int, str] = types.MappingProxyType(
    {
        10: "Médecin",
        21: "Pharmacien",
        40: "Chirurgien-Dentiste",
        50: "Sage-Femme",
        60: "Infirmier",
        70: "Masseur-Kinésithérapeute",
    }
)
"""TRE_G15 profession codes and the labels put in the ``title`` of a CPS certificate."""


class LeafOptions(TypedDict, total=False):
    """Variants of a leaf certificate, each one defect or one choice; given as keyword arguments.

    - ``issuer``: the short name of the issuing CA instead of the profile's (e.g. a SERV SSL from ``ACI-EL-PER``).
    - ``not_before``, ``not_after``: the validity (by default from 30 days before ``at``, for 3 years).
    - ``expired``: validity ended the day before ``at``. ``not_yet_valid``: it starts the day after.
    - ``key_usage``, ``eku``, ``san``, ``policies``: replace the profile's value; ``None`` leaves the extension out.
      ``san`` takes host names or any :class:`~cryptography.x509.GeneralName`.
    - ``omit``: extension OIDs to leave out.
    - ``extra_extensions``: ``(extension, critical)`` pairs; one whose OID is already there replaces it in place,
      the others are appended.
    - ``unknown_critical_extension``: append a critical extension nobody knows (:data:`UNKNOWN_EXTENSION_OID`).
    - ``signature_hash``: the issuer's hash, e.g. ``SHA1()`` for a legacy signature.
    - ``key`` (an RSA key to reuse, which saves generating one) or ``key_size`` (e.g. 1024 for a weak key).
    - ``serial_number``; ``subject``: a whole subject name instead of the profile's.
    """

    issuer: str
    not_before: datetime
    not_after: datetime
    expired: bool
    not_yet_valid: bool
    key_usage: x509.KeyUsage | None
    eku: Sequence[x509.ObjectIdentifier] | None
    san: Sequence[str | x509.GeneralName] | None
    policies: Sequence[x509.ObjectIdentifier] | None
    omit: Collection[x509.ObjectIdentifier]
    extra_extensions: Sequence[tuple[x509.ExtensionType, bool]]
    unknown_critical_extension: bool
    signature_hash: hashes.HashAlgorithm
    key: rsa.RSAPrivateKey
    key_size: int
    serial_number: int
    subject: x509.Name


@attrs.frozen(kw_only=True, eq=False)
class CertificateAuthority:
    """One CA of a :class:`TestPki`: its certificate, its key and where it publishes.

    ``crl_url`` is the HTTP URL of the CRL it issues, ``ldap_crl_url`` and ``ldap_delta_crl_url`` its
    directory entries, ``ca_issuers_url`` where its certificate is published (as the leaves' AIA says).
    """

    name: str
    certificate: x509.Certificate
    key: rsa.RSAPrivateKey
    parent: CertificateAuthority | None
    crl_url: str
    ldap_crl_url: str
    ldap_delta_crl_url: str
    ca_issuers_url: str

    @property
    def is_root(self) -> bool:
        """True for the self-signed roots ``ACR-*``."""
        return self.parent is None

    @property
    def root(self) -> CertificateAuthority:
        """The root this CA chains to (itself for a root)."""
        return self if self.parent is None else self.parent.root

    @property
    def path(self) -> tuple[x509.Certificate, ...]:
        """The certificates from this CA up to its root, the root excluded (empty for a root)."""
        return () if self.parent is None else (self.certificate, *self.parent.path)

    @property
    def key_identifier(self) -> bytes:
        """The subject key identifier of its certificate."""
        return self.certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest


@attrs.frozen(kw_only=True, eq=False)
class IssuedCertificate:
    """A certificate with its private key, the ``chain`` a peer presents (leaf first) and its ``anchor``.

    ``chain`` holds the leaf then its intermediate CA; the root is the ``anchor``, not part of it.
    """

    certificate: x509.Certificate
    key: rsa.RSAPrivateKey
    chain: tuple[x509.Certificate, ...]
    anchor: x509.Certificate

    @property
    def intermediates(self) -> tuple[x509.Certificate, ...]:
        """The chain without the leaf."""
        return self.chain[1:]

    def pem(self) -> bytes:
        """The chain in PEM, leaf first (what a TLS server or client presents)."""
        return b"".join(certificate.public_bytes(serialization.Encoding.PEM) for certificate in self.chain)

    def key_pem(self) -> bytes:
        """The private key, PKCS#8 PEM, not encrypted."""
        return self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    def write(self, directory: str | Path, name: str) -> tuple[Path, Path]:
        """Write :meth:`pem` to ``<directory>/<name>.pem`` and the key to ``<name>.key`` (mode 0600); both paths."""
        certificate, key = Path(directory) / f"{name}.pem", Path(directory) / f"{name}.key"
        key.touch(mode=0o600)
        key.chmod(0o600)
        key.write_bytes(self.key_pem())
        certificate.write_bytes(self.pem())
        return certificate, key

    def pkcs12(self, password: bytes | None = None, *, name: bytes | None = None) -> bytes:
        """A PKCS#12 file with the key, the certificate and its intermediates; encrypted when given a password."""
        encryption: serialization.KeySerializationEncryption = (
            serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
        )
        return pkcs12.serialize_key_and_certificates(
            name, self.key, self.certificate, list(self.intermediates) or None, encryption
        )


def _utc(moment: datetime, what: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} must be a timezone-aware datetime, not {moment!r}")
    return moment.astimezone(timezone.utc).replace(microsecond=0)


def _at(moment: datetime) -> datetime:
    return _utc(moment, "at")


def _add_years(moment: datetime, years: int) -> datetime:
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:  # 29 February
        return moment.replace(year=moment.year + years, day=28)


def _name(*attributes: tuple[x509.ObjectIdentifier, str]) -> x509.Name:
    return x509.Name([x509.NameAttribute(oid, value) for oid, value in attributes])


def _url(text: str) -> str:
    return text.replace(" ", "%20")


def _der(tag: int, content: bytes) -> bytes:
    """One DER TLV; the GIP-CPS extension values are single primitives."""
    size = len(content)
    if size < 0x80:
        return bytes((tag, size)) + content
    length = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes((tag, 0x80 | len(length))) + length + content


def _der_integer(value: int) -> bytes:
    return _der(0x02, value.to_bytes(value.bit_length() // 8 + 1, "big", signed=True))


def _private(oid: x509.ObjectIdentifier, value: bytes) -> x509.UnrecognizedExtension:
    return x509.UnrecognizedExtension(oid, value)


def _serial() -> int:
    """16 random bytes, positive, like the serials of IGC Santé leaves."""
    return 1 + secrets.randbelow(2**127 - 1)


def _new_key(bits: int = _RSA_BITS) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


# Legacy SHA-1 signatures: cryptography refuses to sign with SHA-1, so sign with SHA-256 and replace
# the algorithm (same length) and the signature (same key, same length) in the DER.
_SHA256_RSA = bytes.fromhex("300d06092a864886f70d01010b0500")
_SHA1_RSA = bytes.fromhex("300d06092a864886f70d0101050500")


def _tlv(data: bytes, offset: int) -> tuple[int, int]:
    """Where the content of the TLV at ``offset`` starts and where the TLV ends."""
    length, start = data[offset + 1], offset + 2
    if length & 0x80:
        count = length & 0x7F
        length, start = int.from_bytes(data[start : start + count], "big"), start + count
    return start, start + length


def _resign_sha1(der: bytes, key: rsa.RSAPrivateKey) -> bytes:
    """Re-sign a SHA-256/RSA certificate or CRL with SHA-1 (``SEQUENCE {tbs, algorithm, signature}``)."""
    tbs_start, _ = _tlv(der, 0)
    tbs_content, tbs_end = _tlv(der, tbs_start)
    inner = tbs_content
    while der[inner] != 0x30:  # the TBS signature field is its first SEQUENCE (after version and serial)
        inner = _tlv(der, inner)[1]
    if der[inner : inner + len(_SHA256_RSA)] != _SHA256_RSA or der[tbs_end : tbs_end + len(_SHA256_RSA)] != (
        _SHA256_RSA
    ):
        raise ValueError("only a sha256WithRSAEncryption signature can be redone with SHA-1")
    tbs = der[tbs_start:inner] + _SHA1_RSA + der[inner + len(_SHA1_RSA) : tbs_end]
    signature = key.sign(tbs, padding.PKCS1v15(), hashes.SHA1())  # noqa: S303 - the legacy variant on purpose
    bits = tbs_end + len(_SHA256_RSA)
    bits_content, end = _tlv(der, bits)
    if end != len(der) or end - bits_content != len(signature) + 1:
        raise ValueError("unexpected signature layout")
    return der[:tbs_start] + tbs + _SHA1_RSA + der[bits:bits_content] + b"\x00" + signature


_SIGNING_HASHES = (hashes.SHA224, hashes.SHA256, hashes.SHA384, hashes.SHA512)


def _sign_certificate(
    builder: x509.CertificateBuilder, key: rsa.RSAPrivateKey, algorithm: hashes.HashAlgorithm
) -> x509.Certificate:
    if isinstance(algorithm, hashes.SHA1):
        der = builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)
        return x509.load_der_x509_certificate(_resign_sha1(der, key))
    if not isinstance(algorithm, _SIGNING_HASHES):
        raise ValueError(f"cannot sign with {algorithm.name}: use SHA-1 or SHA-2")
    return builder.sign(key, algorithm)


def _sign_crl(
    builder: x509.CertificateRevocationListBuilder, key: rsa.RSAPrivateKey, algorithm: hashes.HashAlgorithm
) -> bytes:
    if isinstance(algorithm, hashes.SHA1):
        return _resign_sha1(builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER), key)
    if not isinstance(algorithm, _SIGNING_HASHES):
        raise ValueError(f"cannot sign with {algorithm.name}: use SHA-1 or SHA-2")
    return builder.sign(key, algorithm).public_bytes(serialization.Encoding.DER)


@attrs.frozen(kw_only=True)
class _Profile:
    """What a leaf profile puts in a certificate besides the common extensions."""

    key_usage: x509.KeyUsage
    eku: tuple[x509.ObjectIdentifier, ...]
    san: tuple[x509.GeneralName, ...] | None = None
    usage_period: bool = False
    private: tuple[x509.UnrecognizedExtension, ...] = ()


def _key_usage(
    *,
    digital_signature: bool = False,
    content_commitment: bool = False,
    key_encipherment: bool = False,
    key_cert_sign: bool = False,
    crl_sign: bool = False,
) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=digital_signature,
        content_commitment=content_commitment,
        key_encipherment=key_encipherment,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=key_cert_sign,
        crl_sign=crl_sign,
        encipher_only=False,
        decipher_only=False,
    )


_PRODUCT_SERVER = _private(OID_PRODUCT_CATEGORY, _der(0x04, b"\x83"))  # SERV and ORG: 04 01 83
_PRODUCT_CARD = _private(OID_PRODUCT_CATEGORY, _der(0x04, b"\x80"))  # CPS card: 04 01 80


def _distribution_points(*urls: str) -> list[x509.DistributionPoint]:
    return [x509.DistributionPoint([x509.UniformResourceIdentifier(url)], None, None, None) for url in urls]


def _general_names(names: Sequence[str | x509.GeneralName]) -> tuple[x509.GeneralName, ...]:
    return tuple(x509.DNSName(name) if isinstance(name, str) else name for name in names)


@attrs.frozen(kw_only=True, eq=False)
class TestPki:
    """An IGC Santé–shaped PKI for one environment, at one moment ``at``.

    Build it with :meth:`create`, once per test session (a session-scoped pytest fixture): the CAs
    are made on first use and kept, and so are the CRL signers and OCSP responders. All keys are
    RSA-2048 (the real CAs have RSA-4096) to stay fast. Every validity is relative to ``at``: the CAs
    are valid from five years before it for twenty years, leaves from 30 days before it for three.
    The TEST and production hierarchies differ in names, URLs and leaf policy, and each instance has
    its own keys: nothing one instance issues chains to another's anchors.
    """

    __test__: ClassVar[bool] = False  # not a test class, whatever its name

    environment: Environment = attrs.field(converter=Environment)
    at: datetime = attrs.field(converter=_at)
    publication: str = attrs.field(default=_HTTP)
    """Where the CAs' CRLs and certificates are published (``<publication>/CRL/<name>.crl``): IGC Santé's
    server by default, a local HTTP server in tests that download them."""
    _cas: dict[str, CertificateAuthority] = attrs.field(init=False, factory=dict, repr=False)
    _crl_signers: dict[str, IssuedCertificate] = attrs.field(init=False, factory=dict, repr=False)
    _responders: dict[str, IssuedCertificate] = attrs.field(init=False, factory=dict, repr=False)
    _lock: threading.RLock = attrs.field(init=False, factory=threading.RLock, repr=False)

    @classmethod
    def create(cls, *, at: datetime, environment: Environment = Environment.TEST, publication: str = _HTTP) -> TestPki:
        """A new PKI for ``environment`` whose certificates are valid at ``at`` (a timezone-aware datetime).

        ``publication`` is the base URL written in the distribution points (see :attr:`publication`).
        """
        return cls(environment=environment, at=at, publication=publication.rstrip("/"))

    @property
    def _flavour(self) -> _Flavour:
        return _FLAVOURS[self.environment]

    # --- CAs -----------------------------------------------------------------------------------------

    @property
    def anchors(self) -> list[x509.Certificate]:
        """The three root certificates (ELEMENTAIRE, STANDARD, FORT): the trust anchors."""
        return [self.ca(name).certificate for name in CA_NAMES if _SPECS[name].parent is None]

    @property
    def intermediates(self) -> list[x509.Certificate]:
        """The six intermediate CA certificates."""
        return [self.ca(name).certificate for name in CA_NAMES if _SPECS[name].parent is not None]

    def ca(self, name: str) -> CertificateAuthority:
        """The CA called ``name`` (one of :data:`CA_NAMES`, e.g. ``"ACI-EL-ORG"``), made on first use."""
        spec = _SPECS.get(name)
        if spec is None:
            raise ValueError(f"unknown CA {name!r}: expected one of {', '.join(CA_NAMES)}")
        with self._lock:
            if name not in self._cas:
                parent = None if spec.parent is None else self.ca(spec.parent)
                self._cas[name] = self._make_ca(name, spec, parent)
            return self._cas[name]

    def _ca_name(self, cn: str) -> x509.Name:
        flavour = self._flavour
        return _name(
            (NameOID.COUNTRY_NAME, "FR"),
            (NameOID.ORGANIZATION_NAME, "ASIP-SANTE"),
            (NameOID.ORGANIZATIONAL_UNIT_NAME, _ASIP_ID),
            (NameOID.ORGANIZATIONAL_UNIT_NAME, flavour.ou),
            (NameOID.COMMON_NAME, flavour.cn_prefix + cn),
        )

    def _ca_policies(self) -> x509.CertificatePolicies:
        return x509.CertificatePolicies(
            [x509.PolicyInformation(x509.ObjectIdentifier("2.5.29.32.0"), [self._flavour.cps_uri])]
        )

    def _make_ca(self, name: str, spec: _CaSpec, parent: CertificateAuthority | None) -> CertificateAuthority:
        flavour = self._flavour
        key = _new_key()
        subject = self._ca_name(spec.cn)
        start = _add_years(self.at.replace(hour=0, minute=0, second=0), -5)
        end = _add_years(start, 20) - (timedelta(0) if parent is None else timedelta(days=1))
        ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject if parent is None else parent.certificate.subject)
            .public_key(key.public_key())
            .serial_number((0x1120 << 128) | secrets.randbits(128))  # 18 bytes starting 1120, as the real ones
            .not_valid_before(start)
            .not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None if parent is None else 0), critical=True)
            .add_extension(_key_usage(key_cert_sign=True, crl_sign=True), critical=True)
            .add_extension(self._ca_policies(), critical=False)
        )
        if parent is not None:
            root_dn = f"CN={flavour.cn_prefix}{_SPECS[parent.name].cn},OU={flavour.ou},OU={_ASIP_ID},O=ASIP-SANTE,C=FR"
            ldap = f"{_LDAP}/{_url(root_dn)}?certificaterevocationlist;binary?base?objectclass=pkiCa"
            builder = builder.add_extension(
                x509.CRLDistributionPoints(_distribution_points(parent.crl_url, ldap)), critical=False
            )
        authority_ski = ski if parent is None else self._ski(parent)
        builder = builder.add_extension(ski, critical=False).add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(authority_ski), critical=False
        )
        certificate = builder.sign(key if parent is None else parent.key, hashes.SHA256())
        stem = spec.stem + flavour.file_suffix
        ldap_dn = f"cn={flavour.cn_prefix}{spec.cn},"
        if parent is not None:
            ldap_dn += f"ou={flavour.cn_prefix}{_SPECS[parent.root.name].cn},"
        ldap_dn = _url(f"{ldap_dn}ou={flavour.ou},ou={_ASIP_ID},o=ASIP-SANTE,c=FR")
        return CertificateAuthority(
            name=name,
            certificate=certificate,
            key=key,
            parent=parent,
            crl_url=f"{self.publication}/CRL/{stem}.crl",
            ldap_crl_url=f"{_LDAP}/{ldap_dn}?certificaterevocationlist;binary?base?objectClass=pkiCA",
            ldap_delta_crl_url=f"{_LDAP}/{ldap_dn}?deltarevocationlist;binary?base?objectClass=pkiCA",
            ca_issuers_url=f"{self.publication}/{flavour.ca_folder}/{stem}.cer",
        )

    def published_cas(self) -> tuple[PublishedCa, ...]:
        """The IGC Santé CAs mssante knows for this environment, pinned to this PKI's keys instead of ANS's.

        For a trust store that stands in for the real one (``TrustStore.from_certificates(...,
        catalogue=pki.published_cas())``), to test what :data:`~mssante.pki.IGC_SANTE_CAS` drives: each entry of
        it keeps its kind of pin (the CAs mssante ships by fingerprint; the TEST FORT ones as ANS's certificates
        allow: ``ACI-FO-PP-TEST`` by key identifier, its root by none), with this PKI's file names and addresses.
        """
        by_cn = {spec.cn: name for name, spec in _SPECS.items()}
        entries = []
        for entry in IGC_SANTE_CAS:
            if entry.environment is not self.environment:
                continue
            authority = self.ca(by_cn[entry.common_name.removeprefix(self._flavour.cn_prefix)])
            entries.append(
                attrs.evolve(
                    entry,
                    name=authority.ca_issuers_url.rsplit("/", 1)[-1].removesuffix(".cer"),
                    url=authority.ca_issuers_url,
                    sha256=fingerprint(authority.certificate) if entry.sha256 else None,
                    key_identifier=authority.key_identifier if entry.key_identifier else None,
                )
            )
        return tuple(entries)

    def issuer_of(self, certificate: x509.Certificate) -> CertificateAuthority:
        """The CA of this PKI that issued ``certificate`` (matched by issuer name and key identifier)."""
        try:
            aki = certificate.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier
        except x509.ExtensionNotFound:
            aki = None
        with self._lock:
            for authority in self._cas.values():
                if authority.certificate.subject == certificate.issuer and aki in (None, authority.key_identifier):
                    return authority
        raise ValueError(f"{certificate.subject.rfc4514_string()!r} was not issued by this test PKI")

    # --- leaves --------------------------------------------------------------------------------------

    def server(
        self,
        fqdns: Sequence[str] = ("mss.example.org",),
        *,
        structure: str | IdNatStruct = "318751275100020",
        organisation: str = "ASIP-SANTE",
        department: str = "Paris (75)",
        **options: Unpack[LeafOptions],
    ) -> IssuedCertificate:
        """A SERV SSL certificate (MSSanté operator) from ``ACI-EL-ORG``: TLS server and client.

        Subject ``C=FR, ST=<department>, O=<organisation>, OU=<structure>, CN=<first FQDN>`` where the
        structure is an IdNat_Struct (``3`` + SIRET); every FQDN goes in the SAN. KU digitalSignature +
        keyEncipherment, EKU serverAuth + clientAuth.
        """
        names = [fqdns] if isinstance(fqdns, str) else list(fqdns)
        if not names:
            raise ValueError("a server certificate needs at least one FQDN")
        subject = _name(
            (NameOID.COUNTRY_NAME, "FR"),
            (NameOID.STATE_OR_PROVINCE_NAME, department),
            (NameOID.ORGANIZATION_NAME, organisation),
            (NameOID.ORGANIZATIONAL_UNIT_NAME, str(structure)),
            (NameOID.COMMON_NAME, names[0]),
        )
        profile = _Profile(
            key_usage=_key_usage(digital_signature=True, key_encipherment=True),
            eku=(ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH),
            san=_general_names(names),
            private=(_PRODUCT_SERVER,),
        )
        return self._leaf("ACI-EL-ORG", subject, profile, options)

    def organisation(
        self,
        name: str = "APPLICATION",
        *,
        usage: Literal["auth", "sign", "conf"] = "auth",
        structure: str | IdNatStruct = "1750712184",
        organisation: str = "CENTRE HOSPITALIER EXEMPLE",
        department: str = "Paris (75)",
        **options: Unpack[LeafOptions],
    ) -> IssuedCertificate:
        """An ORG certificate (a legal entity's software or mailbox) from ``ACI-EL-ORG``; no SAN.

        Subject ``C=FR, ST=<department>, O=<organisation>, OU=<structure>, CN=<name>``. ``usage``:
        ``auth`` (AUTH_CLI: KU digitalSignature, EKU clientAuth), ``sign`` (KU digitalSignature +
        nonRepudiation, EKU emailProtection, privateKeyUsagePeriod) or ``conf`` (KU keyEncipherment,
        EKU emailProtection).
        """
        profiles = {
            "auth": _Profile(key_usage=_key_usage(digital_signature=True), eku=(ExtendedKeyUsageOID.CLIENT_AUTH,)),
            "sign": _Profile(
                key_usage=_key_usage(digital_signature=True, content_commitment=True),
                eku=(ExtendedKeyUsageOID.EMAIL_PROTECTION,),
                usage_period=True,
            ),
            "conf": _Profile(key_usage=_key_usage(key_encipherment=True), eku=(ExtendedKeyUsageOID.EMAIL_PROTECTION,)),
        }
        if usage not in profiles:
            raise ValueError(f"usage must be 'auth', 'sign' or 'conf', not {usage!r}")
        subject = _name(
            (NameOID.COUNTRY_NAME, "FR"),
            (NameOID.STATE_OR_PROVINCE_NAME, department),
            (NameOID.ORGANIZATION_NAME, organisation),
            (NameOID.ORGANIZATIONAL_UNIT_NAME, str(structure)),
            (NameOID.COMMON_NAME, name),
        )
        profile = attrs.evolve(profiles[usage], private=(_PRODUCT_SERVER,))
        return self._leaf("ACI-EL-ORG", subject, profile, options)

    def person(
        self,
        idnps: str | Idnps = "810000001916",
        *,
        given_name: str = "CAMILLE",
        surname: str = "DUPONT",
        profession: int = 10,
        title: str | None = None,
        usage: Literal["auth", "sign"] = "auth",
        gamme: Literal["FO", "ST", "EL"] = "FO",
        product_type: int = 0,
        extension_2_3: str = "8000000001/2000000001",
        **options: Unpack[LeafOptions],
    ) -> IssuedCertificate:
        """A CPS card certificate of a health professional, from ``ACI-<gamme>-PER`` (FORT by default).

        Subject ``givenName+CN+SN, title, C=FR`` (one multi-valued RDN) where CN is the IdNat_PS
        (``8`` + RPPS or ``0`` + ADELI) and ``title`` the label of the TRE_G15 ``profession`` code
        (give ``title`` for a code without a known label). ``usage``: ``auth`` (KU digitalSignature,
        EKU clientAuth) or ``sign`` (KU nonRepudiation, EKU emailProtection, privateKeyUsagePeriod).
        GIP-CPS extensions: product category 0x80, product type, 2.3 and the profession code.
        Identifiers are not validated, so tests can build certificates with malformed ones.
        """
        if usage not in ("auth", "sign"):
            raise ValueError(f"usage must be 'auth' or 'sign', not {usage!r}")
        if gamme not in ("FO", "ST", "EL"):
            raise ValueError(f"gamme must be 'FO', 'ST' or 'EL', not {gamme!r}")
        label = title if title is not None else _PROFESSIONS.get(profession)
        if label is None:
            raise ValueError(f"no known label for profession {profession}: give title=")
        subject = x509.Name(
            [
                x509.RelativeDistinguishedName([x509.NameAttribute(NameOID.COUNTRY_NAME, "FR")]),
                x509.RelativeDistinguishedName([x509.NameAttribute(NameOID.TITLE, label)]),
                x509.RelativeDistinguishedName(
                    [
                        x509.NameAttribute(NameOID.GIVEN_NAME, given_name),
                        x509.NameAttribute(NameOID.COMMON_NAME, str(idnps)),
                        x509.NameAttribute(NameOID.SURNAME, surname),
                    ]
                ),
            ]
        )
        if usage == "auth":
            key_usage, eku = _key_usage(digital_signature=True), ExtendedKeyUsageOID.CLIENT_AUTH
        else:
            key_usage, eku = _key_usage(content_commitment=True), ExtendedKeyUsageOID.EMAIL_PROTECTION
        profile = _Profile(
            key_usage=key_usage,
            eku=(eku,),
            usage_period=usage == "sign",
            private=(
                _PRODUCT_CARD,
                _private(OID_PRODUCT_TYPE, _der_integer(product_type)),
                _private(OID_GIP_CPS_2_3, _der(0x13, extension_2_3.encode("ascii"))),
                _private(OID_PROFESSION, _der_integer(profession)),
            ),
        )
        return self._leaf(f"ACI-{gamme}-PER", subject, profile, options)

    def _validity(self, options: LeafOptions) -> tuple[datetime, datetime]:
        expired, not_yet_valid = options.get("expired", False), options.get("not_yet_valid", False)
        explicit = "not_before" in options or "not_after" in options
        if expired + not_yet_valid + explicit > 1:
            raise ValueError("choose one of expired, not_yet_valid and not_before/not_after")
        day = timedelta(days=1)
        if expired:
            return _add_years(self.at - day, -3), self.at - day
        if not_yet_valid:
            return self.at + day, _add_years(self.at + day, 3)
        start = _utc(options.get("not_before", self.at - timedelta(days=30)), "not_before")
        end = _utc(options["not_after"], "not_after") if "not_after" in options else _add_years(start, 3)
        return start, end

    def _leaf(
        self, default_issuer: str, subject: x509.Name, profile: _Profile, options: LeafOptions
    ) -> IssuedCertificate:
        unknown = set(options) - LeafOptions.__optional_keys__
        if unknown:
            raise TypeError(f"unknown leaf option(s): {', '.join(sorted(unknown))}")
        authority = self.ca(options.get("issuer", default_issuer))
        start, end = self._validity(options)
        key = options["key"] if "key" in options else _new_key(options.get("key_size", _RSA_BITS))
        extensions = self._leaf_extensions(authority, key.public_key(), profile, (start, end), options)
        builder = (
            x509.CertificateBuilder()
            .subject_name(options.get("subject", subject))
            .issuer_name(authority.certificate.subject)
            .public_key(key.public_key())
            .serial_number(options.get("serial_number", _serial()))
            .not_valid_before(start)
            .not_valid_after(end)
        )
        for value, critical in extensions:
            builder = builder.add_extension(value, critical=critical)
        certificate = _sign_certificate(builder, authority.key, options.get("signature_hash", hashes.SHA256()))
        return IssuedCertificate(
            certificate=certificate, key=key, chain=(certificate, *authority.path), anchor=authority.root.certificate
        )

    def _leaf_extensions(
        self,
        authority: CertificateAuthority,
        public_key: rsa.RSAPublicKey,
        profile: _Profile,
        validity: tuple[datetime, datetime],
        options: LeafOptions,
    ) -> list[tuple[x509.ExtensionType, bool]]:
        """The extensions of a leaf, in the order of the real ones, then the variants applied."""
        key_usage = options.get("key_usage", profile.key_usage)
        eku = options.get("eku", profile.eku)
        san = profile.san
        if "san" in options:
            requested = options["san"]
            san = None if requested is None else _general_names(requested)
        policies = options.get("policies", (self._flavour.leaf_policy,))
        candidates: list[tuple[x509.ExtensionType | None, bool]] = [
            (x509.BasicConstraints(ca=False, path_length=None), False),
            (x509.SubjectKeyIdentifier.from_public_key(public_key), False),
            (x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(self._ski(authority)), False),
            (key_usage, True),
            (
                None
                if policies is None
                else x509.CertificatePolicies(
                    [x509.PolicyInformation(oid, [self._flavour.cps_uri]) for oid in policies]
                ),
                False,
            ),
            (None if eku is None else x509.ExtendedKeyUsage(list(eku)), False),
            (None if not san else x509.SubjectAlternativeName(list(san)), False),
            (x509.PrivateKeyUsagePeriod(*validity) if profile.usage_period else None, False),
            (x509.CRLDistributionPoints(_distribution_points(authority.crl_url, authority.ldap_crl_url)), False),
            (x509.FreshestCRL(_distribution_points(authority.ldap_delta_crl_url)), False),
            (
                x509.AuthorityInformationAccess(
                    [
                        x509.AccessDescription(
                            AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(_OCSP_URL)
                        ),
                        x509.AccessDescription(
                            AuthorityInformationAccessOID.CA_ISSUERS,
                            x509.UniformResourceIdentifier(authority.ca_issuers_url),
                        ),
                    ]
                ),
                False,
            ),
            *((extension, False) for extension in profile.private),
        ]
        omit = set(options.get("omit", ()))
        extensions = [
            (value, critical) for value, critical in candidates if value is not None and value.oid not in omit
        ]
        for value, critical in options.get("extra_extensions", ()):
            positions = [index for index, (present, _) in enumerate(extensions) if present.oid == value.oid]
            if positions:
                extensions[positions[0]] = (value, critical)
            else:
                extensions.append((value, critical))
        if options.get("unknown_critical_extension", False):
            extensions.append((x509.UnrecognizedExtension(UNKNOWN_EXTENSION_OID, b"\x05\x00"), True))
        return extensions

    @staticmethod
    def _ski(authority: CertificateAuthority | IssuedCertificate) -> x509.SubjectKeyIdentifier:
        return authority.certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value

    # --- revocation ----------------------------------------------------------------------------------

    def crl_signer(self, ca: str) -> IssuedCertificate:
        """The separate CRL-signing certificate of ``ca``: same name as the CA, its own key, KU cRLSign only.

        Issued by the CA (AKI = the CA's key identifier), as the GIP-CPS CAs signed their CRLs.
        """
        authority = self.ca(ca)
        with self._lock:
            if ca not in self._crl_signers:
                key = _new_key()
                builder = (
                    x509.CertificateBuilder()
                    .subject_name(authority.certificate.subject)
                    .issuer_name(authority.certificate.subject)
                    .public_key(key.public_key())
                    .serial_number(_serial())
                    .not_valid_before(authority.certificate.not_valid_before_utc)
                    .not_valid_after(authority.certificate.not_valid_after_utc)
                    .add_extension(
                        x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(self._ski(authority)),
                        critical=False,
                    )
                    .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
                    .add_extension(_key_usage(crl_sign=True), critical=True)
                    .add_extension(self._ca_policies(), critical=False)
                )
                certificate = builder.sign(authority.key, hashes.SHA256())
                self._crl_signers[ca] = IssuedCertificate(
                    certificate=certificate,
                    key=key,
                    chain=(certificate, *authority.path),
                    anchor=authority.root.certificate,
                )
            return self._crl_signers[ca]

    def crl(
        self,
        ca: str,
        revoked: Iterable[int | tuple[int, datetime] | x509.Certificate | IssuedCertificate] = (),
        *,
        this_update: datetime | None = None,
        next_update: datetime | None = None,
        signer: Literal["ca", "separate"] | IssuedCertificate = "ca",
        signature_hash: hashes.HashAlgorithm | None = None,
        crl_number: int = 1,
        reason: x509.ReasonFlags | None = None,
    ) -> bytes:
        """A DER CRL issued by ``ca`` listing ``revoked``: serials, ``(serial, revocation date)`` or certificates.

        ``this_update`` defaults to an hour before ``at``, ``next_update`` to 7 days after it, a revocation
        date to ``this_update``. ``signer``: the CA's key, its :meth:`crl_signer` (``"separate"``), or any
        issued certificate (a wrong signer); the CRL's AKI names the signer's key. ``signature_hash``
        defaults to SHA-256 (``SHA1()`` for legacy). Fast enough for 200,000 entries (about half a second).
        """
        authority = self.ca(ca)
        start = self.at - timedelta(hours=1) if this_update is None else _utc(this_update, "this_update")
        end = start + timedelta(days=7) if next_update is None else _utc(next_update, "next_update")
        if signer == "ca":
            key, signer_ski = authority.key, self._ski(authority)
        else:
            chosen = self.crl_signer(ca) if signer == "separate" else signer
            if not isinstance(chosen, IssuedCertificate):
                raise ValueError(f"signer must be 'ca', 'separate' or an IssuedCertificate, not {signer!r}")
            key, signer_ski = chosen.key, self._ski(chosen)
        entries = [self._revoked_entry(item, start, reason) for item in revoked]
        # One list given at once: add_revoked_certificate() copies the list each time (quadratic).
        builder = (
            x509.CertificateRevocationListBuilder(revoked_certificates=entries)
            .issuer_name(authority.certificate.subject)
            .last_update(start)
            .next_update(end)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(signer_ski), critical=False)
            .add_extension(x509.CRLNumber(crl_number), critical=False)
        )
        return _sign_crl(builder, key, signature_hash or hashes.SHA256())

    @staticmethod
    def _revoked_entry(
        item: int | tuple[int, datetime] | x509.Certificate | IssuedCertificate,
        default_date: datetime,
        reason: x509.ReasonFlags | None,
    ) -> x509.RevokedCertificate:
        if isinstance(item, tuple):
            serial, date = item[0], _utc(item[1], "revocation date")
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

    def ocsp_responder(self, ca: str) -> IssuedCertificate:
        """The delegated OCSP responder of ``ca``: issued by it, EKU OCSPSigning, id-pkix-ocsp-nocheck.

        Its name (``CN=[TEST ]OCSP <CA name>``) is made up: the real responder certificates were not found.
        """
        authority = self.ca(ca)
        with self._lock:
            if ca not in self._responders:
                flavour = self._flavour
                subject = self._ca_name(f"OCSP {_SPECS[ca].cn}")
                key = _new_key()
                start = self.at - timedelta(days=30)
                builder = (
                    x509.CertificateBuilder()
                    .subject_name(subject)
                    .issuer_name(authority.certificate.subject)
                    .public_key(key.public_key())
                    .serial_number(_serial())
                    .not_valid_before(start)
                    .not_valid_after(_add_years(start, 3))
                    .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=False)
                    .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
                    .add_extension(
                        x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(self._ski(authority)),
                        critical=False,
                    )
                    .add_extension(_key_usage(digital_signature=True), critical=True)
                    .add_extension(
                        x509.CertificatePolicies([x509.PolicyInformation(flavour.leaf_policy, [flavour.cps_uri])]),
                        critical=False,
                    )
                    .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.OCSP_SIGNING]), critical=False)
                    .add_extension(x509.OCSPNoCheck(), critical=False)
                )
                certificate = builder.sign(authority.key, hashes.SHA256())
                self._responders[ca] = IssuedCertificate(
                    certificate=certificate,
                    key=key,
                    chain=(certificate, *authority.path),
                    anchor=authority.root.certificate,
                )
            return self._responders[ca]

    def ocsp_response(
        self,
        certificate: x509.Certificate | IssuedCertificate,
        status: CertStatus = CertStatus.GOOD,
        *,
        responder: Literal["delegated", "ca"] | IssuedCertificate = "delegated",
        issuer: str | None = None,
        this_update: datetime | None = None,
        next_update: datetime | None = None,
        revocation_time: datetime | None = None,
        revocation_reason: x509.ReasonFlags | None = None,
        cert_id_hash: hashes.HashAlgorithm | None = None,
        signature_hash: hashes.HashAlgorithm | None = None,
        responder_id: Literal["hash", "name"] = "hash",
    ) -> bytes:
        """A DER OCSP response saying ``status`` for ``certificate``, signed by ``responder``.

        ``responder``: ``"delegated"`` (the CA's :meth:`ocsp_responder`, included in the response),
        ``"ca"`` (the CA's own key) or any issued certificate (a wrong responder). ``issuer`` names the CA
        for the CertID (by default the one that issued the certificate). ``this_update`` defaults to an
        hour before ``at``, ``next_update`` to a day after it, ``revocation_time`` to ``this_update``.
        The CertID uses SHA-1 by default, the signature SHA-256. (producedAt is the current time: the
        OCSP builder sets it.)
        """
        leaf = certificate.certificate if isinstance(certificate, IssuedCertificate) else certificate
        authority = self.issuer_of(leaf) if issuer is None else self.ca(issuer)
        start = self.at - timedelta(hours=1) if this_update is None else _utc(this_update, "this_update")
        end = start + timedelta(days=1) if next_update is None else _utc(next_update, "next_update")
        cert_status = {
            CertStatus.GOOD: ocsp.OCSPCertStatus.GOOD,
            CertStatus.REVOKED: ocsp.OCSPCertStatus.REVOKED,
            CertStatus.UNKNOWN: ocsp.OCSPCertStatus.UNKNOWN,
        }[CertStatus(status)]
        revoked = cert_status is ocsp.OCSPCertStatus.REVOKED
        when = (start if revocation_time is None else _utc(revocation_time, "revocation_time")) if revoked else None
        builder = ocsp.OCSPResponseBuilder().add_response(
            cert=leaf,
            issuer=authority.certificate,
            algorithm=cert_id_hash or hashes.SHA1(),  # noqa: S303 - the usual CertID hash
            cert_status=cert_status,
            this_update=start,
            next_update=end,
            revocation_time=when,
            revocation_reason=revocation_reason if revoked else None,
        )
        if responder == "ca":
            signing_certificate, key, included = authority.certificate, authority.key, False
        else:
            chosen = self.ocsp_responder(authority.name) if responder == "delegated" else responder
            if not isinstance(chosen, IssuedCertificate):
                raise ValueError(f"responder must be 'delegated', 'ca' or an IssuedCertificate, not {responder!r}")
            signing_certificate, key, included = chosen.certificate, chosen.key, True
        encoding = ocsp.OCSPResponderEncoding.HASH if responder_id == "hash" else ocsp.OCSPResponderEncoding.NAME
        builder = builder.responder_id(encoding, signing_certificate)
        if included:
            builder = builder.certificates([signing_certificate])
        response = builder.sign(key, signature_hash or hashes.SHA256())
        return response.public_bytes(serialization.Encoding.DER)

    @staticmethod
    def ocsp_unsuccessful(status: ocsp.OCSPResponseStatus) -> bytes:
        """A DER OCSP response that carries only an error status (``TRY_LATER``, ``UNAUTHORIZED``...)."""
        return ocsp.OCSPResponseBuilder.build_unsuccessful(status).public_bytes(serialization.Encoding.DER)

"""The CAs of the test PKI: the IGC Santé hierarchy's names, where each CA publishes, and its certificate.

Names, extensions and their order copy the real IGC Santé CA certificates, production and TEST: the
:class:`Flavour` of an environment tells the two apart (names, URLs, the leaves' policy).
"""

from __future__ import annotations

import secrets
import types
from collections.abc import Mapping
from datetime import datetime, timedelta

import attrs
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from mssante.pki import TEST_POLICY_OID, Environment
from mssante.testing._pki_x509 import (
    add_years,
    distribution_points,
    key_identifier_of,
    make_key_usage,
    make_name,
    url_escape,
)

__all__ = [
    "CA_NAMES",
    "FLAVOURS",
    "PUBLICATION_URL",
    "SPECS",
    "SYNTHETIC_PROD_POLICY_OID",
    "CaSpec",
    "CertificateAuthority",
    "Flavour",
    "ca_name",
    "ca_policies",
    "make_ca",
]

SYNTHETIC_PROD_POLICY_OID = x509.ObjectIdentifier("1.2.250.1.213.1.7.1.1.1.1.1")
"""The policy of the production-shaped leaves. Made up: the real production policy OIDs are unpublished."""

PUBLICATION_URL = "http://igc-sante.esante.gouv.fr"
"""Where IGC Santé publishes its CRLs, CA certificates and policies."""

_LDAP = "ldap://annuaire-igc.esante.gouv.fr"
_ASIP_ID = "0002 187512751"


@attrs.frozen(kw_only=True)
class Flavour:
    """What tells the TEST hierarchy from production: names, URLs and the leaves' policy."""

    cn_prefix: str
    ou: str
    cps_uri: str
    file_suffix: str
    ca_folder: str
    leaf_policy: x509.ObjectIdentifier


FLAVOURS: Mapping[Environment, Flavour] = types.MappingProxyType(
    {
        Environment.PROD: Flavour(
            cn_prefix="",
            ou="IGC-SANTE",
            cps_uri=f"{PUBLICATION_URL}/PC",
            file_suffix="",
            ca_folder="AC",
            leaf_policy=SYNTHETIC_PROD_POLICY_OID,
        ),
        Environment.TEST: Flavour(
            cn_prefix="TEST ",
            ou="IGC-SANTE TEST",
            cps_uri=f"{PUBLICATION_URL}/PC%20TEST",
            file_suffix="-TEST",
            ca_folder="AC%20TEST",
            leaf_policy=TEST_POLICY_OID,
        ),
    }
)


@attrs.frozen(kw_only=True)
class CaSpec:
    """One CA of the hierarchy: its common name (without ``TEST``), its parent's short name, its file stem."""

    cn: str
    parent: str | None
    stem: str  # file name of its CRL and certificate on igc-sante.esante.gouv.fr, before "-TEST"


# The PERSONNES CAs publish as "…-PP" (seen for TEST FORT PERSONNES: ACI-FO-PP-TEST.crl; assumed for the others).
SPECS: Mapping[str, CaSpec] = types.MappingProxyType(
    {
        "ACR-EL": CaSpec(cn="AC RACINE IGC-SANTE ELEMENTAIRE", parent=None, stem="ACR-EL"),
        "ACI-EL-ORG": CaSpec(cn="AC IGC-SANTE ELEMENTAIRE ORGANISATIONS", parent="ACR-EL", stem="ACI-EL-ORG"),
        "ACI-EL-PER": CaSpec(cn="AC IGC-SANTE ELEMENTAIRE PERSONNES", parent="ACR-EL", stem="ACI-EL-PP"),
        "ACR-ST": CaSpec(cn="AC RACINE IGC-SANTE STANDARD", parent=None, stem="ACR-ST"),
        "ACI-ST-ORG": CaSpec(cn="AC IGC-SANTE STANDARD ORGANISATIONS", parent="ACR-ST", stem="ACI-ST-ORG"),
        "ACI-ST-PER": CaSpec(cn="AC IGC-SANTE STANDARD PERSONNES", parent="ACR-ST", stem="ACI-ST-PP"),
        "ACR-FO": CaSpec(cn="AC RACINE IGC-SANTE FORT", parent=None, stem="ACR-FO"),
        "ACI-FO-ORG": CaSpec(cn="AC IGC-SANTE FORT ORGANISATIONS", parent="ACR-FO", stem="ACI-FO-ORG"),
        "ACI-FO-PER": CaSpec(cn="AC IGC-SANTE FORT PERSONNES", parent="ACR-FO", stem="ACI-FO-PP"),
    }
)

CA_NAMES: tuple[str, ...] = tuple(SPECS)
"""The short names :meth:`TestPki.ca` knows: the 3 roots ``ACR-*`` and their intermediates ``ACI-*``."""


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


def ca_name(flavour: Flavour, cn: str) -> x509.Name:
    """The subject of a CA (or of its OCSP responder) called ``cn``, in the names of ``flavour``."""
    return make_name(
        (NameOID.COUNTRY_NAME, "FR"),
        (NameOID.ORGANIZATION_NAME, "ASIP-SANTE"),
        (NameOID.ORGANIZATIONAL_UNIT_NAME, _ASIP_ID),
        (NameOID.ORGANIZATIONAL_UNIT_NAME, flavour.ou),
        (NameOID.COMMON_NAME, flavour.cn_prefix + cn),
    )


def ca_policies(flavour: Flavour) -> x509.CertificatePolicies:
    """The policies of a CA certificate: anyPolicy, with the CPS of ``flavour``."""
    return x509.CertificatePolicies([x509.PolicyInformation(x509.ObjectIdentifier("2.5.29.32.0"), [flavour.cps_uri])])


def make_ca(
    name: str,
    parent: CertificateAuthority | None,
    *,
    key: rsa.RSAPrivateKey,
    flavour: Flavour,
    at: datetime,
    publication: str,
) -> CertificateAuthority:
    """The CA ``name`` (one of :data:`CA_NAMES`) with ``key``, issued by ``parent`` (self-signed without one).

    Valid from five years before ``at`` for twenty years (an intermediate ends a day before its root); its CRL and
    certificate are published under ``publication``.
    """
    spec = SPECS[name]
    subject = ca_name(flavour, spec.cn)
    start = add_years(at.replace(hour=0, minute=0, second=0), -5)
    end = add_years(start, 20) - (timedelta(0) if parent is None else timedelta(days=1))
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
        .add_extension(make_key_usage(key_cert_sign=True, crl_sign=True), critical=True)
        .add_extension(ca_policies(flavour), critical=False)
    )
    if parent is not None:
        root_dn = f"CN={flavour.cn_prefix}{SPECS[parent.name].cn},OU={flavour.ou},OU={_ASIP_ID},O=ASIP-SANTE,C=FR"
        ldap = f"{_LDAP}/{url_escape(root_dn)}?certificaterevocationlist;binary?base?objectclass=pkiCa"
        builder = builder.add_extension(
            x509.CRLDistributionPoints(distribution_points(parent.crl_url, ldap)), critical=False
        )
    authority_ski = ski if parent is None else key_identifier_of(parent)
    builder = builder.add_extension(ski, critical=False).add_extension(
        x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(authority_ski), critical=False
    )
    certificate = builder.sign(key if parent is None else parent.key, hashes.SHA256())
    stem = spec.stem + flavour.file_suffix
    ldap_dn = f"cn={flavour.cn_prefix}{spec.cn},"
    if parent is not None:
        ldap_dn += f"ou={flavour.cn_prefix}{SPECS[parent.root.name].cn},"
    ldap_dn = url_escape(f"{ldap_dn}ou={flavour.ou},ou={_ASIP_ID},o=ASIP-SANTE,c=FR")
    return CertificateAuthority(
        name=name,
        certificate=certificate,
        key=key,
        parent=parent,
        crl_url=f"{publication}/CRL/{stem}.crl",
        ldap_crl_url=f"{_LDAP}/{ldap_dn}?certificaterevocationlist;binary?base?objectClass=pkiCA",
        ldap_delta_crl_url=f"{_LDAP}/{ldap_dn}?deltarevocationlist;binary?base?objectClass=pkiCA",
        ca_issuers_url=f"{publication}/{flavour.ca_folder}/{stem}.cer",
    )

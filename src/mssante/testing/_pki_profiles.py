"""The leaves of the test PKI: the IGC Santé profiles (SERV SSL, ORG, CPS) and their variants, one defect each.

A profile gives a leaf's subject and the extensions it has besides the common ones; :class:`LeafOptions` are the
variants a caller asks for; :func:`issue_leaf` builds the certificate, its extensions in the order of the real ones.
"""

from __future__ import annotations

import types
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Literal, TypedDict

import attrs
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID

from mssante.identifiers import IdNatStruct, Idnps
from mssante.pki import OID_GIP_CPS_2_3, OID_PRODUCT_CATEGORY, OID_PRODUCT_TYPE, OID_PROFESSION
from mssante.testing._pki_hierarchy import CertificateAuthority, Flavour
from mssante.testing._pki_issued import IssuedCertificate
from mssante.testing._pki_signing import sign_certificate
from mssante.testing._pki_x509 import (
    add_years,
    der,
    der_integer,
    distribution_points,
    general_names,
    key_identifier_of,
    make_key_usage,
    make_name,
    private_extension,
    random_serial,
    utc,
)

__all__ = [
    "UNKNOWN_EXTENSION_OID",
    "LeafOptions",
    "LeafRequest",
    "Profile",
    "check_options",
    "issue_leaf",
    "leaf_validity",
    "organisation_request",
    "person_request",
    "server_request",
]

UNKNOWN_EXTENSION_OID = x509.ObjectIdentifier("2.25.215026857390746591643126174228456570676")
"""A UUID-based OID nobody knows, for the ``unknown_critical_extension`` variant."""

_OCSP_URL = "http://ocsp.esante.gouv.fr"

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


@attrs.frozen(kw_only=True)
class Profile:
    """What a leaf profile puts in a certificate besides the common extensions."""

    key_usage: x509.KeyUsage
    eku: tuple[x509.ObjectIdentifier, ...]
    san: tuple[x509.GeneralName, ...] | None = None
    usage_period: bool = False
    private: tuple[x509.UnrecognizedExtension, ...] = ()


@attrs.frozen(kw_only=True)
class LeafRequest:
    """A leaf to issue: the short name of its CA (unless the options name another), its subject, its profile."""

    issuer: str
    subject: x509.Name
    profile: Profile


_PRODUCT_SERVER = private_extension(OID_PRODUCT_CATEGORY, der(0x04, b"\x83"))  # SERV and ORG: 04 01 83
_PRODUCT_CARD = private_extension(OID_PRODUCT_CATEGORY, der(0x04, b"\x80"))  # CPS card: 04 01 80


def server_request(
    fqdns: Sequence[str], *, structure: str | IdNatStruct, organisation: str, department: str
) -> LeafRequest:
    """A SERV SSL certificate from ``ACI-EL-ORG`` (see :meth:`TestPki.server`)."""
    names = [fqdns] if isinstance(fqdns, str) else list(fqdns)
    if not names:
        raise ValueError("a server certificate needs at least one FQDN")
    subject = make_name(
        (NameOID.COUNTRY_NAME, "FR"),
        (NameOID.STATE_OR_PROVINCE_NAME, department),
        (NameOID.ORGANIZATION_NAME, organisation),
        (NameOID.ORGANIZATIONAL_UNIT_NAME, str(structure)),
        (NameOID.COMMON_NAME, names[0]),
    )
    profile = Profile(
        key_usage=make_key_usage(digital_signature=True, key_encipherment=True),
        eku=(ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH),
        san=general_names(names),
        private=(_PRODUCT_SERVER,),
    )
    return LeafRequest(issuer="ACI-EL-ORG", subject=subject, profile=profile)


def organisation_request(
    name: str,
    *,
    usage: Literal["auth", "sign", "conf"],
    structure: str | IdNatStruct,
    organisation: str,
    department: str,
) -> LeafRequest:
    """An ORG certificate from ``ACI-EL-ORG`` (see :meth:`TestPki.organisation`)."""
    profiles = {
        "auth": Profile(key_usage=make_key_usage(digital_signature=True), eku=(ExtendedKeyUsageOID.CLIENT_AUTH,)),
        "sign": Profile(
            key_usage=make_key_usage(digital_signature=True, content_commitment=True),
            eku=(ExtendedKeyUsageOID.EMAIL_PROTECTION,),
            usage_period=True,
        ),
        "conf": Profile(key_usage=make_key_usage(key_encipherment=True), eku=(ExtendedKeyUsageOID.EMAIL_PROTECTION,)),
    }
    if usage not in profiles:
        raise ValueError(f"usage must be 'auth', 'sign' or 'conf', not {usage!r}")
    subject = make_name(
        (NameOID.COUNTRY_NAME, "FR"),
        (NameOID.STATE_OR_PROVINCE_NAME, department),
        (NameOID.ORGANIZATION_NAME, organisation),
        (NameOID.ORGANIZATIONAL_UNIT_NAME, str(structure)),
        (NameOID.COMMON_NAME, name),
    )
    profile = attrs.evolve(profiles[usage], private=(_PRODUCT_SERVER,))
    return LeafRequest(issuer="ACI-EL-ORG", subject=subject, profile=profile)


def person_request(
    idnps: str | Idnps,
    *,
    given_name: str,
    surname: str,
    profession: int,
    title: str | None,
    usage: Literal["auth", "sign"],
    gamme: Literal["FO", "ST", "EL"],
    product_type: int,
    extension_2_3: str,
) -> LeafRequest:
    """A CPS card certificate from ``ACI-<gamme>-PER`` (see :meth:`TestPki.person`)."""
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
        key_usage, eku = make_key_usage(digital_signature=True), ExtendedKeyUsageOID.CLIENT_AUTH
    else:
        key_usage, eku = make_key_usage(content_commitment=True), ExtendedKeyUsageOID.EMAIL_PROTECTION
    profile = Profile(
        key_usage=key_usage,
        eku=(eku,),
        usage_period=usage == "sign",
        private=(
            _PRODUCT_CARD,
            private_extension(OID_PRODUCT_TYPE, der_integer(product_type)),
            private_extension(OID_GIP_CPS_2_3, der(0x13, extension_2_3.encode("ascii"))),
            private_extension(OID_PROFESSION, der_integer(profession)),
        ),
    )
    return LeafRequest(issuer=f"ACI-{gamme}-PER", subject=subject, profile=profile)


def check_options(options: LeafOptions) -> None:
    """TypeError for a key that is not one of :class:`LeafOptions`."""
    unknown = set(options) - LeafOptions.__optional_keys__
    if unknown:
        raise TypeError(f"unknown leaf option(s): {', '.join(sorted(unknown))}")


def leaf_validity(at: datetime, options: LeafOptions) -> tuple[datetime, datetime]:
    """The validity of a leaf made at ``at``: from 30 days before it for 3 years, unless the options say."""
    expired, not_yet_valid = options.get("expired", False), options.get("not_yet_valid", False)
    explicit = "not_before" in options or "not_after" in options
    if expired + not_yet_valid + explicit > 1:
        raise ValueError("choose one of expired, not_yet_valid and not_before/not_after")
    day = timedelta(days=1)
    if expired:
        return add_years(at - day, -3), at - day
    if not_yet_valid:
        return at + day, add_years(at + day, 3)
    start = utc(options.get("not_before", at - timedelta(days=30)), "not_before")
    end = utc(options["not_after"], "not_after") if "not_after" in options else add_years(start, 3)
    return start, end


def issue_leaf(
    authority: CertificateAuthority,
    request: LeafRequest,
    options: LeafOptions,
    *,
    key: rsa.RSAPrivateKey,
    validity: tuple[datetime, datetime],
    flavour: Flavour,
) -> IssuedCertificate:
    """The leaf of ``request`` with ``key``, issued by ``authority``, the variants of ``options`` applied."""
    start, end = validity
    extensions = _leaf_extensions(
        authority, key.public_key(), request.profile, options, validity=validity, flavour=flavour
    )
    builder = (
        x509.CertificateBuilder()
        .subject_name(options.get("subject", request.subject))
        .issuer_name(authority.certificate.subject)
        .public_key(key.public_key())
        .serial_number(options.get("serial_number", random_serial()))
        .not_valid_before(start)
        .not_valid_after(end)
    )
    for value, critical in extensions:
        builder = builder.add_extension(value, critical=critical)
    certificate = sign_certificate(builder, authority.key, options.get("signature_hash", hashes.SHA256()))
    return IssuedCertificate(
        certificate=certificate, key=key, chain=(certificate, *authority.path), anchor=authority.root.certificate
    )


def _leaf_extensions(
    authority: CertificateAuthority,
    public_key: rsa.RSAPublicKey,
    profile: Profile,
    options: LeafOptions,
    *,
    validity: tuple[datetime, datetime],
    flavour: Flavour,
) -> list[tuple[x509.ExtensionType, bool]]:
    """The extensions of a leaf, in the order of the real ones, then the variants applied."""
    key_usage = options.get("key_usage", profile.key_usage)
    eku = options.get("eku", profile.eku)
    san = profile.san
    if "san" in options:
        requested = options["san"]
        san = None if requested is None else general_names(requested)
    policies = options.get("policies", (flavour.leaf_policy,))
    candidates: list[tuple[x509.ExtensionType | None, bool]] = [
        (x509.BasicConstraints(ca=False, path_length=None), False),
        (x509.SubjectKeyIdentifier.from_public_key(public_key), False),
        (x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(key_identifier_of(authority)), False),
        (key_usage, True),
        (
            None
            if policies is None
            else x509.CertificatePolicies([x509.PolicyInformation(oid, [flavour.cps_uri]) for oid in policies]),
            False,
        ),
        (None if eku is None else x509.ExtendedKeyUsage(list(eku)), False),
        (None if not san else x509.SubjectAlternativeName(list(san)), False),
        (x509.PrivateKeyUsagePeriod(*validity) if profile.usage_period else None, False),
        (x509.CRLDistributionPoints(distribution_points(authority.crl_url, authority.ldap_crl_url)), False),
        (x509.FreshestCRL(distribution_points(authority.ldap_delta_crl_url)), False),
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
    extensions = [(value, critical) for value, critical in candidates if value is not None and value.oid not in omit]
    for value, critical in options.get("extra_extensions", ()):
        positions = [index for index, (present, _) in enumerate(extensions) if present.oid == value.oid]
        if positions:
            extensions[positions[0]] = (value, critical)
        else:
            extensions.append((value, critical))
    if options.get("unknown_critical_extension", False):
        extensions.append((x509.UnrecognizedExtension(UNKNOWN_EXTENSION_OID, b"\x05\x00"), True))
    return extensions

"""The IGC Santé certificate profiles, and which one a certificate matches (and why not the others)."""

from __future__ import annotations

import enum
import re
from collections.abc import Callable

import attrs
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from mssante.pki._identity import CertificateFacts, IdentityKind

__all__ = ["CaRole", "Profile", "ProfileMatch", "Purpose", "ca_role", "match_profiles"]

_CA_NAME = re.compile(r"(TEST )?AC (?:RACINE )?IGC-SANTE (ELEMENTAIRE|STANDARD|FORT)(?: (ORGANISATIONS|PERSONNES))?")


class Profile(str, enum.Enum):
    """The end-entity certificate profiles of IGC Santé that MSSanté meets.

    ``serv-ssl``: an operator's server (ELEMENTAIRE ORGANISATIONS CA, serverAuth + clientAuth,
    DNS names). ``org-auth-cli``: an organisation authenticating as a TLS client (no DNS name,
    structure identifier in OU). ``org-sign`` and ``org-conf``: an organisation's signature and
    encryption certificates. ``cps-auth`` and ``cps-sign``: a professional's card certificates
    (IdNat_PS in CN).
    """

    SERV_SSL = "serv-ssl"
    ORG_AUTH_CLI = "org-auth-cli"
    ORG_SIGN = "org-sign"
    ORG_CONF = "org-conf"
    CPS_AUTH = "cps-auth"
    CPS_SIGN = "cps-sign"

    @property
    def holder(self) -> IdentityKind:
        """What a certificate of this profile identifies: a server, an organisation or a person."""
        if self is Profile.SERV_SSL:
            return IdentityKind.SERVER
        return IdentityKind.PERSON if self in (Profile.CPS_AUTH, Profile.CPS_SIGN) else IdentityKind.ORGANISATION

    @property
    def authenticates(self) -> bool:
        """True for the profiles that authenticate a TLS peer; the signature and encryption ones never do."""
        return self in (Profile.SERV_SSL, Profile.ORG_AUTH_CLI, Profile.CPS_AUTH)

    @property
    def description(self) -> str:
        """What a certificate of this profile is, in words, with its name and usages."""
        return _DESCRIPTIONS[self]

    def __str__(self) -> str:
        return self.value


_DESCRIPTIONS = {
    Profile.SERV_SSL: "an operator's server certificate (serv-ssl: digitalSignature, serverAuth and clientAuth)",
    Profile.ORG_AUTH_CLI: "an organisation's authentication certificate (org-auth-cli: digitalSignature, clientAuth)",
    Profile.ORG_SIGN: "an organisation's signature certificate (org-sign: nonRepudiation, emailProtection)",
    Profile.ORG_CONF: "an organisation's encryption certificate (org-conf: keyEncipherment, emailProtection)",
    Profile.CPS_AUTH: "a card's authentication certificate (cps-auth: digitalSignature, clientAuth)",
    Profile.CPS_SIGN: "a card's signature certificate (cps-sign: nonRepudiation, emailProtection)",
}


class Purpose(str, enum.Enum):
    """What a certificate is checked for, and so which profile it needs.

    ``server``: an operator's server we connect to (SERV SSL, serverAuth, host name).
    ``client``: an operator's mail server connecting to us with mutual TLS (SERV SSL, clientAuth).
    ``organisation``: an organisation's software as TLS client (ORG AUTH_CLI).
    ``person``: a professional's card as TLS client (CPS authentication).
    """

    SERVER = "server"
    CLIENT = "client"
    ORGANISATION = "organisation"
    PERSON = "person"

    @property
    def profile(self) -> Profile:
        """The profile a certificate needs for this purpose."""
        return _PURPOSE_PROFILES[self]

    @property
    def extended_key_usage(self) -> x509.ObjectIdentifier:
        """The extended key usage this purpose requires."""
        return ExtendedKeyUsageOID.SERVER_AUTH if self is Purpose.SERVER else ExtendedKeyUsageOID.CLIENT_AUTH

    def __str__(self) -> str:
        return self.value


_PURPOSE_PROFILES = {
    Purpose.SERVER: Profile.SERV_SSL,
    Purpose.CLIENT: Profile.SERV_SSL,
    Purpose.ORGANISATION: Profile.ORG_AUTH_CLI,
    Purpose.PERSON: Profile.CPS_AUTH,
}


@attrs.frozen(kw_only=True, cache_hash=True)
class CaRole:
    """What an IGC Santé CA name says: its range (gamme), its domain, and whether it is TEST."""

    gamme: str
    domain: str | None
    test: bool


def ca_role(name: x509.Name) -> CaRole | None:
    """The role of an IGC Santé CA from its name (``AC IGC-SANTE ELEMENTAIRE ORGANISATIONS`` ...)."""
    common_names = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    match = _CA_NAME.fullmatch(str(common_names[0].value)) if common_names else None
    if match is None:
        return None
    return CaRole(gamme=match.group(2), domain=match.group(3), test=bool(match.group(1)))


@attrs.frozen(kw_only=True)
class ProfileMatch:
    """Whether a certificate matches a profile, and the reasons when it does not."""

    profile: Profile
    reasons: tuple[str, ...]

    @property
    def matched(self) -> bool:
        """True when no rule of the profile failed."""
        return not self.reasons


@attrs.frozen(kw_only=True)
class _Facts:
    role: CaRole | None
    eku: frozenset[x509.ObjectIdentifier]
    key_usage: frozenset[str]
    dns_names: tuple[str, ...]
    is_ca: bool
    structure_ok: bool
    person_ok: bool


_KEY_USAGES = ("digital_signature", "content_commitment", "key_encipherment", "key_agreement")
# The names RFC 5280 §4.2.1.3 gives them, which people read (contentCommitment was nonRepudiation).
_KEY_USAGE_NAMES = {
    "digital_signature": "digitalSignature",
    "content_commitment": "nonRepudiation",
    "key_encipherment": "keyEncipherment",
    "key_agreement": "keyAgreement",
}


def _facts(facts: CertificateFacts, role: CaRole | None) -> _Facts:
    eku = facts.value(x509.ExtendedKeyUsage)
    key_usage = facts.value(x509.KeyUsage)
    san = facts.value(x509.SubjectAlternativeName)
    constraints = facts.value(x509.BasicConstraints)
    units = facts.attributes(NameOID.ORGANIZATIONAL_UNIT_NAME)
    names = facts.attributes(NameOID.COMMON_NAME)
    return _Facts(
        role=role,
        eku=frozenset(eku) if eku is not None else frozenset(),
        key_usage=frozenset(usage for usage in _KEY_USAGES if key_usage is not None and getattr(key_usage, usage)),
        dns_names=tuple(san.get_values_for_type(x509.DNSName)) if san is not None else (),
        is_ca=constraints is not None and constraints.ca,
        structure_ok=len(units) == 1 and facts.check(str(units[0].value), "idnst").ok,
        person_ok=len(names) == 1 and facts.check(str(names[0].value), "idnps").ok,
    )


_Rule = Callable[[_Facts], str | None]
_SERVER, _CLIENT, _EMAIL = (
    ExtendedKeyUsageOID.SERVER_AUTH,
    ExtendedKeyUsageOID.CLIENT_AUTH,
    ExtendedKeyUsageOID.EMAIL_PROTECTION,
)


def _issued_by(domain: str, gamme: str | None = None) -> _Rule:
    wanted = f"{gamme} {domain}" if gamme else domain

    def rule(facts: _Facts) -> str | None:
        role = facts.role
        if role is None or role.domain != domain or (gamme and role.gamme != gamme):
            return f"not issued by an IGC Santé {wanted} CA"
        return None

    return rule


def _has_eku(*usages: x509.ObjectIdentifier) -> _Rule:
    named = tuple((usage, usage._name) for usage in usages)

    def rule(facts: _Facts) -> str | None:
        missing = [name for usage, name in named if usage not in facts.eku]
        return f"extended key usage lacks {', '.join(missing)}" if missing else None

    return rule


def _lacks_eku(usage: x509.ObjectIdentifier) -> _Rule:
    reason = f"extended key usage has {usage._name}"
    return lambda facts: reason if usage in facts.eku else None


def _has_key_usage(usage: str) -> _Rule:
    return lambda facts: None if usage in facts.key_usage else f"key usage lacks {_KEY_USAGE_NAMES[usage]}"


def _end_entity(facts: _Facts) -> str | None:
    return "it is a CA certificate" if facts.is_ca else None


def _dns_names(facts: _Facts) -> str | None:
    return None if facts.dns_names else "no DNS name in subjectAltName"


def _no_dns_names(facts: _Facts) -> str | None:
    return "it has DNS names (a server certificate has)" if facts.dns_names else None


def _structure(facts: _Facts) -> str | None:
    return None if facts.structure_ok else "the subject OU is not one valid IdNat_Struct"


def _person(facts: _Facts) -> str | None:
    return None if facts.person_ok else "the subject CN is not a valid IdNat_PS (8 + RPPS, 0 + ADELI)"


_RULES: dict[Profile, tuple[_Rule, ...]] = {
    Profile.SERV_SSL: (_end_entity, _issued_by("ORGANISATIONS", "ELEMENTAIRE"), _has_eku(_SERVER, _CLIENT),
                       _has_key_usage("digital_signature"), _dns_names),
    Profile.ORG_AUTH_CLI: (_end_entity, _issued_by("ORGANISATIONS"), _has_eku(_CLIENT), _lacks_eku(_SERVER),
                           _has_key_usage("digital_signature"), _no_dns_names, _structure),
    Profile.ORG_SIGN: (_end_entity, _issued_by("ORGANISATIONS"), _has_eku(_EMAIL),
                       _has_key_usage("content_commitment"), _structure),
    Profile.ORG_CONF: (_end_entity, _issued_by("ORGANISATIONS"), _has_eku(_EMAIL), _has_key_usage("key_encipherment"),
                       _structure),
    Profile.CPS_AUTH: (_end_entity, _issued_by("PERSONNES"), _has_eku(_CLIENT), _has_key_usage("digital_signature"),
                       _person),
    Profile.CPS_SIGN: (_end_entity, _issued_by("PERSONNES"), _has_eku(_EMAIL), _has_key_usage("content_commitment"),
                       _person),
}  # fmt: skip


def ca_kind(certificate: x509.Certificate) -> str | None:
    """``root`` or ``intermediate`` for a CA certificate (basicConstraints cA), None for an end-entity one."""
    try:
        constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints).value
    except (x509.ExtensionNotFound, ValueError):
        return None
    if not constraints.ca:
        return None
    return "root" if certificate.issuer == certificate.subject else "intermediate"


def kind_words(certificate: x509.Certificate, profile: Profile | None) -> str:
    """What the certificate is, in words: a root or intermediate CA (and which), or its profile, or neither."""
    kind = ca_kind(certificate)
    if kind is not None:
        role = ca_role(certificate.subject)
        if role is None:
            return f"{kind} CA"
        domain = f" {role.domain}" if role.domain else ""
        return f"{kind} CA of IGC Santé {role.gamme}{domain}" + (" (TEST)" if role.test else "")
    return profile.description if profile is not None else "an end-entity certificate of no IGC Santé profile"


def match_profiles(certificate: x509.Certificate, issuer: x509.Name | None = None) -> tuple[ProfileMatch, ...]:
    """Each profile, in order, with the reasons ``certificate`` does not match it (none when it does).

    ``issuer`` is the name of the CA that issued it, once the chain is verified; without it the
    certificate's own issuer field is read, which proves nothing until the chain is verified.
    """
    return profile_matches(CertificateFacts(certificate), issuer)


def profile_matches(facts: CertificateFacts, issuer: x509.Name | None = None) -> tuple[ProfileMatch, ...]:
    """:func:`match_profiles` on what is already read from the certificate."""
    return profile_matches_for_role(facts, ca_role(issuer if issuer is not None else facts.certificate.issuer))


def profile_matches_for_role(facts: CertificateFacts, role: CaRole | None) -> tuple[ProfileMatch, ...]:
    """:func:`match_profiles` for a certificate issued by a CA of ``role`` (what its name says, or None)."""
    read = _facts(facts, role)
    matches = []
    for profile, rules in _RULES.items():  # no generators: this runs for every certificate not seen before
        reasons = [reason for rule in rules if (reason := rule(read))]
        matches.append(ProfileMatch(profile=profile, reasons=tuple(reasons)))
    return tuple(matches)

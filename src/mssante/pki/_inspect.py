"""What a certificate says about itself: profile, identity, validity and revocation pointers, unverified."""

from __future__ import annotations

from typing import Any

import attrs
from cryptography import x509
from cryptography.x509.oid import AuthorityInformationAccessOID

from mssante import _html
from mssante.errors import InvalidInput
from mssante.pki._anchors import fingerprint
from mssante.pki._identity import Identity, holder_words, identify
from mssante.pki._load import unreadable_parts
from mssante.pki._profiles import Profile, ProfileMatch, ca_kind, kind_words, match_profiles
from mssante.pki._verify import describe_findings
from mssante.report import Report

__all__ = ["CertificateDescription", "describe"]


def _urls(names: list[x509.GeneralName]) -> list[str]:
    return [name.value for name in names if isinstance(name, x509.UniformResourceIdentifier)]


@attrs.frozen(kw_only=True)
class CertificateDescription:
    """A certificate as it describes itself. Nothing here is verified: see :func:`~mssante.pki.verify`."""

    certificate: x509.Certificate
    profile: Profile | None
    profiles: tuple[ProfileMatch, ...]
    identity: Identity
    report: Report

    @property
    def ca(self) -> str | None:
        """``root`` or ``intermediate`` for a CA certificate, None for an end-entity certificate."""
        return ca_kind(self.certificate)

    @property
    def kind(self) -> str:
        """What the certificate is, in words: a root or intermediate CA, or its IGC Santé profile."""
        return kind_words(self.certificate, self.profile)

    @property
    def holder(self) -> str:
        """Who holds the certificate, in words: ``an organisation: NAME, idnst 1750712184``, or the CA itself."""
        if self.ca is not None:
            return f"the CA itself: {self.identity.common_name}" if self.identity.common_name else "the CA itself"
        return holder_words(self.identity)

    @property
    def crl_urls(self) -> list[str]:
        """The CRL distribution points (HTTP and LDAP)."""
        try:
            points = self.certificate.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
        except x509.ExtensionNotFound:
            return []
        return [url for point in points for url in _urls(list(point.full_name or []))]

    @property
    def delta_crl_urls(self) -> list[str]:
        """The delta CRL locations (freshestCRL); IGC Santé publishes them on LDAP only."""
        try:
            points = self.certificate.extensions.get_extension_for_class(x509.FreshestCRL).value
        except x509.ExtensionNotFound:
            return []
        return [url for point in points for url in _urls(list(point.full_name or []))]

    def _access(self, method: x509.ObjectIdentifier) -> list[str]:
        try:
            access = self.certificate.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
        except x509.ExtensionNotFound:
            return []
        return _urls([description.access_location for description in access if description.access_method == method])

    @property
    def ocsp_urls(self) -> list[str]:
        """The OCSP responders of the authority information access."""
        return self._access(AuthorityInformationAccessOID.OCSP)

    @property
    def ca_issuer_urls(self) -> list[str]:
        """Where the issuing CA certificate is published."""
        return self._access(AuthorityInformationAccessOID.CA_ISSUERS)

    def _repr_html_(self) -> str:
        """Subject, issuer, validity, profile, holder, pointers and findings, for notebooks."""
        certificate = self.certificate
        validity = f"{certificate.not_valid_before_utc:%Y-%m-%d} to {certificate.not_valid_after_utc:%Y-%m-%d} (UTC)"
        return _html.section(
            _html.heading(f"Certificate (unverified): {certificate.subject.rfc4514_string()}"),
            _html.definitions(
                [
                    ("issuer", certificate.issuer.rfc4514_string()),
                    ("serial", format(certificate.serial_number, "x")),
                    ("valid", validity),
                    ("what", self.kind),
                    ("holder", self.holder),
                    ("SHA-256", fingerprint(certificate)),
                    ("CRL", _html.items(self.crl_urls)),
                    ("OCSP", _html.items(self.ocsp_urls)),
                ]
            ),
            _html.findings(self.report.findings),
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON form of ``mssante cert inspect``."""
        certificate = self.certificate
        return {
            **self.report.to_dict(),
            "subject": certificate.subject.rfc4514_string(),
            "issuer": certificate.issuer.rfc4514_string(),
            "serial": format(certificate.serial_number, "x"),
            "profile": self.profile.value if self.profile else None,
            "ca": self.ca,
            "profiles": [
                {"profile": match.profile.value, "matched": match.matched, "reasons": list(match.reasons)}
                for match in self.profiles
            ],
            "identity": self.identity.to_dict(),
            "not_before": certificate.not_valid_before_utc.isoformat().replace("+00:00", "Z"),
            "not_after": certificate.not_valid_after_utc.isoformat().replace("+00:00", "Z"),
            "sha256": fingerprint(certificate),
            "revocation": {
                "crl": self.crl_urls,
                "delta_crl": self.delta_crl_urls,
                "ocsp": self.ocsp_urls,
                "ca_issuers": self.ca_issuer_urls,
            },
        }


def describe(certificate: x509.Certificate) -> CertificateDescription:
    """Read a certificate: the profile it claims to match, its holder, its pointers and what is wrong on its face."""
    if problems := unreadable_parts(certificate):
        raise InvalidInput(problems[0].message, Report(findings=problems))
    profiles = match_profiles(certificate)
    profile = next((match.profile for match in profiles if match.matched), None)
    identity = identify(certificate, profile.holder if profile else None)
    findings = describe_findings(certificate) + list(identity.findings)
    report = Report(findings=findings, subject=certificate.subject.rfc4514_string())
    return CertificateDescription(
        certificate=certificate, profile=profile, profiles=profiles, identity=identity, report=report
    )

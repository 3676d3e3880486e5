"""Is this certificate acceptable for this purpose, now, and whose is it? The answer, as a report."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from typing import Any

import attrs
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.x509 import verification
from cryptography.x509.oid import ExtensionOID

from mssante.pki import _codes
from mssante.pki._anchors import TrustStore, fingerprint
from mssante.pki._identity import Identity, identify
from mssante.pki._profiles import Profile, ProfileMatch, Purpose, ca_role, match_profiles
from mssante.pki._revocation import RevocationChecker, RevocationResult
from mssante.pki._types import TEST_POLICY_OID, Environment, RevocationMode
from mssante.report import Finding, Report

__all__ = ["MAX_CHAIN_DEPTH", "CertificateReport", "describe_findings", "verify"]

MAX_CHAIN_DEPTH = 4
"""IGC Santé chains are leaf, intermediate, root: a longer path is not built."""

_MAX_INTERMEDIATES = 32
_KNOWN_CRITICAL = frozenset({
    ExtensionOID.BASIC_CONSTRAINTS,
    ExtensionOID.KEY_USAGE,
    ExtensionOID.EXTENDED_KEY_USAGE,
    ExtensionOID.SUBJECT_ALTERNATIVE_NAME,
    ExtensionOID.CERTIFICATE_POLICIES,
    ExtensionOID.NAME_CONSTRAINTS,
    ExtensionOID.POLICY_CONSTRAINTS,
    ExtensionOID.INHIBIT_ANY_POLICY,
})  # fmt: skip
_WEAK_HASHES = (hashes.SHA1, hashes.MD5)


@attrs.frozen(kw_only=True)
class CertificateReport:
    """The verdict on one certificate for one purpose: the report, the verified chain, profile and identity."""

    certificate: x509.Certificate
    purpose: Purpose
    report: Report
    chain: tuple[x509.Certificate, ...]
    profile: Profile | None
    profiles: tuple[ProfileMatch, ...]
    identity: Identity
    revocation: tuple[RevocationResult, ...] = ()

    @property
    def ok(self) -> bool:
        """True when the certificate is acceptable (no error finding)."""
        return self.report.ok

    def to_dict(self) -> dict[str, Any]:
        """The JSON form of ``mssante cert verify``: ``ok``, ``findings``, ``chain``, ``profile``, ``identity``."""
        return {
            **self.report.to_dict(),
            "purpose": self.purpose.value,
            "chain": [certificate.subject.rfc4514_string() for certificate in self.chain],
            "profile": self.profile.value if self.profile else None,
            "identity": self.identity.to_dict(),
            "revocation": [result.status.value for result in self.revocation],
        }


def describe_findings(certificate: x509.Certificate) -> list[Finding]:
    """What can be judged from the certificate alone: signature algorithm and critical extensions."""
    findings: list[Finding] = []
    try:
        algorithm = certificate.signature_hash_algorithm
    except UnsupportedAlgorithm as error:
        findings.append(_codes.WEAK_SIGNATURE(f"the signature algorithm is not supported: {error}"))
    else:
        if isinstance(algorithm, _WEAK_HASHES):
            findings.append(_codes.WEAK_SIGNATURE(f"the certificate is signed with {algorithm.name.upper()}"))
    try:
        extensions = certificate.extensions
    except ValueError as error:
        return [*findings, _codes.UNPARSABLE_EXTENSION(f"an extension cannot be parsed: {error}")]
    findings += [
        _codes.UNKNOWN_CRITICAL_EXTENSION(
            f"critical extension {extension.oid.dotted_string} is unknown: the certificate must be refused",
            where=extension.oid.dotted_string,
        )
        for extension in extensions
        if extension.critical and extension.oid not in _KNOWN_CRITICAL
    ]
    return findings


def _time_findings(certificate: x509.Certificate, at: dt.datetime) -> list[Finding]:
    if at < certificate.not_valid_before_utc:
        return [_codes.NOT_YET_VALID(f"valid from {certificate.not_valid_before_utc.isoformat()}, checked at "
                                     f"{at.isoformat()}")]  # fmt: skip
    if at > certificate.not_valid_after_utc:
        return [
            _codes.EXPIRED(f"expired on {certificate.not_valid_after_utc.isoformat()}, checked at {at.isoformat()}")
        ]
    return []


def _looks_test(certificate: x509.Certificate) -> bool:
    role = ca_role(certificate.issuer)
    if role is not None:
        return role.test
    try:
        policies = certificate.extensions.get_extension_for_class(x509.CertificatePolicies).value
    except x509.ExtensionNotFound:
        return False
    return any(policy.policy_identifier == TEST_POLICY_OID for policy in policies)


def _path_finding(error: verification.VerificationError, certificate: x509.Certificate, store: TrustStore) -> Finding:
    message = str(error).split(" (encountered processing", 1)[0]
    if "subjectAltName" in message:
        return _codes.HOST_MISMATCH(message.removeprefix("validation failed: "))
    if "unaccounted-for critical" in message:
        return _codes.UNKNOWN_CRITICAL_EXTENSION(message)
    if "candidates exhausted" in message:
        if _looks_test(certificate) != (store.environment is Environment.TEST):
            other = "TEST" if store.environment is Environment.PROD else "production"
            return _codes.WRONG_ENVIRONMENT(
                f"issued by {certificate.issuer.rfc4514_string()}, a {other} CA, "
                f"checked with the {store.environment} store"
            )
        return _codes.NO_PATH(
            f"no chain from issuer {certificate.issuer.rfc4514_string()} to an anchor of the {store.environment} store"
        )
    return _codes.PATH_INVALID(message)


def _build_chain(
    certificate: x509.Certificate,
    *,
    purpose: Purpose,
    store: TrustStore,
    at: dt.datetime,
    host: str | None,
    intermediates: Sequence[x509.Certificate],
) -> tuple[tuple[x509.Certificate, ...], list[Finding]]:
    candidates = [*store.intermediates, *intermediates][: _MAX_INTERMEDIATES + len(store.intermediates)]
    builder = verification.PolicyBuilder().store(store.verification_store).time(at).max_chain_depth(MAX_CHAIN_DEPTH)
    ca_policy = verification.ExtensionPolicy.webpki_defaults_ca()
    try:
        if purpose is Purpose.SERVER:
            ee_policy = verification.ExtensionPolicy.permit_all().require_present(
                x509.SubjectAlternativeName, verification.Criticality.AGNOSTIC, None
            )
            server = builder.extension_policies(ca_policy=ca_policy, ee_policy=ee_policy)
            chain = server.build_server_verifier(x509.DNSName(host or "")).verify(certificate, candidates)
        else:
            client = builder.extension_policies(
                ca_policy=ca_policy, ee_policy=verification.ExtensionPolicy.permit_all()
            ).build_client_verifier()
            chain = client.verify(certificate, candidates).chain
    except verification.VerificationError as error:
        return (), [_path_finding(error, certificate, store)]
    except ValueError as error:  # an invalid host name for a DNSName
        return (), [_codes.HOST_MISMATCH(f"{host!r} is not a host name: {error}")]
    return tuple(chain), []


def _purpose_findings(certificate: x509.Certificate, purpose: Purpose) -> list[Finding]:
    findings = []
    try:
        usages = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        usages = x509.ExtendedKeyUsage([])
    if purpose.extended_key_usage not in usages:
        findings.append(_codes.EKU_MISSING(f"a {purpose} certificate needs {purpose.extended_key_usage._name}"))
    try:
        key_usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        key_usage = None
    if key_usage is not None and not key_usage.digital_signature:
        findings.append(_codes.KEY_USAGE_MISSING(f"a {purpose} certificate needs the digitalSignature key usage"))
    return findings


def verify(
    certificate: x509.Certificate,
    *,
    purpose: Purpose | str,
    store: TrustStore,
    at: dt.datetime,
    host: str | None = None,
    intermediates: Sequence[x509.Certificate] = (),
    revocation: RevocationChecker | RevocationMode | str = RevocationMode.HARD,
) -> CertificateReport:
    """Judge ``certificate`` for ``purpose`` at ``at`` against ``store``: chain, time, usage, profile, revocation.

    Fail closed: without revocation information the default ``hard`` mode refuses, because an
    unknown status is not a good one. Pass a :class:`RevocationChecker` holding CRLs or OCSP
    responses, or weaken the mode explicitly (``soft``, ``off``: a ``SecurityWarning``).
    ``host`` is required for the ``server`` purpose.
    """
    purpose = Purpose(purpose)
    if at.tzinfo is None:
        raise ValueError("the time of a check is timezone-aware (UTC): pass at=datetime.now(timezone.utc)")
    checker = (
        revocation if isinstance(revocation, RevocationChecker) else RevocationChecker(mode=RevocationMode(revocation))
    )
    findings = describe_findings(certificate) + _time_findings(certificate, at)
    if store.environment is Environment.TEST:
        findings.append(_codes.TEST_ANCHORS())
    if purpose is Purpose.SERVER and not host:
        findings.append(_codes.NO_HOST())
    chain: tuple[x509.Certificate, ...] = ()
    if not any(finding.code in (_codes.WEAK_SIGNATURE.id, _codes.NO_HOST.id) for finding in findings):
        chain, path_findings = _build_chain(
            certificate, purpose=purpose, store=store, at=at, host=host, intermediates=intermediates
        )
        timed = {_codes.EXPIRED.id, _codes.NOT_YET_VALID.id}.intersection(finding.code for finding in findings)
        findings += [f for f in path_findings if not (timed and "not valid at validation time" in f.message)]

    issuer = chain[1].subject if len(chain) > 1 else None
    profiles = match_profiles(certificate, issuer)
    matched = next((match.profile for match in profiles if match.matched), None)
    required = next(match for match in profiles if match.profile is purpose.profile)
    findings += _purpose_findings(certificate, purpose)
    if required.matched:
        findings.append(_codes.PROFILE(f"matches the {required.profile} profile"))
    else:
        findings.append(_codes.PROFILE_MISMATCH(
            f"a {purpose} certificate is {required.profile}: " + "; ".join(required.reasons)
            + (f" (it matches {matched})" if matched else "")
        ))  # fmt: skip

    identity = identify(certificate, matched.holder if matched else None)
    findings += identity.findings

    results: list[RevocationResult] = []
    if chain:
        for index, (subject, issuer_certificate) in enumerate(itertools.pairwise(chain)):
            result = checker.check(subject, issuer_certificate, at=at)
            results.append(result)
            findings += [finding.located(f"chain[{index}]") for finding in result.findings]

    return CertificateReport(
        certificate=certificate,
        purpose=purpose,
        report=Report(
            findings=findings, subject=f"{certificate.subject.rfc4514_string()} [{fingerprint(certificate)[:16]}]"
        ),
        chain=chain,
        profile=matched,
        profiles=profiles,
        identity=identity,
        revocation=tuple(results),
    )

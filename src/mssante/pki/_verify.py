"""Is this certificate acceptable for this purpose, now, and whose is it? The answer, as a report."""

from __future__ import annotations

import collections
import datetime as dt
import itertools
import threading
from collections.abc import Sequence
from typing import Any

import attrs
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import ExtensionOID

from mssante import _html
from mssante.errors import InvalidInput
from mssante.pki import codes as _codes
from mssante.pki._anchors import TrustStore
from mssante.pki._identity import CertificateFacts, Identity, IdentityKind, holder_words, identity_of
from mssante.pki._load import unreadable_parts
from mssante.pki._path import MAX_CHAIN_DEPTH, _build_chain, _candidates, _has_test_policy
from mssante.pki._profiles import (
    CaRole,
    Profile,
    ProfileMatch,
    Purpose,
    ca_role,
    kind_words,
    profile_matches_for_role,
)
from mssante.pki._revocation import NOT_CHECKED, RevocationChecker, RevocationResult
from mssante.pki._types import Environment, RevocationMode
from mssante.report import Finding, Report

__all__ = ["CertificateReport", "CheckCache", "describe_findings", "verify"]

_MAX_INTERMEDIATES = 32
_READINGS = 256  # certificates whose reading a store's CheckCache keeps, the least recently checked dropped first
# The critical extensions a leaf may carry: the ones this validator applies. A critical certificatePolicies is
# refused because policies are not processed (RFC 5280 §4.2: an unprocessed critical extension rejects).
_KNOWN_CRITICAL = frozenset({
    ExtensionOID.BASIC_CONSTRAINTS,
    ExtensionOID.KEY_USAGE,
    ExtensionOID.EXTENDED_KEY_USAGE,
    ExtensionOID.SUBJECT_ALTERNATIVE_NAME,
})  # fmt: skip
_WEAK_HASHES = (hashes.SHA1, hashes.MD5)
# The findings of a check with revocation off, located at each link of a chain as verify() reports them.
_NOT_CHECKED_LOCATED = tuple(
    tuple(finding.located(f"chain[{index}]") for finding in NOT_CHECKED.findings) for index in range(MAX_CHAIN_DEPTH)
)


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

    def _repr_html_(self) -> str:
        """The verdict, the chain, profile, holder, revocation and findings, for notebooks."""
        certificate, identity = self.certificate, self.identity
        validity = f"{certificate.not_valid_before_utc:%Y-%m-%d} to {certificate.not_valid_after_utc:%Y-%m-%d} (UTC)"
        return _html.section(
            _html.heading(f"Certificate for {self.purpose}: {certificate.subject.rfc4514_string()}", ok=self.ok),
            _html.definitions(
                [
                    ("purpose", self.purpose.value),
                    ("what", kind_words(certificate, self.profile)),
                    ("holder", holder_words(identity)),
                    ("valid", validity),
                    ("chain", _html.items(link.subject.rfc4514_string() for link in self.chain) or "not built"),
                    ("revocation", ", ".join(result.status.value for result in self.revocation)),
                ]
            ),
            _html.findings(self.report.findings),
        )

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


@attrs.frozen
class _Verdict:
    """The judgement of a certificate's content for one purpose, under a CA of one role: profiles and identity."""

    profiles: tuple[ProfileMatch, ...]
    matched: Profile | None
    identity: Identity
    findings: tuple[Finding, ...]


class _Reading:
    """What :func:`verify` judges from a certificate alone, each part computed when first needed, then kept.

    The signature algorithm, critical extensions, profiles (for the role of the issuing CA), identity, purpose
    findings and the report's subject depend on the certificate's content only; the intermediates of the store that
    can be above it on the store as well (a reading belongs to one store's :class:`CheckCache`). The path, the time
    and the revocation status are judged on every call.
    """

    __slots__ = (
        "_candidates",
        "_described",
        "_identities",
        "_issuer_role",
        "_label",
        "_looks_test",
        "_profiles",
        "_subject_role",
        "_unreadable",
        "_verdicts",
        "certificate",
        "digest",
        "facts",
    )

    def __init__(self, certificate: x509.Certificate, digest: bytes | None = None) -> None:
        self.certificate = certificate
        self.digest = digest if digest is not None else certificate.fingerprint(hashes.SHA256())
        self.facts = CertificateFacts(certificate)
        self._unreadable: tuple[Finding, ...] | None = None
        self._described: tuple[Finding, ...] | None = None
        self._label: str | None = None
        self._looks_test: bool | None = None
        self._issuer_role: tuple[CaRole | None] | None = None
        self._subject_role: tuple[CaRole | None] | None = None
        self._candidates: list[x509.Certificate] | None = None
        self._profiles: dict[CaRole | None, tuple[ProfileMatch, ...]] = {}
        self._identities: dict[IdentityKind | None, Identity] = {}
        self._verdicts: dict[tuple[CaRole | None, Purpose], _Verdict] = {}

    def unreadable(self) -> tuple[Finding, ...]:
        """The findings for the parts of the certificate that do not parse (checked first: the rest reads them)."""
        if self._unreadable is None:
            self._unreadable = tuple(unreadable_parts(self.certificate))
        return self._unreadable

    def described(self) -> tuple[Finding, ...]:
        """:func:`describe_findings` of the certificate."""
        if self._described is None:
            self._described = () if self.unreadable() else tuple(describe_findings(self.certificate))
        return self._described

    def weak(self) -> bool:
        """True when the certificate is signed with an algorithm the path builder refuses."""
        return any(finding.code == _codes.WEAK_SIGNATURE.id for finding in self.described())

    def issuer_role(self) -> CaRole | None:
        """What the certificate's issuer name says (:func:`ca_role`)."""
        if self._issuer_role is None:
            self._issuer_role = (ca_role(self.certificate.issuer),)
        return self._issuer_role[0]

    def subject_role(self) -> CaRole | None:
        """What the certificate's subject name says (:func:`ca_role`), for a CA certificate."""
        if self._subject_role is None:
            self._subject_role = (ca_role(self.certificate.subject),)
        return self._subject_role[0]

    def looks_test(self) -> bool:
        """True when the certificate is of the IGC Santé TEST hierarchy, by its issuer's name or its policy."""
        if self._looks_test is None:
            role = self.issuer_role()
            self._looks_test = role.test if role is not None else _has_test_policy(self.certificate)
        return self._looks_test

    def candidates(self, store: TrustStore) -> list[x509.Certificate]:
        """:func:`_candidates` among the store's intermediates alone (the store that owns this reading)."""
        if self._candidates is None:
            self._candidates = _candidates(self.certificate, store, [])
        return self._candidates

    def profiles(self, role: CaRole | None) -> tuple[ProfileMatch, ...]:
        """:func:`match_profiles` for the certificate issued by a CA of ``role``."""
        matches = self._profiles.get(role)
        if matches is None:
            matches = self._profiles[role] = profile_matches_for_role(self.facts, role)
        return matches

    def identity(self, kind: IdentityKind | None) -> Identity:
        """:func:`identify` for a certificate of ``kind``."""
        identity = self._identities.get(kind)
        if identity is None:
            identity = self._identities[kind] = identity_of(self.facts, kind)
        return identity

    def verdict(self, role: CaRole | None, purpose: Purpose) -> _Verdict:
        """The profiles, the profile matched, the identity and their findings, for ``purpose`` under ``role``."""
        verdict = self._verdicts.get((role, purpose))
        if verdict is None:
            verdict = self._verdicts[(role, purpose)] = self._judge(role, purpose)
        return verdict

    def _judge(self, role: CaRole | None, purpose: Purpose) -> _Verdict:
        profiles = self.profiles(role)
        matched = next((match.profile for match in profiles if match.matched), None)
        required = next(match for match in profiles if match.profile is purpose.profile)
        findings = _purpose_findings(self.facts, purpose)
        if required.matched:
            findings.append(_codes.PROFILE(f"matches the {required.profile} profile"))
        elif matched is not None and not matched.authenticates:
            findings.append(_codes.NOT_FOR_TLS(
                f"this is {matched.description}: it {'encrypts' if matched is Profile.ORG_CONF else 'signs'} "
                f"messages and documents and never authenticates TLS; {_a(purpose)} check needs "
                f"{required.profile.description}"
            ))  # fmt: skip
        else:
            findings.append(_codes.PROFILE_MISMATCH(
                f"{_a(purpose)} certificate is {required.profile}: " + "; ".join(required.reasons)
                + (f" (it matches {matched})" if matched else "")
            ))  # fmt: skip
        identity = self.identity(matched.holder if matched else None)
        return _Verdict(profiles=profiles, matched=matched, identity=identity, findings=(*findings, *identity.findings))

    def label(self) -> str:
        """The report's subject: the certificate's subject name and the start of its fingerprint."""
        if self._label is None:
            certificate = self.certificate
            self._label = f"{certificate.subject.rfc4514_string()} [{self.digest[:8].hex()}]"
        return self._label


class CheckCache:
    """What :func:`verify` keeps between checks with one :class:`TrustStore`; the store holds it.

    Only what depends on a certificate's content (and on the store, which cannot change): for each certificate
    checked, its reading (signature algorithm, critical extensions, IGC Santé profiles, identity, purpose findings,
    the report's subject) and the store's intermediates that can be above it; for the CA certificates of the
    paths built, what their names say. Never the time, the path, the host name, the intermediates given with a
    certificate, nor its revocation status: those are judged on every call, so nothing kept here can make an
    answer stale for another time, purpose or set of CRLs. Bounded: the readings of the last ``size`` (256)
    certificates checked, the least recently checked dropped first; the store's own certificates are kept apart.
    A certificate is found again by identity, else by the SHA-256 of its DER. Safe to share between threads.
    """

    def __init__(self, store: TrustStore, size: int = _READINGS) -> None:
        self.size = size
        self._lock = threading.Lock()
        self._by_id: dict[int, _Reading] = {}  # each reading keeps its certificate alive, so an id is not reused
        self._by_digest: dict[bytes, _Reading] = {}
        self._order: collections.OrderedDict[int, None] = collections.OrderedDict()
        self._authorities = {id(own): _Reading(own) for own in (*store.anchors, *store.intermediates)}

    def __len__(self) -> int:
        return len(self._by_id)

    def reading(self, certificate: x509.Certificate) -> _Reading:
        """The reading of ``certificate``, made now when no equal certificate was checked lately."""
        key = id(certificate)
        with self._lock:
            reading = self._by_id.get(key)
            if reading is not None and reading.certificate is certificate:
                self._order.move_to_end(key)
                return reading
            digest = certificate.fingerprint(hashes.SHA256())
            reading = self._by_digest.get(digest)
            if reading is not None:
                self._order.move_to_end(id(reading.certificate))
                return reading
            reading = self._by_digest[digest] = self._by_id[key] = _Reading(certificate, digest)
            self._order[key] = None
            while len(self._order) > self.size:
                oldest, _ = self._order.popitem(last=False)
                del self._by_digest[self._by_id.pop(oldest).digest]
            return reading

    def authority(self, certificate: x509.Certificate) -> _Reading:
        """The reading of a certificate of a built path: the store's own are kept apart from the leaves'."""
        reading = self._authorities.get(id(certificate))
        if reading is not None and reading.certificate is certificate:
            return reading
        return self.reading(certificate)


def _time_findings(certificate: x509.Certificate, at: dt.datetime) -> list[Finding]:
    if at < certificate.not_valid_before_utc:
        return [_codes.NOT_YET_VALID(f"valid from {certificate.not_valid_before_utc.isoformat()}, checked at "
                                     f"{at.isoformat()}")]  # fmt: skip
    if at > certificate.not_valid_after_utc:
        return [
            _codes.EXPIRED(f"expired on {certificate.not_valid_after_utc.isoformat()}, checked at {at.isoformat()}")
        ]
    return []


def _a(purpose: Purpose) -> str:
    """The purpose with its article, as a sentence says it: ``a server``, ``an organisation``."""
    return f"{'an' if purpose.value[0] in 'aeiou' else 'a'} {purpose.value}"


def _purpose_findings(facts: CertificateFacts, purpose: Purpose) -> list[Finding]:
    findings = []
    usages = facts.value(x509.ExtendedKeyUsage)
    if usages is None or purpose.extended_key_usage not in usages:
        findings.append(_codes.EKU_MISSING(f"{_a(purpose)} certificate needs {purpose.extended_key_usage._name}"))
    key_usage = facts.value(x509.KeyUsage)
    if key_usage is not None and not key_usage.digital_signature:
        findings.append(_codes.KEY_USAGE_MISSING(f"{_a(purpose)} certificate needs the digitalSignature key usage"))
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

    What depends on the certificate alone (profiles, identity, the report's subject) is kept by the store for the
    last certificates checked with it (:class:`CheckCache`), so checking a peer again costs little more than its
    path validation; the time, the path and the revocation status are judged on every call.
    """
    purpose = Purpose(purpose)
    checks = store._checks
    reading = checks.reading(certificate)
    if unreadable := reading.unreadable():
        raise InvalidInput(unreadable[0].message, Report(findings=unreadable))
    if at.tzinfo is None:
        raise ValueError("the time of a check is timezone-aware (UTC): pass at=datetime.now(timezone.utc)")
    checker = (
        revocation if isinstance(revocation, RevocationChecker) else RevocationChecker(mode=RevocationMode(revocation))
    )
    findings = [*reading.described(), *_time_findings(certificate, at)]
    if store.environment is Environment.TEST:
        findings.append(_codes.TEST_ANCHORS())
    if purpose is Purpose.SERVER and not host:
        findings.append(_codes.NO_HOST())
    given = list(itertools.islice(intermediates, _MAX_INTERMEDIATES))
    candidates = _candidates(certificate, store, given) if given else reading.candidates(store)
    chain, path_findings = _build_chain(
        certificate, purpose=purpose, store=store, at=at, host=host, candidates=candidates, weak=reading.weak()
    )
    findings += path_findings
    if guard := store.guard_refusal(chain):
        findings.append(_codes.PATH_INVALID(guard))
    if chain and store.environment is Environment.PROD and any(checks.authority(item).looks_test() for item in chain):
        # A production store that holds TEST anchors (given by hand) must not make a TEST identity a real one.
        findings.append(_codes.WRONG_ENVIRONMENT(
            f"the chain leads to {chain[-1].subject.rfc4514_string()}, an IGC Santé TEST CA, "
            "and the store is a production one"
        ))  # fmt: skip

    role = checks.authority(chain[1]).subject_role() if len(chain) > 1 else reading.issuer_role()
    verdict = reading.verdict(role, purpose)
    findings += verdict.findings

    results: list[RevocationResult] = []
    for index, (subject, issuer_certificate) in enumerate(itertools.pairwise(chain)):
        result = checker.check(subject, issuer_certificate, at=at)
        results.append(result)
        if result is NOT_CHECKED and index < len(_NOT_CHECKED_LOCATED):
            findings += _NOT_CHECKED_LOCATED[index]
        else:
            findings += [finding.located(f"chain[{index}]") for finding in result.findings]

    return CertificateReport(
        certificate=certificate,
        purpose=purpose,
        report=Report(findings=findings, subject=reading.label()),
        chain=chain,
        profile=verdict.matched,
        profiles=verdict.profiles,
        identity=verdict.identity,
        revocation=tuple(results),
    )

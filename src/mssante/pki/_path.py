"""The certification path of a certificate: built and verified by ``cryptography``, and why none holds.

:func:`_build_chain` gives the verified chain up to an anchor of the store, or the findings that say what stops
every path: the other environment, IGC Santé CAs missing from the store, a CA outside its validity, a constraint.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from cryptography import x509
from cryptography.x509 import verification

from mssante.pki import codes as _codes
from mssante.pki._anchors import TrustStore
from mssante.pki._profiles import Purpose, ca_role
from mssante.pki._types import TEST_POLICY_OID, Environment
from mssante.report import Finding

__all__ = ["MAX_CHAIN_DEPTH"]

MAX_CHAIN_DEPTH = 4
"""IGC Santé chains are leaf, intermediate, root: a longer path is not built."""

# What the path builder says when a path exists and a CA's constraint refuses it (RFC 5280 §4.2.1.9, §4.2.1.10),
# and when no candidate issuer was found at all.
_CONSTRAINTS = ("name constraint", "path length")
_NO_CANDIDATE = "all candidates exhausted with no interior errors"
_CA_POLICY = verification.ExtensionPolicy.webpki_defaults_ca()
_SERVER_POLICY = verification.ExtensionPolicy.permit_all().require_present(
    x509.SubjectAlternativeName, verification.Criticality.AGNOSTIC, None
)
_CLIENT_POLICY = verification.ExtensionPolicy.permit_all()


def _looks_test(certificate: x509.Certificate) -> bool:
    role = ca_role(certificate.issuer)
    if role is not None:
        return role.test
    return _has_test_policy(certificate)


def _has_test_policy(certificate: x509.Certificate) -> bool:
    try:
        policies = certificate.extensions.get_extension_for_class(x509.CertificatePolicies).value
    except x509.ExtensionNotFound:
        return False
    return any(policy.policy_identifier == TEST_POLICY_OID for policy in policies)


def _out_of_time(authority: x509.Certificate, at: dt.datetime) -> Finding | None:
    """A finding when the CA certificate ``authority`` is outside its validity at ``at``."""
    if authority.not_valid_before_utc <= at <= authority.not_valid_after_utc:
        return None
    return _codes.PATH_INVALID(
        f"the issuing CA {authority.subject.rfc4514_string()} is not valid at {at.isoformat()} (valid "
        f"{authority.not_valid_before_utc.isoformat()} to {authority.not_valid_after_utc.isoformat()})"
    )


def _issuer_out_of_time(
    certificate: x509.Certificate, candidates: Sequence[x509.Certificate], at: dt.datetime
) -> Finding | None:
    """A finding when every certificate that could have issued ``certificate`` is outside its validity at ``at``."""
    issuers = [c for c in candidates if c.subject == certificate.issuer]
    if issuers and all(not c.not_valid_before_utc <= at <= c.not_valid_after_utc for c in issuers):
        return _out_of_time(issuers[0], at)
    return None


def _no_path_findings(
    certificate: x509.Certificate, store: TrustStore, candidates: Sequence[x509.Certificate], reason: str = ""
) -> list[Finding]:
    """Why no path leads from ``certificate`` to the store's anchors, as names and key identifiers tell.

    The certificate belongs to the other environment; or IGC Santé CAs of its chain that mssante knows are
    missing from the store (each named, with the file to add and where ANS publishes it); or there is no path.
    """
    if _looks_test(certificate) != (store.environment is Environment.TEST):
        other = "TEST" if store.environment is Environment.PROD else "production"
        return [
            _codes.WRONG_ENVIRONMENT(
                f"issued by {certificate.issuer.rfc4514_string()}, a {other} CA, "
                f"checked with the {store.environment} store"
            )
        ]
    if missing := store.missing_cas(certificate, candidates):
        return [
            _codes.CA_NOT_IN_STORE(f"{ca.common_name} is not in the store: {ca.advice()}", where=ca.name)
            for ca in missing
        ]
    return [
        _codes.NO_PATH(
            f"no chain from issuer {certificate.issuer.rfc4514_string()} to an anchor of the {store.environment} store"
            + (f" ({reason})" if reason else "")
        )
    ]


def _unreached(
    certificate: x509.Certificate, store: TrustStore, candidates: Sequence[x509.Certificate]
) -> list[Finding]:
    """For a leaf refused for itself (already reported): whether its issuer could be reached at all."""
    if any(c.subject == certificate.issuer for c in (*candidates, *store.anchors)):
        return []
    return _no_path_findings(certificate, store, candidates)


def _path_findings(
    error: verification.VerificationError,
    certificate: x509.Certificate,
    store: TrustStore,
    candidates: Sequence[x509.Certificate],
    at: dt.datetime,
) -> list[Finding]:
    """The findings for a refusal of the path builder, without what the leaf's own checks already said."""
    message, _, processing = str(error).partition(" (encountered processing")
    about_leaf = repr(certificate) in processing
    if "subjectAltName" in message:
        return [_codes.HOST_MISMATCH(message.removeprefix("validation failed: "))]
    if "unaccounted-for critical" in message:
        if about_leaf:  # reported with its OID (MSS-PKI-005); the rest of the path is judged without it
            return _unreached(certificate, store, candidates)
        return [_codes.UNKNOWN_CRITICAL_EXTENSION(message)]
    if "candidates exhausted" in message:
        if out_of_time := _issuer_out_of_time(certificate, [*candidates, *store.anchors], at):
            return [out_of_time]
        reason = message.partition("candidates exhausted: ")[2]
        if any(constraint in reason for constraint in _CONSTRAINTS):  # a path exists, and a CA's constraint refuses it
            return [_codes.PATH_INVALID(reason)]
        return _no_path_findings(certificate, store, candidates, "" if reason == _NO_CANDIDATE else reason)
    return [_codes.PATH_INVALID(message)]


def _leaf_out_of_time(error: verification.VerificationError, certificate: x509.Certificate) -> bool:
    message, _, processing = str(error).partition(" (encountered processing")
    return "not valid at validation time" in message and repr(certificate) in processing


def _candidates(
    certificate: x509.Certificate, store: TrustStore, given: Sequence[x509.Certificate]
) -> list[x509.Certificate]:
    """The intermediates of ``store`` then ``given`` that can be on a path up from ``certificate``, in that order.

    The path builder tries as issuer of a certificate only the candidates whose subject is its issuer name, so
    the others are left out here: they cost time in the builder and cannot change its answer. Names compare as
    ``x509.Name`` (attribute types and values), which never tells apart names the builder (comparing DER) joins.
    When a name cannot be read, every candidate is given.
    """
    pool = [*store.intermediates, *given]
    try:
        by_subject: dict[x509.Name, list[x509.Certificate]] = {}
        for candidate in given:
            by_subject.setdefault(candidate.subject, []).append(candidate)
        stored = store._intermediates_by_subject
        kept: set[int] = set()
        pending = [certificate.issuer]
        while pending:  # each candidate is kept once and adds one name: this ends
            name = pending.pop()
            for candidate in (*stored.get(name, ()), *by_subject.get(name, ())):
                if id(candidate) not in kept:
                    kept.add(id(candidate))
                    pending.append(candidate.issuer)
    except (AttributeError, TypeError, ValueError):
        return pool
    return [candidate for candidate in pool if id(candidate) in kept]


def _path(
    certificate: x509.Certificate,
    store: TrustStore,
    at: dt.datetime,
    host: x509.DNSName | None,
    candidates: list[x509.Certificate],
) -> list[x509.Certificate]:
    """The path ``cryptography`` builds and verifies at ``at``: for ``host`` when given, else as a client's."""
    builder = store._policy_builder.time(at).max_chain_depth(MAX_CHAIN_DEPTH)
    if host is not None:
        server = builder.extension_policies(ca_policy=_CA_POLICY, ee_policy=_SERVER_POLICY)
        return server.build_server_verifier(host).verify(certificate, candidates)
    client = builder.extension_policies(ca_policy=_CA_POLICY, ee_policy=_CLIENT_POLICY)
    return client.build_client_verifier().verify(certificate, candidates).chain


def _attempt(
    certificate: x509.Certificate,
    store: TrustStore,
    at: dt.datetime,
    host: x509.DNSName | None,
    candidates: list[x509.Certificate],
) -> list[x509.Certificate] | verification.VerificationError | ValueError:
    """:func:`_path`, or the refusal it raised."""
    try:
        return _path(certificate, store, at, host, candidates)
    except (verification.VerificationError, ValueError) as error:
        return error


def _build_chain(
    certificate: x509.Certificate,
    *,
    purpose: Purpose,
    store: TrustStore,
    at: dt.datetime,
    host: str | None,
    candidates: list[x509.Certificate],
    weak: bool,
) -> tuple[tuple[x509.Certificate, ...], list[Finding]]:
    """The verified chain and every problem of the path that can be established.

    The path builder stops at the first problem. So a leaf refused for itself (its time, an unknown critical
    extension, a weak signature: reported by the leaf's own checks) does not hide the rest: a leaf outside its
    validity has its path built again at the nearest moment it is valid, then each CA is judged at ``at``; for
    the others, whether the issuer is reachable at all. A server certificate checked without a host name
    (reported) still has its path judged, as a client's.
    """
    if weak:  # the builder refuses the signature algorithm before anything else
        return (), _unreached(certificate, store, candidates)
    findings: list[Finding] = []
    subject = x509.DNSName(host) if purpose is Purpose.SERVER and host else None
    moment, retried = at, False
    for _ in range(3):  # at most: once without the host name, once at a moment the leaf is valid
        outcome = _attempt(certificate, store, moment, subject, candidates)
        if isinstance(outcome, verification.VerificationError):
            if moment == at and _leaf_out_of_time(outcome, certificate):
                # Reported with its dates (MSS-PKI-006, MSS-PKI-007): judge the rest when the leaf is valid.
                moment = min(max(at, certificate.not_valid_before_utc), certificate.not_valid_after_utc)
                retried = True
            elif subject is not None and "subjectAltName" in str(outcome):
                message = str(outcome).partition(" (encountered processing")[0]
                findings.append(_codes.HOST_MISMATCH(message.removeprefix("validation failed: ")))
                subject, retried = None, True
            else:
                return (), findings + _path_findings(outcome, certificate, store, candidates, at)
        elif isinstance(outcome, ValueError):  # an invalid host name for a DNSName: the rest is judged without it
            findings.append(_codes.HOST_MISMATCH(f"{host!r} is not a host name: {outcome}"))
            subject, retried = None, True
        elif not retried:
            return tuple(outcome), findings
        else:  # the path holds apart from what was reported; it is not a verified chain at ``at``
            return (), findings + [finding for authority in outcome[1:] if (finding := _out_of_time(authority, at))]
    return (), findings

"""Revocation checking without I/O: the checker that decides a certificate's status from CRLs and OCSP responses.

The rules, all fail-closed:

- A certificate is ``GOOD`` only when a source proves it: a full CRL of its issuer whose signature verifies and
  that is fresh at ``at`` (``thisUpdate <= at <= nextUpdate``) and does not list the serial, or an OCSP response
  for exactly this certificate, signed by the issuer or by a delegated responder of the issuer, fresh at ``at``,
  that says good. OCSP is the preferred proof; a CRL is used when no OCSP response proves anything.
- It is ``REVOKED`` when a source whose signature verifies lists it with a revocation date at or before ``at``.
  Revocation wins over a good answer of another source, and a stale source can still prove a revocation.
- Otherwise it is ``UNKNOWN``: an error in :attr:`~mssante.pki._types.RevocationMode.HARD` mode, a warning in
  ``SOFT`` mode. ``OFF`` does no work at all.

The CRL rules (separate CRL signers among them) are in :mod:`mssante.pki._crl`, the OCSP ones in
:mod:`mssante.pki._ocsp`.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

import attrs
from cryptography import x509
from cryptography.x509 import ocsp

from mssante.errors import SecurityWarning
from mssante.pki import revocation_codes as codes
from mssante.pki._crl import IndexedCrl
from mssante.pki._ocsp import _load_ocsp, _matching_single, _ocsp_responder
from mssante.pki._signing import (
    _PARSE_ERRORS,
    DEFAULT_CLOCK_SKEW,
    _extension,
    _name,
    _printable,
    _tolerant,
    _uris,
    _when,
    aware_utc,
)
from mssante.pki._types import CertStatus, RevocationMode
from mssante.report import Finding, Report, Severity

__all__ = [
    "NOT_CHECKED",
    "RevocationChecker",
    "RevocationResult",
]


def _as_tuple(findings: Iterable[Finding]) -> tuple[Finding, ...]:
    return tuple(findings)


@attrs.frozen(kw_only=True)
class RevocationResult:
    """The revocation status of one certificate at one time, the findings that explain it and its source.

    ``source`` is ``"ocsp"`` or ``"crl"`` for the source that proved the status, ``""`` when nothing did.
    """

    status: CertStatus
    findings: tuple[Finding, ...] = attrs.field(default=(), converter=_as_tuple)
    source: str = ""

    @property
    def report(self) -> Report:
        """The findings as a :class:`~mssante.report.Report`."""
        return Report(findings=self.findings)

    def extended(self, findings: Iterable[Finding]) -> RevocationResult:
        """The same result with ``findings`` (for instance those of a fetch) added."""
        return attrs.evolve(self, findings=(*self.findings, *findings))


NOT_CHECKED = RevocationResult(status=CertStatus.UNKNOWN, findings=(codes.NOT_CHECKED(where="revocation"),))
"""The result of every check with revocation off (one immutable value)."""


@attrs.frozen
class _Proof:
    """What one source says: revoked (with the date), good, or nothing usable."""

    status: CertStatus | None
    description: str
    revoked_at: datetime | None = None


class RevocationChecker:
    """Decide the revocation status of certificates from given CRLs and OCSP responses; no I/O.

    ``crls`` (bytes or :class:`IndexedCrl`) and ``ocsp_responses`` (DER) are read at construction; unreadable
    bytes raise :class:`~mssante.errors.InvalidInput`. ``crl_signers`` are candidate separate CRL-signing
    certificates. ``max_crl_age`` bounds the age of a CRL (``at - thisUpdate``); ``max_ocsp_age`` bounds the age
    of an OCSP response and lets one without nextUpdate be used. ``clock_skew`` is the allowance on
    ``thisUpdate``. ``mode`` ``SOFT`` or ``OFF`` weakens the default and emits a
    :class:`~mssante.errors.SecurityWarning`.
    """

    def __init__(
        self,
        *,
        crls: Iterable[bytes | IndexedCrl] = (),
        ocsp_responses: Iterable[bytes] = (),
        mode: RevocationMode | str = RevocationMode.HARD,
        max_crl_age: timedelta | None = None,
        crl_signers: Iterable[x509.Certificate] = (),
        max_ocsp_age: timedelta | None = None,
        clock_skew: timedelta = DEFAULT_CLOCK_SKEW,
    ) -> None:
        self.mode = RevocationMode(mode)
        self.max_crl_age = max_crl_age
        self.max_ocsp_age = max_ocsp_age
        self.clock_skew = clock_skew
        self._crls: dict[x509.Name, list[IndexedCrl]] = {}
        self._ocsp: list[ocsp.OCSPResponse] = []
        self._signers: tuple[x509.Certificate, ...] = ()
        if self.mode is RevocationMode.OFF:
            warnings.warn(
                "revocation checking is off: a revoked certificate will be accepted",
                SecurityWarning,
                stacklevel=2,
            )
            return
        if self.mode is RevocationMode.SOFT:
            warnings.warn(
                "soft-fail revocation: an unknown revocation status is only a warning, so a revoked certificate "
                "is accepted whenever no CRL or OCSP response can be had",
                SecurityWarning,
                stacklevel=2,
            )
        for crl in crls:
            indexed = crl if isinstance(crl, IndexedCrl) else IndexedCrl.load(crl)
            self._crls.setdefault(indexed.issuer, []).append(indexed)
        self._ocsp = [_load_ocsp(data) for data in ocsp_responses]
        self._signers = tuple(crl_signers)

    def check(self, cert: x509.Certificate, issuer: x509.Certificate, *, at: datetime) -> RevocationResult:
        """The revocation status of ``cert``, issued by ``issuer``, at ``at`` (timezone-aware)."""
        at = aware_utc(at)
        if self.mode is RevocationMode.OFF:
            return NOT_CHECKED
        findings: list[Finding] = []
        proofs: list[tuple[str, _Proof]] = []
        if cert.issuer != issuer.subject:
            findings.append(
                codes.WRONG_ISSUER(
                    f"the certificate is issued by {_name(cert.issuer)}, the issuer given is {_name(issuer.subject)}",
                    where="revocation",
                )
            )
            return self._decide(cert, proofs, findings, at)
        proofs += [("ocsp", proof) for proof in self._ocsp_proofs(cert, issuer, at, findings)]
        proofs += [("crl", proof) for proof in self._crl_proofs(cert, issuer, at, findings)]
        findings += _delta_notes(cert)
        if not proofs:
            findings.append(
                codes.NO_SOURCE(
                    f"no CRL of {_name(cert.issuer)} and no OCSP response for certificate serial "
                    f"{cert.serial_number:x} was available",
                    where="revocation",
                )
            )
        return self._decide(cert, proofs, findings, at)

    def _decide(
        self, cert: x509.Certificate, proofs: Sequence[tuple[str, _Proof]], findings: list[Finding], at: datetime
    ) -> RevocationResult:
        serial = f"{cert.serial_number:x}"
        for source, proof in proofs:
            if proof.status is CertStatus.REVOKED:
                findings.append(
                    codes.REVOKED(
                        f"certificate serial {serial} is revoked since {_when(proof.revoked_at)} "
                        f"according to {proof.description}",
                        where="revocation",
                    )
                )
                return RevocationResult(status=CertStatus.REVOKED, findings=findings, source=source)
        for source, proof in proofs:  # OCSP proofs come first
            if proof.status is CertStatus.GOOD:
                findings.append(
                    codes.GOOD(
                        f"certificate serial {serial} is not revoked at {_when(at)} according to {proof.description}",
                        where="revocation",
                    )
                )
                return RevocationResult(status=CertStatus.GOOD, findings=findings, source=source)
        severity = Severity.ERROR if self.mode is RevocationMode.HARD else Severity.WARNING
        findings.append(
            codes.STATUS_UNKNOWN(
                f"the revocation status of certificate serial {serial} (issuer {_name(cert.issuer)}) is unknown "
                f"at {_when(at)}: no fresh, validly signed CRL or OCSP response proves it not revoked",
                where="revocation",
                severity=severity,
            )
        )
        return RevocationResult(status=CertStatus.UNKNOWN, findings=findings, source="")

    def _crl_proofs(
        self, cert: x509.Certificate, issuer: x509.Certificate, at: datetime, findings: list[Finding]
    ) -> list[_Proof]:
        proofs: list[_Proof] = []
        for crl in self._crls.get(cert.issuer, ()):
            where = crl._where
            described = crl.describe()
            if crl.is_delta:
                findings.append(
                    codes.DELTA_IGNORED(f"{described} is a delta CRL (base {crl.delta_crl_indicator})", where=where)
                )
                proofs.append(_Proof(None, described))
                continue
            if crl.critical_extensions:
                findings.append(
                    codes.CRL_CRITICAL_EXTENSION(
                        f"{described} has critical extensions {', '.join(crl.critical_extensions)}", where=where
                    )
                )
                proofs.append(_Proof(None, described))
                continue
            signature = crl.check_signature(issuer, signers=self._signers, at=at)
            findings += signature.findings
            stale = crl.freshness(at, clock_skew=self.clock_skew, max_age=self.max_crl_age)
            findings += stale
            if not signature.valid:
                proofs.append(_Proof(None, described))
                continue
            revoked_at = crl.revoked(cert.serial_number)
            if revoked_at is not None and revoked_at <= at:
                proofs.append(_Proof(CertStatus.REVOKED, described, revoked_at))
                continue
            if revoked_at is not None:
                findings.append(
                    codes.REVOKED_LATER(
                        f"{described} lists certificate serial {cert.serial_number:x} as revoked from "
                        f"{_when(revoked_at)}, after {_when(at)}",
                        where=where,
                    )
                )
            problem = crl.scope_problem(cert)
            if problem is not None:
                findings.append(codes.CRL_OUT_OF_SCOPE(f"{described}: {problem}", where=where))
            good = problem is None and not stale
            proofs.append(_Proof(CertStatus.GOOD if good else None, described))
        return proofs

    def _ocsp_proofs(
        self, cert: x509.Certificate, issuer: x509.Certificate, at: datetime, findings: list[Finding]
    ) -> list[_Proof]:
        proofs: list[_Proof] = []
        others: list[str] = []
        for response in self._ocsp:
            if response.response_status is not ocsp.OCSPResponseStatus.SUCCESSFUL:
                findings.append(
                    codes.OCSP_NOT_SUCCESSFUL(
                        f"an OCSP response says {response.response_status.name.lower()}", where="ocsp"
                    )
                )
                continue
            try:
                with _tolerant():
                    single = _matching_single(response, cert, issuer)
                    if single is None:
                        others += [f"{one.serial_number:x}" for one in response.responses]
                        continue
                    proofs.append(
                        self._ocsp_proof(response, single, cert=cert, issuer=issuer, at=at, findings=findings)
                    )
            except _PARSE_ERRORS as error:  # pragma: no cover - _parse_now read every field at construction
                findings.append(codes.OCSP_UNREADABLE(f"an OCSP response is malformed: {error}", where="ocsp"))
        if others and not proofs:
            findings.append(
                codes.OCSP_OTHER_CERTIFICATE(
                    f"the OCSP responses are for serials {', '.join(others)} (or another issuer), not for "
                    f"certificate serial {cert.serial_number:x} of {_name(cert.issuer)}",
                    where="ocsp",
                )
            )
        return proofs

    def _ocsp_proof(
        self,
        response: ocsp.OCSPResponse,
        single: ocsp.OCSPSingleResponse,
        *,
        cert: x509.Certificate,
        issuer: x509.Certificate,
        at: datetime,
        findings: list[Finding],
    ) -> _Proof:
        responder, problem = _ocsp_responder(response, issuer, at)
        described = f"OCSP response by {responder} (thisUpdate {_when(single.this_update_utc)})"
        if problem is not None:
            findings.append(problem)
            return _Proof(None, described)
        if single.certificate_status is ocsp.OCSPCertStatus.REVOKED:
            revoked_at = single.revocation_time_utc
            if revoked_at is not None and revoked_at <= at:
                return _Proof(CertStatus.REVOKED, described, revoked_at)
            findings.append(
                codes.REVOKED_LATER(
                    f"{described} says certificate serial {cert.serial_number:x} is revoked from {_when(revoked_at)}, "
                    f"after {_when(at)}",
                    where="ocsp",
                )
            )
        stale = self._ocsp_freshness(single, described, at)
        findings += stale
        if single.certificate_status is ocsp.OCSPCertStatus.UNKNOWN:
            findings.append(
                codes.OCSP_UNKNOWN(f"{described} does not know certificate serial {cert.serial_number:x}", where="ocsp")
            )
            return _Proof(None, described)
        return _Proof(None if stale else CertStatus.GOOD, described)

    def _ocsp_freshness(self, single: ocsp.OCSPSingleResponse, described: str, at: datetime) -> list[Finding]:
        findings: list[Finding] = []
        this_update, next_update = single.this_update_utc, single.next_update_utc
        if this_update > at + self.clock_skew:
            findings.append(codes.OCSP_NOT_YET_VALID(f"{described} is not yet valid at {_when(at)}", where="ocsp"))
        if next_update is not None and at > next_update:
            findings.append(
                codes.OCSP_EXPIRED(f"{described} expired at {_when(next_update)}, checked at {_when(at)}", where="ocsp")
            )
        too_old = self.max_ocsp_age is not None and at - this_update > self.max_ocsp_age
        if too_old or (next_update is None and self.max_ocsp_age is None):
            limit = "no maximum age set" if self.max_ocsp_age is None else f"maximum age {self.max_ocsp_age}"
            findings.append(
                codes.OCSP_TOO_OLD(
                    f"{described} (nextUpdate {_when(next_update)}) cannot be used at {_when(at)}: {limit}",
                    where="ocsp",
                )
            )
        return findings


def _delta_notes(cert: x509.Certificate) -> list[Finding]:
    freshest = _extension(cert, x509.FreshestCRL)
    if not isinstance(freshest, x509.FreshestCRL):
        return []
    urls = [_printable(url) for point in freshest for url in _uris(point.full_name)] or ["(no URL)"]
    ldap_only = all(url.lower().startswith("ldap") for url in urls)
    prefix = "delta CRL (LDAP) not checked" if ldap_only else "delta CRL not checked"
    return [codes.DELTA_NOT_CHECKED(f"{prefix}: {', '.join(urls)}; only full CRLs are used", where="revocation")]

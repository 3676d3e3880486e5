"""CRLs: reading one with its revoked serials indexed, and checking its signature, freshness and scope.

Separate CRL signers (the GIP-CPS pattern: a self-issued certificate with the CA's name and keyUsage cRLSign
only, issued by the CA's key) are accepted when supplied by the caller **and** their own signature verifies under
the issuer's key: membership of the supplied list alone gives no trust, since such certificates come from the
same untrusted places as CRLs. The signer is matched by the CRL's AKI (= the signer's SKI) and must carry the
CRL's issuer name, be issued under that name, have keyUsage cRLSign and be valid at ``at``. Its own revocation
is not checked (that would need the CRL it signs). SHA-1 and MD5 signatures are never accepted.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone

import attrs
from cryptography import x509
from cryptography.exceptions import InvalidSignature

from mssante.errors import InvalidInput
from mssante.pki import revocation_codes as codes
from mssante.pki._signing import (
    _PARSE_ERRORS,
    DEFAULT_CLOCK_SKEW,
    _algorithm,
    _CertificateKey,
    _extension,
    _is_ca,
    _key_der,
    _key_usage,
    _name,
    _printable,
    _public_key,
    _subject_key_id,
    _tolerant,
    _unsupported_key,
    _valid_at,
    _weak_hash,
    _when,
    aware_utc,
)
from mssante.report import Finding, Report

__all__ = [
    "DEFAULT_MAX_CRL_BYTES",
    "CrlSignature",
    "IndexedCrl",
]

DEFAULT_MAX_CRL_BYTES = 64 * 1024 * 1024
"""The largest CRL read by default (64 MiB)."""

_SERIAL = operator.attrgetter("serial_number")
_LISTED_KEPT = 1024  # the entries of listed serials an IndexedCrl keeps once found, the first found dropped first


@attrs.frozen(kw_only=True)
class CrlSignature:
    """Whether a CRL's signature verifies for an issuer: the certificate whose key signed it, and why not."""

    signer: x509.Certificate | None
    findings: tuple[Finding, ...] = ()

    @property
    def valid(self) -> bool:
        """True when the signature verified under an accepted key."""
        return self.signer is not None


class IndexedCrl:
    """A parsed CRL with its revoked serials indexed once: :meth:`revoked` is a dictionary lookup.

    Build it with :meth:`load` (PEM or DER bytes) or from a parsed CRL. Its signature and freshness are not
    judged here: see :meth:`check_signature`, :meth:`freshness` and :class:`RevocationChecker`.
    """

    __slots__ = (
        "_description",
        "_listed",
        "_listed_twice",
        "_serials",
        "_verified",
        "_where",
        "authority_key_identifier",
        "critical_extensions",
        "crl",
        "delta_crl_indicator",
        "issuer",
        "issuing_distribution_point",
        "next_update",
        "number",
        "source",
        "this_update",
    )

    crl: x509.CertificateRevocationList
    """The CRL as parsed by ``cryptography``."""
    issuer: x509.Name
    """The CRL issuer's name."""
    this_update: datetime
    """``thisUpdate``, timezone-aware UTC."""
    next_update: datetime | None
    """``nextUpdate``, timezone-aware UTC (None when the CRL has none)."""
    number: int | None
    """The CRL number, if any."""
    authority_key_identifier: bytes | None
    """The key identifier of the CRL's AKI extension, if any."""
    delta_crl_indicator: int | None
    """For a delta CRL, the number of its base CRL; None for a full CRL."""
    issuing_distribution_point: x509.IssuingDistributionPoint | None
    """The CRL's scope, when it declares one."""
    critical_extensions: tuple[str, ...]
    """The dotted OIDs of critical extensions that are not understood (a CRL that has any is not used)."""
    source: str
    """Where the CRL came from (a URL or a file name), for the findings; may be empty."""

    def __init__(self, crl: x509.CertificateRevocationList, *, source: str = "") -> None:
        """Index ``crl``; raises :class:`~mssante.errors.InvalidInput` when its content is malformed."""
        self.crl = crl
        self.source = source
        self._where = _printable(source) if source else "crl"
        self._verified: dict[bytes, bool] = {}
        with _tolerant():
            try:
                self.issuer = crl.issuer
                self.this_update = crl.last_update_utc
                self.next_update = crl.next_update_utc
                extensions = crl.extensions
                number = _value(extensions, x509.CRLNumber)
                self.number = number.crl_number if isinstance(number, x509.CRLNumber) else None
                aki = _value(extensions, x509.AuthorityKeyIdentifier)
                self.authority_key_identifier = (
                    aki.key_identifier if isinstance(aki, x509.AuthorityKeyIdentifier) else None
                )
                delta = _value(extensions, x509.DeltaCRLIndicator)
                self.delta_crl_indicator = delta.crl_number if isinstance(delta, x509.DeltaCRLIndicator) else None
                idp = _value(extensions, x509.IssuingDistributionPoint)
                self.issuing_distribution_point = idp if isinstance(idp, x509.IssuingDistributionPoint) else None
                self.critical_extensions = tuple(
                    extension.oid.dotted_string
                    for extension in extensions
                    if extension.critical and isinstance(extension.value, x509.UnrecognizedExtension)
                )
                # Keep the serial numbers only, read by C-level iterators: each entry object is dropped as soon as
                # its serial is read, so memory is that of a bare set and the time that of one pass. A listed
                # serial (a revoked certificate: rare) has its entry found once by cryptography and kept.
                self._serials: frozenset[int] = frozenset(map(_SERIAL, crl))
                self._listed: dict[int, x509.RevokedCertificate] = {}
                self._listed_twice: bool | None = None  # known at the first lookup of a listed serial
            except _PARSE_ERRORS as error:
                raise _unreadable(f"the CRL content is malformed: {error}", source) from error

    @classmethod
    def load(cls, data: bytes, *, max_bytes: int = DEFAULT_MAX_CRL_BYTES, source: str = "") -> IndexedCrl:
        """Read a CRL from PEM or DER bytes of at most ``max_bytes``.

        Raises :class:`~mssante.errors.InvalidInput` (with a report) for anything that is not a readable CRL.
        """
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise _unreadable(f"a CRL is bytes, not {type(data).__name__}", source)
        if len(data) > max_bytes:
            raise _unreadable(f"the CRL is {len(data)} bytes, over the limit of {max_bytes}", source)
        if not data:
            raise _unreadable("the CRL is empty", source)
        raw = bytes(data)
        try:
            with _tolerant():
                pem = raw.lstrip()[:10] == b"-----BEGIN"
                crl = x509.load_pem_x509_crl(raw) if pem else x509.load_der_x509_crl(raw)
        except _PARSE_ERRORS as error:
            raise _unreadable(f"not a PEM or DER CRL: {error}", source) from error
        return cls(crl, source=source)

    def revoked(self, serial: int) -> datetime | None:
        """The revocation date (UTC) of ``serial`` if this CRL lists it, else None."""
        entry = self.entry(serial)
        if entry is None:
            return None
        try:
            return entry.revocation_date_utc
        except _PARSE_ERRORS:  # pragma: no cover - listed with an unreadable date: revoked all along
            return datetime.min.replace(tzinfo=timezone.utc)

    def entry(self, serial: int) -> x509.RevokedCertificate | None:
        """The CRL entry of ``serial`` (with its extensions, such as the reason), or None.

        A serial not listed is answered from the index. The entry of a listed one is found once, by a scan of the
        CRL in ``cryptography``, and kept for the next lookups (at most :data:`_LISTED_KEPT` entries).
        """
        if serial not in self._serials:
            return None
        entry = self._listed.get(serial)
        if entry is None:
            entry = self._find(serial)
            if len(self._listed) >= _LISTED_KEPT:
                self._listed.pop(next(iter(self._listed)))
            self._listed[serial] = entry
        return entry

    def _find(self, serial: int) -> x509.RevokedCertificate:
        """The entry of a listed ``serial``: the last one listed, when a CRL lists a serial more than once."""
        with _tolerant():
            try:
                if self._listed_twice is None:  # counted by cryptography, with no object per entry
                    self._listed_twice = len(self.crl) != len(self._serials)
                entry = None if self._listed_twice else self.crl.get_revoked_certificate_by_serial_number(serial)
            except _PARSE_ERRORS:  # a negative serial
                entry = None
            if entry is None:  # listed more than once, or encoded so that cryptography's byte comparison misses it
                for candidate in self.crl:
                    if candidate.serial_number == serial:
                        entry = candidate
        if entry is None:  # pragma: no cover - every indexed serial is in the CRL
            raise LookupError(f"serial {serial:x} is indexed and not in the CRL")
        return entry

    def __contains__(self, serial: object) -> bool:
        return serial in self._serials

    def __len__(self) -> int:
        return len(self._serials)

    def __repr__(self) -> str:
        return f"<IndexedCrl {self.describe()}, {len(self)} entries>"

    @property
    def is_delta(self) -> bool:
        """True for a delta CRL (which is never used: only full CRLs are)."""
        return self.delta_crl_indicator is not None

    def describe(self) -> str:
        """A one-line description for findings: issuer, number, dates and source (made once, on first use)."""
        description: str | None = getattr(self, "_description", None)
        if description is None:
            number = "" if self.number is None else f" number {self.number}"
            source = f" from {self._where}" if self.source else ""
            description = self._description = (
                f"CRL of {_name(self.issuer)}{number} (thisUpdate {_when(self.this_update)}, "
                f"nextUpdate {_when(self.next_update)}){source}"
            )
        return description

    def check_signature(
        self, issuer: x509.Certificate, *, signers: Iterable[x509.Certificate] = (), at: datetime
    ) -> CrlSignature:
        """Verify this CRL's signature for ``issuer``: by the issuer's key, or by a separate CRL signer.

        ``signers`` are candidate CRL-signing certificates; one is used only when its SKI equals the CRL's AKI and
        it passes the rules in the module documentation. ``at`` is the time the signers must be valid at.
        """
        at = aware_utc(at)
        described = self.describe()
        if self.issuer != issuer.subject:
            return CrlSignature(
                signer=None,
                findings=(
                    codes.CRL_BAD_SIGNATURE(f"{described} is not issued by {_name(issuer.subject)}", where=self._where),
                ),
            )
        weak = _weak_hash(self.crl)
        if weak is not None:
            return CrlSignature(
                signer=None,
                findings=(
                    codes.WEAK_SIGNATURE(
                        f"{described} is signed with {_algorithm(self.crl)}: SHA-1 signature not accepted",
                        where=self._where,
                    ),
                ),
            )
        findings: list[Finding] = []
        for candidate in self._candidates(issuer, signers, at, findings):
            key = _public_key(candidate)
            if key is not None and self._verifies(key):
                return CrlSignature(signer=candidate, findings=tuple(findings))
        aki = self.authority_key_identifier
        claimed = f" (AKI {aki.hex()})" if aki is not None else ""
        findings.append(
            codes.CRL_BAD_SIGNATURE(
                f"{described}: the signature{claimed} does not verify under the key of {_name(issuer.subject)}"
                f"{_unsupported_key(issuer)} nor of an accepted CRL signer",
                where=self._where,
            )
        )
        return CrlSignature(signer=None, findings=tuple(findings))

    def _candidates(
        self, issuer: x509.Certificate, signers: Iterable[x509.Certificate], at: datetime, findings: list[Finding]
    ) -> list[x509.Certificate]:
        aki = self.authority_key_identifier
        where = self._where
        candidates: list[x509.Certificate] = []
        if aki is None or aki == _subject_key_id(issuer):
            usage = _key_usage(issuer)
            if usage is not None and not usage.crl_sign:
                findings.append(
                    codes.CRL_SIGNER_REFUSED(
                        f"{_name(issuer.subject)} has no keyUsage cRLSign: its own signature on a CRL is not "
                        "accepted (it needs a separate CRL signer)",
                        where=where,
                    )
                )
            else:
                candidates.append(issuer)
        if aki is None:
            return candidates  # a separate signer is only matched by the CRL's AKI
        for signer in signers:
            if _subject_key_id(signer) != aki or signer == issuer:
                continue
            problem = _signer_problem(signer, issuer, self.issuer, at)
            if problem is None:
                candidates.append(signer)
            else:
                code = codes.WEAK_SIGNATURE if problem.startswith("SHA-1") else codes.CRL_SIGNER_REFUSED
                findings.append(
                    code(
                        f"CRL signer {_name(signer.subject)} (serial {signer.serial_number:x}) refused: {problem}",
                        where=where,
                    )
                )
        return candidates

    def _verifies(self, key: _CertificateKey) -> bool:
        der = _key_der(key)
        known = self._verified.get(der)
        if known is None:
            try:
                known = self.crl.is_signature_valid(key)
            except _PARSE_ERRORS:
                known = False
            self._verified[der] = known
        return known

    def freshness(
        self, at: datetime, *, clock_skew: timedelta = DEFAULT_CLOCK_SKEW, max_age: timedelta | None = None
    ) -> tuple[Finding, ...]:
        """Why this CRL cannot prove a certificate good at ``at``: empty when it is fresh.

        Fresh means ``thisUpdate <= at + clock_skew``, ``at <= nextUpdate`` (no allowance: a CRL past its
        nextUpdate never proves good), and, when ``max_age`` is set, ``at - thisUpdate <= max_age``. A CRL
        without nextUpdate is fresh only within ``max_age``.
        """
        at = aware_utc(at)
        described = self.describe()
        where = self._where
        findings: list[Finding] = []
        if self.this_update > at + clock_skew:
            findings.append(codes.CRL_NOT_YET_VALID(f"{described} is not yet valid at {_when(at)}", where=where))
        if self.next_update is not None and at > self.next_update:
            findings.append(
                codes.CRL_EXPIRED(
                    f"{described} expired at {_when(self.next_update)}, checked at {_when(at)}", where=where
                )
            )
        if max_age is not None and at - self.this_update > max_age:
            findings.append(
                codes.CRL_TOO_OLD(f"{described} is older than {max_age} at {_when(at)}", where=where),
            )
        if self.next_update is None and max_age is None:
            findings.append(codes.CRL_NO_NEXT_UPDATE(f"{described} has no nextUpdate", where=where))
        return tuple(findings)

    def scope_problem(self, cert: x509.Certificate) -> str | None:
        """Why this CRL does not cover ``cert`` (its issuing distribution point), or None when it does."""
        idp = self.issuing_distribution_point
        if idp is None:
            return None
        if idp.indirect_crl:
            return "it is an indirect CRL, which is not supported"
        if idp.only_some_reasons:
            return "it covers only some revocation reasons"
        if idp.only_contains_attribute_certs:
            return "it covers attribute certificates only"
        if idp.only_contains_user_certs and _is_ca(cert):
            return "it covers end-entity certificates only and this is a CA certificate"
        if idp.only_contains_ca_certs and not _is_ca(cert):
            return "it covers CA certificates only and this is an end-entity certificate"
        if idp.relative_name is not None:
            return "its distribution point is a relative name, which is not supported"
        if idp.full_name:
            points = _extension(cert, x509.CRLDistributionPoints)
            names: set[x509.GeneralName] = set()
            if isinstance(points, x509.CRLDistributionPoints):
                names = {name for point in points for name in point.full_name or ()}
            if not names.intersection(idp.full_name):
                return "its distribution point is not one of the certificate's CRL distribution points"
        return None


def _value(extensions: x509.Extensions, kind: type[x509.ExtensionType]) -> object:
    try:
        return extensions.get_extension_for_class(kind).value
    except x509.ExtensionNotFound:
        return None


def _unreadable(message: str, source: str) -> InvalidInput:
    where = _printable(source) if source else "crl"
    finding = codes.CRL_UNREADABLE(message, where=where)
    return InvalidInput(f"unreadable CRL{f' from {where}' if source else ''}: {message}", Report(findings=[finding]))


def _signer_problem(
    signer: x509.Certificate, issuer: x509.Certificate, crl_issuer: x509.Name, at: datetime
) -> str | None:
    """Why ``signer`` cannot sign CRLs of ``issuer`` (None when it can); see the module documentation."""
    usage = _key_usage(signer)
    if usage is None or not usage.crl_sign:
        return "no keyUsage cRLSign"
    if signer.subject != crl_issuer:
        return f"its subject {_name(signer.subject)} is not the CRL issuer {_name(crl_issuer)}"
    if signer.issuer != issuer.subject:
        return f"it is issued by {_name(signer.issuer)}, not by {_name(issuer.subject)}"
    weak = _weak_hash(signer)
    if weak is not None:
        return f"SHA-1 signature not accepted: the signer certificate is signed with {_algorithm(signer)}"
    try:
        signer.verify_directly_issued_by(issuer)
    except (InvalidSignature, *_PARSE_ERRORS):
        return f"its signature does not verify under the key of {_name(issuer.subject)}"
    if not _valid_at(signer, at):
        return (
            f"it is not valid at {_when(at)} (valid {_when(signer.not_valid_before_utc)} to "
            f"{_when(signer.not_valid_after_utc)})"
        )
    return None

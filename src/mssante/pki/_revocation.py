"""Revocation checking without I/O: indexed CRLs, CRL and OCSP validation, and the checker that decides.

The rules, all fail-closed:

- A certificate is ``GOOD`` only when a source proves it: a full CRL of its issuer whose signature verifies and
  that is fresh at ``at`` (``thisUpdate <= at <= nextUpdate``) and does not list the serial, or an OCSP response
  for exactly this certificate, signed by the issuer or by a delegated responder of the issuer, fresh at ``at``,
  that says good. OCSP is the preferred proof; a CRL is used when no OCSP response proves anything.
- It is ``REVOKED`` when a source whose signature verifies lists it with a revocation date at or before ``at``.
  Revocation wins over a good answer of another source, and a stale source can still prove a revocation.
- Otherwise it is ``UNKNOWN``: an error in :attr:`~mssante.pki._types.RevocationMode.HARD` mode, a warning in
  ``SOFT`` mode. ``OFF`` does no work at all.

Separate CRL signers (the GIP-CPS pattern: a self-issued certificate with the CA's name and keyUsage cRLSign
only, issued by the CA's key) are accepted when supplied by the caller **and** their own signature verifies under
the issuer's key: membership of the supplied list alone gives no trust, since such certificates come from the
same untrusted places as CRLs. The signer is matched by the CRL's AKI (= the signer's SKI) and must carry the
CRL's issuer name, be issued under that name, have keyUsage cRLSign and be valid at ``at``. Its own revocation
is not checked (that would need the CRL it signs). SHA-1 and MD5 signatures are never accepted.
"""

from __future__ import annotations

import contextlib
import operator
import warnings
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timedelta, timezone
from typing import TypeAlias

import attrs
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID, SignatureAlgorithmOID

from mssante.errors import InvalidInput, SecurityWarning
from mssante.pki import revocation_codes as codes
from mssante.pki._types import CertStatus, RevocationMode
from mssante.report import Finding, Report, Severity

__all__ = [
    "DEFAULT_CLOCK_SKEW",
    "DEFAULT_MAX_CRL_BYTES",
    "MAX_OCSP_RESPONSE_BYTES",
    "CrlSignature",
    "IndexedCrl",
    "RevocationChecker",
    "RevocationResult",
]

DEFAULT_MAX_CRL_BYTES = 64 * 1024 * 1024
"""The largest CRL read by default (64 MiB)."""

MAX_OCSP_RESPONSE_BYTES = 1024 * 1024
"""The largest OCSP response read (1 MiB; real responses are a few KiB)."""

DEFAULT_CLOCK_SKEW = timedelta(minutes=5)
"""How far a ``thisUpdate`` may be after the time checked, to allow for clocks that disagree."""

_WEAK_HASHES = (hashes.SHA1, hashes.MD5)
# The key algorithms IGC Santé and the OCSP/CRL signers of the trust space use. DSA is not among them (and is
# deprecated by cryptography): a DSA key is an unsupported algorithm, reported as such (_unsupported_key).
_PUBLIC_KEY_TYPES = (
    rsa.RSAPublicKey,
    ec.EllipticCurvePublicKey,
    ed25519.Ed25519PublicKey,
    ed448.Ed448PublicKey,
)
_CertificateKey: TypeAlias = (
    rsa.RSAPublicKey | ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey | ed448.Ed448PublicKey
)
_SERIAL = operator.attrgetter("serial_number")
_LISTED_KEPT = 1024  # the entries of listed serials an IndexedCrl keeps once found, the first found dropped first
_PARSE_ERRORS = (
    ValueError,
    TypeError,
    KeyError,  # a name whose string type cryptography 45 does not know
    OverflowError,
    UnsupportedAlgorithm,
    x509.InvalidVersion,
    x509.DuplicateExtension,
    x509.UnsupportedGeneralNameType,
)


def aware_utc(at: object) -> datetime:
    """``at`` in UTC; :class:`~mssante.errors.InvalidInput` when it is not a timezone-aware datetime."""
    if not isinstance(at, datetime) or at.utcoffset() is None:
        raise InvalidInput(f"the time checked must be a timezone-aware datetime, not {at!r}")
    return at.astimezone(timezone.utc)


def _printable(text: str, limit: int = 300) -> str:
    """``text`` with control and other non-printable characters escaped, cut at ``limit``: safe in a log line."""
    shown = "".join(char if char.isprintable() else ascii(char)[1:-1] for char in text[: limit + 1])
    return shown if len(shown) <= limit else shown[:limit] + "..."


def _when(moment: datetime | None) -> str:
    return "none" if moment is None else moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _name(name: x509.Name) -> str:
    try:
        return name.rfc4514_string() or "(empty name)"
    except ValueError:  # pragma: no cover - an attribute cryptography cannot render
        return repr(name)


def _extension(owner: x509.Certificate | x509.CertificateRevocationList, kind: type[x509.ExtensionType]) -> object:
    """The value of an extension, or None when absent or unreadable."""
    try:
        return owner.extensions.get_extension_for_class(kind).value
    except (x509.ExtensionNotFound, ValueError):
        return None


def _key_usage(cert: x509.Certificate) -> x509.KeyUsage | None:
    value = _extension(cert, x509.KeyUsage)
    return value if isinstance(value, x509.KeyUsage) else None


def _public_key(cert: x509.Certificate) -> _CertificateKey | None:
    try:
        key = cert.public_key()
    except _PARSE_ERRORS:
        return None
    return key if isinstance(key, _PUBLIC_KEY_TYPES) else None


def _unsupported_key(cert: x509.Certificate) -> str:
    """`` (its key ... is not supported)`` when the key of ``cert`` cannot verify anything here, else ``""``."""
    if _public_key(cert) is not None:
        return ""
    try:
        algorithm = type(cert.public_key()).__name__.removesuffix("PublicKey").lstrip("_") or "unknown"
    except _PARSE_ERRORS:
        algorithm = "unreadable"
    return f" (its key algorithm, {algorithm}, is not supported: RSA, ECDSA and EdDSA are)"


def _key_der(key: _CertificateKey) -> bytes:
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _computed_key_id(cert: x509.Certificate) -> bytes | None:
    """SHA-1 of the subject public key BIT STRING: the OCSP responder key hash (RFC 6960 §4.2.1)."""
    key = _public_key(cert)
    if key is None:
        return None
    try:
        return x509.SubjectKeyIdentifier.from_public_key(key).digest
    except _PARSE_ERRORS:  # pragma: no cover - every key type above is supported
        return None


def _subject_key_id(cert: x509.Certificate) -> bytes | None:
    """The SKI extension of ``cert``, or the RFC 5280 method-1 identifier of its key when it has none."""
    value = _extension(cert, x509.SubjectKeyIdentifier)
    if isinstance(value, x509.SubjectKeyIdentifier):
        return value.digest
    return _computed_key_id(cert)


def _weak_hash(signed: x509.Certificate | x509.CertificateRevocationList | ocsp.OCSPResponse) -> str | None:
    """The name of the weak hash (SHA-1, MD5) ``signed`` is signed with, or None."""
    try:
        algorithm = signed.signature_hash_algorithm
    except UnsupportedAlgorithm:
        return None
    return algorithm.name if isinstance(algorithm, _WEAK_HASHES) else None


def _algorithm(signed: x509.Certificate | x509.CertificateRevocationList | ocsp.OCSPResponse) -> str:
    oid = signed.signature_algorithm_oid
    return getattr(oid, "_name", None) or oid.dotted_string


def _valid_at(cert: x509.Certificate, at: datetime) -> bool:
    return cert.not_valid_before_utc <= at <= cert.not_valid_after_utc


def _is_ca(cert: x509.Certificate) -> bool:
    value = _extension(cert, x509.BasicConstraints)
    return isinstance(value, x509.BasicConstraints) and value.ca


def _uris(names: Iterable[x509.GeneralName] | None) -> list[str]:
    return [name.value for name in names or () if isinstance(name, x509.UniformResourceIdentifier)]


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


@contextlib.contextmanager
def _tolerant() -> Iterator[None]:
    """Ignore the warnings ``cryptography`` emits on merely odd encodings (name lengths, serial signs).

    A CRL or OCSP response is judged by its signature, not by the style of its names; without this, a caller
    running with warnings as errors would get a ``UserWarning`` out of a parse.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # CryptographyDeprecationWarning is one too
        yield


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


def _verify_signature(key: _CertificateKey, response: ocsp.OCSPResponse) -> bool:
    """Whether the OCSP response's signature verifies under ``key`` (PKCS#1 v1.5, ECDSA, EdDSA)."""
    try:
        algorithm = response.signature_hash_algorithm
        signature, data = response.signature, response.tbs_response_bytes
        if response.signature_algorithm_oid == SignatureAlgorithmOID.RSASSA_PSS:
            return False  # parameters not exposed: not supported
        if isinstance(key, (ed25519.Ed25519PublicKey, ed448.Ed448PublicKey)):
            key.verify(signature, data)
        elif algorithm is None:
            return False
        elif isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, data, padding.PKCS1v15(), algorithm)
        else:
            key.verify(signature, data, ec.ECDSA(algorithm))
    except (InvalidSignature, *_PARSE_ERRORS):
        return False
    return True


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


def _load_ocsp(data: object) -> ocsp.OCSPResponse:
    if not isinstance(data, (bytes, bytearray, memoryview)) or len(data) > MAX_OCSP_RESPONSE_BYTES or not data:
        size = len(data) if isinstance(data, (bytes, bytearray, memoryview)) else type(data).__name__
        message = f"an OCSP response is non-empty DER bytes of at most {MAX_OCSP_RESPONSE_BYTES}, got {size}"
        raise InvalidInput(message, Report(findings=[codes.OCSP_UNREADABLE(message, where="ocsp")]))
    try:
        with _tolerant():
            response = ocsp.load_der_ocsp_response(bytes(data))
            if response.response_status is ocsp.OCSPResponseStatus.SUCCESSFUL:
                _parse_now(response)
    except _PARSE_ERRORS as error:
        message = f"not a DER OCSP response: {error}"
        raise InvalidInput(message, Report(findings=[codes.OCSP_UNREADABLE(message, where="ocsp")])) from error
    return response


def _parse_now(response: ocsp.OCSPResponse) -> list[object]:
    """Read every field the checker uses, so that a malformed response fails at construction, not in check()."""
    fields: list[object] = [response.responder_name, response.responder_key_hash, response.tbs_response_bytes]
    for single in response.responses:
        fields += [single.serial_number, single.issuer_name_hash, single.issuer_key_hash, single.certificate_status]
        fields += [single.this_update_utc, single.next_update_utc, single.revocation_time_utc]
    for cert in response.certificates:
        fields += [cert.subject, cert.issuer, cert.serial_number, cert.extensions, cert.tbs_certificate_bytes]
        fields += [cert.not_valid_before_utc, cert.not_valid_after_utc]
    return fields


def _matching_single(
    response: ocsp.OCSPResponse, cert: x509.Certificate, issuer: x509.Certificate
) -> ocsp.OCSPSingleResponse | None:
    """The single response whose CertID is exactly that of ``cert`` issued by ``issuer``."""
    expected: dict[str, ocsp.OCSPRequest] = {}
    for single in response.responses:
        if single.serial_number != cert.serial_number:
            continue
        try:
            algorithm = single.hash_algorithm
            request = expected.get(algorithm.name)
            if request is None:
                request = ocsp.OCSPRequestBuilder().add_certificate(cert, issuer, algorithm).build()
                expected[algorithm.name] = request
        except _PARSE_ERRORS:
            continue
        if single.issuer_name_hash == request.issuer_name_hash and single.issuer_key_hash == request.issuer_key_hash:
            return single
    return None


def _ocsp_responder(response: ocsp.OCSPResponse, issuer: x509.Certificate, at: datetime) -> tuple[str, Finding | None]:
    """The responder's name, and why its signature cannot be trusted (None when it can)."""
    responder_name = response.responder_name
    responder_hash = response.responder_key_hash

    def identifies(cert: x509.Certificate) -> bool:
        if responder_name is not None:
            return cert.subject == responder_name
        return responder_hash is not None and _computed_key_id(cert) == responder_hash

    label = _name(responder_name) if responder_name is not None else f"key {(responder_hash or b'').hex()}"
    weak = _weak_hash(response)
    if weak is not None:
        return label, codes.WEAK_SIGNATURE(
            f"the OCSP response by {label} is signed with {_algorithm(response)}: SHA-1 signature not accepted",
            where="ocsp",
        )
    if identifies(issuer):
        key = _public_key(issuer)
        if key is not None and _verify_signature(key, response):
            return label, None
        if responder_hash is not None or not response.certificates:
            return label, codes.OCSP_BAD_SIGNATURE(
                f"the OCSP response by {label} does not verify under the key of {_name(issuer.subject)}"
                f"{_unsupported_key(issuer)}",
                where="ocsp",
            )
    problems: list[str] = []
    for candidate in response.certificates:
        if not identifies(candidate):
            continue
        problem = _delegate_problem(candidate, issuer, at)
        if problem is not None:
            problems.append(f"{_name(candidate.subject)} (serial {candidate.serial_number:x}): {problem}")
            continue
        key = _public_key(candidate)
        if key is not None and _verify_signature(key, response):
            return label, None
        return label, codes.OCSP_BAD_SIGNATURE(
            f"the OCSP response does not verify under the key of its responder {_name(candidate.subject)}"
            f"{_unsupported_key(candidate)}",
            where="ocsp",
        )
    reason = "; ".join(problems) if problems else "the responder is not the CA and no certificate for it is included"
    code = codes.WEAK_SIGNATURE if any("SHA-1" in problem for problem in problems) else codes.OCSP_UNAUTHORISED
    return label, code(f"OCSP responder {label} refused for CA {_name(issuer.subject)}: {reason}", where="ocsp")


def _delegate_problem(responder: x509.Certificate, issuer: x509.Certificate, at: datetime) -> str | None:
    """Why ``responder`` is not a delegated OCSP responder of ``issuer`` at ``at`` (None when it is)."""
    if responder.issuer != issuer.subject:
        return f"issued by {_name(responder.issuer)}, not by the CA"
    weak = _weak_hash(responder)
    if weak is not None:
        return f"SHA-1 signature not accepted on the responder certificate ({_algorithm(responder)})"
    try:
        responder.verify_directly_issued_by(issuer)
    except (InvalidSignature, *_PARSE_ERRORS):
        return "its signature does not verify under the CA's key"
    usage = _extension(responder, x509.ExtendedKeyUsage)
    if not isinstance(usage, x509.ExtendedKeyUsage) or ExtendedKeyUsageOID.OCSP_SIGNING not in usage:
        return "no extended key usage OCSPSigning"
    if not _valid_at(responder, at):
        return (
            f"not valid at {_when(at)} (valid {_when(responder.not_valid_before_utc)} to "
            f"{_when(responder.not_valid_after_utc)})"
        )
    return None


def _delta_notes(cert: x509.Certificate) -> list[Finding]:
    freshest = _extension(cert, x509.FreshestCRL)
    if not isinstance(freshest, x509.FreshestCRL):
        return []
    urls = [_printable(url) for point in freshest for url in _uris(point.full_name)] or ["(no URL)"]
    ldap_only = all(url.lower().startswith("ldap") for url in urls)
    prefix = "delta CRL (LDAP) not checked" if ldap_only else "delta CRL not checked"
    return [codes.DELTA_NOT_CHECKED(f"{prefix}: {', '.join(urls)}; only full CRLs are used", where="revocation")]

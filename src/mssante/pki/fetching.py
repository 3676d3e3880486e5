"""What fetching revocation information decides without I/O: which URLs, which CRL may be kept, the on-disk cache.

Public for the shells that fetch. The fetchers themselves (:class:`~mssante.pki.CrlFetcher`,
:class:`~mssante.pki.AsyncCrlFetcher`) are I/O shells in :mod:`mssante.net`; they call into this module:

- Only ``http`` and ``https`` URLs are fetched; an LDAP-only distribution point gives an info finding and any
  other scheme a warning (:func:`distribution_points`, :func:`ocsp_urls`).
- With a :class:`CrlCache`, a CRL still fresh at ``at`` (before its nextUpdate, and issued less than
  ``refresh_after`` ago: a day by default, as IGC Santé publishes daily) is not downloaded again (:func:`fresh`),
  another one is re-validated with ``If-None-Match``/``If-Modified-Since``, and a download replaces it only when it
  parsed, its signature verified for the issuer and it is not older (:func:`vet`). Otherwise the last valid CRL is
  kept and returned.
"""

from __future__ import annotations

import hashlib
import json
import urllib.parse
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from http import HTTPStatus
from pathlib import Path

import attrs
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp
from cryptography.x509.oid import AuthorityInformationAccessOID

from mssante._files import atomic_write, cache_directory, read_regular
from mssante._revalidation import conditional_headers
from mssante.errors import InvalidInput, TrustError
from mssante.pki import revocation_codes as codes
from mssante.pki._anchors import TrustStore
from mssante.pki._crl import DEFAULT_MAX_CRL_BYTES, IndexedCrl
from mssante.pki._ocsp import MAX_OCSP_RESPONSE_BYTES
from mssante.pki._signing import _printable, aware_utc
from mssante.report import Finding

__all__ = [
    "DEFAULT_REFRESH_AFTER",
    "MAX_OCSP_RESPONSE_BYTES",
    "MAX_PATH",
    "MAX_URL_LENGTH",
    "OCSP_REQUEST_TYPE",
    "OCSP_RESPONSE_TYPE",
    "CachedCrl",
    "CrlCache",
    "RevocationFetchError",
    "aware_utc",
    "build_ocsp_request",
    "default_cache_directory",
    "distribution_points",
    "fresh",
    "ocsp_body",
    "ocsp_urls",
    "path_to_anchor",
    "vet",
]

MAX_URL_LENGTH = 2048
"""No distribution point or OCSP URL is longer; a longer one is refused unread."""

OCSP_REQUEST_TYPE = "application/ocsp-request"
OCSP_RESPONSE_TYPE = "application/ocsp-response"
_HTTP_SCHEMES = ("http", "https")
_LDAP_SCHEMES = ("ldap", "ldaps")


class RevocationFetchError(TrustError):
    """Revocation information could not be fetched (network, timeout, HTTP status, oversize or bad body)."""

    def __init__(self, message: str, *, url: str) -> None:
        super().__init__(message)
        self.url = url


def default_cache_directory(environ: Mapping[str, str] | None = None) -> Path:
    """``$XDG_CACHE_HOME/mssante/crl``, or ``~/.cache/mssante/crl`` when that variable is unset or relative."""
    return cache_directory("crl", environ)


def build_ocsp_request(cert: x509.Certificate, issuer: x509.Certificate) -> bytes:
    """The DER OCSP request for ``cert`` issued by ``issuer`` (CertID hashed with SHA-1, as RFC 5019 asks; no nonce)."""
    builder = ocsp.OCSPRequestBuilder().add_certificate(cert, issuer, hashes.SHA1())  # noqa: S303 - CertID, not a signature
    return builder.build().public_bytes(serialization.Encoding.DER)


def _scheme(url: str) -> str:
    """The lower-case scheme of ``url``; empty for what is not a plain, printable URL of sensible length."""
    if len(url) > MAX_URL_LENGTH or not url.isprintable() or " " in url:
        return ""
    try:
        return urllib.parse.urlsplit(url).scheme.lower()
    except ValueError:
        return ""


def _extension(cert: x509.Certificate, kind: type[x509.ExtensionType]) -> object:
    try:
        return cert.extensions.get_extension_for_class(kind).value
    except (x509.ExtensionNotFound, ValueError):
        return None


def distribution_points(cert: x509.Certificate) -> tuple[list[list[str]], list[Finding]]:
    """The HTTP URLs of each CRL distribution point of ``cert``, and findings on those that cannot be used."""
    points = _extension(cert, x509.CRLDistributionPoints)
    if not isinstance(points, x509.CRLDistributionPoints):
        return [], [codes.NO_DISTRIBUTION_POINT(where="crl")]
    plan: list[list[str]] = []
    findings: list[Finding] = []
    seen: set[str] = set()
    for point in points:
        if point.crl_issuer:
            findings.append(codes.URL_REFUSED("a distribution point with an indirect CRL issuer", where="crl"))
            continue
        if point.full_name is None:
            findings.append(codes.URL_REFUSED("a distribution point given as a relative name", where="crl"))
            continue
        http: list[str] = []
        ldap: list[str] = []
        for name in point.full_name:
            if not isinstance(name, x509.UniformResourceIdentifier):
                findings.append(codes.URL_REFUSED(f"a distribution point named {_printable(repr(name))}", where="crl"))
                continue
            scheme = _scheme(name.value)
            if scheme in _HTTP_SCHEMES:
                if name.value not in seen:
                    http.append(name.value)
                    seen.add(name.value)
            elif scheme in _LDAP_SCHEMES:
                ldap.append(name.value)
            else:
                shown = _printable(name.value)
                findings.append(codes.URL_REFUSED(f"{shown}: not fetched, only plain http(s) URLs are", where=shown))
        if http:
            plan.append(http)
        elif ldap:
            findings += [
                codes.LDAP_NOT_CHECKED(f"LDAP distribution point not checked: {url}", where=url) for url in ldap
            ]
    return plan, findings


def ocsp_urls(cert: x509.Certificate) -> list[str]:
    access = _extension(cert, x509.AuthorityInformationAccess)
    if not isinstance(access, x509.AuthorityInformationAccess):
        return []
    return [
        description.access_location.value
        for description in access
        if description.access_method == AuthorityInformationAccessOID.OCSP
        and isinstance(description.access_location, x509.UniformResourceIdentifier)
        and _scheme(description.access_location.value) in _HTTP_SCHEMES
    ]


DEFAULT_REFRESH_AFTER = timedelta(days=1)
"""A cached CRL older than this (by its thisUpdate) is asked for again: IGC Santé publishes every day."""


def fresh(crl: IndexedCrl, at: datetime, refresh_after: timedelta | None) -> bool:
    if crl.next_update is None or not crl.this_update <= at < crl.next_update:
        return False
    return refresh_after is None or at - crl.this_update < refresh_after


def vet(
    crl: IndexedCrl,
    issuer: x509.Certificate,
    *,
    signers: Iterable[x509.Certificate],
    at: datetime,
    cached: IndexedCrl | None,
) -> list[Finding]:
    """Why ``crl`` may not replace ``cached`` for ``issuer``: empty when it may."""
    if crl.is_delta:
        return [codes.DOWNLOAD_REFUSED(f"{crl.describe()} is a delta CRL", where=_printable(crl.source))]
    signature = crl.check_signature(issuer, signers=signers, at=at)
    if not signature.valid:
        reasons = "; ".join(finding.message for finding in signature.findings)
        return [codes.DOWNLOAD_REFUSED(f"{crl.describe()} refused: {reasons}", where=_printable(crl.source))]
    if cached is not None and (
        crl.this_update < cached.this_update
        or (crl.number is not None and cached.number is not None and crl.number < cached.number)
    ):
        return [
            codes.DOWNLOAD_REFUSED(
                f"{crl.describe()} is older than the cached {cached.describe()}: the cached one is kept",
                where=_printable(crl.source),
            )
        ]
    return []


@attrs.frozen(kw_only=True)
class CachedCrl:
    """A CRL from the cache, with the validators of its download for a conditional GET."""

    url: str
    crl: IndexedCrl
    etag: str | None = None
    last_modified: str | None = None

    def conditional_headers(self) -> dict[str, str]:
        """``If-None-Match`` / ``If-Modified-Since`` for re-validating this CRL."""
        return conditional_headers(self.etag, self.last_modified)


class CrlCache:
    """The last valid CRL of each URL, on disk under ``directory`` (one file pair per URL hash).

    ``directory`` defaults to :func:`default_cache_directory`; it is created on the first store. A CRL is stored
    only once it parsed and its signature verified for its issuer, and never replaces a newer one.
    """

    def __init__(self, directory: Path | None = None, *, max_bytes: int = DEFAULT_MAX_CRL_BYTES) -> None:
        self.directory = Path(directory) if directory is not None else default_cache_directory()
        self.max_bytes = max_bytes

    def __repr__(self) -> str:
        return f"CrlCache({str(self.directory)!r})"

    def _paths(self, url: str) -> tuple[Path, Path]:
        key = hashlib.sha256(url.encode("utf-8", "surrogatepass")).hexdigest()
        return self.directory / f"{key}.crl", self.directory / f"{key}.json"

    def load(self, url: str) -> CachedCrl | None:
        """The cached CRL of ``url``, or None when there is none or it cannot be read."""
        crl_path, meta_path = self._paths(url)
        try:
            data = read_regular(crl_path, limit=self.max_bytes)
        except OSError:  # missing, not a regular file, or larger than max_bytes
            return None
        try:
            crl = IndexedCrl.load(data, max_bytes=self.max_bytes, source=url)
        except InvalidInput:
            return None
        try:
            meta = json.loads(read_regular(meta_path, limit=64 * 1024).decode("utf-8"))
        except (OSError, ValueError):
            meta = {}
        if (
            not isinstance(meta, dict)
            or meta.get("url") != url
            or meta.get("sha256") != hashlib.sha256(data).hexdigest()
        ):
            meta = {}
        etag, modified = meta.get("etag"), meta.get("last_modified")
        return CachedCrl(
            url=url,
            crl=crl,
            etag=etag if isinstance(etag, str) else None,
            last_modified=modified if isinstance(modified, str) else None,
        )

    def store(
        self,
        url: str,
        data: bytes,
        issuer: x509.Certificate,
        *,
        at: datetime,
        signers: Iterable[x509.Certificate] = (),
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> IndexedCrl:
        """Keep ``data`` as the CRL of ``url`` once it parsed and its signature verified for ``issuer``.

        ``signers`` are candidate separate CRL signers; ``at`` is when they must be valid. Raises
        :class:`~mssante.errors.InvalidInput` for bytes that are not a CRL, :class:`~mssante.errors.TrustError`
        for a CRL refused (bad signature, delta CRL, older than the cached one) and ``OSError`` when the directory
        cannot be written. The cache is unchanged in all these cases.
        """
        at = aware_utc(at)
        crl = IndexedCrl.load(data, max_bytes=self.max_bytes, source=url)
        cached = self.load(url)
        problems = vet(crl, issuer, signers=signers, at=at, cached=None if cached is None else cached.crl)
        if problems:
            raise TrustError("; ".join(finding.message for finding in problems))
        self._write(url, crl, etag=etag, last_modified=last_modified)
        return crl

    def _write(self, url: str, crl: IndexedCrl, *, etag: str | None, last_modified: str | None) -> None:
        crl_path, meta_path = self._paths(url)
        der = crl.crl.public_bytes(serialization.Encoding.DER)
        meta = {"url": url, "sha256": hashlib.sha256(der).hexdigest(), "etag": etag, "last_modified": last_modified}
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        atomic_write(crl_path, der)
        atomic_write(meta_path, json.dumps(meta, indent=1).encode("utf-8"))


MAX_PATH = 4
"""The most certificates :meth:`CrlFetcher.checker_for` follows from a leaf towards its anchor."""


def _issued_by(certificate: x509.Certificate, issuer: x509.Certificate) -> bool:
    if certificate.issuer != issuer.subject:
        return False
    try:
        certificate.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def path_to_anchor(certificate: x509.Certificate, store: TrustStore) -> list[tuple[x509.Certificate, x509.Certificate]]:
    """Each certificate from ``certificate`` up to an anchor of ``store`` with its issuer, as far as the store
    knows the issuers (a certificate whose issuer it does not hold ends the walk)."""
    known = [*store.intermediates, *store.anchors]
    pairs: list[tuple[x509.Certificate, x509.Certificate]] = []
    current = certificate
    while len(pairs) < MAX_PATH and current.issuer != current.subject:
        issuer = next((candidate for candidate in known if _issued_by(current, candidate)), None)
        if issuer is None:
            break
        pairs.append((current, issuer))
        current = issuer
    return pairs


def ocsp_body(url: str, status: int, body: bytes) -> bytes:
    """``body`` when it is the OCSP response of a 200; :class:`RevocationFetchError` otherwise."""
    if status != HTTPStatus.OK:
        raise RevocationFetchError(f"POST {url} answered HTTP {status}", url=url)
    try:
        ocsp.load_der_ocsp_response(body)
    except ValueError as error:
        raise RevocationFetchError(f"{url} did not answer an OCSP response: {error}", url=url) from error
    return body

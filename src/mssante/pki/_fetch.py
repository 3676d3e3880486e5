"""Fetching revocation information: CRLs and OCSP responses over HTTP, and an on-disk CRL cache.

:class:`CrlFetcher` (over ``httpx.Client``) and :class:`AsyncCrlFetcher` (over ``httpx.AsyncClient``) download
the CRLs named in a certificate's HTTP distribution points and POST OCSP requests to its responder. They never
decide a status: give what they return to :class:`~mssante.pki.RevocationChecker`.

- Only ``http`` and ``https`` URLs are fetched; an LDAP-only distribution point gives an info finding and any
  other scheme a warning.
- Bodies are bounded (``max_bytes``, 64 MiB by default for CRLs, 1 MiB for OCSP), must not be content-encoded
  (``Accept-Encoding: identity`` is sent, so a compression bomb cannot inflate), and each network operation has a
  ``timeout``. Each call (:meth:`~CrlFetcher.fetch`, :meth:`~CrlFetcher.checker_for`, :meth:`~CrlFetcher.ocsp`) has
  ``max_duration`` as a whole, every URL it tries, each redirection, the handshake and the headers included: a server
  that trickles its bytes cannot stretch it, and a URL not yet tried when it passes is not asked
  (:func:`mssante._http.exchange`).
- A ``progress`` callback hears of each body as it arrives (bytes so far, declared length), for a progress bar.
- Every ``httpx`` error becomes a finding (``fetch``) or a :class:`RevocationFetchError` (``ocsp``).
- With a :class:`CrlCache`, a CRL still fresh at ``at`` (before its nextUpdate, and issued less than
  ``refresh_after`` ago: a day by default, as IGC Santé publishes daily) is not downloaded again, another one is
  re-validated with ``If-None-Match``/``If-Modified-Since``, and a download replaces it only when it parsed, its
  signature verified for the issuer and it is not older. Otherwise the last valid CRL is kept and returned.

The ASIP/ANS etiquette is the caller's to follow: fetch only the CRLs needed, at their publication rhythm
(IGC Santé publishes every morning from 07:00), at a randomised time, and close the fetcher when done.
"""

from __future__ import annotations

import hashlib
import json
import urllib.parse
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from pathlib import Path

import attrs
import httpx
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp
from cryptography.x509.oid import AuthorityInformationAccessOID

from mssante._files import read_regular
from mssante._http import (
    DEFAULT_MAX_DURATION,
    DEFAULT_TIMEOUT,
    HTTPX_ERRORS,
    MAX_URL_LENGTH,
    Answer,
    AsyncClientOwner,
    ClientOwner,
    Deadline,
    DownloadRefused,
    Exchange,
    aexchange,
    atomic_write,
    cache_directory,
    check_seconds,
    exchange,
)
from mssante.errors import InvalidInput, TrustError
from mssante.pki import _revocation_codes as codes
from mssante.pki._anchors import TrustStore
from mssante.pki._revocation import (
    DEFAULT_MAX_CRL_BYTES,
    MAX_OCSP_RESPONSE_BYTES,
    IndexedCrl,
    RevocationChecker,
    _printable,
    _utc,
)
from mssante.pki._types import RevocationMode
from mssante.report import Finding

__all__ = [
    "DEFAULT_MAX_DURATION",
    "DEFAULT_TIMEOUT",
    "AsyncCrlFetcher",
    "CachedCrl",
    "CrlCache",
    "CrlFetcher",
    "RevocationFetchError",
    "build_ocsp_request",
    "default_cache_directory",
]

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


def _distribution_points(cert: x509.Certificate) -> tuple[list[list[str]], list[Finding]]:
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


def _ocsp_urls(cert: x509.Certificate) -> list[str]:
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


def _fresh(crl: IndexedCrl, at: datetime, refresh_after: timedelta | None) -> bool:
    if crl.next_update is None or not crl.this_update <= at < crl.next_update:
        return False
    return refresh_after is None or at - crl.this_update < refresh_after


def _vet(
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
        headers = {}
        if self.etag:
            headers["If-None-Match"] = self.etag
        if self.last_modified:
            headers["If-Modified-Since"] = self.last_modified
        return headers


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
        at = _utc(at)
        crl = IndexedCrl.load(data, max_bytes=self.max_bytes, source=url)
        cached = self.load(url)
        problems = _vet(crl, issuer, signers=signers, at=at, cached=None if cached is None else cached.crl)
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


def _failure(method: str, url: str, error: Exception) -> RevocationFetchError:
    kind = "timed out" if isinstance(error, httpx.TimeoutException) else "failed"
    detail = str(error) or type(error).__name__
    return RevocationFetchError(f"{method} {url} {kind}: {type(error).__name__}: {detail}", url=url)


def _ocsp_body(url: str, answer: Answer) -> bytes:
    if answer.status != httpx.codes.OK:
        raise RevocationFetchError(f"POST {url} answered HTTP {answer.status}", url=url)
    try:
        ocsp.load_der_ocsp_response(answer.body)
    except ValueError as error:
        raise RevocationFetchError(f"{url} did not answer an OCSP response: {error}", url=url) from error
    return answer.body


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


def _path(certificate: x509.Certificate, store: TrustStore) -> list[tuple[x509.Certificate, x509.Certificate]]:
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


class _Fetcher:
    """What the sync and async fetchers share: settings and every decision that needs no I/O."""

    def __init__(
        self,
        *,
        cache: CrlCache | None,
        max_bytes: int,
        timeout: float,
        max_duration: float,
        crl_signers: Iterable[x509.Certificate],
        refresh_after: timedelta | None,
        progress: Callable[[int, int | None], None] | None,
    ) -> None:
        self.cache = cache
        self.progress = progress
        self.refresh_after = refresh_after
        self.max_bytes = max_bytes
        self.timeout = check_seconds("timeout", timeout)
        self.max_duration = check_seconds("max_duration", max_duration)
        self.crl_signers = tuple(crl_signers)

    def _exchange(
        self,
        method: str,
        url: str,
        *,
        headers: dict[str, str],
        max_bytes: int,
        deadline: Deadline,
        content: bytes | None,
    ) -> Exchange:
        return Exchange(
            method=method, url=url, headers=headers, content=content, deadline=deadline, timeout=self.timeout,
            max_bytes=max_bytes, progress=self.progress,
        )  # fmt: skip

    def _crl_headers(self, cached: CachedCrl | None) -> dict[str, str]:
        headers = {"Accept": "application/pkix-crl, application/x-pkcs7-crl;q=0.9, */*;q=0.5"}
        headers["Accept-Encoding"] = "identity"
        if cached is not None:
            headers.update(cached.conditional_headers())
        return headers

    def _cached(self, url: str, at: datetime) -> tuple[CachedCrl | None, IndexedCrl | None, list[Finding]]:
        """The cached CRL of ``url``, and that CRL as the answer when it is still fresh at ``at``."""
        cached = self.cache.load(url) if self.cache is not None else None
        if cached is not None and _fresh(cached.crl, at, self.refresh_after):
            note = codes.FROM_CACHE(f"{cached.crl.describe()} is fresh at {at:%Y-%m-%dT%H:%M:%SZ}", where=url)
            return cached, cached.crl, [note]
        return cached, None, []

    def _settle(
        self,
        url: str,
        answer: Answer | RevocationFetchError,
        issuer: x509.Certificate,
        *,
        at: datetime,
        cached: CachedCrl | None,
    ) -> tuple[IndexedCrl | None, list[Finding]]:
        """The CRL an answer gives (or the cached one when it gives none), with findings."""
        if isinstance(answer, RevocationFetchError):
            return self._fallback(cached, [codes.DOWNLOAD_FAILED(str(answer), where=url)])
        if answer.status == httpx.codes.NOT_MODIFIED and cached is not None:
            return cached.crl, [codes.FROM_CACHE(f"{cached.crl.describe()} is not modified on the server", where=url)]
        if answer.status != httpx.codes.OK:
            return self._fallback(
                cached, [codes.DOWNLOAD_FAILED(f"GET {url} answered HTTP {answer.status}", where=url)]
            )
        try:
            crl = IndexedCrl.load(answer.body, max_bytes=self.max_bytes, source=url)
        except InvalidInput as error:
            return self._fallback(cached, [codes.DOWNLOAD_REFUSED(str(error), where=url)])
        problems = _vet(crl, issuer, signers=self.crl_signers, at=at, cached=None if cached is None else cached.crl)
        if problems:
            return self._fallback(cached, problems)
        if self.cache is None:
            return crl, []
        try:
            self.cache._write(url, crl, etag=answer.etag, last_modified=answer.last_modified)
        except OSError as error:
            note = codes.CACHE_NOT_WRITTEN(
                f"{crl.describe()} was downloaded but could not be cached in {self.cache.directory}: {error}",
                where=url,
            )
            return crl, [note]
        return crl, []

    @staticmethod
    def _fallback(cached: CachedCrl | None, findings: list[Finding]) -> tuple[IndexedCrl | None, list[Finding]]:
        if cached is None:
            return None, findings
        note = codes.FROM_CACHE(f"the last valid {cached.crl.describe()} is used instead", where=cached.url)
        return cached.crl, [*findings, note]


class CrlFetcher(ClientOwner, _Fetcher):
    """Download CRLs and OCSP responses with an ``httpx.Client`` (sync); see the module documentation.

    Without ``client``, one is made (it follows redirects; :meth:`close` closes it); a given client is used as
    configured and stays the caller's. ``timeout`` applies per request either way. ``refresh_after`` (None:
    only at nextUpdate) is the age past which a cached CRL is asked for again. ``progress``, when given, hears
    of each body as it arrives: it is called with the bytes received so far and the length the server declared
    (None when it declared none), once with 0 as a body starts and then after each chunk; an exception it raises
    ends the fetch. The fetcher is a context manager.
    """

    def __init__(
        self,
        client: httpx.Client | None = None,
        cache: CrlCache | None = None,
        *,
        max_bytes: int = DEFAULT_MAX_CRL_BYTES,
        timeout: float = DEFAULT_TIMEOUT,
        max_duration: float = DEFAULT_MAX_DURATION,
        crl_signers: Iterable[x509.Certificate] = (),
        refresh_after: timedelta | None = DEFAULT_REFRESH_AFTER,
        progress: Callable[[int, int | None], None] | None = None,
    ) -> None:
        super().__init__(
            cache=cache, max_bytes=max_bytes, timeout=timeout, max_duration=max_duration, crl_signers=crl_signers,
            refresh_after=refresh_after, progress=progress,
        )  # fmt: skip
        self._owned = client is None
        self.client = client if client is not None else httpx.Client(timeout=timeout, follow_redirects=True)

    def fetch(
        self, cert: x509.Certificate, issuer: x509.Certificate, *, at: datetime
    ) -> tuple[list[IndexedCrl], list[Finding]]:
        """The CRLs of ``cert``'s HTTP distribution points (one per point), verified for ``issuer``, and findings.

        ``at`` decides whether a cached CRL is still fresh and when CRL signers must be valid. The whole call has
        ``max_duration``: a URL not tried when it passes is not asked (a download failure finding says so).
        """
        return self._fetch(cert, issuer, at=at, deadline=Deadline.after(self.max_duration))

    def _fetch(
        self, cert: x509.Certificate, issuer: x509.Certificate, *, at: datetime, deadline: Deadline
    ) -> tuple[list[IndexedCrl], list[Finding]]:
        at = _utc(at)
        plan, findings = _distribution_points(cert)
        crls: list[IndexedCrl] = []
        for urls in plan:
            for url in urls:
                cached, fresh, notes = self._cached(url, at)
                crl: IndexedCrl | None = fresh
                if crl is None:
                    answer = self._answer(
                        "GET", url, headers=self._crl_headers(cached), max_bytes=self.max_bytes, deadline=deadline
                    )
                    crl, notes = self._settle(url, answer, issuer, at=at, cached=cached)
                findings += notes
                if crl is not None:
                    crls.append(crl)
                    break
        return crls, findings

    def checker_for(
        self,
        certificate: x509.Certificate,
        *,
        store: TrustStore,
        at: datetime,
        mode: RevocationMode | str = RevocationMode.HARD,
    ) -> tuple[RevocationChecker, list[Finding]]:
        """A :class:`RevocationChecker` holding the CRLs of ``certificate`` and of each CA above it in ``store``.

        For a peer met at connection time (the transports do this when given a fetcher as ``revocation``):
        the CRLs come from the distribution points of the certificates themselves, through the cache; the
        findings say what could not be had, and a certificate whose CRL is missing is then of unknown status.
        The whole call has ``max_duration`` (not each CRL), so that a connection waits that long at most.
        """
        crls: list[IndexedCrl] = []
        findings: list[Finding] = []
        deadline = Deadline.after(self.max_duration)
        for subject, issuer in _path(certificate, store):
            got, notes = self._fetch(subject, issuer, at=at, deadline=deadline)
            crls += got
            findings += notes
        return RevocationChecker(crls=crls, mode=RevocationMode(mode), crl_signers=self.crl_signers), findings

    def ocsp(self, cert: x509.Certificate, issuer: x509.Certificate) -> bytes | None:
        """The DER OCSP response for ``cert`` from its responder (AIA, http only), or None when it names none.

        Raises :class:`RevocationFetchError` when no responder gave a readable OCSP response. The whole call has
        ``max_duration``.
        """
        urls = _ocsp_urls(cert)
        if not urls:
            return None
        request = build_ocsp_request(cert, issuer)
        headers = {"Content-Type": OCSP_REQUEST_TYPE, "Accept": OCSP_RESPONSE_TYPE, "Accept-Encoding": "identity"}
        error = RevocationFetchError("no OCSP responder", url="")
        deadline = Deadline.after(self.max_duration)
        for url in urls:
            answer = self._answer(
                "POST", url, headers=headers, content=request, max_bytes=MAX_OCSP_RESPONSE_BYTES, deadline=deadline
            )
            if isinstance(answer, RevocationFetchError):
                error = answer
                continue
            try:
                return _ocsp_body(url, answer)
            except RevocationFetchError as refused:
                error = refused
        raise error

    def _answer(
        self,
        method: str,
        url: str,
        *,
        headers: dict[str, str],
        max_bytes: int,
        deadline: Deadline,
        content: bytes | None = None,
    ) -> Answer | RevocationFetchError:
        ask = self._exchange(method, url, headers=headers, max_bytes=max_bytes, deadline=deadline, content=content)
        try:
            return exchange(self.client, ask)
        except DownloadRefused as refused:
            return RevocationFetchError(str(refused), url=url)
        except HTTPX_ERRORS as error:
            return _failure(method, url, error)


class AsyncCrlFetcher(AsyncClientOwner, _Fetcher):
    """The ``async`` twin of :class:`CrlFetcher`, over an ``httpx.AsyncClient``.

    The cache is read and written with blocking file I/O (small files, once per URL).
    """

    def __init__(
        self,
        client: httpx.AsyncClient | None = None,
        cache: CrlCache | None = None,
        *,
        max_bytes: int = DEFAULT_MAX_CRL_BYTES,
        timeout: float = DEFAULT_TIMEOUT,
        max_duration: float = DEFAULT_MAX_DURATION,
        crl_signers: Iterable[x509.Certificate] = (),
        refresh_after: timedelta | None = DEFAULT_REFRESH_AFTER,
        progress: Callable[[int, int | None], None] | None = None,
    ) -> None:
        super().__init__(
            cache=cache, max_bytes=max_bytes, timeout=timeout, max_duration=max_duration, crl_signers=crl_signers,
            refresh_after=refresh_after, progress=progress,
        )  # fmt: skip
        self._owned = client is None
        self.client = client if client is not None else httpx.AsyncClient(timeout=timeout, follow_redirects=True)

    async def fetch(
        self, cert: x509.Certificate, issuer: x509.Certificate, *, at: datetime
    ) -> tuple[list[IndexedCrl], list[Finding]]:
        """The CRLs of ``cert``'s HTTP distribution points, verified for ``issuer``; see :meth:`CrlFetcher.fetch`."""
        return await self._fetch(cert, issuer, at=at, deadline=Deadline.after(self.max_duration))

    async def _fetch(
        self, cert: x509.Certificate, issuer: x509.Certificate, *, at: datetime, deadline: Deadline
    ) -> tuple[list[IndexedCrl], list[Finding]]:
        at = _utc(at)
        plan, findings = _distribution_points(cert)
        crls: list[IndexedCrl] = []
        for urls in plan:
            for url in urls:
                cached, fresh, notes = self._cached(url, at)
                crl: IndexedCrl | None = fresh
                if crl is None:
                    answer = await self._answer(
                        "GET", url, headers=self._crl_headers(cached), max_bytes=self.max_bytes, deadline=deadline
                    )
                    crl, notes = self._settle(url, answer, issuer, at=at, cached=cached)
                findings += notes
                if crl is not None:
                    crls.append(crl)
                    break
        return crls, findings

    async def checker_for(
        self,
        certificate: x509.Certificate,
        *,
        store: TrustStore,
        at: datetime,
        mode: RevocationMode | str = RevocationMode.HARD,
    ) -> tuple[RevocationChecker, list[Finding]]:
        """The CRLs of ``certificate`` and of the CAs above it as a checker; see :meth:`CrlFetcher.checker_for`."""
        crls: list[IndexedCrl] = []
        findings: list[Finding] = []
        deadline = Deadline.after(self.max_duration)
        for subject, issuer in _path(certificate, store):
            got, notes = await self._fetch(subject, issuer, at=at, deadline=deadline)
            crls += got
            findings += notes
        return RevocationChecker(crls=crls, mode=RevocationMode(mode), crl_signers=self.crl_signers), findings

    async def ocsp(self, cert: x509.Certificate, issuer: x509.Certificate) -> bytes | None:
        """The DER OCSP response for ``cert``, or None; see :meth:`CrlFetcher.ocsp`."""
        urls = _ocsp_urls(cert)
        if not urls:
            return None
        request = build_ocsp_request(cert, issuer)
        headers = {"Content-Type": OCSP_REQUEST_TYPE, "Accept": OCSP_RESPONSE_TYPE, "Accept-Encoding": "identity"}
        error = RevocationFetchError("no OCSP responder", url="")
        deadline = Deadline.after(self.max_duration)
        for url in urls:
            answer = await self._answer(
                "POST", url, headers=headers, content=request, max_bytes=MAX_OCSP_RESPONSE_BYTES, deadline=deadline
            )
            if isinstance(answer, RevocationFetchError):
                error = answer
                continue
            try:
                return _ocsp_body(url, answer)
            except RevocationFetchError as refused:
                error = refused
        raise error

    async def _answer(
        self,
        method: str,
        url: str,
        *,
        headers: dict[str, str],
        max_bytes: int,
        deadline: Deadline,
        content: bytes | None = None,
    ) -> Answer | RevocationFetchError:
        ask = self._exchange(method, url, headers=headers, max_bytes=max_bytes, deadline=deadline, content=content)
        try:
            return await aexchange(self.client, ask)
        except DownloadRefused as refused:
            return RevocationFetchError(str(refused), url=url)
        except HTTPX_ERRORS as error:
            return _failure(method, url, error)

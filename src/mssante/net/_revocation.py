"""What the CRL and OCSP fetchers of both sides share: settings, and the translation of an answer into CRLs.

The decisions themselves (which URLs, which CRL may be kept, the cache) are :mod:`mssante.pki`'s; this module turns
an :class:`~mssante.net._http.Answer` or a :class:`~mssante.net._http.Failure` into them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from http import HTTPStatus

from cryptography import x509

from mssante.errors import InvalidInput
from mssante.net._http import Answer, Deadline, Exchange, Failure, check_seconds, conditional_headers
from mssante.pki import IndexedCrl, RevocationFetchError
from mssante.pki import revocation_codes as codes
from mssante.pki.fetching import CachedCrl, CrlCache, fresh, vet
from mssante.report import Finding

__all__ = ["CRL_ACCEPT", "RevocationShell", "fetch_error"]

CRL_ACCEPT = "application/pkix-crl, application/x-pkcs7-crl;q=0.9, */*;q=0.5"


def fetch_error(method: str, url: str, failure: Failure) -> RevocationFetchError:
    """The :class:`RevocationFetchError` of a request that got no usable answer."""
    if failure.reason != "network":
        return RevocationFetchError(str(failure.error), url=url)
    error = failure.error
    kind = "timed out" if failure.timed_out else "failed"
    detail = str(error) or type(error).__name__
    return RevocationFetchError(f"{method} {url} {kind}: {type(error).__name__}: {detail}", url=url)


class RevocationShell:
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
        headers = {"Accept": CRL_ACCEPT, "Accept-Encoding": "identity"}
        if cached is not None:
            headers.update(conditional_headers(cached.etag, cached.last_modified))
        return headers

    def _cached(self, url: str, at: datetime) -> tuple[CachedCrl | None, IndexedCrl | None, list[Finding]]:
        """The cached CRL of ``url``, and that CRL as the answer when it is still fresh at ``at``."""
        cached = self.cache.load(url) if self.cache is not None else None
        if cached is not None and fresh(cached.crl, at, self.refresh_after):
            note = codes.FROM_CACHE(f"{cached.crl.describe()} is fresh at {at:%Y-%m-%dT%H:%M:%SZ}", where=url)
            return cached, cached.crl, [note]
        return cached, None, []

    def _settle(
        self,
        url: str,
        answer: Answer | Failure,
        issuer: x509.Certificate,
        *,
        at: datetime,
        cached: CachedCrl | None,
    ) -> tuple[IndexedCrl | None, list[Finding]]:
        """The CRL an answer gives (or the cached one when it gives none), with findings."""
        if isinstance(answer, Failure):
            return self._fallback(cached, [codes.DOWNLOAD_FAILED(str(fetch_error("GET", url, answer)), where=url)])
        if answer.status == HTTPStatus.NOT_MODIFIED and cached is not None:
            return cached.crl, [codes.FROM_CACHE(f"{cached.crl.describe()} is not modified on the server", where=url)]
        if answer.status != HTTPStatus.OK:
            return self._fallback(
                cached, [codes.DOWNLOAD_FAILED(f"GET {url} answered HTTP {answer.status}", where=url)]
            )
        try:
            crl = IndexedCrl.load(answer.body, max_bytes=self.max_bytes, source=url)
        except InvalidInput as error:
            return self._fallback(cached, [codes.DOWNLOAD_REFUSED(str(error), where=url)])
        problems = vet(crl, issuer, signers=self.crl_signers, at=at, cached=None if cached is None else cached.crl)
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

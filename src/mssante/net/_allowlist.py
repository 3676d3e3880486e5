"""What the allow-list fetchers of both sides share: settings, TLS, and the translation of an answer into a list.

The decisions themselves (the cache, which document may replace the cached one) are :mod:`mssante.trustspace`'s.
"""

from __future__ import annotations

import hashlib
import ssl
from collections.abc import Callable
from datetime import datetime
from http import HTTPStatus

import attrs
import httpx

from mssante._version import __version__
from mssante.errors import InvalidInput
from mssante.net._http import (
    Answer,
    Deadline,
    DownloadRefused,
    Exchange,
    Failure,
    check_seconds,
    conditional_headers,
)
from mssante.net._tls import client_context
from mssante.pki import TrustStore
from mssante.report import Finding, Report
from mssante.trustspace import AllowList, AllowListCache, AllowListFetchError, CachedAllowList, FetchResult
from mssante.trustspace import fetch_codes as codes
from mssante.trustspace.fetching import (
    ACCEPT,
    Plan,
    checksum_of,
    describe,
    https_url,
    kept,
    refusal,
    sha256_of,
)

__all__ = ["AllowListShell", "checksum", "failure_finding"]

_REFUSALS = {
    "encoding": codes.DOWNLOAD_FAILED,
    "oversize": codes.OVERSIZE,
    "redirect": codes.DOWNLOAD_FAILED,
    "timeout": codes.TIMEOUT,
}


def failure_finding(url: str, failure: Failure) -> Finding:
    """The finding of a request that got no usable answer."""
    if failure.reason != "network":
        return _REFUSALS[failure.reason](str(failure.error))
    if failure.timed_out:
        return codes.TIMEOUT(f"GET {url} timed out: {failure.detail}")
    return codes.DOWNLOAD_FAILED(f"GET {url} failed: {failure.detail}")


def checksum(url: str, answer: Answer | Failure) -> str:
    """The hex SHA-256 a checksum file's answer starts with; AllowListFetchError otherwise."""
    if isinstance(answer, Failure):
        raise refusal(url, failure_finding(url, answer))
    return checksum_of(url, answer.status, answer.body)


class AllowListShell:
    """What the sync and async fetchers share: settings and every decision that needs no I/O."""

    def __init__(
        self,
        *,
        cache: AllowListCache | None,
        url: str,
        expected_sha256: str | None,
        max_bytes: int,
        timeout: float,
        max_duration: float,
        progress: Callable[[int, int | None], None] | None,
    ) -> None:
        self.url = https_url(url)
        self.cache = cache
        self.expected_sha256 = sha256_of(expected_sha256)
        self.max_bytes = max_bytes
        self.timeout = check_seconds("timeout", timeout)
        self.max_duration = check_seconds("max_duration", max_duration)
        self.progress = progress

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.url!r}, cache={self.cache!r})"

    @staticmethod
    def _context(store: TrustStore | None) -> ssl.SSLContext:
        """TLS that trusts the anchors of ``store`` (by default the bundled production IGC Santé ones) only."""
        return client_context(store if store is not None else TrustStore.bundled("prod"))

    def _plan(self, expected: str | None) -> Plan:
        if self.cache is None:
            return Plan(cached=None, conditional=False, report=Report(subject=self.url))
        cached, report = self.cache.read()
        conditional = cached is not None and cached.url == self.url and expected in (None, cached.sha256)
        return Plan(cached=cached, conditional=conditional, report=attrs.evolve(report, subject=self.url))

    def _exchange(self, url: str, *, headers: dict[str, str], max_bytes: int) -> Exchange:
        """One GET of ``url`` within the fetcher's limits; a redirection elsewhere than https is not followed."""

        def https_only(target: httpx.URL) -> None:
            if target.scheme != "https":
                raise DownloadRefused(f"{url} was redirected to {target}, which is not https", reason="redirect")

        return Exchange(
            method="GET", url=url, headers=headers, deadline=Deadline.after(self.max_duration), timeout=self.timeout,
            max_bytes=max_bytes, redirect=https_only, progress=self.progress,
        )  # fmt: skip

    @staticmethod
    def _headers(plan: Plan) -> dict[str, str]:
        headers = {"Accept": ACCEPT, "Accept-Encoding": "identity", "User-Agent": f"mssante/{__version__}"}
        if plan.conditional and plan.cached is not None:
            headers.update(conditional_headers(plan.cached.etag, plan.cached.last_modified))
        return headers

    def _settle(self, answer: Answer | Failure, plan: Plan, *, at: datetime, expected: str | None) -> FetchResult:
        """The result of an answer: the new list, or the cached one with why; raises when there is neither."""
        cached = plan.cached
        if isinstance(answer, Failure):
            return self._fallback(plan, [failure_finding(self.url, answer)])
        if answer.status == HTTPStatus.NOT_MODIFIED:
            if cached is None or not plan.conditional:
                return self._fallback(plan, [codes.HTTP_ERROR(f"GET {self.url} answered 304 to an unconditional GET")])
            return self._confirmed(plan, cached, answer, at=at, note=codes.NOT_MODIFIED(where=self.url))
        if answer.status != HTTPStatus.OK:
            return self._fallback(plan, [codes.HTTP_ERROR(f"GET {self.url} answered HTTP {answer.status}")])
        digest = hashlib.sha256(answer.body).hexdigest()
        if expected is not None and digest != expected:
            message = f"{self.url} sent a document of SHA-256 {digest}, not the expected {expected}"
            return self._fallback(plan, [codes.CHECKSUM_MISMATCH(message)])
        if cached is not None and digest == cached.sha256:
            note = codes.UNCHANGED(f"{describe(cached.allowlist)} is still the one published", where=self.url)
            return self._confirmed(plan, cached, answer, at=at, note=note, from_cache=False)
        try:
            allowlist = AllowList.parse(answer.body, source=self.url)
        except InvalidInput as error:
            return self._fallback(plan, [codes.BODY_REFUSED(str(error))])
        if cached is not None and allowlist.generated < cached.allowlist.generated:
            message = f"{describe(allowlist)} is older than the cached {describe(cached.allowlist)}"
            return self._fallback(plan, [codes.OLDER_THAN_CACHED(message)])
        findings = [codes.DOWNLOADED(f"{describe(allowlist)} was downloaded", where=self.url)]
        if self.cache is not None:
            try:
                self.cache._write(
                    answer.body,
                    allowlist,
                    url=self.url,
                    fetched_at=at,
                    etag=answer.etag,
                    last_modified=answer.last_modified,
                )
            except OSError as error:
                findings.append(codes.CACHE_NOT_WRITTEN(f"{self.cache.directory}: {error}"))
        return FetchResult(
            allowlist=allowlist,
            changed=True,
            from_cache=False,
            report=plan.report.extended(findings),
            url=self.url,
            fetched_at=at,
            checked_at=at,
        )

    def _confirmed(
        self,
        plan: Plan,
        cached: CachedAllowList,
        answer: Answer,
        *,
        at: datetime,
        note: Finding,
        from_cache: bool = True,
    ) -> FetchResult:
        """The cached list, confirmed by the server at ``at``: its metadata is refreshed."""
        findings = [note]
        refreshed = attrs.evolve(
            cached,
            checked_at=at,
            url=self.url,
            etag=answer.etag or cached.etag,
            last_modified=answer.last_modified or cached.last_modified,
        )
        if self.cache is not None:
            try:
                self.cache._write_metadata(refreshed)
            except OSError as error:
                findings.append(codes.CACHE_NOT_WRITTEN(f"{self.cache.directory}: {error}"))
        return FetchResult(
            allowlist=cached.allowlist,
            changed=False,
            from_cache=from_cache,
            report=plan.report.extended(findings),
            url=self.url,
            fetched_at=cached.fetched_at,
            checked_at=at,
        )

    def _fallback(self, plan: Plan, findings: list[Finding]) -> FetchResult:
        """The cached list after a failure, with warnings; AllowListFetchError when there is none."""
        cached = plan.cached
        if cached is None:
            report = plan.report.extended(findings)
            raise AllowListFetchError(f"no allow-list: {findings[0].message}", url=self.url, report=report)
        note = codes.FROM_CACHE(
            f"the last good list is used: {describe(cached.allowlist)}, downloaded "
            f"{cached.fetched_at:%Y-%m-%dT%H:%M:%SZ} from {cached.url}",
            where=str(cached.path),
        )
        return FetchResult(
            allowlist=cached.allowlist,
            changed=False,
            from_cache=True,
            report=plan.report.extended([*kept(findings), note]),
            url=self.url,
            fetched_at=cached.fetched_at,
            checked_at=cached.checked_at,
        )

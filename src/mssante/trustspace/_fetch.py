"""Downloading the allow-list over HTTPS, and an on-disk cache of the last good one.

:class:`AllowListFetcher` (over ``httpx.Client``) and :class:`AsyncAllowListFetcher` (over ``httpx.AsyncClient``)
download the ANS allow-list and hand back a :class:`FetchResult`: the list, whether it changed, whether it came
from the cache, and a :class:`~mssante.report.Report` that says what happened.

- HTTPS only. Without a client, the fetcher makes one that trusts the IGC Santé anchors of a
  :class:`~mssante.pki.TrustStore` (production by default) and nothing else: never the system store. The ANS
  server presents an IGC Santé certificate.
- Bodies are bounded (``max_bytes``), must not be content-encoded (``Accept-Encoding: identity`` is sent), and
  each request has a ``timeout`` per network operation and ``max_duration`` overall: connecting, the TLS handshake,
  the headers, the body and each redirection, which a server that trickles its bytes cannot stretch
  (:func:`mssante._http.exchange`). A redirection to anything but https is refused before it is followed.
- A ``progress`` callback hears of each body as it arrives (bytes so far, declared length), for a progress bar.
- A downloaded document replaces the cached one only when it parsed as a whole allow-list, matched
  ``expected_sha256`` when one is given, and was not generated before the cached one. Otherwise, and when the
  download fails, the last good list from the cache is returned with warnings; without one,
  :class:`AllowListFetchError` is raised.
- With an :class:`AllowListCache`, requests are conditional (``If-None-Match``, ``If-Modified-Since``), so a
  304 costs no download.

How often to fetch, and what age of list to accept in decisions (``max_age`` of :class:`AllowList`), is the
caller's choice. The ANS GitHub mirror publishes a ``checksum`` file (:meth:`AllowListFetcher.fetch_checksum`)
that certifies the mirror's copy of the list only.
"""

from __future__ import annotations

import hashlib
import json
import re
import ssl
import urllib.parse
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, timezone
from pathlib import Path

import attrs
import httpx

from mssante._files import FileTooLarge, read_regular
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
from mssante._version import __version__
from mssante.errors import InvalidInput, TrustError
from mssante.pki import TrustStore, client_context
from mssante.report import Finding, Report, Severity
from mssante.trustspace import _fetch_codes as codes
from mssante.trustspace._allowlist import ALLOWLIST_URL, AllowList
from mssante.trustspace._parse import MAX_ALLOWLIST_BYTES

__all__ = [
    "DEFAULT_MAX_DURATION",
    "DEFAULT_TIMEOUT",
    "MAX_CHECKSUM_BYTES",
    "MIRROR_CHECKSUM_URL",
    "MIRROR_URL",
    "AllowListCache",
    "AllowListFetchError",
    "AllowListFetcher",
    "AsyncAllowListFetcher",
    "CachedAllowList",
    "FetchResult",
    "default_cache_directory",
]

MAX_CHECKSUM_BYTES = 4096
"""The largest checksum file read (the mirror's holds 64 hexadecimal digits)."""

MIRROR_URL = "https://raw.githubusercontent.com/ansforge/MSS-liste-blanche/main/listeblanchemssante.xml"
"""The ANS mirror of the list on GitHub (public web certificate). Its copy has been truncated: not a source."""

MIRROR_CHECKSUM_URL = "https://raw.githubusercontent.com/ansforge/MSS-liste-blanche/main/checksum"
"""The SHA-256 of the mirror's copy (:data:`MIRROR_URL`), recomputed on each change of the mirror."""

_MAX_METADATA_BYTES = 64 * 1024
_HEX64 = re.compile(r"[0-9a-fA-F]{64}", re.ASCII)
_METADATA = "allowlist.json"
_DATA_PREFIX = "listeblanchemssante-"
_ACCEPT = "application/xml, text/xml;q=0.9, */*;q=0.5"


class AllowListFetchError(TrustError):
    """No allow-list could be had: the download failed or was refused, and no cached list could stand in.

    ``report`` holds the findings that say why, ``url`` what was fetched.
    """

    def __init__(self, message: str, *, url: str, report: Report | None = None) -> None:
        super().__init__(message)
        self.url = url
        self.report = report if report is not None else Report(subject=url)


def default_cache_directory(environ: Mapping[str, str] | None = None) -> Path:
    """``$XDG_CACHE_HOME/mssante/allowlist``, or ``~/.cache/mssante/allowlist`` when that is unset or relative."""
    return cache_directory("allowlist", environ)


def _utc(moment: datetime, what: str = "at") -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} must be a timezone-aware datetime, not {moment!r}")
    return moment.astimezone(timezone.utc)


def _https(url: object) -> str:
    """``url`` when it is a plain https URL; InvalidInput otherwise."""
    if isinstance(url, str) and len(url) <= MAX_URL_LENGTH and url.isprintable() and " " not in url:
        try:
            parts = urllib.parse.urlsplit(url)
            if parts.scheme.lower() == "https" and parts.hostname:
                return url
        except ValueError:
            pass
    shown = repr(url)[:200]
    finding = codes.URL_REFUSED(f"{shown} is not an https URL: the allow-list is fetched over https only")
    raise InvalidInput(finding.message, Report(findings=[finding], subject=shown))


def _sha256(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not _HEX64.fullmatch(value):
        raise ValueError(f"expected_sha256 must be 64 hexadecimal digits, not {value!r}")
    return value.lower()


def _read_bounded(path: Path, limit: int) -> bytes:
    try:
        return read_regular(path, limit=limit)
    except FileTooLarge:
        raise ValueError(f"{path} is larger than {limit} bytes") from None


def _moment(value: object) -> datetime:
    if not isinstance(value, str):
        raise TypeError("not a time")
    return _utc(datetime.fromisoformat(value))


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value.isprintable() else None


def _describe(allowlist: AllowList) -> str:
    return f"the allow-list generated {allowlist.generated:%Y-%m-%dT%H:%M:%SZ} ({len(allowlist)} entries)"


# --- the cache --------------------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class CachedAllowList:
    """The last good allow-list from the cache, with where and when it was downloaded.

    ``fetched_at`` is when its bytes were downloaded, ``checked_at`` when the server last confirmed it (a
    download or a 304); ``etag`` and ``last_modified`` are the validators of a conditional request.
    """

    allowlist: AllowList
    url: str
    fetched_at: datetime
    checked_at: datetime
    path: Path
    etag: str | None = None
    last_modified: str | None = None

    @property
    def sha256(self) -> str:
        """The hex SHA-256 of the cached document."""
        return self.allowlist.sha256

    def conditional_headers(self) -> dict[str, str]:
        """``If-None-Match`` / ``If-Modified-Since`` to re-validate this list with its server."""
        headers = {}
        if self.etag:
            headers["If-None-Match"] = self.etag
        if self.last_modified:
            headers["If-Modified-Since"] = self.last_modified
        return headers


class AllowListCache:
    """The last good allow-list on disk, under ``directory``, with the metadata of its download.

    ``directory`` defaults to :func:`default_cache_directory` and is created (mode 0700) on the first store.
    The document is kept as ``listeblanchemssante-<sha256>.xml`` and the metadata (URL, validators, times,
    SHA-256) as ``allowlist.json``, each written atomically, the metadata last: a reader sees the old list or
    the new one, never half of one. A list is stored only once it parsed as a whole allow-list.
    """

    def __init__(self, directory: Path | None = None, *, max_bytes: int = MAX_ALLOWLIST_BYTES) -> None:
        self.directory = Path(directory) if directory is not None else default_cache_directory()
        self.max_bytes = max_bytes

    def __repr__(self) -> str:
        return f"AllowListCache({str(self.directory)!r})"

    @property
    def metadata_path(self) -> Path:
        """The metadata file, ``allowlist.json``."""
        return self.directory / _METADATA

    def _data_path(self, sha256: str) -> Path:
        return self.directory / f"{_DATA_PREFIX}{sha256}.xml"

    def load(self) -> CachedAllowList | None:
        """The cached list, or None when there is none or it cannot be used (see :meth:`read`)."""
        return self.read()[0]

    def read(self) -> tuple[CachedAllowList | None, Report]:
        """The cached list, or None, with a report: a damaged cache is ignored with a warning.

        The document is parsed again, and must have the SHA-256 the metadata records.
        """
        report = Report(subject=str(self.directory))
        try:
            raw = _read_bounded(self.metadata_path, _MAX_METADATA_BYTES)
        except FileNotFoundError:
            return None, report
        except (OSError, ValueError) as error:
            return None, self._damaged(report, f"{self.metadata_path} cannot be read: {error}")
        try:
            meta = json.loads(raw.decode("utf-8"))
            if not isinstance(meta, dict):
                raise TypeError("not an object")
            sha256, url = meta.get("sha256"), meta.get("url")
            if not isinstance(sha256, str) or not _HEX64.fullmatch(sha256) or sha256 != sha256.lower():
                raise TypeError("no SHA-256")
            if not isinstance(url, str):
                raise TypeError("no URL")
            fetched_at, checked_at = _moment(meta.get("fetched_at")), _moment(meta.get("checked_at"))
        except (ValueError, TypeError) as error:
            return None, self._damaged(report, f"{self.metadata_path} is not valid metadata ({error})")
        path = self._data_path(sha256)
        try:
            data = _read_bounded(path, self.max_bytes)
        except (OSError, ValueError) as error:
            return None, self._damaged(report, f"the cached document cannot be read: {error}")
        if hashlib.sha256(data).hexdigest() != sha256:
            return None, self._damaged(report, f"{path} is not the document that was stored (SHA-256 differs)")
        try:
            allowlist = AllowList.parse(data, source=url)
        except InvalidInput as error:
            return None, self._damaged(report, f"{path} is no longer read as an allow-list: {error}")
        cached = CachedAllowList(
            allowlist=allowlist,
            url=url,
            fetched_at=fetched_at,
            checked_at=checked_at,
            path=path,
            etag=_text(meta.get("etag")),
            last_modified=_text(meta.get("last_modified")),
        )
        return cached, report

    @staticmethod
    def _damaged(report: Report, message: str) -> Report:
        return report.extended([codes.CACHE_DAMAGED(message)])

    def store(
        self,
        data: bytes,
        *,
        url: str,
        fetched_at: datetime,
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> CachedAllowList:
        """Keep ``data``, downloaded from ``url`` at ``fetched_at``, as the last good allow-list.

        Raises :class:`~mssante.errors.InvalidInput` when ``data`` is not a whole allow-list,
        :class:`~mssante.errors.TrustError` when it was generated before the cached list, and ``OSError`` when
        the directory cannot be written. The cache is unchanged in all these cases.
        """
        fetched_at = _utc(fetched_at, "fetched_at")
        if len(data) > self.max_bytes:
            raise InvalidInput(f"{len(data)} bytes: more than the cache's limit of {self.max_bytes}")
        allowlist = AllowList.parse(bytes(data), source=url)
        cached = self.load()
        if cached is not None and allowlist.generated < cached.allowlist.generated:
            raise TrustError(
                f"{_describe(allowlist)} is older than the cached {_describe(cached.allowlist)}: not stored"
            )
        return self._write(
            bytes(data), allowlist, url=url, fetched_at=fetched_at, etag=etag, last_modified=last_modified
        )

    def _write(
        self,
        data: bytes,
        allowlist: AllowList,
        *,
        url: str,
        fetched_at: datetime,
        etag: str | None,
        last_modified: str | None,
        checked_at: datetime | None = None,
    ) -> CachedAllowList:
        cached = CachedAllowList(
            allowlist=allowlist,
            url=url,
            fetched_at=fetched_at,
            checked_at=checked_at or fetched_at,
            path=self._data_path(allowlist.sha256),
            etag=etag,
            last_modified=last_modified,
        )
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            current = hashlib.sha256(_read_bounded(cached.path, self.max_bytes)).hexdigest()
        except (OSError, ValueError):
            current = None
        if current != cached.sha256:
            atomic_write(cached.path, data)
        self._write_metadata(cached)
        for stale in self.directory.glob(f"{_DATA_PREFIX}*.xml"):
            if stale != cached.path:
                stale.unlink(missing_ok=True)
        return cached

    def _write_metadata(self, cached: CachedAllowList) -> None:
        meta = {
            "url": cached.url,
            "sha256": cached.sha256,
            "fetched_at": cached.fetched_at.isoformat(),
            "checked_at": cached.checked_at.isoformat(),
            "etag": cached.etag,
            "last_modified": cached.last_modified,
            "generated": cached.allowlist.generated.isoformat(),
        }
        atomic_write(self.metadata_path, json.dumps(meta, indent=1).encode("utf-8"))


# --- the fetch result and the decisions shared by both fetchers -------------------------------------------------


@attrs.frozen(kw_only=True)
class FetchResult:
    """What a fetch gives: the allow-list to use, and how it was had.

    ``changed`` is true when the list is not the one cached before (always when there was none);
    ``from_cache`` when the server did not send it this time (304, or the download failed or was refused:
    ``report`` then says why). ``fetched_at`` is when its bytes were downloaded, ``checked_at`` when the server
    last confirmed it. ``report`` is ok whenever a list is returned; failures it survived are warnings.
    """

    allowlist: AllowList
    changed: bool
    from_cache: bool
    report: Report
    url: str
    fetched_at: datetime
    checked_at: datetime

    def age(self, at: datetime) -> timedelta:
        """How long before ``at`` the server last confirmed this list (``at - checked_at``)."""
        return _utc(at) - self.checked_at


class _Refused(Exception):
    """A download stopped on purpose (oversize, too slow, encoded, redirected away from https)."""

    def __init__(self, finding: Finding) -> None:
        super().__init__(finding.message)
        self.finding = finding


_REFUSALS = {"encoding": codes.DOWNLOAD_FAILED, "oversize": codes.OVERSIZE, "timeout": codes.TIMEOUT}


def _failure(url: str, error: Exception) -> Finding:
    detail = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    if isinstance(error, httpx.TimeoutException):
        return codes.TIMEOUT(f"GET {url} timed out: {detail}")
    return codes.DOWNLOAD_FAILED(f"GET {url} failed: {detail}")


def _checksum(url: str, answer: Answer | Finding) -> str:
    if isinstance(answer, Finding):
        finding = answer
    elif answer.status != httpx.codes.OK:
        finding = codes.HTTP_ERROR(f"GET {url} answered HTTP {answer.status}")
    else:
        words = answer.body.decode("utf-8", "replace").lstrip("\ufeff").split()
        first = words[0] if words else ""
        if _HEX64.fullmatch(first):
            return first.lower()
        finding = codes.BAD_CHECKSUM_FILE(f"{url} starts with {first[:80]!r}")
    raise AllowListFetchError(finding.message, url=url, report=Report(findings=[finding], subject=url))


@attrs.frozen(kw_only=True)
class _Plan:
    """What a fetch starts from: the cached list, whether it may be re-validated, and findings on the cache."""

    cached: CachedAllowList | None
    conditional: bool
    report: Report


def _kept(findings: list[Finding]) -> list[Finding]:
    """The failures survived by keeping the cached list: errors become warnings."""
    return [attrs.evolve(f, severity=Severity.WARNING) if f.severity is Severity.ERROR else f for f in findings]


class _Fetcher:
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
        self.url = _https(url)
        self.cache = cache
        self.expected_sha256 = _sha256(expected_sha256)
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

    def _plan(self, expected: str | None) -> _Plan:
        if self.cache is None:
            return _Plan(cached=None, conditional=False, report=Report(subject=self.url))
        cached, report = self.cache.read()
        conditional = cached is not None and cached.url == self.url and expected in (None, cached.sha256)
        return _Plan(cached=cached, conditional=conditional, report=attrs.evolve(report, subject=self.url))

    def _exchange(self, url: str, *, headers: dict[str, str], max_bytes: int) -> Exchange:
        """One GET of ``url`` within the fetcher's limits; a redirection elsewhere than https is not followed."""

        def https_only(target: httpx.URL) -> None:
            if target.scheme != "https":
                raise _Refused(codes.DOWNLOAD_FAILED(f"{url} was redirected to {target}, which is not https"))

        return Exchange(
            method="GET", url=url, headers=headers, deadline=Deadline.after(self.max_duration), timeout=self.timeout,
            max_bytes=max_bytes, redirect=https_only, progress=self.progress,
        )  # fmt: skip

    @staticmethod
    def _headers(plan: _Plan) -> dict[str, str]:
        headers = {"Accept": _ACCEPT, "Accept-Encoding": "identity", "User-Agent": f"mssante/{__version__}"}
        if plan.conditional and plan.cached is not None:
            headers.update(plan.cached.conditional_headers())
        return headers

    def _settle(self, answer: Answer | Finding, plan: _Plan, *, at: datetime, expected: str | None) -> FetchResult:
        """The result of an answer: the new list, or the cached one with why; raises when there is neither."""
        cached = plan.cached
        if isinstance(answer, Finding):
            return self._fallback(plan, [answer])
        if answer.status == httpx.codes.NOT_MODIFIED:
            if cached is None or not plan.conditional:
                return self._fallback(plan, [codes.HTTP_ERROR(f"GET {self.url} answered 304 to an unconditional GET")])
            return self._confirmed(plan, cached, answer, at=at, note=codes.NOT_MODIFIED(where=self.url))
        if answer.status != httpx.codes.OK:
            return self._fallback(plan, [codes.HTTP_ERROR(f"GET {self.url} answered HTTP {answer.status}")])
        digest = hashlib.sha256(answer.body).hexdigest()
        if expected is not None and digest != expected:
            message = f"{self.url} sent a document of SHA-256 {digest}, not the expected {expected}"
            return self._fallback(plan, [codes.CHECKSUM_MISMATCH(message)])
        if cached is not None and digest == cached.sha256:
            note = codes.UNCHANGED(f"{_describe(cached.allowlist)} is still the one published", where=self.url)
            return self._confirmed(plan, cached, answer, at=at, note=note, from_cache=False)
        try:
            allowlist = AllowList.parse(answer.body, source=self.url)
        except InvalidInput as error:
            return self._fallback(plan, [codes.BODY_REFUSED(str(error))])
        if cached is not None and allowlist.generated < cached.allowlist.generated:
            message = f"{_describe(allowlist)} is older than the cached {_describe(cached.allowlist)}"
            return self._fallback(plan, [codes.OLDER_THAN_CACHED(message)])
        findings = [codes.DOWNLOADED(f"{_describe(allowlist)} was downloaded", where=self.url)]
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
        plan: _Plan,
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

    def _fallback(self, plan: _Plan, findings: list[Finding]) -> FetchResult:
        """The cached list after a failure, with warnings; AllowListFetchError when there is none."""
        cached = plan.cached
        if cached is None:
            report = plan.report.extended(findings)
            raise AllowListFetchError(f"no allow-list: {findings[0].message}", url=self.url, report=report)
        note = codes.FROM_CACHE(
            f"the last good list is used: {_describe(cached.allowlist)}, downloaded "
            f"{cached.fetched_at:%Y-%m-%dT%H:%M:%SZ} from {cached.url}",
            where=str(cached.path),
        )
        return FetchResult(
            allowlist=cached.allowlist,
            changed=False,
            from_cache=True,
            report=plan.report.extended([*_kept(findings), note]),
            url=self.url,
            fetched_at=cached.fetched_at,
            checked_at=cached.checked_at,
        )


class AllowListFetcher(ClientOwner, _Fetcher):
    """Download the allow-list with an ``httpx.Client``; see the module documentation.

    Without ``client``, one is made that trusts the anchors of ``store`` only (by default the bundled
    production IGC Santé hierarchy) and follows redirects; :meth:`close` closes it. A given ``client`` is used as
    configured and stays the caller's (``store`` then has no use and is refused). ``timeout`` applies per
    request either way. ``url`` must be https, always. ``progress``, when given, hears of each body as it
    arrives: it is called with the bytes received so far and the length the server declared (None when it
    declared none), once with 0 as a body starts and then after each chunk; an exception it raises ends the
    fetch. The fetcher is a context manager.
    """

    def __init__(
        self,
        client: httpx.Client | None = None,
        cache: AllowListCache | None = None,
        *,
        store: TrustStore | None = None,
        url: str = ALLOWLIST_URL,
        expected_sha256: str | None = None,
        max_bytes: int = MAX_ALLOWLIST_BYTES,
        timeout: float = DEFAULT_TIMEOUT,
        max_duration: float = DEFAULT_MAX_DURATION,
        progress: Callable[[int, int | None], None] | None = None,
    ) -> None:
        if client is not None and store is not None:
            raise ValueError("store configures the client the fetcher makes: give a client or a store, not both")
        super().__init__(
            cache=cache,
            url=url,
            expected_sha256=expected_sha256,
            max_bytes=max_bytes,
            timeout=timeout,
            max_duration=max_duration,
            progress=progress,
        )
        self._owned = client is None
        if client is None:
            client = httpx.Client(verify=self._context(store), timeout=timeout, follow_redirects=True)
        self.client = client

    def fetch(self, *, at: datetime, expected_sha256: str | None = None) -> FetchResult:
        """The allow-list: downloaded, or the cached one when it is not modified or the download is unusable.

        ``at`` is recorded as the time of the download or confirmation; ``expected_sha256`` (default: the
        fetcher's) refuses any other document. Raises :class:`AllowListFetchError` when there is no list to give.
        """
        at = _utc(at)
        expected = _sha256(expected_sha256) or self.expected_sha256
        plan = self._plan(expected)
        answer = self._answer(self.url, headers=self._headers(plan), max_bytes=self.max_bytes)
        return self._settle(answer, plan, at=at, expected=expected)

    def fetch_checksum(self, url: str) -> str:
        """The lower-case hex SHA-256 a checksum file at ``url`` (https) starts with, e.g. :data:`MIRROR_CHECKSUM_URL`.

        The fetcher's client is used: the GitHub mirror has a public web certificate, which the default client
        (IGC Santé anchors only) refuses; give this fetcher an ``httpx.Client()`` to read it. Raises
        :class:`AllowListFetchError` when no checksum can be read.
        """
        url = _https(url)
        headers = {"Accept": "text/plain", "Accept-Encoding": "identity", "User-Agent": f"mssante/{__version__}"}
        return _checksum(url, self._answer(url, headers=headers, max_bytes=MAX_CHECKSUM_BYTES))

    def _answer(self, url: str, *, headers: dict[str, str], max_bytes: int) -> Answer | Finding:
        try:
            return exchange(self.client, self._exchange(url, headers=headers, max_bytes=max_bytes))
        except _Refused as refused:
            return refused.finding
        except DownloadRefused as refused:
            return _REFUSALS[refused.reason](str(refused))
        except HTTPX_ERRORS as error:
            return _failure(url, error)


class AsyncAllowListFetcher(AsyncClientOwner, _Fetcher):
    """The ``async`` twin of :class:`AllowListFetcher`, over an ``httpx.AsyncClient``.

    The cache is read and written, and the list parsed, in the calling thread (a few MB, once per fetch).
    """

    def __init__(
        self,
        client: httpx.AsyncClient | None = None,
        cache: AllowListCache | None = None,
        *,
        store: TrustStore | None = None,
        url: str = ALLOWLIST_URL,
        expected_sha256: str | None = None,
        max_bytes: int = MAX_ALLOWLIST_BYTES,
        timeout: float = DEFAULT_TIMEOUT,
        max_duration: float = DEFAULT_MAX_DURATION,
        progress: Callable[[int, int | None], None] | None = None,
    ) -> None:
        if client is not None and store is not None:
            raise ValueError("store configures the client the fetcher makes: give a client or a store, not both")
        super().__init__(
            cache=cache,
            url=url,
            expected_sha256=expected_sha256,
            max_bytes=max_bytes,
            timeout=timeout,
            max_duration=max_duration,
            progress=progress,
        )
        self._owned = client is None
        if client is None:
            client = httpx.AsyncClient(verify=self._context(store), timeout=timeout, follow_redirects=True)
        self.client = client

    async def fetch(self, *, at: datetime, expected_sha256: str | None = None) -> FetchResult:
        """The allow-list; see :meth:`AllowListFetcher.fetch`."""
        at = _utc(at)
        expected = _sha256(expected_sha256) or self.expected_sha256
        plan = self._plan(expected)
        answer = await self._answer(self.url, headers=self._headers(plan), max_bytes=self.max_bytes)
        return self._settle(answer, plan, at=at, expected=expected)

    async def fetch_checksum(self, url: str) -> str:
        """The hex SHA-256 a checksum file at ``url`` starts with; see :meth:`AllowListFetcher.fetch_checksum`."""
        url = _https(url)
        headers = {"Accept": "text/plain", "Accept-Encoding": "identity", "User-Agent": f"mssante/{__version__}"}
        return _checksum(url, await self._answer(url, headers=headers, max_bytes=MAX_CHECKSUM_BYTES))

    async def _answer(self, url: str, *, headers: dict[str, str], max_bytes: int) -> Answer | Finding:
        try:
            return await aexchange(self.client, self._exchange(url, headers=headers, max_bytes=max_bytes))
        except _Refused as refused:
            return refused.finding
        except DownloadRefused as refused:
            return _REFUSALS[refused.reason](str(refused))
        except HTTPX_ERRORS as error:
            return _failure(url, error)

"""What downloading the allow-list decides without I/O: which URLs, the on-disk cache of the last good list, results.

Public for the shells that download. The fetchers (:class:`~mssante.trustspace.AllowListFetcher` and its async
twin) are in :mod:`mssante.net`; they call into this module. A downloaded document replaces the cached one only
when it parsed as a whole allow-list, matched ``expected_sha256`` when one is given, and was not generated before the
cached one. The ANS GitHub mirror publishes a ``checksum`` file that certifies the mirror's copy of the list only.
"""

from __future__ import annotations

import hashlib
import json
import re
import urllib.parse
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from http import HTTPStatus
from pathlib import Path

import attrs

from mssante._files import FileTooLarge, atomic_write, cache_directory, read_regular
from mssante._revalidation import conditional_headers
from mssante.errors import InvalidInput, TrustError
from mssante.report import Finding, Report, Severity
from mssante.trustspace import fetch_codes as codes
from mssante.trustspace._allowlist import AllowList
from mssante.trustspace._parse import MAX_ALLOWLIST_BYTES

__all__ = [
    "ACCEPT",
    "MAX_CHECKSUM_BYTES",
    "MAX_URL_LENGTH",
    "MIRROR_CHECKSUM_URL",
    "MIRROR_URL",
    "AllowListCache",
    "AllowListFetchError",
    "CachedAllowList",
    "FetchResult",
    "Plan",
    "checksum_of",
    "default_cache_directory",
    "describe",
    "https_url",
    "kept",
    "sha256_of",
    "utc",
]

MAX_URL_LENGTH = 2048
"""No allow-list URL is longer; a longer one is refused unread."""

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
ACCEPT = "application/xml, text/xml;q=0.9, */*;q=0.5"


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


def utc(moment: datetime, what: str = "at") -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} must be a timezone-aware datetime, not {moment!r}")
    return moment.astimezone(timezone.utc)


def https_url(url: object) -> str:
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


def sha256_of(value: object) -> str | None:
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
    return utc(datetime.fromisoformat(value))


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value.isprintable() else None


def describe(allowlist: AllowList) -> str:
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
        return conditional_headers(self.etag, self.last_modified)


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
        fetched_at = utc(fetched_at, "fetched_at")
        if len(data) > self.max_bytes:
            raise InvalidInput(f"{len(data)} bytes: more than the cache's limit of {self.max_bytes}")
        allowlist = AllowList.parse(bytes(data), source=url)
        cached = self.load()
        if cached is not None and allowlist.generated < cached.allowlist.generated:
            raise TrustError(f"{describe(allowlist)} is older than the cached {describe(cached.allowlist)}: not stored")
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
        return utc(at) - self.checked_at


@attrs.frozen(kw_only=True)
class Plan:
    """What a fetch starts from: the cached list, whether it may be re-validated, and findings on the cache."""

    cached: CachedAllowList | None
    conditional: bool
    report: Report


def kept(findings: list[Finding]) -> list[Finding]:
    """The failures survived by keeping the cached list: errors become warnings."""
    return [attrs.evolve(f, severity=Severity.WARNING) if f.severity is Severity.ERROR else f for f in findings]


def checksum_of(url: str, status: int, body: bytes) -> str:
    """The lower-case hex SHA-256 a checksum file's ``body`` starts with; AllowListFetchError otherwise."""
    if status != HTTPStatus.OK:
        finding = codes.HTTP_ERROR(f"GET {url} answered HTTP {status}")
    else:
        words = body.decode("utf-8", "replace").lstrip("\ufeff").split()
        first = words[0] if words else ""
        if _HEX64.fullmatch(first):
            return first.lower()
        finding = codes.BAD_CHECKSUM_FILE(f"{url} starts with {first[:80]!r}")
    raise refusal(url, finding)


def refusal(url: str, finding: Finding) -> AllowListFetchError:
    """The error of a checksum that cannot be read, with ``finding``."""
    return AllowListFetchError(finding.message, url=url, report=Report(findings=[finding], subject=url))

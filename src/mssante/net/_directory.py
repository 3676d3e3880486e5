"""What the directory clients of both sides share: settings, paging, rate, retries, and no I/O.

The clients: :class:`~mssante.directory.AsyncDirectoryClient` (``httpx.AsyncClient``) and its generated sync twin
:class:`~mssante.directory.DirectoryClient` (``httpx.Client``).

A thin shell over :mod:`mssante.directory.fhir`: it sends the searches, keeps to the directory's rate (17
requests per second by default, client-side), retries what is worth retrying, follows the opaque ``next`` links
lazily, and translates every failure once into a :class:`~mssante.errors.DirectoryError`.

- Each request carries ``ESANTE-API-KEY`` (the key from ``api_key=`` or ``$ESANTE_API_KEY``) and asks for
  ``application/fhir+json``. The key is never logged, never put in a message, never sent elsewhere: redirections
  are not followed, and a ``next`` link is followed only on the scheme, host and port of ``base_url``. What the
  directory echoes (diagnostics, links) is scrubbed of the key and of bearer tokens before it reaches an error or
  a log line.
- 429, 502, 503, 504, timeouts and connection failures are retried ``retries`` times, after an exponential
  backoff with jitter, or after the server's ``Retry-After`` (seconds or an HTTP date) when it says one no longer
  than ``max_retry_after``.
- Bodies are bounded (``max_page_bytes``), must not be content-encoded, and are parsed as untrusted JSON.
- Each request has ``timeout`` per network operation and ``max_duration`` as a whole (connecting, TLS, headers,
  body), which a server that trickles its bytes cannot stretch ; a query as a whole
  (its pages, retries and waits) has ``max_query_duration``.
- A query reads at most ``max_pages`` pages, ``max_entries`` records and ``max_query_bytes`` bytes of pages; a
  ``next`` link to a page already read (compared once normalised: case of the scheme and host, default port,
  percent-encoding, order and empty parameters, fragment) ends it. Reaching a bound raises the
  :class:`~mssante.errors.DirectoryError` that says which (``MSS-DIR-040`` to ``MSS-DIR-043``, ``MSS-FHIR-010``),
  after the pages already given.
- ``clock`` and ``sleep`` (and ``wall_clock`` for ``Retry-After`` dates, when the answer has no ``Date``) are
  injectable, for tests and for callers that schedule their own time.
"""

from __future__ import annotations

import email.utils
import ipaddress
import logging
import os
import random
import re
import threading
import urllib.parse
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timezone

import attrs
import httpx

from mssante._secrets import scrub, scrub_bytes
from mssante._version import __version__
from mssante.addresses import Address
from mssante.directory import DirectoryMailbox
from mssante.directory import codes as bounds
from mssante.directory import fhir_codes as codes
from mssante.directory.fhir import (
    API_KEY_PORTAL,
    MAX_ERROR_BYTES,
    DirectoryAuthError,
    DirectoryFailure,
    DirectoryResponseError,
    DirectoryUnavailable,
    Page,
    Query,
    ResourceType,
    error_for_status,
    parse_bundle,
    same_origin,
)
from mssante.identifiers import Idnps, Rpps
from mssante.net._http import Answer, Deadline, Exchange, Failure, check_seconds
from mssante.report import Code, Report

__all__ = [
    "API_KEY_ENV",
    "DEFAULT_DIRECTORY_TIMEOUT",
    "DEFAULT_MAX_ENTRIES",
    "DEFAULT_MAX_PAGES",
    "DEFAULT_MAX_QUERY_BYTES",
    "DEFAULT_MAX_QUERY_DURATION",
    "DEFAULT_RATE",
    "OWNER_ORDER",
    "RETRY_STATUSES",
    "DirectoryShell",
    "RateLimiter",
    "api_key_of",
    "canonical",
    "endpoint",
    "holding",
    "identity_query",
    "positive",
    "retry_after_seconds",
    "scrub_failure",
]

API_KEY_ENV = "ESANTE_API_KEY"
"""The environment variable read for the API key when none is given."""

DEFAULT_RATE = 17.0
"""Requests per second: the quota of one application on the ANS gateway."""

DEFAULT_DIRECTORY_TIMEOUT = 35.0
"""Seconds allowed to each network operation: the directory itself gives up on a search after 30 seconds."""

RETRY_STATUSES = frozenset({429, 502, 503, 504})
"""The HTTP statuses retried (with backoff, or after ``Retry-After``)."""

DEFAULT_MAX_PAGES = 500
"""Pages one query reads at most (100 000 records at ``_count=200``); a query with more ends (``MSS-DIR-040``)."""

DEFAULT_MAX_ENTRIES = 50_000
"""Records (Practitioner, PractitionerRole, Organization) one query gives at most (``MSS-DIR-041`` past them)."""

DEFAULT_MAX_QUERY_BYTES = 256 * 1024 * 1024
"""Bytes of pages one query reads at most (``MSS-DIR-042`` past them); a page alone has ``max_page_bytes``."""

DEFAULT_MAX_QUERY_DURATION = 600.0
"""Seconds one query may spend in the client: its requests, retries and waits (``MSS-DIR-043`` past them)."""

_RETRYABLE_ERRORS = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)
_LOOPBACK_NAMES = frozenset({"localhost"})
_SECONDS = re.compile(r"[0-9]{1,9}(?:\.[0-9]{1,6})?", re.ASCII)
_ACCEPT = "application/fhir+json, application/json;q=0.9"

log = logging.getLogger("mssante.directory")


class RateLimiter:
    """A token bucket: at most ``rate`` requests per second, ``burst`` of them at once; thread-safe.

    :meth:`reserve` takes the next slot and says how long to wait before using it; it never sleeps itself.
    """

    def __init__(self, rate: float, *, burst: int = 1) -> None:
        if not rate > 0 or burst < 1:
            raise ValueError(f"a rate is a positive number of requests per second, a burst at least 1: {rate}, {burst}")
        self.rate, self.burst = float(rate), burst
        self._interval = 1.0 / self.rate
        self._next: float | None = None  # the theoretical time of the next request
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"RateLimiter({self.rate:g}, burst={self.burst})"

    def reserve(self, now: float) -> float:
        """Take a slot at ``now`` (a monotonic clock, in seconds): the seconds to wait before the request."""
        with self._lock:
            due = now if self._next is None else max(self._next, now)
            wait = max(0.0, due - (self.burst - 1) * self._interval - now)
            self._next = due + self._interval
            return wait


def retry_after_seconds(value: str | None, *, date: str | None = None, now: datetime | None = None) -> float | None:
    """The seconds a ``Retry-After`` header asks to wait: a number, or an HTTP date.

    A date is measured from the answer's ``Date`` header when it has one, else from ``now`` (aware); None when
    the header is absent or unreadable, 0 for a date in the past.
    """
    if value is None or not value.strip():
        return None
    text = value.strip()
    if _SECONDS.fullmatch(text):
        return float(text)
    moment, reference = _http_date(text), _http_date(date) if date else None
    if reference is None and now is not None:
        if now.tzinfo is None or now.utcoffset() is None:
            raise ValueError(f"now must be a timezone-aware datetime, not {now!r}")
        reference = now
    if moment is None or reference is None:
        return None
    return max(0.0, (moment - reference).total_seconds())


def _http_date(text: str) -> datetime | None:
    try:
        moment = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


def api_key_of(api_key: str | None, environ: Mapping[str, str] | None) -> str:
    key = api_key if api_key is not None else (os.environ if environ is None else environ).get(API_KEY_ENV, "")
    if not isinstance(key, str):
        raise TypeError("api_key is a str")
    key = key.strip()
    if not key:
        message = (
            f"no API key for the directory: pass api_key= or set {API_KEY_ENV}. A key is had on {API_KEY_PORTAL}: "
            'create an application there and subscribe it to the API "API Annuaire Santé en libre accès"'
        )
        report = Report(findings=[codes.NO_API_KEY(message)])
        raise DirectoryAuthError(message, report=report)
    if len(key) > 1024 or not key.isascii() or not key.isprintable() or " " in key:
        raise ValueError("the API key must be printable ASCII without spaces (it is not shown here)")
    return key


def _is_loopback(host: str) -> bool:
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def endpoint(url: object, what: str) -> str:
    """``url`` without its trailing slash when the key may be sent there: https, or http on the loopback (tests).

    Decided on the URL as httpx reads it (the host it connects to): no credentials, query or fragment, and plain
    http only to an IP loopback address or exactly ``localhost``. ValueError otherwise (the URL is not shown when it
    holds credentials).
    """
    try:
        parsed = httpx.URL(url) if isinstance(url, str) else None
    except httpx.InvalidURL:
        parsed = None
    text = url if isinstance(url, str) else ""
    secure = parsed is not None and (
        parsed.scheme == "https" or (parsed.scheme == "http" and _is_loopback(parsed.host))
    )
    plain = parsed is not None and not parsed.userinfo and "?" not in text and "#" not in text
    if parsed is None or not secure or not parsed.host or not plain:
        shown = "a URL with credentials" if parsed is not None and parsed.userinfo else repr(url)[:200]
        raise ValueError(
            f"{what} must be an https URL (plain http only to an IP loopback address or localhost, for tests), "
            f"without credentials, query or fragment, not {shown}"
        )
    return text.rstrip("/")


def _base_url(url: str) -> str:
    """``url`` without its trailing slash when it is https (or http on a loopback host, for tests)."""
    return endpoint(url, "base_url")


def positive(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} is a positive whole number, not {value!r}")
    return value


def scrub_failure(error: DirectoryFailure, secrets: Iterable[str]) -> DirectoryFailure:
    """``error`` itself, its message, report, diagnostics and URL scrubbed of ``secrets`` and bearer tokens.

    A diagnostic cut at its length limit in the middle of a secret is scrubbed as the diagnostic it is, then in the
    message that quotes it.
    """
    secrets = tuple(secrets)
    diagnostics = error.diagnostics
    clean = tuple(scrub(text, secrets) for text in diagnostics)

    def text_of(value: str) -> str:
        for raw, scrubbed in zip(diagnostics, clean, strict=True):
            if raw and raw != scrubbed:
                value = value.replace(raw, scrubbed)
        return scrub(value, secrets)

    error.args = tuple(text_of(arg) if isinstance(arg, str) else arg for arg in error.args)
    error.diagnostics = clean
    error.url = text_of(error.url)
    findings = [attrs.evolve(f, message=text_of(f.message), where=text_of(f.where)) for f in error.report.findings]
    error.report = attrs.evolve(error.report, findings=findings, subject=text_of(error.report.subject))
    return error


def _page_key(url: str) -> str:
    """``url`` as a page: scheme and host in lower case, the port said, percent-encoding and the order of the
    parameters normalised, empty parameters and the fragment left out. Two links to one page have one key."""
    try:
        parts = urllib.parse.urlsplit(url)
        host = (parts.hostname or "").lower()
        scheme = parts.scheme.lower()
        port = parts.port or _DEFAULT_PORTS.get(scheme)
    except ValueError:
        return url
    path = urllib.parse.quote(urllib.parse.unquote(parts.path or "/"), safe="/")
    pairs = sorted(pair for pair in urllib.parse.parse_qsl(parts.query, keep_blank_values=True) if any(pair))
    return f"{scheme}://{host}:{port}{path}?{urllib.parse.urlencode(pairs)}"


_DEFAULT_PORTS = {"http": 80, "https": 443}


@attrs.define
class Paging:
    """What one query has read so far, held against its bounds."""

    deadline: Deadline
    seen: set[str] = attrs.Factory(set)
    pages: int = 0
    entries: int = 0
    size: int = 0


@attrs.frozen(kw_only=True)
class _Broken:
    """A request that got no usable answer."""

    message: str
    retryable: bool


def _broken(url: str, failure: Failure) -> _Broken | DirectoryFailure:
    """What a request that got no usable answer means: worth retrying or not, or the error it is."""
    if failure.reason == "network":
        return _Broken(
            message=f"GET {url} failed: {failure.detail}", retryable=isinstance(failure.error, _RETRYABLE_ERRORS)
        )
    if failure.reason == "timeout":
        return _Broken(message=f"GET {failure.error}", retryable=True)
    code = codes.TOO_LARGE if failure.reason == "oversize" else codes.NOT_JSON
    message = str(failure.error)
    return DirectoryResponseError(message, report=Report(findings=[code(message, where=url)], subject=url), url=url)


class DirectoryShell:
    """What both clients share: settings, the decisions between requests, and no I/O."""

    def __init__(
        self,
        api_key: str | None,
        *,
        base_url: str,
        rate: float | None,
        burst: int,
        retries: int,
        backoff: float,
        max_backoff: float,
        max_retry_after: float,
        timeout: float,
        max_duration: float,
        max_page_bytes: int,
        max_pages: int,
        max_entries: int,
        max_query_bytes: int,
        max_query_duration: float,
        clock: Callable[[], float],
        wall_clock: Callable[[], datetime],
        rng: random.Random | None,
        environ: Mapping[str, str] | None,
    ) -> None:
        if retries < 0 or backoff < 0 or max_backoff < 0 or max_retry_after < 0:
            raise ValueError("retries, backoff, max_backoff and max_retry_after cannot be negative")
        self.base_url = _base_url(base_url)
        self._key = api_key_of(api_key, environ)
        self.limiter = RateLimiter(rate, burst=burst) if rate is not None else None
        self.retries, self.backoff, self.max_backoff = retries, backoff, max_backoff
        self.max_retry_after = max_retry_after
        self.timeout = check_seconds("timeout", timeout)
        self.max_duration = check_seconds("max_duration", max_duration)
        self.max_page_bytes = positive("max_page_bytes", max_page_bytes)
        self.max_pages = positive("max_pages", max_pages)
        self.max_entries = positive("max_entries", max_entries)
        self.max_query_bytes = positive("max_query_bytes", max_query_bytes)
        self.max_query_duration = check_seconds("max_query_duration", max_query_duration)
        self.clock, self.wall_clock = clock, wall_clock
        self._random = rng if rng is not None else random.Random()  # noqa: S311 (jitter, not secrets)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.base_url!r})"

    def _headers(self) -> dict[str, str]:
        return {
            "ESANTE-API-KEY": self._key,
            "Accept": _ACCEPT,
            "Accept-Encoding": "identity",
            "User-Agent": f"mssante/{__version__}",
        }

    @property
    def _secrets(self) -> tuple[str]:
        return (self._key,)

    def _scrub(self, text: str) -> str:
        return scrub(text, self._secrets)

    def _start(self, query: Query) -> tuple[str, httpx.QueryParams | None, str, Paging]:
        """URL, parameters and the URL as shown in messages, of the first page of ``query``; its paging."""
        url = query.url(self.base_url)
        params = httpx.QueryParams(query.params)
        paging = Paging(Deadline.after(self.max_query_duration))
        paging.seen.add(_page_key(str(httpx.URL(url, params=params))))
        return url, params, f"{url}?{query.to_query_string()}" if query.params else url, paging

    def _follow(self, link: str, paging: Paging, current: str) -> str:
        """The next page's URL: ``link`` as given, when it stays on the directory, leads to a page not read yet,
        and the query may read one more page."""
        if not same_origin(self.base_url, link):
            shown = link[:200]
            message = f"the next link {shown!r} leaves {self.base_url}: it is not followed (the API key would leak)"
            raise _failure(DirectoryResponseError, codes.LINK_REFUSED, message, current)
        key = _page_key(link)
        if key in paging.seen:
            message = "the directory sent a next link already followed (to a page read): paging stops rather than loop"
            raise _failure(DirectoryResponseError, codes.LINK_REFUSED, message, current)
        if paging.pages >= self.max_pages:
            message = f"the query has more than max_pages={self.max_pages} pages: paging stops"
            raise _failure(DirectoryResponseError, bounds.QUERY_PAGES, message, current)
        paging.seen.add(key)
        return link

    def _overtime(self, shown: str) -> DirectoryFailure:
        message = f"the query took longer than max_query_duration={self.max_query_duration:g} s: it stops"
        return _failure(DirectoryUnavailable, bounds.QUERY_DURATION, message, shown)

    def _budget(self, paging: Paging, seconds: float, shown: str) -> float:
        """``seconds`` to wait, when the query has that long left; the query's end otherwise."""
        if seconds >= paging.deadline.remaining():
            raise self._overtime(shown)
        return seconds

    def _ask(self, url: str, params: httpx.QueryParams | None, shown: str, paging: Paging) -> Exchange:
        return Exchange(
            method="GET", url=url, params=params, headers=self._headers(), timeout=self.timeout,
            deadline=Deadline.after(self.max_duration).sooner(paging.deadline), max_bytes=self.max_page_bytes,
            error_bytes=MAX_ERROR_BYTES, follow_redirects=False, name=shown,
        )  # fmt: skip

    def _count(self, paging: Paging, outcome: Answer | _Broken | DirectoryFailure, shown: str) -> None:
        """Hold a page's body against ``max_query_bytes``; a request cut by the query's deadline ends the query."""
        if isinstance(outcome, _Broken) and paging.deadline.passed():
            raise self._overtime(shown)
        if isinstance(outcome, Answer) and outcome.status == httpx.codes.OK:
            paging.size += len(outcome.body)
            if paging.size > self.max_query_bytes:
                message = f"the pages of the query hold more than max_query_bytes={self.max_query_bytes} bytes"
                raise _failure(DirectoryResponseError, bounds.QUERY_BYTES, message, shown)

    def _take(self, paging: Paging, page: Page, shown: str) -> Page:
        """``page``, counted; the query's end when it goes past ``max_entries``."""
        paging.pages += 1
        paging.entries += len(page.resources)
        if paging.entries > self.max_entries:
            message = f"the query holds more than max_entries={self.max_entries} records: paging stops"
            raise _failure(DirectoryResponseError, bounds.QUERY_ENTRIES, message, shown)
        return page

    def _wait(self) -> float:
        """Seconds to wait for the rate limit before the next request."""
        return self.limiter.reserve(self.clock()) if self.limiter is not None else 0.0

    def _backoff(self, attempt: int) -> float:
        """Exponential backoff with jitter: between half and all of ``backoff * 2**attempt``, capped."""
        ceiling = min(self.max_backoff, self.backoff * 2.0**attempt)
        return ceiling / 2 + self._random.uniform(0, ceiling / 2)

    def _decide(self, answer: Answer | Failure, attempt: int, shown: str, paging: Paging) -> Page | float:
        """A page, or the seconds to wait before retrying; raises the error when there is no retry left."""
        outcome = _broken(shown, answer) if isinstance(answer, Failure) else answer
        attempts = attempt + 1
        last = attempt >= self.retries
        self._count(paging, outcome, shown)
        if isinstance(outcome, DirectoryFailure):
            raise outcome
        if isinstance(outcome, _Broken):
            if outcome.retryable and not last:
                delay = self._backoff(attempt)
                log.info("directory: %s; retry %d in %.2f s", self._scrub(outcome.message), attempts, delay)
                return delay
            message = outcome.message + (f" ({attempts} attempts)" if attempts > 1 else "")
            report = Report(findings=[codes.NETWORK(message, where=shown)], subject=shown)
            raise DirectoryUnavailable(message, report=report, url=shown)
        body = scrub_bytes(outcome.body, self._secrets)
        if outcome.status == httpx.codes.OK:
            return self._take(paging, parse_bundle(body, max_bytes=self.max_page_bytes, url=shown), shown)
        retry_after = None
        if outcome.retry_after is not None:
            now = self.wall_clock() if outcome.date is None else None
            retry_after = retry_after_seconds(outcome.retry_after, date=outcome.date, now=now)
        if outcome.status in RETRY_STATUSES and not last:
            if retry_after is None:
                delay = self._backoff(attempt)
            elif retry_after <= self.max_retry_after:
                delay = retry_after
            else:
                raise error_for_status(outcome.status, body, url=shown, retry_after=retry_after, attempts=attempts)
            shown = self._scrub(shown)
            log.info("directory: GET %s answered %d; retry %d in %.2f s", shown, outcome.status, attempts, delay)
            return delay
        raise error_for_status(outcome.status, body, url=shown, retry_after=retry_after, attempts=attempts)

    @staticmethod
    def _owner_query(address: Address, resource: ResourceType) -> Query:
        return Query.by_address(address, resource)


def _failure(kind: type[DirectoryFailure], code: Code, message: str, url: str) -> DirectoryFailure:
    return kind(message, report=Report(findings=[code(message, where=url)], subject=url), url=url)


OWNER_ORDER = (ResourceType.PRACTITIONER_ROLE, ResourceType.PRACTITIONER, ResourceType.ORGANIZATION)


def identity_query(rpps: str | Rpps | None, idnps: str | Idnps | None) -> Query:
    if rpps is not None and idnps is None:
        return Query.by_rpps(rpps)
    if idnps is not None and rpps is None:
        return Query.by_idnps(idnps)
    raise ValueError("give rpps= or idnps=, one of them")


def canonical(address: str | Address) -> Address:
    return address if isinstance(address, Address) else Address.parse(address)


def holding(address: Address, mailboxes: tuple[DirectoryMailbox, ...]) -> list[DirectoryMailbox]:
    wanted = str(address).lower()
    return [mailbox for mailbox in mailboxes if mailbox.address.lower() == wanted]

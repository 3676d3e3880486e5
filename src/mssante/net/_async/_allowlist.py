"""Downloading the allow-list over HTTPS, into an on-disk cache of the last good one.

:class:`AsyncAllowListFetcher` (over ``httpx.AsyncClient``; its sync twin :class:`~mssante.trustspace.AllowListFetcher`
over ``httpx.Client``) downloads the ANS allow-list and hands back a :class:`~mssante.trustspace.FetchResult`: the
list, whether it changed, whether it came from the cache, and a :class:`~mssante.report.Report` that says what
happened.

- HTTPS only. Without a client, the fetcher makes one that trusts the IGC Santé anchors of a
  :class:`~mssante.pki.TrustStore` (production by default) and nothing else: never the system store. The ANS
  server presents an IGC Santé certificate.
- Bodies are bounded (``max_bytes``), must not be content-encoded (``Accept-Encoding: identity`` is sent), and
  each request has a ``timeout`` per network operation and ``max_duration`` overall: connecting, the TLS handshake,
  the headers, the body and each redirection, which a server that trickles its bytes cannot stretch. A redirection
  to anything but https is refused before it is followed.
- A ``progress`` callback hears of each body as it arrives (bytes so far, declared length), for a progress bar.
- A downloaded document replaces the cached one only when it parsed as a whole allow-list, matched
  ``expected_sha256`` when one is given, and was not generated before the cached one. Otherwise, and when the
  download fails, the last good list from the cache is returned with warnings; without one,
  :class:`~mssante.trustspace.AllowListFetchError` is raised.
- With an :class:`~mssante.trustspace.AllowListCache`, requests are conditional (``If-None-Match``,
  ``If-Modified-Since``), so a 304 costs no download.

How often to fetch, and what age of list to accept in decisions (``max_age`` of
:class:`~mssante.trustspace.AllowList`), is the caller's choice. The ANS GitHub mirror publishes a ``checksum`` file
(``fetch_checksum``) that certifies the mirror's copy of the list only.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import httpx

from mssante._version import __version__
from mssante.net._allowlist import AllowListShell, checksum
from mssante.net._async._exchange import AsyncClientOwner, attempt
from mssante.net._http import DEFAULT_MAX_DURATION, DEFAULT_TIMEOUT, Answer, Failure
from mssante.pki import TrustStore
from mssante.trustspace import ALLOWLIST_URL, MAX_ALLOWLIST_BYTES, AllowListCache, FetchResult
from mssante.trustspace.fetching import MAX_CHECKSUM_BYTES, https_url, sha256_of, utc

__all__ = ["AsyncAllowListFetcher"]


class AsyncAllowListFetcher(AsyncClientOwner, AllowListShell):
    """Download the allow-list with an ``httpx.AsyncClient``; see the module documentation.

    Without ``client``, one is made that trusts the anchors of ``store`` only (by default the bundled
    production IGC Santé hierarchy) and follows redirects; ``aclose`` closes it. A given ``client`` is used as
    configured and stays the caller's (``store`` then has no use and is refused). ``timeout`` applies per
    request either way. ``url`` must be https, always. ``progress``, when given, hears of each body as it
    arrives: it is called with the bytes received so far and the length the server declared (None when it
    declared none), once with 0 as a body starts and then after each chunk; an exception it raises ends the
    fetch. The fetcher is a context manager. The cache is read and written, and the list parsed, in the calling
    thread (a few MB, once per fetch).
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
        """The allow-list: downloaded, or the cached one when it is not modified or the download is unusable.

        ``at`` is recorded as the time of the download or confirmation; ``expected_sha256`` (default: the
        fetcher's) refuses any other document. Raises :class:`~mssante.trustspace.AllowListFetchError` when there is
        no list to give.
        """
        at = utc(at)
        expected = sha256_of(expected_sha256) or self.expected_sha256
        plan = self._plan(expected)
        answer = await self._answer(self.url, headers=self._headers(plan), max_bytes=self.max_bytes)
        return self._settle(answer, plan, at=at, expected=expected)

    async def fetch_checksum(self, url: str) -> str:
        """The lower-case hex SHA-256 a checksum file at ``url`` (https) starts with, e.g. the mirror's.

        The fetcher's client is used: the GitHub mirror has a public web certificate, which the default client
        (IGC Santé anchors only) refuses; give this fetcher a client of its own to read it. Raises
        :class:`~mssante.trustspace.AllowListFetchError` when no checksum can be read.
        """
        url = https_url(url)
        headers = {"Accept": "text/plain", "Accept-Encoding": "identity", "User-Agent": f"mssante/{__version__}"}
        return checksum(url, await self._answer(url, headers=headers, max_bytes=MAX_CHECKSUM_BYTES))

    async def _answer(self, url: str, *, headers: dict[str, str], max_bytes: int) -> Answer | Failure:
        return await attempt(self.client, self._exchange(url, headers=headers, max_bytes=max_bytes))

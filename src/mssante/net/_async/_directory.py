"""The directory's FHIR API over HTTP, with paging, a client-side rate, retries and bounds.

:class:`AsyncDirectoryClient` (``httpx.AsyncClient``) and its generated sync twin
:class:`~mssante.directory.DirectoryClient` (``httpx.Client``) are thin shells over the pure FHIR rules of
:mod:`mssante.directory`; their settings and decisions are in :mod:`mssante.net._directory`.
"""

from __future__ import annotations

import random
import time
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import datetime, timezone

import httpx

from mssante.addresses import Address
from mssante.directory import DirectoryMailbox, Page, Query
from mssante.directory.fhir import BASE_URL, MAX_PAGE_BYTES, DirectoryFailure, Resource, merge_mailboxes
from mssante.identifiers import Idnps, Rpps
from mssante.net import _backend_async as backend
from mssante.net._async._exchange import AsyncClientOwner, attempt
from mssante.net._backend_async import Sleep
from mssante.net._directory import (
    DEFAULT_DIRECTORY_TIMEOUT,
    DEFAULT_MAX_ENTRIES,
    DEFAULT_MAX_PAGES,
    DEFAULT_MAX_QUERY_BYTES,
    DEFAULT_MAX_QUERY_DURATION,
    DEFAULT_RATE,
    OWNER_ORDER,
    DirectoryShell,
    Paging,
    canonical,
    holding,
    identity_query,
    scrub_failure,
)
from mssante.net._http import DEFAULT_MAX_DURATION, Answer, Exchange, Failure

__all__ = ["AsyncDirectoryClient"]


class AsyncDirectoryClient(AsyncClientOwner, DirectoryShell):
    """Search the directory's FHIR API with an ``httpx.AsyncClient``; see the module documentation.

    Without ``client``, one is made (system trust store, no redirections) and ``aclose`` closes it; a given
    ``client`` stays the caller's. ``api_key`` defaults to ``$ESANTE_API_KEY``
    (:class:`~mssante.directory.DirectoryAuthError` when there is none). ``rate=None`` turns the client-side limit
    off. ``sleep`` waits between requests (awaited on the async side). :meth:`pages`, :meth:`resources` and
    :meth:`search` give their items lazily (``async for`` on the async side). The client is a context manager.
    """

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str = BASE_URL,
        client: httpx.AsyncClient | None = None,
        rate: float | None = DEFAULT_RATE,
        burst: int = 1,
        retries: int = 4,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        max_retry_after: float = 120.0,
        timeout: float = DEFAULT_DIRECTORY_TIMEOUT,
        max_duration: float = DEFAULT_MAX_DURATION,
        max_page_bytes: int = MAX_PAGE_BYTES,
        max_pages: int = DEFAULT_MAX_PAGES,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        max_query_bytes: int = DEFAULT_MAX_QUERY_BYTES,
        max_query_duration: float = DEFAULT_MAX_QUERY_DURATION,
        clock: Callable[[], float] = time.monotonic,
        sleep: Sleep = backend.sleep,
        wall_clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
        rng: random.Random | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(
            api_key,
            base_url=base_url,
            rate=rate,
            burst=burst,
            retries=retries,
            backoff=backoff,
            max_backoff=max_backoff,
            max_retry_after=max_retry_after,
            timeout=timeout,
            max_duration=max_duration,
            max_page_bytes=max_page_bytes,
            max_pages=max_pages,
            max_entries=max_entries,
            max_query_bytes=max_query_bytes,
            max_query_duration=max_query_duration,
            clock=clock,
            wall_clock=wall_clock,
            rng=rng,
            environ=environ,
        )
        self._sleep = sleep
        self._owned = client is None
        self.client = client if client is not None else httpx.AsyncClient(timeout=timeout, follow_redirects=False)

    async def pages(self, query: Query) -> AsyncIterator[Page]:
        """The pages of ``query``, each fetched when the previous one is consumed, within the query's bounds."""
        url, params, shown, paging = self._start(query)
        try:
            while True:
                page = await self._get(url, params, shown, paging)
                yield page
                if page.next is None:
                    return
                url = shown = self._follow(page.next, paging, shown)
                params = None
        except DirectoryFailure as error:
            raise scrub_failure(error, self._secrets) from None

    async def resources(self, query: Query) -> AsyncIterator[Resource]:
        """The records (Practitioner, PractitionerRole, Organization) of every page of ``query``, lazily."""
        async for page in self.pages(query):
            for resource in page.resources:
                yield resource

    async def search(self, query: Query) -> AsyncIterator[DirectoryMailbox]:
        """The mailboxes of every page of ``query``, lazily, each address once (see :attr:`Page.mailboxes`)."""
        seen: set[str] = set()
        async for page in self.pages(query):
            for mailbox in page.mailboxes:
                if mailbox.address.lower() not in seen:
                    seen.add(mailbox.address.lower())
                    yield mailbox

    def search_mailboxes(
        self,
        *,
        name: str | None = None,
        profession: str | None = None,
        city: str | None = None,
        postcode: str | None = None,
    ) -> AsyncIterator[DirectoryMailbox]:
        """The mailboxes of people by name and/or profession code, or of places by city and/or postcode, lazily.

        See :meth:`Query.for_mailboxes <mssante.directory.Query.for_mailboxes>`.
        """
        query = Query.for_mailboxes(name=name, profession=profession, city=city, postcode=postcode)
        return self.search(query)

    async def mailboxes_of(
        self, *, rpps: str | Rpps | None = None, idnps: str | Idnps | None = None
    ) -> tuple[DirectoryMailbox, ...]:
        """The mailboxes of a practitioner, by RPPS or IdNat_PS: on the Practitioner and on its roles, merged."""
        found: list[DirectoryMailbox] = []
        async for page in self.pages(identity_query(rpps, idnps)):
            found.extend(page.mailboxes)
        return merge_mailboxes(found)

    async def owner_of(self, address: str | Address) -> DirectoryMailbox | None:
        """The mailbox ``address`` as the directory knows it (type, person, structure), or None.

        Searches ``mailbox-mss=<address>`` on PractitionerRole (with its practitioner and organisation),
        Practitioner and Organization, and merges what they say.
        """
        wanted = canonical(address)
        found: list[DirectoryMailbox] = []
        for resource in OWNER_ORDER:
            async for page in self.pages(self._owner_query(wanted, resource)):
                found.extend(holding(wanted, page.mailboxes))
        merged = merge_mailboxes(found)
        return merged[0] if merged else None

    async def _get(self, url: str, params: httpx.QueryParams | None, shown: str, paging: Paging) -> Page:
        attempt = 0
        while True:
            wait = self._budget(paging, self._wait(), shown)
            if wait > 0:
                await self._sleep(wait)
            outcome = await self._exchange(self._ask(url, params, shown, paging))
            decision = self._decide(outcome, attempt, shown, paging)
            if isinstance(decision, Page):
                return decision
            await self._sleep(self._budget(paging, decision, shown))
            attempt += 1

    async def _exchange(self, ask: Exchange) -> Answer | Failure:
        return await attempt(self.client, ask)

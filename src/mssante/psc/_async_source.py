"""The asyncio twin of :class:`~mssante.psc.TokenSource`: the same ending, refreshed by a task of the event loop."""

from __future__ import annotations

import asyncio
from types import TracebackType

from mssante.psc._async._client import AsyncPscClient
from mssante.psc._ending import Ending, TokenStore, stored_refresh_token
from mssante.psc._errors import PscError
from mssante.psc._tokens import TokenSet

__all__ = ["AsyncTokenSource"]

_LONGEST_WAIT = 60.0


class AsyncTokenSource(Ending):
    """:class:`~mssante.psc.TokenSource` for asyncio, over an :class:`~mssante.psc.AsyncPscClient`: awaiting it
    gives the access token (refreshed first when due), for :class:`~mssante.transport.AsyncSubmission` and the async
    mailboxes (``token=source``). As an async context manager (or after :meth:`start`, in a running loop) a task
    refreshes it when due; when a refresh fails it ends, and the sessions using it with it (``MSS-TRN-024``)."""

    def __init__(self, client: AsyncPscClient, tokens: TokenSet, *, store: TokenStore | None = None) -> None:
        super().__init__(client.issuer, tokens, store)
        self._client = client
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    @classmethod
    async def resume(cls, client: AsyncPscClient, store: TokenStore) -> AsyncTokenSource:
        """As :meth:`TokenSource.resume <mssante.psc.TokenSource.resume>`."""
        kept = stored_refresh_token(store, issuer=client.issuer, at=client.now())
        try:
            tokens = await client.refresh(kept)
        except PscError:
            store.clear()
            raise
        return cls(client, tokens, store=store)

    async def __call__(self) -> str:
        """The access token, refreshed first when due; ``MSS-PSC-014`` once the source has ended."""
        async with self._lock:
            self._check()
            if self._client.now() >= self._tokens.refresh_at():
                await self._refresh()
            return self._tokens.access_token

    async def refresh(self) -> TokenSet:
        """Refresh now; when it fails, the source ends (and the :class:`~mssante.psc.PscError` is raised)."""
        async with self._lock:
            return await self._refresh()

    async def _refresh(self) -> TokenSet:
        self._check()
        try:
            tokens = await self._client.refresh(self._tokens)
        except PscError as error:
            self.end(f"{error.code}: {error}")
            raise
        self._renewed(tokens)
        return tokens

    def start(self) -> None:
        """Refresh in a task of the running loop from now on, each time a refresh is due."""
        if self._task is None and self._ended is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="mssante-psc-refresh")

    async def stop(self) -> None:
        """Stop refreshing in the background (the source lasts: awaiting it still refreshes when due)."""
        task, self._task = self._task, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()
            await asyncio.wait([task])  # a cancellation of this call still propagates

    def _stopping(self) -> None:
        task = self._task
        if task is not None and task is not _current_task():
            task.cancel()

    async def _run(self) -> None:
        while self._ended is None:
            wait = (self._tokens.refresh_at() - self._client.now()).total_seconds()
            if wait > 0:
                await asyncio.sleep(min(wait, _LONGEST_WAIT))
                continue
            try:
                await self.refresh()
            except PscError:
                return

    async def aclose(self) -> None:
        """Log out on this side: stop refreshing and end the source (sessions using it are closed)."""
        await self.stop()
        self.end("the token source was closed")

    async def __aenter__(self) -> AsyncTokenSource:
        self.start()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        await self.aclose()


def _current_task() -> asyncio.Task[object] | None:
    try:
        return asyncio.current_task()
    except RuntimeError:  # no running loop: called from another thread
        return None

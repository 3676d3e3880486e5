"""A token source for the sessions: the access token kept fresh, and its end told to the sessions that use it."""

from __future__ import annotations

import threading
from types import TracebackType

from mssante.psc._ending import Ending, TokenStore, stored_refresh_token
from mssante.psc._errors import PscError
from mssante.psc._sync._client import PscClient
from mssante.psc._tokens import TokenSet

__all__ = ["TokenSource"]

_LONGEST_WAIT = 60.0


class TokenSource(Ending):
    """The access token of one Pro Santé Connect login, for :class:`~mssante.transport.Submission`,
    :class:`~mssante.transport.AsyncSubmission` and the mailboxes (``token=source``).

    Calling it gives the access token, refreshed first when it is due (a quarter of its life before expiry). As a
    context manager (or after :meth:`start`) a thread also refreshes it when due, so that the end of the session is
    known even while no session asks for a token. When a refresh fails (refused, or the provider unreachable) the
    source ENDS: each callback registered with :meth:`on_end` is called with the reason (the sessions drop their
    connections and refuse their next operation, ``MSS-TRN-024``; SC.MSS/CONF.10), the refresh token is cleared from
    the ``store``, and every later call raises :class:`~mssante.psc.PscError` (``MSS-PSC-014``): the user must log
    in again. Tokens are never written anywhere, except the refresh token to a ``store`` the caller gives.
    Thread-safe; :class:`~mssante.psc.AsyncTokenSource` is its asyncio twin.
    """

    def __init__(self, client: PscClient, tokens: TokenSet, *, store: TokenStore | None = None) -> None:
        super().__init__(client.issuer, tokens, store)
        self._client = client
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @classmethod
    def resume(cls, client: PscClient, store: TokenStore) -> TokenSource:
        """The source of the refresh token kept in ``store``, refreshed now; ``MSS-PSC-009`` when there is none or
        the provider refuses it (the store is then cleared)."""
        kept = stored_refresh_token(store, issuer=client.issuer, at=client.now())
        try:
            tokens = client.refresh(kept)
        except PscError:
            store.clear()
            raise
        return cls(client, tokens, store=store)

    def __call__(self) -> str:
        """The access token, refreshed first when due; ``MSS-PSC-014`` once the source has ended."""
        with self._lock:
            self._check()
            if self._client.now() >= self._tokens.refresh_at():
                self.refresh()
            return self._tokens.access_token

    def refresh(self) -> TokenSet:
        """Refresh now; when it fails, the source ends (and the :class:`~mssante.psc.PscError` is raised)."""
        with self._lock:
            self._check()
            try:
                tokens = self._client.refresh(self._tokens)
            except PscError as error:
                self.end(f"{error.code}: {error}")
                raise
            self._renewed(tokens)
            return tokens

    def start(self) -> None:
        """Refresh in a thread of its own from now on, each time a refresh is due, until the source ends or
        :meth:`stop`."""
        with self._lock:
            if self._thread is None and self._ended is None:
                self._stop.clear()
                self._thread = threading.Thread(target=self._run, name="mssante-psc-refresh", daemon=True)
                self._thread.start()

    def stop(self) -> None:
        """Stop refreshing in the background (the source lasts: a call still refreshes when due)."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join()

    def _stopping(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            wait = (self._tokens.refresh_at() - self._client.now()).total_seconds()
            if wait > 0 and self._stop.wait(min(wait, _LONGEST_WAIT)):
                return
            if self._stop.is_set() or self._ended is not None:
                return
            if self._client.now() < self._tokens.refresh_at():
                continue
            try:
                self.refresh()
            except PscError:
                return

    def close(self) -> None:
        """Log out on this side: stop refreshing and end the source (sessions using it are closed)."""
        self.stop()
        self.end("the token source was closed")

    def __enter__(self) -> TokenSource:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

"""What a token source of either side keeps: its tokens, its store, its end and who is told of it."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from typing import Protocol, runtime_checkable

from mssante.psc import codes
from mssante.psc._tokens import TokenSet

__all__ = ["Ending", "MemoryTokenStore", "TokenStore", "stored_refresh_token"]


@runtime_checkable
class TokenStore(Protocol):
    """Where a caller keeps the refresh token between runs, if it wants to (nothing is kept by default). The access
    token is never given to it (SC.MSS/CONF.28: the PSC access token is never stored persistently)."""

    def load(self) -> str | None:
        """The refresh token kept, or None."""
        ...

    def save(self, refresh_token: str) -> None:
        """Keep ``refresh_token`` (it replaces the one kept)."""
        ...

    def clear(self) -> None:
        """Forget the refresh token (the session ended)."""
        ...


class MemoryTokenStore:
    """A :class:`TokenStore` in memory (for tests, or to hand a session over within one process)."""

    def __init__(self) -> None:
        self._token: str | None = None

    def __repr__(self) -> str:
        return f"MemoryTokenStore({'holding a refresh token' if self._token else 'empty'})"

    def load(self) -> str | None:
        """The refresh token kept, or None."""
        return self._token

    def save(self, refresh_token: str) -> None:
        """Keep ``refresh_token``."""
        self._token = refresh_token

    def clear(self) -> None:
        """Forget the refresh token."""
        self._token = None


def stored_refresh_token(store: TokenStore, *, issuer: str, at: dt.datetime) -> TokenSet:
    """A token set holding only the refresh token kept in ``store`` (to refresh from); ``MSS-PSC-009`` when none."""
    refresh_token = store.load()
    if not refresh_token:
        raise codes.failure(codes.REFRESH_REFUSED, "no refresh token is kept: log in", where=issuer)
    return TokenSet(access_token="-", refresh_token=refresh_token, expires_at=at, issued_at=at)  # noqa: S106


class Ending:
    """The tokens of a source, its optional store, and its end: the callbacks told once, the store cleared."""

    def __init__(self, issuer: str, tokens: TokenSet, store: TokenStore | None) -> None:
        self._issuer = issuer
        self._tokens = tokens
        self._store = store
        self._guard = threading.Lock()  # the callbacks and the end only: never held while calling out
        self._callbacks: dict[int, Callable[[str], None]] = {}
        self._next = 0
        self._ended: str | None = None
        self._save(tokens)

    def __repr__(self) -> str:
        state = f"ended: {self._ended}" if self._ended is not None else f"expires {self._tokens.expires_at.isoformat()}"
        return f"{type(self).__name__}({self._issuer!r}, subject={self._tokens.subject!r}, {state})"

    __str__ = __repr__

    @property
    def tokens(self) -> TokenSet:
        """The current tokens (their repr shows no token)."""
        return self._tokens

    @property
    def ended(self) -> str | None:
        """Why the source ended, or None while it lasts."""
        return self._ended

    def _check(self) -> None:
        if self._ended is not None:
            message = f"the Pro Santé Connect session ended ({self._ended}): log in again"
            raise codes.failure(codes.TOKEN_ENDED, message, where=self._issuer)

    def _renewed(self, tokens: TokenSet) -> None:
        self._tokens = tokens
        self._save(tokens)

    def _save(self, tokens: TokenSet) -> None:
        if self._store is not None and tokens.refresh_token:
            self._store.save(tokens.refresh_token)

    def on_end(self, callback: Callable[[str], None]) -> Callable[[], None]:
        """Call ``callback`` with the reason when the source ends (at once if it has); returns the unregister."""
        with self._guard:
            ended = self._ended
            key = self._next
            self._next += 1
            if ended is None:
                self._callbacks[key] = callback
        if ended is not None:
            callback(ended)

        def unregister() -> None:
            with self._guard:
                self._callbacks.pop(key, None)

        return unregister

    def end(self, reason: str) -> None:
        """End the source (a logout, or a refresh that failed): the callbacks are told, the store cleared."""
        with self._guard:
            if self._ended is not None:
                return
            self._ended = reason
            callbacks, self._callbacks = list(self._callbacks.values()), {}
        if self._store is not None:
            self._store.clear()
        self._stopping()
        for callback in callbacks:
            callback(reason)

    def _stopping(self) -> None:
        """Stop refreshing in the background (each side says how)."""

"""Token answers read and judged without I/O, and the decisions on a token's life (when to refresh it)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import attrs

from mssante._secrets import scrub
from mssante.psc import codes
from mssante.psc._errors import PscError
from mssante.psc._json import read_object
from mssante.report import Code

__all__ = ["TokenSet", "parse_error", "parse_token_answer", "refresh_margin"]

MAX_LIFETIME = 86_400
"""The longest ``expires_in`` taken (seconds): anything longer is a provider's error."""

DEFAULT_LIFETIME = 60
"""Seconds assumed when the provider gives no ``expires_in`` (RFC 6749 §5.1 makes it RECOMMENDED only)."""

_SHOWN = 200


@attrs.frozen(kw_only=True)
class TokenSet:
    """The tokens of one grant: never shown in a repr, a str or an error (only their expiry, scope and subject)."""

    access_token: str = attrs.field(repr=False)
    expires_at: dt.datetime
    issued_at: dt.datetime
    refresh_token: str | None = attrs.field(default=None, repr=False)
    id_token: str | None = attrs.field(default=None, repr=False)
    scope: str = ""
    subject: str | None = None
    """The ``sub`` of the ID token (the professional), when one came and was checked."""
    claims: Mapping[str, Any] = attrs.field(factory=dict, repr=False)
    """The claims of the ID token, checked."""

    def __str__(self) -> str:
        return repr(self)

    @property
    def lifetime(self) -> float:
        """Seconds from issue to expiry."""
        return (self.expires_at - self.issued_at).total_seconds()

    def refresh_at(self) -> dt.datetime:
        """When to refresh: before expiry by :func:`refresh_margin` of the lifetime."""
        return self.expires_at - dt.timedelta(seconds=refresh_margin(self.lifetime))

    def expired(self, at: dt.datetime) -> bool:
        """Whether the access token has expired at ``at``."""
        return at >= self.expires_at

    def secrets(self) -> tuple[str, ...]:
        """The tokens, to scrub from any text."""
        return tuple(token for token in (self.access_token, self.refresh_token, self.id_token) if token)


def refresh_margin(lifetime: float) -> float:
    """Seconds before expiry a token is refreshed: a quarter of its life, at least 1 s and at most 60 s (a PSC
    access token lives about two minutes: it is refreshed 30 s before it expires)."""
    return max(1.0, min(60.0, lifetime / 4))


def parse_error(status: int, body: bytes, *, secrets: tuple[str, ...] = ()) -> tuple[str, str]:
    """The ``error`` and ``error_description`` of an OAuth 2.0 error answer (RFC 6749 §5.2), cut short and scrubbed;
    ``("http_<status>", "")`` when the body is not one."""
    try:
        document = read_object(body, invalid=ValueError)
    except ValueError:
        return f"http_{status}", ""
    error = document.get("error")
    description = document.get("error_description")
    error_text = scrub(error[:_SHOWN], secrets) if isinstance(error, str) else f"http_{status}"
    description_text = scrub(description[:_SHOWN], secrets) if isinstance(description, str) else ""
    return error_text, description_text


def parse_token_answer(
    status: int,
    body: bytes,
    *,
    at: dt.datetime,
    refused: Code,
    where: str,
    previous: TokenSet | None = None,
    secrets: tuple[str, ...] = (),
) -> TokenSet:
    """The tokens of a token endpoint's answer (RFC 6749 §5.1), read at ``at``; :class:`PscError` otherwise:
    ``refused`` (``MSS-PSC-009`` or ``010``) for an error answer, ``MSS-PSC-004`` for one that cannot be used.

    A refresh answer without a refresh token keeps ``previous``'s (RFC 6749 §6), and its ID token if none came.
    The ID token is not checked here (see :func:`~mssante.psc.check_id_token`).
    """
    if at.tzinfo is None:
        raise ValueError("at is timezone-aware (UTC)")
    if status != 200:
        error, description = parse_error(status, body, secrets=secrets)
        detail = f"{error}: {description}" if description else error
        raise codes.failure(refused, f"the provider refused ({status}): {detail}", where=where)

    def invalid(reason: str) -> PscError:
        return codes.failure(codes.ANSWER_INVALID, f"the token answer cannot be used: {reason}", where=where)

    document = read_object(body, invalid=invalid)
    access = document.get("access_token")
    if not isinstance(access, str) or not access or not access.isascii() or not access.isprintable():
        raise invalid("no access_token")
    kind = document.get("token_type")
    if not isinstance(kind, str) or kind.lower() != "bearer":
        raise invalid(f"token_type {str(kind)[:40]!r} is not Bearer")
    expires_in = document.get("expires_in", DEFAULT_LIFETIME)
    if isinstance(expires_in, bool) or not isinstance(expires_in, (int, float)) or not 0 < expires_in <= MAX_LIFETIME:
        raise invalid(f"expires_in {str(expires_in)[:40]!r} is not a number of seconds in (0, {MAX_LIFETIME}]")
    refresh = document.get("refresh_token")
    if refresh is not None and not (isinstance(refresh, str) and refresh):
        raise invalid("refresh_token is not a string")
    id_token = document.get("id_token")
    if id_token is not None and not (isinstance(id_token, str) and id_token):
        raise invalid("id_token is not a string")
    scope = document.get("scope")
    if scope is not None and not isinstance(scope, str):
        raise invalid("scope is not a string")
    if previous is not None:
        refresh = refresh or previous.refresh_token
        id_token = id_token or previous.id_token
        scope = scope if scope is not None else previous.scope
    return TokenSet(
        access_token=access,
        expires_at=at + dt.timedelta(seconds=float(expires_in)),
        issued_at=at,
        refresh_token=refresh,
        id_token=id_token,
        scope=scope or "",
        subject=previous.subject if previous is not None else None,
        claims=previous.claims if previous is not None else {},
    )

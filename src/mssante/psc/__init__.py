"""Pro Santé Connect (PSC): getting and keeping the access token a vendor's software sends its operator (XOAUTH2).

- :class:`PscClient` (and :class:`AsyncPscClient`, its asyncio twin): the provider (discovery, key set, token
  endpoint) over HTTPS, each request within a deadline and a size bound; the client authenticates with a secret
  or with mutual TLS (RFC 8705 ``tls_client_auth``).
- :func:`login`: the authorization-code flow with PKCE through a loopback redirect (RFC 8252);
  :meth:`PscClient.ciba`: the back-channel flow (OpenID Connect CIBA, poll mode) when the provider offers it.
- :class:`TokenSource`: the token for :class:`~mssante.transport.Submission`,
  :class:`~mssante.transport.AsyncSubmission` and the mailboxes (``token=source``; :class:`AsyncTokenSource` for
  asyncio), refreshed before it expires;
  when a refresh fails it ends, and so do the sessions using it (SC.MSS/CONF.10). Tokens are never written to disk
  unless the caller gives a :class:`TokenStore` (the refresh token only), never shown in a repr, an error or a log.
- The pure rules: :func:`parse_metadata`, :func:`parse_token_answer`, :func:`check_id_token` (OpenID Connect Core
  1.0 §3.1.3.7, signatures by joserfc), :func:`authorization_request` (PKCE S256); codes in :mod:`mssante.psc.codes`.
"""

from typing import TYPE_CHECKING

from mssante._lazy import lazy
from mssante.psc import codes  # noqa: F401 - the MSS-PSC codes are declared when the package is imported
from mssante.psc._errors import PscError

if TYPE_CHECKING:
    from mssante.psc._async._client import AsyncPscClient
    from mssante.psc._async_source import AsyncTokenSource
    from mssante.psc._ending import MemoryTokenStore, TokenStore
    from mssante.psc._idtoken import check_id_token, read_key_set
    from mssante.psc._login import login
    from mssante.psc._metadata import ProviderMetadata, parse_metadata
    from mssante.psc._requests import AuthMethod, AuthorizationRequest, authorization_request
    from mssante.psc._source import TokenSource
    from mssante.psc._sync._client import DEFAULT_MAX_BYTES, DEFAULT_MAX_DURATION, PscClient
    from mssante.psc._tokens import TokenSet, parse_token_answer

if not TYPE_CHECKING:
    __getattr__, __dir__ = lazy(
        __name__,
        globals(),
        {
            "AsyncPscClient": "mssante.psc._async._client",
            "DEFAULT_MAX_BYTES": "mssante.psc._sync._client",
            "DEFAULT_MAX_DURATION": "mssante.psc._sync._client",
            "PscClient": "mssante.psc._sync._client",
            "check_id_token": "mssante.psc._idtoken",
            "read_key_set": "mssante.psc._idtoken",
            "login": "mssante.psc._login",
            "ProviderMetadata": "mssante.psc._metadata",
            "parse_metadata": "mssante.psc._metadata",
            "AuthMethod": "mssante.psc._requests",
            "AuthorizationRequest": "mssante.psc._requests",
            "authorization_request": "mssante.psc._requests",
            "AsyncTokenSource": "mssante.psc._async_source",
            "MemoryTokenStore": "mssante.psc._ending",
            "TokenSource": "mssante.psc._source",
            "TokenStore": "mssante.psc._ending",
            "TokenSet": "mssante.psc._tokens",
            "parse_token_answer": "mssante.psc._tokens",
        },
    )

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_DURATION",
    "AsyncPscClient",
    "AsyncTokenSource",
    "AuthMethod",
    "AuthorizationRequest",
    "MemoryTokenStore",
    "ProviderMetadata",
    "PscClient",
    "PscError",
    "TokenSet",
    "TokenSource",
    "TokenStore",
    "authorization_request",
    "check_id_token",
    "login",
    "parse_metadata",
    "parse_token_answer",
    "read_key_set",
]

"""The I/O layer: every HTTP download of the SDK and its TLS, over the pure rules of the packages below.

- :class:`CrlFetcher` / :class:`AsyncCrlFetcher`: CRLs and OCSP responses (:mod:`mssante.pki` decides what to
  fetch and keeps the cache); :class:`AllowListFetcher` / :class:`AsyncAllowListFetcher`: the ANS allow-list
  (:mod:`mssante.trustspace`); :class:`DirectoryClient` / :class:`AsyncDirectoryClient` and
  :class:`MailboxPublisher` / :class:`AsyncMailboxPublisher`: the directory's FHIR API (:mod:`mssante.directory`).
- :func:`client_context`, :func:`server_context`, :func:`check_peer`, :data:`TLS12_CIPHERS`: TLS with IGC Santé
  anchors only, for the downloads and the transport layer.
- :func:`exchange` / :func:`aexchange`: one request within a byte bound and a wall-clock :class:`Deadline` that a
  trickling peer cannot stretch, giving an :class:`Answer`; :func:`attempt` / :func:`aattempt` give a
  :class:`Failure` instead of raising. :func:`conditional_headers` re-validates a cached download.

The async shells are the source; their sync twins (``mssante.net._sync``) are generated from them by
``scripts/unasync``. The same names stay public from the packages whose rules they serve (``mssante.pki.CrlFetcher``,
...), imported there lazily.
"""

from mssante.net._async._allowlist import AsyncAllowListFetcher
from mssante.net._async._directory import AsyncDirectoryClient
from mssante.net._async._exchange import AsyncClientOwner
from mssante.net._async._exchange import attempt as aattempt
from mssante.net._async._exchange import exchange as aexchange
from mssante.net._async._publisher import AsyncMailboxPublisher
from mssante.net._async._revocation import AsyncCrlFetcher
from mssante.net._directory import API_KEY_ENV, RateLimiter, retry_after_seconds
from mssante.net._http import (
    CHUNK,
    DEFAULT_MAX_DURATION,
    DEFAULT_TIMEOUT,
    HTTPX_ERRORS,
    Answer,
    BoundedBody,
    Deadline,
    DownloadRefused,
    Exchange,
    Failure,
    check_seconds,
    conditional_headers,
)
from mssante.net._sync._allowlist import AllowListFetcher
from mssante.net._sync._directory import DirectoryClient
from mssante.net._sync._exchange import ClientOwner, attempt, exchange
from mssante.net._sync._publisher import MailboxPublisher
from mssante.net._sync._revocation import CrlFetcher
from mssante.net._tls import TLS12_CIPHERS, check_peer, client_context, presented_chain, server_context

__all__ = [
    "API_KEY_ENV",
    "CHUNK",
    "DEFAULT_MAX_DURATION",
    "DEFAULT_TIMEOUT",
    "HTTPX_ERRORS",
    "TLS12_CIPHERS",
    "AllowListFetcher",
    "Answer",
    "AsyncAllowListFetcher",
    "AsyncClientOwner",
    "AsyncCrlFetcher",
    "AsyncDirectoryClient",
    "AsyncMailboxPublisher",
    "BoundedBody",
    "ClientOwner",
    "CrlFetcher",
    "Deadline",
    "DirectoryClient",
    "DownloadRefused",
    "Exchange",
    "Failure",
    "MailboxPublisher",
    "RateLimiter",
    "aattempt",
    "aexchange",
    "attempt",
    "check_peer",
    "check_seconds",
    "client_context",
    "conditional_headers",
    "exchange",
    "presented_chain",
    "retry_after_seconds",
    "server_context",
]

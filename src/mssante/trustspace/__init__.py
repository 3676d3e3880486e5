"""The MSSanté trust space: the ANS allow-list ("liste blanche") and the decisions it makes.

An operator may exchange mail only with the domains of the allow-list, and only through the
operator certificates listed for each domain. :class:`AllowList` reads the ANS XML (strictly:
a truncated or malformed document is refused whole), and answers with a :class:`Decision`:
:meth:`~AllowList.check_domain`, :meth:`~AllowList.check_operator` (a certificate subject,
compared by value as an :class:`OperatorDn`), and :meth:`~AllowList.authorise_peer` (the
subject listed **and** the certificate valid for IGC Santé), with its inbound and outbound
forms. :class:`AllowListFetcher` (and its async twin) download the list over HTTPS trusting
IGC Santé only, into an :class:`AllowListCache` that keeps the last good list; :func:`diff`
compares two lists; :func:`postfix_tls_policy` and :func:`postfix_sender_access` make Postfix maps.

The fetchers are I/O shells of :mod:`mssante.net`, re-exported here lazily.
"""

from typing import TYPE_CHECKING

from mssante._lazy import lazy
from mssante.trustspace._allowlist import ALLOWLIST_URL, AllowList, Decision
from mssante.trustspace._diff import AllowListDiff, diff
from mssante.trustspace._dn import OperatorDn
from mssante.trustspace._export import igc_sante_cafile, postfix_sender_access, postfix_tls_policy
from mssante.trustspace._parse import MAX_ALLOWLIST_BYTES, NAMESPACE, Entry
from mssante.trustspace.fetching import (
    MIRROR_CHECKSUM_URL,
    MIRROR_URL,
    AllowListCache,
    AllowListFetchError,
    CachedAllowList,
    FetchResult,
)

if TYPE_CHECKING:
    from mssante.net._async._allowlist import AsyncAllowListFetcher
    from mssante.net._sync._allowlist import AllowListFetcher

if not TYPE_CHECKING:
    __getattr__, __dir__ = lazy(
        __name__,
        globals(),
        {
            "AllowListFetcher": "mssante.net._sync._allowlist",
            "AsyncAllowListFetcher": "mssante.net._async._allowlist",
        },
    )

__all__ = [
    "ALLOWLIST_URL",
    "MAX_ALLOWLIST_BYTES",
    "MIRROR_CHECKSUM_URL",
    "MIRROR_URL",
    "NAMESPACE",
    "AllowList",
    "AllowListCache",
    "AllowListDiff",
    "AllowListFetchError",
    "AllowListFetcher",
    "AsyncAllowListFetcher",
    "CachedAllowList",
    "Decision",
    "Entry",
    "FetchResult",
    "OperatorDn",
    "diff",
    "igc_sante_cafile",
    "postfix_sender_access",
    "postfix_tls_policy",
]

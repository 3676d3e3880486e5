"""IGC Santé trust: is this certificate acceptable for this use, now, and whose is it?

- :class:`TrustStore`: the anchors of one environment (``prod`` or ``test``), pinned by fingerprint;
  :meth:`TrustStore.bundled` gives the IGC Santé hierarchy shipped with mssante, and
  :meth:`TrustStore.with_published_cas` adds the CA files ANS publishes that it does not ship (TEST FORT),
  each checked against its pin in :data:`IGC_SANTE_CAS` (:class:`PublishedCa`).
- :func:`load_certificates`, :func:`load_certificate`, :func:`load_pkcs12`: PEM, DER, PKCS#7, PKCS#12.
- :func:`verify`: chain, time, host name, key usage, :class:`Profile` and revocation for a
  :class:`Purpose`, as a :class:`CertificateReport`; :func:`describe` reads a certificate unverified.
- :func:`identify`: the holder (:class:`Identity`): structure and person identifiers, names, profession.
- :class:`RevocationChecker` (pure) with CRLs and OCSP responses; :class:`CrlFetcher` and
  :class:`AsyncCrlFetcher` download them; :class:`CrlCache` keeps the last valid CRL.
- :func:`client_context`, :func:`server_context`, :func:`check_peer`: TLS for the transport layer.

The fetchers and the TLS contexts are I/O shells of :mod:`mssante.net`, re-exported here lazily: importing
:mod:`mssante.pki` loads no network library until one of them is used.
"""

from typing import TYPE_CHECKING

from mssante._lazy import lazy
from mssante.pki._anchors import BUNDLED_FINGERPRINTS, IGC_SANTE_CAS, PublishedCa, TrustStore, fingerprint
from mssante.pki._crl import DEFAULT_MAX_CRL_BYTES, IndexedCrl
from mssante.pki._identity import Identity, IdentityKind, identify
from mssante.pki._inspect import CertificateDescription, describe
from mssante.pki._load import (
    MAX_CERTIFICATES,
    MAX_INPUT_BYTES,
    Pkcs12Bundle,
    load_certificate,
    load_certificates,
    load_pkcs12,
)
from mssante.pki._path import MAX_CHAIN_DEPTH
from mssante.pki._profiles import CaRole, Profile, ProfileMatch, Purpose, ca_role, match_profiles
from mssante.pki._revocation import RevocationChecker, RevocationResult
from mssante.pki._types import (
    OID_GIP_CPS_2_3,
    OID_PRODUCT_CATEGORY,
    OID_PRODUCT_TYPE,
    OID_PROFESSION,
    TEST_POLICY_OID,
    CertStatus,
    Environment,
    RevocationMode,
)
from mssante.pki._verify import CertificateReport, verify
from mssante.pki.fetching import CrlCache, RevocationFetchError

if TYPE_CHECKING:
    from mssante.net._async._revocation import AsyncCrlFetcher
    from mssante.net._sync._revocation import CrlFetcher
    from mssante.net._tls import TLS12_CIPHERS, check_peer, client_context, server_context

if not TYPE_CHECKING:
    __getattr__, __dir__ = lazy(
        __name__,
        globals(),
        {
            "AsyncCrlFetcher": "mssante.net._async._revocation",
            "CrlFetcher": "mssante.net._sync._revocation",
            "TLS12_CIPHERS": "mssante.net._tls",
            "check_peer": "mssante.net._tls",
            "client_context": "mssante.net._tls",
            "server_context": "mssante.net._tls",
        },
    )

__all__ = [
    "BUNDLED_FINGERPRINTS",
    "DEFAULT_MAX_CRL_BYTES",
    "IGC_SANTE_CAS",
    "MAX_CERTIFICATES",
    "MAX_CHAIN_DEPTH",
    "MAX_INPUT_BYTES",
    "OID_GIP_CPS_2_3",
    "OID_PRODUCT_CATEGORY",
    "OID_PRODUCT_TYPE",
    "OID_PROFESSION",
    "TEST_POLICY_OID",
    "TLS12_CIPHERS",
    "AsyncCrlFetcher",
    "CaRole",
    "CertStatus",
    "CertificateDescription",
    "CertificateReport",
    "CrlCache",
    "CrlFetcher",
    "Environment",
    "Identity",
    "IdentityKind",
    "IndexedCrl",
    "Pkcs12Bundle",
    "Profile",
    "ProfileMatch",
    "PublishedCa",
    "Purpose",
    "RevocationChecker",
    "RevocationFetchError",
    "RevocationMode",
    "RevocationResult",
    "TrustStore",
    "ca_role",
    "check_peer",
    "client_context",
    "describe",
    "fingerprint",
    "identify",
    "load_certificate",
    "load_certificates",
    "load_pkcs12",
    "match_profiles",
    "server_context",
    "verify",
]

"""Finding codes of revocation checking (``MSS-REV-*``): CRLs, OCSP responses and their download."""

from __future__ import annotations

from mssante.report import Severity, define_code

ERROR, WARNING, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO

# The verdict.
STATUS_UNKNOWN = define_code(
    "MSS-REV-001",
    ERROR,
    "the revocation status is unknown: no fresh, validly signed CRL or OCSP response proves the certificate "
    "not revoked (an error in hard mode, a warning in soft mode)",
)
REVOKED = define_code("MSS-REV-002", ERROR, "the certificate is revoked")
NOT_CHECKED = define_code("MSS-REV-003", INFO, "revocation checking is off: the status was not checked")
GOOD = define_code(
    "MSS-REV-004", INFO, "the certificate is not revoked according to a fresh, validly signed CRL or OCSP response"
)
NO_SOURCE = define_code("MSS-REV-005", INFO, "no CRL and no OCSP response of the certificate's issuer was available")
WRONG_ISSUER = define_code(
    "MSS-REV-006", WARNING, "the issuer certificate given is not the one named as issuer in the certificate"
)

# CRLs.
CRL_UNREADABLE = define_code(
    "MSS-REV-007", ERROR, "the CRL cannot be read: not PEM or DER, truncated, malformed or over the size limit"
)
CRL_BAD_SIGNATURE = define_code(
    "MSS-REV-008",
    WARNING,
    "the CRL signature does not verify under the issuer's key nor under an accepted CRL signer's key",
)
WEAK_SIGNATURE = define_code(
    "MSS-REV-009",
    WARNING,
    "SHA-1 signature not accepted: a CRL, OCSP response or signer certificate signed with SHA-1 or MD5 proves nothing",
)
CRL_SIGNER_REFUSED = define_code(
    "MSS-REV-010",
    WARNING,
    "a key was refused as CRL signer: a separate CRL signer needs keyUsage cRLSign, the CRL's issuer name, "
    "an SKI equal to the CRL's AKI, a signature by the issuer's key and validity at the time checked; "
    "the issuer itself needs cRLSign when it has a keyUsage",
)
CRL_EXPIRED = define_code(
    "MSS-REV-011", WARNING, "the CRL is past its nextUpdate: it cannot prove a certificate not revoked"
)
CRL_NOT_YET_VALID = define_code(
    "MSS-REV-012", WARNING, "the CRL's thisUpdate is after the time checked, beyond the clock-skew allowance"
)
CRL_TOO_OLD = define_code("MSS-REV-013", WARNING, "the CRL's thisUpdate is older than the maximum age allowed")
CRL_NO_NEXT_UPDATE = define_code(
    "MSS-REV-014",
    WARNING,
    "the CRL has no nextUpdate and no maximum age was set: it cannot prove a certificate not revoked",
)
CRL_OUT_OF_SCOPE = define_code(
    "MSS-REV-015",
    WARNING,
    "the CRL does not cover this certificate (issuing distribution point scope, partial or indirect CRL)",
)
CRL_CRITICAL_EXTENSION = define_code(
    "MSS-REV-016", WARNING, "the CRL has a critical extension that is not understood: it is not used"
)
DELTA_IGNORED = define_code("MSS-REV-017", INFO, "a delta CRL was supplied and ignored: only full CRLs are used")
DELTA_NOT_CHECKED = define_code(
    "MSS-REV-018",
    INFO,
    "delta CRL (LDAP) not checked: the certificate names a delta CRL (freshestCRL); only full CRLs are used",
)
REVOKED_LATER = define_code(
    "MSS-REV-019", INFO, "the certificate is listed as revoked from a date after the time checked"
)

# OCSP.
OCSP_UNREADABLE = define_code(
    "MSS-REV-020", ERROR, "the OCSP response cannot be read (not DER, or over the size limit)"
)
OCSP_NOT_SUCCESSFUL = define_code(
    "MSS-REV-021",
    WARNING,
    "the OCSP responder did not answer successful (malformed request, internal error, try later, unauthorized)",
)
OCSP_OTHER_CERTIFICATE = define_code(
    "MSS-REV-022",
    WARNING,
    "the OCSP response is for another certificate: its CertID (issuer name hash, issuer key hash, serial) differs",
)
OCSP_BAD_SIGNATURE = define_code("MSS-REV-023", WARNING, "the OCSP response signature does not verify")
OCSP_UNAUTHORISED = define_code(
    "MSS-REV-024",
    WARNING,
    "the OCSP responder is not authorised: neither the issuing CA nor a responder certificate, included in the "
    "response, issued by that CA, with extended key usage OCSPSigning and valid at the time checked",
)
OCSP_EXPIRED = define_code(
    "MSS-REV-025", WARNING, "the OCSP response is past its nextUpdate: it cannot prove a certificate not revoked"
)
OCSP_NOT_YET_VALID = define_code(
    "MSS-REV-026", WARNING, "the OCSP response's thisUpdate is after the time checked, beyond the clock-skew allowance"
)
OCSP_TOO_OLD = define_code(
    "MSS-REV-027",
    WARNING,
    "the OCSP response has no nextUpdate and is older than the maximum age allowed (or no maximum age was set)",
)
OCSP_UNKNOWN = define_code("MSS-REV-028", WARNING, "the OCSP responder answered unknown for this certificate")

# Fetching.
LDAP_NOT_CHECKED = define_code(
    "MSS-REV-029", INFO, "LDAP distribution point not checked: only http and https CRL URLs are fetched"
)
URL_REFUSED = define_code(
    "MSS-REV-030",
    WARNING,
    "a CRL distribution point or OCSP URL was not used: a scheme other than http, https or ldap, "
    "a relative name, or an indirect CRL issuer",
)
NO_DISTRIBUTION_POINT = define_code("MSS-REV-031", INFO, "the certificate has no CRL distribution point")
DOWNLOAD_FAILED = define_code(
    "MSS-REV-032",
    WARNING,
    "the CRL download failed: network error, timeout, HTTP error status, compressed or oversize body",
)
DOWNLOAD_REFUSED = define_code(
    "MSS-REV-033",
    WARNING,
    "the downloaded CRL was refused (unreadable, bad signature, another issuer, a delta CRL, or older than the "
    "cached one); the last valid CRL is kept",
)
FROM_CACHE = define_code(
    "MSS-REV-034",
    INFO,
    "the CRL was taken from the cache: still fresh, not modified on the server, or the download failed",
)
CACHE_NOT_WRITTEN = define_code(
    "MSS-REV-035", WARNING, "the CRL cache could not be written: the downloaded CRL is used but not kept"
)

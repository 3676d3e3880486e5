"""Finding codes of certificate checks (``MSS-PKI-*``)."""

from __future__ import annotations

from mssante.report import Severity, define_code

ERROR, WARNING, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO

UNREADABLE = define_code("MSS-PKI-001", ERROR, "the input is not a readable certificate (PEM, DER, PKCS#7 or PKCS#12)")
TOO_LARGE = define_code("MSS-PKI-002", ERROR, "the input is larger, or holds more certificates, than a chain can")
WEAK_SIGNATURE = define_code(
    "MSS-PKI-003", ERROR, "the certificate is signed with SHA-1 or another algorithm no longer accepted"
)
UNPARSABLE_EXTENSION = define_code("MSS-PKI-004", ERROR, "an extension of the certificate cannot be parsed")
UNKNOWN_CRITICAL_EXTENSION = define_code(
    "MSS-PKI-005", ERROR, "the certificate has a critical extension this validator does not know"
)
NOT_YET_VALID = define_code("MSS-PKI-006", ERROR, "the certificate is not yet valid at the time of the check")
EXPIRED = define_code("MSS-PKI-007", ERROR, "the certificate has expired at the time of the check")
NO_PATH = define_code(
    "MSS-PKI-008", ERROR, "no chain leads from the certificate to a trusted IGC Santé anchor of this environment"
)
WRONG_ENVIRONMENT = define_code(
    "MSS-PKI-009",
    ERROR,
    "the certificate belongs to the other IGC Santé environment (TEST in production, or the reverse)",
)
HOST_MISMATCH = define_code("MSS-PKI-010", ERROR, "the server certificate does not name the host that was connected to")
EKU_MISSING = define_code("MSS-PKI-011", ERROR, "the extended key usage does not allow this purpose")
KEY_USAGE_MISSING = define_code("MSS-PKI-012", ERROR, "the key usage does not allow this purpose")
PROFILE_MISMATCH = define_code(
    "MSS-PKI-013", ERROR, "the certificate is not of the IGC Santé profile this purpose needs"
)
PROFILE = define_code("MSS-PKI-014", INFO, "the IGC Santé profile the certificate matches")
BAD_STRUCTURE_ID = define_code(
    "MSS-PKI-015", WARNING, "the OU of the subject is not a valid structure identifier (IdNat_Struct)"
)
BAD_PERSON_ID = define_code("MSS-PKI-016", WARNING, "the CN of a person certificate is not a valid IdNat_PS")
PATH_INVALID = define_code("MSS-PKI-017", ERROR, "path validation refused the chain")
NO_HOST = define_code("MSS-PKI-018", ERROR, "a server certificate is checked against a host name, and none was given")
NOT_END_ENTITY = define_code("MSS-PKI-019", ERROR, "the certificate is a CA certificate, not an end-entity certificate")
BAD_PKCS12 = define_code("MSS-PKI-020", ERROR, "the PKCS#12 file cannot be opened (wrong password or damaged)")
TEST_ANCHORS = define_code(
    "MSS-PKI-021", WARNING, "the check trusts the IGC Santé TEST hierarchy: never a production identity"
)
BAD_PRIVATE_EXTENSION = define_code(
    "MSS-PKI-022", WARNING, "an IGC Santé private extension (1.2.250.1.71.1.2.x) does not hold the expected type"
)
CA_NOT_IN_STORE = define_code(
    "MSS-PKI-023",
    ERROR,
    "an IGC Santé CA of the certificate's chain is not in the trust store (mssante does not ship it): the finding "
    "names the file to add and where ANS publishes it (ANS publication of the IGC Santé CA certificates)",
)
CA_REFUSED = define_code(
    "MSS-PKI-024",
    ERROR,
    "a CA certificate given to be trusted is refused: not an IGC Santé CA of this environment that mssante knows, "
    "or not the key mssante pins for it (its SHA-256 fingerprint, or its key identifier, RFC 5280 §4.2.1.2, "
    "as ANS's certificates name it)",
)
NOT_FOR_TLS = define_code(
    "MSS-PKI-025",
    ERROR,
    "the certificate signs or encrypts messages (IGC Santé SIGN or CONF usage: nonRepudiation or keyEncipherment, "
    "emailProtection) and never authenticates TLS, which needs an AUTH_CLI or SSL_SERV certificate "
    "(ANS IGC Santé certificate usages; RFC 5280 §4.2.1.3, §4.2.1.12)",
)

"""Finding codes of the allow-list and its decisions (``MSS-WL-*``)."""

from __future__ import annotations

from mssante.report import Severity, define_code

ERROR, WARNING, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO

UNREADABLE = define_code("MSS-WL-001", ERROR, "the allow-list is not well-formed XML")
TOO_LARGE = define_code("MSS-WL-002", ERROR, "the allow-list is larger than any real one; it is not read")
FORBIDDEN_XML = define_code("MSS-WL-003", ERROR, "the allow-list holds a DTD, an entity or an external reference")
TRUNCATED = define_code("MSS-WL-004", ERROR, "the allow-list is truncated: the document ends before its root closes")
NOT_AN_ALLOWLIST = define_code(
    "MSS-WL-005", ERROR, "the root is not ListeBlancheMSSante in the namespace https://listeblanche.mssante.fr/schema"
)
MISSING_FIELD = define_code("MSS-WL-006", ERROR, "a required element of the allow-list is missing or empty")
BAD_DATE = define_code("MSS-WL-007", ERROR, "a date of the allow-list is not an ISO 8601 time")
BAD_DOMAIN_ENTRY = define_code(
    "MSS-WL-008", WARNING, "an entry's Nom is not a domain name: the entry is kept but allows nothing"
)
BAD_DN_ENTRY = define_code(
    "MSS-WL-009", WARNING, "an entry's DNCertificatOperateur does not parse: the entry is kept but allows nothing"
)
DUPLICATE_ENTRY = define_code("MSS-WL-010", INFO, "the same domain and operator certificate are listed twice")
NOT_LISTED = define_code("MSS-WL-011", ERROR, "the domain is not on the MSSanté allow-list")
LISTED = define_code("MSS-WL-012", INFO, "the domain is on the MSSanté allow-list")
OPERATOR_NOT_LISTED = define_code(
    "MSS-WL-013", ERROR, "the certificate's subject is not an operator certificate listed for the domain"
)
OPERATOR_LISTED = define_code("MSS-WL-014", INFO, "the certificate's subject is listed for the domain")
STALE = define_code("MSS-WL-015", WARNING, "the allow-list is older than the age limit: refresh it")
BAD_DOMAIN = define_code("MSS-WL-016", ERROR, "the domain asked about is not a domain name")
BAD_DN = define_code("MSS-WL-017", ERROR, "the distinguished name does not parse")
NOT_UTF8 = define_code(
    "MSS-WL-018",
    ERROR,
    "the allow-list is not in UTF-8: its byte-order mark, first bytes or XML declaration name another encoding",
)

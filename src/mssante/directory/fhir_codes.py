"""Finding codes of the directory's FHIR API (``MSS-FHIR-*``).

Errors (001 to 004, 010 to 018) are carried by the :class:`~mssante.errors.DirectoryError` a request or a parse
raises; warnings and information (005 to 009, 019) are in the report of a parsed page: what was skipped, and why.
"""

from __future__ import annotations

from mssante.report import Severity, define_code

ERROR = Severity.ERROR
WARNING = Severity.WARNING
INFO = Severity.INFO

# The body of an answer.
NOT_JSON = define_code(
    "MSS-FHIR-001", ERROR, "the body is not JSON the directory could have sent (not UTF-8, malformed, too deep)"
)
TOO_LARGE = define_code("MSS-FHIR-002", ERROR, "the body is larger than the size limit: it was not read further")
NOT_EXPECTED = define_code(
    "MSS-FHIR-003", ERROR, "the body is not the FHIR resource expected (a Bundle, or a Practitioner, ...)"
)
OUTCOME = define_code("MSS-FHIR-004", ERROR, "the directory answered an OperationOutcome with an error")

# What a page holds.
ENTRY_SKIPPED = define_code(
    "MSS-FHIR-005", WARNING, "a Bundle entry or a resource is malformed (wrong types, no id): it is skipped"
)
OTHER_RESOURCE = define_code(
    "MSS-FHIR-006", INFO, "an entry holds a resource other than Practitioner, PractitionerRole or Organization"
)
BAD_ADDRESS = define_code(
    "MSS-FHIR-007", WARNING, "an MSSanté telecom holds a value that is not a valid address: it is skipped"
)
UNKNOWN_TYPE = define_code(
    "MSS-FHIR-008", WARNING, "a mailbox type is not PER, ORG, APP or CAB: the mailbox is kept without a type"
)
BAD_METADATA = define_code("MSS-FHIR-009", WARNING, "a mailbox metadata value has the wrong type: it is ignored")

# The requests.
LINK_REFUSED = define_code(
    "MSS-FHIR-010", ERROR, "a next link leaves the directory's scheme and host, or is not a URL: it is not followed"
)
AUTH = define_code(
    "MSS-FHIR-011", ERROR, "the directory refused the API key (HTTP 401 or 403): missing, wrong or not subscribed"
)
NOT_FOUND = define_code("MSS-FHIR-012", ERROR, "the directory answered 404 Not Found")
RATE_LIMITED = define_code(
    "MSS-FHIR-013", ERROR, "the directory answered 429 Too Many Requests, still after the retries"
)
UNAVAILABLE = define_code(
    "MSS-FHIR-014", ERROR, "the directory answered a server error (5xx), still after the retries for 502, 503, 504"
)
NETWORK = define_code(
    "MSS-FHIR-015", ERROR, "the directory could not be reached or did not answer in time, still after the retries"
)
BAD_REQUEST = define_code(
    "MSS-FHIR-016", ERROR, "the directory refused the request (HTTP 400, 410, 412, ...): its diagnostics say why"
)
NO_API_KEY = define_code("MSS-FHIR-017", ERROR, "no API key: the directory's FHIR API needs one (ESANTE-API-KEY)")
UNEXPECTED_STATUS = define_code(
    "MSS-FHIR-018", ERROR, "the directory answered an HTTP status the client does not follow (a redirection, ...)"
)

# What a resource holds.
DEPARTMENT_CONFLICT = define_code(
    "MSS-FHIR-019",
    WARNING,
    "an address's district (or commune code) names no department, or another one than the department kept (the "
    "commune code's, else the postcode's, else the district's): that value is not kept",
)

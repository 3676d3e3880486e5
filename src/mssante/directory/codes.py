"""Finding codes of the directory (``MSS-DIR-*``).

``MSS-DIR-001`` to ``MSS-DIR-039``: the bulk extraction and the offline index. ``MSS-DIR-040`` to ``MSS-DIR-049``:
the bounds of one query of the FHIR API (:class:`~mssante.directory.DirectoryClient`), carried by the
:class:`~mssante.errors.DirectoryError` that ends the query when one is reached.
"""

from __future__ import annotations

from mssante.report import Severity, define_code

ERROR, WARNING, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO

BAD_HEADER = define_code(
    "MSS-DIR-001",
    ERROR,
    "the file does not start with the 31-column header of the MSSanté extraction (Extraction_Correspondance_MSSante)",
)
EMPTY = define_code("MSS-DIR-002", ERROR, "the extraction file is empty: it has no header line")
FIELD_COUNT = define_code("MSS-DIR-003", WARNING, "a line does not have the 31 fields of the header: it is skipped")
BAD_UTF8 = define_code("MSS-DIR-004", WARNING, "a line is not valid UTF-8: it is skipped")
BAD_ADDRESS = define_code("MSS-DIR-005", WARNING, "a line's BAL address is not a valid MSSanté address: it is skipped")
UNKNOWN_TYPE = define_code("MSS-DIR-006", WARNING, "a line's BAL type is not PER, ORG, APP or CAB: it is skipped")
LINE_TOO_LONG = define_code("MSS-DIR-007", WARNING, "a line is longer than any real extraction line: it is skipped")
MORE_SKIPPED = define_code(
    "MSS-DIR-008", INFO, "more lines were skipped than findings were kept: only the first ones are described"
)
ZIP_NOT_ONE_FILE = define_code(
    "MSS-DIR-009", ERROR, "the extraction ZIP archive does not hold exactly one file with a plain name"
)
ZIP_DAMAGED = define_code(
    "MSS-DIR-010", ERROR, "the extraction file in the ZIP archive cannot be inflated: damaged, or not what it declares"
)
UNREADABLE = define_code("MSS-DIR-011", ERROR, "the extraction file cannot be read")

# The bounds of one query of the FHIR API (DirectoryClient, AsyncDirectoryClient): reached, the query ends.
QUERY_PAGES = define_code(
    "MSS-DIR-040", ERROR, "a query of the directory has more pages than max_pages: no further page is asked"
)
QUERY_ENTRIES = define_code(
    "MSS-DIR-041", ERROR, "a query of the directory holds more records than max_entries: the page past it is not given"
)
QUERY_BYTES = define_code(
    "MSS-DIR-042", ERROR, "the pages of a query of the directory hold more bytes than max_query_bytes: paging stops"
)
QUERY_DURATION = define_code(
    "MSS-DIR-043", ERROR, "a query of the directory took longer than max_query_duration: it stops, without retrying"
)

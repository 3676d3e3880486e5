"""Finding codes of downloading and caching the allow-list (``MSS-WLF-*``).

A download failure is an ``error`` when no cached list can stand in (the fetch then raises), and a ``warning``
when the last good list from the cache is kept.
"""

from __future__ import annotations

from mssante.report import Severity, define_code

ERROR, WARNING, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO

DOWNLOADED = define_code("MSS-WLF-001", INFO, "a new allow-list was downloaded, parsed and accepted")
NOT_MODIFIED = define_code(
    "MSS-WLF-002", INFO, "the server answered 304 Not Modified: the cached allow-list is still the published one"
)
UNCHANGED = define_code("MSS-WLF-003", INFO, "the downloaded allow-list is the same document as the cached one")
HTTP_ERROR = define_code("MSS-WLF-004", ERROR, "the server answered an HTTP status other than 200 or 304")
DOWNLOAD_FAILED = define_code(
    "MSS-WLF-005",
    ERROR,
    "the download failed: connection, TLS (a server certificate the IGC Santé anchors do not trust), protocol "
    "error, a compressed body or a redirection away from https",
)
TIMEOUT = define_code("MSS-WLF-006", ERROR, "the download timed out (per operation or overall)")
OVERSIZE = define_code("MSS-WLF-007", ERROR, "the body is larger than the size limit: it was not read further")
BODY_REFUSED = define_code(
    "MSS-WLF-008", ERROR, "the downloaded document is not a whole, valid allow-list: it is refused"
)
CHECKSUM_MISMATCH = define_code(
    "MSS-WLF-009", ERROR, "the downloaded document's SHA-256 is not the one expected: it is refused"
)
FROM_CACHE = define_code(
    "MSS-WLF-010", WARNING, "the last good allow-list from the cache is used: the download gave no usable list"
)
CACHE_DAMAGED = define_code(
    "MSS-WLF-011", WARNING, "the allow-list cache is damaged (unreadable, altered or not an allow-list): it is ignored"
)
CACHE_NOT_WRITTEN = define_code(
    "MSS-WLF-012", WARNING, "the allow-list cache could not be written: the downloaded list is used but not kept"
)
OLDER_THAN_CACHED = define_code(
    "MSS-WLF-013", ERROR, "the downloaded allow-list was generated before the cached one: it is refused"
)
BAD_CHECKSUM_FILE = define_code(
    "MSS-WLF-014", ERROR, "the checksum file does not start with a hexadecimal SHA-256 (64 digits)"
)
URL_REFUSED = define_code("MSS-WLF-015", ERROR, "the URL is not https: the allow-list is fetched over https only")

"""Finding codes of untrusted MIME messages (``MSS-MIME-*``).

Codes 001 to 010 are refusals: :func:`~mssante.message.parse_mime` raises
:class:`~mssante.errors.InvalidInput` with one of them. Every other code is a finding on the parsed message.
"""

from __future__ import annotations

from mssante.report import Severity, define_code

ERROR = Severity.ERROR
WARNING = Severity.WARNING
INFO = Severity.INFO

# Refusals: the input is not read further.
NOT_A_MESSAGE = define_code(
    "MSS-MIME-001", ERROR, "the input is not a MIME message: it is empty or has no header field before its body"
)
TOO_LARGE = define_code("MSS-MIME-002", ERROR, "the message is larger than the size limit; it is not read")
TOO_MANY_LINES = define_code("MSS-MIME-003", ERROR, "the message has more lines than the limit; it is not read")
TOO_MANY_PARTS = define_code("MSS-MIME-004", ERROR, "the message has more MIME parts than the limit")
TOO_DEEP = define_code("MSS-MIME-005", ERROR, "MIME parts or attached messages are nested deeper than the limit")
TOO_MANY_HEADERS = define_code("MSS-MIME-006", ERROR, "a MIME part has more header fields than the limit")
HEADER_TOO_LONG = define_code("MSS-MIME-007", ERROR, "a header field is longer than the limit")
TOO_MANY_PARAMETERS = define_code(
    "MSS-MIME-008", ERROR, "a Content-* header has more parameters (semicolons) than the limit"
)
DECODED_TOO_LARGE = define_code(
    "MSS-MIME-009", ERROR, "the decoded contents of the parts pass the message's decoding budget (max_decoded_bytes)"
)
UNREADABLE = define_code("MSS-MIME-010", ERROR, "the standard library's parser failed on the message")

# Findings on a message that was read.
HEADER_INJECTION = define_code(
    "MSS-MIME-011",
    ERROR,
    "a header value holds CR, LF, NUL or another line break once decoded (an injection attempt): removed",
)
EIGHT_BIT_HEADER = define_code(
    "MSS-MIME-012", WARNING, "a header holds raw 8-bit bytes instead of RFC 2047 encoded words"
)
DUPLICATE_HEADER = define_code(
    "MSS-MIME-013", ERROR, "a header that may appear once appears more than once: readers may disagree on its value"
)
MIME_VERSION = define_code("MSS-MIME-014", WARNING, "MIME-Version is missing or is not 1.0")
MISSING_HEADER = define_code("MSS-MIME-015", WARNING, "a header every message must have (From, Date) is missing")
MISSING_BOUNDARY = define_code(
    "MSS-MIME-016", ERROR, "a multipart has no boundary parameter: its body is read as one opaque part"
)
STRUCTURE = define_code(
    "MSS-MIME-017",
    WARNING,
    "the MIME structure is damaged (a boundary not found, no blank line after the headers): read as far as it goes",
)
INVALID_CONTENT_TYPE = define_code(
    "MSS-MIME-018", WARNING, "Content-Type is not a valid type/subtype: the part is read as text/plain (RFC 2045)"
)
UNKNOWN_CHARSET = define_code(
    "MSS-MIME-019", WARNING, "a charset is unknown: the text is decoded as UTF-8, with replacement characters"
)
UNDECODABLE_TEXT = define_code(
    "MSS-MIME-020", WARNING, "text does not decode with its charset: the bad bytes become replacement characters"
)
MISSING_CHARSET = define_code(
    "MSS-MIME-021", WARNING, "8-bit text has no charset: it is decoded as UTF-8 if it can be, else as Windows-1252"
)
BROKEN_BASE64 = define_code(
    "MSS-MIME-022", WARNING, "base64 data is damaged (bad characters, padding or length): what could be decoded is kept"
)
BROKEN_QUOTED_PRINTABLE = define_code(
    "MSS-MIME-023", WARNING, "quoted-printable data holds an invalid '=' escape: it is kept as is"
)
UNKNOWN_TRANSFER_ENCODING = define_code(
    "MSS-MIME-024", WARNING, "a Content-Transfer-Encoding is unknown: the part's data is kept undecoded"
)
ADDRESS_AMBIGUOUS = define_code(
    "MSS-MIME-025",
    ERROR,
    "an address header reads differently to different parsers (CVE-2023-27043 shape): no mailbox is taken from it",
)
ADDRESS_INVALID = define_code(
    "MSS-MIME-026", WARNING, "an address header does not follow RFC 5322: its invalid entries are left out"
)
ADDRESS_DECEPTIVE = define_code(
    "MSS-MIME-027", WARNING, "a mailbox is built to look like another address (display name or quoted local part)"
)
ADDRESS_NOT_PARSED = define_code(
    "MSS-MIME-028", WARNING, "an address header is beyond the address parsing budget: no mailbox is taken from it"
)
PARAMETER_AMBIGUOUS = define_code(
    "MSS-MIME-029",
    ERROR,
    "a MIME parameter (filename, charset, boundary, ...) is given twice with different values: the first is used",
)
BAD_PARAMETER = define_code("MSS-MIME-030", WARNING, "the parameters of a MIME header cannot be read: they are ignored")
DATE_INVALID = define_code("MSS-MIME-031", WARNING, "the Date header is not an RFC 5322 date")
MESSAGE_ID_INVALID = define_code(
    "MSS-MIME-032", WARNING, "a Message-ID, In-Reply-To or References header holds no valid <msg-id>"
)
FILENAME_UNSAFE = define_code(
    "MSS-MIME-033",
    WARNING,
    "a file name held folders, control or bidirectional characters: it is reduced to a safe base name",
)
BARE_CR = define_code(
    "MSS-MIME-034", WARNING, "a bare CR ends a header line: parsers disagree on where such a header ends"
)
ENCODED_MESSAGE = define_code(
    "MSS-MIME-035",
    WARNING,
    "an attached message has a base64 or quoted-printable encoding, which RFC 2046 forbids: it is decoded first",
)
UNKNOWN_DISPOSITION = define_code(
    "MSS-MIME-036", INFO, "Content-Disposition is neither inline nor attachment: the part is an attachment (RFC 2183)"
)
EMBEDDED_UNREADABLE = define_code("MSS-MIME-037", WARNING, "an attached message (message/rfc822) holds no message")
FINDINGS_TRUNCATED = define_code(
    "MSS-MIME-038", INFO, "the message has more findings than are listed: the rest are counted only"
)

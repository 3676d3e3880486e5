"""Finding codes of untrusted ZIP archives (``MSS-ZIP-*``)."""

from __future__ import annotations

from mssante.report import Severity, define_code

ERROR = Severity.ERROR

NOT_A_ZIP = define_code(
    "MSS-ZIP-001",
    ERROR,
    "the input is not a readable ZIP archive: not a ZIP, truncated, or a corrupt central directory",
)
ARCHIVE_TOO_LARGE = define_code("MSS-ZIP-002", ERROR, "the archive is larger than the size limit; it is not read")
TOO_MANY_ENTRIES = define_code("MSS-ZIP-003", ERROR, "the archive holds more entries than the limit")
ENTRY_TOO_LARGE = define_code("MSS-ZIP-004", ERROR, "an entry is larger, uncompressed, than the per-entry limit")
TOTAL_TOO_LARGE = define_code("MSS-ZIP-005", ERROR, "the entries together are larger, uncompressed, than the limit")
RATIO_TOO_HIGH = define_code(
    "MSS-ZIP-006",
    ERROR,
    "an entry, or the entries together, expand more than the ratio limit allows: the shape of a decompression bomb",
)
ABSOLUTE_PATH = define_code("MSS-ZIP-007", ERROR, "an entry name is an absolute path")
TRAVERSAL = define_code("MSS-ZIP-008", ERROR, "an entry name has a '..' component that escapes the archive")
BACKSLASH = define_code("MSS-ZIP-009", ERROR, "an entry name uses backslashes as folder separators")
BAD_CHARACTER = define_code(
    "MSS-ZIP-010",
    ERROR,
    "an entry name is empty or holds a control character, a line separator or a bidirectional control (U+202E...)",
)
NAME_TOO_LONG = define_code("MSS-ZIP-011", ERROR, "an entry name is longer than the limit")
LINK = define_code("MSS-ZIP-012", ERROR, "an entry is a symbolic link or a special file, not a regular file or folder")
ENCRYPTED = define_code("MSS-ZIP-013", ERROR, "an entry is encrypted")
DUPLICATE = define_code(
    "MSS-ZIP-014",
    ERROR,
    "two entries name the same file, exactly or as Windows and macOS see names: case, Unicode normalisation and "
    "the dots and spaces that end a component ignored",
)
UNSUPPORTED = define_code(
    "MSS-ZIP-015", ERROR, "an entry uses a compression method other than stored (0) or deflate (8)"
)
INCONSISTENT = define_code(
    "MSS-ZIP-016", ERROR, "an entry's headers disagree: sizes, CRC-32, method, encryption or name"
)
OVERLAP = define_code(
    "MSS-ZIP-017", ERROR, "entries overlap each other or the central directory: a zip-bomb construction"
)
SIZE_MISMATCH = define_code(
    "MSS-ZIP-018", ERROR, "an entry decompresses to another size than its header declares: the header lies"
)
CORRUPT_DATA = define_code("MSS-ZIP-019", ERROR, "an entry's data is damaged: bad CRC-32 or a broken compressed stream")
TARGET_EXISTS = define_code("MSS-ZIP-020", ERROR, "extraction refused: the target file already exists")
TARGET_ESCAPES = define_code(
    "MSS-ZIP-021", ERROR, "extraction refused: the target is outside the folder or reached through a symbolic link"
)
EXTRACT_FAILED = define_code("MSS-ZIP-022", ERROR, "extraction failed: the file system refused to write an entry")
BUDGET_EXHAUSTED = define_code(
    "MSS-ZIP-023",
    ERROR,
    "reading the entry (or the central directory) would pass the decoding budget, shared with the message that "
    "carried the archive: it is not inflated",
)
DIRECTORY_MISMATCH = define_code(
    "MSS-ZIP-024",
    ERROR,
    "the end-of-central-directory record counts other entries than the central directory holds: tools would disagree",
)

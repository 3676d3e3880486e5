"""Finding codes of delivery tracking (``MSS-TRK-*``): what observing a returned mail found."""

from __future__ import annotations

from mssante.report import Severity, define_code

ERROR, WARNING, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO

NOT_A_NOTIFICATION = define_code(
    "MSS-TRK-001", INFO, "the mail is neither a DSN (RFC 3464) nor an MDN (RFC 8098): nothing to track"
)
UNREADABLE = define_code(
    "MSS-TRK-002", ERROR, "the mail, or the DSN or MDN block it carries, cannot be read: nothing was recorded"
)
NO_REFERENCE = define_code(
    "MSS-TRK-003",
    WARNING,
    "the notification names no original message (no Original-Envelope-Id, returned Message-ID or Original-Message-ID)",
)
UNKNOWN_MESSAGE = define_code("MSS-TRK-004", WARNING, "the notification is about a message that is not tracked")
UNKNOWN_RECIPIENT = define_code(
    "MSS-TRK-005", WARNING, "the notification is about a recipient the tracked message was not sent to"
)
DUPLICATE = define_code("MSS-TRK-006", INFO, "the same notification was already observed: nothing changes")
CONFLICT = define_code(
    "MSS-TRK-007",
    WARNING,
    "the notification contradicts the recipient's status (read and failed): the stronger status stays",
)
LATE = define_code("MSS-TRK-008", INFO, "the notification came after the recipient had expired: its status is updated")

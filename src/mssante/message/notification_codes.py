"""Finding codes of acknowledgements: MDN blocks (``MSS-MDN-*``) and DSN blocks (``MSS-DSN-*``)."""

from __future__ import annotations

from mssante.report import Severity, define_code

ERROR = Severity.ERROR
WARNING = Severity.WARNING

# message/disposition-notification (RFC 8098, CI-SIS volet)
MDN_TOO_LARGE = define_code("MSS-MDN-001", ERROR, "the disposition-notification block is larger than the limit")
MDN_TOO_MANY_FIELDS = define_code(
    "MSS-MDN-002", ERROR, "the disposition-notification block has more fields than the limit"
)
MDN_BAD_LINE = define_code(
    "MSS-MDN-003", ERROR, "a line is neither a 'Name: value' field nor the folded continuation of one"
)
MDN_CONTROL = define_code(
    "MSS-MDN-004",
    ERROR,
    "the block holds a control character (NUL, VT, FF, NEL, U+2028, other C0 or C1) that has no place in it",
)
MDN_MISSING = define_code(
    "MSS-MDN-005", ERROR, "a required field is missing: Disposition and Final-Recipient (RFC 8098)"
)
MDN_BAD_DISPOSITION = define_code(
    "MSS-MDN-006",
    ERROR,
    "the Disposition field is not 'action-mode/sending-mode; type[/modifier]' with the values of RFC 8098",
)
MDN_REPEATED = define_code("MSS-MDN-007", ERROR, "a field that may appear once appears more than once")
MDN_EMPTY = define_code("MSS-MDN-008", ERROR, "a field that needs a value is empty")
# MSS-MDN-009 (a report without its block) is declared in _report_reading.
MDN_NEEDS_CONFIRMATION = define_code(
    "MSS-MDN-010",
    ERROR,
    "an MDN is not sent automatically when Disposition-Notification-To differs from Return-Path, when there is no "
    "Return-Path, or when it names several addresses: the user confirms it first (RFC 8098 §2.1; CI-SIS volet "
    "'Transmission au LPS d'un document CDA provenant d'un courriel MSSanté', struct-msg-mdn)",
)
MDN_FIELDS_IN_HEADER = define_code(
    "MSS-MDN-011",
    WARNING,
    "the disposition-notification fields follow the part's Content-Type with no blank line, so MIME reads them as "
    "the part's header: read there, as the CI-SIS volet's own example writes them (struct-msg-mdn; RFC 2046 §5.1.1 "
    "wants the blank line)",
)

# message/delivery-status (RFC 3464)
DSN_TOO_LARGE = define_code("MSS-DSN-001", ERROR, "the delivery-status block is larger than the limit")
DSN_TOO_MANY_RECIPIENTS = define_code(
    "MSS-DSN-002", ERROR, "the delivery-status block has more recipients than the limit"
)
DSN_TOO_MANY_FIELDS = define_code(
    "MSS-DSN-003", ERROR, "a group of the delivery-status block has more fields than the limit"
)
DSN_BAD_LINE = define_code(
    "MSS-DSN-004", ERROR, "a line is neither a 'Name: value' field nor the folded continuation of one"
)
DSN_CONTROL = define_code(
    "MSS-DSN-005",
    ERROR,
    "the block holds a control character (NUL, VT, FF, NEL, U+2028, other C0 or C1) that has no place in it",
)
DSN_NO_REPORTING_MTA = define_code(
    "MSS-DSN-006", ERROR, "the per-message group has no Reporting-MTA field (RFC 3464 §2.2)"
)
DSN_NO_RECIPIENT = define_code("MSS-DSN-007", ERROR, "the block has no per-recipient group after the per-message one")
DSN_MISSING = define_code(
    "MSS-DSN-008", ERROR, "a recipient group lacks a required field: Final-Recipient, Action and Status (RFC 3464 §2.3)"
)
DSN_BAD_ACTION = define_code(
    "MSS-DSN-009", ERROR, "the Action field is not one of failed, delayed, delivered, relayed, expanded"
)
DSN_BAD_STATUS = define_code("MSS-DSN-010", ERROR, "the Status field is not a class.subject.detail code (RFC 3463)")
DSN_BAD_DATE = define_code("MSS-DSN-011", ERROR, "a date field is not an RFC 5322 date-time")
DSN_REPEATED = define_code("MSS-DSN-012", ERROR, "a field that may appear once in its group appears more than once")
DSN_EMPTY = define_code("MSS-DSN-013", ERROR, "a field that needs a value is empty")

"""The content types of delivery reports (DSN) and read receipts (MDN), in one place for the whole SDK.

A ``multipart/report`` (RFC 6522) carries its machine-readable block in a part of one of these types, and names
the kind of report in its ``report-type`` parameter. RFC 6533 adds the ``global`` form of each (UTF-8 allowed in
the block) beside the RFC 3464 and RFC 8098 ones: a reader that knows only the older types loses every report an
SMTPUTF8 system sends. The parser (:func:`mssante.message.parse`), the notifications module and the tracker
(:mod:`mssante.tracking`) decide what a part or a report is with these constants only.
"""

from __future__ import annotations

from typing import Literal

__all__ = [
    "DSN_REPORT_TYPES",
    "DSN_TYPES",
    "MDN_REPORT_TYPES",
    "MDN_TYPES",
    "REPORT_TYPES",
    "ReportKind",
    "block_kind",
    "report_kind",
]

ReportKind = Literal["dsn", "mdn"]

DSN_TYPES = frozenset({"message/delivery-status", "message/global-delivery-status"})
"""The content types of a DSN's block: ``message/delivery-status`` (RFC 3464 §2.1) and its UTF-8 form
``message/global-delivery-status`` (RFC 6533 §6.1)."""
MDN_TYPES = frozenset({"message/disposition-notification", "message/global-disposition-notification"})
"""The content types of an MDN's block: ``message/disposition-notification`` (RFC 8098 §3.1) and its UTF-8 form
``message/global-disposition-notification`` (RFC 6533 §6.3)."""
REPORT_TYPES = DSN_TYPES | MDN_TYPES
"""Every content type of a DSN or MDN block."""

DSN_REPORT_TYPES = frozenset({"delivery-status", "global-delivery-status"})
"""The ``report-type`` values of a ``multipart/report`` that carries a DSN (RFC 3464 §2, RFC 6533 §6)."""
MDN_REPORT_TYPES = frozenset({"disposition-notification", "global-disposition-notification"})
"""The ``report-type`` values of a ``multipart/report`` that carries an MDN (RFC 8098 §3, RFC 6533 §6)."""


def block_kind(content_type: str) -> ReportKind | None:
    """``dsn`` or ``mdn`` for the content type of a report's block (any case, parameters ignored), else None."""
    value = content_type.split(";", 1)[0].strip().lower()
    if value in DSN_TYPES:
        return "dsn"
    return "mdn" if value in MDN_TYPES else None


def report_kind(report_type: str) -> ReportKind | None:
    """``dsn`` or ``mdn`` for the ``report-type`` parameter of a ``multipart/report`` (any case), else None."""
    value = report_type.strip().lower()
    if value in DSN_REPORT_TYPES:
        return "dsn"
    return "mdn" if value in MDN_REPORT_TYPES else None

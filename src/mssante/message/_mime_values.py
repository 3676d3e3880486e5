"""What a parse of a MIME message gives: :class:`MimeMessage` and its leaf parts, :class:`Part`."""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any

import attrs

from mssante.message._decoding import safe_filename, text_of
from mssante.message._limits import DEFAULT_LIMITS, SHOWN, Spending
from mssante.message._mail_addresses import MailAddress, read_mailboxes
from mssante.report import Finding, Report

__all__ = ["CONTENT_TYPE", "MimeMessage", "Part"]

_NAME = r"[!#$%&'*+\-.^_`|~0-9a-z]+"  # an RFC 2045 token, lower-case
CONTENT_TYPE = re.compile(rf"{_NAME}/{_NAME}")
"""A ``type/subtype``, lower-case."""
_PATH = re.compile(r"[1-9][0-9]*(?:\.[1-9][0-9]*)*")


def _part_path(_instance: object, _attribute: object, value: str) -> None:
    if not _PATH.fullmatch(value):
        raise ValueError(f"{value[:SHOWN]!r} is not a MIME part number such as 1 or 2.1")


def _content_type_syntax(_instance: object, _attribute: object, value: str) -> None:
    if not CONTENT_TYPE.fullmatch(value):
        raise ValueError(f"{value[:SHOWN]!r} is not a lower-case type/subtype")


def _safe_name(_instance: object, _attribute: object, value: str | None) -> None:
    if value is not None and safe_filename(value) != value:
        raise ValueError(f"{value[:SHOWN]!r} is not a safe base name")


def _frozen_mapping(value: Mapping[str, str]) -> Mapping[str, str]:
    return MappingProxyType(dict(value))


def _frozen_mailboxes(value: Mapping[str, tuple[MailAddress, ...]]) -> Mapping[str, tuple[MailAddress, ...]]:
    return MappingProxyType({key: tuple(mailboxes) for key, mailboxes in value.items()})


def _as_tuple(values: Iterable[Any]) -> tuple[Any, ...]:
    return tuple(values)


@attrs.frozen(kw_only=True)
class Part:
    """One leaf of the MIME tree, with its data decoded from base64 or quoted-printable."""

    path: str = attrs.field(validator=_part_path)
    """The MIME part number, as IMAP numbers parts: ``1``, ``2.1``; parts of an attached message in part 3
    are ``3.1``, ``3.2``."""
    content_type: str = attrs.field(validator=_content_type_syntax)
    """Lower-case ``type/subtype``."""
    params: Mapping[str, str] = attrs.field(factory=dict, converter=_frozen_mapping, hash=False)
    """The Content-Type parameters: lower-case names to decoded values (RFC 2231 included)."""
    charset: str | None = None
    """The declared charset, lower-case; None when none is declared."""
    disposition: str | None = attrs.field(default=None, validator=attrs.validators.in_((None, "attachment", "inline")))
    """``attachment``, ``inline``, or None without Content-Disposition."""
    filename: str | None = attrs.field(default=None, validator=_safe_name)
    """The file name (RFC 2231 ``filename*``, RFC 2047 or ``name=``), reduced to a safe base name."""
    content_id: str | None = None
    """The Content-ID without its angle brackets, as ``cid:`` URLs name it."""
    transfer_encoding: str = "7bit"
    """The Content-Transfer-Encoding, lower-case."""
    data: bytes = attrs.field(default=b"", repr=False)
    """The content, transfer-decoded; for ``message/*`` parts, the original bytes of the block."""
    headers: tuple[tuple[str, str], ...] = attrs.field(default=(), converter=_as_tuple, repr=False)
    """The part's header fields, unfolded and decoded, in order."""

    @property
    def size(self) -> int:
        """The length of :attr:`data`, in bytes."""
        return len(self.data)

    @property
    def is_attachment(self) -> bool:
        """True for a part with ``Content-Disposition: attachment``, a file name, or content that is not text."""
        return self.disposition == "attachment" or self.filename is not None or not self.is_text

    @property
    def is_text(self) -> bool:
        """True for ``text/*`` parts."""
        return self.content_type.startswith("text/")

    @property
    def text(self) -> str | None:
        """For ``text/*`` parts, the data decoded with its charset, line endings as ``\\n``; else None.

        An unknown or wrong charset decodes with replacement characters (the parse reported it).
        """
        if not self.is_text:
            return None
        return text_of(self.data, self.charset)[0]


@attrs.frozen(kw_only=True)
class MimeMessage:
    """A parsed message: decoded headers, mailboxes, leaf parts, attached messages and findings."""

    headers: tuple[tuple[str, str], ...] = attrs.field(converter=_as_tuple, repr=False)
    """The top-level header fields as (name, value), unfolded, RFC 2047 decoded, in order."""
    subject: str | None = None
    """The first Subject, decoded."""
    message_id: str | None = None
    """The Message-ID with its angle brackets (``<id@host>``); None when absent or invalid."""
    in_reply_to: str | None = None
    """The first msg-id of In-Reply-To, with its angle brackets."""
    references: tuple[str, ...] = attrs.field(default=(), converter=_as_tuple)
    """The msg-ids of References, in order."""
    date: datetime.datetime | None = None
    """The Date, timezone-aware (``-0000`` is read as UTC); None when absent or invalid."""
    content_type: str = "text/plain"
    """The top-level ``type/subtype``, lower-case."""
    parts: tuple[Part, ...] = attrs.field(default=(), converter=_as_tuple)
    """Every leaf part in document order (an attached message is one leaf here; see :attr:`embedded`)."""
    embedded: tuple[MimeMessage, ...] = attrs.field(default=(), converter=_as_tuple)
    """The attached ``message/rfc822`` parts, parsed, in document order."""
    findings: tuple[Finding, ...] = attrs.field(default=(), converter=_as_tuple)
    """Everything odd found while reading, attached messages included."""
    raw_size: int = 0
    """The length of the raw message, in bytes."""
    _address_map: Mapping[str, tuple[MailAddress, ...]] = attrs.field(
        factory=dict, converter=_frozen_mailboxes, repr=False, hash=False
    )
    _raw_headers: tuple[tuple[str, str], ...] = attrs.field(default=(), converter=_as_tuple, repr=False)

    @property
    def report(self) -> Report:
        """The findings as a :class:`~mssante.report.Report`."""
        return Report(findings=self.findings, subject="MIME message")

    def get(self, name: str) -> str | None:
        """The first value of the header ``name`` (any case), decoded; None when absent."""
        key = name.lower()
        return next((value for field, value in self.headers if field.lower() == key), None)

    def get_all(self, name: str) -> tuple[str, ...]:
        """Every value of the header ``name`` (any case), decoded, in order."""
        key = name.lower()
        return tuple(value for field, value in self.headers if field.lower() == key)

    def mailboxes(self, name: str) -> tuple[MailAddress, ...]:
        """The mailboxes of the address header ``name`` (From, To, Cc, ...), groups flattened.

        Addresses are parsed strictly: a header that parsers could read in two ways gives no mailbox
        (and a finding, for the usual address headers), never a guess.
        """
        key = name.lower()
        if key in self._address_map:
            return self._address_map[key]
        values = [value for field, value in self._raw_headers if field.lower() == key]
        return read_mailboxes(values, Spending(DEFAULT_LIMITS))[0]

    @property
    def body_text(self) -> str | None:
        """The first ``text/plain`` part that is not an attachment, decoded; None if there is none."""
        return self._body("text/plain")

    @property
    def body_html(self) -> str | None:
        """The first ``text/html`` part that is not an attachment, decoded; None if there is none."""
        return self._body("text/html")

    @property
    def attachments(self) -> tuple[Part, ...]:
        """The parts with disposition attachment or a file name, and every leaf that is not text."""
        return tuple(part for part in self.parts if part.is_attachment)

    def _body(self, content_type: str) -> str | None:
        for part in self.parts:
            if part.content_type == content_type and not part.is_attachment:
                return part.text
        return None

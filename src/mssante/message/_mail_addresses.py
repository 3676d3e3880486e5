"""The mailboxes of the address headers of a message (From, To, Cc, ...), read strictly.

Each header value is parsed by :mod:`email.headerregistry` and by the legacy :func:`email.utils.getaddresses`; when
they do not see the same addresses, the value gives no mailbox and a finding, never a guess. The first parser takes
time quadratic in a header's length: the parse spends it from the message's address work budget
(:meth:`~mssante.message._limits.Spending.take_address_work`).
"""

from __future__ import annotations

import email.errors
import email.utils
import re
from email.headerregistry import AddressHeader

import attrs

from mssante.message import mime_codes as codes
from mssante.message._decoding import LINE_BREAKS, as_text
from mssante.message._limits import SHOWN, STDLIB_ERRORS, Spending
from mssante.report import Code

__all__ = ["MailAddress", "read_mailboxes"]


def _no_line_breaks(value: str) -> str:
    if LINE_BREAKS.search(value):
        raise ValueError(f"{value[:SHOWN]!r} holds a line break or NUL")
    return value


def _address_syntax(_instance: object, _attribute: object, value: str) -> None:
    _no_line_breaks(value)
    local, at, domain = value.rpartition("@")
    if not (local and at and domain):
        raise ValueError(f"{value[:SHOWN]!r} is not an address: local-part@domain")


@attrs.frozen(kw_only=True)
class MailAddress:
    """One mailbox of an address header: ``Jean Dupont <jean.dupont@example.org>``."""

    name: str = attrs.field(default="", validator=lambda _i, _a, value: _no_line_breaks(value))
    """The display name, RFC 2047 decoded; empty when there is none."""
    address: str = attrs.field(validator=_address_syntax)
    """The addr-spec as written (no case folding, no IDNA conversion)."""

    @property
    def local_part(self) -> str:
        """What comes before the last ``@``."""
        return self.address.rpartition("@")[0]

    @property
    def domain(self) -> str:
        """What comes after the last ``@``."""
        return self.address.rpartition("@")[2]

    def __str__(self) -> str:
        return f"{self.name} <{self.address}>" if self.name else self.address


_LOOKS_LIKE_ADDRESS = re.compile(r"[^\s<>\"'(),;:@\[\]]+@[^\s<>\"'(),;:@\[\]]+\.[^\s<>\"'(),;:@\[\]]+")
_INVALID = "\x00invalid"


def _legacy_keys(value: str) -> list[tuple[str, str]]:
    """The (local part, domain) pairs that the legacy ``email.utils.getaddresses`` reads in ``value``."""
    try:
        pairs = email.utils.getaddresses([value], strict=False)
    except TypeError:  # Python versions without the strict parameter parse as strict=False does
        pairs = email.utils.getaddresses([value])
    keys = []
    for _name, address in pairs:
        if address:
            local, _at, domain = address.rpartition("@") if "@" in address else (address, "", "")
            keys.append((email.utils.unquote(local), domain.lower()))
    return keys


def read_mailboxes(
    values: list[str], spending: Spending, *, null_ok: bool = False
) -> tuple[tuple[MailAddress, ...], list[tuple[Code, str]]]:
    """The mailboxes of the values of one address header, and the problems met.

    Each value is parsed by :mod:`email.headerregistry` and by the legacy :func:`email.utils.getaddresses`;
    when they do not see the same addresses, the value gives no mailbox.
    """
    mailboxes: list[MailAddress] = []
    problems: list[tuple[Code, str]] = []
    for value in values:
        shown = repr(value[:SHOWN])
        if not value.strip() or (null_ok and value.strip() == "<>"):
            continue
        if not spending.take_address_work(len(value)):
            problems.append((codes.ADDRESS_NOT_PARSED, f"{shown} is beyond the address parsing budget"))
            continue
        try:
            entries, defects = _strict_parse(value)
            legacy = _legacy_keys(value)
        except STDLIB_ERRORS as error:
            problems.append((codes.ADDRESS_AMBIGUOUS, f"{shown} cannot be parsed ({type(error).__name__})"))
            continue
        strict = [entry.key for entry in entries if entry.key != ("", "")]
        if strict != legacy:
            message = f"{shown} reads as {_shown_keys(strict)} or as {_shown_keys(legacy)}: no mailbox taken"
            problems.append((codes.ADDRESS_AMBIGUOUS, message))
            continue
        for entry in entries:
            found = _mailbox(entry, problems)
            if found is not None:
                mailboxes.append(found)
        if defects:
            problems.append((codes.ADDRESS_INVALID, f"{shown} does not follow RFC 5322 ({defects[:200]})"))
    return tuple(mailboxes), problems


_INVALID_DEFECTS = (email.errors.InvalidHeaderDefect, email.errors.NonPrintableDefect)
_VALID_MAILBOX = "mailbox"
"""The parse tree's name for a valid mailbox (an invalid one is ``invalid-mailbox``)."""


@attrs.frozen(kw_only=True)
class _Entry:
    """What the strict parser read for one mailbox."""

    valid: bool
    local: str
    domain: str
    address: str
    name: str

    @property
    def key(self) -> tuple[str, str]:
        """(local part, domain lower-case); a key no legacy address has for a mailbox with neither."""
        if not self.valid and not self.local and not self.domain:
            return (_INVALID, self.address)
        return (self.local, self.domain.lower())


def _strict_parse(value: str) -> tuple[list[_Entry], str]:
    """The mailboxes :mod:`email.headerregistry` reads in ``value``, and its invalid-syntax defects, joined."""
    tree = AddressHeader.value_parser(value)
    entries = []
    for mailbox in tree.all_mailboxes:
        valid = mailbox.token_type == _VALID_MAILBOX
        entries.append(
            _Entry(
                valid=valid,
                local=as_text(str(mailbox.local_part or "")),
                domain=as_text(str(mailbox.domain or "")),
                address=as_text(str(mailbox.addr_spec if valid else mailbox)),
                name=as_text(str(mailbox.display_name or "")) if valid else "",
            )
        )
    defects = sorted({str(defect) for defect in tree.all_defects if isinstance(defect, _INVALID_DEFECTS)})
    return entries, "; ".join(defects)


def _shown_keys(keys: list[tuple[str, str]]) -> str:
    shown = ", ".join(
        "(invalid)" if local == _INVALID else f"{local}@{domain}" if domain else local for local, domain in keys[:5]
    )
    return f"[{shown}{', ...' if len(keys) > 5 else ''}]"


def _mailbox(entry: _Entry, problems: list[tuple[Code, str]]) -> MailAddress | None:
    if not entry.valid or not entry.local or not entry.domain:
        return None
    address, name = entry.address, entry.name
    if LINE_BREAKS.search(name):
        problems.append((codes.HEADER_INJECTION, f"the display name {name[:SHOWN]!r} holds a line break: removed"))
        name = LINE_BREAKS.sub("", name)
    if LINE_BREAKS.search(address):
        problems.append((codes.HEADER_INJECTION, f"the address {address[:SHOWN]!r} holds a line break: left out"))
        return None
    lowered = address.lower()
    lookalikes = [found for found in _LOOKS_LIKE_ADDRESS.findall(name) if found.lower() != lowered]
    if lookalikes:
        message = f"the display name {name[:SHOWN]!r} shows the address {lookalikes[0]!r}, but the mail is {address!r}"
        problems.append((codes.ADDRESS_DECEPTIVE, message))
    if "@" in entry.local or "<" in entry.local:
        message = f"the local part of {address[:SHOWN]!r} holds '@' or '<': it reads like another address"
        problems.append((codes.ADDRESS_DECEPTIVE, message))
    try:
        return MailAddress(name=name.strip(), address=address)
    except ValueError:
        return None

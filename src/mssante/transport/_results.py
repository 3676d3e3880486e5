"""What sending gives back: a result per recipient, never a bare success when some recipients failed."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from email.message import EmailMessage
from typing import Any, Protocol

import attrs

from mssante import _html
from mssante.addresses import Address, check
from mssante.errors import InvalidAddress

__all__ = ["AsyncTransport", "Delivery", "Envelope", "RecipientResult", "SendResult", "Transport", "envelope_address"]


class Delivery(str, enum.Enum):
    """What became of a message for one recipient."""

    ACCEPTED = "accepted"
    """The server took responsibility for it (2xx to RCPT and to the data)."""
    REJECTED = "rejected"
    """Refused for good (5xx): do not retry as is."""
    DEFERRED = "deferred"
    """Not delivered now (4xx, a dropped connection, a timeout): retry later."""

    def __str__(self) -> str:
        return self.value


def envelope_address(value: Address | str, *, role: str = "address") -> Address:
    """``value`` as a validated :class:`~mssante.addresses.Address`: what is checked is what is sent.

    A string must be one address and nothing else (no display name, no angle brackets, no second address, no
    CR or LF): anything else raises :class:`~mssante.errors.InvalidAddress` with the findings (``MSS-ADR-*``).
    ``role`` names the address in the message (``sender``, ``recipient``, ``To``...).
    """
    if isinstance(value, Address):
        return value
    if not isinstance(value, str):
        raise TypeError(f"an envelope {role} is an Address or a str, not {type(value).__name__}")
    checked = check(value)
    checked.report.raise_for_errors(InvalidAddress, f"the envelope {role} {value[:120]!r} is not one valid address")
    assert checked.address is not None
    return checked.address


def _sender(value: Address | str | None) -> Address | None:
    if value is None or (isinstance(value, str) and value.strip(" \t") in ("", "<>")):
        return None
    return envelope_address(value, role="sender")


def _recipients(values: Iterable[Address | str]) -> tuple[Address, ...]:
    if isinstance(values, str):
        raise TypeError("the envelope recipients are a sequence of addresses, not one str")
    return tuple(envelope_address(value, role="recipient") for value in values)


@attrs.frozen(kw_only=True)
class Envelope:
    """The SMTP envelope: MAIL FROM and RCPT TO (by default, From and To/Cc/Bcc of the message).

    Each address is one validated :class:`~mssante.addresses.Address` (a string is parsed by
    :meth:`Address.parse <mssante.addresses.Address.parse>`): the transports check that value and send exactly
    ``str(address)``. A string that is not one valid address (a list, a display name, angle brackets, CR or LF)
    raises :class:`~mssante.errors.InvalidAddress` with its findings. ``sender`` None (or ``""``, ``"<>"``) is
    the null sender of bounces (``MAIL FROM:<>``).
    """

    sender: Address | None = attrs.field(converter=_sender)
    recipients: tuple[Address, ...] = attrs.field(converter=_recipients)


@attrs.frozen(kw_only=True)
class RecipientResult:
    """The outcome for one recipient, with the server's reply."""

    recipient: str
    delivery: Delivery
    code: int | None = None
    """The SMTP reply code (None when no reply came: a dropped connection)."""
    reply: str = ""

    def to_dict(self) -> dict[str, Any]:
        """``recipient``, ``delivery``, ``code``, ``reply``."""
        return {"recipient": self.recipient, "delivery": self.delivery.value, "code": self.code, "reply": self.reply}


def _results(values: Sequence[RecipientResult]) -> tuple[RecipientResult, ...]:
    return tuple(values)


@attrs.frozen(kw_only=True)
class SendResult:
    """The outcome of one message: a :class:`RecipientResult` per recipient, and where it was sent."""

    message_id: str | None
    server: str
    recipients: tuple[RecipientResult, ...] = attrs.field(converter=_results)

    def _of(self, delivery: Delivery) -> tuple[str, ...]:
        return tuple(result.recipient for result in self.recipients if result.delivery is delivery)

    @property
    def accepted(self) -> tuple[str, ...]:
        """The recipients the server accepted."""
        return self._of(Delivery.ACCEPTED)

    @property
    def rejected(self) -> tuple[str, ...]:
        """The recipients refused for good."""
        return self._of(Delivery.REJECTED)

    @property
    def deferred(self) -> tuple[str, ...]:
        """The recipients to try again later."""
        return self._of(Delivery.DEFERRED)

    @property
    def ok(self) -> bool:
        """True only when every recipient was accepted."""
        return bool(self.recipients) and all(result.delivery is Delivery.ACCEPTED for result in self.recipients)

    def _repr_html_(self) -> str:
        """What became of the message for each recipient, for notebooks."""
        return _html.section(
            _html.heading(f"Sent {self.message_id or 'a message'} to {self.server}", ok=self.ok),
            _html.table(
                ["recipient", "delivery", "code", "reply"],
                [(result.recipient, result.delivery.value, result.code, result.reply) for result in self.recipients],
            ),
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON form of ``mssante send``: ``accepted``, ``rejected``, ``deferred``, ``recipients``."""
        return {
            "message_id": self.message_id,
            "server": self.server,
            "accepted": list(self.accepted),
            "rejected": list(self.rejected),
            "deferred": list(self.deferred),
            "recipients": [result.to_dict() for result in self.recipients],
        }


class Transport(Protocol):
    """Anything that sends composed messages through one server: SMTP submission, memory, files.

    :class:`~mssante.transport.Relay` is not one: it sends a message to each recipient domain's own MX hosts and
    answers with a :class:`SendResult` per domain.
    """

    def send(self, message: EmailMessage | bytes, envelope: Envelope | None = None) -> SendResult:
        """Send one message; the result says what became of it for each recipient."""
        ...

    def send_many(self, messages: Sequence[EmailMessage | bytes]) -> list[SendResult]:
        """Send messages one after the other (over one connection where the transport has one)."""
        ...


class AsyncTransport(Protocol):
    """The asyncio counterpart of :class:`Transport`: anything that sends composed messages with ``await``."""

    async def send(self, message: EmailMessage | bytes, envelope: Envelope | None = None) -> SendResult:
        """Send one message; the result says what became of it for each recipient."""
        ...

    async def send_many(self, messages: Sequence[EmailMessage | bytes]) -> list[SendResult]:
        """Send messages one after the other (over one connection where the transport has one)."""
        ...

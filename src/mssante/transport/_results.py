"""What sending gives back: a result per recipient, never a bare success when some recipients failed."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from email.message import EmailMessage
from typing import Any, Protocol

import attrs

from mssante import _html

__all__ = ["AsyncTransport", "Delivery", "Envelope", "RecipientResult", "SendResult", "Transport"]


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


def _addresses(values: Sequence[str]) -> tuple[str, ...]:
    return tuple(values)


@attrs.frozen(kw_only=True)
class Envelope:
    """The SMTP envelope: MAIL FROM and RCPT TO (by default, From and To/Cc/Bcc of the message)."""

    sender: str
    recipients: tuple[str, ...] = attrs.field(converter=_addresses)


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
    """Anything that sends composed messages: SMTP submission or relay, memory, files."""

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

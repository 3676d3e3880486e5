"""Transports that keep messages instead of sending them: in memory (tests) and as files (an outbox folder)."""

from __future__ import annotations

import datetime as dt
import email.policy
import json
import re
from collections.abc import Callable, Mapping, Sequence
from email.message import EmailMessage
from pathlib import Path

import attrs

from mssante._files import atomic_write
from mssante.addresses import Address
from mssante.errors import InvalidInput
from mssante.message import Message, parse
from mssante.transport._headers import prepare
from mssante.transport._results import Delivery, Envelope, RecipientResult, SendResult

__all__ = ["FileTransport", "MemoryTransport", "SentMessage"]

_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
_MAX_NAME = 80
_MAX_COUNTER = 10_000


def _to_bytes(message: EmailMessage | bytes) -> bytes:
    if isinstance(message, EmailMessage):
        return message.as_bytes(policy=email.policy.SMTP)
    if isinstance(message, (bytes, bytearray, memoryview)):
        return bytes(message)
    raise TypeError(f"a message is an EmailMessage or bytes, not {type(message).__name__}")


def _prepare(message: EmailMessage | bytes, envelope: Envelope | None) -> tuple[bytes, Envelope, str | None]:
    """The bytes to keep (without ``Bcc`` nor ``Resent-Bcc``, the rest byte for byte), the envelope and the
    Message-ID, read as :func:`~mssante.transport._headers.prepare` reads them for every transport."""
    prepared = prepare(_to_bytes(message), envelope, refuse=InvalidInput)
    return prepared.data, prepared.envelope, prepared.message_id


@attrs.frozen(kw_only=True)
class SentMessage:
    """One message a :class:`MemoryTransport` kept: its bytes (without Bcc), envelope and parsed form."""

    data: bytes = attrs.field(repr=False)
    envelope: Envelope
    message: Message = attrs.field(repr=False)


def _outcomes(value: Mapping[str, tuple[int, str]] | None) -> dict[str, tuple[int, str]]:
    return {address.lower(): (int(code), str(reply)) for address, (code, reply) in (value or {}).items()}


class MemoryTransport:
    """A transport for tests: keeps each message in :attr:`sent` and accepts every recipient.

    A message is kept when at least one recipient accepted it.
    ``reject`` and ``defer`` map a recipient address (any case) to the ``(code, reply)`` the
    simulated server gives it, so tests can see how their code handles 5xx and 4xx answers.
    """

    server = "memory:"

    def __init__(
        self,
        *,
        reject: Mapping[str, tuple[int, str]] | None = None,
        defer: Mapping[str, tuple[int, str]] | None = None,
    ) -> None:
        self.reject = _outcomes(reject)
        self.defer = _outcomes(defer)
        self.sent: list[SentMessage] = []

    def _result(self, address: Address) -> RecipientResult:
        recipient = str(address)
        key = recipient.lower()
        if key in self.reject:
            code, reply = self.reject[key]
            return RecipientResult(recipient=recipient, delivery=Delivery.REJECTED, code=code, reply=reply)
        if key in self.defer:
            code, reply = self.defer[key]
            return RecipientResult(recipient=recipient, delivery=Delivery.DEFERRED, code=code, reply=reply)
        return RecipientResult(recipient=recipient, delivery=Delivery.ACCEPTED, code=250, reply="2.0.0 Ok: kept")

    def send(self, message: EmailMessage | bytes, envelope: Envelope | None = None) -> SendResult:
        """Keep ``message`` (envelope from From/To/Cc/Bcc unless given).

        :class:`~mssante.errors.InvalidInput` without any recipient, :class:`~mssante.errors.InvalidAddress` when an
        address of the headers is not one valid address.
        """
        data, envelope, message_id = _prepare(message, envelope)
        results = [self._result(recipient) for recipient in envelope.recipients]
        if any(result.delivery is Delivery.ACCEPTED for result in results):
            self.sent.append(SentMessage(data=data, envelope=envelope, message=parse(data)))
        return SendResult(message_id=message_id, server=self.server, recipients=results)

    def send_many(self, messages: Sequence[EmailMessage | bytes]) -> list[SendResult]:
        """Send each message in turn."""
        return [self.send(message) for message in messages]

    def clear(self) -> None:
        """Forget the messages kept so far."""
        self.sent.clear()


def _file_stem(message_id: str | None, at: dt.datetime) -> str:
    when = at.astimezone(dt.timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    ident = _UNSAFE_NAME.sub("_", (message_id or "").strip("<> ")).strip("._")[:_MAX_NAME]
    return f"{when}-{ident}" if ident else when


class FileTransport:
    """Writes each message as ``<date>-<Message-ID>.eml`` in ``folder``, with ``<name>.envelope.json`` beside it.

    Files are written whole or not at all and never overwrite one another (a counter is added).
    Every recipient is ACCEPTED, from server ``file://<folder>``. The folder is created (0700) if missing.
    ``clock`` gives the time used in file names (``datetime.now(timezone.utc)`` by default).
    """

    def __init__(self, folder: str | Path, *, clock: Callable[[], dt.datetime] | None = None) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._clock = clock

    @property
    def server(self) -> str:
        """``file://`` and the absolute folder."""
        return self.folder.resolve().as_uri()

    def _now(self) -> dt.datetime:
        return self._clock() if self._clock is not None else dt.datetime.now(dt.timezone.utc)

    def _free_name(self, stem: str) -> Path:
        for counter in range(_MAX_COUNTER):
            name = stem if counter == 0 else f"{stem}-{counter}"
            path = self.folder / f"{name}.eml"
            if not path.exists() and not (self.folder / f"{name}.eml.envelope.json").exists():
                try:  # reserve the name: a concurrent writer gets FileExistsError and tries the next one
                    path.touch(mode=0o600, exist_ok=False)
                except FileExistsError:
                    continue
                return path
        raise FileExistsError(f"no free file name for {stem!r} in {self.folder}")

    def send(self, message: EmailMessage | bytes, envelope: Envelope | None = None) -> SendResult:
        """Write ``message`` and its envelope; every recipient is accepted. Returns where it was written as server.

        Refuses a message as :meth:`MemoryTransport.send` does, before anything is written.
        """
        data, envelope, message_id = _prepare(message, envelope)
        path = self._free_name(_file_stem(message_id, self._now()))
        side = {
            "sender": str(envelope.sender) if envelope.sender is not None else "",
            "recipients": [str(recipient) for recipient in envelope.recipients],
            "message_id": message_id,
        }
        atomic_write(path.with_name(path.name + ".envelope.json"), json.dumps(side, indent=2).encode(), mode=0o600)
        atomic_write(path, data, mode=0o600)
        results = [
            RecipientResult(
                recipient=str(recipient), delivery=Delivery.ACCEPTED, code=250, reply=f"2.0.0 Ok: {path.name}"
            )
            for recipient in envelope.recipients
        ]
        return SendResult(message_id=message_id, server=self.server, recipients=results)

    def send_many(self, messages: Sequence[EmailMessage | bytes]) -> list[SendResult]:
        """Write each message in turn."""
        return [self.send(message) for message in messages]

"""One message's SMTP transaction (MAIL, RCPT, DATA), without I/O: what to send, and what each answer means.

The sync and async submissions drive the same :class:`Transaction`: they send the command it names, hand it the
server's answer, and stop when it returns an :class:`Outcome`: the result of every recipient, and what the session
must do next (nothing, RSET, or drop the connection after a 421 or when the connection was lost).
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Mapping, Sequence

import attrs

from mssante.message import encode_xtext
from mssante.transport._results import Delivery, Envelope, RecipientResult

__all__ = ["After", "Outcome", "Transaction", "delivery"]


def delivery(code: int) -> Delivery:
    """What a reply code means for a recipient: 2xx accepted, 4xx (or no real code) deferred, 5xx rejected."""
    if 200 <= code < 300:
        return Delivery.ACCEPTED
    return Delivery.DEFERRED if 400 <= code < 500 or code < 200 else Delivery.REJECTED


class After(enum.Enum):
    """What the session does once the transaction is over."""

    NOTHING = "nothing"
    RSET = "rset"
    RESET = "reset"
    """Drop the connection: the server said 421, or the connection was lost."""


@attrs.frozen
class Outcome:
    """The end of a transaction: every recipient's result, and what the session does next (``reason`` for a reset)."""

    results: list[RecipientResult]
    after: After = After.NOTHING
    reason: str = ""


class Transaction:
    """The MAIL / RCPT / DATA exchange of one message with a server offering ``features`` (EHLO keywords, lower
    case, with their parameters); ``server`` names it in the reasons given."""

    def __init__(
        self, data: bytes, message_id: str | None, envelope: Envelope, *, dsn: bool, features: Mapping[str, str],
        server: str,
    ) -> None:  # fmt: skip
        self.data = data
        self.sender = str(envelope.sender) if envelope.sender is not None else ""
        """The reverse-path as sent between ``<`` and ``>``: ``str()`` of the validated address ("" for bounces)."""
        self.recipients = list(dict.fromkeys(str(recipient) for recipient in envelope.recipients))
        """The forward-paths as sent, each ``str()`` of a validated address (ASCII: a dot-atom and A-labels)."""
        self._features = features
        self._server = server
        self._results: dict[str, RecipientResult] = {}
        self.accepted: list[str] = []
        self.mail_options: list[str] = []
        self.rcpt_options: list[str] = []
        if "size" in features:
            self.mail_options.append(f"SIZE={len(data)}")
        if dsn and "dsn" in features:
            self.mail_options += ["RET=HDRS", f"ENVID={encode_xtext(message_id or uuid.uuid4().hex)}"]
            self.rcpt_options.append("NOTIFY=SUCCESS,FAILURE,DELAY")

    @staticmethod
    def _result(recipient: str, verdict: Delivery, code: int | None, reply: str) -> RecipientResult:
        return RecipientResult(recipient=recipient, delivery=verdict, code=code, reply=reply)

    def _every(self, verdict: Delivery, code: int | None, reply: str, among: Sequence[str]) -> list[RecipientResult]:
        """Give ``among`` this result, except those already refused: the results of every recipient, in order."""
        for recipient in among:
            known = self._results.get(recipient)
            if known is None or known.delivery is Delivery.ACCEPTED:
                self._results[recipient] = self._result(recipient, verdict, code, reply)
        return [self._results[recipient] for recipient in self.recipients]

    def refusal(self) -> Outcome | None:
        """An outcome before anything is sent, when the server cannot take the message as it is."""
        limit = self._features.get("size", "").strip()
        if limit.isdigit() and int(limit) and len(self.data) > int(limit):
            reason = f"not sent: the message is {len(self.data)} bytes, over the {limit} bytes {self._server} accepts"
            return Outcome(self._every(Delivery.REJECTED, 552, f"{reason} (SIZE)", self.recipients))
        return None

    def mail(self, code: int, reply: str) -> Outcome | None:
        """The answer to MAIL FROM: None to go on with the recipients."""
        if code == 421:
            return Outcome(self._every(Delivery.DEFERRED, code, reply, self.recipients), After.RESET, f"{code} {reply}")
        if not 200 <= code < 300:
            return Outcome(self._every(delivery(code), code, reply, self.recipients), After.RSET)
        return None

    def rcpt(self, recipient: str, code: int, reply: str) -> Outcome | None:
        """The answer to RCPT TO for ``recipient``: None to go on."""
        self._results[recipient] = self._result(recipient, delivery(code), code, reply)
        if code == 421:  # nothing was sent: those already accepted wait too
            return Outcome(self._every(Delivery.DEFERRED, code, reply, self.recipients), After.RESET, f"{code} {reply}")
        if 200 <= code < 300:
            self.accepted.append(recipient)
        return None

    def before_data(self) -> Outcome | None:
        """None to send DATA; an outcome when no recipient was accepted."""
        if self.accepted:
            return None
        return Outcome([self._results[recipient] for recipient in self.recipients], After.RSET)

    def data_sent(self, code: int, reply: str) -> Outcome:
        """The answer to the end of DATA (or to DATA itself): the accepted recipients get it."""
        after = After.RESET if code == 421 else After.NOTHING if 200 <= code < 300 else After.RSET
        return Outcome(self._every(delivery(code), code, reply, self.accepted), after, f"{code} {reply}")

    @staticmethod
    def path(verb: str, address: str) -> str:
        """The argument of ``MAIL`` (``FROM:<address>``) or ``RCPT`` (``TO:<address>``) for ``address``, one of
        :attr:`sender` and :attr:`recipients`: the validated address as it is, never parsed again."""
        return f"{'FROM' if verb == 'MAIL' else 'TO'}:<{address}>"

    def lost(self, reason: str) -> Outcome:
        """The connection failed midway: what was not refused is deferred."""
        pending = [r for r in self.recipients if r not in self._results or r in self.accepted]
        return Outcome(self._every(Delivery.DEFERRED, None, reason, pending), After.RESET, reason)

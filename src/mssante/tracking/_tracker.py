"""The tracking state machine: sent messages, the DSNs and MDNs that come back, one status per recipient.

Pure: it reads and decides; the store it is given keeps the state (and does any I/O). Times are always
passed in (``at``), never read from the clock.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Sequence
from email.message import Message as EmailMessage

import attrs

from mssante.errors import MssanteError
from mssante.message import REPORT_TYPES, Dsn, Mdn, Message, bounce_reason, decode_xtext, parse
from mssante.report import Finding, Report
from mssante.tracking import codes
from mssante.tracking._store import (
    Event,
    MemoryStore,
    RecipientState,
    Status,
    StoreSession,
    Tracked,
    TrackingStore,
    address_key,
    utc,
)
from mssante.transport import Delivery, SendResult, first_msg_id, read_header_block

__all__ = ["DEFAULT_EXPIRY", "Change", "Observation", "Tracker", "dsn_status", "mdn_status"]

DEFAULT_EXPIRY = dt.timedelta(days=7)
"""How long a recipient may stay PENDING or DELAYED before :meth:`Tracker.expire` marks it EXPIRED."""

_DSN_STATUS = {
    "failed": Status.FAILED,
    "delayed": Status.DELAYED,
    "delivered": Status.DELIVERED,
    "relayed": Status.DELIVERED,
    "expanded": Status.DELIVERED,
}
_MDN_STATUS = {
    "displayed": Status.READ,
    "processed": Status.DELIVERED,
    "dispatched": Status.DELIVERED,
    "deleted": Status.FAILED,
}
# "error" (RFC 8098 §3.2.6.3) and the failure modifiers of RFC 2298/3798 that older agents still send.
_FAILING_MODIFIERS = frozenset({"error", "failed", "failure", "denied", "expired", "mailbox-terminated"})
_MAX_ID = 998


def dsn_status(action: str) -> Status:
    """The status a DSN ``Action`` points to (RFC 3464 §2.3.3); ValueError for an unknown action."""
    try:
        return _DSN_STATUS[action.lower()]
    except KeyError:
        raise ValueError(f"{action[:40]!r} is not a DSN action") from None


def mdn_status(mdn: Mdn) -> Status:
    """The status an MDN points to: FAILED on an error (modifier or ``Error`` field) or ``deleted``, else by type."""
    if _FAILING_MODIFIERS.intersection(mdn.disposition.modifiers) or mdn.error:
        return Status.FAILED
    return _MDN_STATUS[mdn.disposition.type]


@attrs.frozen(kw_only=True)
class Change:
    """A recipient whose status changed: from ``before`` to ``after``, at ``at``."""

    message_id: str
    recipient: str
    before: Status | None
    """None for a recipient just added."""
    after: Status
    at: dt.datetime


def _changes(values: Iterable[Change]) -> tuple[Change, ...]:
    return tuple(values)


@attrs.frozen(kw_only=True)
class Observation:
    """What observing one mail gave: what it was, the message it concerns, what changed, and the findings."""

    kind: str
    """``dsn``, ``mdn``, or ``other`` (not a notification, or unreadable)."""
    report: Report
    message_id: str | None = None
    """The tracked message it was matched to, if any."""
    notification: str | None = None
    """The notification's identifier (a digest of its report block)."""
    changes: tuple[Change, ...] = attrs.field(default=(), converter=_changes)

    @property
    def recorded(self) -> bool:
        """True when the notification was matched to a tracked message and its events recorded."""
        return self.message_id is not None and codes.DUPLICATE.id not in self.report.codes

    @property
    def duplicate(self) -> bool:
        """True when the same notification had been observed before."""
        return codes.DUPLICATE.id in self.report.codes


@attrs.frozen
class _Entry:
    """One recipient line of a notification: the addresses it names and the status it points to."""

    final: str
    original: str | None
    status: Status
    detail: str
    reason: str | None = None  # why delivery failed (a BounceReason value), for a failed DSN recipient


@attrs.frozen
class _Reading:
    kind: str
    findings: tuple[Finding, ...]
    notification: str | None = None
    references: tuple[str, ...] = ()
    entries: tuple[_Entry, ...] = ()


def normalise_id(value: str) -> str:
    """A Message-ID as compared: the msg-id ``value`` holds, as the SDK's one grammar reads it
    (:data:`mssante.message._headers.MSG_ID`: ``<left@right>``; comments skipped, angle brackets added when left
    out). ValueError when it holds none."""
    found = first_msg_id(value) if len(value) <= _MAX_ID else None
    if found is None:
        raise ValueError(f"{value[:80]!r} is not a Message-ID (<left@right>)")
    return found


def _returned_ids(message: Message) -> list[str]:
    """The Message-IDs of the original as returned: text/rfc822-headers parts and attached messages."""
    found: list[str] = []
    for part in message.mime.parts:
        if part.content_type == "text/rfc822-headers":
            found.extend(read_header_block(part.data).values("Message-ID"))
    found.extend(embedded.message_id for embedded in message.mime.embedded if embedded.message_id)
    return found


def _references(*candidates: str | None) -> tuple[str, ...]:
    """The Message-IDs the candidates name, each once, in order: what is not a msg-id is left out."""
    seen: dict[str, None] = {}
    for candidate in candidates:
        if candidate and len(candidate) <= _MAX_ID and (found := first_msg_id(candidate)) is not None:
            seen.setdefault(found, None)
    return tuple(seen)


def _digest(kind: str, message: Message) -> str:
    """The notification's identifier: its kind and every DSN or MDN block it carries (RFC 6533 forms included)."""
    digest = hashlib.sha256(kind.encode())
    for part in message.mime.parts:
        if part.content_type in REPORT_TYPES:
            digest.update(b"\0" + part.data)
    return digest.hexdigest()


def _dsn_entries(dsn: Dsn) -> tuple[_Entry, ...]:
    entries = []
    human_text = dsn.human_text if len(dsn.failed) == 1 else ""  # a report's text speaks of its one failure only
    for recipient in dsn.recipients:
        detail = f"{recipient.action} {recipient.status}"
        if recipient.diagnostic_code:
            detail += f" {recipient.diagnostic_code}"
        detail += f" (reported by {dsn.reporting_mta})"
        status = dsn_status(recipient.action)
        reason = bounce_reason(recipient, human_text=human_text)
        entries.append(
            _Entry(recipient.final_recipient, recipient.original_recipient, status, detail, reason and reason.value)
        )
    return tuple(entries)


def _mdn_entry(mdn: Mdn) -> _Entry:
    detail = str(mdn.disposition).split(";", 1)[1].strip()
    if mdn.error:
        detail += f" {mdn.error}"
    if mdn.reporting_ua:
        detail += f" (reported by {mdn.reporting_ua})"
    return _Entry(mdn.final_recipient, mdn.original_recipient, mdn_status(mdn), detail)


def _read(mail: bytes | bytearray | memoryview | Message | EmailMessage) -> _Reading:
    """What ``mail`` is and says; never raises on its content."""
    if isinstance(mail, Message):
        message = mail
    else:
        try:
            data = mail.as_bytes() if isinstance(mail, EmailMessage) else bytes(mail)
            message = parse(data)
        except (MssanteError, ValueError, LookupError, TypeError, RecursionError) as error:
            if not isinstance(mail, (bytes, bytearray, memoryview, EmailMessage)):
                raise TypeError(f"observe takes bytes or a message, not {type(mail).__name__}") from None
            return _Reading("other", (codes.UNREADABLE(f"the mail cannot be read: {str(error)[:200]}"),))
    if message.kind == "dsn" and message.dsn is not None:
        dsn = message.dsn
        envelope = decode_xtext(dsn.original_envelope_id) if dsn.original_envelope_id else None
        references = _references(envelope, *_returned_ids(message), message.in_reply_to)
        return _Reading("dsn", (), _digest("dsn", message), references, _dsn_entries(dsn))
    if message.kind == "mdn" and message.mdn is not None:
        mdn = message.mdn
        references = _references(mdn.original_message_id, message.in_reply_to, *_returned_ids(message))
        return _Reading("mdn", (), _digest("mdn", message), references, (_mdn_entry(mdn),))
    if message.mime.content_type == "multipart/report":
        kept = [finding for finding in message.findings if finding.code.startswith(("MSS-DSN-", "MSS-MDN-"))]
        first = kept[0].message if kept else "no delivery-status or disposition-notification block reads"
        return _Reading("other", (codes.UNREADABLE(f"the report cannot be read: {first}"), *kept))
    return _Reading("other", (codes.NOT_A_NOTIFICATION(),))


def _match(tracked: Tracked, entry: _Entry) -> RecipientState | None:
    for address in (entry.original, entry.final):
        if address and (found := tracked.recipient(address)) is not None:
            return found
    wanted = {address_key(address).lower() for address in (entry.original, entry.final) if address}
    loose = [recipient for recipient in tracked.recipients if recipient.key.lower() in wanted]
    return loose[0] if len(loose) == 1 else None


def _advance(
    state: RecipientState, event: Event, message_id: str, findings: list[Finding], changes: list[Change]
) -> RecipientState:
    """``state`` with ``event`` recorded; the status moves only up the ranks."""
    before, target = state.status, event.status
    where = f"{message_id} {state.address}"
    if {before, target} == {Status.READ, Status.FAILED}:
        findings.append(
            codes.CONFLICT(
                f"{state.address} is {before} and the notification says {target}: it stays {Status.READ}",
                where=where,
            )
        )
    if target.rank <= before.rank:
        return attrs.evolve(state, events=(*state.events, attrs.evolve(event, applied=False)))
    if before is Status.EXPIRED:
        findings.append(codes.LATE(f"{state.address} had expired; it is now {target}", where=where))
    changes.append(Change(message_id=message_id, recipient=state.address, before=before, after=target, at=event.at))
    return attrs.evolve(state, status=target, updated_at=event.at, events=(*state.events, event))


class Tracker:
    """Delivery tracking of sent messages over a :class:`TrackingStore` (a :class:`MemoryStore` by default).

    Record what was sent with :meth:`sent` or :meth:`sent_result`, feed every returned DSN or MDN (or any
    mail: others are reported, not recorded) to :meth:`observe`, read with :meth:`status`, and call
    :meth:`expire` now and then. Every method takes the time ``at``: the tracker never reads the clock.
    """

    def __init__(self, store: TrackingStore | None = None, *, expire_after: dt.timedelta = DEFAULT_EXPIRY) -> None:
        if expire_after <= dt.timedelta(0):
            raise ValueError("expire_after must be positive")
        self.store: TrackingStore = store if store is not None else MemoryStore()
        self.expire_after = expire_after

    def sent(
        self, message_id: str, recipients: Sequence[str], at: dt.datetime, *, rejected: Iterable[str] = ()
    ) -> Tracked:
        """Record that ``message_id`` was sent to ``recipients`` at ``at``; ``rejected`` ones are FAILED at once.

        Sending the same message again (a retry) adds the new recipients and starts the deadline again for
        those still waiting.
        """
        refused = {address_key(address) for address in rejected}
        outcomes = [(address, Delivery.REJECTED if address_key(address) in refused else Delivery.ACCEPTED, "")
                    for address in recipients]  # fmt: skip
        return self._sent(message_id, outcomes, at)

    def sent_result(self, result: SendResult, at: dt.datetime) -> Tracked:
        """Record a :class:`~mssante.transport.SendResult`: rejected recipients FAILED, the others PENDING."""
        if not result.message_id:
            raise ValueError("the send result has no Message-ID: it cannot be tracked")
        outcomes = [
            (item.recipient, item.delivery, f"{item.code or ''} {item.reply}".strip()) for item in result.recipients
        ]
        return self._sent(result.message_id, outcomes, at)

    def _sent(self, message_id: str, outcomes: list[tuple[str, Delivery, str]], at: dt.datetime) -> Tracked:
        at = utc(at)
        message_id = normalise_id(message_id)
        if not outcomes:
            raise ValueError("a message is sent to at least one recipient")
        deadline = at + self.expire_after
        with self.store.transaction() as session:
            existing = session.get(message_id)
            states = list(existing.recipients) if existing else []
            findings: list[Finding] = []
            changes: list[Change] = []
            for address, delivery, reply in outcomes:
                status = Status.FAILED if delivery is Delivery.REJECTED else Status.PENDING
                event = Event(at=at, status=status, source="send", detail=f"{delivery} {reply}".strip())
                index = next((i for i, state in enumerate(states) if state.key == address_key(address)), None)
                if index is None:
                    states.append(
                        RecipientState(
                            address=address.strip(), status=status, sent_at=at, deadline=deadline, updated_at=at,
                            events=(event,),
                        )
                    )  # fmt: skip
                    continue
                state = _advance(states[index], event, message_id, findings, changes)
                if state.status.is_awaiting:
                    state = attrs.evolve(state, sent_at=at, deadline=deadline)
                states[index] = state
            tracked = Tracked(message_id=message_id, recipients=states)
            session.put(tracked)
        return tracked

    def observe(self, mail: bytes | bytearray | memoryview | Message | EmailMessage, at: dt.datetime) -> Observation:
        """Read one returned mail and record what it says; any mail is accepted, the report says what it was.

        A DSN is matched by its ``Original-Envelope-Id`` (the Message-ID, as ``send(..., dsn=True)`` sets it)
        or the Message-ID of the returned headers; an MDN by its ``Original-Message-ID``. Recipients are
        matched by Original-Recipient, then Final-Recipient (the domain without case). All the notification's
        effects are recorded in one transaction, or none.
        """
        at = utc(at)
        reading = _read(mail)
        if reading.notification is None:
            return Observation(kind=reading.kind, report=Report(findings=reading.findings, subject="tracking"))
        findings = list(reading.findings)
        changes: list[Change] = []
        matched: str | None = None
        with self.store.transaction() as session:
            if session.seen(reading.notification):
                findings.append(codes.DUPLICATE(where=reading.notification[:16]))
                matched = next((ref for ref in reading.references if session.get(ref) is not None), None)
            else:
                matched = self._apply(session, reading, at, findings, changes)
        return Observation(
            kind=reading.kind,
            report=Report(findings=findings, subject="tracking"),
            message_id=matched,
            notification=reading.notification,
            changes=changes,
        )

    def _apply(
        self, session: StoreSession, reading: _Reading, at: dt.datetime, findings: list[Finding], changes: list[Change]
    ) -> str | None:
        assert reading.notification is not None
        tracked = next((found for ref in reading.references if (found := session.get(ref)) is not None), None)
        if tracked is None:
            if reading.references:
                named = ", ".join(reading.references[:3])
                findings.append(codes.UNKNOWN_MESSAGE(f"no tracked message is {named}"))
            else:
                findings.append(codes.NO_REFERENCE())
            return None
        states = list(tracked.recipients)
        for entry in reading.entries:
            state = _match(Tracked(message_id=tracked.message_id, recipients=states), entry)
            if state is None:
                findings.append(
                    codes.UNKNOWN_RECIPIENT(
                        f"{entry.final[:200]} was not a recipient of {tracked.message_id}", where=tracked.message_id
                    )
                )
                continue
            event = Event(
                at=at,
                status=entry.status,
                source=reading.kind,
                detail=entry.detail,
                notification=reading.notification,
                reason=entry.reason,
            )
            index = states.index(state)
            states[index] = _advance(state, event, tracked.message_id, findings, changes)
        session.put(Tracked(message_id=tracked.message_id, recipients=states))
        session.mark_seen(reading.notification, at)
        return tracked.message_id

    def status(self, message_id: str) -> Tracked | None:
        """The tracked message (its recipients' statuses and histories), or None when it is not tracked (a value
        that is not a Message-ID never is)."""
        found = first_msg_id(message_id) if len(message_id) <= _MAX_ID else None
        return self.store.get(found) if found is not None else None

    def expire(self, at: dt.datetime) -> tuple[Change, ...]:
        """Mark EXPIRED every PENDING or DELAYED recipient whose deadline is at or before ``at``."""
        at = utc(at)
        changes: list[Change] = []
        with self.store.transaction() as session:
            for tracked in session.awaiting(due_by=at):
                states = list(tracked.recipients)
                for index, state in enumerate(states):
                    if state.status.is_awaiting and state.deadline <= at:
                        event = Event(
                            at=at,
                            status=Status.EXPIRED,
                            source="expire",
                            detail=f"no final status by {state.deadline.isoformat()}",
                        )
                        states[index] = _advance(state, event, tracked.message_id, [], changes)
                session.put(Tracked(message_id=tracked.message_id, recipients=states))
        return tuple(changes)

    def pending(self, at: dt.datetime) -> tuple[Tracked, ...]:
        """The messages with a PENDING or DELAYED recipient still within its deadline at ``at``."""
        at = utc(at)
        with self.store.transaction(write=False) as session:
            found = session.awaiting()
        return tuple(
            tracked
            for tracked in found
            if any(state.status.is_awaiting and state.deadline > at for state in tracked.recipients)
        )

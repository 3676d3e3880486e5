"""The tracking state machine over a MemoryStore: statuses, correlation, duplicates, conflicts, expiry."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mssante.message import parse
from mssante.report import Severity
from mssante.tracking import (
    MemoryStore,
    Observation,
    Status,
    Tracker,
    TrackingStore,
    codes,
    dsn_status,
    mdn_status,
)
from mssante.transport import Delivery, RecipientResult, SendResult

from .conftest import NewStore
from .helpers import (
    ALICE,
    BOB,
    DELETED,
    DISPLAYED,
    INTEGRATION_ERROR,
    MID,
    PROCESSED,
    RAW_BOUNCE,
    RAW_LEGACY_MDN,
    T0,
    dsn,
    mdn,
)

HOUR = dt.timedelta(hours=1)


def tracker(store: TrackingStore | None = None) -> Tracker:
    tracking = Tracker(store if store is not None else MemoryStore(), expire_after=dt.timedelta(days=2))
    tracking.sent(MID, [ALICE, BOB], T0)
    return tracking


def statuses(tracking: Tracker) -> dict[str, Status]:
    tracked = tracking.status(MID)
    assert tracked is not None
    return dict(tracked.statuses)


def test_sent_then_delivered_then_read() -> None:
    tracking = tracker()
    assert statuses(tracking) == {ALICE: Status.PENDING, BOB: Status.PENDING}
    seen = tracking.observe(dsn((ALICE, "delivered", "2.0.0"), (BOB, "delayed", "4.4.1")), T0 + HOUR)
    assert seen.kind == "dsn"
    assert seen.recorded
    assert seen.message_id == MID
    assert seen.report.ok
    assert [(c.recipient, c.before, c.after) for c in seen.changes] == [
        (ALICE, Status.PENDING, Status.DELIVERED),
        (BOB, Status.PENDING, Status.DELAYED),
    ]
    tracking.observe(mdn(ALICE, DISPLAYED), T0 + 2 * HOUR)
    assert statuses(tracking) == {ALICE: Status.READ, BOB: Status.DELAYED}
    alice = tracking.status(MID).recipient(ALICE)  # type: ignore[union-attr]
    assert alice is not None
    assert [(e.source, e.status) for e in alice.events] == [
        ("send", Status.PENDING),
        ("dsn", Status.DELIVERED),
        ("mdn", Status.READ),
    ]
    assert alice.events[1].notification == seen.notification
    assert "delivered 2.0.0" in alice.events[1].detail
    assert alice.updated_at == T0 + 2 * HOUR
    assert not tracking.status(MID).is_final  # type: ignore[union-attr]


def test_status_never_goes_backwards() -> None:
    tracking = tracker()
    tracking.observe(mdn(ALICE, DISPLAYED), T0 + HOUR)
    late = tracking.observe(dsn((ALICE, "delivered", "2.0.0")), T0 + 2 * HOUR)
    assert late.recorded
    assert not late.changes
    assert late.report.ok
    assert not late.report.findings
    assert statuses(tracking)[ALICE] is Status.READ
    alice = tracking.status(MID).recipient(ALICE)  # type: ignore[union-attr]
    assert alice is not None
    assert alice.events[-1].applied is False


def test_read_and_failed_conflict_and_read_wins_in_either_order() -> None:
    for first, second in itertools.permutations([mdn(ALICE, DISPLAYED), dsn((ALICE, "failed", "5.2.2"))]):
        tracking = tracker()
        tracking.observe(first, T0 + HOUR)
        seen = tracking.observe(second, T0 + 2 * HOUR)
        assert seen.report.codes == (codes.CONFLICT.id,)
        assert seen.report.findings[0].severity is Severity.WARNING
        assert statuses(tracking)[ALICE] is Status.READ


def test_duplicate_is_a_no_op() -> None:
    tracking = tracker()
    data = dsn((ALICE, "failed", "5.1.1"))
    tracking.observe(data, T0 + HOUR)
    before = tracking.status(MID)
    again = tracking.observe(data, T0 + 2 * HOUR)
    assert again.duplicate
    assert not again.recorded
    assert not again.changes
    assert again.report.codes == (codes.DUPLICATE.id,)
    assert again.report.ok
    assert again.message_id == MID
    assert tracking.status(MID) == before


@pytest.mark.parametrize(
    ("disposition", "expected"),
    [(DISPLAYED, Status.READ), (PROCESSED, Status.DELIVERED), (INTEGRATION_ERROR, Status.FAILED),
     (DELETED, Status.FAILED)],
)  # fmt: skip
def test_mdn_mapping(disposition: object, expected: Status) -> None:
    tracking = tracker()
    tracking.observe(mdn(BOB, disposition), T0 + HOUR)  # type: ignore[arg-type]
    assert statuses(tracking)[BOB] is expected
    parsed = parse(mdn(BOB, disposition))  # type: ignore[arg-type]
    assert parsed.mdn is not None
    assert mdn_status(parsed.mdn) is expected


def test_dsn_mapping() -> None:
    assert [dsn_status(a) for a in ("failed", "delayed", "delivered", "relayed", "expanded", "FAILED")] == [
        Status.FAILED, Status.DELAYED, Status.DELIVERED, Status.DELIVERED, Status.DELIVERED, Status.FAILED,
    ]  # fmt: skip
    with pytest.raises(ValueError, match="not a DSN action"):
        dsn_status("bounced")


def test_raw_postfix_bounce_without_envelope_id_matches_by_returned_headers() -> None:
    tracking = tracker()
    seen = tracking.observe(RAW_BOUNCE, T0 + HOUR)
    assert seen.recorded
    assert seen.report.ok
    assert statuses(tracking) == {ALICE: Status.FAILED, BOB: Status.PENDING}
    alice = tracking.status(MID).recipient(ALICE)  # type: ignore[union-attr]
    assert alice is not None
    assert "User unknown" in alice.events[-1].detail


def test_raw_legacy_ci_sis_error_mdn() -> None:
    tracking = tracker()
    seen = tracking.observe(RAW_LEGACY_MDN, T0 + HOUR)
    assert seen.kind == "mdn"
    assert seen.recorded
    assert statuses(tracking)[ALICE] is Status.FAILED
    alice = tracking.status(MID).recipient(ALICE)  # type: ignore[union-attr]
    assert alice is not None
    assert "902" in alice.events[-1].detail


def test_envelope_id_in_xtext_and_domain_case() -> None:
    tracking = Tracker()
    tracking.sent("<a+b=c@chu.mssante.fr>", ["Alice@Clinique.mssante.fr"], T0)
    data = dsn(("Alice@CLINIQUE.MSSANTE.FR", "delivered", "2.0.0"), envelope="<a+2Bb+3Dc@chu.mssante.fr>",
               with_headers=False)  # fmt: skip
    assert tracking.observe(data, T0 + HOUR).recorded
    tracked = tracking.status("a+b=c@chu.mssante.fr")
    assert tracked is not None
    assert tracked.statuses == {"Alice@Clinique.mssante.fr": Status.DELIVERED}


def test_inputs_as_parsed_messages() -> None:
    tracking = tracker()
    assert tracking.observe(parse(dsn((ALICE, "delivered", "2.0.0"))), T0).recorded
    message = email.message_from_bytes(mdn(BOB, DISPLAYED), policy=email.policy.default)
    assert tracking.observe(message, T0).recorded
    assert statuses(tracking) == {ALICE: Status.DELIVERED, BOB: Status.READ}
    with pytest.raises(TypeError):
        tracking.observe("not bytes", T0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="timezone"):
        tracking.observe(RAW_BOUNCE, T0.replace(tzinfo=None))


def findings_of(observation: Observation) -> tuple[str, ...]:
    return observation.report.codes


def test_unknown_message_recipient_and_no_reference() -> None:
    tracking = tracker()
    other = dsn((ALICE, "failed", "5.1.1"), envelope="<other@x.fr>", message_id="<other@x.fr>")
    assert findings_of(tracking.observe(other, T0)) == (codes.UNKNOWN_MESSAGE.id,)
    stranger = tracking.observe(dsn(("eve@x.fr", "failed", "5.1.1"), (ALICE, "delivered", "2.0.0")), T0)
    assert findings_of(stranger) == (codes.UNKNOWN_RECIPIENT.id,)
    assert statuses(tracking)[ALICE] is Status.DELIVERED
    bare = dsn((ALICE, "failed", "5.1.1"), envelope=None, with_headers=False)
    assert findings_of(tracking.observe(bare, T0)) == (codes.NO_REFERENCE.id,)


def test_not_a_notification_and_unreadable() -> None:
    tracking = tracker()
    plain = b"From: a@b.fr\r\nTo: c@d.fr\r\nSubject: hello\r\n\r\nhi\r\n"
    assert findings_of(tracking.observe(plain, T0)) == (codes.NOT_A_NOTIFICATION.id,)
    broken = RAW_BOUNCE.replace(b"Action: failed", b"Action: exploded")
    seen = tracking.observe(broken, T0)
    assert seen.kind == "other"
    assert not seen.report.ok
    assert seen.report.codes[0] == codes.UNREADABLE.id
    assert "MSS-DSN-009" in seen.report.codes
    assert statuses(tracking) == {ALICE: Status.PENDING, BOB: Status.PENDING}


@pytest.mark.parametrize(
    "data",
    [b"", b"\x00\xff" * 1000, b"garbage", b"Content-Type: multipart/report\r\n\r\n--x", b"\r\n" * 10_000,
     b"Subject: " + b"A" * 200_000 + b"\r\n\r\n", bytes(range(256)) * 100],
)  # fmt: skip
def test_garbage_gives_findings(data: bytes) -> None:
    seen = tracker().observe(data, T0)
    assert seen.kind == "other"
    assert seen.report.findings
    assert not seen.changes


def test_dsn_for_ten_thousand_recipients_is_refused_by_the_parser_limit() -> None:
    tracking = tracker()
    many = dsn(*((f"r{i}@clinique.mssante.fr", "failed", "5.1.1") for i in range(10_000)))
    seen = tracking.observe(many, T0)
    assert codes.UNREADABLE.id in seen.report.codes
    assert "MSS-DSN-002" in seen.report.codes
    assert statuses(tracking) == {ALICE: Status.PENDING, BOB: Status.PENDING}


def test_sent_result_rejected_fail_at_once() -> None:
    tracking = Tracker()
    result = SendResult(
        message_id=MID,
        server="smtp.op.mssante.fr",
        recipients=[
            RecipientResult(recipient=ALICE, delivery=Delivery.ACCEPTED, code=250, reply="ok"),
            RecipientResult(recipient=BOB, delivery=Delivery.REJECTED, code=550, reply="5.1.1 unknown"),
            RecipientResult(recipient="carol@x.mssante.fr", delivery=Delivery.DEFERRED, code=451, reply="later"),
        ],
    )
    tracked = tracking.sent_result(result, T0)
    assert tracked.statuses == {ALICE: Status.PENDING, BOB: Status.FAILED, "carol@x.mssante.fr": Status.PENDING}
    assert "550 5.1.1 unknown" in tracked.recipient(BOB).events[0].detail  # type: ignore[union-attr]
    with pytest.raises(ValueError, match="Message-ID"):
        tracking.sent_result(SendResult(message_id=None, server="s", recipients=result.recipients), T0)
    with pytest.raises(ValueError, match="at least one"):
        tracking.sent("<x@y>", [], T0)


def test_retry_adds_recipients_and_restarts_the_deadline() -> None:
    tracking = tracker()
    tracked = tracking.sent(MID, [BOB, "carol@x.fr"], T0 + HOUR, rejected=["carol@x.fr"])
    assert tracked.statuses == {ALICE: Status.PENDING, BOB: Status.PENDING, "carol@x.fr": Status.FAILED}
    assert tracked.recipient(BOB).deadline == T0 + HOUR + dt.timedelta(days=2)  # type: ignore[union-attr]
    assert tracked.recipient(ALICE).deadline == T0 + dt.timedelta(days=2)  # type: ignore[union-attr]


def test_expire_pending_and_late_notifications() -> None:
    tracking = tracker()
    tracking.observe(dsn((ALICE, "delivered", "2.0.0")), T0 + HOUR)
    assert [t.message_id for t in tracking.pending(T0 + HOUR)] == [MID]
    assert tracking.expire(T0 + dt.timedelta(days=1)) == ()
    changes = tracking.expire(T0 + dt.timedelta(days=2))
    assert [(c.recipient, c.after) for c in changes] == [(BOB, Status.EXPIRED)]
    assert tracking.pending(T0 + dt.timedelta(days=2)) == ()
    assert tracking.expire(T0 + dt.timedelta(days=3)) == ()
    late = tracking.observe(dsn((BOB, "failed", "5.4.7")), T0 + dt.timedelta(days=3))
    assert late.report.codes == (codes.LATE.id,)
    assert statuses(tracking) == {ALICE: Status.DELIVERED, BOB: Status.FAILED}
    tracking.observe(dsn((ALICE, "delayed", "4.4.1"), mta="other.mssante.fr"), T0 + dt.timedelta(days=3))
    assert statuses(tracking)[ALICE] is Status.DELIVERED
    with pytest.raises(ValueError, match="positive"):
        Tracker(expire_after=dt.timedelta(0))


def test_status_properties() -> None:
    assert [s.rank for s in Status] == list(range(6))
    assert {s for s in Status if s.is_final} == {Status.READ, Status.FAILED, Status.EXPIRED}
    assert {s for s in Status if s.is_awaiting} == {Status.PENDING, Status.DELAYED}
    assert str(Status.READ) == "read"


# --- order independence -------------------------------------------------------------------------------------------

NOTIFICATIONS = [
    dsn((ALICE, "delayed", "4.4.1")),
    dsn((ALICE, "delivered", "2.0.0"), (BOB, "delayed", "4.4.1"), mta="mx2.clinique.mssante.fr"),
    dsn((BOB, "failed", "5.1.1"), mta="mx3.labo.mssante.fr"),
    dsn((BOB, "relayed", "2.0.0"), mta="mx4.labo.mssante.fr"),
    mdn(ALICE, DISPLAYED),
    mdn(ALICE, INTEGRATION_ERROR),
    mdn(BOB, PROCESSED),
    mdn(BOB, DISPLAYED),
    RAW_BOUNCE,
    RAW_LEGACY_MDN,
    b"not a notification",
]


def final_statuses(sequence: list[bytes], new_store: NewStore = MemoryStore) -> dict[str, Status]:
    tracking = tracker(new_store())
    history: dict[str, list[Status]] = {ALICE: [Status.PENDING], BOB: [Status.PENDING]}
    for step, data in enumerate(sequence):
        tracking.observe(data, T0 + step * HOUR)
        for address, status in statuses(tracking).items():
            assert status.rank >= history[address][-1].rank, "a status went backwards"
            history[address].append(status)
    return statuses(tracking)


def expected(subset: set[int]) -> dict[str, Status]:
    return final_statuses([NOTIFICATIONS[i] for i in sorted(subset)])


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_final_status_is_independent_of_order_and_duplicates(data: st.DataObject) -> None:
    chosen = data.draw(st.lists(st.integers(0, len(NOTIFICATIONS) - 1), min_size=1, max_size=16))
    shuffled = data.draw(st.permutations(chosen))
    assert final_statuses([NOTIFICATIONS[i] for i in shuffled]) == expected(set(chosen))


@settings(max_examples=20, deadline=None)
@given(data=st.data())
def test_every_store_is_independent_of_order_and_duplicates(new_store: NewStore, data: st.DataObject) -> None:
    """The same property on each store kind (``new_store``: SQLite, PostgreSQL), against the memory store."""
    chosen = data.draw(st.lists(st.integers(0, len(NOTIFICATIONS) - 1), min_size=1, max_size=16))
    shuffled = data.draw(st.permutations(chosen))
    assert final_statuses([NOTIFICATIONS[i] for i in shuffled], new_store) == expected(set(chosen))


# --- the report types of RFC 6533 and the one Message-ID grammar ----------------------------------------------------


def global_form(data: bytes, *, report_type: bool = False) -> bytes:
    """The same report as an SMTPUTF8 system sends it (RFC 6533): its block in the ``global`` content type, and with
    ``report_type`` the ``report-type`` parameter too."""
    data = data.replace(b"message/delivery-status", b"message/global-delivery-status")
    data = data.replace(b"message/disposition-notification", b"message/global-disposition-notification")
    if report_type:
        data = data.replace(b"report-type=delivery-status", b"report-type=global-delivery-status")
        data = data.replace(b"report-type=disposition-notification", b"report-type=global-disposition-notification")
    return data


@pytest.mark.parametrize("report_type", [False, True])
def test_two_global_reports_for_two_recipients_are_both_recorded(report_type: bool) -> None:
    tracking = tracker()
    first = global_form(dsn((ALICE, "delivered", "2.0.0")), report_type=report_type)
    second = global_form(dsn((BOB, "failed", "5.1.1")), report_type=report_type)
    assert b"message/global-delivery-status" in first
    seen = [tracking.observe(data, T0 + HOUR) for data in (first, second)]
    assert [observation.kind for observation in seen] == ["dsn", "dsn"]
    assert seen[0].notification != seen[1].notification
    assert not seen[1].duplicate
    assert statuses(tracking) == {ALICE: Status.DELIVERED, BOB: Status.FAILED}
    assert tracking.observe(second, T0 + 2 * HOUR).duplicate  # the same one again is still a duplicate
    read = [tracking.observe(global_form(mdn(who, DISPLAYED), report_type=report_type), T0) for who in (ALICE, BOB)]
    assert [observation.kind for observation in read] == ["mdn", "mdn"]
    assert read[0].notification != read[1].notification
    assert statuses(tracking) == {ALICE: Status.READ, BOB: Status.READ}


def test_message_ids_are_read_with_the_one_grammar() -> None:
    commented = b"Message-ID: <20240506080000.42@chu.mssante.fr> (the original)"
    bounce = RAW_BOUNCE.replace(b"Message-ID:\n <20240506080000.42@chu.mssante.fr>", commented)
    assert commented in bounce
    tracking = tracker()
    seen = tracking.observe(bounce, T0 + HOUR)
    assert seen.recorded, seen.report
    assert seen.message_id == MID
    original = b"Original-Message-ID: <20240506080000.42@chu.mssante.fr>"
    legacy = RAW_LEGACY_MDN.replace(original, original + b" (sent by the LPS)")
    assert b"(sent by the LPS)" in legacy
    read = tracking.observe(legacy, T0 + 2 * HOUR)
    assert read.recorded, read.report
    assert read.message_id == MID
    assert tracking.status(f"{MID} (a comment)") == tracking.status(MID)
    assert tracking.status("20240506 at chu") is None  # not a Message-ID: never tracked
    with pytest.raises(ValueError, match="not a Message-ID"):
        tracking.sent("20240506 at chu", [ALICE], T0)
    with pytest.raises(ValueError, match="not a Message-ID"):
        tracking.sent("<a@b@chu.mssante.fr>", [ALICE], T0)
    unknown = dsn((ALICE, "failed", "5.1.1"), envelope="3f2a9c", with_headers=False)  # a random ENVID: no Message-ID
    assert tracking.observe(unknown, T0).report.codes == (codes.NO_REFERENCE.id,)

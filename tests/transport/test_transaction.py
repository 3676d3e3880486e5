"""The SMTP transaction without I/O: every sequence of answers gives one result per recipient, and a recipient is
accepted only when the server took the data for it."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from mssante.transport._results import Delivery, Envelope
from mssante.transport._transaction import After, Outcome, Transaction

SENDER = "application@hopital.mssante.fr"
RECIPIENTS = ("a@chu.mssante.fr", "b@chu.mssante.fr", "c@chu.mssante.fr")
CODES = st.sampled_from([250, 251, 421, 450, 451, 452, 500, 550, 552, 553, 554])


def exchange(features: dict[str, str] | None = None, *, dsn: bool = False, data: bytes = b"x" * 100) -> Transaction:
    envelope = Envelope(sender=SENDER, recipients=RECIPIENTS)
    return Transaction(data, "<id@hopital.mssante.fr>", envelope, dsn=dsn, features=features or {}, server="mx:25")


def play(mail: int, rcpts: list[int], data: int | None) -> Outcome:
    transaction = exchange()
    outcome = transaction.mail(mail, "mail")
    for recipient, code in zip(transaction.recipients, rcpts, strict=True):
        if outcome is not None:
            break
        outcome = transaction.rcpt(recipient, code, "rcpt")
    if outcome is None:
        outcome = transaction.before_data()
    if outcome is None:
        outcome = transaction.data_sent(data if data is not None else 250, "data")
    return outcome


@given(CODES, st.lists(CODES, min_size=3, max_size=3), st.one_of(st.none(), CODES))
def test_every_recipient_gets_one_result_and_acceptance_needs_the_data(
    mail: int, rcpts: list[int], data: int | None
) -> None:
    outcome = play(mail, rcpts, data)
    assert [result.recipient for result in outcome.results] == list(RECIPIENTS)
    data_code = data if data is not None else 250
    for result, rcpt in zip(outcome.results, rcpts, strict=True):
        if result.delivery is Delivery.ACCEPTED:
            assert 200 <= mail < 300
            assert 200 <= rcpt < 300
            assert 200 <= data_code < 300
            assert 421 not in rcpts
    reached = [mail, *rcpts] if 200 <= mail < 300 else [mail]  # after a refused MAIL no RCPT is sent
    if 421 in reached:
        assert outcome.after is After.RESET


def test_a_421_at_rcpt_defers_those_accepted_before() -> None:
    transaction = exchange()
    assert transaction.mail(250, "ok") is None
    assert transaction.rcpt(RECIPIENTS[0], 250, "ok") is None
    assert transaction.rcpt(RECIPIENTS[1], 550, "no such user") is None
    outcome = transaction.rcpt(RECIPIENTS[2], 421, "closing")
    assert outcome is not None
    assert [r.delivery for r in outcome.results] == [Delivery.DEFERRED, Delivery.REJECTED, Delivery.DEFERRED]
    assert (outcome.after, outcome.reason) == (After.RESET, "421 closing")


def test_options_follow_the_server_features() -> None:
    transaction = exchange({"size": "1000", "dsn": ""}, dsn=True)
    assert transaction.mail_options == ["SIZE=100", "RET=HDRS", "ENVID=<id@hopital.mssante.fr>"]
    assert transaction.rcpt_options == ["NOTIFY=SUCCESS,FAILURE,DELAY"]
    assert exchange({}, dsn=True).mail_options == []  # no DSN offered: none asked for


def test_refusals_before_anything_is_sent() -> None:
    too_big = exchange({"size": "10"}).refusal()
    assert too_big is not None
    assert {r.code for r in too_big.results} == {552}
    assert exchange({"size": "0"}).refusal() is None  # SIZE 0: no limit announced


def test_the_commands_carry_the_checked_addresses_as_they_are() -> None:
    envelope = Envelope(sender="Application@HOPITAL.mssante.fr", recipients=["A@CHU.mssante.fr", "a@chu.MSSANTE.fr"])
    transaction = Transaction(b"x", None, envelope, dsn=False, features={}, server="mx:25")
    assert transaction.sender == "Application@hopital.mssante.fr"
    assert transaction.recipients == ["A@chu.mssante.fr", "a@chu.mssante.fr"]  # the local part keeps its case
    assert Transaction.path("MAIL", transaction.sender) == "FROM:<Application@hopital.mssante.fr>"
    assert Transaction.path("RCPT", transaction.recipients[0]) == "TO:<A@chu.mssante.fr>"
    bounce = Transaction(b"x", None, Envelope(sender="", recipients=RECIPIENTS), dsn=False, features={}, server="mx")
    assert Transaction.path("MAIL", bounce.sender) == "FROM:<>"


def test_a_lost_connection_defers_what_was_not_refused() -> None:
    transaction = exchange()
    transaction.mail(250, "ok")
    transaction.rcpt(RECIPIENTS[0], 550, "no")
    transaction.rcpt(RECIPIENTS[1], 250, "ok")
    outcome = transaction.lost("connection lost: reset")
    assert [r.delivery for r in outcome.results] == [Delivery.REJECTED, Delivery.DEFERRED, Delivery.DEFERRED]

"""Conversations with a patient (Mon espace santé): who may start one, who may reply, and how one ends.

Sources: addendum 2 « Patient messaging »: only a professional may start a conversation, the patient replies
within it (CNAM, ENS Mon espace santé Messagerie V1.3); an exchange ends with ``X-MSS-MES: FIN`` (preferred,
Ref #2 ECO.2.2.8) or a subject of exactly ``[FIN]`` (V1.3 §7, RG-E009-087).
"""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage
from typing import Any

import pytest

from mssante.message import compose, lint, parse
from mssante.report import Severity

AT = dt.datetime(2024, 1, 16, 8, 0, tzinfo=dt.timezone.utc)
LATER = AT + dt.timedelta(days=1)
PATIENT = "279035121518989@patient.mssante.fr"
OTHER_PATIENT = "146026322000196@patient.mssante.fr"
DOCTOR = "pierre.didot@pharmacie-4-cantons.mssante.fr"
NIL = "DEV935997"


def to_patient(message_id: str, **changes: Any) -> EmailMessage:
    """A professional's plain message to the patient."""
    options: dict[str, Any] = {
        "sender": DOCTOR, "to": [PATIENT], "nil": NIL, "at": AT, "subject": "Votre rendez-vous",
        "text": "Bonjour, votre rendez-vous est confirmé.", "message_id": message_id,
    }  # fmt: skip
    options.update(changes)
    return compose(**options)


def from_patient(**changes: Any) -> EmailMessage:
    """The patient's message to the professional (a reply when given in_reply_to or references)."""
    options: dict[str, Any] = {
        "sender": PATIENT, "to": [DOCTOR], "nil": NIL, "at": LATER, "subject": "Re: Votre rendez-vous",
        "text": "Merci.", "message_id": "<reply.1@patient.mssante.fr>",
    }  # fmt: skip
    options.update(changes)
    return compose(**options)


FIRST = "<first@pharmacie-4-cantons.mssante.fr>"
SECOND = "<second@pharmacie-4-cantons.mssante.fr>"


# --- a patient replies; only a patient's new conversation is a finding (MSS-MSG-022, a warning) ----------------


def test_a_patient_replying_with_in_reply_to_is_compliant() -> None:
    report = lint(from_patient(in_reply_to=FIRST))
    assert "MSS-MSG-022" not in report.codes
    assert report.ok, report


def test_a_patient_replying_with_references_only_is_compliant() -> None:
    assert "MSS-MSG-022" not in lint(from_patient(references=[FIRST])).codes


def test_a_patient_starting_a_conversation_is_a_warning() -> None:
    report = lint(from_patient(subject="Question"))
    [finding] = [finding for finding in report if finding.code == "MSS-MSG-022"]
    assert finding.severity is Severity.WARNING
    assert finding.where == "From"
    assert report.ok  # a warning: the patient's platform lets only replies through, a reply may lose its headers


# --- the end of the exchange: X-MSS-MES: FIN or a [FIN] subject ------------------------------------------------


def test_no_reply_writes_the_preferred_form_only() -> None:
    mail = to_patient(FIRST, no_reply=True)
    assert mail["X-MSS-MES"] == "FIN"
    assert mail["Subject"] == "Votre rendez-vous"  # the subject stays free (XDM/1.0/DDM+ when documents travel)
    assert parse(mail).ends_conversation


@pytest.mark.parametrize(
    ("subject", "ends"),
    [("[FIN]", True), ("  [FIN] ", True), ("[fin]", False), ("Re: [FIN]", False), ("[FIN] merci", False)],
)
def test_a_fin_subject_ends_the_conversation_when_it_is_exactly_fin(subject: str, ends: bool) -> None:
    message = parse(to_patient(FIRST, subject=subject))
    assert message.mes is None
    assert message.ends_conversation is ends


def test_a_message_without_either_form_does_not_end_it() -> None:
    assert not parse(to_patient(FIRST)).ends_conversation
    assert not parse(to_patient(FIRST, no_reply=False)).ends_conversation


def test_only_the_value_fin_ends_it() -> None:
    mail = to_patient(FIRST)
    mail["X-MSS-MES"] = "fin"
    message = parse(mail)
    assert not message.ends_conversation
    assert "MSS-MSG-010" in lint(message).codes


def test_a_fin_subject_message_lints_clean() -> None:
    report = lint(to_patient(FIRST, subject="[FIN]", text="Fin de nos échanges."))
    assert report.ok, report


# --- a patient's reply to a closed conversation (MSS-MSG-025) --------------------------------------------------


def test_a_reply_to_a_message_with_x_mss_mes_fin_is_an_error() -> None:
    closed = to_patient(FIRST, no_reply=True)
    report = lint(from_patient(in_reply_to=FIRST), conversation=[closed])
    [finding] = [finding for finding in report if finding.code == "MSS-MSG-025"]
    assert finding.severity is Severity.ERROR
    assert FIRST in finding.message


def test_a_reply_to_an_open_message_is_compliant() -> None:
    report = lint(from_patient(in_reply_to=FIRST), conversation=[to_patient(FIRST)])
    assert "MSS-MSG-025" not in report.codes
    assert report.ok, report


def test_a_later_fin_subject_closes_the_earlier_messages() -> None:
    conversation = [to_patient(FIRST), to_patient(SECOND, subject="[FIN]", at=LATER)]
    reply = from_patient(in_reply_to=FIRST, at=LATER + dt.timedelta(hours=1))
    assert "MSS-MSG-025" in lint(reply, conversation=conversation).codes
    # given as bytes or read already, the same
    assert "MSS-MSG-025" in lint(reply, conversation=[mail.as_bytes() for mail in conversation]).codes
    assert "MSS-MSG-025" in lint(reply, conversation=[parse(mail) for mail in conversation]).codes


def test_a_message_after_the_fin_subject_opens_the_exchange_again() -> None:
    conversation = [to_patient(FIRST, subject="[FIN]"), to_patient(SECOND, at=LATER)]
    assert "MSS-MSG-025" not in lint(from_patient(in_reply_to=SECOND), conversation=conversation).codes


def test_a_fin_subject_to_another_patient_closes_nothing_here() -> None:
    conversation = [to_patient(FIRST), to_patient(SECOND, to=[OTHER_PATIENT], subject="[FIN]")]
    assert "MSS-MSG-025" not in lint(from_patient(in_reply_to=FIRST), conversation=conversation).codes


def test_the_last_reference_is_the_message_answered() -> None:
    closed = to_patient(FIRST, no_reply=True)
    reply = from_patient(references=["<root@pharmacie-4-cantons.mssante.fr>", FIRST])
    [finding] = [finding for finding in lint(reply, conversation=[closed]) if finding.code == "MSS-MSG-025"]
    assert finding.where == "References"


def test_a_professional_answering_a_closed_message_is_not_judged() -> None:
    closed = to_patient(FIRST, no_reply=True)
    answer = to_patient(SECOND, in_reply_to=FIRST)
    assert "MSS-MSG-025" not in lint(answer, conversation=[closed]).codes


def test_an_unknown_message_answered_is_no_finding() -> None:
    closed = to_patient(FIRST, no_reply=True)
    assert "MSS-MSG-025" not in lint(from_patient(in_reply_to=SECOND), conversation=[closed]).codes

"""Mon espace santé's limits and bounces: 25 Mo at most to a patient, and why a DSN says delivery failed.

Sources: CNAM, ENS Mon espace santé Messagerie V1.3 §6 (RG-E009-085 and -086, as quoted): a message over 25 Mo comes
back as ``Undelivered Mail Returned to Sender``; « Message non distribué » for a closed mailbox, an unknown patient
or an invalid address. Status codes: RFC 3463.
"""

from __future__ import annotations

import datetime as dt
import os
from email.message import EmailMessage

import pytest

from mssante.errors import InvalidInput
from mssante.message import (
    PATIENT_MESSAGE_MAX_BYTES,
    Attachment,
    Bounce,
    BounceReason,
    Dsn,
    DsnRecipient,
    bounce_reason,
    classify_bounces,
    compose,
    lint,
    parse,
)
from mssante.report import Severity

AT = dt.datetime(2024, 1, 16, 8, 0, tzinfo=dt.timezone.utc)
PATIENT = "279035121518989@patient.mssante.fr"
DOCTOR = "pierre.didot@pharmacie-4-cantons.mssante.fr"
COLLEAGUE = "stephane.medioni@mssante.fr"
MIB = 1024 * 1024


# --- 25 Mo to a patient (MSS-MSG-026) ------------------------------------------------------------------------------


def test_the_limit_is_25_million_bytes() -> None:
    """« 25 Mo »: the SI mégaoctet, the smaller reading, so that a message under it passes either way."""
    assert PATIENT_MESSAGE_MAX_BYTES == 25 * 10**6 < 25 * MIB


def _with(size: int, to: str) -> EmailMessage:
    scan = Attachment(filename="imagerie.bin", content=os.urandom(size), content_type="application/octet-stream")
    return compose(sender=DOCTOR, to=[to], nil="DEV935997", at=AT, subject="Imagerie", text="Bonjour",
                   attachments=[scan])  # fmt: skip


@pytest.fixture(scope="module")
def large() -> bytes:
    """A message between 25 × 10^6 and 25 × 2^20 bytes as sent, to a professional."""
    data = _with(18_700_000, COLLEAGUE).as_bytes()
    assert PATIENT_MESSAGE_MAX_BYTES < len(data) < 25 * MIB
    return data


def test_compose_refuses_a_message_to_a_patient_over_25_mo(large: bytes) -> None:
    with pytest.raises(InvalidInput) as caught:
        _with(18_700_000, PATIENT)
    assert caught.value.report.codes == ("MSS-MSG-026",)
    assert PATIENT in str(caught.value)


def test_the_same_message_to_a_professional_is_composed(large: bytes) -> None:
    assert "MSS-MSG-026" not in lint(large).codes


def test_lint_says_a_message_to_a_patient_is_over_25_mo(large: bytes) -> None:
    to_patient = large.replace(f"To: {COLLEAGUE}".encode(), f"To: {PATIENT}".encode(), 1)
    report = lint(to_patient)
    [finding] = [finding for finding in report if finding.code == "MSS-MSG-026"]
    assert finding.severity is Severity.ERROR
    assert f"{len(to_patient):,} bytes" in finding.message


def test_a_message_to_a_patient_under_the_limit_passes() -> None:
    small = _with(1000, PATIENT)
    assert "MSS-MSG-026" not in lint(small).codes


# --- why a delivery failed ------------------------------------------------------------------------------------------


def failed(status: str, diagnostic: str | None = None) -> DsnRecipient:
    return DsnRecipient(final_recipient=PATIENT, action="failed", status=status, diagnostic_code=diagnostic,
                        diagnostic_type="smtp" if diagnostic else None)  # fmt: skip


@pytest.mark.parametrize(
    ("status", "diagnostic", "reason"),
    [
        # the words of the diagnostic first (French or English), whatever the status
        ("5.1.1", "550 5.1.1 Message non distribué : la messagerie de ce patient est fermée", "mailbox_closed"),
        ("5.0.0", "550 Mailbox disabled, not accepting messages", "mailbox_closed"),
        ("5.1.1", "550 5.1.1 Patient non trouvé", "unknown_recipient"),
        ("5.1.1", "550 5.1.1 <x@patient.mssante.fr>: Recipient address rejected: User unknown", "unknown_recipient"),
        ("5.1.1", "550 5.1.1 Adresse invalide", "invalid_address"),
        ("5.0.0", "Host or domain name not found", "invalid_address"),
        ("5.3.4", "552 5.3.4 Message size exceeds fixed limit", "too_large"),
        ("5.0.0", "message size 30000000 exceeds size limit 25000000 of server mx.patient.mssante.fr", "too_large"),
        # then the status (RFC 3463)
        ("5.2.1", None, "mailbox_closed"),
        ("5.1.6", None, "mailbox_closed"),
        ("5.1.1", "550 5.1.1 Mailbox unavailable", "unknown_recipient"),
        ("5.1.3", None, "invalid_address"),
        ("5.1.2", None, "invalid_address"),
        ("5.1.10", None, "invalid_address"),
        ("5.2.3", None, "too_large"),
        ("5.3.4", None, "too_large"),
        # else other
        ("5.7.1", "554 5.7.1 Relay access denied", "other"),
        ("5.2.2", "552 5.2.2 Mailbox full", "other"),
        ("4.4.7", None, "other"),
    ],
)
def test_a_failure_is_classified(status: str, diagnostic: str | None, reason: str) -> None:
    assert bounce_reason(failed(status, diagnostic)) is BounceReason(reason)


@pytest.mark.parametrize(("action", "status"), [("delivered", "2.0.0"), ("delayed", "4.4.1"), ("relayed", "2.0.0")])
def test_only_a_failure_has_a_reason(action: str, status: str) -> None:
    assert bounce_reason(DsnRecipient(final_recipient=PATIENT, action=action, status=status)) is None


def test_the_human_text_tells_the_cause_of_a_lone_failure() -> None:
    recipient = failed("5.0.0", "550 5.0.0 Rejected")
    human = "Message non distribué.\n\nLe patient est introuvable dans Mon espace santé.\n"
    dsn = Dsn(reporting_mta="mx.patient.mssante.fr", recipients=[recipient], human_text=human)
    assert classify_bounces(dsn) == (Bounce(recipient=recipient, reason=BounceReason.UNKNOWN_RECIPIENT),)
    assert bounce_reason(recipient) is BounceReason.OTHER  # without it


def test_the_human_text_is_not_read_for_several_failures() -> None:
    one, two = failed("5.0.0", "550 5.0.0 Rejected"), failed("5.2.1")
    dsn = Dsn(reporting_mta="mx.patient.mssante.fr", recipients=[one, two],
              human_text="Le patient est introuvable.")  # fmt: skip
    assert [bounce.reason for bounce in classify_bounces(dsn)] == [BounceReason.OTHER, BounceReason.MAILBOX_CLOSED]


def test_a_delivered_recipient_is_no_bounce() -> None:
    dsn = Dsn(reporting_mta="mx.patient.mssante.fr", recipients=[
        DsnRecipient(final_recipient=COLLEAGUE, action="delivered", status="2.0.0"), failed("5.3.4")])  # fmt: skip
    [bounce] = classify_bounces(dsn)
    assert (bounce.address, bounce.reason, str(bounce.reason)) == (PATIENT, BounceReason.TOO_LARGE, "too_large")


def returned(status: str, diagnostic: str, human: str, subject: str) -> bytes:
    """A bounce as a Postfix MTA writes it: the human text, the delivery-status block, the original's headers."""
    return (
        "From: MAILER-DAEMON@mx.patient.mssante.fr (Mail Delivery System)\r\n"
        f"To: {DOCTOR}\r\n"
        f"Subject: {subject}\r\n"
        "Message-ID: <20240116080100.4TmQ1x2Y3z@mx.patient.mssante.fr>\r\n"
        "Date: Tue, 16 Jan 2024 09:01:00 +0100\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="4TmQ1x2Y3z.1705392060"\r\n'
        "\r\n"
        "--4TmQ1x2Y3z.1705392060\r\n"
        "Content-Description: Notification\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n"
        "\r\n"
        f"{human}\r\n"
        "--4TmQ1x2Y3z.1705392060\r\n"
        "Content-Description: Delivery report\r\n"
        "Content-Type: message/delivery-status\r\n"
        "\r\n"
        "Reporting-MTA: dns; mx.patient.mssante.fr\r\n"
        "X-Postfix-Queue-ID: 4TmQ1x2Y3z\r\n"
        "Arrival-Date: Tue, 16 Jan 2024 09:00:00 +0100\r\n"
        "\r\n"
        f"Final-Recipient: rfc822; {PATIENT}\r\n"
        f"Original-Recipient: rfc822;{PATIENT}\r\n"
        "Action: failed\r\n"
        f"Status: {status}\r\n"
        f"Diagnostic-Code: X-Postfix; {diagnostic}\r\n"
        "\r\n"
        "--4TmQ1x2Y3z.1705392060\r\n"
        "Content-Description: Undelivered Message Headers\r\n"
        "Content-Type: text/rfc822-headers\r\n"
        "\r\n"
        f"From: {DOCTOR}\r\n"
        f"To: {PATIENT}\r\n"
        "Subject: Imagerie\r\n"
        "Message-ID: <imagerie.1@pharmacie-4-cantons.mssante.fr>\r\n"
        "\r\n"
        "--4TmQ1x2Y3z.1705392060--\r\n"
    ).encode()


@pytest.mark.parametrize(
    ("status", "diagnostic", "human", "subject", "reason"),
    [
        ("5.3.4", "message size 30000000 exceeds size limit 25000000 of server mx.patient.mssante.fr",
         "I'm sorry to have to inform you that your message could not be delivered to one or more recipients.",
         "Undelivered Mail Returned to Sender", BounceReason.TOO_LARGE),
        ("5.0.0", "message refused", "Message non distribué : la messagerie du patient est fermée.",
         "Message non distribué", BounceReason.MAILBOX_CLOSED),
        ("5.1.1", "unknown recipient", "Message non distribué : patient non trouvé.",
         "Message non distribué", BounceReason.UNKNOWN_RECIPIENT),
        ("5.1.3", "bad address", "Message non distribué : adresse invalide.",
         "Message non distribué", BounceReason.INVALID_ADDRESS),
    ],
    ids=["too-large", "closed", "unknown", "invalid"],
)  # fmt: skip
def test_parse_reads_the_bounces_of_mon_espace_sante(
    status: str, diagnostic: str, human: str, subject: str, reason: BounceReason
) -> None:
    message = parse(returned(status, diagnostic, human, subject))
    assert message.kind == "dsn"
    [bounce] = message.bounces
    assert (bounce.address, bounce.reason, bounce.recipient.status) == (PATIENT, reason, status)


def test_a_message_that_is_no_dsn_has_no_bounce() -> None:
    assert parse(_with(10, COLLEAGUE)).bounces == ()

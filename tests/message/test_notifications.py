"""MDN (RFC 8098, CI-SIS forms), the CI-SIS KO mail, and DSN (RFC 3464): build, read back, refuse bad input."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import email.utils
from collections.abc import Callable
from email.message import EmailMessage, Message

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mssante.errors import InvalidInput
from mssante.message import (
    INTEGRATION_ERRORS,
    Disposition,
    Dsn,
    DsnRecipient,
    Mdn,
    build_ko_mail,
    build_mdn,
    lint,
    mdn_needs_confirmation,
    parse_delivery_status,
    parse_disposition_notification,
)
from mssante.message import notification_codes as codes
from mssante.message import parse as parse_message
from mssante.message._notification_values import KO_SUBJECT_PREFIX
from mssante.message._report_reading import MAX_BLOCK_BYTES, MAX_DSN_RECIPIENTS, MAX_MDN_FIELDS
from mssante.report import Code, finding_codes
from tests.message.reports import block_of, read_report

SUBJECT = "XDM/1.0/DDM+ECHOGRAPHIE ABDOMINOPELVIENNE CORSE FIGATELLIX 12/10/1988"
SENDER = "serviceY@chb.mssante.fr"
AUTO = "serviceY_auto@chb.mssante.fr"
ORIGINAL_ID = "<20240219230100.23456@chb.mssante.fr>"
PFI = "pfi.chb.mssante.fr; PFI de l'établissement-B"
AT = dt.datetime(2024, 2, 20, 0, 19, tzinfo=dt.timezone(dt.timedelta(hours=1)))
ZIP = b"PK\x03\x04" + bytes(range(256)) * 4
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n%%EOF\n"
PDF_NAME = "20220531_CR d'imagerie médicale_CORSE_FIGATELLIX.pdf"
DEFAULT = email.policy.default


def make_original(**headers: str) -> EmailMessage:
    """The MSSanté mail an MDN answers: XDM subject, a receipt request, IHE_XDM.zip and a PDF."""
    message = EmailMessage()
    message["Return-Path"] = f"<{SENDER}>"  # as delivered: the envelope sender, the address the MDN goes to
    message["From"] = SENDER
    message["To"] = AUTO
    message["Subject"] = SUBJECT
    message["Date"] = "Mon, 19 Feb 2024 23:01:00 +0100"
    message["Message-ID"] = ORIGINAL_ID
    message["Disposition-Notification-To"] = SENDER
    message["X-MSS-NIL"] = "DEV935997"
    for name, value in headers.items():
        del message[name.replace("_", "-")]
        message[name.replace("_", "-")] = value
    message.set_content("Ici apparaît le corps du courriel MSSanté.\n")
    message.add_attachment(ZIP, maintype="application", subtype="zip", filename="IHE_XDM.zip")
    message.add_attachment(PDF, maintype="application", subtype="pdf", filename=PDF_NAME)
    return message


def reread(message: EmailMessage) -> EmailMessage:
    received = email.message_from_bytes(message.as_bytes(), policy=DEFAULT)
    assert isinstance(received, EmailMessage)
    return received


def part_of(message: Message, content_type: str) -> Message:
    return next(part for part in message.walk() if part.get_content_type() == content_type)


def human_text(message: Message) -> str:
    data = part_of(message, "text/plain").get_payload(decode=True)
    assert isinstance(data, bytes)
    return data.decode("utf-8")


def attempt(parse: Callable[[bytes], Mdn | Dsn], block: bytes) -> Mdn | Dsn | InvalidInput:
    try:
        return parse(block)
    except InvalidInput as error:
        return error


def refusal(parse: object, block: bytes) -> InvalidInput:
    assert callable(parse)
    with pytest.raises(InvalidInput) as caught:
        parse(block)
    return caught.value


def the_codes(error: InvalidInput) -> set[str]:
    return set(error.report.codes)


# --- MDN: build and read back ------------------------------------------------------------------------------------


def test_success_mdn_round_trips() -> None:
    mdn = build_mdn(
        original=make_original(),
        reporting_ua=PFI,
        final_recipient=AUTO,
        disposition=Disposition.processed(),
        at=AT,
        sender=AUTO,
    )
    received = reread(mdn)
    assert received.get_content_type() == "multipart/report"
    assert received.get_param("report-type") == "disposition-notification"
    assert [part.get_content_type() for part in received.iter_parts()] == [
        "text/plain",
        "message/disposition-notification",
        "message/rfc822",
        "application/zip",  # the original's IHE_XDM.zip and PDF again, after the report (the volet's example)
        "application/pdf",
    ]
    text = human_text(received)
    parsed = parse_disposition_notification(block_of(received, "message/disposition-notification"), human_text=text)
    assert parsed == Mdn(
        reporting_ua=PFI,
        original_recipient=AUTO,
        final_recipient=AUTO,
        original_message_id=ORIGINAL_ID,
        disposition=Disposition(),
        human_text=text,
    )
    assert not parsed.is_error
    assert "a été traité" in text
    assert received["Subject"] == SUBJECT
    assert received["To"] == SENDER
    assert received["From"] == AUTO
    assert received["In-Reply-To"] == ORIGINAL_ID
    assert received["References"] == ORIGINAL_ID
    assert received["Auto-Submitted"] == "auto-replied"
    assert email.utils.parsedate_to_datetime(received["Date"]) == AT
    assert read_report(received) == parsed


def test_error_mdn_round_trips_in_the_rfc_8098_form_on_request() -> None:
    disposition = Disposition.integration_error("902")
    mdn = build_mdn(
        original=make_original(),
        reporting_ua=PFI,
        final_recipient=AUTO,
        disposition=disposition,
        at=AT,
        sender=AUTO,
        message_id="<20240220001900.12345@chb.mssante.fr>",
        form="rfc8098",
    )
    raw = mdn.as_bytes()
    assert b"Disposition: automatic-action/MDN-sent-automatically; processed/error\n" in raw
    assert b"\nError: 902^Identifiant patient inconnu\n" in raw
    assert b"\nReporting-UA: pfi.chb.mssante.fr; PFI de l'\xc3\xa9tablissement-B\n" in raw
    assert b"\nOriginal-Recipient: rfc822;serviceY_auto@chb.mssante.fr\n" in raw
    received = email.message_from_bytes(raw, policy=DEFAULT)
    assert received["Subject"] == f"{KO_SUBJECT_PREFIX}[902] {SUBJECT}"
    assert received["Message-ID"] == "<20240220001900.12345@chb.mssante.fr>"
    text = human_text(received)
    assert "902" in text
    assert INTEGRATION_ERRORS["902"] in text
    parsed = parse_disposition_notification(block_of(received, "message/disposition-notification"), human_text=text)
    assert parsed == Mdn(
        reporting_ua=PFI,
        original_recipient=AUTO,
        final_recipient=AUTO,
        original_message_id=ORIGINAL_ID,
        disposition=disposition,
        error="902^Identifiant patient inconnu",
        human_text=text,
    )
    assert (parsed.is_error, parsed.error_code, parsed.error_label) == (True, "902", "Identifiant patient inconnu")


def test_the_original_travels_whole_in_the_third_part() -> None:
    received = reread(
        build_mdn(
            original=make_original(),
            reporting_ua=PFI,
            final_recipient=AUTO,
            disposition=Disposition.integration_error("903"),
            at=AT,
            sender=AUTO,
        )
    )
    enclosed = part_of(received, "message/rfc822").get_payload(0)
    assert isinstance(enclosed, EmailMessage)
    assert enclosed["Subject"] == SUBJECT
    assert enclosed["Message-ID"] == ORIGINAL_ID
    attachments = {part.get_filename(): part.get_payload(decode=True) for part in enclosed.iter_attachments()}
    assert attachments == {"IHE_XDM.zip": ZIP, PDF_NAME: PDF}


def test_every_code_and_label_round_trips_even_non_ascii_and_long() -> None:
    for code, label in INTEGRATION_ERRORS.items():
        mdn = build_mdn(
            original=make_original(),
            reporting_ua=PFI,
            final_recipient=AUTO,
            disposition=Disposition.integration_error(code),
            at=AT,
            sender=AUTO,
            include_original=False,
        )
        received = email.message_from_bytes(mdn.as_bytes(), policy=email.policy.compat32)
        parsed = read_report(received)
        assert isinstance(parsed, Mdn)
        assert (parsed.error_code, parsed.error_label, parsed.error) == (code, label, f"{code}^{label}")
        assert parsed.meaning is not None
        assert (parsed.meaning.code, parsed.meaning.label) == (code, label)


def test_mdn_options_and_original_recipient() -> None:
    original = make_original(Original_Recipient="rfc822;secretariat@chb.mssante.fr")
    mdn = build_mdn(
        original=original,
        reporting_ua="pfi.chb.mssante.fr",
        final_recipient=AUTO,
        disposition=Disposition(action_mode="manual-action", sending_mode="MDN-sent-manually", type="displayed"),
        at=AT,
        sender=f"Service Y (auto) <{AUTO}>",
        human_text="Lu.\n",
        include_original=False,
    )
    received = reread(mdn)
    assert [part.get_content_type() for part in received.iter_parts()] == [
        "text/plain",
        "message/disposition-notification",
        "application/zip",
        "application/pdf",
    ]
    parsed = read_report(received)
    assert isinstance(parsed, Mdn)
    assert parsed.original_recipient == "secretariat@chb.mssante.fr"
    assert parsed.disposition == Disposition(
        action_mode="manual-action", sending_mode="MDN-sent-manually", type="displayed"
    )
    assert parsed.human_text == "Lu.\n"
    assert str(parsed.disposition) == "manual-action/MDN-sent-manually; displayed"


def test_mdn_threads_references_and_survives_long_identifiers() -> None:
    long_id = "<" + "a" * 150 + "@chb.mssante.fr>"
    original = make_original(Message_ID=long_id, References="<older@x.fr> <old@y.fr>")
    received = reread(
        build_mdn(
            original=original,
            reporting_ua=PFI,
            final_recipient=AUTO,
            disposition=Disposition.processed(),
            at=AT,
            sender=AUTO,
            include_original=False,
        )
    )
    assert received["In-Reply-To"] == long_id
    assert received["References"].split() == ["<older@x.fr>", "<old@y.fr>", long_id]
    parsed = read_report(received)
    assert isinstance(parsed, Mdn)
    assert parsed.original_message_id == long_id


def test_mdn_refusals() -> None:
    def build(original: Message, **overrides: object) -> EmailMessage:
        arguments: dict[str, object] = {
            "original": original,
            "reporting_ua": PFI,
            "final_recipient": AUTO,
            "disposition": Disposition.processed(),
            "at": AT,
            "sender": AUTO,
        } | overrides
        return build_mdn(**arguments)  # type: ignore[arg-type]

    unrequested = make_original()
    del unrequested["Disposition-Notification-To"]
    with pytest.raises(ValueError, match="Disposition-Notification-To"):
        build(unrequested)
    an_mdn = reread(build(make_original()))
    an_mdn["Disposition-Notification-To"] = SENDER
    with pytest.raises(ValueError, match="MDN"):
        build(an_mdn)
    with pytest.raises(ValueError, match="timezone"):
        build(make_original(), at=dt.datetime(2024, 2, 20, 0, 19))
    with pytest.raises(ValueError, match="empty"):
        build(make_original(), reporting_ua="  ")
    with pytest.raises(ValueError, match="address"):
        build(make_original(), final_recipient="not an address")
    with pytest.raises(ValueError, match="address"):
        build(make_original(), sender="nobody")
    with pytest.raises(ValueError, match="message_id"):
        build(make_original(), message_id="no-angle-brackets@x.fr")


@pytest.mark.parametrize(
    "field",
    ["reporting_ua", "final_recipient", "sender", "message_id"],
)
@pytest.mark.parametrize("breaker", ["\r\n", "\n", "\r", "\r\n ", "\x00", "\x85", "\u2028"])
def test_mdn_builder_refuses_header_injection(field: str, breaker: str) -> None:
    values = {
        "reporting_ua": PFI,
        "final_recipient": AUTO,
        "sender": AUTO,
        "message_id": "<id@chb.mssante.fr>",
    }
    values[field] = values[field] + breaker + "Bcc: victim@example.com"
    with pytest.raises(ValueError, match="line break or control"):
        build_mdn(
            original=make_original(),
            disposition=Disposition.processed(),
            at=AT,
            reporting_ua=values["reporting_ua"],
            final_recipient=values["final_recipient"],
            sender=values["sender"],
            message_id=values["message_id"],
        )


@pytest.mark.parametrize("breaker", ["\r\n", "\n", "\r\nBcc: x@y.fr", "\x0b"])
def test_disposition_refuses_injected_labels(breaker: str) -> None:
    with pytest.raises(ValueError, match="line break or control"):
        Disposition.integration_error("902", "Identifiant" + breaker + "inconnu")


def test_a_hostile_original_cannot_inject_through_its_headers() -> None:
    original = Message()  # compat32 stores whatever it is given
    original["From"] = SENDER
    original["Subject"] = "XDM/1.0/DDM+X\nBcc: victim@example.com"
    original["Disposition-Notification-To"] = SENDER
    original.set_payload("body")
    with pytest.raises(ValueError, match="Subject"):
        build_mdn(
            original=original,
            reporting_ua=PFI,
            final_recipient=AUTO,
            disposition=Disposition.processed(),
            at=AT,
            sender=AUTO,
            confirmed=True,  # it has no Return-Path
        )
    with pytest.raises(ValueError, match="Subject"):
        build_ko_mail(original=original, code="902", label="x", sender=AUTO, at=AT)


@settings(max_examples=200, deadline=None)
@given(reporting_ua=st.text(max_size=300), label=st.text(max_size=300))
def test_builder_values_come_back_unchanged_or_are_refused(reporting_ua: str, label: str) -> None:
    try:
        disposition = Disposition.integration_error("906", label)
        mdn = build_mdn(
            original=make_original(),
            reporting_ua=reporting_ua,
            final_recipient=AUTO,
            disposition=disposition,
            at=AT,
            sender=AUTO,
            include_original=False,
        )
    except ValueError:
        return
    received = reread(mdn)
    assert received["To"] == SENDER  # no header was added or replaced
    assert "Bcc" not in received
    parsed = read_report(received)
    assert isinstance(parsed, Mdn)
    assert parsed.reporting_ua == reporting_ua.strip()
    assert parsed.disposition == disposition


# --- MDN: the ANS example forms ----------------------------------------------------------------------------------

# struct-msg-mdn.md, 2025 version: the error inside Disposition.
ANS_OLDER = (
    b"Original-Recipient: rfc822;serviceY_auto@chb.mssante.fr\n"
    b"Final-Recipient: rfc822;serviceY_auto@chb.mssante.fr\n"
    b"Original-Message-ID: <20240219230100.23456@chb.mssante.fr>\n"
    b"Disposition:automatic-action/MDN-sent-automatically; processed/Error: 902^Identifiant de patient "
    b"inconnu^messageErrorCondition| E^Error^errorSeverity\n"
)
# Later revision of the page: Reporting-UA, processed/error and a separate Error field.
ANS_NEWER = (
    "Reporting-UA: pfi.chb.mssante.fr; PFI de l'établissement-B\r\n"
    "Original-Recipient: rfc822;serviceY_auto@chb.mssante.fr\r\n"
    "Final-Recipient: rfc822;serviceY_auto@chb.mssante.fr\r\n"
    "Original-Message-ID: <20240219230100.23456@chb.mssante.fr>\r\n"
    "Disposition: automatic-action/MDN-sent-automatically; processed/error\r\n"
    "Error: 902^Identifiant de patient inconnu^applicationErrorCondition| E^Error^errorSeverity\r\n"
).encode()


def test_ans_older_error_form() -> None:
    parsed = parse_disposition_notification(ANS_OLDER)
    assert parsed.final_recipient == parsed.original_recipient == AUTO
    assert parsed.original_message_id == ORIGINAL_ID
    assert parsed.reporting_ua is None
    assert parsed.disposition == Disposition(
        modifier="error", error_code="902", error_label="Identifiant de patient inconnu"
    )
    assert parsed.error == "902^Identifiant de patient inconnu^messageErrorCondition| E^Error^errorSeverity"


def test_ans_newer_error_form() -> None:
    parsed = parse_disposition_notification(ANS_NEWER, human_text="Le document n’a pas pu être intégré.")
    assert parsed.reporting_ua == PFI
    assert parsed.final_recipient == AUTO
    assert (parsed.error_code, parsed.error_label) == ("902", "Identifiant de patient inconnu")
    assert parsed.error == "902^Identifiant de patient inconnu^applicationErrorCondition| E^Error^errorSeverity"
    assert parsed.human_text == "Le document n’a pas pu être intégré."
    older = parse_disposition_notification(ANS_OLDER)
    assert parsed.disposition == older.disposition


def test_ans_example_message_whole() -> None:
    raw = (
        "Date: Tue, 20 Feb 2024 00:19:00 +0100 (CET)\n"
        "From: serviceY_auto@chb.mssante.fr\n"
        "Message-ID: <20240220001900.12345@chb.mssante.fr>\n"
        "Subject: =?utf-8?q?=5BKO_Int=C3=A9gration_syst=C3=A8me_!=5D=5B902=5D?= XDM/1.0/DDM+ECHOGRAPHIE\n"
        " ABDOMINOPELVIENNE CORSE FIGATELLIX 12/10/1988\n"
        "To: serviceY@chb.mssante.fr\n"
        "MIME-Version: 1.0\n"
        'Content-Type: multipart/report; report-type=disposition-notification;\n boundary="RAA14128.773615765"\n'
        "\n"
        "--RAA14128.773615765\n"
        'Content-Type: text/plain; charset="UTF-8"\n'
        "Content-Transfer-Encoding: 8bit\n"
        "\n"
        "Le document n’a pas pu être intégré.\n"
        "Le système a retourné l'erreur 902^Identifiant de patient inconnu\n"
        "\n"
        "--RAA14128.773615765\n"
        "Content-Type: message/disposition-notification\n"
        "\n" + ANS_NEWER.decode() + "\n"
        "--RAA14128.773615765\n"
        "Content-Type: message/rfc822\n"
        "\n"
        "Subject: XDM/1.0/DDM+ECHOGRAPHIE ABDOMINOPELVIENNE CORSE FIGATELLIX 12/10/1988\n"
        "\n"
        "Ici apparaît le contenu du courriel MSSanté à l’origine du MDN et ses pièces jointes.\n"
        "\n"
        "--RAA14128.773615765--\n"
    ).encode()
    for policy in (DEFAULT, email.policy.compat32):
        parsed = read_report(email.message_from_bytes(raw, policy=policy))
        assert isinstance(parsed, Mdn)
        assert parsed.reporting_ua == PFI
        assert parsed.error_code == "902"
        assert parsed.human_text.startswith("Le document n’a pas pu être intégré.")


def test_folded_lines_case_and_line_endings() -> None:
    block = (
        b"final-recipient: RFC822; <serviceY_auto@chb.mssante.fr>\r"
        b"DISPOSITION: Automatic-Action/mdn-SENT-automatically;\r\n"
        b"\tProcessed /\r\n"
        b"   Error\n"
        b"Error: 905^L'INS transmis\n"
        b"  n'est pas complet\n"
        b"MDN-Gateway: dns; gw.chb.mssante.fr\n"
        b"X-Trace: abc\n"
        b"Error: a second error field\n"
    )
    parsed = parse_disposition_notification(block)
    assert parsed.final_recipient == AUTO
    assert parsed.disposition == Disposition(
        modifier="error", error_code="905", error_label="L'INS transmis  n'est pas complet"
    )
    assert parsed.extension_fields == (
        ("MDN-Gateway", "dns; gw.chb.mssante.fr"),
        ("X-Trace", "abc"),
        ("Error", "a second error field"),
    )


def test_error_texts_without_a_code_and_errors_without_the_modifier() -> None:
    base = b"Final-Recipient: rfc822;a@b.fr\n"
    free = parse_disposition_notification(
        base + b"Disposition: automatic-action/MDN-sent-automatically; processed/error\nError: mailbox full\n"
    )
    assert (free.is_error, free.error_code, free.error) == (True, None, "mailbox full")
    number = parse_disposition_notification(
        base + b"Disposition: automatic-action/MDN-sent-automatically; processed/error\nError: 906\n"
    )
    assert (number.error_code, number.error_label) == ("906", None)
    stray = parse_disposition_notification(
        base + b"Disposition: automatic-action/MDN-sent-automatically; processed\nError: 902^x\n"
    )
    assert (stray.is_error, stray.error_code, stray.error) == (False, None, "902^x")
    several = parse_disposition_notification(
        base + b"Disposition: automatic-action/MDN-sent-automatically; deleted/error, X-Custom\n"
    )
    assert several.disposition.modifiers == ("error", "x-custom")
    assert several.is_error


@pytest.mark.parametrize(
    "value",
    [
        b"automatic-action; processed",
        b"automatic-action/MDN-sent-automatically",
        b"automatic-action/MDN-sent-automatically; read",
        b"robot-action/MDN-sent-automatically; processed",
        b"automatic-action/MDN-sent-by-pigeon; processed",
        b"automatic-action/MDN-sent-automatically; processed/",
        b"automatic-action/MDN-sent-automatically; processed/not an atom",
        b"automatic-action/MDN-sent-automatically; processed; extra",
        b"",
    ],
)
def test_malformed_dispositions(value: bytes) -> None:
    error = refusal(parse_disposition_notification, b"Final-Recipient: rfc822;a@b.fr\nDisposition: " + value + b"\n")
    assert the_codes(error) == {codes.MDN_BAD_DISPOSITION.id}
    assert "Disposition" in str(error) or "disposition" in str(error)


@pytest.mark.parametrize(
    ("block", "code"),
    [
        (b"Disposition: automatic-action/MDN-sent-automatically; processed\n", codes.MDN_MISSING),
        (b"Final-Recipient: rfc822;a@b.fr\n", codes.MDN_MISSING),
        (b"", codes.MDN_MISSING),
        (
            b"Final-Recipient: rfc822;a@b.fr\nDisposition: automatic-action/MDN-sent-automatically; processed\n"
            b"Disposition: automatic-action/MDN-sent-automatically; deleted\n",
            codes.MDN_REPEATED,
        ),
        (
            b"Final-Recipient: rfc822;\nDisposition: automatic-action/MDN-sent-automatically; processed\n",
            codes.MDN_EMPTY,
        ),
        (b"Final-Recipient rfc822;a@b.fr\n", codes.MDN_BAD_LINE),
        (b" folded: first\nFinal-Recipient: rfc822;a@b.fr\n", codes.MDN_BAD_LINE),
        (b"Final-Recipient: rfc822;a@b.fr\n\n continued after a blank line\n", codes.MDN_BAD_LINE),
        (b"Final-Recipient: rfc822;a@b.fr\x00\n", codes.MDN_CONTROL),
        (b"Final-Recipient: rfc822;a@b.fr\xc2\x85Bcc: x\n", codes.MDN_CONTROL),
        (b"X-A: " + b"a" * MAX_BLOCK_BYTES, codes.MDN_TOO_LARGE),
        (b"X-A: b\n" * (MAX_MDN_FIELDS + 1), codes.MDN_TOO_MANY_FIELDS),
    ],
)
def test_mdn_block_refusals(block: bytes, code: Code) -> None:
    error = refusal(parse_disposition_notification, block)
    assert the_codes(error) == {code.id}
    assert not error.report.ok


def test_non_utf8_blocks_are_read_as_windows_1252() -> None:
    parsed = parse_disposition_notification(
        b"Final-Recipient: rfc822;a@b.fr\n"
        b"Disposition: automatic-action/MDN-sent-automatically; processed/error\n"
        b"Error: 901^Auteur non autoris\xe9\n"
    )
    assert parsed.error_label == "Auteur non autorisé"


def test_disposition_values_are_validated() -> None:
    with pytest.raises(ValueError, match="modifier"):
        Disposition(error_code="902")
    with pytest.raises(ValueError, match="code"):
        Disposition(modifier="error", error_label="x")
    with pytest.raises(ValueError, match="'\\^'"):
        Disposition.integration_error("902", "a^b")
    with pytest.raises(ValueError, match="code"):
        Disposition.integration_error("9 02")
    with pytest.raises(ValueError, match="action_mode"):
        Disposition(action_mode="robot-action")
    with pytest.raises(ValueError, match="atoms"):
        Disposition(modifier="not an atom")
    with pytest.raises(ValueError, match="give its label"):  # a code of no table of the volet, without its label
        Disposition.integration_error("999")
    assert Disposition.integration_error("999", "Erreur locale").error_label == "Erreur locale"
    assert Disposition.integration_error("101").error_label == "Required field missing"  # HL7 messageErrorCondition
    assert Disposition.integration_error("902", "Mon libellé").error_label == "Mon libellé"
    with pytest.raises(ValueError, match="field name"):
        Mdn(final_recipient="a@b.fr", disposition=Disposition(), extension_fields=[("Bad Name", "x")])
    with pytest.raises(ValueError, match="line break"):
        Mdn(final_recipient="a@b.fr", disposition=Disposition(), error="a\r\nb")
    with pytest.raises(ValueError, match="empty"):
        Mdn(final_recipient=" ", disposition=Disposition())


def test_mdn_needs_confirmation() -> None:
    assert mdn_needs_confirmation(make_original(Return_Path=f"<{SENDER}>")) is False
    assert mdn_needs_confirmation(make_original(Return_Path="<bounces@chb.mssante.fr>")) is True
    unreturned = make_original()
    del unreturned["Return-Path"]
    assert mdn_needs_confirmation(unreturned) is True  # no Return-Path: ask


# --- the KO mail ---------------------------------------------------------------------------------------------------


def test_ko_mail() -> None:
    mail = build_ko_mail(
        original=make_original(),
        code="902",
        label=INTEGRATION_ERRORS["902"],
        sender=AUTO,
        at=AT,
        message_id="<ko.1@chb.mssante.fr>",
    )
    received = reread(mail)
    assert received.get_content_type() == "multipart/mixed"
    assert received["Subject"] == f"[KO Intégration système !][902] {SUBJECT}"
    assert received["To"] == SENDER
    assert received["From"] == AUTO
    assert received["Message-ID"] == "<ko.1@chb.mssante.fr>"
    assert received["In-Reply-To"] == ORIGINAL_ID
    body = received.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    assert "Code d’erreur : 902" in text
    assert "Erreur détectée : Identifiant patient inconnu" in text
    attachments = {part.get_filename(): part.get_payload(decode=True) for part in received.iter_attachments()}
    assert attachments == {"IHE_XDM.zip": ZIP, PDF_NAME: PDF}
    assert read_report(received) is None


def test_ko_mail_goes_to_reply_to_and_can_embed_the_original() -> None:
    original = make_original(Reply_To="secretariat@chb.mssante.fr")
    received = reread(
        build_ko_mail(original=original, code="904", label="INS différent", sender=AUTO, at=AT, embed_original=True)
    )
    assert received["To"] == "secretariat@chb.mssante.fr"
    enclosed_part, *documents = received.iter_attachments()  # the original whole, then its files (the volet's example)
    assert [part.get_filename() for part in documents] == ["IHE_XDM.zip", PDF_NAME]
    assert enclosed_part.get_content_type() == "message/rfc822"
    assert enclosed_part.get_filename() == "message_original.eml"
    enclosed = enclosed_part.get_content()
    assert {part.get_filename() for part in enclosed.iter_attachments()} == {"IHE_XDM.zip", PDF_NAME}
    overridden = build_ko_mail(original=original, code="904", label="x", sender=AUTO, at=AT, to="pfi@chb.mssante.fr")
    assert overridden["To"] == "pfi@chb.mssante.fr"


@pytest.mark.parametrize(
    "overrides",
    [
        {"label": "Identifiant\r\nBcc: victim@example.com"},
        {"label": "Identifiant\ninconnu"},
        {"code": "902\r\nBcc: victim@example.com"},
        {"code": "902] [x"},
        {"code": ""},
        {"sender": "a@b.fr\r\nBcc: victim@example.com"},
        {"to": "a@b.fr\nBcc: victim@example.com"},
        {"message_id": "<a@b.fr>\r\nBcc: victim@example.com"},
        {"at": dt.datetime(2024, 2, 20)},
    ],
)
def test_ko_mail_refusals(overrides: dict[str, object]) -> None:
    arguments: dict[str, object] = {
        "original": make_original(),
        "code": "902",
        "label": "Identifiant patient inconnu",
        "sender": AUTO,
        "at": AT,
    } | overrides
    with pytest.raises(ValueError):  # noqa: PT011 - the reason varies with the value
        build_ko_mail(**arguments)  # type: ignore[arg-type]


def test_ko_mail_reattaches_every_kind_of_attachment() -> None:
    original = make_original()
    original.add_attachment("a;b\n1;2\n", subtype="csv", filename="liste.csv")
    forwarded = EmailMessage()
    forwarded["Subject"] = "un courriel joint"
    forwarded.set_content("corps joint\n")
    original.add_attachment(forwarded, filename="joint.eml")
    received = reread(build_ko_mail(original=original, code="906", label="Erreur 'Autre'", sender=AUTO, at=AT))
    attachments = {part.get_filename(): part for part in received.iter_attachments()}
    assert list(attachments) == ["IHE_XDM.zip", PDF_NAME, "liste.csv", "joint.eml"]
    assert attachments["liste.csv"].get_content_type() == "text/csv"
    assert attachments["liste.csv"].get_payload(decode=True) == b"a;b\n1;2\n"
    enclosed = attachments["joint.eml"].get_content()
    assert isinstance(enclosed, EmailMessage)
    assert enclosed["Subject"] == "un courriel joint"


def test_ko_mail_needs_somebody_to_write_to() -> None:
    original = make_original()
    del original["From"]
    with pytest.raises(ValueError, match="Reply-To"):
        build_ko_mail(original=original, code="902", label="x", sender=AUTO, at=AT)


# --- DSN -----------------------------------------------------------------------------------------------------------

POSTFIX_BOUNCE = b"""\
Reporting-MTA: dns; mail.chb.mssante.fr
X-Postfix-Queue-ID: 4Q2Xk71FZLz9v1r
X-Postfix-Sender: rfc822; serviceY@chb.mssante.fr
Arrival-Date: Mon, 14 Oct 2024 10:02:03 +0200 (CEST)

Final-Recipient: rfc822; inconnu@chu-x.mssante.fr
Original-Recipient: rfc822;inconnu@chu-x.mssante.fr
Action: failed
Status: 5.1.1
Remote-MTA: dns; mx1.chu-x.mssante.fr
Diagnostic-Code: smtp; 550 5.1.1 <inconnu@chu-x.mssante.fr>: Recipient address
    rejected: User unknown in virtual mailbox table

Final-Recipient: rfc822; cardio@chu-y.mssante.fr
Original-Recipient: rfc822;cardio@chu-y.mssante.fr
Action: delayed
Status: 4.4.1
Diagnostic-Code: X-Postfix; connect to mx.chu-y.mssante.fr[192.0.2.7]:25:
    Connection timed out
Will-Retry-Until: Sat, 19 Oct 2024 10:02:03 +0200 (CEST)
"""

POSTFIX_DELIVERED = b"""\
Reporting-MTA: dns; mail.chb.mssante.fr
X-Postfix-Queue-ID: 4Q2Y0B2XyTz9v1s
X-Postfix-Sender: rfc822; serviceY@chb.mssante.fr
Arrival-Date: Mon, 14 Oct 2024 10:05:41 +0200 (CEST)

Final-Recipient: rfc822; dr.martin@chu-x.mssante.fr
Original-Recipient: rfc822;dr.martin@chu-x.mssante.fr
Action: delivered
Status: 2.0.0
Remote-MTA: dns; mx1.chu-x.mssante.fr
Diagnostic-Code: smtp; 250 2.0.0 Ok: queued as 4Q2Y0C0mRkz9v1t
"""

EXCHANGE_NDR = (
    b"Reporting-MTA: dns;PR3PR01MB6842.eurprd01.prod.exchangelabs.com\r\n"
    b"Received-From-MTA: dns;PR3PR01MB6842.eurprd01.prod.exchangelabs.com\r\n"
    b"Arrival-Date: Tue, 15 Oct 2024 08:30:12 +0000\r\n"
    b"\r\n"
    b"Original-Recipient: rfc822;dr.dupont@clinique-z.fr\r\n"
    b"Final-Recipient: rfc822;dr.dupont@clinique-z.fr\r\n"
    b"Action: failed\r\n"
    b"Status: 5.1.10\r\n"
    b"Diagnostic-Code: smtp;550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup\r\n"
    b"Remote-MTA: dns;\r\n"
    b"X-Display-Name: Dr Dupont\r\n"
    b"\r\n"
)


def test_postfix_bounce_with_a_failed_and_a_delayed_recipient() -> None:
    dsn = parse_delivery_status(POSTFIX_BOUNCE, human_text="I'm sorry to have to inform you...")
    assert dsn.reporting_mta == "mail.chb.mssante.fr"
    assert dsn.arrival_date == dt.datetime(2024, 10, 14, 8, 2, 3, tzinfo=dt.timezone.utc)
    assert dsn.extension_fields == (
        ("X-Postfix-Queue-ID", "4Q2Xk71FZLz9v1r"),
        ("X-Postfix-Sender", "rfc822; serviceY@chb.mssante.fr"),
    )
    assert dsn.human_text == "I'm sorry to have to inform you..."
    failed, delayed = dsn.recipients
    assert dsn.failed == (failed,)
    assert failed.final_recipient == failed.original_recipient == "inconnu@chu-x.mssante.fr"
    assert (failed.action, failed.status, failed.status_class) == ("failed", "5.1.1", "permanent")
    assert failed.remote_mta == "mx1.chu-x.mssante.fr"
    assert failed.diagnostic_type == "smtp"
    assert failed.diagnostic_code is not None
    assert " ".join(failed.diagnostic_code.split()) == (
        "550 5.1.1 <inconnu@chu-x.mssante.fr>: Recipient address rejected: User unknown in virtual mailbox table"
    )
    assert (delayed.action, delayed.status, delayed.status_class) == ("delayed", "4.4.1", "persistent")
    assert delayed.diagnostic_type == "X-Postfix"
    assert delayed.will_retry_until == dt.datetime(2024, 10, 19, 10, 2, 3, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert delayed.remote_mta is None


def test_postfix_success_notification() -> None:
    dsn = parse_delivery_status(POSTFIX_DELIVERED)
    (recipient,) = dsn.recipients
    assert (recipient.action, recipient.status, recipient.status_class) == ("delivered", "2.0.0", "success")
    assert recipient.diagnostic_code == "250 2.0.0 Ok: queued as 4Q2Y0C0mRkz9v1t"
    assert dsn.failed == ()


def test_exchange_ndr() -> None:
    dsn = parse_delivery_status(EXCHANGE_NDR)
    assert dsn.reporting_mta == dsn.received_from_mta == "PR3PR01MB6842.eurprd01.prod.exchangelabs.com"
    (recipient,) = dsn.recipients
    assert recipient.final_recipient == "dr.dupont@clinique-z.fr"
    assert (recipient.status, recipient.status_class) == ("5.1.10", "permanent")
    assert recipient.diagnostic_code == (
        "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup"
    )
    assert recipient.remote_mta is None
    assert recipient.extension_fields == (("X-Display-Name", "Dr Dupont"),)


def test_status_comments_envelope_id_and_naive_dates() -> None:
    dsn = parse_delivery_status(
        b"Original-Envelope-Id: 0123456789\n"
        b"Reporting-MTA: dns; mx.example.fr\n"
        b"Arrival-Date: Tue, 15 Oct 2024 08:30:12 -0000\n\n\n"
        b"Final-Recipient: rfc822;a@example.fr\n"
        b"Action: Failed\n"
        b"Status: 5.0.0 (permanent failure)\n"
        b"Last-Attempt-Date: Tue, 15 Oct 2024 08:31:00 +0000\n"
        b"Final-Log-ID: 12345\n"
    )
    assert dsn.original_envelope_id == "0123456789"
    assert dsn.arrival_date is not None
    assert dsn.arrival_date.utcoffset() == dt.timedelta(0)
    (recipient,) = dsn.recipients
    assert (recipient.action, recipient.status, recipient.final_log_id) == ("failed", "5.0.0", "12345")
    assert recipient.last_attempt_date == dt.datetime(2024, 10, 15, 8, 31, tzinfo=dt.timezone.utc)


def test_a_whole_bounce_read_through_the_email_package() -> None:
    bounce = (
        b"From: MAILER-DAEMON@mail.chb.mssante.fr (Mail Delivery System)\n"
        b"Subject: Undelivered Mail Returned to Sender\n"
        b"To: serviceY@chb.mssante.fr\n"
        b"MIME-Version: 1.0\n"
        b'Content-Type: multipart/report; report-type=delivery-status;\n boundary="4Q2Xk71FZLz9v1r.1728892923/mail"\n'
        b"\n"
        b"--4Q2Xk71FZLz9v1r.1728892923/mail\n"
        b"Content-Description: Notification\n"
        b"Content-Type: text/plain; charset=us-ascii\n"
        b"\n"
        b"This is the mail system at host mail.chb.mssante.fr.\n"
        b"\n"
        b"--4Q2Xk71FZLz9v1r.1728892923/mail\n"
        b"Content-Description: Delivery report\n"
        b"Content-Type: message/delivery-status\n"
        b"\n" + POSTFIX_BOUNCE + b"\n"
        b"--4Q2Xk71FZLz9v1r.1728892923/mail\n"
        b"Content-Description: Undelivered Message Headers\n"
        b"Content-Type: text/rfc822-headers\n"
        b"\n"
        b"Subject: " + SUBJECT.encode() + b"\n"
        b"\n"
        b"--4Q2Xk71FZLz9v1r.1728892923/mail--\n"
    )
    expected = parse_delivery_status(
        POSTFIX_BOUNCE, human_text="This is the mail system at host mail.chb.mssante.fr.\n"
    )
    for policy in (DEFAULT, email.policy.compat32):
        message = email.message_from_bytes(bounce, policy=policy)
        block = block_of(message, "message/delivery-status")
        assert parse_delivery_status(block, human_text=expected.human_text) == expected
        assert read_report(message) == expected


@pytest.mark.parametrize(
    ("block", "found"),
    [
        (b"", {codes.DSN_NO_REPORTING_MTA}),
        (b"Reporting-MTA: dns; mx.example.fr\n", {codes.DSN_NO_RECIPIENT}),
        (
            b"Arrival-Date: Tue, 15 Oct 2024 08:30:12 +0000\n\nFinal-Recipient: rfc822;a@b.fr\nAction: failed\n"
            b"Status: 5.1.1\n",
            {codes.DSN_NO_REPORTING_MTA},
        ),
        (b"Reporting-MTA: dns; mx\n\nFinal-Recipient: rfc822;a@b.fr\nStatus: 5.1.1\n", {codes.DSN_MISSING}),
        (b"Reporting-MTA: dns; mx\n\nAction: failed\nStatus: 5.1.1\n", {codes.DSN_MISSING}),
        (
            b"Reporting-MTA: dns; mx\n\nFinal-Recipient: rfc822;a@b.fr\nAction: bounced\nStatus: 5.1.1\n",
            {codes.DSN_BAD_ACTION},
        ),
        (
            b"Reporting-MTA: dns; mx\n\nFinal-Recipient: rfc822;a@b.fr\nAction: failed\nStatus: 550\n",
            {codes.DSN_BAD_STATUS},
        ),
        (
            b"Reporting-MTA: dns; mx\n\nFinal-Recipient: rfc822;a@b.fr\nAction: failed\nStatus: 3.1.1\n",
            {codes.DSN_BAD_STATUS},
        ),
        (
            b"Reporting-MTA: dns; mx\nArrival-Date: yesterday\n\nFinal-Recipient: rfc822;a@b.fr\nAction: failed\n"
            b"Status: 5.1.1\n",
            {codes.DSN_BAD_DATE},
        ),
        (
            b"Reporting-MTA: dns; mx\n\nFinal-Recipient: rfc822;a@b.fr\nAction: failed\nAction: delayed\n"
            b"Status: 5.1.1\n",
            {codes.DSN_REPEATED},
        ),
        (b"Reporting-MTA: dns; mx\n\nFinal-Recipient: rfc822;\nAction: failed\nStatus: 5.1.1\n", {codes.DSN_EMPTY}),
        (b"Reporting-MTA: dns; mx\n\nFinal-Recipient: rfc822;a@b.fr\nAction:\nStatus: 5.1.1\n", {codes.DSN_EMPTY}),
        (
            b"Reporting-MTA: dns; mx\n\nFinal-Recipient: rfc822;a@b.fr\nAction: failed\nStatus 5.1.1\n",
            {codes.DSN_BAD_LINE},
        ),
        (b"Reporting-MTA: dns; mx\x00\n", {codes.DSN_CONTROL}),
        (b"Reporting-MTA: dns; mx\n\n" + b"X-A: b\n" * 201, {codes.DSN_TOO_MANY_FIELDS}),
        (
            b"Reporting-MTA: dns; mx\n\nAction: bounced\nStatus: 9\n\nFinal-Recipient: rfc822;\nAction: failed\n",
            {codes.DSN_MISSING, codes.DSN_BAD_ACTION, codes.DSN_BAD_STATUS, codes.DSN_EMPTY},
        ),
    ],
)
def test_dsn_block_refusals(block: bytes, found: set[Code]) -> None:
    error = refusal(parse_delivery_status, block)
    assert the_codes(error) == {code.id for code in found}


def test_huge_blocks_are_refused() -> None:
    for parse, code in (
        (parse_disposition_notification, codes.MDN_TOO_LARGE),
        (parse_delivery_status, codes.DSN_TOO_LARGE),
    ):
        error = refusal(parse, b"X: " + b"a" * (MAX_BLOCK_BYTES + 1))
        assert the_codes(error) == {code.id}
        assert str(MAX_BLOCK_BYTES) in str(error)


RECIPIENT = b"Final-Recipient: rfc822;a@b.fr\nAction: failed\nStatus: 5.1.1\n\n"


def test_too_many_recipients_are_refused() -> None:
    at_limit = parse_delivery_status(b"Reporting-MTA: dns; mx\n\n" + RECIPIENT * MAX_DSN_RECIPIENTS)
    assert len(at_limit.recipients) == MAX_DSN_RECIPIENTS
    over = refusal(parse_delivery_status, b"Reporting-MTA: dns; mx\n\n" + RECIPIENT * (MAX_DSN_RECIPIENTS + 1))
    assert the_codes(over) == {codes.DSN_TOO_MANY_RECIPIENTS.id}
    compact = b"Reporting-MTA: dns; mx\n\n" + b"X:a\n\n" * 100_000
    assert len(compact) < MAX_BLOCK_BYTES
    assert the_codes(refusal(parse_delivery_status, compact)) == {codes.DSN_TOO_MANY_RECIPIENTS.id}
    huge = b"Reporting-MTA: dns; mx\n\n" + RECIPIENT * 100_000
    assert the_codes(refusal(parse_delivery_status, huge)) == {codes.DSN_TOO_LARGE.id}


def test_dsn_values_are_validated() -> None:
    recipient = DsnRecipient(final_recipient="a@b.fr", action="failed", status="5.1.1")
    with pytest.raises(ValueError, match="status"):
        attrs.evolve(recipient, status="5.1")
    with pytest.raises(ValueError, match="action"):
        attrs.evolve(recipient, action="bounced")
    with pytest.raises(ValueError, match="timezone"):
        attrs.evolve(recipient, last_attempt_date=dt.datetime(2024, 1, 1))
    with pytest.raises(ValueError, match="line break"):
        attrs.evolve(recipient, diagnostic_code="550\r\nBcc: x")
    with pytest.raises(ValueError, match="at least one"):
        Dsn(reporting_mta="mx", recipients=())
    assert Dsn(reporting_mta="mx", recipients=[recipient]).recipients == (recipient,)


# --- hostile input -------------------------------------------------------------------------------------------------

FRAGMENTS = [
    b"Final-Recipient: rfc822;a@b.fr",
    b"Original-Recipient: rfc822;",
    b"Disposition: automatic-action/MDN-sent-automatically; processed",
    b"Disposition: automatic-action/MDN-sent-automatically; processed/Error: 902^x",
    b"Disposition: manual-action/MDN-sent-manually; displayed/error",
    b"Error: 902^Identifiant^",
    b"Error: ^",
    b"Reporting-UA: x;y",
    b"Reporting-MTA: dns; mx",
    b"Arrival-Date: Mon, 14 Oct 2024 10:02:03 +0200",
    b"Arrival-Date: Mon, 99 Foo 99999 99:99:99 +9999",
    b"Last-Attempt-Date: 0",
    b"Action: failed",
    b"Action: delayed",
    b"Status: 5.1.1",
    b"Status: 4.999.999 (",
    b"Diagnostic-Code: smtp; 550 5.1.1",
    b"Remote-MTA: dns;",
    b"X-Postfix-Sender: rfc822; a@b",
    b" folded",
    b"\t",
    b"",
    b"=?utf-8?q?=0D=0A?=",
    b"\xff\xfe",
    b"\xc3\xa9",
    b":",
]


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2000))
def test_garbage_bytes_give_a_value_or_invalid_input(block: bytes) -> None:
    for parse in (parse_disposition_notification, parse_delivery_status):
        result = attempt(parse, block)
        assert isinstance(result, (Mdn, Dsn)) or not result.report.ok


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.sampled_from(FRAGMENTS), max_size=40),
    st.sampled_from([b"\n", b"\r\n", b"\r"]),
)
def test_field_shaped_garbage_gives_a_value_or_invalid_input(fragments: list[bytes], newline: bytes) -> None:
    block = newline.join(fragments)
    for parse in (parse_disposition_notification, parse_delivery_status):
        result = attempt(parse, block)
        if isinstance(result, InvalidInput):
            assert not result.report.ok
            assert all(code.startswith(("MSS-MDN-", "MSS-DSN-")) for code in result.report.codes)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=3000))
def test_garbage_mail_gives_a_report_none_or_invalid_input(data: bytes) -> None:
    message = email.message_from_bytes(
        b"Content-Type: multipart/report; boundary=b\n\n--b\nContent-Type: message/delivery-status\n\n"
        + data
        + b"\n--b\nContent-Type: message/disposition-notification\n\n"
        + data
        + b"\n--b--\n",
        policy=DEFAULT,
    )
    try:
        result = read_report(message)
    except InvalidInput:
        return
    assert result is None or isinstance(result, (Mdn, Dsn))


def test_codes_are_registered_and_distinct() -> None:
    declared = [value for value in vars(codes).values() if isinstance(value, Code)]
    registry = {code.id: code for code in finding_codes()}
    assert declared
    assert len({code.id for code in declared}) == len(declared)
    for code in declared:
        assert registry[code.id] is code
        assert code.id.startswith(("MSS-MDN-", "MSS-DSN-"))


@pytest.mark.parametrize(
    ("report_type", "kind", "code"),
    [
        ("disposition-notification", "mdn", "MSS-MDN-009"),
        ("Disposition-Notification", "mdn", "MSS-MDN-009"),
        ("delivery-status", "dsn", "MSS-DSN-014"),
        ("global-delivery-status", "dsn", "MSS-DSN-014"),
    ],
)
def test_a_report_without_its_block_is_a_broken_notification(report_type: str, kind: str, code: str) -> None:
    raw = (
        b"From: " + SENDER.encode() + b"\r\nTo: dr@chu.mssante.fr\r\nSubject: Accuse\r\nMIME-Version: 1.0\r\n"
        b"Message-ID: <r.1@chb.mssante.fr>\r\n"
        b"Content-Type: multipart/report; report-type=" + report_type.encode() + b'; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: text/plain\r\n\r\nLu.\r\n--b--\r\n"
    )
    with pytest.raises(InvalidInput) as raised:
        read_report(email.message_from_bytes(raw, policy=DEFAULT))
    assert raised.value.report.codes == (code,)
    message = parse_message(raw)
    assert (message.kind, message.mdn, message.dsn) == (kind, None, None)
    assert code in {finding.code for finding in message.findings}
    assert code in lint(message).codes
    other = parse_message(raw.replace(b"report-type=" + report_type.encode(), b"report-type=feedback-report"))
    assert other.kind == "message"  # a report of another type is not a notification
    assert read_report(email.message_from_bytes(raw.replace(report_type.encode(), b"tlsrpt"), policy=DEFAULT)) is None

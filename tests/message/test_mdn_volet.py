"""Read receipts as the CI-SIS volet writes them, round-tripped on the volet's own examples.

The volet is "Transmission au LPS d'un document CDA provenant d'un courriel MSSanté"
(``ansforge/IG-hl7v2-volet-trans-lps-doc-cda-courriel-mss``, HEAD bb83dc2 of 2025-04-02):

- ``struct-msg-mdn.md``: the error goes inside Disposition, ``processed/Error: <code>^<label>``; the original's
  ``IHE_XDM.zip`` and PDF go back with the MDN (its example: extra top-level parts after the report's three);
  an MDN needs the user's confirmation when Disposition-Notification-To differs from Return-Path (RFC 8098 §2.1).
- ``struct-email-standard.md``: the plain mail (``[KO Intégration système !][<code>]``) when no MDN was asked for,
  the original and its files attached.
- ``error-codes.md``: the codes (900 to 906 application errors, 900 and 901 about a replacement or a deletion; the
  HL7 errors of messageErrorCondition).
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
from email.message import EmailMessage, Message

import pytest

from mssante.message import (
    INTEGRATION_ERRORS,
    MDN_FORMS,
    Disposition,
    IntegrationError,
    Mdn,
    MdnNeedsConfirmation,
    build_ko_mail,
    build_mdn,
    ko_code,
    parse,
    parse_disposition_notification,
)
from mssante.report import finding_codes
from tests.message.reports import block_of, read_report

# struct-msg-mdn.md, « Exemple d'un MDN », byte for byte (its typos too: the em dash after two boundaries,
# "Content-Transfert-Encoding", no blank line after the parts' headers, trailing spaces).
VOLET_MDN = "\n".join(
    (
        "Date: Wed, 20 Feb 2024 00:19:00 (EDT) -0400",
        "From: serviceY_auto@chb.mssante.fr",
        "Message-Id: <199509200019.12345>",
        (
            "Subject: [KO Intégration système !][902] XDM/1.0/DDM+ECHOGRAPHIE ABDOMINOPELVIENNE CORSE"
            " FIGATELLIX 12/10/1988"
        ),
        "To: serviceY@chb.mssante.fr",
        "MIME-Version: 1.0",
        ('Content-Type: multipart/report; report-type=disposition-notification; boundary="RAA14128.773615765"'),
        "--RAA14128.773615765",
        "Le document n’a pas pu être intégré.",
        (
            "Le système a retourné l'erreur 902^Identifiant de patient inconnu^messageErrorCondition|"
            " E^Error^errorSeverity"
        ),
        "--RAA14128.773615765",
        "Content-Type: message/disposition-notification",
        "Original-Recipient: rfc822;serviceY_auto@chb.mssante.fr ",
        "Final-Recipient: rfc822; serviceY_auto@chb.mssante.fr ",
        "Original-Message-ID: <199509192301.23456 >",
        (
            "Disposition:automatic-action/MDN-sent-automatically; processed/Error: 902^Identifiant de"
            " patient inconnu^messageErrorCondition| E^Error^errorSeverity"
        ),
        "--RAA14128.773615765",
        "Content-Type: message/rfc822",
        "Ici apparaît le contenu du courriel MSSanté à l’origine du MDN et ses pièces jointes.",
        "--RAA14128.773615765—",
        'Content-Type: application/zip ; name="IHE_XDM.zip"',
        "Content-Transfert-Encoding: base64",
        'Content-Disposition: attachment;filename= "IHE_XDM.zip"',
        "",
        "Ici apparaît le fichier IHE_XDM.zip encode en base64.",
        "--RAA14128.773615765—",
        'Content-Type: application/pdf ; name="20220531_CR d\'imagerie médicale_CORSE_FIGATELLIX.pdf"',
        "Content-Transfert-Encoding: base64",
        'Content-Disposition: attachment;filename= "20220531_CR d\'imagerie médicale_CORSE_FIGATELLIX.pdf"',
        "",
        "Ici apparaît le fichier 20220531_CR d'imagerie médicale_CORSE_FIGATELLIX.pdf encodé en base64.",
        "--RAA14128.773615765--",
        "",
        "",
    )
).encode()

# struct-email-standard.md, « Exemple de courriel », byte for byte.
VOLET_KO_MAIL = "\n".join(
    (
        "Date: Wed, 20 Feb 2024 00:19:00 -0400",
        "From: serviceY_auto@chb.mssante.fr",
        "To: serviceY@chb.mssante.fr",
        "Message-ID: <199509200019.12345@chb.mssante.fr>",
        (
            "Subject: [Erreur d’intégration !][902] XDM/1.0/DDM+ECHOGRAPHIE ABDOMINOPELVIENNE CORSE"
            " FIGATELLIX 12/10/1988"
        ),
        "MIME-Version: 1.0",
        'Content-Type: multipart/mixed; boundary="boundary12345"',
        "",
        "--boundary12345",
        'Content-Type: text/plain; charset="UTF-8"',
        "Content-Transfer-Encoding: 7bit",
        "",
        "Bonjour,",
        "",
        "Le document envoyé n’a pas pu être intégré correctement dans le système. ",
        "Voici les détails de l’erreur rencontrée :",
        "",
        "- Erreur détectée : Identifiant de patient inconnu",
        "- Code d’erreur : 902",
        "",
        "",
        "Vous trouverez en pièce jointe :",
        "1. Le message original contenant le document soumis.",
        "2. Les fichiers liés (archive ZIP et PDF associés au message original).",
        "",
        ("Veuillez vérifier les informations fournies et soumettre à nouveau les documents après correction. "),
        "Si le problème persiste, contactez notre service technique.",
        "",
        "Cordialement,  ",
        "L’équipe technique du service Y  ",
        "",
        "--boundary12345",
        "Content-Type: message/rfc822",
        'Content-Disposition: attachment; filename="message_original.eml"',
        "",
        "<Insérer ici le contenu du courriel MSSanté à l’origine  et ses pièces jointes>",
        "",
        "--boundary12345",
        'Content-Type: application/zip; name="IHE_XDM.zip"',
        "Content-Transfer-Encoding: base64",
        'Content-Disposition: attachment; filename="IHE_XDM.zip"',
        "",
        "<Ici apparaît le fichier IHE_XDM.zip encodé en base64>",
        "",
        "--boundary12345",
        'Content-Type: application/pdf; name="20220531_CR_d_imagerie_medicale_CORSE_FIGATELLIX.pdf"',
        "Content-Transfer-Encoding: base64",
        'Content-Disposition: attachment; filename="20220531_CR_d_imagerie_medicale_CORSE_FIGATELLIX.pdf"',
        "",
        "<Ici apparaît le fichier 20220531_CR_d_imagerie_medicale_CORSE_FIGATELLIX.pdf encodé en base64>",
        "",
        "--boundary12345--",
        "",
    )
).encode()

SUBJECT = "XDM/1.0/DDM+ECHOGRAPHIE ABDOMINOPELVIENNE CORSE FIGATELLIX 12/10/1988"
SERVICE = "serviceY@chb.mssante.fr"
AUTO = "serviceY_auto@chb.mssante.fr"
ORIGINAL_ID = "<199509192301.23456@chb.mssante.fr>"
AT = dt.datetime(2024, 2, 20, 0, 19, tzinfo=dt.timezone(dt.timedelta(hours=-4)))
ZIP = b"PK\x03\x04" + bytes(range(256)) * 3
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n%%EOF\n"
PDF_NAME = "20220531_CR d'imagerie médicale_CORSE_FIGATELLIX.pdf"  # the name in the MDN example
VOLET_LABEL = "Identifiant de patient inconnu"  # the example's spelling; the table says "Identifiant patient inconnu"
VOLET_DISPOSITION = "automatic-action/MDN-sent-automatically; processed/Error: 902^Identifiant de patient inconnu"


def volet_original(**headers: str) -> EmailMessage:
    """The mail of the volet's use case: to the service's applicative mailbox, with a receipt asked for."""
    message = EmailMessage()
    message["Return-Path"] = f"<{SERVICE}>"
    message["From"] = SERVICE
    message["To"] = AUTO
    message["Subject"] = SUBJECT
    message["Date"] = "Tue, 19 Feb 2024 23:01:00 -0400"
    message["Message-ID"] = ORIGINAL_ID
    message["Disposition-Notification-To"] = SERVICE
    for name, value in headers.items():
        del message[name.replace("_", "-")]
        if value:
            message[name.replace("_", "-")] = value
    message.set_content("Ici apparaît le corps du courriel MSSanté.\n")
    message.add_attachment(ZIP, maintype="application", subtype="zip", filename="IHE_XDM.zip")
    message.add_attachment(PDF, maintype="application", subtype="pdf", filename=PDF_NAME)
    return message


def volet_mdn(original: Message | None = None, **options: object) -> EmailMessage:
    arguments: dict[str, object] = {
        "original": original if original is not None else volet_original(),
        "reporting_ua": "pfi.chb.mssante.fr",
        "final_recipient": AUTO,
        "disposition": Disposition.integration_error("902", VOLET_LABEL),
        "at": AT,
        "sender": AUTO,
    } | options
    return build_mdn(**arguments)  # type: ignore[arg-type]


def reread(message: EmailMessage) -> EmailMessage:
    received = email.message_from_bytes(message.as_bytes(), policy=email.policy.default)
    assert isinstance(received, EmailMessage)
    return received


def block_lines(message: Message) -> list[str]:
    return block_of(message, "message/disposition-notification").decode().splitlines()


# --- the error inside Disposition: written by default, read in every form --------------------------------------


def test_the_volets_example_is_read_as_it_is_written() -> None:
    for policy in (email.policy.default, email.policy.compat32):
        parsed = read_report(email.message_from_bytes(VOLET_MDN, policy=policy))
        assert isinstance(parsed, Mdn)
        assert parsed.final_recipient == parsed.original_recipient == AUTO
        assert parsed.original_message_id == "<199509192301.23456 >"
        assert (parsed.error_code, parsed.error_label) == ("902", VOLET_LABEL)
        assert parsed.error == "902^Identifiant de patient inconnu^messageErrorCondition| E^Error^errorSeverity"
        assert parsed.meaning is IntegrationError.UNKNOWN_PATIENT
        assert parsed.human_text.startswith("Le document n’a pas pu être intégré.")


def test_build_mdn_writes_the_volets_form_by_default() -> None:
    received = reread(volet_mdn())
    lines = block_lines(received)
    assert f"Disposition: {VOLET_DISPOSITION}" in lines
    assert not [line for line in lines if line.lower().startswith("error:")]  # no separate Error field
    assert "Original-Message-ID: " + ORIGINAL_ID in lines
    assert "Final-Recipient: rfc822;" + AUTO in lines
    assert received["Subject"] == f"[KO Intégration système !][902] {SUBJECT}"
    assert received["To"] == SERVICE
    # what the volet's example says, read back the same
    ours = read_report(received)
    theirs = read_report(email.message_from_bytes(VOLET_MDN, policy=email.policy.default))
    assert isinstance(ours, Mdn)
    assert isinstance(theirs, Mdn)
    assert ours.disposition == theirs.disposition
    assert (ours.final_recipient, ours.original_recipient) == (theirs.final_recipient, theirs.original_recipient)


def test_the_default_label_is_the_tables_and_both_spellings_are_read() -> None:
    received = reread(volet_mdn(disposition=Disposition.integration_error("902")))
    assert "Disposition: automatic-action/MDN-sent-automatically; processed/Error: 902^Identifiant patient inconnu" in (
        block_lines(received)
    )
    for label in (INTEGRATION_ERRORS["902"], VOLET_LABEL):
        disposition = f"automatic-action/MDN-sent-automatically; processed/Error: 902^{label}"
        parsed = parse_disposition_notification(
            f"Final-Recipient: rfc822;{AUTO}\nDisposition: {disposition}\n".encode()
        )
        assert (parsed.error_label, parsed.meaning) == (label, IntegrationError.UNKNOWN_PATIENT)
    longest = reread(volet_mdn(disposition=Disposition.integration_error("904")))  # on one line, as the volet has it
    assert (
        f"Disposition: automatic-action/MDN-sent-automatically; processed/Error: 904^{INTEGRATION_ERRORS['904']}"
        in (block_lines(longest))
    )


def test_the_rfc_8098_form_on_request_reads_back_to_the_same_disposition() -> None:
    assert MDN_FORMS == ("volet", "rfc8098")
    volet = read_report(reread(volet_mdn()))
    rfc = reread(volet_mdn(form="rfc8098"))
    lines = block_lines(rfc)
    assert "Disposition: automatic-action/MDN-sent-automatically; processed/error" in lines
    assert f"Error: 902^{VOLET_LABEL}" in lines
    parsed = read_report(rfc)
    assert isinstance(parsed, Mdn)
    assert isinstance(volet, Mdn)
    assert parsed.disposition == volet.disposition
    with pytest.raises(ValueError, match="form"):
        volet_mdn(form="rfc3798")


def test_a_success_is_the_same_in_both_forms() -> None:
    for form in MDN_FORMS:
        lines = block_lines(reread(volet_mdn(disposition=Disposition.processed(), form=form)))
        assert "Disposition: automatic-action/MDN-sent-automatically; processed" in lines


# --- the original's documents go back with it -------------------------------------------------------------------


def test_the_xdm_archive_and_the_pdf_go_back_as_top_level_parts() -> None:
    original = volet_original()
    original.add_attachment(b"a;b\n", maintype="text", subtype="csv", filename="liste.csv")  # not the volet's pair
    received = reread(volet_mdn(original))
    parts = list(received.iter_parts())
    assert [part.get_content_type() for part in parts] == [
        "text/plain",
        "message/disposition-notification",
        "message/rfc822",
        "application/zip",
        "application/pdf",
    ]
    zip_part, pdf_part = parts[3:]
    assert (zip_part.get_filename(), zip_part.get_payload(decode=True)) == ("IHE_XDM.zip", ZIP)
    assert (pdf_part.get_filename(), pdf_part.get_payload(decode=True)) == (PDF_NAME, PDF)
    assert zip_part["Content-Transfer-Encoding"] == pdf_part["Content-Transfer-Encoding"] == "base64"
    assert zip_part.get_content_disposition() == "attachment"
    without = reread(volet_mdn(original, attach_documents=False, include_original=False))
    assert [part.get_content_type() for part in without.iter_parts()] == [
        "text/plain",
        "message/disposition-notification",
    ]
    assert parse(received.as_bytes()).kind == "mdn"


def test_the_volets_example_with_its_boundaries_repaired_reads_its_extra_parts() -> None:
    repaired = VOLET_MDN.replace("—".encode(), b"").replace(b"Transfert", b"Transfer")
    message = email.message_from_bytes(repaired, policy=email.policy.default)
    assert [part.get_content_type() for part in message.iter_parts()][-2:] == ["application/zip", "application/pdf"]
    parsed = read_report(message)
    assert isinstance(parsed, Mdn)
    assert parsed.error_code == "902"


# --- RFC 8098 §2.1: no automatic MDN to another address than the Return-Path -------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {"Return_Path": "<bounces@chb.mssante.fr>"},  # another address
        {"Return_Path": ""},  # none
        {"Return_Path": "<>"},  # the null sender
        {"Disposition_Notification_To": f"{SERVICE}, secretariat@chb.mssante.fr"},  # several addresses
    ],
    ids=["other-address", "no-return-path", "null-return-path", "several-addresses"],
)
def test_an_automatic_mdn_needs_the_users_confirmation(headers: dict[str, str]) -> None:
    original = volet_original(**headers)
    with pytest.raises(MdnNeedsConfirmation) as caught:
        volet_mdn(original)
    assert caught.value.report.codes == ("MSS-MDN-010",)
    title = next(code.title for code in finding_codes() if code.id == "MSS-MDN-010")
    assert "RFC 8098 §2.1" in title
    assert "volet" in title
    assert isinstance(caught.value, ValueError)  # an InvalidInput, with its report
    confirmed = read_report(reread(volet_mdn(original, confirmed=True)))
    assert isinstance(confirmed, Mdn)
    assert confirmed.error_code == "902"
    manual = Disposition(action_mode="manual-action", sending_mode="MDN-sent-manually", type="displayed")
    assert volet_mdn(original, disposition=manual)  # sent manually: the user gave permission for this one


def test_an_mdn_to_the_return_path_needs_no_confirmation() -> None:
    original = volet_original(Return_Path=f"<{SERVICE.upper()}>")  # compared without regard to case
    assert volet_mdn(original)["To"] == SERVICE


# --- the volet's codes ------------------------------------------------------------------------------------------


def test_a_code_of_no_table_is_refused_without_its_label() -> None:
    unknown = Disposition(modifier="error", error_code="42")  # as a received MDN may carry it
    with pytest.raises(ValueError, match="give its label"):
        volet_mdn(disposition=unknown)
    with pytest.raises(ValueError, match="give its label"):
        Disposition.integration_error("42")
    labelled = reread(volet_mdn(disposition=Disposition.integration_error("42", "Erreur du DPI")))
    assert "Disposition: automatic-action/MDN-sent-automatically; processed/Error: 42^Erreur du DPI" in (
        block_lines(labelled)
    )
    hl7 = reread(volet_mdn(disposition=Disposition.integration_error("101")))  # messageErrorCondition
    assert any(line.endswith("processed/Error: 101^Required field missing") for line in block_lines(hl7))


@pytest.mark.parametrize(
    ("code", "meaning", "refused"),
    [
        ("900", IntegrationError.STALE_VERSION, True),
        ("901", IntegrationError.NOT_AUTHORISED, True),
        ("902", IntegrationError.UNKNOWN_PATIENT, False),
        ("906", IntegrationError.OTHER, False),
    ],
)
def test_the_meaning_of_a_returned_code(code: str, meaning: IntegrationError, refused: bool) -> None:
    parsed = read_report(reread(volet_mdn(disposition=Disposition.integration_error(code))))
    assert isinstance(parsed, Mdn)
    assert parsed.meaning is meaning
    assert parsed.meaning.about_replacement_or_deletion is refused
    assert (meaning.code, meaning.label) == (code, INTEGRATION_ERRORS[code])
    assert IntegrationError.of(ko_code(f"[KO Intégration système !][{code}] {SUBJECT}")) is meaning


def test_codes_without_a_meaning() -> None:
    assert IntegrationError.of("101") is None
    assert IntegrationError.of(None) is None
    success = f"Final-Recipient: rfc822;{AUTO}\nDisposition: automatic-action/MDN-sent-automatically; processed\n"
    assert parse_disposition_notification(success.encode()).meaning is None


# --- the plain KO mail, when no MDN was asked for -----------------------------------------------------------------


def test_the_volets_ko_mail_example_says_its_code() -> None:
    example = email.message_from_bytes(VOLET_KO_MAIL, policy=email.policy.default)
    assert ko_code(str(example["Subject"])) == "902"  # the example's "[Erreur d’intégration !]" prefix
    assert ko_code(f"[KO Intégration système !][902] {SUBJECT}") == "902"  # the text's
    assert ko_code(SUBJECT) is None
    assert [(part.get_content_type(), part.get_filename()) for part in example.iter_parts()] == [
        ("text/plain", None),
        ("message/rfc822", "message_original.eml"),
        ("application/zip", "IHE_XDM.zip"),
        ("application/pdf", "20220531_CR_d_imagerie_medicale_CORSE_FIGATELLIX.pdf"),
    ]


def test_build_ko_mail_writes_what_the_example_shows() -> None:
    original = volet_original(Disposition_Notification_To="")  # no MDN asked for
    with pytest.raises(ValueError, match="build_ko_mail"):
        volet_mdn(original)
    mail = reread(build_ko_mail(original=original, code="902", sender=AUTO, at=AT, embed_original=True))
    assert [(part.get_content_type(), part.get_filename()) for part in mail.iter_parts()] == [
        ("text/plain", None),
        ("message/rfc822", "message_original.eml"),
        ("application/zip", "IHE_XDM.zip"),
        ("application/pdf", PDF_NAME),
    ]
    assert ko_code(str(mail["Subject"])) == "902"
    body = mail.get_body(("plain",))
    assert body is not None
    assert "Erreur détectée : Identifiant patient inconnu" in body.get_content()  # the table's label by default
    with pytest.raises(ValueError, match="give its label"):
        build_ko_mail(original=original, code="42", sender=AUTO, at=AT)
    labelled = build_ko_mail(original=original, code="42", label="Erreur du DPI", sender=AUTO, at=AT)
    assert str(labelled["Subject"]).startswith("[KO Intégration système !][42] ")


def test_parse_reads_the_volets_example_as_a_read_receipt() -> None:
    message = parse(VOLET_MDN)  # the fields right after the part's Content-Type, as the volet writes them
    assert message.kind == "mdn"
    assert message.mdn is not None
    assert (message.mdn.error_code, message.mdn.final_recipient) == ("902", AUTO)
    assert "MSS-MDN-011" in {finding.code for finding in message.findings}  # said, as a warning
    assert "MSS-MDN-005" not in {finding.code for finding in message.findings}

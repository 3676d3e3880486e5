"""Composing, reading back and linting MSSanté messages; every lint rule passing and failing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import attrs
import pytest

from mssante.errors import InvalidInput
from mssante.message import Attachment, Disposition, Message, build_mdn, compose, lint, parse
from mssante.xdm import Document, Package

DATA = Path(__file__).parent.parent / "data" / "xdm"
CDA = (DATA / "cisis-BIO-TROD_2024.01_COVID-19.xml").read_bytes()
AT = dt.datetime(2024, 1, 16, 8, 0, tzinfo=dt.timezone.utc)
PATIENT = "279035121518989@patient.mssante.fr"
DOCTOR = "pierre.didot@pharmacie-4-cantons.mssante.fr"
COLLEAGUE = "stephane.medioni@mssante.fr"
PDF = b"%PDF-1.4\n% a PDF/A-1 rendering of the CDA document\n<pdfaid:part>1</pdfaid:part>\n%%EOF\n"


# The submission set's contentTypeCode is in no CDA header: the sender gives it (JDV_J03, TRE_R209 26 Analyses).
CONTENT = {"content_type_code": {"code": "26", "scheme": "1.2.250.1.213.2.2"}}


@pytest.fixture(scope="module")
def package() -> Package:
    return Package.from_cda(CDA, at=AT, submission_set=CONTENT)


def patient_mail(package: Package, **changes: Any) -> EmailMessage:
    options: dict[str, Any] = {
        "sender": ("Dr Pierre DIDOT", DOCTOR), "to": [PATIENT], "nil": "DEV935997", "at": AT, "xdm": package,
        "pdf": PDF, "text": "Bonjour,\nvoici le résultat de votre test.\n", "read_receipt": True, "no_reply": True,
        "message_id": "<20240116080000.1@pharmacie-4-cantons.mssante.fr>",
    }  # fmt: skip
    options.update(changes)
    return compose(**options)


def codes_of(mail: EmailMessage | bytes) -> set[str]:
    return set(lint(mail).codes)


def test_a_patient_message_lints_clean(package: Package) -> None:
    report = lint(patient_mail(package))
    assert report.ok, report
    assert {finding.code for finding in report.warnings} <= {"MSS-XDM-043", "MSS-XDM-044"}  # the package's own


def test_it_parses_back_to_the_same_values(package: Package) -> None:
    mail = patient_mail(package)
    message = parse(mail.as_bytes())
    assert message.subject == "XDM/1.0/DDM+Test rapide d'orientation diagnostique PAT-TROIS DOMINIQUE 28/03/1979"
    assert message.sender is not None
    assert (message.sender.name, message.sender.address) == ("Dr Pierre DIDOT", DOCTOR)
    assert [mailbox.address for mailbox in message.to] == [PATIENT]
    assert message.message_id == "<20240116080000.1@pharmacie-4-cantons.mssante.fr>"
    assert message.date == AT
    assert (message.codecda, message.ins, message.nil, message.mes) == (("96173-0",), "O", "DEV935997", "FIN")
    assert message.text == "Bonjour,\nvoici le résultat de votre test.\n"
    assert [part.filename for part in message.attachments][:2] == [
        "IHE_XDM.zip", "20240106_Test rapide d'orientation diagnostique_PAT-TROIS_DOMINIQUE.pdf",
    ]  # fmt: skip
    [(_, read)] = message.packages
    assert read.metadata == package.metadata
    patient = message.patient
    assert patient is not None
    assert patient.ins is not None
    assert patient.ins.value == "279035121518989"
    assert (patient.family, patient.given, patient.birth_date, patient.gender) == (
        "PAT-TROIS", "DOMINIQUE", dt.date(1979, 3, 28), "F",
    )  # fmt: skip
    assert patient.qualified
    assert [str(address) for address in message.patient_recipients] == [PATIENT]
    assert message.kind == "message"
    assert not message.is_reply


def test_a_reply_carries_the_thread(package: Package) -> None:
    mail = patient_mail(package, to=[COLLEAGUE], no_reply=False, in_reply_to="<a@b.mssante.fr>",
                        references=["<root@b.mssante.fr>"])  # fmt: skip
    message = parse(mail.as_bytes())
    assert message.is_reply
    assert message.references == ("<root@b.mssante.fr>", "<a@b.mssante.fr>")


def test_a_plain_message_between_professionals() -> None:
    note = Attachment(filename="résumé à lire.txt", content=b"x", content_type="text/plain")
    mail = compose(
        sender=DOCTOR,
        to=[COLLEAGUE],
        cc=[("Secrétariat", "secretariat@chu-exemple.mssante.fr")],
        nil="DEV935997",
        at=AT,
        subject="Avis",
        text="Bonjour",
        html="<p>Bonjour</p>",
        attachments=[note],
    )
    assert lint(mail).ok, lint(mail)
    message = parse(mail.as_bytes())
    assert message.html == "<p>Bonjour</p>\n"
    assert message.attachments[-1].filename == "résumé à lire.txt"
    assert (message.codecda, message.ins) == ((), None)
    assert "filename*=utf-8''r%C3%A9sum%C3%A9" in mail.as_string()


@pytest.mark.parametrize("field", ["subject", "message_id", "in_reply_to"])
def test_header_injection_is_refused(package: Package, field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        patient_mail(package, **{field: "x\r\nBcc: victim@example.org"})
    assert caught.value.report.codes == ("MSS-MSG-023",)


def test_a_body_cannot_add_headers(package: Package) -> None:
    message = parse(patient_mail(package, text="x\r\nBcc: victim@example.org\r\n\r\n").as_bytes())
    assert message.mime.get("Bcc") is None
    assert "Bcc: victim@example.org" in (message.text or "")


def test_display_name_injection_is_refused(package: Package) -> None:
    with pytest.raises(InvalidInput):
        patient_mail(package, sender=("Dr X\r\nBcc: victim@example.org", DOCTOR))


@pytest.mark.parametrize(
    ("options", "nil"),
    [({"at": dt.datetime(2024, 1, 1)}, "DEV1"), ({}, "DEV 1"), ({}, ""), ({"to": []}, "DEV1")],
    ids=["naive-time", "space-in-nil", "empty-nil", "no-recipient"],
)
def test_compose_refuses_what_cannot_be_sent(package: Package, options: dict[str, Any], nil: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 (each with its own message)
        patient_mail(package, nil=nil, **options)


def _edit(mail: EmailMessage, header: str, value: str | None) -> bytes:
    del mail[header]
    if value is not None:
        mail[header] = value
    return mail.as_bytes()


# Each rule: a mail that breaks it (the code must be found) next to the clean one above (the code is absent).
BREAKERS: dict[str, Callable[[Package], EmailMessage | bytes]] = {
    "MSS-MSG-001": lambda p: _edit(patient_mail(p), "X-MSS-NIL", None),
    "MSS-MSG-002": lambda p: patient_mail(p, subject="Votre résultat"),
    "MSS-MSG-003": lambda p: _edit(patient_mail(p), "X-MSS-CODECDA", None),
    "MSS-MSG-004": lambda p: _edit(patient_mail(p), "X-MSS-CODECDA", "11488-4"),
    "MSS-MSG-005": lambda p: _edit(patient_mail(p, xdm=None, pdf=None, subject="Avis", to=[COLLEAGUE],
                                                no_reply=False), "X-MSS-CODECDA", "11488-4"),
    "MSS-MSG-006": lambda p: _edit(patient_mail(p), "X-MSS-INS", None),
    "MSS-MSG-007": lambda p: _edit(patient_mail(p), "X-MSS-INS", "N"),
    "MSS-MSG-008": lambda p: patient_mail(p, xdm=_without_traits(p)),
    "MSS-MSG-009": lambda p: patient_mail(p, to=[COLLEAGUE]),
    "MSS-MSG-010": lambda p: _edit(patient_mail(p), "X-MSS-MES", "NON"),
    "MSS-MSG-011": lambda p: patient_mail(p, to=[PATIENT, "146026322000196@patient.mssante.fr"]),
    "MSS-MSG-012": lambda p: patient_mail(p, pdf=None),
    "MSS-MSG-013": lambda p: _edit(patient_mail(p), "Message-ID", None),
    "MSS-MSG-015": lambda p: patient_mail(p, subject="XDM/1.0/DDM+TROD MARTIN Paul 01/01/1950"),
    "MSS-MSG-016": lambda p: _edit(patient_mail(p), "Disposition-Notification-To", "other@chu.mssante.fr"),
    "MSS-MSG-017": lambda p: _edit(patient_mail(p), "From", None),
    "MSS-MSG-018": lambda p: patient_mail(p).as_bytes().replace(b"X-MSS-NIL: DEV935997", b"X-MSS-NIL: DEV935997\r\n"
                                                                 b"X-MSS-NIL: DEV000001"),
    "MSS-MSG-019": lambda p: _edit(patient_mail(p), "X-MSS-INS", "OUI"),
    "MSS-MSG-020": lambda p: _edit(patient_mail(p), "To", "not an address"),
    "MSS-MSG-021": lambda p: patient_mail(p, xdm=None, attachments=[
        Attachment(filename="IHE_XDM.zip", content=b"PK\x03\x04 broken", content_type="application/zip")]),
    "MSS-MSG-022": lambda p: patient_mail(p, sender=PATIENT, to=[DOCTOR], no_reply=False),
}  # fmt: skip


def _without_traits(package: Package) -> Package:
    assert package.metadata is not None
    entry = package.metadata.documents[0]  # the names stay (compose needs them for the subject), the rest goes
    entry = attrs.evolve(
        entry, source_patient_info=tuple(v for v in entry.source_patient_info if v.startswith("PID-5|"))
    )
    return Package.build([Document(content=CDA, entry=entry)], package.metadata.submission_set)


@pytest.mark.parametrize("code", sorted(BREAKERS))
def test_each_rule_fails_when_broken(package: Package, code: str) -> None:
    assert code in codes_of(BREAKERS[code](package))
    assert code not in codes_of(patient_mail(package))


def test_the_body_type_rule() -> None:
    mail = EmailMessage()
    mail["From"] = DOCTOR
    mail["To"] = COLLEAGUE
    mail["Message-ID"] = "<x@y.mssante.fr>"
    mail["X-MSS-NIL"] = "DEV1"
    mail.set_content(b"%PDF", maintype="application", subtype="pdf")
    assert "MSS-MSG-014" in codes_of(mail)
    plain = compose(sender=DOCTOR, to=[COLLEAGUE], nil="DEV1", at=AT, subject="x", text="y")
    assert "MSS-MSG-014" not in codes_of(plain)


def test_xdm_findings_are_part_of_the_lint(package: Package) -> None:
    report = lint(patient_mail(package))
    assert all(not finding.where.startswith("attachment IHE_XDM.zip") or finding.severity.value != "error"
               for finding in report)  # fmt: skip
    assert any(finding.where.startswith("attachment IHE_XDM.zip") for finding in report)  # the TEST INS warning...


def test_parse_takes_a_message_or_bytes(package: Package) -> None:
    mail = patient_mail(package)
    assert isinstance(parse(mail), Message)
    assert parse(mail).subject == parse(mail.as_bytes()).subject
    assert lint(parse(mail)).ok


def test_the_mdn_of_a_patient_message_round_trips(package: Package) -> None:
    original = patient_mail(package)
    receipt = build_mdn(
        original=original, reporting_ua="Mon espace santé", final_recipient=PATIENT,
        disposition=Disposition.integration_error("902"), at=AT, sender=PATIENT, confirmed=True,
    )  # fmt: skip
    message = parse(receipt.as_bytes())
    assert message.kind == "mdn"
    assert message.mdn is not None
    assert message.mdn.original_message_id == original["Message-ID"]
    assert message.mdn.final_recipient == PATIENT
    assert message.mdn.disposition == Disposition.integration_error("902")
    assert message.mdn.error_code == "902"
    subject = message.subject_parts
    assert subject is not None
    assert subject.error_code == "902"
    assert [mailbox.address for mailbox in message.to] == [DOCTOR]
    assert message.in_reply_to == original["Message-ID"]


THUNDERBIRD_LIKE = (
    b"Return-Path: <dr.martin@chu-exemple.mssante.fr>\n"
    b"From: =?UTF-8?Q?Dr_Fran=C3=A7oise_Martin?= <dr.martin@chu-exemple.mssante.fr>\n"
    b"To: secretariat@cabinet.mssante.fr\n"
    b"Subject: =?UTF-8?Q?XDM/1.0/DDM+Compte_rendu_op=C3=A9ratoire_DUPONT_Jean_01/?=\n"
    b" =?UTF-8?Q?02/1960?=\n"
    b"Message-ID: <3f2a@chu-exemple.mssante.fr>\n"
    b"Date: Mon, 15 Jan 2024 10:12:00 +0100\n"
    b"X-MSS-NIL: DEV000042\n"
    b"MIME-Version: 1.0\n"
    b'Content-Type: multipart/mixed; boundary="------------outer"\n'
    b"\n"
    b"This is a multi-part message in MIME format.\n"
    b"--------------outer\n"
    b'Content-Type: multipart/alternative; boundary="------------inner"\n'
    b"\n"
    b"--------------inner\n"
    b"Content-Type: text/plain; charset=ISO-8859-1; format=flowed\n"
    b"Content-Transfer-Encoding: 8bit\n"
    b"\n"
    b"Ci-joint le compte rendu op\xe9ratoire.\n"
    b"--------------inner\n"
    b"Content-Type: text/html; charset=UTF-8\n"
    b"Content-Transfer-Encoding: quoted-printable\n"
    b"\n"
    b"<p>Ci-joint le compte rendu op=C3=A9ratoire.</p>\n"
    b"--------------inner--\n"
    b"--------------outer\n"
    b"Content-Type: application/octet-stream;\n"
    b" name*=UTF-8''compte%20rendu%20op%C3%A9ratoire.pdf\n"
    b"Content-Disposition: attachment;\n"
    b" filename*0*=UTF-8''compte%20rendu%20;\n"
    b" filename*1*=op%C3%A9ratoire.pdf\n"
    b"Content-Transfer-Encoding: base64\n"
    b"\n"
    b"JVBERi0xLjQKJSVFT0YK\n"
    b"--------------outer\n"
    b'Content-Type: message/rfc822; name="earlier.eml"\n'
    b'Content-Disposition: attachment; filename="earlier.eml"\n'
    b"\n"
    b"From: a@b.mssante.fr\n"
    b"Subject: earlier\n"
    b"\n"
    b"the earlier message\n"
    b"--------------outer--\n"
)


def test_a_message_written_by_another_mailer_parses() -> None:
    message = parse(THUNDERBIRD_LIKE)
    assert message.sender is not None
    assert message.sender.name == "Dr Françoise Martin"
    assert message.subject == "XDM/1.0/DDM+Compte rendu opératoire DUPONT Jean 01/02/1960"
    subject = message.subject_parts
    assert subject is not None
    assert subject.birth_date == dt.date(1960, 2, 1)
    assert message.text is not None
    assert message.text.startswith("Ci-joint le compte rendu opératoire.")
    assert message.html is not None
    assert "opératoire" in message.html
    names = [part.filename for part in message.attachments]
    assert "compte rendu opératoire.pdf" in names
    assert message.date == dt.datetime(2024, 1, 15, 9, 12, tzinfo=dt.timezone.utc)
    assert message.packages == ()
    assert message.kind == "message"


def test_names_in_the_subject_are_compared_folded() -> None:
    """A subject typed with a typewriter apostrophe names the patient whose metadata has a typographic one."""
    cda = CDA.replace(b"PAT-TROIS", "D’ALMEIDA-CŒUR".encode())
    package = Package.from_cda(cda, at=AT, submission_set=CONTENT)
    assert parse(patient_mail(package).as_bytes()).patient is not None
    for subject in (
        "XDM/1.0/DDM+Test D'ALMEIDA-COEUR Dominique 28/03/1979",
        "XDM/1.0/DDM+Test dʼalmeida-cœur DOMINIQUE 28/03/1979",
        "XDM/1.0/DDM+Test D＇ALMEIDA-CŒUR DOMINIQUE",
    ):
        assert "MSS-MSG-015" not in codes_of(patient_mail(package, subject=subject)), subject
    assert "MSS-MSG-015" in codes_of(patient_mail(package, subject="XDM/1.0/DDM+Test ALMEIDA DOMINIQUE"))

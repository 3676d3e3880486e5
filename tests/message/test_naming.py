"""Référentiel #2 « documents sent by mail »: the subject's fields (ECO.2.1.3), the PDF's name (ECO.2.1.6), PDF/A-1
identification (ECO.2.1.1), text parts in UTF-8 (ECO.2.2.3), patient addresses from a qualified INS (ECO.2.2.6)."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import attrs
import pytest

from mssante.errors import InvalidInput
from mssante.message import Attachment, Subject, compose, lint
from mssante.report import Severity, finding_codes
from mssante.xdm import Document, Package

DATA = Path(__file__).parent.parent / "data" / "xdm"
CDA = (DATA / "cisis-BIO-TROD_2024.01_COVID-19.xml").read_bytes()
AT = dt.datetime(2024, 1, 16, 8, 0, tzinfo=dt.timezone.utc)
PATIENT = "279035121518989@patient.mssante.fr"
DOCTOR = "pierre.didot@pharmacie-4-cantons.mssante.fr"
COLLEAGUE = "stephane.medioni@mssante.fr"
CONTENT = {"content_type_code": {"code": "26", "scheme": "1.2.250.1.213.2.2"}}
XMP = (
    b'<?xpacket begin="\xef\xbb\xbf" id="W5M0MpCehiHzreSzNTczkc9d"?>'
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    b'<rdf:Description rdf:about="" xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/">'
    b"<pdfaid:part>1</pdfaid:part><pdfaid:conformance>B</pdfaid:conformance>"
    b'</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
)
PDF_A1 = b"%PDF-1.4\n1 0 obj\n<< /Type /Metadata /Subtype /XML >>\nstream\n" + XMP + b"\nendstream\nendobj\n%%EOF\n"
NAME = "20240106_Test rapide d'orientation diagnostique_PAT-TROIS_DOMINIQUE.pdf"
SUBJECT = "XDM/1.0/DDM+Test rapide d'orientation diagnostique PAT-TROIS DOMINIQUE 28/03/1979"


@pytest.fixture(scope="module")
def package() -> Package:
    return Package.from_cda(CDA, at=AT, submission_set=CONTENT)


def mail(package: Package, **changes: Any) -> EmailMessage:
    options: dict[str, Any] = {
        "sender": DOCTOR, "to": [PATIENT], "nil": "DEV935997", "at": AT, "xdm": package, "pdf": PDF_A1,
        "text": "Bonjour,\nvoici le résultat de votre test.\n", "no_reply": True,
    }  # fmt: skip
    options.update(changes)
    return compose(**options)


def codes_of(message: EmailMessage | bytes) -> set[str]:
    return set(lint(message).codes)


def without_names(package: Package) -> Package:
    """The package with its patient's name (PID-5) taken out of the metadata."""
    assert package.metadata is not None
    entry = package.metadata.documents[0]
    kept = tuple(value for value in entry.source_patient_info if not value.startswith("PID-5|"))
    return Package.build([Document(content=CDA, entry=attrs.evolve(entry, source_patient_info=kept))],
                         package.metadata.submission_set)  # fmt: skip


def test_the_composed_message_follows_every_naming_rule(package: Package) -> None:
    message = mail(package)
    assert message["Subject"] == SUBJECT
    assert [part.get_filename() for part in message.iter_attachments()] == ["IHE_XDM.zip", NAME]
    report = lint(message)
    assert report.ok, report
    assert not set(report.codes) & {"MSS-MSG-027", "MSS-MSG-028", "MSS-MSG-029", "MSS-MSG-030"}


# --- ECO.2.1.3: « Tous les champs sont obligatoires à l'exception du champ <date de naissance> » (MSS-MSG-027) -----


@pytest.mark.parametrize(
    ("label", "family", "given"),
    [("CR de biologie", "", "Jeanne"), ("CR de biologie", "Dupont", "  "), ("", "Dupont", "Jeanne")],
    ids=["no-family-name", "no-given-name", "no-label"],
)
def test_subject_build_refuses_a_blank_field(label: str, family: str, given: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        Subject.build(label=label, family=family, given=given, birth_date=dt.date(1979, 3, 28))
    assert caught.value.report.codes == ("MSS-MSG-027",)


def test_subject_build_without_a_birth_date() -> None:
    assert Subject.build(label="CR de biologie", family="Dupont", given="Jeanne") == (
        "XDM/1.0/DDM+CR de biologie DUPONT Jeanne"
    )


def test_compose_refuses_a_package_whose_patient_has_no_name(package: Package) -> None:
    with pytest.raises(InvalidInput) as caught:
        mail(without_names(package), pdf=None)
    assert caught.value.report.codes == ("MSS-MSG-027",)


@pytest.mark.parametrize(
    "subject",
    [
        "XDM/1.0/DDM+Test rapide d'orientation diagnostique",  # the label alone: the names dropped
        "XDM/1.0/DDM+Test rapide d'orientation diagnostique 28/03/1979",
        "XDM/1.0/DDM+PAT-TROIS DOMINIQUE 28/03/1979",  # no label
        "XDM/1.0/DDM+Test rapide d'orientation diagnostique PAT-TROIS 28/03/1979",  # no prénom
        "XDM/1.0/DDM+Analyse",
    ],
)
def test_lint_says_a_subject_lacks_a_field(package: Package, subject: str) -> None:
    report = lint(mail(package, subject=subject))
    [finding] = [finding for finding in report if finding.code == "MSS-MSG-027"]
    assert finding.severity is Severity.ERROR
    assert "MSS-MSG-015" not in report.codes  # not another patient: no patient at all


@pytest.mark.parametrize(
    "subject", [SUBJECT, "XDM/1.0/DDM+TROD PAT-TROIS Dominique", "XDM/1.0/DDM+2 documents PAT-TROIS DOMINIQUE"]
)
def test_lint_accepts_a_subject_with_its_three_fields(package: Package, subject: str) -> None:
    assert "MSS-MSG-027" not in codes_of(mail(package, subject=subject))


def test_a_subject_naming_another_patient_stays_mss_msg_015(package: Package) -> None:
    codes = codes_of(mail(package, subject="XDM/1.0/DDM+TROD MARTIN Paul 01/01/1950"))
    assert "MSS-MSG-015" in codes
    assert "MSS-MSG-027" not in codes


# --- ECO.2.1.6: <date>_<type, 40 characters>_<NOM>_<prénom>[_<n° de dossier>].pdf (MSS-MSG-028) ------------------


def test_the_type_is_cut_to_forty_characters(package: Package) -> None:
    """The Ref #2 example: « Lettre de liaison a la sortie d'un etablissement » becomes « …d'un etabl »."""
    assert package.metadata is not None
    entry = package.metadata.documents[0]
    assert entry.type_code is not None
    kind = attrs.evolve(entry.type_code, display="Lettre de liaison a la sortie d'un etablissement")
    long = Package.build([Document(content=CDA, entry=attrs.evolve(entry, type_code=kind))],
                         package.metadata.submission_set)  # fmt: skip
    composed = mail(long, subject=SUBJECT)
    name = [part.get_filename() for part in composed.iter_attachments()][1]
    assert name == "20240106_Lettre de liaison a la sortie d'un etabl_PAT-TROIS_DOMINIQUE.pdf"
    assert "MSS-MSG-028" not in codes_of(composed)


def test_the_file_number_ends_the_name(package: Package) -> None:
    composed = mail(package, file_number="12150302014578")
    name = [part.get_filename() for part in composed.iter_attachments()][1]
    assert name == NAME.replace(".pdf", "_12150302014578.pdf")
    assert "MSS-MSG-028" not in codes_of(composed)


@pytest.mark.parametrize("number", ["12_34", "", "12/34", "n° 12"])
def test_a_file_number_that_breaks_the_fields_is_refused(package: Package, number: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        mail(package, file_number=number)
    assert caught.value.report.codes == ("MSS-MSG-028",)


def test_compose_refuses_to_name_a_pdf_without_the_patient(package: Package) -> None:
    with pytest.raises(InvalidInput) as caught:
        mail(without_names(package), subject=SUBJECT)
    assert caught.value.report.codes == ("MSS-MSG-028",)
    named = mail(without_names(package), subject=SUBJECT, pdf=Attachment(
        filename=NAME, content=PDF_A1, content_type="application/pdf"))  # fmt: skip
    assert [part.get_filename() for part in named.iter_attachments()][1] == NAME


def named(package: Package, name: str) -> EmailMessage:
    return mail(package, pdf=Attachment(filename=name, content=PDF_A1, content_type="application/pdf"))


@pytest.mark.parametrize(
    "name",
    [
        NAME,
        NAME.replace(".pdf", "_12150302014578.pdf"),
        "20240106_TROD_PAT-TROIS_Dominique.pdf",
        "20240106_Test_rapide_d_orientation_diagnostique_PAT-TROIS_DOMINIQUE.pdf",  # as the 2025 ANS example
        "20240106_Lettre de liaison a la sortie d'un etabl_PAT-TROIS_DOMINIQUE.pdf",  # 40 characters
    ],
)
def test_lint_accepts_a_pdf_named_by_the_convention(package: Package, name: str) -> None:
    assert "MSS-MSG-028" not in codes_of(named(package, name))


@pytest.mark.parametrize(
    "name",
    [
        "compte-rendu.pdf",
        "20241399_TROD_PAT-TROIS_DOMINIQUE.pdf",  # no such date
        "20240106_PAT-TROIS_DOMINIQUE.pdf",  # no type
        "20240106_TROD_DOMINIQUE_PAT-TROIS.pdf",  # prénom before NOM
        "20240106_TROD_pat-trois_DOMINIQUE.pdf",  # NOM not in capitals
        "20240106_Lettre de liaison a la sortie d'un etablissement_PAT-TROIS_DOMINIQUE.pdf",  # 48 characters
        "20240106_TROD_PAT-TROIS_DOMINIQUE_123_456.pdf",  # two fields after the prénom
    ],
)
def test_lint_warns_of_a_pdf_named_otherwise(package: Package, name: str) -> None:
    report = lint(named(package, name))
    [finding] = [finding for finding in report if finding.code == "MSS-MSG-028"]
    assert finding.severity is Severity.WARNING
    assert finding.where == f"attachment {name}"


def test_a_pdf_in_a_message_without_documents_is_not_judged() -> None:
    notes = Attachment(filename="notes.pdf", content=b"%PDF-1.4\n", content_type="application/pdf")
    plain = compose(sender=DOCTOR, to=[COLLEAGUE], nil="DEV935997", at=AT, subject="Avis", text="Bonjour",
                    attachments=[notes])  # fmt: skip
    assert not codes_of(plain) & {"MSS-MSG-028", "MSS-MSG-029"}


# --- ECO.2.1.1: the documents as PDF/A-1, identified by pdfaid:part 1 in the XMP metadata (MSS-MSG-029) ---------


@pytest.mark.parametrize(
    "pdf",
    [
        PDF_A1,
        PDF_A1.replace(b"<pdfaid:part>1</pdfaid:part>", b"").replace(b'rdf:about=""', b'rdf:about="" pdfaid:part="1"'),
        PDF_A1.replace(b"<pdfaid:part>1</pdfaid:part>", b"<pdfaid:part>2</pdfaid:part>") + b"\n" + XMP,  # updated
    ],
    ids=["element", "attribute", "last-packet"],  # the attribute form: <rdf:Description pdfaid:part="1">
)
def test_a_pdf_a1_is_recognised(package: Package, pdf: bytes) -> None:
    assert "MSS-MSG-029" not in codes_of(mail(package, pdf=pdf))


@pytest.mark.parametrize(
    ("pdf", "said"),
    [
        (b"%PDF-1.4\n%%EOF\n", "no pdfaid:part"),
        (PDF_A1.replace(b"<pdfaid:part>1</pdfaid:part>", b"<pdfaid:part>3</pdfaid:part>"), "pdfaid:part 3"),
    ],
    ids=["no-xmp", "pdf-a3"],
)
def test_a_pdf_that_is_not_pdf_a1_is_a_warning(package: Package, pdf: bytes, said: str) -> None:
    report = lint(mail(package, pdf=pdf))
    [finding] = [finding for finding in report if finding.code == "MSS-MSG-029"]
    assert finding.severity is Severity.WARNING
    assert said in finding.message
    assert report.ok


# --- ECO.2.2.3: the text parts of the body in UTF-8 (MSS-MSG-030) ----------------------------------------------


def plain(body: bytes, content_type: str) -> bytes:
    return (
        b"From: " + DOCTOR.encode() + b"\r\nTo: " + COLLEAGUE.encode() + b"\r\nSubject: Avis\r\n"
        b"Message-ID: <avis.1@pharmacie-4-cantons.mssante.fr>\r\nX-MSS-NIL: DEV935997\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: " + content_type.encode() + b"\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + body + b"\r\n"
    )


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("Ci-joint le compte rendu opératoire.".encode(), "text/plain; charset=utf-8"),
        (b"Ci-joint le compte rendu.", "text/plain; charset=us-ascii"),
        (b"Ci-joint le compte rendu.", "text/plain"),
    ],
    ids=["utf-8", "ascii-declared", "ascii-undeclared"],
)
def test_utf8_text_is_compliant(body: bytes, content_type: str) -> None:
    assert "MSS-MSG-030" not in codes_of(plain(body, content_type))


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("Ci-joint le compte rendu opératoire.".encode("latin-1"), "text/plain; charset=ISO-8859-1"),
        ("Ci-joint le compte rendu opératoire.".encode("latin-1"), "text/plain; charset=utf-8"),
        ("Ci-joint le compte rendu opératoire.".encode(), "text/plain"),
    ],
    ids=["latin-1", "utf-8-declared-not-written", "8-bit-undeclared"],
)
def test_other_text_is_a_warning(body: bytes, content_type: str) -> None:
    report = lint(plain(body, content_type))
    [finding] = [finding for finding in report if finding.code == "MSS-MSG-030"]
    assert finding.severity is Severity.WARNING
    assert finding.where == "part 1"


def test_compose_writes_utf8_text(package: Package) -> None:
    composed = mail(package, html="<p>Voici le résultat.</p>")
    assert "MSS-MSG-030" not in codes_of(composed)
    assert {part.get_content_charset() for part in composed.walk() if part.get_content_maintype() == "text"} == {
        "utf-8"
    }


# --- ECO.2.2.6: patient addresses are built from qualified INS (MSS-MSG-008's source) ----------------------------


def test_mss_msg_008_cites_eco_2_2_6() -> None:
    [code] = [code for code in finding_codes() if code.id == "MSS-MSG-008"]
    assert "ECO.2.2.6" in code.title
    assert "ECO.2.1.2" not in code.title

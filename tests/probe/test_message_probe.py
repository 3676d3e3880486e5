"""``probe_message``: the findings of lint (one parser, one judgement) sorted into the checks of a vendor's
qualification, with the PDF/A conformance level added."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from mssante.message import Attachment, compose, lint, parse
from mssante.probe import probe_message
from mssante.probe._message import CHECKS, MAX_PDF_SCAN, pdfa_identification
from mssante.xdm import Package

DATA = Path(__file__).parent.parent / "data" / "xdm"
CDA = (DATA / "cisis-BIO-TROD_2024.01_COVID-19.xml").read_bytes()
AT = dt.datetime(2024, 1, 16, 8, 0, tzinfo=dt.timezone.utc)
PATIENT = "279035121518989@patient.mssante.fr"
DOCTOR = "pierre.didot@pharmacie-4-cantons.mssante.fr"
CONTENT = {"content_type_code": {"code": "26", "scheme": "1.2.250.1.213.2.2"}}
NAME = "20240106_Test rapide d'orientation diagnostique_PAT-TROIS_DOMINIQUE.pdf"


def pdf(identification: bytes) -> bytes:
    """A PDF whose XMP packet holds ``identification``."""
    xmp = (
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        b'<rdf:Description rdf:about="" xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/">'
        + identification
        + b"</rdf:Description></rdf:RDF></x:xmpmeta>"
    )
    return b"%PDF-1.4\n1 0 obj\n<< /Type /Metadata /Subtype /XML >>\nstream\n" + xmp + b"\nendstream\nendobj\n%%EOF\n"


PDF_A1B = pdf(b"<pdfaid:part>1</pdfaid:part><pdfaid:conformance>B</pdfaid:conformance>")


@pytest.fixture(scope="module")
def package() -> Package:
    return Package.from_cda(CDA, at=AT, submission_set=CONTENT)


def message(package: Package, **changes: Any) -> bytes:
    options: dict[str, Any] = {
        "sender": DOCTOR, "to": [PATIENT], "nil": "DEV935997", "at": AT, "xdm": package,
        "pdf": PDF_A1B, "text": "Bonjour,\nvoici le résultat.\n", "no_reply": True,
    }  # fmt: skip
    options.update(changes)
    return compose(**options).as_bytes()


def test_a_conforming_message_passes_every_check(package: Package) -> None:
    report = probe_message(message(package))
    assert report.ok, str(report)
    assert not report.check("pdf-a").findings, str(report)
    assert not report.check("file-names").findings, str(report)
    assert [check.name for check in report.checks] == list(CHECKS)
    assert report.to_dict()["checks"][0] == {"name": "mime", "ok": True, "codes": []}


def test_the_same_findings_as_lint(package: Package) -> None:
    wrong = Attachment(filename="compte-rendu.pdf", content=b"%PDF-1.4\n%%EOF\n", content_type="application/pdf")
    data = message(package, pdf=wrong)
    probed = probe_message(data)
    assert sorted(probed.codes) == sorted(lint(parse(data)).codes)
    assert "MSS-MSG-028" in probed.check("file-names").codes
    assert "MSS-MSG-029" in probed.check("pdf-a").codes


@pytest.mark.parametrize(
    ("identification", "found"),
    [
        (b"<pdfaid:part>1</pdfaid:part>", "no pdfaid:conformance"),
        (b"<pdfaid:part>1</pdfaid:part><pdfaid:conformance>U</pdfaid:conformance>", "pdfaid:conformance U"),
    ],
)
def test_a_pdf_a1_without_its_conformance_level(package: Package, identification: bytes, found: str) -> None:
    report = probe_message(message(package, pdf=pdf(identification)))
    check = report.check("pdf-a")
    assert check.codes == ("MSS-PRB-025",)
    assert found in check.findings[0].message


def test_the_subject_and_the_patient(package: Package) -> None:
    report = probe_message(message(package, subject="XDM/1.0/DDM+Test rapide d'orientation diagnostique DUPONT Jean"))
    assert report.check("subject").codes == ("MSS-MSG-015",), str(report)


def test_a_package_that_cannot_be_read() -> None:
    data = compose(
        sender=DOCTOR, to=["stephane.medioni@mssante.fr"], nil="DEV935997", at=AT, text="Bonjour",
        attachments=[Attachment(filename="IHE_XDM.zip", content=b"PK\x03\x04 broken")],
    ).as_bytes()  # fmt: skip
    report = probe_message(data)
    assert not report.check("xdm-package").ok, str(report)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b'<rdf:Description pdfaid:part="1" pdfaid:conformance="A"/>', ("1", "A")),
        (b"<pdfaid:part>2</pdfaid:part><pdfaid:conformance>u</pdfaid:conformance>", ("2", "u")),
        (b"<pdfaid:part>1</pdfaid:part>" + b"<pdfaid:part>2</pdfaid:part>", ("2", None)),
        (b"no metadata", (None, None)),
    ],
)
def test_pdfa_identification(data: bytes, expected: tuple[str | None, str | None]) -> None:
    assert pdfa_identification(data) == expected


def test_pdfa_identification_is_bounded() -> None:
    assert MAX_PDF_SCAN == 64 * 1024 * 1024
    late = b" " * 16 + b"<pdfaid:part>1</pdfaid:part>"
    assert pdfa_identification(memoryview(late).tobytes()) == ("1", None)

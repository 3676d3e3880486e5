"""Packing CDA documents under the CI-SIS rules: what is derived, what is kept as read, what is required.

- An id under an INS authority that fails its check is kept as read (patientId) and reported, never replaced
  by a local id (the package is then not valid).
- The CI-SIS validator calls a package without patient or required codes not valid; ``ci_sis=False`` keeps the
  IHE XDM rules only.
- classCode comes from typeCode (ASS_X04), formatCode from the template (ASS_A11), displays from the value sets;
  the submission set's contentTypeCode (JDV_J03) is in no CDA header: the caller gives it, and the finding says
  which value set.
- Official ANS example CDAs (tests/data/xdm/ansforge-examples/) pack into packages that validate with no error
  and no warning but those their own content causes.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from mssante.report import Severity, finding_codes
from mssante.xdm import Coding, Document, DocumentEntry, Package, SubmissionSet, read_cda_header, validate

DATA = Path(__file__).parent.parent / "data" / "xdm"
CDA = (DATA / "cisis-BIO-TROD_2024.01_COVID-19.xml").read_bytes()
EXAMPLES = sorted((DATA / "ansforge-examples").glob("*.xml"))
AT = dt.datetime(2024, 1, 16, 8, 0, tzinfo=dt.timezone.utc)
TEST_INS_ID = b'<id extension="279035121518989" root="1.2.250.1.213.1.4.10"/>'
IPP_ID = b'<id extension="0456789999" root="1.2.250.1.999.1.1.7898.2"/>'
BAD_KEY_NIR = "279035121518988"  # the fixture's NIR with a wrong key (89 is right)
ANALYSES = {"code": "26", "scheme": "1.2.250.1.213.2.2"}  # JDV_J03 (TRE_R209): Analyses médicales biologiques
CONTENT = {"content_type_code": ANALYSES}
# The official examples whose own INS fails its key (production OID 1.2.250.1.213.1.4.8): packed, kept as read,
# not valid (ansforge/TestContenuCDA-3-0 @ 7cd489b: also CSE-CS8/CS9/CS24_2024.01, OBP-SEM, OBP-SNE).
BAD_INS_EXAMPLES = {"CSE-MDE_2023.01.xml": "222127505611201"}


def with_ids(ids: bytes) -> bytes:
    assert TEST_INS_ID in CDA
    return CDA.replace(TEST_INS_ID, ids, 1)


def codes_of(findings: Any, severity: Severity | None = None) -> set[str]:
    return {finding.code for finding in findings if severity is None or finding.severity is severity}


# --- 1. An INS that fails its key is kept as read and reported -------------------------------------------------


def test_an_ins_with_a_wrong_key_is_kept_as_read_in_the_header() -> None:
    header = read_cda_header(with_ids(f'<id extension="{BAD_KEY_NIR}" root="1.2.250.1.213.1.4.8"/>'.encode() + IPP_ID))
    assert header.patient.ins is None
    assert header.patient.invalid_ins == (("1.2.250.1.213.1.4.8", BAD_KEY_NIR),)
    assert header.patient.other_ids == (("1.2.250.1.999.1.1.7898.2", "0456789999"),)
    [finding] = [finding for finding in header.findings if finding.code == "MSS-CDA-015"]
    assert finding.where == "recordTarget/patientRole/id[0]"
    assert "key" in finding.message
    assert "kept as read" in finding.message


def test_an_ins_with_a_wrong_key_is_the_patient_id_and_the_package_is_not_valid() -> None:
    data = with_ids(f'<id extension="{BAD_KEY_NIR}" root="1.2.250.1.213.1.4.8"/>'.encode() + IPP_ID)
    package = Package.from_cda(data, at=AT, submission_set=CONTENT)
    assert package.metadata is not None
    entry = package.metadata.documents[0]
    as_read = f"{BAD_KEY_NIR}^^^&1.2.250.1.213.1.4.8&ISO^NH"
    assert entry.patient_id == package.metadata.submission_set.patient_id == as_read
    assert entry.source_patient_id == "0456789999^^^&1.2.250.1.999.1.1.7898.2&ISO^PI"  # the IPP stays the IPP
    said = [finding for finding in package.findings if finding.code == "MSS-CDA-015"]
    assert [finding.where for finding in said] == ["DOC0001.XML: recordTarget/patientRole/id[0]"]
    report = validate(package)
    assert not report.ok
    assert "MSS-XDM-041" in codes_of(report.errors)
    assert "MSS-XDM-040" not in report.codes  # not "not an INS": an INS, as read, that fails its key
    assert "0456789999" not in {finding.message for finding in report if finding.code == "MSS-XDM-041"}
    again = validate(package.to_zip())
    assert "MSS-XDM-041" in codes_of(again.errors)


def test_a_bad_ins_next_to_a_valid_one_is_reported_and_the_valid_one_used() -> None:
    bad = f'<id extension="{BAD_KEY_NIR}" root="1.2.250.1.213.1.4.8"/>'.encode()
    package = Package.from_cda(with_ids(bad + TEST_INS_ID), at=AT, submission_set=CONTENT)
    assert package.metadata is not None
    assert package.metadata.documents[0].patient_id == "279035121518989^^^&1.2.250.1.213.1.4.10&ISO^NH"
    [finding] = [finding for finding in package.findings if finding.code == "MSS-CDA-010"]
    assert "the INS 279035121518989 is used" in finding.message


def test_an_ins_authority_id_without_matricule_is_reported() -> None:
    header = read_cda_header(with_ids(b'<id root="1.2.250.1.213.1.4.8"/>' + IPP_ID))
    assert header.patient.invalid_ins == (("1.2.250.1.213.1.4.8", ""),)
    assert "MSS-CDA-010" in header.report.codes
    package = Package.from_cda(with_ids(b'<id root="1.2.250.1.213.1.4.8"/>' + IPP_ID), at=AT, submission_set=CONTENT)
    assert "MSS-CDA-010" in codes_of(package.findings)
    report = validate(package)
    assert "MSS-XDM-040" in codes_of(report.errors)  # keyed on the IPP, said to be no INS: an error


def test_the_official_example_with_a_wrong_key_is_kept_as_read() -> None:
    [(name, nir)] = BAD_INS_EXAMPLES.items()
    package = Package.from_cda((DATA / "ansforge-examples" / name).read_bytes(), at=AT, submission_set=CONTENT)
    assert package.metadata is not None
    assert package.metadata.submission_set.patient_id == f"{nir}^^^&1.2.250.1.213.1.4.8&ISO^NH"
    report = validate(package, environment="test")
    assert {"MSS-XDM-041"} == codes_of(report.errors)


# --- 2. The CI-SIS rules: no patient, no codes, no INS: not valid -----------------------------------------------


def bare_package(patient_id: str = "") -> Package:
    entry = DocumentEntry(
        entry_uuid="urn:uuid:00000000-0000-4000-8000-000000000001",
        unique_id="1.2.3",
        mime_type="text/xml",
        patient_id=patient_id,
    )
    submission = SubmissionSet(
        entry_uuid="urn:uuid:00000000-0000-4000-8000-000000000002",
        unique_id="1.2.4",
        source_id="1.2.5",
        submission_time="20240116080000",
        patient_id=patient_id,
    )
    return Package.build([Document(content=CDA, entry=entry)], submission)


def test_no_patient_and_no_codes_is_not_valid_under_the_ci_sis() -> None:
    data = bare_package().to_zip()
    report = validate(data)
    assert not report.ok
    missing = {finding.message.partition(":")[0] for finding in report.errors if finding.code == "MSS-XDM-043"}
    assert {"no classCode", "no typeCode", "no formatCode", "no patientId"} <= missing
    assert "the submission set has no patientId" in missing
    assert validate(data, ci_sis=False).ok  # the IHE XDM rules: all of them are R2


def test_a_patient_without_ins_is_an_error() -> None:
    report = validate(bare_package("0456789999^^^&1.2.250.1.999.1.1.7898.2&ISO^PI").to_zip())
    assert "MSS-XDM-040" in codes_of(report.errors)
    assert "MSS-XDM-040" not in validate(bare_package("0456789999^^^&1.2.250.1.999&ISO^PI"), ci_sis=False).codes


def test_the_changed_verdicts_are_errors() -> None:
    declared = {code.id: code for code in finding_codes()}
    assert declared["MSS-XDM-040"].severity is Severity.ERROR
    assert declared["MSS-XDM-043"].severity is Severity.ERROR


# --- 3. Derived, or asked for -----------------------------------------------------------------------------------


def test_class_and_format_codes_are_derived_from_the_tables() -> None:
    package = Package.from_cda(CDA, at=AT)
    assert package.metadata is not None
    entry = package.metadata.documents[0]
    # ASS_X04: LOINC 96173-0 (TROD) is in class 52; ASS_A11: template 1.2.250.1.213.1.1.1.59 is urn:ans:ci-sis:trod:2024
    assert entry.class_code == Coding(code="52", scheme="1.2.250.1.213.1.1.4.1", display="Certificat, déclaration")
    assert entry.format_code == Coding(
        code="urn:ans:ci-sis:trod:2024",
        scheme="1.2.250.1.213.1.1.4.2.282",
        display="Test rapide d'orientation diagnostique",
    )
    assert package.metadata.submission_set.content_type_code is None  # in no CDA header: not invented


def test_a_missing_content_type_says_which_value_set() -> None:
    report = validate(Package.from_cda(CDA, at=AT), environment="test")
    assert not report.ok
    [finding] = report.errors
    assert finding.code == "MSS-XDM-043"
    assert finding.where.endswith("SubmissionSet")
    assert "JDV_J03-XdsContentTypeCode-CISIS" in finding.message
    assert "1.2.250.1.213.2.2" in finding.message  # the code systems it takes codes from


def test_the_content_type_given_is_checked_and_completed() -> None:
    package = Package.from_cda(CDA, at=AT, submission_set=CONTENT)
    assert package.metadata is not None
    assert package.metadata.submission_set.content_type_code == Coding(
        code="26", scheme="1.2.250.1.213.2.2", display="Analyses médicales biologiques"
    )
    report = validate(package, environment="test")
    assert report.ok, report
    # the TEST INS is information in the TEST environment; the example's legalAuthenticator/time is no HL7 TS
    assert codes_of(report.warnings) == {"MSS-CDA-009"}
    assert not validate(package.to_zip(), environment="test").warnings
    bad = Package.from_cda(CDA, at=AT, submission_set={"content_type_code": {"code": "SA99", "scheme": "1.2.3"}})
    assert "MSS-JDV-001" in codes_of(validate(bad).errors)


def test_a_type_given_by_the_caller_gets_its_class() -> None:
    type_code = {"code": "11488-4", "scheme": "2.16.840.1.113883.6.1"}
    package = Package.from_cda(CDA, at=AT, document={"type_code": type_code}, submission_set=CONTENT)
    assert package.metadata is not None
    entry = package.metadata.documents[0]
    assert entry.type_code is not None
    assert entry.type_code.display == "CR ou fiche de consultation ou de visite"
    assert entry.class_code is not None
    assert entry.class_code.code == "10"


def test_a_class_that_is_not_the_type_s_is_a_warning() -> None:
    report_class = {"code": "10", "scheme": "1.2.250.1.213.1.1.4.1", "display": "Compte rendu"}
    package = Package.from_cda(CDA, at=AT, document={"class_code": report_class}, submission_set=CONTENT)
    report = validate(package.to_zip(), environment="test")
    assert report.ok
    [finding] = report.warnings
    assert finding.code == "MSS-XDM-045"
    assert "96173-0" in finding.message
    assert "52" in finding.message


def test_displays_are_those_of_the_value_sets_and_the_document_s_are_said() -> None:
    example = (DATA / "ansforge-examples" / "DLU-EHPAD-FLUDT_2022.01.xml").read_bytes()
    header = read_cda_header(example)
    assert header.type_code.display == "Dossier de liaison d'urgence"
    package = Package.from_cda(example, at=AT, submission_set=CONTENT)
    assert package.metadata is not None
    entry = package.metadata.documents[0]
    assert entry.type_code is not None
    assert entry.type_code.display == "Document de liaison d'urgence"  # as JDV_J07 names 74207-2
    said = [finding for finding in package.findings if finding.code == "MSS-XDM-046"]
    [typed] = [finding for finding in said if "Dossier de liaison d'urgence" in finding.message]
    assert typed.where == "DOC0001.XML: code/@displayName"
    assert all(finding.severity is Severity.INFO for finding in said)


@pytest.mark.parametrize("path", EXAMPLES, ids=[path.name for path in EXAMPLES])
def test_official_examples_pack_with_no_avoidable_finding(path: Path) -> None:
    package = Package.from_cda(path.read_bytes(), at=AT, submission_set=CONTENT)
    assert package.metadata is not None
    entry = package.metadata.documents[0]
    assert entry.class_code is not None
    assert entry.format_code is not None
    report = validate(package, environment="test")
    if path.name in BAD_INS_EXAMPLES:
        assert codes_of(report.errors) == {"MSS-XDM-041"}
        return
    assert report.ok, report
    # What is left is about the document itself, said by the CDA reader (never the packer's own output)
    assert codes_of(report.warnings) <= {"MSS-CDA-009"}, report
    assert validate(package.to_zip(), environment="test").warnings == ()


def test_the_examples_copied_are_those_the_readme_names() -> None:
    readme = (DATA.parent / "README.md").read_text(encoding="utf-8")
    for path in EXAMPLES:
        assert f"`xdm/ansforge-examples/{path.name}`" in readme

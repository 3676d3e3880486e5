"""IHE_XDM.ZIP: packed from the CI-SIS CDA example, read back, and real vendors' packages read."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import zipfile
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from mssante.errors import InvalidInput
from mssante.xdm import (
    Author,
    Coding,
    Document,
    DocumentEntry,
    Package,
    SubmissionSet,
    ZipLimits,
    read_metadata,
    validate,
)

DATA = Path(__file__).parent.parent / "data" / "xdm"
CDA = DATA / "cisis-BIO-TROD_2024.01_COVID-19.xml"
MIE = DATA / "nist-mie-connectathon2011-XDM.zip"
NEGATIVE = DATA / "nhind-xd-NEGATIVE-missing-slash-xdm.zip"
AT = dt.datetime(2024, 1, 16, 8, 0, tzinfo=dt.timezone.utc)
# The submission set's contentTypeCode is in no CDA header: the sender gives it (JDV_J03, TRE_R209 26 "Analyses
# médicales biologiques")
CONTENT = {"content_type_code": {"code": "26", "scheme": "1.2.250.1.213.2.2"}}


@pytest.fixture(scope="module")
def packed() -> Package:
    return Package.from_cda(
        CDA.read_bytes(), at=AT, recipients=["dr.martin@hopital-exemple.mssante.fr"], submission_set=CONTENT
    )


def names_of(data: bytes) -> list[str]:
    return zipfile.ZipFile(io.BytesIO(data)).namelist()


def rezip(entries: dict[str, bytes]) -> bytes:
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return output.getvalue()


def entries_of(data: bytes) -> dict[str, bytes]:
    archive = zipfile.ZipFile(io.BytesIO(data))
    return {name: archive.read(name) for name in archive.namelist()}


def test_the_canonical_layout(packed: Package) -> None:
    data = packed.to_zip()
    assert names_of(data) == [
        "README.TXT",
        "INDEX.HTM",
        "IHE_XDM/",
        "IHE_XDM/SUBSET01/",
        "IHE_XDM/SUBSET01/METADATA.XML",
        "IHE_XDM/SUBSET01/DOC0001.XML",
    ]
    assert packed.to_zip() == data  # reproducible


def test_hash_size_and_uri_are_those_of_the_bytes_written(packed: Package) -> None:
    entries = entries_of(packed.to_zip())
    document = entries["IHE_XDM/SUBSET01/DOC0001.XML"]
    assert document == CDA.read_bytes()
    metadata, _ = read_metadata(entries["IHE_XDM/SUBSET01/METADATA.XML"])
    entry = metadata.documents[0]
    assert entry.hash == hashlib.sha1(document).hexdigest()
    assert entry.size == str(len(document))
    assert entry.uri == "DOC0001.XML"


def test_metadata_derived_from_the_cda_header(packed: Package) -> None:
    assert packed.metadata is not None
    entry = packed.metadata.documents[0]
    assert entry.patient_id == "279035121518989^^^&1.2.250.1.213.1.4.10&ISO^NH"
    assert entry.type_code == Coding(
        code="96173-0", scheme="2.16.840.1.113883.6.1", display="Test rapide d'orientation diagnostique"
    )
    assert entry.confidentiality_codes[0].code == "N"
    assert entry.title == "Test rapide d'orientation diagnostique : TROD Covid-19"
    assert entry.language_code == "fr-FR"
    assert entry.creation_time == "20240106103623"
    assert entry.authors[0].person == "807655473259^DIDOT^Pierre^^^^^^&1.2.250.1.71.4.2.1&ISO^D^^^IDNPS"
    assert entry.format_code is not None
    assert entry.format_code.code == "urn:ans:ci-sis:trod:2024"
    assert "PID-5|PAT-TROIS^DOMINIQUE^^^^^L" in entry.source_patient_info
    submission = packed.metadata.submission_set
    assert submission.submission_time == "20240116080000"
    assert submission.patient_id == entry.patient_id
    assert submission.unique_id.startswith("2.25.")
    assert submission.intended_recipients == (  # the one given, then the CDA's information recipient
        "||^^Internet^dr.martin@hopital-exemple.mssante.fr",
        "||^^Internet^stephane.medioni@mssante.fr",
    )


def test_the_package_validates_against_the_schema_and_the_validator(packed: Package) -> None:
    data = packed.to_zip()
    schema = etree.XMLSchema(etree.parse(str(DATA / "ebrim-3.0-xsd" / "lcm.xsd")))
    assert schema.validate(etree.fromstring(entries_of(data)["IHE_XDM/SUBSET01/METADATA.XML"])), schema.error_log
    report = validate(data)
    assert report.ok, report
    assert {finding.code for finding in report.warnings} == {"MSS-XDM-044"}  # the CDA example's INS is TEST


def test_it_reads_back_to_equal_metadata(packed: Package) -> None:
    again = Package.read(packed.to_zip())
    assert again.metadata == packed.metadata
    assert again.subsets[0].files == packed.subsets[0].files
    assert again.findings == ()
    assert "Pharmacie des 4 cantons" in again.readme
    assert "DOC0001.XML" in again.index


def test_readme_and_index_are_french_and_name_the_documents(packed: Package) -> None:
    assert "Émetteur" in packed.readme
    assert "DIDOT" in packed.readme
    assert "IHE_XDM/SUBSET01/DOC0001.XML" in packed.readme
    assert packed.readme.endswith("\r\n")
    etree.fromstring(packed.index.encode(), etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False))
    assert 'href="IHE_XDM/SUBSET01/DOC0001.XML"' in packed.index
    assert 'xml:lang="fr"' in packed.index


def test_overrides_replace_derived_fields() -> None:
    package = Package.from_cda(
        CDA.read_bytes(),
        at=AT,
        source_id="1.2.250.1.999.1",
        document={
            "class_code": {"code": "10", "scheme": "1.2.250.1.213.1.1.4.1", "display": "Compte rendu"},
            "title": "TROD",
        },
        submission_set={"content_type_code": {"code": "04", "scheme": "1.2.250.1.213.2.2"}},
    )
    assert package.metadata is not None
    assert package.metadata.documents[0].class_code == Coding(
        code="10", scheme="1.2.250.1.213.1.1.4.1", display="Compte rendu"
    )
    assert package.metadata.documents[0].title == "TROD"
    assert package.metadata.submission_set.source_id == "1.2.250.1.999.1"
    report = validate(package)
    assert report.ok
    assert "MSS-XDM-043" not in [f.code for f in report if f.where.endswith("SubmissionSet")]


@pytest.mark.parametrize(
    ("document", "submission_set", "match"),
    [
        ({"colour": "red"}, None, "no field colour"),
        ({"title": 3}, None, "is a string"),
        ({"class_code": {"cod": "x"}}, None, "unexpected keyword"),
        (None, {"intended_recipients": "x@y.fr"}, "list of strings"),
        ({"title": "a\x00b"}, None, "control characters"),
    ],
)
def test_bad_overrides_are_refused_clearly(document: Any, submission_set: Any, match: str) -> None:
    with pytest.raises(InvalidInput, match=match):
        Package.from_cda(CDA.read_bytes(), at=AT, document=document, submission_set=submission_set)


def test_two_patients_cannot_share_a_package() -> None:
    other = CDA.read_bytes().replace(b'extension="279035121518989"', b'extension="146026322000196"')
    with pytest.raises(InvalidInput) as caught:
        Package.from_cda([CDA.read_bytes(), other], at=AT)
    assert caught.value.report.codes == ("MSS-XDM-042",)


def test_several_documents_are_numbered() -> None:
    second = CDA.read_bytes().replace(b'root="1.2.250.1.213.1.1.9.2.1"', b'root="1.2.250.1.213.1.1.9.2.2"', 1)
    package = Package.from_cda([CDA.read_bytes(), second], at=AT, submission_set=CONTENT)
    assert sorted(package.subsets[0].files) == ["DOC0001.XML", "DOC0002.XML"]
    assert validate(package.to_zip()).ok


def test_build_any_document() -> None:
    entry = DocumentEntry(
        entry_uuid="urn:uuid:00000000-0000-4000-8000-000000000001", unique_id="1.2.3", mime_type="application/pdf"
    )
    submission = SubmissionSet(
        entry_uuid="urn:uuid:00000000-0000-4000-8000-000000000002",
        unique_id="1.2.4",
        source_id="1.2.5",
        submission_time="20240116080000",
    )
    package = Package.build([Document(content=b"%PDF-1.4 test", entry=entry)], submission)
    assert list(package.subsets[0].files) == ["DOC0001.PDF"]
    report = validate(package.to_zip(), ci_sis=False)
    assert report.ok, report
    with pytest.raises(ValueError, match="two documents"):
        Package.build(
            [Document(content=b"a", entry=entry, name="A.PDF"), Document(content=b"b", entry=entry, name="a.pdf")],
            submission,
        )
    with pytest.raises(ValueError, match="at least one"):
        Package.build([], submission)


def test_the_mie_vendor_package_reads() -> None:
    package = Package.read(MIE.read_bytes())
    assert package.metadata is not None
    assert [entry.uri for entry in package.metadata.documents] == ["DOC00001.XML"]
    assert len(package.junk) == 9
    assert [finding.code for finding in package.findings] == ["MSS-XDM-022"]
    entry, content = package.documents[0]
    assert content is not None
    assert hashlib.sha1(content).hexdigest().upper() == entry.hash
    report = validate(package, ci_sis=False)
    assert report.ok, report
    assert "MSS-XDM-024" in report.codes  # upper-case hash, accepted


def test_the_broken_package_gets_precise_findings() -> None:
    report = validate(NEGATIVE.read_bytes())
    assert not report.ok
    errors = {finding.code for finding in report.errors}
    assert {"MSS-XDM-027", "MSS-XDM-029", "MSS-XDM-014", "MSS-XDM-015", "MSS-HLV-007", "MSS-HLV-012"} <= errors
    [misnamed] = [finding for finding in report if finding.code == "MSS-XDM-027"]
    assert misnamed.where == "IHE_XDM/SUBSET01METADATA.xml"
    package = Package.read(NEGATIVE.read_bytes())
    assert package.subsets[0].directory == "SUBSET01"
    assert sorted(package.subsets[0].files) == ["871efced-488f-4699-b38d-015791e7ef04.txt", "CCD.xsl"]


def test_tolerated_shapes_are_read_and_reported(packed: Package) -> None:
    entries = entries_of(packed.to_zip())
    wrapped = {f"export/{name.lower()}": data for name, data in entries.items() if not name.endswith("/")}
    wrapped["export/__MACOSX/._readme.txt"] = b"junk"
    wrapped["export/.DS_Store"] = b"junk"
    package = Package.read(rezip(wrapped))
    assert package.metadata == packed.metadata
    codes = [finding.code for finding in package.findings]
    assert codes.count("MSS-XDM-021") == 1
    assert "MSS-XDM-019" in codes
    assert "MSS-XDM-020" in codes
    assert "MSS-XDM-022" in codes
    assert validate(package).ok


def test_other_subset_names_are_read(packed: Package) -> None:
    entries = {name.replace("SUBSET01", "LUCY_0"): data for name, data in entries_of(packed.to_zip()).items()}
    package = Package.read(rezip(entries))
    assert package.subsets[0].directory == "LUCY_0"
    assert validate(package).ok


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (lambda e: e.pop("README.TXT"), "MSS-XDM-001"),
        (lambda e: e.pop("INDEX.HTM"), "MSS-XDM-002"),
        (lambda e: [e.pop(n) for n in list(e) if n.startswith("IHE_XDM")], "MSS-XDM-003"),
        (lambda e: e.pop("IHE_XDM/SUBSET01/METADATA.XML"), "MSS-XDM-004"),
        (lambda e: e.pop("IHE_XDM/SUBSET01/DOC0001.XML"), "MSS-XDM-011"),
        (lambda e: e.update({"IHE_XDM/SUBSET01/DOC0001.XML": e["IHE_XDM/SUBSET01/DOC0001.XML"] + b" "}), "MSS-XDM-013"),
        (
            lambda e: e.update(
                {"IHE_XDM/SUBSET01/DOC0001.XML": e["IHE_XDM/SUBSET01/DOC0001.XML"].replace(b"<", b">", 1)}
            ),
            "MSS-XDM-012",
        ),
        (lambda e: e.update({"IHE_XDM/SUBSET01/EXTRA.TXT": b"x"}), "MSS-XDM-018"),
        (lambda e: e.update({"IHE_XDM/SUBSET01/METADATA.XML": b"<x"}), "MSS-XDM-005"),
        (
            lambda e: (
                e.update({"IHE_XDM/SUBSET02/": b""})
                or e.update(
                    {
                        "IHE_XDM/SUBSET02/METADATA.XML": e["IHE_XDM/SUBSET01/METADATA.XML"],
                        "IHE_XDM/SUBSET02/DOC0001.XML": e["IHE_XDM/SUBSET01/DOC0001.XML"],
                    }
                )
            ),
            "MSS-XDM-028",
        ),
    ],
    ids=[
        "no-readme",
        "no-index",
        "no-ihe-xdm",
        "no-metadata",
        "missing-file",
        "size",
        "hash",
        "unreferenced",
        "bad-metadata",
        "two-subsets",
    ],
)
def test_each_rule_has_its_code(packed: Package, change: Any, code: str) -> None:
    entries = entries_of(packed.to_zip())
    change(entries)
    report = validate(rezip(entries))
    assert code in report.codes, report


def _metadata_variant(packed: Package, **changes: Any) -> Package:
    assert packed.metadata is not None
    entry = attrs.evolve(packed.metadata.documents[0], **changes)
    return Package.build([Document(content=CDA.read_bytes(), entry=entry)], packed.metadata.submission_set)


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"patient_id": "279035121518988^^^&1.2.250.1.213.1.4.8&ISO^NH"}, "MSS-XDM-041"),
        ({"patient_id": "12345^^^&1.2.250.1.999&ISO^PI"}, "MSS-XDM-040"),
        ({"patient_id": "146026322000196^^^&1.2.250.1.213.1.4.8&ISO^NH"}, "MSS-XDM-042"),
        ({"type_code": Coding(code="XXX", scheme="2.16.840.1.113883.6.1")}, "MSS-JDV-001"),
        (
            {"confidentiality_codes": [Coding(code="INVISIBLE_REP_LEGAUX", scheme="1.2.250.1.213.1.1.4.13")]},
            "MSS-JDV-004",
        ),
        ({"creation_time": "2024-01-06"}, "MSS-XDM-016"),
        ({"object_type": "urn:uuid:bad"}, "MSS-XDM-026"),
        ({"unique_id": "not-an-oid"}, "MSS-XDM-015"),
        ({"mime_type": ""}, "MSS-XDM-014"),
    ],
    ids=[
        "bad-ins",
        "not-ins",
        "two-patients",
        "not-in-jdv",
        "jdv-alias",
        "bad-time",
        "object-type",
        "unique-id",
        "mime-type",
    ],
)
def test_ci_sis_and_metadata_rules(packed: Package, changes: dict[str, Any], code: str) -> None:
    report = validate(_metadata_variant(packed, **changes).to_zip())
    assert code in report.codes, report


def test_ihe_only_leaves_the_french_rules_out(packed: Package) -> None:
    variant = _metadata_variant(packed, patient_id="12345^^^&1.2.250.1.999&ISO^PI")
    assert "MSS-XDM-040" not in validate(variant, ci_sis=False).codes


def test_a_value_repeated_is_judged_at_each_place(packed: Package) -> None:
    assert packed.metadata is not None
    bad_ins = "279035121518988^^^&1.2.250.1.213.1.4.8&ISO^NH"
    author = Author(person="^^Jean")  # neither an id nor a family name
    entry = attrs.evolve(packed.metadata.documents[0], patient_id=bad_ins, authors=[author])
    submission = attrs.evolve(packed.metadata.submission_set, patient_id=bad_ins, authors=[author])
    report = validate(Package.build([Document(content=CDA.read_bytes(), entry=entry)], submission).to_zip())
    at = "IHE_XDM/SUBSET01/METADATA.XML: "
    assert [finding.where for finding in report.findings if finding.code == "MSS-XDM-041"] == [
        f"{at}SubmissionSet.patientId",
        f"{at}DocumentEntry[0].patientId",
    ]
    assert [finding.where for finding in report.findings if finding.code == "MSS-HLV-005"] == [
        f"{at}SubmissionSet.author[0].authorPerson.XCN.1",
        f"{at}DocumentEntry[0].author[0].authorPerson.XCN.1",
    ]


def test_no_association_is_an_error(packed: Package) -> None:
    assert packed.metadata is not None
    metadata = attrs.evolve(packed.metadata, associations=())
    package = attrs.evolve(packed, subsets=(attrs.evolve(packed.subsets[0], metadata=metadata),))
    assert "MSS-XDM-017" in validate(package).codes


def test_unsafe_archives_are_a_report_not_a_crash() -> None:
    report = validate(b"PK\x03\x04 not really a zip")
    assert not report.ok
    assert report.codes[0].startswith("MSS-ZIP-")
    with pytest.raises(InvalidInput):
        Package.read(b"")
    traversal = rezip({"../README.TXT": b"x"})
    assert not validate(traversal).ok


def test_limits_apply_to_reading(packed: Package) -> None:
    with pytest.raises(InvalidInput):
        Package.read(packed.to_zip(), limits=ZipLimits(max_entries=3))


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=3000))
def test_validate_answers_a_report_for_any_bytes(data: bytes) -> None:
    report = validate(data)
    assert not report.ok


@settings(max_examples=150, deadline=None)
@given(st.integers(min_value=0, max_value=6457), st.binary(min_size=1, max_size=16))
def test_validate_answers_a_report_for_a_damaged_vendor_package(position: int, junk: bytes) -> None:
    data = MIE.read_bytes()
    report = validate(data[:position] + junk + data[position + len(junk) :], ci_sis=False)
    assert all(finding.code.startswith("MSS-") for finding in report)


def test_a_test_ins_is_expected_in_the_test_environment(packed: Package) -> None:
    data = packed.to_zip()
    in_prod, in_test = validate(data), validate(data, environment="test")
    assert "MSS-XDM-044" in {finding.code for finding in in_prod.warnings}  # the CDA example's INS is TEST
    assert "MSS-XDM-044" not in {finding.code for finding in in_test.warnings}
    [said] = {finding.message for finding in in_test.findings if finding.code == "MSS-XDM-044"}
    assert said.endswith("as the TEST environment expects")
    with pytest.raises(InvalidInput, match="environment is one of prod, test"):
        validate(data, environment="staging")

"""HL7 v2 datatypes of XDS slots: real values from the fixtures and the spec, escaping, tolerance, hostile input.

The literal values below are copied from the files named next to them (``../shared/fixtures/xdm/``,
``../shared/spec/xdm.md``); nothing is read from ``../shared`` at run time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mssante.addresses import Address
from mssante.errors import InvalidInput
from mssante.identifiers import IDNPS_OID, IDNST_OID, IdNatStruct, Idnps, Ins, InsAuthority
from mssante.report import finding_codes
from mssante.xdm._hl7 import (
    MAX_LENGTH,
    CodedValue,
    Cx,
    HierarchicDesignator,
    IntendedRecipient,
    Xcn,
    Xon,
    Xtn,
    escape,
    unescape,
)

TOO_LONG, BAD_CHARACTER, BAD_ESCAPE, MISPLACED_SEPARATOR, MISSING_COMPONENT = (f"MSS-HLV-{n:03d}" for n in range(1, 6))
BAD_AUTHORITY, NOT_AN_OID, AUTHORITY_MISPLACED, BAD_INS, INS_WITHOUT_AUTHORITY = (
    f"MSS-HLV-{n:03d}" for n in range(6, 11)
)
BAD_EMAIL, BARE_EMAIL, UNSUPPORTED_TELECOM = (f"MSS-HLV-{n:03d}" for n in range(11, 14))

PARSERS: tuple[Callable[[str], Any], ...] = (
    Cx.parse,
    Xcn.parse,
    Xon.parse,
    Xtn.parse,
    IntendedRecipient.parse,
    CodedValue.parse,
    HierarchicDesignator.parse,
)
TEST_INS = "279035121518989"  # fixtures/xdm/cisis-BIO-TROD_2024.01_COVID-19.xml, recordTarget/patientRole/id


def codes_of(error: pytest.ExceptionInfo[InvalidInput]) -> tuple[str, ...]:
    return error.value.report.codes


def test_codes_are_declared() -> None:
    declared = {code.id: code for code in finding_codes()}
    for number in range(1, 14):
        assert f"MSS-HLV-{number:03d}" in declared
    assert "MSS-HLV-014" not in declared


# --- Real values: fixtures ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        # fixtures/xdm/nist-mie-connectathon2011-METADATA.XML: sourcePatientId and both patientId
        "1192011827^^^&1.3.6.1.4.1.21367.13.20.1000&ISO",
        # fixtures/xdm/nhind-samplexdm-METADATA.xml: XDSSubmissionSet.patientId
        "111111111^^^&2.16.840.1.113883.4.1&ISO",
    ],
)
def test_fixture_cx_round_trips(text: str) -> None:
    cx = Cx.parse(text)
    assert str(cx) == text
    assert cx.authority is not None
    assert cx.authority.universal_id_type == "ISO"
    assert cx.type_code == ""
    assert cx.ins is None


def test_mie_patient_id_parts() -> None:
    # fixtures/xdm/nist-mie-connectathon2011-METADATA.XML
    cx = Cx.parse("1192011827^^^&1.3.6.1.4.1.21367.13.20.1000&ISO")
    assert cx.id == "1192011827"
    assert cx.authority == HierarchicDesignator.iso("1.3.6.1.4.1.21367.13.20.1000")
    assert cx.authority.oid == "1.3.6.1.4.1.21367.13.20.1000"


def test_nhind_source_patient_id_with_a_name_as_iso_authority_is_refused() -> None:
    # fixtures/xdm/nhind-samplexdm-METADATA.xml: sourcePatientId, "GSIHealth" declared as an ISO OID
    with pytest.raises(InvalidInput) as error:
        Cx.parse("1111111111^^^&GSIHealth&ISO")
    assert codes_of(error) == (NOT_AN_OID,)
    assert error.value.report.findings[0].where == "CX.4.HD.2"


def test_nhind_document_patient_id_missing_a_caret_is_refused() -> None:
    # fixtures/xdm/nhind-samplexdm-METADATA.xml: XDSDocumentEntry.patientId (one ^ short)
    with pytest.raises(InvalidInput) as error:
        Cx.parse("111111111^^&2.16.840.1.113883.4.1&ISO")
    assert codes_of(error) == (AUTHORITY_MISPLACED,)


def test_nhind_negative_null_patient_id_is_refused() -> None:
    # fixtures/xdm/nhind-xd-NEGATIVE-missing-slash-xdm.zip, IHE_XDM/SUBSET01METADATA.xml: sourcePatientId
    with pytest.raises(InvalidInput) as error:
        Cx.parse("null^^^&null&ISO")
    assert codes_of(error) == (NOT_AN_OID,)


def test_nhind_author_person() -> None:
    # fixtures/xdm/nhind-samplexdm-METADATA.xml: authorPerson of the document entry
    text = "vincent.lewis@gsihealth.com^Allscripts^Provider^^^^^^&1.3.6.1.4.1.21367.3100.1&ISO"
    person = Xcn.parse(text)
    assert (person.id, person.family, person.given) == ("vincent.lewis@gsihealth.com", "Allscripts", "Provider")
    assert person.authority == HierarchicDesignator.iso("1.3.6.1.4.1.21367.3100.1")
    assert person.idnps is None
    assert str(person) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Any^Physician", Xcn(id="Any", family="Physician")),  # nist-mie-connectathon2011-METADATA.XML
        ("Sherry Dopplemeyer", Xcn(id="Sherry Dopplemeyer")),  # nhind-samplexdm-METADATA.xml (name as id)
    ],
)
def test_loose_author_persons(text: str, expected: Xcn) -> None:
    assert Xcn.parse(text) == expected
    assert str(expected) == text


@pytest.mark.parametrize("text", ["MIE Office", "Cleveland Clinic", "Parma Community"])
def test_fixture_author_institutions_are_names_only(text: str) -> None:
    # nist-mie-connectathon2011-METADATA.XML ("MIE Office"), nhind-samplexdm-METADATA.xml (the others)
    institution = Xon.parse(text)
    assert institution == Xon(name=text)
    assert str(institution) == text
    assert institution.id_nat_struct is None


def test_nhind_intended_recipient_person() -> None:
    # fixtures/xdm/nhind-samplexdm-METADATA.xml: intendedRecipient (the Direct address is in XCN.1)
    text = "|beau@nologs.org^Smith^John^^^Dr^^^&1.3.6.1.4.1.21367.3100.1&ISO"
    recipient = IntendedRecipient.parse(text)
    assert recipient.organization is None
    assert recipient.telecom is None
    assert recipient.person is not None
    assert (recipient.person.family, recipient.person.given, recipient.person.prefix) == ("Smith", "John", "Dr")
    assert recipient.address == Address.parse("beau@nologs.org")
    assert str(recipient) == text


def test_nhind_negative_intended_recipient_telecom() -> None:
    # fixtures/xdm/nhind-xd-NEGATIVE-missing-slash-xdm.zip, IHE_XDM/SUBSET01METADATA.xml: intendedRecipient
    text = "||^^Internet^recip@test.com"
    recipient = IntendedRecipient.parse(text)
    assert recipient.telecom == Xtn(address=Address.parse("recip@test.com"))
    assert recipient.address == Address.parse("recip@test.com")
    assert str(recipient) == text
    assert IntendedRecipient.for_email("recip@test.com") == recipient


def test_nhind_negative_bare_author_telecommunication_is_refused() -> None:
    # fixtures/xdm/nhind-xd-NEGATIVE-missing-slash-xdm.zip: authorTelecommunication without ^^Internet^
    with pytest.raises(InvalidInput) as error:
        Xtn.parse("test@test.com")
    assert codes_of(error) == (BARE_EMAIL,)
    assert "^^Internet^test@test.com" in str(error.value)


# --- Real values: spec/xdm.md §1.5 and §2.4 (DMP test kit, ANS guides) ---------------------------------------------


def test_dmp_kit_author_person() -> None:
    # spec/xdm.md §1.5, DMP kit authorPerson
    text = "00B2800585^OPTOLUNE0058^SEBASTIEN^^^^^^&1.2.250.1.71.4.2.1&ISO^D^^^IDNPS"
    person = Xcn.parse(text)
    assert person == Xcn.for_idnps("00B2800585", family="OPTOLUNE0058", given="SEBASTIEN")
    assert (person.name_type, person.type_code) == ("D", "IDNPS")
    assert person.idnps == Idnps(value="00B2800585")
    assert str(person) == text


def test_dmp_kit_local_patient_id() -> None:
    # spec/xdm.md §1.5, DMP kit sourcePatientId (IPP)
    text = "0456789999^^^&1.2.250.1.999.1.1.7898.2&ISO^PI"
    cx = Cx.parse(text)
    assert (cx.id, cx.type_code) == ("0456789999", "PI")
    assert str(cx) == text


def test_old_dmp_kit_ins_with_effective_date_reads_and_writes_canonically() -> None:
    # spec/xdm.md §1.5: the old DMP kit's "^^^&1.2.250.1.213.1.4.10&ISO^NH^^20100907" (its id elided there)
    cx = Cx.parse(f"{TEST_INS}^^^&1.2.250.1.213.1.4.10&ISO^NH^^20100907")
    assert str(cx) == f"{TEST_INS}^^^&1.2.250.1.213.1.4.10&ISO^NH"


def test_dmp_kit_author_institution_shape() -> None:
    # spec/xdm.md §1.5: "Raison sociale^^^^^&1.2.250.1.71.4.2.2&ISO^IDNST^^^<IdNat_Struct>"; 1 + FINESS 750712184
    institution = Xon.for_structure("HOPITAL DES 3 VALLEES", IdNatStruct(value="1750712184"))
    assert str(institution) == "HOPITAL DES 3 VALLEES^^^^^&1.2.250.1.71.4.2.2&ISO^IDNST^^^1750712184"
    assert Xon.parse(str(institution)) == institution
    assert institution.id_nat_struct == IdNatStruct(value="1750712184")
    assert institution.authority is not None
    assert institution.authority.oid == IDNST_OID


def test_author_specialty() -> None:
    # spec/xdm.md §1.5 authorSpecialty (display shortened there) and the CDA fixture's author code
    assert CodedValue.parse("G15_10/SM07^Médecin - Chirurgie maxillo-faciale^1.2.250.1.213.1.1.4.5") == CodedValue(
        code="G15_10/SM07", display="Médecin - Chirurgie maxillo-faciale", code_system="1.2.250.1.213.1.1.4.5"
    )
    # fixtures/xdm/cisis-BIO-TROD_2024.01_COVID-19.xml: author/assignedAuthor/code
    pharmacist = CodedValue(
        code="G15_21/A", display="Pharmacien titulaire d'officine", code_system="1.2.250.1.213.1.1.4.5"
    )
    assert str(pharmacist) == "G15_21/A^Pharmacien titulaire d'officine^1.2.250.1.213.1.1.4.5"
    assert CodedValue.parse(str(pharmacist)) == pharmacist
    assert CodedValue.parse("Orthopedic") == CodedValue(code="Orthopedic")  # nhind-samplexdm-METADATA.xml


def test_x400_telecom_of_the_ans_hl7v2_guide() -> None:
    # spec/xdm.md §2.4: PRT-15 of the ANS HL7 v2 guide, a patient (MSS-C) address as X.400
    telecom = Xtn.parse("^^X.400^146026322000196@patient.mssante.fr")
    assert telecom.equipment_type == "X.400"
    assert telecom.address.is_patient
    assert str(telecom) == "^^X.400^146026322000196@patient.mssante.fr"


# --- INS ---------------------------------------------------------------------------------------------------------


def test_cx_for_the_cda_example_test_ins() -> None:
    # fixtures/xdm/cisis-BIO-TROD_2024.01_COVID-19.xml: <id root="1.2.250.1.213.1.4.10" extension="279035121518989"/>
    ins = Ins.parse(TEST_INS, authority="1.2.250.1.213.1.4.10")
    cx = Cx.for_ins(ins)
    assert str(cx) == "279035121518989^^^&1.2.250.1.213.1.4.10&ISO^NH"
    assert Cx.parse(str(cx)) == cx
    assert cx.ins == ins
    assert cx.ins is not None
    assert cx.ins.authority is InsAuthority.TEST


def test_cx_for_a_production_ins() -> None:
    cx = Cx.for_ins(Ins.parse("1 46 02 63 220 001 96", authority="nir"))
    assert str(cx) == "146026322000196^^^&1.2.250.1.213.1.4.8&ISO^NH"
    assert cx.ins == Ins(value="146026322000196", authority=InsAuthority.NIR)


def test_an_ins_without_authority_cannot_go_into_metadata() -> None:
    with pytest.raises(InvalidInput) as error:
        Cx.for_ins(Ins.parse(TEST_INS))
    assert codes_of(error) == (INS_WITHOUT_AUTHORITY,)


def test_a_bad_key_under_the_production_ins_authority_is_refused() -> None:
    with pytest.raises(InvalidInput) as error:
        Cx.parse("279035121518988^^^&1.2.250.1.213.1.4.8&ISO^NH")
    assert codes_of(error) == (BAD_INS, "MSS-INS-003")
    with pytest.raises(InvalidInput):
        Cx(id="not-an-ins", authority=HierarchicDesignator.iso(InsAuthority.NIA.value))


def test_a_bad_key_under_the_test_ins_authority_is_kept() -> None:
    # spec/xdm.md §2.4: the ANS HL7 v2 guide's 288091234567823 fails the key; TEST INS keys are only warned about
    cx = Cx.parse("288091234567823^^^&1.2.250.1.213.1.4.10&ISO^NH")
    assert cx.ins is not None
    assert cx.ins.value == "288091234567823"


# --- IdNat_PS and IdNat_Struct -------------------------------------------------------------------------------------


def test_xcn_for_idnps_of_the_cda_author() -> None:
    # fixtures/xdm/cisis-BIO-TROD_2024.01_COVID-19.xml: author 807655473259, M Pierre DIDOT
    person = Xcn.for_idnps(Idnps(value="807655473259"), family="DIDOT", given="Pierre", prefix="M")
    assert str(person) == "807655473259^DIDOT^Pierre^^^M^^^&1.2.250.1.71.4.2.1&ISO^D^^^IDNPS"
    assert Xcn.parse(str(person)) == person
    assert person.idnps == Idnps(value="807655473259")
    assert person.authority is not None
    assert person.authority.oid == IDNPS_OID


def test_ans_test_structure_id_with_a_bad_key_is_kept_but_not_checked() -> None:
    # fixtures/xdm/cisis-BIO-TROD_2024.01_COVID-19.xml: <id root="1.2.250.1.71.4.2.2" extension="2801234567"/>
    institution = Xon.for_structure("Pharmacie des 4 cantons", "2801234567")
    assert str(institution) == "Pharmacie des 4 cantons^^^^^&1.2.250.1.71.4.2.2&ISO^IDNST^^^2801234567"
    assert institution.identifier == "2801234567"
    assert institution.id_nat_struct is None  # the SIREN key fails: identifiers.check says why


# --- Escaping ----------------------------------------------------------------------------------------------------


def test_escape_and_unescape() -> None:
    assert escape("a|b^c&d~e\\f") == "a\\F\\b\\S\\c\\T\\d\\R\\e\\E\\f"
    assert unescape("a\\F\\b\\S\\c\\T\\d\\R\\e\\E\\f") == "a|b^c&d~e\\f"
    assert unescape(escape("\\E\\")) == "\\E\\"


def test_names_with_separators_round_trip() -> None:
    person = Xcn(id="8&1", family="O^BRIEN & FILS", given="Jean|Paul~Marie", prefix="Dr\\")
    text = str(person)
    assert text == "8\\T\\1^O\\S\\BRIEN \\T\\ FILS^Jean\\F\\Paul\\R\\Marie^^^Dr\\E\\"
    assert Xcn.parse(text) == person
    institution = Xon(name="A^B&C", identifier="x&y", authority=HierarchicDesignator(namespace="N&S"))
    assert Xon.parse(str(institution)) == institution
    recipient = IntendedRecipient(organization=institution, person=person)
    assert IntendedRecipient.parse(str(recipient)) == recipient


@pytest.mark.parametrize("text", ["\\", "a\\", "\\X0D\\", "\\F", "\\H\\bold\\N\\", "\\.br\\", "\\e\\", "x\\\\y"])
def test_lone_or_unknown_escapes_are_refused(text: str) -> None:
    with pytest.raises(InvalidInput) as error:
        unescape(text)
    assert codes_of(error) == (BAD_ESCAPE,)
    with pytest.raises(InvalidInput) as error:
        Xcn.parse(f"1^{text}")
    assert codes_of(error) == (BAD_ESCAPE,)
    assert error.value.report.findings[0].where == "XCN.2"


# --- Tolerant on read, strict on write ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        f"{TEST_INS}^^^&1.2.250.1.213.1.4.10&iso^NH",
        f"{TEST_INS}^^^&1.2.250.1.213.1.4.10&Iso^NH",
        f"{TEST_INS}^^^&1.2.250.1.213.1.4.10^NH",
        f"{TEST_INS}^^^&1.2.250.1.213.1.4.10&^NH",
        f"{TEST_INS}^^^&urn:oid:1.2.250.1.213.1.4.10&ISO^NH",
        f"{TEST_INS}^^^&1.2.250.1.213.1.4.10&ISO^NH^^^^",
        f"{TEST_INS}^^^&1.2.250.1.213.1.4.10&ISO&^NH",
        f"{TEST_INS}^1^M10^&1.2.250.1.213.1.4.10&ISO^NH^&1.2.3&ISO",
    ],
)
def test_cx_tolerant_reading(text: str) -> None:
    assert str(Cx.parse(text)) == f"{TEST_INS}^^^&1.2.250.1.213.1.4.10&ISO^NH"


def test_empty_authority_reads_as_none() -> None:
    assert Cx.parse("42^^^&&^PI") == Cx(id="42", type_code="PI")
    assert Xcn.parse("42^X^^^^^^^&&") == Xcn(id="42", family="X")


def test_xon_identifier_from_deprecated_xon3() -> None:
    assert Xon.parse("Clinique^^1750712184^^^&1.2.250.1.71.4.2.2&ISO^IDNST") == Xon.for_structure(
        "Clinique", "1750712184"
    )


@pytest.mark.parametrize("text", ["^^^a@b.fr", "^^internet^a@b.fr", "^^INTERNET^a@b.fr", "^^Internet^a@B.FR^^^"])
def test_xtn_tolerant_reading(text: str) -> None:
    assert str(Xtn.parse(text)) == "^^Internet^a@b.fr"


def test_xtn_use_code_is_kept() -> None:
    assert str(Xtn.parse("^NET^Internet^a@b.fr")) == "^NET^Internet^a@b.fr"


@pytest.mark.parametrize(
    ("build", "code"),
    [
        (HierarchicDesignator, MISSING_COMPONENT),
        (lambda: HierarchicDesignator(universal_id="1.2.3"), BAD_AUTHORITY),
        (lambda: HierarchicDesignator(universal_id_type="ISO"), BAD_AUTHORITY),
        (lambda: HierarchicDesignator(universal_id="1.2.3", universal_id_type="iso"), BAD_AUTHORITY),
        (lambda: HierarchicDesignator(universal_id="1.2.3", universal_id_type="OID"), BAD_AUTHORITY),
        (lambda: HierarchicDesignator.iso("GSIHealth"), NOT_AN_OID),
        (lambda: HierarchicDesignator.iso("1.02.3"), NOT_AN_OID),
        (lambda: HierarchicDesignator.iso("urn:oid:1.2.3"), NOT_AN_OID),
        (lambda: Cx(id=""), MISSING_COMPONENT),
        (lambda: Xcn(given="Jean"), MISSING_COMPONENT),
        (lambda: Xon(name=""), MISSING_COMPONENT),
        (lambda: CodedValue(code="", display="x"), MISSING_COMPONENT),
        (IntendedRecipient, MISSING_COMPONENT),
        (lambda: Xtn(address=Address.parse("a@b.fr"), equipment_type="PH"), UNSUPPORTED_TELECOM),
        (lambda: Xtn(address=Address.parse("a@b.fr"), equipment_type="internet"), UNSUPPORTED_TELECOM),
        (lambda: Xtn.for_email("not an address"), BAD_EMAIL),
        (lambda: Xcn(family="A\nB"), BAD_CHARACTER),
        (lambda: Xon(name="A\rB"), BAD_CHARACTER),
        (lambda: Cx(id="1\x00"), BAD_CHARACTER),
        (lambda: Xcn(family="x" * (MAX_LENGTH + 1)), TOO_LONG),
        (lambda: Xcn(family="^" * MAX_LENGTH), TOO_LONG),  # fits as text, not once escaped
    ],
)
def test_strict_construction(build: Callable[[], object], code: str) -> None:
    with pytest.raises(InvalidInput) as error:
        build()
    assert codes_of(error)[0] == code


def test_wrong_types_are_type_errors() -> None:
    with pytest.raises(TypeError):
        Cx(id=42)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Cx(id="1", authority="&1.2.3&ISO")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Xtn(address="a@b.fr")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        IntendedRecipient(person="x")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Cx.parse(b"1^^^&1.2.3&ISO")  # type: ignore[arg-type]


def test_intended_recipient_address() -> None:
    assert IntendedRecipient(person=Xcn(id="123", family="X")).address is None
    assert IntendedRecipient(person=Xcn(id="a@b@c")).address is None
    assert IntendedRecipient(organization=Xon(name="CHU")).address is None
    both = IntendedRecipient(person=Xcn(id="x@y.fr"), telecom=Xtn.for_email("t@y.fr"))
    assert both.address == Address.parse("t@y.fr")
    assert str(IntendedRecipient(organization=Xon(name="CHU"))) == "CHU"


# --- Hostile input -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("parse", PARSERS)
@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("1" * (MAX_LENGTH + 1), TOO_LONG),
        ("^" * 10_000_000, TOO_LONG),
        ("1^^^&1.2.3&ISO\n", BAD_CHARACTER),
        ("1^^^&1.2.3&ISO\r", BAD_CHARACTER),
        ("a\tb", BAD_CHARACTER),
        ("\x00", BAD_CHARACTER),
        ("a\x85b", BAD_CHARACTER),
        ("a\u2028b", BAD_CHARACTER),
        ("a\ud800b", BAD_CHARACTER),
        ("a~b", MISPLACED_SEPARATOR),
    ],
)
def test_hostile_input_is_invalid_input(parse: Callable[[str], object], text: str, code: str) -> None:
    with pytest.raises(InvalidInput) as error:
        parse(text)
    assert codes_of(error)[0] == code
    assert len(str(error.value)) < 400


@pytest.mark.parametrize(
    ("parse", "text", "code"),
    [
        (Cx.parse, "", MISSING_COMPONENT),
        (Cx.parse, "^^^&1.2.3&ISO", MISSING_COMPONENT),
        (Cx.parse, "1|2", MISPLACED_SEPARATOR),
        (Cx.parse, "1" + "^" * 10, MISPLACED_SEPARATOR),
        (Cx.parse, "1&2^^^&1.2.3&ISO", MISPLACED_SEPARATOR),
        (Cx.parse, "1^^^&1.2.3&ISO&extra", MISPLACED_SEPARATOR),
        (Cx.parse, "1^^^&1.2.3&NOPE", BAD_AUTHORITY),
        (Cx.parse, "1^^^&GSIHealth", BAD_AUTHORITY),
        (Xcn.parse, "", MISSING_COMPONENT),
        (Xcn.parse, "1^DUPONT&&DURAND", MISPLACED_SEPARATOR),
        (Xcn.parse, "1^" + "^" * 30, MISPLACED_SEPARATOR),
        (Xon.parse, "^^^^^&1.2.3&ISO", MISSING_COMPONENT),
        (Xtn.parse, "", MISSING_COMPONENT),
        (Xtn.parse, "^^Internet^", MISSING_COMPONENT),
        (Xtn.parse, "^PRN^PH^^33^1^23456789", UNSUPPORTED_TELECOM),
        (Xtn.parse, "^^Internet^not an address", BAD_EMAIL),
        (Xtn.parse, "^^Internet^123@patient.mssante.fr", BAD_EMAIL),
        (IntendedRecipient.parse, "", MISSING_COMPONENT),
        (IntendedRecipient.parse, "||", MISSING_COMPONENT),
        (IntendedRecipient.parse, "a|b|^^Internet^c@d.fr|e", MISPLACED_SEPARATOR),
        (IntendedRecipient.parse, "||test@test.com", BARE_EMAIL),
        (HierarchicDesignator.parse, "", MISSING_COMPONENT),
        (HierarchicDesignator.parse, "a^b", MISPLACED_SEPARATOR),
        (CodedValue.parse, "^display^1.2.3", MISSING_COMPONENT),
    ],
)
def test_malformed_values(parse: Callable[[str], object], text: str, code: str) -> None:
    with pytest.raises(InvalidInput) as error:
        parse(text)
    assert codes_of(error)[0] == code


def test_nested_findings_are_located() -> None:
    with pytest.raises(InvalidInput) as error:
        IntendedRecipient.parse("|1^X^^^^^^^&GSIHealth&ISO")
    assert error.value.report.findings[0].where == "person.XCN.9.HD.2"
    with pytest.raises(InvalidInput) as error:
        IntendedRecipient.parse("||^^Internet^a@b")
    assert error.value.report.findings[0].where == "telecom.XTN.4"


# --- Properties ----------------------------------------------------------------------------------------------------

PRINTABLE = st.characters(exclude_categories=("Cc", "Cs", "Zl", "Zp"), exclude_characters="\ufffe\uffff")
TEXT = st.one_of(st.text(PRINTABLE, max_size=30), st.text(st.sampled_from("^&|~\\FSTRE é'"), max_size=30))
OIDS = st.lists(st.integers(0, 10**9), min_size=1, max_size=8).map(lambda arcs: ".".join(["1", *map(str, arcs)]))
AUTHORITIES = st.one_of(
    st.none(),
    OIDS.map(HierarchicDesignator.iso),
    st.builds(HierarchicDesignator.iso, OIDS, namespace=TEXT),
    TEXT.filter(bool).map(lambda name: HierarchicDesignator(namespace=name)),
)
HOSTILE = st.one_of(
    st.text(max_size=200),
    st.text(st.sampled_from("^&|~\\FSTREXH.1@a ISOiso\n"), max_size=200),
    st.builds(
        "{}^^^&{}&{}^{}".format,
        st.text(max_size=20),
        st.text("0123456789.", max_size=30),
        st.sampled_from(["ISO", "iso", "", "x", "ISO&"]),
        st.text(max_size=5),
    ),
    st.builds(
        "{}^{}^{}@{}".format,
        st.sampled_from(["", "^", "^NET", "|^", "||^"]),
        st.sampled_from(["Internet", "x.400", "", "PH"]),
        st.text(max_size=12),
        st.one_of(st.text(max_size=12), st.sampled_from(["patient.mssante.fr", "xn--bcher-kva.fr", "b.fr"])),
    ),
)


@given(text=TEXT)
def test_escape_round_trips(text: str) -> None:
    assert unescape(escape(text)) == text
    assert not set("|^&~").intersection(escape(text))


@settings(max_examples=150, deadline=None)
@given(
    id=TEXT,
    family=TEXT,
    given_name=TEXT,
    prefix=TEXT,
    authority=AUTHORITIES,
    type_code=TEXT,
)
def test_xcn_round_trips(
    id: str, family: str, given_name: str, prefix: str, authority: HierarchicDesignator | None, type_code: str
) -> None:
    try:
        person = Xcn(id=id, family=family, given=given_name, prefix=prefix, authority=authority, type_code=type_code)
    except InvalidInput:
        assert not id
        assert not family
        return
    assert Xcn.parse(str(person)) == person


@settings(max_examples=150, deadline=None)
@given(id=TEXT.filter(bool), authority=AUTHORITIES, type_code=TEXT)
def test_cx_round_trips(id: str, authority: HierarchicDesignator | None, type_code: str) -> None:
    cx = Cx(id=id, authority=authority, type_code=type_code)
    assert Cx.parse(str(cx)) == cx


@settings(max_examples=150, deadline=None)
@given(name=TEXT.filter(bool), authority=AUTHORITIES, type_code=TEXT, identifier=TEXT)
def test_xon_and_recipient_round_trip(
    name: str, authority: HierarchicDesignator | None, type_code: str, identifier: str
) -> None:
    institution = Xon(name=name, authority=authority, type_code=type_code, identifier=identifier)
    assert Xon.parse(str(institution)) == institution
    recipient = IntendedRecipient(organization=institution, telecom=Xtn.for_email("secretariat@chu-x.mssante.fr"))
    assert IntendedRecipient.parse(str(recipient)) == recipient


@settings(max_examples=100, deadline=None)
@given(code=TEXT.filter(bool), display=TEXT, code_system=TEXT)
def test_coded_value_round_trips(code: str, display: str, code_system: str) -> None:
    value = CodedValue(code=code, display=display, code_system=code_system)
    assert CodedValue.parse(str(value)) == value


@settings(max_examples=300, deadline=None)
@given(text=HOSTILE)
def test_any_text_parses_to_a_fixed_point_or_invalid_input(text: str) -> None:
    for parse in PARSERS:
        try:
            value = parse(text)
        except InvalidInput as error:
            refused = error
        else:
            assert parse(str(value)) == value
            continue
        assert refused.report.errors

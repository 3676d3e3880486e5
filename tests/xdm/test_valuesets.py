"""CI-SIS value sets (JDV) and NOS tables (ASS) bundled with mssante.xdm: the files, their concepts, lookups, checks.

The bundled files are copies of ``../shared/fixtures/xdm/{JDV,ASS}_*`` (source in ``src/mssante/xdm/data/README.md``);
their SHA-256 is pinned here instead of comparing with ``../shared``, which tests never read.
"""

from __future__ import annotations

import collections
import datetime as dt
import hashlib
import importlib.resources

import pytest

from mssante.errors import InvalidInput
from mssante.report import Severity, finding_codes
from mssante.xdm._valuesets import (
    ALIASES,
    FOR_ATTRIBUTE,
    MAX_VALUE_SET_BYTES,
    Concept,
    Correspondence,
    ValueSet,
    canonical,
    correspondence,
    for_attribute,
    value_set,
    value_sets,
)

UNKNOWN_CODE, OTHER_CODE_SYSTEM, DISPLAY_DIFFERS, ALIAS = "MSS-JDV-001", "MSS-JDV-002", "MSS-JDV-003", "MSS-JDV-004"
UNKNOWN_VALUE_SET, UNREADABLE, NOT_A_VALUE_SET = "MSS-JDV-005", "MSS-JDV-006", "MSS-JDV-007"
UNKNOWN_TABLE = "MSS-JDV-008"

SHA256 = {
    "JDV_J02_XdsHealthcareFacilityTypeCode_CISIS.xml": (
        "c7dd4c14ebcba403c217a1ecca9f218b6e7bee88b3787b6b3da07f6ffcf5e215"
    ),
    "JDV_J04_XdsPracticeSettingCode_CISIS.xml": "779c9b72cf7ea6db0991101fe7c10ccdd641ca96a94dceba5a9bd44b3016d6b9",
    "JDV_J07_XdsTypeCode_CISIS.xml": "f2a23f45708285a6a5b6dc82e3f8b9f067efacafc8975608808ee4fb0335054a",
    "JDV_J08_XdsConfidentialityCode_CISIS.xml": "32f33d56da0a72beb5dda20122219ab8a0ba8f0a22618791fe9ae91fe6a23e02",
    "JDV_J03-XdsContentTypeCode-CISIS-FHIR.json": "2a07a403fb8efb12d55c3d846253bc36003949a854ebb38d8d86e1b44bac0a21",
    "ASS_X04-CorrespondanceType-Classe-CISIS.xml": "01099448312b3f6fb82b2d565c7b5fede6aa0aaa05a1a47a339d5ea4c4e6abb1",
    "ASS_A11-CorresModeleCDA-XdsFormatCode-CISIS.xml": (
        "8c8849db2ad2909543b2ab4e78d9d9b99fce3c8a4c33c39a6d3d1ca5ad596191"
    ),
}

LOINC, TRE_A12, CONFIDENTIALITY_HL7, TRE_A13 = (
    "2.16.840.1.113883.6.1",
    "1.2.250.1.213.1.1.4.12",
    "2.16.840.1.113883.5.25",
    "1.2.250.1.213.1.1.4.13",
)

SVS = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<RetrieveValueSetResponse xmlns="urn:ihe:iti:svs:2008">{}</RetrieveValueSetResponse>'
)
ONE = (
    '<ValueSet id="1.2.3.4" dateMaj="20250102030405" urlFichier="https://mos.esante.gouv.fr/NOS/JDV_J99-Essai-CISIS">'
    '<ConceptList><Concept code="A" codeSystem="1.2.3" displayName="Élément A"/></ConceptList></ValueSet>'
)


def data_files() -> dict[str, bytes]:
    folder = importlib.resources.files("mssante.xdm") / "data"
    return {entry.name: entry.read_bytes() for entry in folder.iterdir() if entry.name.endswith((".xml", ".json"))}


def test_codes_are_declared() -> None:
    declared = {code.id: code for code in finding_codes()}
    assert [declared[f"MSS-JDV-{n:03d}"].severity for n in range(1, 9)] == [
        Severity.ERROR,
        Severity.ERROR,
        Severity.WARNING,
        Severity.INFO,
        Severity.ERROR,
        Severity.ERROR,
        Severity.ERROR,
        Severity.ERROR,
    ]


def test_bundled_files_are_the_pinned_copies() -> None:
    files = data_files()
    assert set(files) == set(SHA256)
    for name, data in files.items():
        assert hashlib.sha256(data).hexdigest() == SHA256[name], name


def test_data_readme_names_the_source() -> None:
    readme = (importlib.resources.files("mssante.xdm") / "data" / "README.md").read_text(encoding="utf-8")
    assert "ansforge/interop-outil-cda-testcontenucda3.0-outil-validation-documents-cda" in readme
    assert "61e148b" in readme
    assert "15af24e776b9f8c6ffbb051c0535fd82f0326203" in readme  # ASS_X04, ASS_A11
    assert "97066578b17809037a6edbfb533a71c7452baf80" in readme  # JDV_J03
    for name in SHA256:
        assert name in readme


# The fixtures README says 70 (J02) and 115 (J07); the files hold 69 and 114 Concept elements (counted in the
# files; J07 is LOINC 78 + TRE_A12 35 + ASTM 1).
@pytest.mark.parametrize(
    ("short", "count", "oid", "name", "updated"),
    [
        ("J02", 69, "1.2.250.1.213.1.1.5.466", "JDV_J02-XdsHealthcareFacilityTypeCode-CISIS", (2024, 12, 13)),
        ("J04", 12, "1.2.250.1.213.1.1.5.467", "JDV_J04-XdsPracticeSettingCode-CISIS", (2024, 9, 27)),
        ("J07", 114, "1.2.250.1.213.1.1.5.471", "JDV_J07-XdsTypeCode-CISIS", (2024, 9, 27)),
        ("J08", 6, "1.2.250.1.213.1.1.5.463", "JDV_J08-XdsConfidentialityCode-CISIS", (2020, 4, 24)),
    ],
)
def test_bundled_value_sets(short: str, count: int, oid: str, name: str, updated: tuple[int, int, int]) -> None:
    found = value_set(short)
    assert (found.short, found.oid, found.name) == (short, oid, name)
    assert len(found) == len(found.concepts) == len(found.codes) == count
    assert found.url == f"https://mos.esante.gouv.fr/NOS/{name}"
    assert found.updated == dt.datetime(*updated, 12, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert found.updated.utcoffset() == dt.timedelta(hours=1)
    assert all(isinstance(concept, Concept) for concept in found)


def test_the_bundled_counts_match_the_xml() -> None:
    for file_name, data in data_files().items():
        if not file_name.startswith("JDV_") or not file_name.endswith(".xml"):
            continue
        parsed = ValueSet.parse(data)
        assert len(parsed) == data.count(b"<Concept "), file_name
        assert value_set(parsed.oid) == parsed


def test_code_systems() -> None:
    counts = collections.Counter(concept.code_system for concept in value_set("J07"))
    assert counts == {LOINC: 78, TRE_A12: 35, "ASTM": 1}
    assert value_set("J02").code_systems == ("1.2.250.1.213.1.1.4.6", "1.2.250.1.71.4.2.4")
    assert value_set("J04").code_systems == ("1.2.250.1.213.1.1.4.6", "1.2.250.1.213.1.1.4.9")
    assert value_set("J08").code_systems == (CONFIDENTIALITY_HL7, TRE_A13)


@pytest.mark.parametrize(
    "name",
    [
        "J07",
        "j07",
        " J07 ",
        "JDV_J07",
        "JDV_J07-XdsTypeCode-CISIS",
        "jdv_j07-xdstypecode-cisis",
        "JDV_J07_XdsTypeCode_CISIS",
        "1.2.250.1.213.1.1.5.471",
        "urn:oid:1.2.250.1.213.1.1.5.471",
    ],
)
def test_lookup_by_name_or_oid(name: str) -> None:
    assert value_set(name) is value_set("J07")


@pytest.mark.parametrize("name", ["J99", "", "JDV_J05", "1.2.250.1.213.1.1.5.999", "J0" * 10_000, "X04"])
def test_unknown_value_set(name: str) -> None:
    with pytest.raises(InvalidInput) as error:
        value_set(name)
    assert error.value.report.codes == (UNKNOWN_VALUE_SET,)
    assert "J02, J03, J04, J06, J07, J08" in str(error.value)
    assert len(str(error.value)) < 300


def test_value_sets_and_attributes() -> None:
    assert [found.short for found in value_sets()] == ["J02", "J03", "J04", "J06", "J07", "J08"]
    assert dict(FOR_ATTRIBUTE) == {
        "healthcareFacilityTypeCode": "J02",
        "contentTypeCode": "J03",
        "practiceSettingCode": "J04",
        "classCode": "J06",
        "typeCode": "J07",
        "confidentialityCode": "J08",
    }
    for attribute, short in FOR_ATTRIBUTE.items():
        assert for_attribute(attribute) is value_set(short)
    with pytest.raises(InvalidInput) as error:
        for_attribute("eventCodeList")
    assert error.value.report.codes == (UNKNOWN_VALUE_SET,)
    with pytest.raises(TypeError):
        FOR_ATTRIBUTE["classCode"] = "J57"  # type: ignore[index]


@pytest.mark.parametrize(
    ("short", "code", "code_system", "display"),
    [
        ("J02", "SA01", "1.2.250.1.71.4.2.4", "Etablissement public de santé"),
        ("J02", "SA02", "1.2.250.1.71.4.2.4", "Hôpital militaire du Service de santé des armées"),
        ("J02", "SNR", "1.2.250.1.213.1.1.4.6", "Service numérique référencé"),
        ("J04", "HAD", "1.2.250.1.213.1.1.4.9", "Hospitalisation à domicile"),
        ("J04", "DEPISTAGE", "1.2.250.1.213.1.1.4.9", "Dépistage"),
        ("J07", "96173-0", LOINC, "Test rapide d'orientation diagnostique"),
        ("J07", "11488-4", LOINC, "CR ou fiche de consultation ou de visite"),
        ("J07", "ATTEST-DROITS-AM", TRE_A12, "Attestation de droits à l'assurance maladie"),
        ("J07", "E1762", "ASTM", "Full Document"),
        ("J08", "N", CONFIDENTIALITY_HL7, "Normal"),
        ("J08", "V", CONFIDENTIALITY_HL7, "Très restreint"),
        ("J08", "INVISIBLE_REPRESENTANTS_LEGAUX", TRE_A13, "Non visible par les représentants légaux du patient"),
        ("J08", "MASQUE_PS", TRE_A13, "Masqué aux professionnels de santé"),
    ],
)
def test_concepts_and_display_names(short: str, code: str, code_system: str, display: str) -> None:
    found = value_set(short)
    assert found.find(code) == Concept(code=code, code_system=code_system, display=display)
    assert found.find(code, code_system) == found.find(code, f"urn:oid:{code_system}")
    assert found.display_of(code) == display
    assert code in found
    report = found.check(code, code_system, display)
    assert report.ok
    assert not report.findings


def test_cda_fixture_codes_check() -> None:
    # fixtures/xdm/cisis-BIO-TROD_2024.01_COVID-19.xml: ClinicalDocument/code, confidentialityCode and
    # serviceEvent/performer/.../standardIndustryClassCode, with their displayName attributes
    assert not value_set("J07").check("96173-0", LOINC, "Test rapide d'orientation diagnostique").findings
    assert not value_set("J08").check("N", CONFIDENTIALITY_HL7, "Normal").findings
    assert not for_attribute("practiceSettingCode").check("DEPISTAGE", "1.2.250.1.213.1.1.4.9", "Dépistage").findings


def test_unknown_code() -> None:
    report = value_set("J07").check("00000-0", LOINC)
    assert not report.ok
    assert report.codes == (UNKNOWN_CODE,)
    assert report.findings[0].where == "code"
    assert value_set("J07").find("00000-0") is None
    assert value_set("J07").display_of("00000-0") is None
    assert "00000-0" not in value_set("J07")
    assert 42 not in value_set("J07")
    assert value_set("J08").check("x" * 100_000).codes == (UNKNOWN_CODE,)


def test_code_in_another_code_system() -> None:
    report = value_set("J08").check("N", TRE_A13)
    assert report.codes == (OTHER_CODE_SYSTEM,)
    assert report.findings[0].where == "codeSystem"
    assert value_set("J08").find("N", TRE_A13) is None


def test_display_name_differing_is_a_warning() -> None:
    report = value_set("J08").check("V", CONFIDENTIALITY_HL7, "Tres restreint")
    assert report.ok
    assert report.codes == (DISPLAY_DIFFERS,)
    assert "Très restreint" in report.findings[0].message
    assert value_set("J08").check("V", CONFIDENTIALITY_HL7, " Très restreint ").codes == ()


def test_the_invisible_rep_legaux_alias() -> None:
    # spec/xdm.md §6 question 6: INVISIBLE_REP_LEGAUX (HL7 v2 MetaDMP/MSS table) vs the JDV_J08 spelling
    j08 = value_set("J08")
    for system in (TRE_A13, None, f"urn:oid:{TRE_A13}"):
        report = j08.check("INVISIBLE_REP_LEGAUX", system)
        assert report.ok
        assert report.codes == (ALIAS,)
        assert report.findings[0].severity is Severity.INFO
        assert j08.find("INVISIBLE_REP_LEGAUX", system) == j08.find("INVISIBLE_REPRESENTANTS_LEGAUX")
    assert canonical("INVISIBLE_REP_LEGAUX", TRE_A13) == "INVISIBLE_REPRESENTANTS_LEGAUX"
    assert canonical("INVISIBLE_REP_LEGAUX") == "INVISIBLE_REPRESENTANTS_LEGAUX"
    assert j08.canonical("INVISIBLE_REP_LEGAUX", TRE_A13) == "INVISIBLE_REPRESENTANTS_LEGAUX"
    assert canonical("INVISIBLE_REPRESENTANTS_LEGAUX", TRE_A13) == "INVISIBLE_REPRESENTANTS_LEGAUX"
    assert canonical("INVISIBLE_REP_LEGAUX", LOINC) == "INVISIBLE_REP_LEGAUX"  # not an alias in another system
    assert canonical("N", CONFIDENTIALITY_HL7) == "N"
    assert ALIASES[(TRE_A13, "INVISIBLE_REP_LEGAUX")] == "INVISIBLE_REPRESENTANTS_LEGAUX"
    # the alias with the JDV display name: only the info finding
    report = j08.check("INVISIBLE_REP_LEGAUX", TRE_A13, "Non visible par les représentants légaux du patient")
    assert report.codes == (ALIAS,)
    # the alias is no code of another value set
    assert value_set("J07").check("INVISIBLE_REP_LEGAUX").codes == (UNKNOWN_CODE,)
    assert j08.check("INVISIBLE_REP_LEGAUX", LOINC).codes == (OTHER_CODE_SYSTEM,)


def test_check_refuses_a_code_that_is_not_text() -> None:
    with pytest.raises(TypeError):
        value_set("J08").check(None)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        value_set(7)  # type: ignore[arg-type]


# --- Reading value set files -----------------------------------------------------------------------------------


def test_parse_a_minimal_value_set() -> None:
    parsed = ValueSet.parse(SVS.format(ONE).encode())
    assert (parsed.oid, parsed.name, parsed.short) == ("1.2.3.4", "JDV_J99-Essai-CISIS", "J99")
    assert parsed.concepts == (Concept(code="A", code_system="1.2.3", display="Élément A"),)
    assert parsed.updated == dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)  # no revisionDate: UTC


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", UNREADABLE),
        (b"<RetrieveValueSetResponse", UNREADABLE),
        (b"\xff\xfe<x/>", UNREADABLE),
        (b"<?xml version='1.0' encoding='x-unknown'?><x/>", UNREADABLE),
        (b"<?xml version='1.0' encoding='shift_jis'?><x/>", UNREADABLE),
        (
            b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>'
            b'<RetrieveValueSetResponse xmlns="urn:ihe:iti:svs:2008">&b;</RetrieveValueSetResponse>',
            UNREADABLE,
        ),
        (
            b'<!DOCTYPE r SYSTEM "http://example.invalid/x.dtd">'
            b'<RetrieveValueSetResponse xmlns="urn:ihe:iti:svs:2008"/>',
            UNREADABLE,
        ),
        (b" " * (MAX_VALUE_SET_BYTES + 1), UNREADABLE),
        (b"<RetrieveValueSetResponse/>", NOT_A_VALUE_SET),
        (b'<other xmlns="urn:ihe:iti:svs:2008"/>', NOT_A_VALUE_SET),
        (SVS.format("").encode(), NOT_A_VALUE_SET),
        (SVS.format(ONE + ONE).encode(), NOT_A_VALUE_SET),
        (SVS.format(ONE.replace('id="1.2.3.4"', 'id="JDV"')).encode(), NOT_A_VALUE_SET),
        (SVS.format(ONE.replace(' id="1.2.3.4"', "")).encode(), NOT_A_VALUE_SET),
        (SVS.format(ONE.replace("20250102030405", "2025-01-02")).encode(), NOT_A_VALUE_SET),
        (SVS.format(ONE.replace(' dateMaj="20250102030405"', "")).encode(), NOT_A_VALUE_SET),
        (SVS.format(ONE.replace('code="A" ', "")).encode(), NOT_A_VALUE_SET),
        (SVS.format(ONE.replace('codeSystem="1.2.3" ', "")).encode(), NOT_A_VALUE_SET),
        (SVS.format(ONE.replace("<ConceptList>", "<ConceptList><Concept/>")).encode(), NOT_A_VALUE_SET),
        (
            SVS.format(ONE.replace("</ConceptList>", '<Concept code="A" codeSystem="1.2.3"/></ConceptList>')).encode(),
            NOT_A_VALUE_SET,
        ),
        (
            SVS.format(ONE.replace("<ConceptList>", "<Other>").replace("</ConceptList>", "</Other>")).encode(),
            NOT_A_VALUE_SET,
        ),
        (
            SVS.format(ONE.replace(' urlFichier="https://mos.esante.gouv.fr/NOS/JDV_J99-Essai-CISIS"', "")).encode(),
            NOT_A_VALUE_SET,
        ),
    ],
)
def test_bad_value_set_files(data: bytes, code: str) -> None:
    with pytest.raises(InvalidInput) as error:
        ValueSet.parse(data)
    assert error.value.report.codes == (code,)


def test_display_name_fallback_for_the_name() -> None:
    without_url = ONE.replace(
        ' urlFichier="https://mos.esante.gouv.fr/NOS/JDV_J99-Essai-CISIS"', ' displayName="JDV_J99_Essai_CISIS.tabs"'
    )
    parsed = ValueSet.parse(SVS.format(without_url).encode())
    assert (parsed.name, parsed.short, parsed.url) == ("JDV_J99_Essai_CISIS", "J99", "")


def test_construction_needs_an_aware_time() -> None:
    with pytest.raises(ValueError, match="aware"):
        ValueSet(oid="1.2.3", name="JDV_J99-X", updated=dt.datetime(2025, 1, 1), concepts=())
    built = ValueSet(
        oid="1.2.3", name="JDV_J99-X", updated=dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc), concepts=[]
    )
    assert built.short == "J99"
    assert built.concepts == ()


# --- J03 (FHIR export), J06 (written out), the ASS tables ------------------------------------------------------

TRE_R209, TRE_R02, TRE_A00, TRE_A03 = (
    "1.2.250.1.213.2.2",
    "1.2.250.1.71.4.2.4",
    "1.2.250.1.213.1.1.4.6",
    ("1.2.250.1.213.1.1.4.1"),
)


def test_j03_the_content_type_codes() -> None:
    j03 = value_set("J03")
    assert (j03.oid, j03.name, j03.short) == ("1.2.250.1.213.1.1.5.464", "JDV_J03-XdsContentTypeCode-CISIS", "J03")
    assert j03.updated == dt.datetime(2022, 10, 28, 12, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert collections.Counter(concept.code_system for concept in j03) == {TRE_A00: 1, TRE_R209: 33, TRE_R02: 58}
    assert j03.find("07") == Concept(code="07", code_system=TRE_R209, display="Consultations soins externes")
    assert j03.display_of("EXP_PATIENT") == "Expression personnelle du patient"
    assert j03.check("SA07", TRE_R02, "Cabinet individuel").ok
    assert value_set("JDV_J03-XdsContentTypeCode-CISIS-FHIR") is j03
    assert for_attribute("contentTypeCode") is j03


def test_j06_the_class_codes_with_95_and_99() -> None:
    j06 = value_set("J06")
    assert (j06.oid, j06.name) == ("1.2.250.1.213.1.1.5.462", "JDV_J06-XdsClassCode-CISIS")
    assert j06.codes[:3] == ("10", "11", "31")
    assert j06.display_of("95") == "Document de gestion"
    assert j06.display_of("99") == "Document technique"
    assert j06.find("urn:oid:1.3.6.1.4.1.19376.1.2.1.1.1", "URN") is not None
    assert len(j06) == 13


def test_x04_maps_every_type_of_j07_to_a_class_of_j06() -> None:
    x04 = correspondence("X04")
    assert (x04.oid, x04.name) == ("1.2.250.1.213.1.1.4.249", "ASS_X04-CorrespondanceType-Classe-CISIS")
    assert len(x04) == 130
    for concept in value_set("J07"):
        target = x04.target(concept.code, concept.code_system)
        assert target is not None, concept
        assert value_set("J06").find(target.code, target.code_system) is not None, target
    assert x04.target("96173-0", LOINC) == Concept(code="52", code_system=TRE_A03)
    assert x04.target("96173-0", TRE_A12) is None  # the code system counts when given
    assert x04.target("00000-0") is None
    assert correspondence("ASS_X04") is x04
    assert correspondence("1.2.250.1.213.1.1.4.249") is x04


def test_a11_skips_the_injected_script_and_keeps_every_row() -> None:
    data = data_files()["ASS_A11-CorresModeleCDA-XdsFormatCode-CISIS.xml"]
    assert b"<script " in data  # saved from a browser: an extension's script before the ValueSet
    a11 = Correspondence.parse(data)
    assert a11 == correspondence("A11")
    assert len(a11) == 66
    assert a11.updated.date() == dt.date(2024, 7, 26)
    assert a11.target("1.2.250.1.213.1.1.1.59") == Concept(
        code="urn:ans:ci-sis:trod:2024", code_system="1.2.250.1.213.1.1.4.2.282"
    )
    xds_sd = a11.targets("1.3.6.1.4.1.19376.1.2.20")
    assert len(xds_sd) == 5  # one per media type: the body decides (ASS_A12)
    assert a11.target("1.3.6.1.4.1.19376.1.2.20") is None


@pytest.mark.parametrize("name", ["X05", "", "ASS_A12", "JDV_J07"])
def test_unknown_table(name: str) -> None:
    with pytest.raises(InvalidInput) as error:
        correspondence(name)
    assert error.value.report.codes == (UNKNOWN_TABLE,)
    assert "ASS_A11-CorresModeleCDA-XdsFormatCode-CISIS, ASS_X04-CorrespondanceType-Classe-CISIS" in str(error.value)
    with pytest.raises(TypeError):
        correspondence(4)  # type: ignore[arg-type]


MAPPED = (
    '<ValueSet id="1.2.3.4" dateMaj="20250102030405" urlFichier="https://mos.esante.gouv.fr/NOS/ASS_X99-Essai">'
    '<MappedConceptList><MappedConcept><Concept code="A" codeSystem="1.2.3"/><Concept code="B" codeSystem="1.2.4"/>'
    "</MappedConcept></MappedConceptList></ValueSet>"
)


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"<x", UNREADABLE),
        (SVS.format("").encode(), NOT_A_VALUE_SET),
        (SVS.format(MAPPED.replace('<Concept code="B" codeSystem="1.2.4"/>', "")).encode(), NOT_A_VALUE_SET),
        (SVS.format(MAPPED.replace("<MappedConcept>", "<Other>").replace("</MappedConcept>", "</Other>")).encode(),
         NOT_A_VALUE_SET),
        (SVS.format(MAPPED.replace('id="1.2.3.4"', 'id="x"')).encode(), NOT_A_VALUE_SET),
        (SVS.format(MAPPED.replace('codeSystem="1.2.4"', 'codeSystem=""')).encode(), NOT_A_VALUE_SET),
    ],
)  # fmt: skip
def test_bad_table_files(data: bytes, code: str) -> None:
    with pytest.raises(InvalidInput) as error:
        Correspondence.parse(data)
    assert error.value.report.codes == (code,)


def test_a_minimal_table() -> None:
    parsed = Correspondence.parse(SVS.format(MAPPED).encode())
    assert (parsed.oid, parsed.name) == ("1.2.3.4", "ASS_X99-Essai")
    assert parsed.rows == ((Concept(code="A", code_system="1.2.3"), Concept(code="B", code_system="1.2.4")),)
    assert parsed.targets("A", "urn:oid:1.2.3") == (Concept(code="B", code_system="1.2.4"),)


FHIR = (
    '{"resourceType": "ValueSet", "name": "JDV_J99-Essai-CISIS", "identifier": [{"value": "urn:oid:1.2.3.4"}], '
    '"date": "2025-01-02T03:04:05+01:00", "compose": {"include": [{"system": "https://example.invalid/cs", '
    '"concept": [{"code": "A", "display": "Élément A", "designation": [{"use": {"code": "OID"}, '
    '"value": "urn:oid:1.2.3"}]}, {"code": "B"}]}]}}'
)


def test_parse_a_minimal_fhir_value_set() -> None:
    parsed = ValueSet.parse_fhir(FHIR.encode())
    assert (parsed.oid, parsed.name, parsed.short) == ("1.2.3.4", "JDV_J99-Essai-CISIS", "J99")
    assert parsed.concepts == (
        Concept(code="A", code_system="1.2.3", display="Élément A"),
        Concept(code="B", code_system="https://example.invalid/cs"),  # no OID designation: the include's system
    )
    assert parsed.updated == dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=dt.timezone(dt.timedelta(hours=1)))


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", UNREADABLE),
        (b"\xff{", UNREADABLE),
        (b"[" * 100_000, UNREADABLE),
        (b" " * (MAX_VALUE_SET_BYTES + 1), UNREADABLE),
        (b"[]", NOT_A_VALUE_SET),
        (FHIR.replace('"ValueSet"', '"CodeSystem"').encode(), NOT_A_VALUE_SET),
        (FHIR.replace('"compose"', '"other"').encode(), NOT_A_VALUE_SET),
        (FHIR.replace('"date": "2025-01-02T03:04:05+01:00", ', "").encode(), NOT_A_VALUE_SET),
        (FHIR.replace("urn:oid:1.2.3.4", "1.2.3.4").encode(), NOT_A_VALUE_SET),
        (FHIR.replace('"name": "JDV_J99-Essai-CISIS", ', "").encode(), NOT_A_VALUE_SET),
        (FHIR.replace('{"code": "B"}', '"B"').encode(), NOT_A_VALUE_SET),
        (FHIR.replace('{"code": "B"}', '{"display": "B"}').encode(), NOT_A_VALUE_SET),
    ],
)
def test_bad_fhir_value_sets(data: bytes, code: str) -> None:
    with pytest.raises(InvalidInput) as error:
        ValueSet.parse_fhir(data)
    assert error.value.report.codes == (code,)


def test_a_dtd_is_refused_at_its_doctype_before_any_entity() -> None:
    data = (
        b'<!DOCTYPE r [<!ENTITY a "x">]>'
        b'<RetrieveValueSetResponse xmlns="urn:ihe:iti:svs:2008">&a;</RetrieveValueSetResponse>'
    )
    with pytest.raises(InvalidInput) as error:
        ValueSet.parse(data)
    assert error.value.report.codes == (UNREADABLE,)
    assert "refused: DTDForbidden (no DTD or entity is read)" in str(error.value)

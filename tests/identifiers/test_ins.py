"""INS matricules: the key, Corsica, the authorities, and published examples that fail their key."""

from __future__ import annotations

import pytest

from mssante import identifiers
from mssante.errors import InvalidIdentifier
from mssante.identifiers import Ins, InsAuthority


@pytest.mark.parametrize(
    "text",
    [
        "279035121518989",  # CI-SIS CDA example, patient address 279035121518989@patient.mssante.fr
        "146026322000196",  # ANS HL7v2 IG example, 146026322000196@patient.mssante.fr
        "255081416802538",  # betagouv/nir_validate README, valid example
        "2 79 03 51 215 189 89",
        "2-79-03-51-215-189-89",
    ],
)
def test_published_valid_matricules(text: str) -> None:
    result = identifiers.check_ins(text)
    assert result.ok, result.report
    assert result.report.codes == ()
    assert isinstance(result.identifier, Ins)
    assert len(str(result.identifier)) == 15


@pytest.mark.parametrize(
    ("text", "expected_key"),
    [
        ("288091234567823", "94"),  # ANS HL7v2 IG example: fails its key
        ("246037433000291", "53"),  # ANS HL7v2 IG example: fails its key
        ("255081416802539", "38"),  # betagouv/nir_validate README, invalid example
    ],
)
def test_published_examples_that_fail_their_key_are_reported(text: str, expected_key: str) -> None:
    result = identifiers.check_ins(text)
    assert not result.ok
    (finding,) = result.report.findings
    assert finding.code == "MSS-INS-003"
    assert f"should be {expected_key}" in finding.message
    with pytest.raises(InvalidIdentifier):
        Ins.parse(text)


def test_test_authority_turns_a_bad_key_into_a_warning_never_silence() -> None:
    result = identifiers.check_ins("288091234567823", "test")
    assert result.ok
    assert result.report.codes == ("MSS-INS-007", "MSS-INS-005")
    assert all(finding.severity.value == "warning" for finding in result.report)
    ins = Ins.parse("288091234567823", InsAuthority.TEST)
    assert ins.kind == "test"
    assert not ins.is_production


def test_test_authority_still_warns_on_a_good_key() -> None:
    result = identifiers.check_ins("279035121518989", "1.2.250.1.213.1.4.10")
    assert result.report.codes == ("MSS-INS-005",)


def test_production_authorities_are_strict() -> None:
    for authority in ("nir", "nia", "urn:oid:1.2.250.1.213.1.4.8"):
        assert not identifiers.check_ins("288091234567823", authority).ok
    assert Ins.parse("279035121518989", "nia").kind == "nia"
    assert Ins.parse("279035121518989").kind == "nir-or-nia"


def test_unknown_authority_is_an_error() -> None:
    result = identifiers.check_ins("279035121518989", "1.2.250.1.213.1.4.2")  # the old INS-C
    assert result.report.codes == ("MSS-INS-006",)
    with pytest.raises(InvalidIdentifier):
        InsAuthority.parse("1.2.250.1.213.1.4.2")


def test_authority_oids() -> None:
    assert {authority.name: authority.value for authority in InsAuthority} == {
        "NIR": "1.2.250.1.213.1.4.8",
        "NIA": "1.2.250.1.213.1.4.9",
        "TEST": "1.2.250.1.213.1.4.10",
        "DEMO": "1.2.250.1.213.1.4.11",
    }
    assert [authority.is_production for authority in InsAuthority] == [True, True, False, False]


def test_corsica_counts_2a_as_19_and_2b_as_18() -> None:
    body_2a = "185042A123456"
    key_2a = f"{97 - int('1850419123456') % 97:02d}"
    assert identifiers.ins_key(body_2a) == key_2a
    assert Ins.parse(f"{body_2a.lower()}{key_2a}").value == body_2a + key_2a
    body_2b = "299112B004012"
    key_2b = f"{97 - int('2991118004012') % 97:02d}"
    assert identifiers.check_ins(body_2b + key_2b).ok
    # 2A and 2B are not interchangeable: the key tells them apart.
    assert not identifiers.check_ins("185042B123456" + key_2a).ok


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("27903512151898", "MSS-INS-001"),
        ("2790351215189890", "MSS-INS-001"),
        ("27903512151898A", "MSS-INS-002"),
        ("2790352C1518989", "MSS-INS-002"),
        ("A79035121518989", "MSS-INS-002"),
        ("", "MSS-ID-001"),
        ("279035121518989\r\n", "MSS-ID-003"),
    ],
)
def test_each_rule_has_its_code(text: str, code: str) -> None:
    result = identifiers.check_ins(text)
    assert not result.ok
    assert result.report.errors[0].code == code


def test_first_digit_must_be_a_sex_or_provisional_digit() -> None:
    body = "579035121518"  # first digit 5
    text = f"{body}9{identifiers.ins_key(body + '9')}"
    result = identifiers.check_ins(text)
    assert result.report.codes == ("MSS-INS-004",)


def test_parts() -> None:
    ins = Ins.parse("279035121518989")
    assert ins.body == "2790351215189"
    assert ins.key == "89"
    assert ins.authority is None
    assert ins.is_production
    assert ins == Ins(value="279035121518989")
    assert ins != Ins(value="279035121518989", authority=InsAuthority.NIR)


def test_check_via_the_generic_entry_point() -> None:
    assert identifiers.check("279035121518989", "ins").type is identifiers.IdentifierType.INS

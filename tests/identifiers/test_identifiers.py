"""National identifiers: published examples, real data, and each rule's finding."""

from __future__ import annotations

from pathlib import Path

import pytest

from mssante import identifiers
from mssante.errors import InvalidIdentifier, InvalidInput, MssanteError
from mssante.identifiers import (
    Adeli,
    Finess,
    IdentifierType,
    IdNatStruct,
    IdNatStructKind,
    Idnps,
    IdnpsKind,
    Rpps,
    Siren,
    Siret,
)

DATA = Path(__file__).parent.parent / "data"


# Published, real examples (sources: ../shared/spec/annuaire.md §1.6, pki.md §2, mssante.md §1.3).
@pytest.mark.parametrize(
    ("text", "kind", "canonical"),
    [
        ("10000001916", IdentifierType.RPPS, "10000001916"),  # RPPS in the directory API v1 documentation
        ("1 0000 0019 16", IdentifierType.RPPS, "10000001916"),
        ("10005531586", IdentifierType.RPPS, "10005531586"),  # the RPPS inside IG IdNat_Struct 410005531586003
        ("540002698", IdentifierType.FINESS, "540002698"),  # CHU Nancy, FHIR IG Organization example
        ("590064036", IdentifierType.FINESS, "590064036"),  # directory API documentation search example
        ("187512751", IdentifierType.SIREN, "187512751"),  # ASIP Santé / ANS
        ("18751275100020", IdentifierType.SIRET, "18751275100020"),  # ANS, OU of its TEST server certificate
        ("187 512 751 00020", IdentifierType.SIRET, "18751275100020"),
        ("318751275100020", IdentifierType.IDNST, "318751275100020"),  # OU=3+SIRET of that certificate
        ("410005531586003", IdentifierType.IDNST, "410005531586003"),  # IG Organization-548812DP (RPPS rank)
        ("0B6087510", IdentifierType.ADELI, "0B6087510"),  # ADELI in the CN of a TEST CPS certificate
        ("00B6087510", IdentifierType.IDNPS, "00B6087510"),  # that CN: 0 + ADELI
        ("00b2800585", IdentifierType.IDNPS, "00B2800585"),  # DMP test kit XCN, lower case
        ("810000001916", IdentifierType.IDNPS, "810000001916"),  # 8 + RPPS
    ],
)
def test_published_examples_are_valid_and_typed(text: str, kind: IdentifierType, canonical: str) -> None:
    result = identifiers.check(text, kind)
    assert result.ok, result.report
    assert result.normalized == canonical
    assert str(result.identifier) == canonical
    assert str(identifiers.parse(text, kind)) == canonical
    guessed = identifiers.check(text)
    assert guessed.type is kind or "MSS-ID-011" in guessed.report.codes


def test_a_siret_needs_a_valid_siren() -> None:
    value = "26770336668999"  # passes Luhn over 14 digits, but its SIREN 267703366 does not
    assert identifiers.luhn_valid(value)
    result = identifiers.check(value, "siret")
    assert result.report.codes == ("MSS-ID-006",)
    assert result.report.errors[0].where == "siren.key"


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("10003461033", IdentifierType.RPPS),  # fictitious RPPS of the FHIR IG example (key should be 4)
        ("458174839", IdentifierType.FINESS),  # fictitious FINESS of the IG 'organisation fictive'
        ("1458174839", IdentifierType.IDNST),
        ("18751275100021", IdentifierType.SIRET),
    ],
)
def test_fictitious_examples_fail_their_key(text: str, kind: IdentifierType) -> None:
    result = identifiers.check(text, kind)
    assert not result.ok
    assert "MSS-ID-006" in result.report.codes
    assert result.identifier is None


def test_every_structure_identifier_of_the_allow_list_certificates_is_valid() -> None:
    values = (DATA / "whitelist-2025-03-13-ou.txt").read_text().split()
    assert len(values) == 343
    verdicts = {value: identifiers.check(value, "idnst") for value in values}
    invalid = {value for value, result in verdicts.items() if not result.ok}
    # One production entry (an audit test domain) carries 1 + '0B0078671', not a FINESS.
    assert invalid == {"10B0078671"}
    kinds = {result.identifier.kind for result in verdicts.values() if isinstance(result.identifier, IdNatStruct)}
    assert kinds == {IdNatStructKind.FINESS, IdNatStructKind.SIRET}


def test_rpps_key_error_names_the_expected_key() -> None:
    result = identifiers.check("10003461033", "rpps")
    (finding,) = result.report.errors
    assert finding.code == "MSS-ID-006"
    assert finding.where == "key"
    assert "should be 4, not 3" in finding.message
    assert identifiers.check("10003461034", "rpps").ok


@pytest.mark.parametrize(
    ("text", "kind", "code"),
    [
        ("1000000191", IdentifierType.RPPS, "MSS-ID-004"),
        ("1000000191A", IdentifierType.RPPS, "MSS-ID-005"),
        ("54000269", IdentifierType.FINESS, "MSS-ID-004"),
        ("2C0000001", IdentifierType.FINESS, "MSS-ID-005"),
        ("5400026A8", IdentifierType.FINESS, "MSS-ID-005"),
        ("1875127510002", IdentifierType.SIRET, "MSS-ID-004"),
        ("18751275X", IdentifierType.SIREN, "MSS-ID-005"),
        ("0C6087510", IdentifierType.ADELI, "MSS-ID-005"),
        ("910000001916", IdentifierType.IDNPS, "MSS-ID-007"),
        ("3540002698", IdentifierType.IDNPS, "MSS-ID-005"),  # staff form needs '/<number>'
        ("3540002698/", IdentifierType.IDNPS, "MSS-ID-005"),
        ("910000001916", IdentifierType.IDNST, "MSS-ID-007"),
        ("410005531586", IdentifierType.IDNST, "MSS-ID-005"),  # RPPS practice without a rank
        ("", IdentifierType.RPPS, "MSS-ID-001"),
        (" - . ", IdentifierType.RPPS, "MSS-ID-001"),
        ("1000000\x001916", IdentifierType.RPPS, "MSS-ID-003"),
        ("1000000191６", IdentifierType.RPPS, "MSS-ID-003"),  # full-width six
        ("1" * 65, IdentifierType.RPPS, "MSS-ID-002"),
    ],
)
def test_each_rule_has_its_code(text: str, kind: IdentifierType, code: str) -> None:
    result = identifiers.check(text, kind)
    assert not result.ok
    assert result.report.errors[0].code == code


def test_adeli_is_accepted_on_form_with_a_finding_that_says_so() -> None:
    result = identifiers.check("751012345", "adeli")
    assert result.ok
    assert result.report.codes == ("MSS-ID-008",)
    assert result.report.findings[0].severity.value == "info"


def test_corsican_finess_is_well_formed_but_its_key_is_not_claimed_checked() -> None:
    result = identifiers.check("2a0001234", "finess")
    assert result.ok
    assert result.normalized == "2A0001234"
    assert "MSS-ID-008" in result.report.codes
    assert Finess.parse("2B0001234").department == "2B"


def test_la_poste_establishments_use_the_digit_sum_rule() -> None:
    head_office = identifiers.check("35600000000048", "siret")  # passes Luhn itself
    assert head_office.ok
    assert head_office.report.codes == ()
    # An establishment number that fails Luhn but whose digits sum to a multiple of 5.
    establishment = identifiers.check("35600000049837", "siret")
    assert not identifiers.luhn_valid("35600000049837")
    assert establishment.ok
    assert establishment.report.codes == ("MSS-ID-009",)
    wrong = identifiers.check("35600000049838", "siret")
    assert not wrong.ok
    assert wrong.report.codes == ("MSS-ID-006",)
    # Luhn does not save a La Poste establishment whose digits do not add up to a multiple of 5.
    assert identifiers.luhn_valid("35600000000113")
    assert identifiers.check("35600000000113", "siret").report.codes == ("MSS-ID-006",)
    # The rule is La Poste's only: the same digit sum elsewhere is still a Luhn error.
    assert sum(map(int, "18751275100003")) % 5 == 0
    assert identifiers.check("18751275100003", "siret").report.codes == ("MSS-ID-006",)


def test_ambiguous_nine_digits_are_read_as_finess_and_say_what_else_they_could_be() -> None:
    result = identifiers.check("540002698")
    assert result.type is IdentifierType.FINESS
    (finding,) = result.report.findings
    assert finding.code == "MSS-ID-011"
    assert "SIREN" in finding.message
    assert "ADELI" in finding.message
    assert identifiers.check("540002698", "siren").type is IdentifierType.SIREN


def test_nine_digits_failing_luhn_are_a_finess_key_error_with_an_adeli_hint() -> None:
    result = identifiers.check("751012346")
    assert result.type is IdentifierType.FINESS
    assert not result.ok
    assert result.report.codes == ("MSS-ID-006", "MSS-ID-011")
    assert identifiers.check("751012346", "adeli").ok


@pytest.mark.parametrize("text", ["123", "12345678", "1234567890123456789"])
def test_unknown_shapes_ask_for_the_type(text: str) -> None:
    result = identifiers.check(text)
    assert result.type is None
    assert result.report.codes == ("MSS-ID-010",)


def test_idnps_parts() -> None:
    rpps = Rpps.parse("10000001916")
    idnps = Idnps.of(rpps)
    assert str(idnps) == "810000001916"
    assert idnps.kind is IdnpsKind.RPPS
    assert idnps.rpps == rpps
    assert idnps.adeli is None
    adeli_idnps = Idnps.of(Adeli.parse("0B6087510"))
    assert str(adeli_idnps) == "00B6087510"
    assert adeli_idnps.adeli == Adeli(value="0B6087510")
    staff = Idnps.parse("3540002698/ab12")
    assert staff.kind is IdnpsKind.STAFF_FINESS
    assert staff.number == "540002698/AB12"


def test_idnst_parts() -> None:
    siret = Siret.parse("18751275100020")
    idnst = IdNatStruct.of(siret)
    assert str(idnst) == "318751275100020"
    assert idnst.siret == siret
    assert idnst.siren == Siren(value="187512751") == siret.siren
    assert siret.nic == "00020"
    assert IdNatStruct.of(Finess.parse("540002698")).finess == Finess(value="540002698")
    assert IdNatStruct.of(Siren.parse("187512751")).kind is IdNatStructKind.SIREN
    assert IdNatStruct.parse("410005531586003").kind is IdNatStructKind.RPPS_CABINET
    nested = identifiers.check("1540002699", "idnst")
    assert nested.report.errors[0].where == "finess.key"


def test_an_invalid_value_cannot_exist() -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        Rpps(value="10000001917")
    error = caught.value
    assert isinstance(error, InvalidInput)
    assert isinstance(error, ValueError)
    assert isinstance(error, MssanteError)
    assert error.report.codes == ("MSS-ID-006",)
    assert "RPPS" in str(error)
    with pytest.raises(InvalidIdentifier, match="not a valid FINESS"):
        Finess.parse("1000000\n1916")


def test_values_are_frozen_and_comparable() -> None:
    first, second = Rpps.parse("10000001916"), Rpps.parse(" 100 000 019 16 ")
    assert first == second
    assert hash(first) == hash(second)
    assert {first, second} == {first}
    with pytest.raises(AttributeError):
        first.value = "10005531586"  # type: ignore[misc]


def test_parse_rejects_other_types_of_input() -> None:
    with pytest.raises(TypeError):
        Rpps.parse(10000001916)  # type: ignore[arg-type]


def test_generic_parse_raises_with_the_report() -> None:
    assert isinstance(identifiers.parse("18751275100020"), Siret)
    with pytest.raises(InvalidIdentifier) as caught:
        identifiers.parse("12")
    assert caught.value.report.codes == ("MSS-ID-010",)


def test_check_to_dict_is_the_cli_shape() -> None:
    data = identifiers.check("8 10000001916").to_dict()
    assert data == {
        "input": "8 10000001916",
        "type": "idnps",
        "valid": True,
        "normalized": "810000001916",
        "findings": [],
    }


def test_type_labels() -> None:
    assert [kind.label for kind in IdentifierType] == [
        "RPPS", "ADELI", "IdNat_PS", "FINESS", "SIREN", "SIRET", "IdNat_Struct", "INS matricule",
    ]  # fmt: skip
    assert identifiers.IDNPS_OID == "1.2.250.1.71.4.2.1"
    assert identifiers.IDNST_OID == "1.2.250.1.71.4.2.2"

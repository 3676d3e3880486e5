"""Properties of the national identifiers over generated values.

Valid values are built from a random body and the key given by the library's own helpers;
those helpers are first held against textbook implementations written here, so a wrong
algorithm cannot hide behind values it generated itself. Then: valid values round-trip,
loose input comes back canonical, and the keys catch exactly what Luhn and the modulo 97
can catch, no more.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mssante import identifiers
from mssante.errors import InvalidIdentifier
from mssante.identifiers import (
    Adeli,
    Finess,
    Identifier,
    IdNatStruct,
    IdNatStructKind,
    Idnps,
    Ins,
    Rpps,
    Siren,
    Siret,
    ins_key,
    luhn_key,
    luhn_valid,
)

DIGITS = "0123456789"
LA_POSTE_SIREN = "356000000"
SEPARATORS = (" ", "-", ".", "\t", "\u00a0", "\u202f")
BAD_KEY = "MSS-ID-006"
INS_BAD_FORMAT = "MSS-INS-002"
INS_BAD_KEY = "MSS-INS-003"
INS_BAD_SEX = "MSS-INS-004"

PROPERTY = settings(max_examples=50, deadline=None)
EXHAUSTIVE = settings(max_examples=25, deadline=None)
HELPER = settings(max_examples=300, deadline=None)


# Textbook implementations, independent of the library's code.


def reference_luhn_valid(number: str) -> bool:
    """Luhn as taught: from the right, double every second digit, take 9 off results above 9, add up."""
    total = 0
    for index, char in enumerate(reversed(number)):
        digit = int(char)
        if index % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def reference_luhn_key(body: str) -> str:
    """The single digit that makes ``body`` + digit pass Luhn, found by trying all ten."""
    (key,) = [digit for digit in DIGITS if reference_luhn_valid(body + digit)]
    return key


def reference_ins_key(body: str) -> str:
    """97 - (body mod 97) on two digits, Corsica's 2A and 2B (positions 6-7) read as 19 and 18."""
    department = {"2A": "19", "2B": "18"}.get(body[5:7], body[5:7])
    number = int(body[:5] + department + body[7:])
    return f"{97 - number % 97:02d}"


def test_reference_implementations_match_published_examples() -> None:
    assert reference_luhn_valid("79927398713")
    assert not reference_luhn_valid("79927398710")
    assert reference_luhn_key("1000000191") == "6"
    assert reference_ins_key("2790351215189") == "89"
    assert reference_ins_key("1891275125012") == "82"
    # 97 - (1 mod 97) and 97 - (97 mod 97): the key never leaves 01..97.
    assert reference_ins_key("0000000000001") == "96"
    assert reference_ins_key("0000000000097") == "97"


# Strategies.


def digits(size: int) -> st.SearchStrategy[str]:
    return st.text(DIGITS, min_size=size, max_size=size)


def with_luhn_key(body: str) -> str:
    return body + luhn_key(body)


def with_ins_key(body: str) -> str:
    return body + ins_key(body)


def not_la_poste(siret: str) -> bool:
    return not siret.startswith(LA_POSTE_SIREN)


rpps_values = digits(10).map(with_luhn_key)
finess_values = digits(8).map(with_luhn_key)
siren_values = digits(8).map(with_luhn_key)
siret_values = st.builds(lambda siren, nic: with_luhn_key(siren + nic), siren_values, digits(4)).filter(not_la_poste)
corsican_finess_values = st.builds(lambda department, rest: department + rest, st.sampled_from(["2A", "2B"]), digits(7))
adeli_values = st.builds(
    lambda first, second, rest: first + second + rest,
    digits(1),
    st.sampled_from([*DIGITS, "A", "B"]),
    digits(7),
)
ranks = st.text(DIGITS, min_size=1, max_size=4)
staff_locals = st.text(DIGITS + "ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1, max_size=20)
ins_bodies = st.builds(
    lambda sex, birth, department, rest: sex + birth + department + rest,
    st.sampled_from("123478"),
    digits(4),
    st.one_of(digits(2), st.sampled_from(["2A", "2B"])),
    digits(6),
)
ins_values = ins_bodies.map(with_ins_key)


def prefixed(prefix: str, values: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return values.map(lambda value: prefix + value)


def staff(prefix: str, structures: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.builds(lambda structure, local: f"{prefix}{structure}/{local}", structures, staff_locals)


class Keyed(NamedTuple):
    """Generated values of one type, and where the Luhn-keyed number sits in them."""

    name: str
    cls: type[Identifier]
    values: st.SearchStrategy[str]
    start: int
    length: int
    siret: bool = False

    @property
    def protected(self) -> range:
        """Positions covered by the Luhn key (type prefixes and practice ranks are not)."""
        return range(self.start, self.start + self.length)


KEYED = [
    Keyed("rpps", Rpps, rpps_values, 0, 11),
    Keyed("finess", Finess, finess_values, 0, 9),
    Keyed("siren", Siren, siren_values, 0, 9),
    Keyed("siret", Siret, siret_values, 0, 14, siret=True),
    Keyed("idnps-rpps", Idnps, prefixed("8", rpps_values), 1, 11),
    Keyed("idnst-finess", IdNatStruct, prefixed("1", finess_values), 1, 9),
    Keyed("idnst-siren", IdNatStruct, prefixed("2", siren_values), 1, 9),
    Keyed("idnst-siret", IdNatStruct, prefixed("3", siret_values), 1, 14, siret=True),
    Keyed(
        "idnst-rpps-practice",
        IdNatStruct,
        st.builds(lambda rpps, rank: f"4{rpps}{rank}", rpps_values, ranks),
        1,
        11,
    ),
]


class Unkeyed(NamedTuple):
    """Generated valid values of a form without a verifiable key."""

    name: str
    cls: type[Identifier]
    values: st.SearchStrategy[str]


UNKEYED = [
    Unkeyed("adeli", Adeli, adeli_values),
    Unkeyed("finess-corsica", Finess, corsican_finess_values),
    Unkeyed("idnps-adeli", Idnps, prefixed("0", adeli_values)),
    Unkeyed("idnps-staff-finess", Idnps, staff("3", finess_values)),
    Unkeyed("idnps-staff-siren", Idnps, staff("4", siren_values)),
    Unkeyed("idnps-staff-siret", Idnps, staff("5", siret_values)),
    Unkeyed("idnst-adeli-practice", IdNatStruct, st.builds(lambda adeli, rank: f"0{adeli}{rank}", adeli_values, ranks)),
]

ALL_VALID = [Unkeyed(case.name, case.cls, case.values) for case in KEYED] + UNKEYED


@st.composite
def loosely(draw: st.DrawFn, canonical: str) -> str:
    """``canonical`` as people type it: separators anywhere, some letters in lower case."""
    chars = [char.lower() if char.isalpha() and draw(st.booleans()) else char for char in canonical]
    room = identifiers.MAX_INPUT_LENGTH - len(canonical)
    for _ in range(draw(st.integers(0, min(room, 16)))):
        chars.insert(draw(st.integers(0, len(chars))), draw(st.sampled_from(SEPARATORS)))
    return "".join(chars)


def substitutions(value: str, positions: range) -> Iterator[tuple[int, str]]:
    """Every value with one digit at ``positions`` replaced by another digit."""
    for position in positions:
        if value[position] in DIGITS:
            for digit in DIGITS.replace(value[position], ""):
                yield position, value[:position] + digit + value[position + 1 :]


def transpositions(value: str, positions: range) -> Iterator[tuple[int, str]]:
    """Every value with two distinct adjacent digits, both at ``positions``, swapped."""
    for position in positions[:-1]:
        first, second = value[position], value[position + 1]
        if first != second and first in DIGITS and second in DIGITS:
            yield position, value[:position] + second + first + value[position + 2 :]


def error_codes(result: identifiers.IdentifierCheck) -> list[str]:
    return [finding.code for finding in result.report.errors]


def is_la_poste(case: Keyed, value: str) -> bool:
    return case.siret and value[case.start :].startswith(LA_POSTE_SIREN)


# The helpers against the textbook.


@HELPER
@given(st.text(DIGITS, min_size=1, max_size=30))
def test_luhn_valid_agrees_with_the_textbook(number: str) -> None:
    assert luhn_valid(number) is reference_luhn_valid(number)


@HELPER
@given(st.text(DIGITS, min_size=0, max_size=30))
def test_luhn_key_agrees_with_the_textbook(body: str) -> None:
    assert luhn_key(body) == reference_luhn_key(body)
    assert reference_luhn_valid(body + luhn_key(body))


@HELPER
@given(ins_bodies)
def test_ins_key_agrees_with_the_textbook(body: str) -> None:
    key = ins_key(body)
    assert key == reference_ins_key(body)
    assert len(key) == 2
    assert 1 <= int(key) <= 97


@PROPERTY
@given(digits(5), st.sampled_from([("2A", "19"), ("2B", "18")]), digits(6))
def test_ins_key_reads_corsica_as_19_and_18(head: str, corsica: tuple[str, str], tail: str) -> None:
    letters, number = corsica
    assert ins_key(head + letters + tail) == ins_key(head + number + tail)


# Valid values round-trip.


@pytest.mark.parametrize("case", ALL_VALID, ids=[case.name for case in ALL_VALID])
@PROPERTY
@given(data=st.data())
def test_valid_values_round_trip(case: Unkeyed, data: st.DataObject) -> None:
    value = data.draw(case.values, label="value")
    parsed = case.cls.parse(value)
    assert str(parsed) == value
    assert case.cls.parse(str(parsed)) == parsed
    assert case.cls(value=value) == parsed
    result = identifiers.check(value, case.cls.TYPE)
    assert result.ok, result.report
    assert result.identifier == parsed


@pytest.mark.parametrize("case", ALL_VALID, ids=[case.name for case in ALL_VALID])
@PROPERTY
@given(data=st.data())
def test_loose_input_comes_back_canonical(case: Unkeyed, data: st.DataObject) -> None:
    canonical = data.draw(case.values, label="canonical")
    loose = data.draw(loosely(canonical), label="loose")
    assert str(case.cls.parse(loose)) == canonical
    result = identifiers.check(loose, case.cls.TYPE)
    assert result.ok, result.report
    assert result.normalized == canonical
    assert result.input == loose


@PROPERTY
@given(data=st.data())
def test_ins_round_trips_and_reads_loose_input(data: st.DataObject) -> None:
    canonical = data.draw(ins_values, label="canonical")
    loose = data.draw(loosely(canonical), label="loose")
    ins = Ins.parse(loose)
    assert str(ins) == canonical
    assert Ins.parse(str(ins)) == ins
    assert ins.body + ins.key == canonical
    result = identifiers.check_ins(loose)
    assert result.ok, result.report
    assert result.identifier == ins
    assert identifiers.check(loose, "ins").identifier == ins


@PROPERTY
@given(rpps_values)
def test_input_longer_than_the_limit_is_refused_even_when_it_would_normalise(canonical: str) -> None:
    padding = " " * (identifiers.MAX_INPUT_LENGTH + 1 - len(canonical))
    result = identifiers.check(padding + canonical, "rpps")
    assert not result.ok
    assert error_codes(result) == ["MSS-ID-002"]
    assert identifiers.check(padding[1:] + canonical, "rpps").ok


# What the keys catch.


@pytest.mark.parametrize("case", KEYED, ids=[case.name for case in KEYED])
@EXHAUSTIVE
@given(data=st.data())
def test_every_single_digit_substitution_breaks_the_luhn_key(case: Keyed, data: st.DataObject) -> None:
    value = data.draw(case.values, label="value")
    tried = 0
    for _position, changed in substitutions(value, case.protected):
        if is_la_poste(case, changed):
            continue  # La Poste's establishments follow their own rule (below)
        tried += 1
        result = identifiers.check(changed, case.cls.TYPE)
        assert not result.ok, changed
        assert error_codes(result) == [BAD_KEY], (changed, result.report)
        assert result.identifier is None
    assert tried >= 9 * case.length - 1  # at most one change lands on La Poste's SIREN
    changed = next(changed for _, changed in substitutions(value, case.protected) if not is_la_poste(case, changed))
    with pytest.raises(InvalidIdentifier) as raised:
        case.cls.parse(changed)
    assert BAD_KEY in raised.value.report.codes


@pytest.mark.parametrize("case", KEYED, ids=[case.name for case in KEYED])
@EXHAUSTIVE
@given(data=st.data())
def test_luhn_catches_adjacent_transpositions_except_0_and_9(case: Keyed, data: st.DataObject) -> None:
    value = data.draw(case.values, label="value")
    for position, swapped in transpositions(value, case.protected):
        if is_la_poste(case, swapped):
            continue
        result = identifiers.check(swapped, case.cls.TYPE)
        if {value[position], value[position + 1]} == {"0", "9"}:
            if case.siret and position == case.start + 8:
                continue  # across the SIREN and the NIC: the SIREN inside changes its last digit
            # 0 and 9 weigh the same doubled or not (0+9 = 9+0, 2*0 + 9 = 2*9-9 + 0): Luhn cannot see it.
            assert result.ok, (swapped, result.report)
        else:
            assert not result.ok, swapped
            assert error_codes(result) == [BAD_KEY], (swapped, result.report)


@PROPERTY
@given(digits(4), st.sampled_from(["09", "90"]), digits(4))
def test_luhn_misses_swapping_an_adjacent_0_and_9(head: str, pair: str, tail: str) -> None:
    value = with_luhn_key(head + pair + tail)
    swapped = head + pair[::-1] + tail + value[-1]
    assert swapped != value
    assert reference_luhn_valid(swapped)
    assert Rpps.parse(swapped) == Rpps(value=swapped)


@PROPERTY
@given(finess_values)
def test_the_type_prefix_of_an_idnat_struct_is_not_covered_by_the_key(finess: str) -> None:
    # FINESS and SIREN share their shape and their Luhn key: 1 + n and 2 + n are both valid.
    assert IdNatStruct.parse("1" + finess).kind is IdNatStructKind.FINESS
    assert IdNatStruct.parse("2" + finess).kind is IdNatStructKind.SIREN


@PROPERTY
@given(corsican_finess_values)
def test_a_corsican_finess_has_no_key_to_check(value: str) -> None:
    result = identifiers.check(value, "finess")
    assert result.ok
    assert result.report.codes == ("MSS-ID-008",)


@PROPERTY
@given(digits(4))
def test_la_poste_siret_with_a_digit_sum_multiple_of_5_is_valid(head: str) -> None:
    body = LA_POSTE_SIREN + head
    last = str(-sum(map(int, body)) % 5)  # makes the digit sum a multiple of 5
    value = body + last
    assert sum(map(int, value)) % 5 == 0
    assert identifiers.check(value, "siret").ok
    assert identifiers.check("3" + value, "idnst").ok


@PROPERTY
@given(digits(5))
def test_la_poste_siret_failing_luhn_and_the_digit_sum_is_refused(nic: str) -> None:
    value = LA_POSTE_SIREN + nic
    if luhn_valid(value) or sum(map(int, value)) % 5 == 0:
        value = value[:-1] + next(
            digit for digit in DIGITS if not luhn_valid(value[:-1] + digit) and sum(map(int, value[:-1] + digit)) % 5
        )
    result = identifiers.check(value, "siret")
    assert not result.ok
    assert error_codes(result) == [BAD_KEY]


@EXHAUSTIVE
@given(ins_values)
def test_every_single_digit_substitution_breaks_the_ins_key(value: str) -> None:
    corsican = value[5:7] in ("2A", "2B")
    for position, changed in substitutions(value, range(15)):
        result = identifiers.check_ins(changed)
        assert not result.ok, changed
        assert result.identifier is None
        if corsican and position == 5:
            # 2A/2B with its 2 changed is no department at all.
            assert error_codes(result) == [INS_BAD_FORMAT]
        else:
            assert INS_BAD_KEY in error_codes(result), (changed, result.report)
            assert set(error_codes(result)) <= {INS_BAD_KEY, INS_BAD_SEX}
            assert (INS_BAD_SEX in error_codes(result)) == (changed[0] not in "123478")
    with pytest.raises(InvalidIdentifier) as raised:
        Ins.parse(value[:-1] + str((int(value[-1]) + 1) % 10))
    assert INS_BAD_KEY in raised.value.report.codes


@EXHAUSTIVE
@given(ins_values)
def test_every_adjacent_transposition_breaks_the_ins_key(value: str) -> None:
    # Swapping digits a and b at positions k+1, k changes the number by 9(a-b)10^k, never a multiple of
    # the prime 97; across the body and the key the same argument holds. So no swap of distinct digits passes.
    corsican = value[5:7] in ("2A", "2B")
    for position, swapped in transpositions(value, range(15)):
        result = identifiers.check_ins(swapped)
        assert not result.ok, swapped
        if corsican and position == 4:
            assert error_codes(result) == [INS_BAD_FORMAT]
        else:
            assert INS_BAD_KEY in error_codes(result), (swapped, result.report)


@PROPERTY
@given(ins_bodies)
def test_a_test_authority_turns_a_wrong_ins_key_into_a_warning(body: str) -> None:
    wrong = body + f"{int(ins_key(body)) % 97 + 1:02d}"
    assert not identifiers.check_ins(wrong).ok
    assert not identifiers.check_ins(wrong, "nir").ok
    result = identifiers.check_ins(wrong, "test")
    assert result.ok
    assert set(result.report.codes) == {"MSS-INS-005", "MSS-INS-007"}

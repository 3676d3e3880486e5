"""Properties of MSSanté addresses over generated values: round trips, case, refused characters, patients."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mssante import addresses
from mssante.addresses import MAX_ADDRESS_LENGTH, PATIENT_DOMAIN, Address
from mssante.errors import InvalidAddress
from mssante.identifiers import Ins, ins_key

DIGITS = "0123456789"
ATEXT = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#$%&'*+/=?^_`{|}~-"
LDH = "abcdefghijklmnopqrstuvwxyz0123456789-"
BAD_CHARACTER = "MSS-ADR-003"
PATIENT_BAD_INS = "MSS-ADR-008"
PATIENT = "MSS-ADR-009"
IDN_DOMAIN = "MSS-ADR-010"

PROPERTY = settings(max_examples=60, deadline=None)
EXHAUSTIVE = settings(max_examples=20, deadline=None)

# Characters an address never holds: all C0 controls (CR, LF and NUL among them), DEL, space and
# the specials of RFC 5322; then a few Unicode ones that are invisible or break lines.
REFUSED = [
    *(chr(code) for code in range(0x20)),
    "\x7f",
    " ",
    *'<>()[]\\,;:"',
    "\x85",
    "\xa0",
    "\u200b",
    "\u202e",
    "\u2028",
    "\u2029",
    "\u3000",
    "\ufeff",
]


def refused_id(char: str) -> str:
    return f"U+{ord(char):04X}"


# Strategies.


def is_ldh_label(label: str) -> bool:
    """A host name label IDNA 2008 takes as is: no hyphen at either end nor in 3rd and 4th place."""
    return not label.startswith("-") and not label.endswith("-") and label[2:4] != "--"


labels = st.text(LDH, min_size=1, max_size=20).filter(is_ldh_label)
top_labels = labels.filter(lambda label: not label.isdigit())
domains = st.builds(
    lambda inner, top: ".".join([*inner, top]),
    st.lists(labels, min_size=1, max_size=4),
    top_labels,
).filter(lambda domain: domain != PATIENT_DOMAIN)
local_parts = st.lists(st.text(ATEXT, min_size=1, max_size=12), min_size=1, max_size=4).map(".".join)
# One character shorter than the limit, so that inserting one keeps within it.
plain_addresses = st.builds(lambda local, domain: f"{local}@{domain}", local_parts, domains).filter(
    lambda address: len(address) < MAX_ADDRESS_LENGTH
)

unicode_labels = st.text("abcdeéèàüöçßø0123456789", min_size=1, max_size=12)
unicode_domains = st.builds(
    lambda inner, top: f"{inner}.{top}",
    unicode_labels.filter(lambda label: not label.isascii()),
    top_labels,
)

ins_values = st.builds(
    lambda sex, birth, department, rest: sex + birth + department + rest,
    st.sampled_from("123478"),
    st.text(DIGITS, min_size=4, max_size=4),
    st.one_of(st.text(DIGITS, min_size=2, max_size=2), st.sampled_from(["2A", "2B"])),
    st.text(DIGITS, min_size=6, max_size=6),
).map(lambda body: body + ins_key(body))


@st.composite
def mixed_case(draw: st.DrawFn, text: str) -> str:
    return "".join(char.upper() if draw(st.booleans()) else char for char in text)


def substitutions(value: str) -> Iterator[str]:
    for position, char in enumerate(value):
        if char in DIGITS:
            for digit in DIGITS.replace(char, ""):
                yield value[:position] + digit + value[position + 1 :]


# Round trips.


@PROPERTY
@given(plain_addresses)
def test_plain_addresses_round_trip(text: str) -> None:
    address = Address.parse(text)
    assert str(address) == text
    assert Address.parse(str(address)) == address
    local, _, domain = text.partition("@")
    assert (address.local, address.domain) == (local, domain)
    assert not address.is_patient
    assert address.ins is None
    result = addresses.check(text)
    assert result.ok
    assert result.report.codes == ()
    assert result.address == address


@PROPERTY
@given(data=st.data())
def test_domain_case_is_ignored_local_part_case_is_kept(data: st.DataObject) -> None:
    local = data.draw(local_parts, label="local")
    domain = data.draw(domains, label="domain")
    shouted = data.draw(mixed_case(domain), label="shouted")
    address = Address.parse(f"{local}@{domain}")
    assert Address.parse(f"{local}@{shouted}") == address
    assert Address.parse(f"{local}@{domain.upper()}") == address
    assert str(Address.parse(f"{local}@{domain.upper()}")) == f"{local}@{domain}"
    swapped = local.swapcase()
    if swapped != local:
        assert Address.parse(f"{swapped}@{domain}") != address


@PROPERTY
@given(plain_addresses, st.sampled_from([" ", "\t", " \t "]))
def test_spaces_and_tabs_around_an_address_are_ignored(text: str, blank: str) -> None:
    assert Address.parse(blank + text + blank) == Address.parse(text)


@PROPERTY
@given(local_parts, unicode_domains)
def test_internationalised_domains_are_kept_as_a_labels_with_a_warning(local: str, domain: str) -> None:
    result = addresses.check(f"{local}@{domain}")
    assert result.ok, result.report
    assert result.report.codes == (IDN_DOMAIN,)
    assert result.address is not None
    assert result.address.domain.isascii()
    assert "xn--" in result.address.domain
    assert result.address.domain_unicode == domain
    again = addresses.check(str(result.address))
    assert again.ok
    assert again.report.codes == ()
    assert again.address == result.address
    if domain.upper().lower() == domain:  # not for ß, which upper-cases to SS, another domain
        assert Address.parse(f"{local}@{domain.upper()}") == result.address


# Refused characters.


@pytest.mark.parametrize("char", REFUSED, ids=refused_id)
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_an_inserted_control_space_or_special_character_is_refused(char: str, data: st.DataObject) -> None:
    text = data.draw(plain_addresses, label="address")
    # Spaces and tabs at either end are trimmed (previous test): insert those strictly inside.
    inside = char in " \t"
    position = data.draw(st.integers(1 if inside else 0, len(text) - 1 if inside else len(text)), label="position")
    hostile = text[:position] + char + text[position:]
    result = addresses.check(hostile)
    assert not result.ok
    assert result.address is None
    assert result.report.codes == (BAD_CHARACTER,)
    assert result.report.findings[0].where == f"position {position + 1}"
    with pytest.raises(InvalidAddress) as raised:
        Address.parse(hostile)
    assert raised.value.report.codes == (BAD_CHARACTER,)


@PROPERTY
@given(plain_addresses)
def test_a_trailing_dot_after_the_domain_is_refused(text: str) -> None:
    result = addresses.check(text + ".")
    assert not result.ok, f"{text}. accepted as {result.address}"


# Patient (MSS-C) addresses.


@PROPERTY
@given(ins_values)
def test_patient_addresses_round_trip_to_the_same_ins(value: str) -> None:
    ins = Ins.parse(value)
    address = Address.for_patient(ins)
    assert str(address) == f"{value}@{PATIENT_DOMAIN}"
    assert address.is_patient
    assert address.ins == ins
    assert Address.for_patient(value) == address
    assert Address.parse(str(address)) == address
    assert Address.parse(f"{value.lower()}@{PATIENT_DOMAIN.upper()}") == address
    result = addresses.check(str(address))
    assert result.ok
    assert result.report.codes == (PATIENT,)
    assert result.address == address


@PROPERTY
@given(ins_values, st.sampled_from(["nir", "nia", "test", "demo"]))
def test_a_patient_address_keeps_the_matricule_not_the_authority(value: str, authority: str) -> None:
    ins = Ins.parse(value, authority)
    patient = Address.for_patient(ins).ins
    assert patient is not None
    assert patient.value == ins.value
    assert patient.authority is None


@EXHAUSTIVE
@given(ins_values)
def test_a_patient_address_with_one_digit_of_the_ins_changed_is_refused(value: str) -> None:
    changed_values = list(substitutions(value))
    assert len(changed_values) >= 9 * 13
    for changed in changed_values:
        result = addresses.check(f"{changed}@{PATIENT_DOMAIN}")
        assert not result.ok, changed
        assert result.report.codes[0] == PATIENT_BAD_INS
        assert all(finding.where.startswith("local") for finding in result.report.findings)
        assert result.address is None
    with pytest.raises(InvalidAddress) as raised:
        Address.parse(f"{changed_values[0]}@{PATIENT_DOMAIN}")
    assert PATIENT_BAD_INS in raised.value.report.codes

"""MSSanté addresses: real allow-list domains, patient addresses, and each rule's finding."""

from __future__ import annotations

from pathlib import Path

import idna
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mssante import addresses
from mssante.addresses import PATIENT_DOMAIN, Address, MailboxType
from mssante.errors import InvalidAddress, InvalidIdentifier
from mssante.identifiers import Ins

DATA = Path(__file__).parent.parent / "data"


def test_every_domain_of_the_allow_list_makes_a_valid_address_but_one() -> None:
    domains = (DATA / "whitelist-2025-03-13-domains.txt").read_text(encoding="utf-8").split()
    assert len(domains) == 5002
    refused, outside = {}, set()
    for domain in domains:
        local = "279035121518989" if domain.lower() == PATIENT_DOMAIN else "secretariat"
        result = addresses.check(f"{local}@{domain}")
        if result.address is None:
            refused[domain] = result.report.codes
        elif not result.address.domain.endswith(".mssante.fr"):
            outside.add(result.address.domain)
        else:
            assert result.address.domain == domain.lower()
    # The published list holds one entry that is not a domain name at all.
    assert refused == {"sessad@ase.ditepbeziers.mssante.fr": ("MSS-ADR-004",)}
    # No suffix is assumed: the Apicrypt domains are outside mssante.fr and still valid.
    assert outside == {"mssante.apicrypt.org", "interop-mssante.apicrypt.org"}


def test_domain_is_case_insensitive_local_part_is_kept() -> None:
    address = Address.parse("Dr.Martin@UC-CMP.mssante.fr")
    assert str(address) == "Dr.Martin@uc-cmp.mssante.fr"
    assert address == Address.parse("Dr.Martin@uc-cmp.MSSANTE.FR")
    assert address != Address.parse("dr.martin@uc-cmp.mssante.fr")
    assert not address.is_patient
    assert address.ins is None


def test_patient_address_gives_back_the_ins() -> None:
    address = Address.parse("279035121518989@patient.mssante.fr")
    assert address.is_patient
    assert address.ins == Ins.parse("279035121518989")
    result = addresses.check("279035121518989@Patient.MSSante.fr")
    assert result.ok
    assert result.report.codes == ("MSS-ADR-009",)
    assert result.to_dict() == {
        "input": "279035121518989@Patient.MSSante.fr",
        "valid": True,
        "normalized": "279035121518989@patient.mssante.fr",
        "domain": "patient.mssante.fr",
        "patient": True,
        "ins": "279035121518989",
        "findings": [result.report.findings[0].to_dict()],
    }


def test_patient_address_is_built_from_an_ins() -> None:
    ins = Ins.parse("1 46 02 63 220 001 96")
    address = Address.for_patient(ins)
    assert str(address) == "146026322000196@patient.mssante.fr"
    assert address.ins == ins
    assert Address.for_patient("146026322000196") == address
    assert PATIENT_DOMAIN == "patient.mssante.fr"


def test_corsican_patient_address_is_upper_cased() -> None:
    body = "185042A123456"
    key = f"{97 - int('1850419123456') % 97:02d}"
    address = Address.parse(f"{body.lower()}{key}@patient.mssante.fr")
    assert address.local == body + key
    with pytest.raises(InvalidAddress) as caught:
        Address(local=f"{body.lower()}{key}", domain=PATIENT_DOMAIN)
    assert caught.value.report.codes == ("MSS-ADR-009", "MSS-ADR-011")


def test_patient_address_with_a_bad_ins_is_refused_with_the_ins_reason() -> None:
    result = addresses.check("288091234567823@patient.mssante.fr")  # ANS example failing its key
    assert not result.ok
    assert result.report.codes == ("MSS-ADR-008", "MSS-INS-003")
    assert result.report.findings[1].where == "local.key"
    with pytest.raises(InvalidAddress):
        Address.parse("secretariat@patient.mssante.fr")
    with pytest.raises(InvalidIdentifier):
        Address.for_patient("288091234567823")


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "MSS-ADR-001"),
        ("a" * 250 + "@x.fr", "MSS-ADR-002"),
        ("a" * 65 + "@x.fr", "MSS-ADR-002"),
        ("a@" + "b" * 63 + "." + ("c" * 63 + ".") * 3 + "fr", "MSS-ADR-002"),
        ("dr@x.fr\r\nBcc: all@x.fr", "MSS-ADR-003"),
        ("dr@x.fr\nX-MSS-MES: FIN", "MSS-ADR-003"),
        ("dr\x00@x.fr", "MSS-ADR-003"),
        ("dr martin@x.fr", "MSS-ADR-003"),
        ("<dr@x.fr>", "MSS-ADR-003"),
        ("dr@x.fr,other@y.fr", "MSS-ADR-003"),
        ('"dr"@x.fr', "MSS-ADR-003"),
        ("dr@[127.0.0.1]", "MSS-ADR-003"),
        ("dr.x.fr", "MSS-ADR-004"),
        ("dr@@x.fr", "MSS-ADR-004"),
        ("@x.fr", "MSS-ADR-004"),
        ("dr@", "MSS-ADR-004"),
        (".dr@x.fr", "MSS-ADR-005"),
        ("dr.@x.fr", "MSS-ADR-005"),
        ("d..r@x.fr", "MSS-ADR-005"),
        ("médecin@x.fr", "MSS-ADR-005"),
        ("dr@-x.fr", "MSS-ADR-006"),
        ("dr@x..fr", "MSS-ADR-006"),
        ("dr@x_y.fr", "MSS-ADR-006"),
        ("dr@ｍｓｓａｎｔｅ.fr", "MSS-ADR-006"),
        ("dr@x.123", "MSS-ADR-006"),
        ("dr@localhost", "MSS-ADR-007"),
    ],
)
def test_each_rule_has_its_code(text: str, code: str) -> None:
    result = addresses.check(text)
    assert not result.ok
    assert result.address is None
    assert result.report.errors[0].code == code
    with pytest.raises(InvalidAddress):
        Address.parse(text)


def test_internationalised_domains_are_encoded_and_flagged() -> None:
    result = addresses.check("dr@hôpital-exemple.fr")
    assert result.ok
    assert result.report.codes == ("MSS-ADR-010",)
    assert result.address is not None
    assert result.address.domain == "xn--hpital-exemple-0ob.fr"
    assert result.address.domain_unicode == "hôpital-exemple.fr"
    # A Cyrillic 'а' makes another domain: valid, but the warning shows its real name.
    look_alike = addresses.check("dr@mssаnte.fr")
    assert look_alike.report.codes == ("MSS-ADR-010",)
    assert look_alike.address is not None
    assert look_alike.address.domain.startswith("xn--")


def test_surrounding_spaces_are_ignored_inner_ones_are_not() -> None:
    assert addresses.check("  dr@x.fr\t").ok
    assert not addresses.check("dr @x.fr").ok


def test_mailbox_types() -> None:
    assert [(kind.value, kind.label) for kind in MailboxType] == [
        ("PER", "Personnelle"),
        ("ORG", "Organisationnelle"),
        ("APP", "Applicative"),
        ("CAB", "Cabinet"),
    ]
    assert MailboxType("ORG") is MailboxType.ORG
    assert str(MailboxType.APP) == "APP"


def test_addresses_are_frozen_and_hashable() -> None:
    address = Address.parse("dr@x.fr")
    assert {address, Address(local="dr", domain="x.fr")} == {address}
    with pytest.raises(AttributeError):
        address.local = "other"  # type: ignore[misc]


@settings(max_examples=400, deadline=None)
@given(st.text("abcxyzn019-.", min_size=1, max_size=40))
def test_the_ascii_fast_path_agrees_with_idna(text: str) -> None:
    try:
        expected: str | None = idna.encode(text, uts46=False).decode("ascii")
    except (idna.IDNAError, UnicodeError):
        expected = None
    try:
        ours: str | None = addresses.normalise_domain(text)
    except InvalidAddress:
        ours = None
    if expected is not None and "." in expected and not expected.rsplit(".", 1)[1].isdigit() and not text.endswith("."):
        assert ours == expected
    else:
        assert ours is None or ours == expected


def test_normalise_domain() -> None:
    assert addresses.normalise_domain("UC-CMP.mssante.fr") == "uc-cmp.mssante.fr"
    assert addresses.normalise_domain("hôpital.fr") == "xn--hpital-ixa.fr"
    assert addresses.normalise_domain("xn--hpital-ixa.fr") == "xn--hpital-ixa.fr"
    for bad in ("ab--cd.fr", "xn--zz.fr", "-a.fr", "a.fr.", "localhost", "a..fr"):
        with pytest.raises(InvalidAddress):
            addresses.normalise_domain(bad)

"""Operator DNs compare by value, as the allow-list writes them."""

from __future__ import annotations

import pytest
from cryptography import x509
from hypothesis import given, settings
from hypothesis import strategies as st

from mssante.errors import InvalidInput
from mssante.trustspace import OperatorDn

MIPIH = "CN=medimail-asip.mipih.fr,OU=318310021300028,O=GIP MIPIH,ST=Haute-Garonne (31),C=FR"


@pytest.mark.parametrize(
    "variant",
    [
        "CN=medimail-asip.mipih.fr, OU=318310021300028, O=GIP MIPIH, ST=Haute-Garonne (31), C=FR",  # spaces
        "CN=medimail-asip.mipih.fr,OU=318310021300028,O=GIP MIPIH,L=Haute-Garonne (31),C=FR",  # L for ST
        "CN=medimail-asip.mipih.fr,OU=318310021300028,O=GIP MIPIH,ST=Haute-Garonne(31),C=FR",  # no space before (
        "C=FR,ST=Haute-Garonne (31),O=GIP MIPIH,OU=318310021300028,CN=medimail-asip.mipih.fr",  # order
        "cn=MEDIMAIL-ASIP.MIPIH.FR,ou=318310021300028,o=gip  mipih,st=haute-garonne (31),c=fr",  # case, spaces
    ],
    ids=["spaces-after-commas", "L-for-ST", "no-space-before-parenthesis", "reversed-order", "case-and-inner-spaces"],
)
def test_variants_of_the_real_forms_are_equal(variant: str) -> None:
    assert OperatorDn.parse(variant) == OperatorDn.parse(MIPIH)
    assert hash(OperatorDn.parse(variant)) == hash(OperatorDn.parse(MIPIH))


@pytest.mark.parametrize(
    "other",
    [
        MIPIH.replace("medimail-asip", "medimail-asip2"),
        MIPIH.replace("318310021300028", "318310021300029"),
        MIPIH.replace("GIP MIPIH", "GIP MIPIH2"),
        MIPIH.replace(",C=FR", ""),
        MIPIH + ",OU=EXTRA",
    ],
    ids=["other-cn", "other-ou", "other-o", "missing-attribute", "extra-attribute"],
)
def test_a_different_value_is_a_different_dn(other: str) -> None:
    assert OperatorDn.parse(other) != OperatorDn.parse(MIPIH)


def test_parts_and_text() -> None:
    dn = OperatorDn.parse(MIPIH)
    assert dn.common_name == "medimail-asip.mipih.fr"
    assert dn.organisation_unit == "318310021300028"
    assert str(dn) == MIPIH
    escaped = OperatorDn.parse(r"CN=mss.example.fr,O=CLINIQUE\, SA,C=FR")
    assert ("O", "CLINIQUE, SA") in escaped.attributes


def test_a_certificate_subject_matches_its_published_dn() -> None:
    name = x509.Name.from_rfc4514_string(MIPIH)
    assert OperatorDn.from_name(name) == OperatorDn.parse(MIPIH)
    assert OperatorDn.from_name(name).common_name == "medimail-asip.mipih.fr"


@pytest.mark.parametrize(
    "text",
    ["", "   ", "CN", "CN=", "FOO=bar,C=FR", "CN=a,,C=FR", "=x", "CN=" + "a" * 2000],
    ids=["empty", "blank", "no-equals", "empty-value", "unknown-type", "empty-part", "no-type", "huge"],
)
def test_what_does_not_parse_is_refused(text: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        OperatorDn.parse(text)
    assert caught.value.report.codes == ("MSS-WL-017",)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_any_text_parses_or_is_refused_cleanly(text: str) -> None:
    try:
        dn = OperatorDn.parse(text)
    except InvalidInput as error:
        codes = error.report.codes
        assert codes == ("MSS-WL-017",)
    else:
        assert dn == OperatorDn.parse(text)

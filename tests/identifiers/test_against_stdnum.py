"""Cross-check against python-stdnum, an independent implementation of the same French algorithms."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mssante import identifiers

stdnum_fr = pytest.importorskip("stdnum.fr")
from stdnum.exceptions import InvalidChecksum, ValidationError  # noqa: E402
from stdnum.fr import nir, siren, siret  # noqa: E402

DIGITS = "0123456789"


@settings(max_examples=500, deadline=None)
@given(st.text(DIGITS, min_size=9, max_size=9))
def test_siren_agrees(value: str) -> None:
    assert identifiers.check(value, "siren").ok == siren.is_valid(value)


@settings(max_examples=500, deadline=None)
@given(
    st.one_of(
        st.text(DIGITS, min_size=14, max_size=14),
        st.text(DIGITS, min_size=5, max_size=5).map(lambda nic: "356000000" + nic),
    )
)
def test_siret_agrees_la_poste_included(value: str) -> None:
    assert identifiers.check(value, "siret").ok == siret.is_valid(value)


@settings(max_examples=500, deadline=None)
@given(
    st.builds(
        lambda head, department, tail: head + department + tail,
        st.text(DIGITS, min_size=5, max_size=5),
        st.sampled_from(["2A", "2B", "75", "99", "97"]),
        st.text(DIGITS, min_size=8, max_size=8),
    )
)
def test_ins_key_agrees_with_the_nir_key(value: str) -> None:
    ours = identifiers.check_ins(value)
    try:
        nir.validate(value)
        theirs_key_ok = True
    except InvalidChecksum:
        theirs_key_ok = False
    except ValidationError:  # pragma: no cover - every generated value has a NIR's form
        pytest.fail(f"{value} should have the form of a NIR")
    assert ("MSS-INS-003" not in ours.report.codes) == theirs_key_ok
    assert nir.calc_check_digits(value) == identifiers.ins_key(value[:13])

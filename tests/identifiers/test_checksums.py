"""The check-key algorithms against worked examples."""

from __future__ import annotations

import pytest

from mssante.identifiers import ins_key, luhn_key, luhn_valid


@pytest.mark.parametrize(
    ("digits", "valid"),
    [("79927398713", True), ("79927398710", False), ("0", True), ("18", True), ("4111111111111111", True)],
)
def test_luhn_worked_examples(digits: str, valid: bool) -> None:
    assert luhn_valid(digits) is valid


@pytest.mark.parametrize(("body", "key"), [("7992739871", "3"), ("1000000191", "6"), ("54000269", "8")])
def test_luhn_key(body: str, key: str) -> None:
    assert luhn_key(body) == key
    assert luhn_valid(body + key)


def test_ins_key_worked_example() -> None:
    # 97 - (1891275125012 mod 97) = 97 - 15 = 82
    assert ins_key("1891275125012") == "82"
    assert ins_key("2790351215189") == "89"


def test_ins_key_is_two_digits() -> None:
    keys = {ins_key(f"1{n:012d}") for n in range(0, 9700, 7)}
    assert all(len(key) == 2 for key in keys)
    assert min(keys) >= "01"
    assert max(keys) <= "97"

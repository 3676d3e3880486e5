"""The subject convention and the X-MSS-CODECDA values."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mssante.message import Subject, join_codes, split_codes
from mssante.message._headers import fold_name


def test_the_ans_example_subject() -> None:
    subject = Subject.build(label="ECHOGRAPHIE ABDOMINOPELVIENNE", family="Corse", given="FIGATELLIX",
                            birth_date=dt.date(1988, 10, 12))  # fmt: skip
    assert subject == "XDM/1.0/DDM+ECHOGRAPHIE ABDOMINOPELVIENNE CORSE FIGATELLIX 12/10/1988"
    parts = Subject.parse(subject)
    assert parts is not None
    assert parts.birth_date == dt.date(1988, 10, 12)
    assert parts.text == "ECHOGRAPHIE ABDOMINOPELVIENNE CORSE FIGATELLIX 12/10/1988"
    assert parts.names("Corse", "Figatellix")
    assert not parts.names("Martin", "Figatellix")


def test_accents_and_spaces() -> None:
    subject = Subject.build(label="  CR   de biologie ", family="Lefèvre-Hérault", given="Zoé")
    assert subject == "XDM/1.0/DDM+CR de biologie LEFEVRE-HERAULT Zoé"
    parts = Subject.parse(subject)
    assert parts is not None
    assert parts.birth_date is None
    assert parts.names("LEFEVRE-HÉRAULT", "zoe")


def test_the_error_prefix() -> None:
    parts = Subject.parse("[KO Intégration système !][902] XDM/1.0/DDM+ECHOGRAPHIE CORSE FIGATELLIX 12/10/1988")
    assert parts is not None
    assert parts.error_code == "902"
    assert parts.birth_date == dt.date(1988, 10, 12)


@pytest.mark.parametrize("subject", ["Résultats", "XDM/1.0/DDM", "Re: hello", "", "XDM/1.0/DDN+x"])
def test_other_subjects(subject: str) -> None:
    assert Subject.parse(subject) is None


def test_an_impossible_date_is_not_read() -> None:
    parts = Subject.parse("XDM/1.0/DDM+CR DUPONT Jean 31/02/1980")
    assert parts is not None
    assert parts.birth_date is None


def test_codes() -> None:
    assert join_codes(["34112-3", "PRESC-BIO", "15508-5"]) == "34112-3,PRESC-BIO,15508-5"
    assert split_codes(["34112-3, PRESC-BIO;15508-5", "11488-4"]) == ("34112-3", "PRESC-BIO", "15508-5", "11488-4")
    assert split_codes([]) == ()


@given(st.lists(st.from_regex(r"[A-Z0-9_-]{1,12}", fullmatch=True), max_size=5))
def test_codes_round_trip(codes: list[str]) -> None:
    assert split_codes([join_codes(codes)]) == tuple(codes)


@given(st.text(max_size=200))
def test_any_subject_is_read_or_not_without_error(subject: str) -> None:
    parts = Subject.parse(subject)
    assert parts is None or isinstance(parts.text, str)


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("D’Alembert", "D'ALEMBERT"),
        ("d‘alembert", "D'Alembert"),
        ("DʼALEMBERT", "d'alembert"),
        ("D＇ALEMBERT", "D'ALEMBERT"),
        ("D`ALEMBERT", "D'ALEMBERT"),
        ("D´ALEMBERT", "D'ALEMBERT"),
        ("« Dédé »", '" DEDE "'),
        ("“Dédé”", '"dede"'),
        ("Cœur  de   Lætitia", "COEUR DE LAETITIA"),
        ("Hélène", "HELENE"),
        ("STRAßE", "strasse"),
    ],
)
def test_fold_name(one: str, other: str) -> None:
    assert fold_name(one) == fold_name(other)


def test_fold_name_keeps_what_tells_names_apart() -> None:
    assert fold_name("Jean-Marie") != fold_name("Jean Marie")
    assert fold_name("D'Alembert") != fold_name("Dalembert")
    parts = Subject.parse("XDM/1.0/DDM+CR D'ALEMBERT Zoé 01/02/1990")
    assert parts is not None
    assert parts.names("D’Alembert", "ZOE")
    assert parts.names("d’alembert", "Zoé Marie")
    assert not parts.names("Alembert", "Zoé")


@given(st.text(max_size=40))
def test_fold_name_is_idempotent(text: str) -> None:
    assert fold_name(fold_name(text)) == fold_name(text)

"""Hostile input against every entry point that reads text: a clean refusal, in bounded work, never a crash.

Check functions answer "not valid" with well-formed findings; ``parse`` raises the library's
own ``InvalidInput``; the command line exits 1 or 2, prints one JSON object with ``--json``
and never a traceback.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from typing import Any, NamedTuple

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mssante import addresses, identifiers
from mssante.addresses import Address
from mssante.cli import main
from mssante.errors import InvalidAddress, InvalidIdentifier, InvalidInput
from mssante.identifiers import (
    Adeli,
    Finess,
    IdentifierType,
    IdNatStruct,
    Idnps,
    Ins,
    Rpps,
    Siren,
    Siret,
)
from mssante.report import Report, Severity, finding_codes
from tests.counting import lines_run

CODE = re.compile(r"MSS-[A-Z]+-[0-9]{3}")
TEN_MB = 10_000_000

# A valid Corsican INS (1 79 01 2A 123 456, key 69), to be given a Cyrillic look-alike in place of its A.
CORSICAN_INS = "179012A12345669"


class Hostile(NamedTuple):
    """A hostile input, and the one finding each kind of check answers it with."""

    name: str
    text: str
    identifier_code: str
    address_code: str


EMPTY, TOO_LONG, BAD_CHARACTER = "MSS-ID-001", "MSS-ID-002", "MSS-ID-003"
ADR_EMPTY, ADR_TOO_LONG, ADR_BAD_CHARACTER = "MSS-ADR-001", "MSS-ADR-002", "MSS-ADR-003"
ADR_BAD_AT, ADR_BAD_LOCAL_PART, ADR_BAD_DOMAIN = "MSS-ADR-004", "MSS-ADR-005", "MSS-ADR-006"

HOSTILE = [
    Hostile("empty", "", EMPTY, ADR_EMPTY),
    Hostile("10-MB-of-letters", "x" * TEN_MB, TOO_LONG, ADR_TOO_LONG),
    Hostile("10-MB-of-digits", "1" * TEN_MB, TOO_LONG, ADR_TOO_LONG),
    Hostile("10-MB-address", "a" * TEN_MB + "@example.mssante.fr", TOO_LONG, ADR_TOO_LONG),
    Hostile("NUL", "\x00", BAD_CHARACTER, ADR_BAD_CHARACTER),
    Hostile("NUL-inside", "10000\x00001916", BAD_CHARACTER, ADR_BAD_CHARACTER),
    Hostile("NUL-in-address", "dr\x00@example.mssante.fr", BAD_CHARACTER, ADR_BAD_CHARACTER),
    Hostile("CR-LF", "10000001916\r\n", BAD_CHARACTER, ADR_BAD_CHARACTER),
    Hostile("header-injection", "dr@example.mssante.fr\r\nBcc: all@example.fr", BAD_CHARACTER, ADR_BAD_CHARACTER),
    Hostile("lone-surrogate", "\ud800", BAD_CHARACTER, ADR_BAD_CHARACTER),
    Hostile("lone-surrogate-inside", "1000000\udcff1916@example.mssante.fr", BAD_CHARACTER, ADR_BAD_CHARACTER),
    Hostile("RTL-override", "\u202e61910000001", BAD_CHARACTER, ADR_BAD_CHARACTER),
    Hostile("RTL-override-in-address", "dr@\u202erf.etnassm.elpmaxe", BAD_CHARACTER, ADR_BAD_CHARACTER),
    Hostile("zero-width-space", "1000\u200b0001916", BAD_CHARACTER, ADR_BAD_CHARACTER),
    Hostile("zero-width-space-in-address", "dr@exam\u200bple.mssante.fr", BAD_CHARACTER, ADR_BAD_CHARACTER),
    Hostile("full-width-digits", "１０００００００１９１６", BAD_CHARACTER, ADR_BAD_AT),
    Hostile("full-width-local-part", "ｄｒ@example.mssante.fr", BAD_CHARACTER, ADR_BAD_LOCAL_PART),
    Hostile("full-width-domain", "dr@ｅｘａｍｐｌｅ.mssante.fr", BAD_CHARACTER, ADR_BAD_DOMAIN),
    Hostile("arabic-indic-digits", "١٠٠٠٠٠٠١٩١٦", BAD_CHARACTER, ADR_BAD_AT),
    Hostile("arabic-indic-domain", "dr@١٢٣.mssante.fr", BAD_CHARACTER, ADR_BAD_DOMAIN),
    Hostile("superscript-digits", "¹⁰⁰⁰⁰⁰⁰¹⁹¹⁶", BAD_CHARACTER, ADR_BAD_AT),
    Hostile("superscript-in-domain", "dr@chu\u00b9.mssante.fr", BAD_CHARACTER, ADR_BAD_DOMAIN),
    Hostile("cyrillic-A-in-corsican-ins", CORSICAN_INS.replace("A", "\u0410"), BAD_CHARACTER, ADR_BAD_AT),
    Hostile("cyrillic-a-in-local-part", "dr.m\u0430rtin@example.mssante.fr", BAD_CHARACTER, ADR_BAD_LOCAL_PART),
    Hostile("combining-acute", "1\u03010000001916", BAD_CHARACTER, ADR_BAD_AT),
    Hostile("combining-acute-in-domain", "dr@cafe\u0301.mssante.fr", BAD_CHARACTER, ADR_BAD_DOMAIN),
    Hostile("emoji", "10000001916\U0001f600", BAD_CHARACTER, ADR_BAD_AT),
    Hostile("emoji-local-part", "\U0001f600@example.mssante.fr", BAD_CHARACTER, ADR_BAD_LOCAL_PART),
    Hostile("emoji-domain", "dr@\U0001f3e5.mssante.fr", BAD_CHARACTER, ADR_BAD_DOMAIN),
    Hostile("64-character-label", "dr@" + "a" * 64 + ".mssante.fr", TOO_LONG, ADR_BAD_DOMAIN),
    Hostile("300-labels", "dr@" + "a." * 300 + "fr", TOO_LONG, ADR_TOO_LONG),
    Hostile("100000-at-signs", "@" * 100_000, TOO_LONG, ADR_TOO_LONG),
]
HOSTILE_IDS = [case.name for case in HOSTILE]
LARGE = [case for case in HOSTILE if len(case.text) >= TEN_MB]

IDENTIFIER_CLASSES: list[type[Any]] = [Rpps, Adeli, Idnps, Finess, Siren, Siret, IdNatStruct, Ins]
TYPES: list[IdentifierType | None] = [None, *IdentifierType]
CLI_COMMANDS = [
    ("ins", "check"),
    ("id", "check"),
    ("id", "check", "--type", "siret"),
    ("address", "check"),
]


def codepoint(char: str) -> str:
    return f"U+{ord(char):04X}"


def type_id(kind: IdentifierType | None) -> str:
    return "guessed" if kind is None else kind.value


def assert_well_formed(report: Report) -> None:
    declared = {code.id for code in finding_codes()}
    for finding in report:
        assert CODE.fullmatch(finding.code), finding
        assert finding.code in declared, finding
        assert isinstance(finding.severity, Severity)
        assert isinstance(finding.message, str)
        assert finding.message
        assert isinstance(finding.where, str)
    assert report.ok is (not report.errors)
    json.dumps(report.to_dict())


def assert_refused(report: Report) -> None:
    assert_well_formed(report)
    assert not report.ok
    assert report.errors


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = main(argv, out=out, err=err)
    return status, out.getvalue(), err.getvalue()


# The check functions.


@pytest.mark.parametrize("kind", TYPES, ids=type_id)
@pytest.mark.parametrize("case", HOSTILE, ids=HOSTILE_IDS)
def test_identifier_check_refuses_hostile_input(case: Hostile, kind: IdentifierType | None) -> None:
    result = identifiers.check(case.text, kind)
    assert result.ok is False
    assert result.identifier is None
    assert result.input == case.text
    assert_refused(result.report)
    assert result.report.codes == (case.identifier_code,)
    assert len(result.report.subject) <= 80


@pytest.mark.parametrize("case", HOSTILE, ids=HOSTILE_IDS)
def test_ins_check_refuses_hostile_input(case: Hostile) -> None:
    for authority in (None, "nir", "test"):
        result = identifiers.check_ins(case.text, authority)
        assert result.ok is False
        assert result.identifier is None
        assert_refused(result.report)
        assert result.report.codes == (case.identifier_code,)


@pytest.mark.parametrize("case", HOSTILE, ids=HOSTILE_IDS)
def test_address_check_refuses_hostile_input(case: Hostile) -> None:
    result = addresses.check(case.text)
    assert result.ok is False
    assert result.address is None
    assert_refused(result.report)
    assert result.report.codes == (case.address_code,)
    assert len(result.report.subject) <= 120
    data = result.to_dict()
    assert data["valid"] is False
    assert data["normalized"] is None


# parse() raises the library's own exception, and only that.


@pytest.mark.parametrize("cls", IDENTIFIER_CLASSES, ids=lambda cls: cls.__name__)
@pytest.mark.parametrize("case", HOSTILE, ids=HOSTILE_IDS)
def test_identifier_parse_raises_invalid_identifier(case: Hostile, cls: type[Any]) -> None:
    with pytest.raises(InvalidIdentifier) as raised:
        cls.parse(case.text)
    assert isinstance(raised.value, ValueError)
    assert_refused(raised.value.report)
    assert raised.value.report.codes == (case.identifier_code,)
    assert len(str(raised.value)) < 1000


@pytest.mark.parametrize("case", HOSTILE, ids=HOSTILE_IDS)
def test_generic_identifier_parse_raises_invalid_identifier(case: Hostile) -> None:
    with pytest.raises(InvalidIdentifier) as raised:
        identifiers.parse(case.text)
    assert_refused(raised.value.report)


@pytest.mark.parametrize("case", HOSTILE, ids=HOSTILE_IDS)
def test_address_parse_raises_invalid_address(case: Hostile) -> None:
    with pytest.raises(InvalidAddress) as raised:
        Address.parse(case.text)
    assert isinstance(raised.value, ValueError)
    assert_refused(raised.value.report)
    assert raised.value.report.codes == (case.address_code,)
    assert len(str(raised.value)) < 1000
    with pytest.raises(InvalidInput):
        Address.for_patient(case.text)


# Bounded work: the 10 MB inputs are refused on their length, before anything reads them.


def refusals(text: str) -> list[Callable[[], object]]:
    """Every way of judging ``text``, each refusing it."""

    def parse(parser: Callable[[str], object], error: type[InvalidInput]) -> Callable[[], object]:
        def refused() -> None:
            with pytest.raises(error):
                parser(text)

        return refused

    return [
        lambda: identifiers.check(text),
        lambda: identifiers.check(text, "siret"),
        lambda: identifiers.check_ins(text),
        lambda: addresses.check(text),
        lambda: run_cli(["id", "check", "--json", text]),
        lambda: run_cli(["address", "check", text]),
        *(parse(cls.parse, InvalidIdentifier) for cls in IDENTIFIER_CLASSES),
        parse(Address.parse, InvalidAddress),
    ]


@pytest.mark.parametrize("case", LARGE, ids=[case.name for case in LARGE])
def test_ten_megabyte_input_is_refused_unread(case: Hostile) -> None:
    shorter = case.text[:10_000] + case.text[-20:]  # the same input a thousand times shorter, still far too long
    for large, small in zip(refusals(case.text), refusals(shorter), strict=True):
        small()  # once untraced: what is done once (an import, a cache) is not counted
        # Catches reading (normalising, scanning) the input before its length: the lines run would grow with it.
        assert lines_run(large) == lines_run(small)


# The command line.


@pytest.mark.parametrize("command", CLI_COMMANDS, ids=" ".join)
@pytest.mark.parametrize("case", HOSTILE, ids=HOSTILE_IDS)
def test_cli_json_answers_one_json_object_for_hostile_input(case: Hostile, command: tuple[str, ...]) -> None:
    status, out, err = run_cli([*command, "--json", case.text])
    assert status in (1, 2)
    payload = json.loads(out)  # exactly one JSON document: json.loads refuses extra data
    assert isinstance(payload, dict)
    assert payload["ok"] is False
    for finding in payload["findings"]:
        assert CODE.fullmatch(finding["code"])
    if status == 1:  # judged: one result, refused with the same finding as the library gives
        expected = case.address_code if command[0] == "address" else case.identifier_code
        assert [finding["code"] for finding in payload["findings"]] == [expected]
        assert [result["valid"] for result in payload["results"]] == [False]
    else:  # not judged: the reason is in "error"
        assert payload["findings"] == []
        assert payload["error"]
    assert "Traceback" not in err
    assert "internal error" not in err


@pytest.mark.parametrize("command", CLI_COMMANDS, ids=" ".join)
@pytest.mark.parametrize("case", HOSTILE, ids=HOSTILE_IDS)
def test_cli_text_answers_cleanly_for_hostile_input(case: Hostile, command: tuple[str, ...]) -> None:
    status, out, err = run_cli([*command, case.text])
    assert status in (1, 2)
    assert out.startswith("invalid") or (status == 2 and not out)
    assert "Traceback" not in err
    assert "internal error" not in err


# Look-alike domains are not refused: they are valid host names, shown in A-label form with a warning.


def test_look_alike_domain_is_accepted_with_a_warning_and_does_not_equal_the_latin_one() -> None:
    latin = Address.parse("dr@chu-paris.mssante.fr")
    result = addresses.check("dr@chu-p\u0430ris.mssante.fr")
    assert result.ok
    assert result.report.codes == ("MSS-ADR-010",)
    assert result.address is not None
    assert result.address.domain.startswith("xn--")
    assert result.address != latin
    status, out, _ = run_cli(["address", "check", "--json", "dr@chu-p\u0430ris.mssante.fr"])
    assert status == 0
    assert json.loads(out)["findings"][0]["code"] == "MSS-ADR-010"


# Any text at all.

near_identifiers = st.builds(
    lambda body, separator: separator.join(body),
    st.one_of(*(st.text("0123456789", min_size=size, max_size=size) for size in (9, 10, 11, 12, 14, 15))),
    st.sampled_from(["", " ", "-"]),
)
ANY_TEXT = st.one_of(
    st.text(),
    st.binary().map(lambda raw: raw.decode("latin-1")),
    st.text("0123456789ABab/ -.", max_size=20),
    near_identifiers,
)
ANY_ADDRESS = st.one_of(
    st.text(),
    st.binary().map(lambda raw: raw.decode("latin-1")),
    st.text("ab1.-@é。_ ", max_size=24),
    st.builds(lambda local, domain: f"{local}@{domain}", st.text("aZ0.+-", max_size=8), st.text("ab.-é0", max_size=12)),
)
FUZZ = settings(max_examples=150, deadline=None)


@pytest.mark.parametrize("kind", TYPES, ids=type_id)
@FUZZ
@given(text=ANY_TEXT)
def test_identifier_check_answers_any_text(kind: IdentifierType | None, text: str) -> None:
    result = identifiers.check(text, kind)
    assert isinstance(result.ok, bool)
    assert_well_formed(result.report)
    assert (result.identifier is not None) is result.ok
    if result.identifier is not None:
        again = identifiers.check(str(result.identifier), kind)
        assert again.ok
        assert again.identifier == result.identifier
        assert again.normalized == str(result.identifier) == result.normalized


@FUZZ
@given(text=ANY_TEXT)
def test_ins_check_answers_any_text(text: str) -> None:
    result = identifiers.check_ins(text)
    assert isinstance(result.ok, bool)
    assert_well_formed(result.report)
    assert (result.identifier is not None) is result.ok
    if result.identifier is not None:
        again = identifiers.check_ins(str(result.identifier))
        assert again.ok
        assert again.identifier == result.identifier


@FUZZ
@given(text=ANY_ADDRESS)
def test_address_check_answers_any_text(text: str) -> None:
    result = addresses.check(text)
    assert isinstance(result.ok, bool)
    assert_well_formed(result.report)
    assert (result.address is not None) is result.ok
    if result.address is not None:
        again = addresses.check(str(result.address))
        assert again.ok
        assert again.address == result.address


PARSERS: list[Callable[[str], object]] = [
    *(cls.parse for cls in IDENTIFIER_CLASSES),
    identifiers.parse,
    Address.parse,
    Address.for_patient,
]
PARSER_IDS = [
    *(cls.__name__ for cls in IDENTIFIER_CLASSES),
    "identifiers.parse",
    "Address.parse",
    "Address.for_patient",
]


@pytest.mark.parametrize("parse", PARSERS, ids=PARSER_IDS)
@settings(max_examples=40, deadline=None)
@given(text=ANY_TEXT)
def test_parse_raises_only_invalid_input_on_any_text(parse: Callable[[str], object], text: str) -> None:
    try:
        parse(text)
    except InvalidInput as error:
        assert_refused(error.report)


# Cases the hostile input above once broke, kept as regressions.


@pytest.mark.parametrize("dot", ["\u3002", "\uff0e", "\uff61"], ids=codepoint)
def test_address_check_refuses_unicode_dots_in_a_domain(dot: str) -> None:
    # IDNA reads these as dots: accepting them would let a patient address dodge the patient rule.
    result = addresses.check(f"dr.martin@patient{dot}mssante{dot}fr")
    assert not result.ok
    assert result.report.codes == ("MSS-ADR-006",)


def test_cli_judges_a_bad_patient_address_written_with_unicode_dots() -> None:
    status, out, err = run_cli(["address", "check", "--json", "dr.martin@patient\u3002mssante\u3002fr"])
    assert status == 1, err
    assert json.loads(out)["results"][0]["valid"] is False


@pytest.mark.parametrize("text", ["dr.martin@patient.mssante.fr.", "not-an-ins@PATIENT.MSSANTE.FR."])
def test_a_trailing_dot_does_not_escape_the_patient_rule(text: str) -> None:
    assert not addresses.check(text).ok


def test_a_trailing_dot_does_not_qualify_a_single_label_domain() -> None:
    assert "MSS-ADR-007" in addresses.check("dr@localhost").report.codes
    assert not addresses.check("dr@localhost.").ok


def strict_utf8_stream() -> io.TextIOWrapper:
    """A standard stream as under an en_US.UTF-8 locale: UTF-8 with errors='strict'."""
    return io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="strict")


@pytest.mark.parametrize("json_flag", [["--json"], []], ids=["json", "text"])
def test_cli_answers_an_undecodable_argument_on_a_strict_stdout(json_flag: list[str]) -> None:
    status = main(["id", "check", *json_flag, "\udcff"], out=strict_utf8_stream(), err=strict_utf8_stream())
    assert status in (1, 2)


def test_cli_process_answers_an_undecodable_argument_without_a_traceback() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "mssante", "id", "check", "--json", b"\xff"],
        capture_output=True,
        check=False,
        timeout=60,
        env={**os.environ, "PYTHONIOENCODING": "utf-8:strict"},
    )
    assert b"Traceback" not in completed.stderr
    assert completed.returncode in (1, 2)
    assert json.loads(completed.stdout)["ok"] is False

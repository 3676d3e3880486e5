"""Reports, findings, codes and the error tree."""

from __future__ import annotations

import re
import warnings

import pytest

import mssante.addresses  # noqa: F401 (declares its finding codes, and those of mssante.identifiers)
from mssante import errors
from mssante.report import Code, Finding, Report, Severity, define_code, finding_codes


def finding(severity: Severity, code: str = "MSS-ID-001") -> Finding:
    return Finding(code=code, severity=severity, message="m")


def test_ok_is_false_exactly_when_a_finding_is_an_error() -> None:
    assert Report().ok
    assert Report(findings=[finding(Severity.INFO), finding(Severity.WARNING)]).ok
    report = Report(findings=[finding(Severity.INFO), finding(Severity.ERROR)])
    assert not report.ok
    assert report.errors == (report.findings[1],)
    assert report.warnings == ()
    assert len(report) == 2
    assert list(report) == list(report.findings)


def test_json_form() -> None:
    report = Report(findings=[Finding(code="MSS-ID-006", severity="error", message="bad key", where="key")])
    assert report.to_dict() == {
        "ok": False,
        "findings": [{"code": "MSS-ID-006", "severity": "error", "message": "bad key", "where": "key"}],
    }


def test_located_and_extended() -> None:
    inner = Finding(code="MSS-ID-006", severity=Severity.ERROR, message="m", where="key")
    assert inner.located("rpps").where == "rpps.key"
    assert finding(Severity.INFO).located("x").where == "x"
    assert inner.located("").where == "key"
    report = Report(subject="s").extended([inner], where="results[0]")
    assert report.findings[0].where == "results[0].key"
    assert report.subject == "s"


def test_string_forms() -> None:
    report = Report(
        findings=[Finding(code="MSS-ID-006", severity="error", message="bad key", where="key")], subject="x"
    )
    assert str(report) == "x: not ok\n  MSS-ID-006 error: bad key (key)"
    assert str(Report(subject="y")) == "y: ok"


def test_codes_are_unique_well_formed_and_documented_by_title() -> None:
    codes = finding_codes()
    assert len({code.id for code in codes}) == len(codes)
    assert all(re.fullmatch(r"MSS-[A-Z]{2,5}-[0-9]{3}", code.id) for code in codes)
    assert all(code.title and not code.title.endswith(".") for code in codes)
    areas = {code.id.split("-")[1] for code in codes}
    assert {"ID", "INS", "ADR"} <= areas


def test_a_code_cannot_be_defined_twice_or_badly() -> None:
    with pytest.raises(ValueError, match="already defined"):
        define_code("MSS-ID-001", Severity.ERROR, "again")
    with pytest.raises(ValueError, match="must look like"):
        define_code("ID-1", Severity.ERROR, "bad")


def test_code_makes_findings() -> None:
    code = Code(id="MSS-ZZ-001", severity=Severity.WARNING, title="a title")
    assert code() == Finding(code="MSS-ZZ-001", severity=Severity.WARNING, message="a title")
    made = code("specific", where="here", severity=Severity.ERROR)
    assert (made.message, made.where, made.severity) == ("specific", "here", Severity.ERROR)


def test_error_tree() -> None:
    for family in (errors.InvalidInput, errors.TrustError, errors.DirectoryError, errors.TransportError):
        assert issubclass(family, errors.MssanteError)
    assert issubclass(errors.InvalidIdentifier, errors.InvalidInput)
    assert issubclass(errors.InvalidAddress, errors.InvalidInput)
    assert issubclass(errors.InvalidInput, ValueError)
    assert errors.InvalidInput("x").report == Report()
    assert issubclass(errors.SecurityWarning, UserWarning)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.warn("weakened", errors.SecurityWarning, stacklevel=1)
    assert caught[0].category is errors.SecurityWarning

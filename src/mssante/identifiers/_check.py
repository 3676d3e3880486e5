"""Judging loose input of any national identifier type, or of an unknown one."""

from __future__ import annotations

from typing import Any

import attrs

from mssante._renamed import renamed_attribute
from mssante.errors import InvalidIdentifier
from mssante.identifiers import codes as _codes
from mssante.identifiers._base import Identifier, IdentifierType
from mssante.identifiers._idnps import Idnps
from mssante.identifiers._input import normalise
from mssante.identifiers._ins import Ins, InsAuthority, judge_ins
from mssante.identifiers._professionals import Adeli, Rpps
from mssante.identifiers._structures import Finess, IdNatStruct, Siren, Siret
from mssante.report import Finding, Report, Severity

__all__ = ["IdentifierCheck", "check", "check_ins", "parse"]

CLASSES: dict[IdentifierType, type[Identifier]] = {
    cls.TYPE: cls for cls in (Rpps, Adeli, Idnps, Finess, Siren, Siret, IdNatStruct)
}

# Types tried when the caller does not say which, in order of preference. ADELI has no key,
# so any 9 digits would pass: it is chosen only when nothing with a key has the right shape.
_GUESSES = (
    IdentifierType.RPPS,
    IdentifierType.IDNPS,
    IdentifierType.SIRET,
    IdentifierType.IDNST,
    IdentifierType.FINESS,
    IdentifierType.SIREN,
)
_SHAPE_CODES = frozenset({_codes.BAD_LENGTH.id, _codes.BAD_FORMAT.id, _codes.UNKNOWN_PREFIX.id})


@attrs.frozen(kw_only=True)
class IdentifierCheck:
    """The verdict on one input: its type, canonical form, typed value and report."""

    input: str
    type: IdentifierType | None
    normalized: str
    identifier: Identifier | Ins | None
    report: Report

    @property
    def ok(self) -> bool:
        """True when the input is a valid identifier (the report has no error)."""
        return self.report.ok

    valid = renamed_attribute("valid", "ok")

    def to_dict(self) -> dict[str, Any]:
        """The JSON form of the command line: ``input``, ``type``, ``valid``, ``normalized``, ``findings``."""
        return {
            "input": self.input,
            "type": self.type.value if self.type else None,
            "valid": self.ok,
            "normalized": self.normalized,
            "findings": [finding.to_dict() for finding in self.report],
        }


def _has_shape(findings: list[Finding]) -> bool:
    return not any(finding.code in _SHAPE_CODES for finding in findings)


def _result(text: str, kind: IdentifierType | None, value: str, findings: list[Finding]) -> IdentifierCheck:
    report = Report(findings=findings, subject=text[:80])
    identifier = CLASSES[kind](value=value) if kind and report.ok else None
    return IdentifierCheck(input=text, type=kind, normalized=value, identifier=identifier, report=report)


def _guess(text: str, value: str) -> IdentifierCheck:
    verdicts = {kind: CLASSES[kind].judge(value) for kind in _GUESSES}
    valid = [kind for kind, findings in verdicts.items() if not any(f.severity is Severity.ERROR for f in findings)]
    shaped = valid or [kind for kind, findings in verdicts.items() if _has_shape(findings)]
    if not shaped:
        if _has_shape(adeli := Adeli.judge(value)):
            return _result(text, IdentifierType.ADELI, value, adeli)
        return _result(
            text,
            None,
            value,
            [
                _codes.UNKNOWN_TYPE(
                    f"no national identifier has the shape of {value[:20]!r} ({len(value)} characters): give the type"
                )
            ],
        )
    kind = shaped[0]
    also = [other.label for other in valid[1:]]
    if _has_shape(Adeli.judge(value)):
        also.append(IdentifierType.ADELI.label)
    findings = verdicts[kind]
    if also:
        findings = [
            *findings,
            _codes.AMBIGUOUS(
                f"read as a {kind.label}; the value is also a well-formed {' and '.join(also)}: "
                "give the type to be sure"
            ),
        ]
    return _result(text, kind, value, findings)


def check(text: str, type: IdentifierType | str | None = None) -> IdentifierCheck:
    """Judge loose input as an identifier of ``type``, or of the type its shape tells.

    Never raises on bad input: the verdict is in the returned check's ``report``. Without a
    type, a value valid as several types (FINESS and SIREN share their shape) is read as the
    first and an ``MSS-ID-011`` finding names the others.
    """
    kind = IdentifierType(type) if type is not None else None
    if kind is IdentifierType.INS:
        return check_ins(text)
    value, findings = normalise(text)
    if findings:
        return _result(text, kind, value, findings)
    if kind is None:
        return _guess(text, value)
    return _result(text, kind, value, CLASSES[kind].judge(value))


def check_ins(text: str, authority: InsAuthority | str | None = None) -> IdentifierCheck:
    """Judge loose input as an INS matricule, under an optional authority (OID or name).

    Never raises on bad input, but an unknown authority is an ``MSS-INS-006`` error.
    """
    try:
        resolved = InsAuthority.parse(authority) if isinstance(authority, str) else authority
    except InvalidIdentifier as error:
        return IdentifierCheck(
            input=text,
            type=IdentifierType.INS,
            normalized="",
            identifier=None,
            report=Report(findings=error.report.findings, subject=text[:80]),
        )
    value, findings = normalise(text)
    if not findings:
        findings = judge_ins(value, resolved)
    report = Report(findings=findings, subject=text[:80])
    ins = Ins(value=value, authority=resolved) if report.ok else None
    return IdentifierCheck(input=text, type=IdentifierType.INS, normalized=value, identifier=ins, report=report)


def parse(text: str, type: IdentifierType | str | None = None) -> Identifier | Ins:
    """The typed identifier for loose input, or :class:`~mssante.errors.InvalidIdentifier` with the report."""
    result = check(text, type)
    result.report.raise_for_errors(InvalidIdentifier, f"{text[:80]!r} is not a valid identifier")
    assert result.identifier is not None
    return result.identifier

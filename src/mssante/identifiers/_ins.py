"""INS matricules (NIR or NIA) and their assigning authorities (OIDs)."""

from __future__ import annotations

import enum
import re
from typing import Any

import attrs

from mssante.errors import InvalidIdentifier
from mssante.identifiers import codes as _codes
from mssante.identifiers._checksums import ins_key
from mssante.identifiers._input import normalise
from mssante.report import Finding, Report

__all__ = ["Ins", "InsAuthority"]

_MATRICULE = re.compile(r"[0-9]{5}(?:[0-9]{2}|2A|2B)[0-9]{8}", re.ASCII)
_SEX_DIGITS = frozenset("123478")


class InsAuthority(str, enum.Enum):
    """The OID that assigns an INS matricule: production NIR or NIA, or the TEST and DEMO domains."""

    NIR = "1.2.250.1.213.1.4.8"
    NIA = "1.2.250.1.213.1.4.9"
    TEST = "1.2.250.1.213.1.4.10"
    DEMO = "1.2.250.1.213.1.4.11"

    @property
    def is_production(self) -> bool:
        """True for the NIR and NIA authorities, false for TEST and DEMO."""
        return self in (InsAuthority.NIR, InsAuthority.NIA)

    @classmethod
    def parse(cls, text: str) -> InsAuthority:
        """An authority from its OID (``urn:oid:`` accepted) or its name (``nir``, ``nia``, ``test``, ``demo``)."""
        key = text.strip()
        key = key.removeprefix("urn:oid:")
        for authority in cls:
            if key in (authority.value, authority.name.lower(), authority.name):
                return authority
        finding = _codes.INS_UNKNOWN_AUTHORITY(f"{text[:80]!r} is not an INS authority OID", where="authority")
        raise InvalidIdentifier(finding.message, Report(findings=[finding], subject=text[:80]))

    def __str__(self) -> str:
        return self.value


def judge_ins(value: str, authority: InsAuthority | None = None) -> list[Finding]:
    """Findings on a canonical 15-character INS matricule under an optional authority.

    A key that does not match is an error, except under the TEST and DEMO authorities, whose
    published examples often fail it: there it is a warning, never silent.
    """
    if len(value) != 15:
        return [_codes.INS_BAD_LENGTH(f"an INS matricule has 15 characters, this one has {len(value)}")]
    if not _MATRICULE.fullmatch(value):
        return [_codes.INS_BAD_FORMAT()]
    findings: list[Finding] = []
    if value[0] not in _SEX_DIGITS:
        findings.append(
            _codes.INS_BAD_SEX(
                f"the first digit of an INS matricule is 1, 2, 3, 4, 7 or 8, not {value[0]}", where="sex"
            )
        )
    expected = ins_key(value[:13])
    if expected != value[13:]:
        message = f"the key should be {expected}, not {value[13:]}"
        if authority is not None and not authority.is_production:
            findings.append(_codes.INS_TEST_BAD_KEY(f"{message}; accepted for a {authority.name} INS", where="key"))
        else:
            findings.append(_codes.INS_BAD_KEY(message, where="key"))
    if authority is not None and not authority.is_production:
        findings.append(
            _codes.INS_NOT_PRODUCTION(
                f"the authority {authority.value} is the INS {authority.name} domain, never a real patient"
            )
        )
    return findings


def _judged(instance: Ins, _attribute: Any, value: str) -> None:
    report = Report(findings=judge_ins(value, instance.authority), subject=value)
    report.raise_for_errors(InvalidIdentifier, f"{value!r} is not a valid INS matricule")


@attrs.frozen(kw_only=True)
class Ins:
    """An INS matricule (the patient's NIR or NIA, 15 characters), with its authority if known.

    The key is ``97 - (body mod 97)``, Corsica's ``2A``/``2B`` counting as 19/18. Without an
    authority the matricule must be right; under the TEST or DEMO authority a wrong key is only
    a warning. ``str()`` gives the canonical 15 characters.
    """

    value: str = attrs.field(validator=_judged)
    authority: InsAuthority | None = None

    @classmethod
    def parse(cls, text: str, authority: InsAuthority | str | None = None) -> Ins:
        """Read loose input (``2 79 03 51 215 189 89``) under an optional authority (OID or name)."""
        if isinstance(authority, str):
            authority = InsAuthority.parse(authority)
        value, findings = normalise(text)
        Report(findings=findings, subject=text[:80]).raise_for_errors(
            InvalidIdentifier, f"{text[:80]!r} is not a valid INS matricule"
        )
        return cls(value=value, authority=authority)

    @property
    def body(self) -> str:
        """The first 13 characters (sex, birth year and month, place, order number)."""
        return self.value[:13]

    @property
    def key(self) -> str:
        """The two-digit key."""
        return self.value[13:]

    @property
    def kind(self) -> str:
        """``nir``, ``nia``, ``test`` or ``demo`` from the authority; ``nir-or-nia`` without one.

        A NIA is built like a NIR, so the digits alone cannot tell them apart.
        """
        return self.authority.name.lower() if self.authority else "nir-or-nia"

    @property
    def is_production(self) -> bool:
        """False when the authority is TEST or DEMO."""
        return self.authority is None or self.authority.is_production

    def __str__(self) -> str:
        return self.value

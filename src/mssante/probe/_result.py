"""The answer of a probe: named checks, each ``ok`` or not with the findings that say why."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import attrs

from mssante.report import Finding, Report, Severity

__all__ = ["ProbeCheck", "ProbeReport"]


def _findings(findings: Iterable[Finding]) -> tuple[Finding, ...]:
    return tuple(findings)


@attrs.frozen(kw_only=True)
class ProbeCheck:
    """One check of a probe (``starttls-required``, ``tls-versions``...): ``ok`` when none of its findings is an
    error."""

    name: str
    findings: tuple[Finding, ...] = attrs.field(default=(), converter=_findings)

    @property
    def ok(self) -> bool:
        """True when no finding has severity ``error``."""
        return not self.errors

    @property
    def errors(self) -> tuple[Finding, ...]:
        """The findings of severity ``error``."""
        return tuple(finding for finding in self.findings if finding.severity is Severity.ERROR)

    @property
    def codes(self) -> tuple[str, ...]:
        """The codes of its findings, in order."""
        return tuple(finding.code for finding in self.findings)

    def to_dict(self) -> dict[str, Any]:
        """``{"name", "ok", "codes"}``: the check as the command line prints it with ``--json``."""
        return {"name": self.name, "ok": self.ok, "codes": list(dict.fromkeys(f.code for f in self.findings))}


def _checks(checks: Iterable[ProbeCheck]) -> tuple[ProbeCheck, ...]:
    return tuple(checks)


@attrs.frozen(kw_only=True)
class ProbeReport:
    """What a probe found: its checks, in the order they were made; ``subject`` names what was probed."""

    subject: str
    checks: tuple[ProbeCheck, ...] = attrs.field(default=(), converter=_checks)

    @property
    def report(self) -> Report:
        """Every finding of every check, each located at its check's name."""
        return Report(
            findings=[finding.located(check.name) for check in self.checks for finding in check.findings],
            subject=self.subject,
        )

    @property
    def ok(self) -> bool:
        """True when every check is ok."""
        return all(check.ok for check in self.checks)

    @property
    def codes(self) -> tuple[str, ...]:
        """The codes of all findings, in order."""
        return self.report.codes

    def check(self, name: str) -> ProbeCheck:
        """The check named ``name``; KeyError when the probe made none of that name."""
        for check in self.checks:
            if check.name == name:
                return check
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        """``{"ok", "findings", "checks"}``: the JSON form of the command line."""
        return {**self.report.to_dict(), "checks": [check.to_dict() for check in self.checks]}

    def __str__(self) -> str:
        lines = [f"{self.subject}: {'ok' if self.ok else 'not ok'}"]
        for check in self.checks:
            lines.append(f"  {'ok    ' if check.ok else 'NOT OK'} {check.name}")
            lines += [f"         {finding}" for finding in check.findings]
        return "\n".join(lines)

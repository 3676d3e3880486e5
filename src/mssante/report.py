"""Reports and findings: the one shape every check in mssante returns.

A check never answers a bare ``False``. It returns a :class:`Report`: ``ok`` plus the
:class:`Finding` objects that explain it, each with a stable code (``MSS-ID-006``), a
severity, a message for humans and where it applies. ``ok`` is false exactly when a
finding has severity ``error``.

Codes are declared once with :func:`define_code` and never reused for another meaning;
:func:`finding_codes` lists them all (the documentation is generated from it).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import attrs

from mssante import _html

__all__ = [
    "Code",
    "Finding",
    "Report",
    "Severity",
    "define_code",
    "finding_codes",
]

_CODE_SYNTAX = re.compile(r"MSS-[A-Z]{2,5}-[0-9]{3}", re.ASCII)


class Severity(str, enum.Enum):
    """How much a finding weighs: an ``error`` makes a report not ok."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    def __str__(self) -> str:
        return self.value


@attrs.frozen(kw_only=True)
class Finding:
    """One observation of a check: a stable code, a severity, a message and where."""

    code: str
    severity: Severity = attrs.field(converter=Severity)
    message: str
    where: str = ""

    def to_dict(self) -> dict[str, str]:
        """The JSON form used by the command line: ``code``, ``severity``, ``message``, ``where``."""
        return {
            "code": self.code,
            "severity": self.severity.value,
            "message": self.message,
            "where": self.where,
        }

    def located(self, prefix: str) -> Finding:
        """The same finding, with ``prefix`` put in front of where it applies."""
        where = f"{prefix}.{self.where}" if prefix and self.where else (prefix or self.where)
        return attrs.evolve(self, where=where)

    def _repr_html_(self) -> str:
        """The finding as a one-row table, for notebooks."""
        return _html.findings([self])

    def __str__(self) -> str:
        at = f" ({self.where})" if self.where else ""
        return f"{self.code} {self.severity.value}: {self.message}{at}"


@attrs.frozen(kw_only=True)
class Code:
    """A finding code: its stable identifier, default severity and one-line meaning."""

    id: str
    severity: Severity
    title: str

    def __call__(self, message: str | None = None, *, where: str = "", severity: Severity | None = None) -> Finding:
        """A finding with this code; the message defaults to the code's title."""
        return Finding(code=self.id, severity=severity or self.severity, message=message or self.title, where=where)


_REGISTRY: dict[str, Code] = {}


def define_code(code: str, severity: Severity, title: str) -> Code:
    """Declare a finding code once; declaring the same code twice is a programming error."""
    if not _CODE_SYNTAX.fullmatch(code):
        raise ValueError(f"finding code {code!r} must look like MSS-AREA-123")
    if code in _REGISTRY:
        raise ValueError(f"finding code {code} is already defined: {_REGISTRY[code].title!r}")
    declared = Code(id=code, severity=severity, title=title)
    _REGISTRY[code] = declared
    return declared


def finding_codes() -> tuple[Code, ...]:
    """Every finding code declared by the modules imported so far, sorted by identifier."""
    return tuple(sorted(_REGISTRY.values(), key=lambda code: code.id))


def _as_tuple(findings: Iterable[Finding]) -> tuple[Finding, ...]:
    return tuple(findings)


@attrs.frozen(kw_only=True)
class Report:
    """The answer of a check: ``ok`` plus the findings that explain it.

    ``subject`` names what was judged (an identifier, an address, a file).
    """

    findings: tuple[Finding, ...] = attrs.field(default=(), converter=_as_tuple)
    subject: str = ""

    @property
    def ok(self) -> bool:
        """True when no finding has severity ``error``."""
        return not any(finding.severity is Severity.ERROR for finding in self.findings)

    @property
    def errors(self) -> tuple[Finding, ...]:
        """The findings of severity ``error``."""
        return self._of(Severity.ERROR)

    @property
    def warnings(self) -> tuple[Finding, ...]:
        """The findings of severity ``warning``."""
        return self._of(Severity.WARNING)

    @property
    def codes(self) -> tuple[str, ...]:
        """The codes of all findings, in order."""
        return tuple(finding.code for finding in self.findings)

    def _of(self, severity: Severity) -> tuple[Finding, ...]:
        return tuple(finding for finding in self.findings if finding.severity is severity)

    def __iter__(self) -> Iterator[Finding]:
        return iter(self.findings)

    def __len__(self) -> int:
        return len(self.findings)

    def extended(self, findings: Iterable[Finding], *, where: str = "") -> Report:
        """A new report with ``findings`` added, each located under ``where``."""
        return attrs.evolve(self, findings=(*self.findings, *(f.located(where) for f in findings)))

    def raise_for_errors(self, error: Callable[[str, Report], BaseException], what: str) -> None:
        """Raise ``error(message, self)`` unless ok; the message is ``what`` and the first error's reason."""
        if not self.ok:
            raise error(f"{what}: {self.errors[0].message}", self)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form used by the command line: ``{"ok": ..., "findings": [...]}``."""
        return {"ok": self.ok, "findings": [finding.to_dict() for finding in self.findings]}

    def _repr_html_(self) -> str:
        """The verdict and the findings as a table, for notebooks."""
        return _html.section(_html.heading(self.subject or "report", ok=self.ok), _html.findings(self.findings))

    def __str__(self) -> str:
        head = f"{self.subject}: " if self.subject else ""
        if not self.findings:
            return f"{head}ok"
        verdict = "ok" if self.ok else "not ok"
        return head + verdict + "".join(f"\n  {finding}" for finding in self.findings)

"""The exception of Pro Santé Connect."""

from __future__ import annotations

from mssante.errors import MssanteError
from mssante.report import Report

__all__ = ["PscError"]


class PscError(MssanteError):
    """Getting, refreshing or trusting a Pro Santé Connect token failed, with the report that says why (its
    ``MSS-PSC-*`` code). Its message never holds a token nor a client secret."""

    def __init__(self, message: str, report: Report | None = None) -> None:
        super().__init__(message)
        self.report = report if report is not None else Report()

    @property
    def code(self) -> str:
        """The code of the first finding (``MSS-PSC-...``), or an empty string."""
        return self.report.findings[0].code if self.report.findings else ""

"""The failures of a request to the directory's FHIR API: one class per cause, each carrying its finding.

:class:`DirectoryFailure` holds a report with the finding (``MSS-FHIR-*``) that says why, the HTTP status, the
directory's diagnostics and the URL asked; :func:`fail` builds one.
"""

from __future__ import annotations

from mssante.errors import DirectoryError
from mssante.report import Code, Report

__all__ = [
    "DirectoryAuthError",
    "DirectoryBadRequest",
    "DirectoryFailure",
    "DirectoryNotFound",
    "DirectoryRateLimited",
    "DirectoryResponseError",
    "DirectoryUnavailable",
    "fail",
]


class DirectoryFailure(DirectoryError):
    """A request to the directory failed; the report holds the finding (``MSS-FHIR-*``) that says why.

    ``status`` is the HTTP status (None when there was no answer), ``diagnostics`` what the directory said
    (``OperationOutcome`` issues or a gateway message, bounded and printable), ``url`` what was asked.
    """

    def __init__(
        self,
        message: str,
        *,
        report: Report | None = None,
        status: int | None = None,
        diagnostics: tuple[str, ...] = (),
        url: str = "",
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.report = report if report is not None else Report()
        self.status = status
        self.diagnostics = diagnostics
        self.url = url
        self.retry_after = retry_after

    @property
    def code(self) -> str:
        """The code of the first finding (``MSS-FHIR-011``...), or an empty string."""
        return self.report.findings[0].code if self.report.findings else ""


class DirectoryAuthError(DirectoryFailure):
    """No API key, or the directory refused it (HTTP 401 or 403)."""


class DirectoryNotFound(DirectoryFailure):
    """The directory answered 404 Not Found."""


class DirectoryBadRequest(DirectoryFailure):
    """The directory refused the request (400, 410, 412, ...): ``diagnostics`` say why."""


class DirectoryRateLimited(DirectoryFailure):
    """The directory still answered 429 Too Many Requests after the retries; ``retry_after`` when it said."""


class DirectoryUnavailable(DirectoryFailure):
    """The directory could not be reached, timed out or answered a server error, after the retries."""


class DirectoryResponseError(DirectoryFailure):
    """The directory's answer cannot be used: not JSON, too large, not a Bundle, a ``next`` link elsewhere."""


def fail(
    kind: type[DirectoryFailure],
    code: Code,
    message: str,
    *,
    status: int | None = None,
    diagnostics: tuple[str, ...] = (),
    url: str = "",
    retry_after: float | None = None,
) -> DirectoryFailure:
    """A ``kind`` failure whose report holds one ``code`` finding with ``message``, where ``url``."""
    report = Report(findings=[code(message, where=url)], subject=url)
    return kind(message, report=report, status=status, diagnostics=diagnostics, url=url, retry_after=retry_after)

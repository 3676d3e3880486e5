"""The directory's error answers: what an ``OperationOutcome`` says, and the failure for an HTTP status.

:func:`error_for_status` turns an HTTP answer other than 200 (an ``OperationOutcome``, or a gateway page) into a
:class:`~mssante.directory.DirectoryFailure` subclass, with the diagnostics :func:`outcome_diagnostics` finds.
"""

from __future__ import annotations

from typing import Any

from mssante.directory import fhir_codes as codes
from mssante.directory._fhir_errors import (
    DirectoryAuthError,
    DirectoryBadRequest,
    DirectoryFailure,
    DirectoryNotFound,
    DirectoryRateLimited,
    DirectoryResponseError,
    DirectoryUnavailable,
    fail,
)
from mssante.directory._fhir_json import as_dict, dicts_of, read_json, text_of

__all__ = ["API_KEY_PORTAL", "MAX_ERROR_BYTES", "error_for_status", "outcome_diagnostics"]

API_KEY_PORTAL = "https://portal.api.esante.gouv.fr"
"""Where an API key is had: an application subscribed to the API "API Annuaire Santé en libre accès"."""

MAX_ERROR_BYTES = 256 * 1024
"""The largest error body read for its diagnostics."""

_MAX_DIAGNOSTICS = 10
_MAX_DIAGNOSTIC_LENGTH = 500


def outcome_diagnostics(data: object) -> tuple[str, ...]:
    """What an ``OperationOutcome`` says: ``severity code: diagnostics`` per issue (bounded, printable).

    A gateway's JSON body with a ``message`` gives that message; anything else gives nothing.
    """
    body = as_dict(data)
    if body.get("resourceType") != "OperationOutcome":
        message = text_of(body.get("message"), _MAX_DIAGNOSTIC_LENGTH)
        return (message,) if message else ()
    found = []
    for issue in dicts_of(body.get("issue"))[:_MAX_DIAGNOSTICS]:
        text = text_of(issue.get("diagnostics"), _MAX_DIAGNOSTIC_LENGTH) or text_of(
            as_dict(issue.get("details")).get("text"), _MAX_DIAGNOSTIC_LENGTH
        )
        head = " ".join(part for part in (text_of(issue.get("severity"), 20), text_of(issue.get("code"), 40)) if part)
        line = f"{head}: {text}" if head and text else head or text
        if line:
            found.append(line)
    return tuple(found)


def error_for_status(
    status: int, body: bytes = b"", *, url: str = "", retry_after: float | None = None, attempts: int = 1
) -> DirectoryFailure:
    """The error for an HTTP answer other than 200: its class by status, its diagnostics from the body.

    401/403 → :class:`DirectoryAuthError`, 404 → :class:`DirectoryNotFound`, 429 → :class:`DirectoryRateLimited`,
    5xx → :class:`DirectoryUnavailable`, other 4xx → :class:`DirectoryBadRequest`, anything else →
    :class:`DirectoryResponseError`. The body may be anything (HTML from a gateway): it is only searched for
    diagnostics, never shown whole. ``attempts`` (when more than one) is said in the message.
    """
    diagnostics: tuple[str, ...] = ()
    if body:
        try:
            diagnostics = outcome_diagnostics(read_json(body, max_bytes=MAX_ERROR_BYTES))
        except DirectoryResponseError:
            diagnostics = ()
    said = f": {diagnostics[0]}" if diagnostics else ""
    if attempts > 1:
        said = f" ({attempts} attempts){said}"
    options: dict[str, Any] = {"status": status, "diagnostics": diagnostics, "url": url}
    if status in (401, 403):
        message = (
            f"the directory refused the API key (HTTP {status}){said}; check it, and that its application "
            f'subscribes to "API Annuaire Santé en libre accès" on {API_KEY_PORTAL}'
        )
        return fail(DirectoryAuthError, codes.AUTH, message, **options)
    if status == 404:
        return fail(DirectoryNotFound, codes.NOT_FOUND, f"the directory answered 404 Not Found{said}", **options)
    if status == 429:
        wait = f" (it asked to wait {retry_after:g} s)" if retry_after is not None else ""
        message = f"the directory answered 429 Too Many Requests{wait}{said}"
        return fail(DirectoryRateLimited, codes.RATE_LIMITED, message, retry_after=retry_after, **options)
    if 500 <= status <= 599:
        message = f"the directory answered HTTP {status}{said}"
        return fail(DirectoryUnavailable, codes.UNAVAILABLE, message, retry_after=retry_after, **options)
    if 400 <= status <= 499:
        message = f"the directory refused the request (HTTP {status}){said}"
        return fail(DirectoryBadRequest, codes.BAD_REQUEST, message, **options)
    message = f"the directory answered HTTP {status}, which is not followed{said}"
    return fail(DirectoryResponseError, codes.UNEXPECTED_STATUS, message, **options)

"""Sending mailbox patches to the draft write endpoint of the directory: an explicit opt-in, since it is not live."""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

import httpx

from mssante._secrets import scrub_bytes
from mssante._version import __version__
from mssante.directory import MailboxPatch, PatchTarget
from mssante.directory import fhir_codes as codes
from mssante.directory.fhir import (
    MAX_ERROR_BYTES,
    DirectoryFailure,
    DirectoryResponseError,
    DirectoryUnavailable,
    error_for_status,
    read_json,
)
from mssante.errors import DirectoryError
from mssante.net._async._exchange import AsyncClientOwner, attempt
from mssante.net._directory import api_key_of, endpoint, positive, scrub_failure
from mssante.net._http import DEFAULT_MAX_DURATION, Deadline, Exchange, Failure, check_seconds
from mssante.report import Code, Report

__all__ = ["DEFAULT_MAX_ANSWER_BYTES", "AsyncMailboxPublisher"]

DEFAULT_MAX_ANSWER_BYTES = 1024 * 1024
"""The largest answer read from the write endpoint (one resource), decoded: past it the answer is refused."""

_DRAFT = (
    "the directory's write API for mailboxes is a draft ANS has not opened yet (its server is 'à définir'): "
    "pass accept_draft_api=True and the base_url ANS gives you to use it"
)


class AsyncMailboxPublisher(AsyncClientOwner):
    """PATCH an operator's mailboxes into the national directory (the draft FHIR write API).

    Refused unless ``accept_draft_api=True``: the endpoint is specified but not live, and its
    authorisation rules are not settled. Each :meth:`publish` sends one conditional PATCH and
    returns the updated resource; 412 (several resources match) and 404 (none) are
    :class:`~mssante.errors.DirectoryError` with the server's diagnostics.

    The key goes to ``base_url`` only: https, or plain http to an IP loopback address or ``localhost`` (tests),
    decided on the URL as httpx reads it, never with credentials in it; redirections are not followed. Each
    publication has ``timeout`` per network operation and ``max_duration`` as a whole, which an endpoint that
    trickles its bytes cannot stretch. The answer is read as it arrives, within ``max_bytes`` (decoded, when it is
    gzip or deflate: a compression bomb is cut as it inflates). Errors never hold the key nor a bearer token, even
    when the endpoint echoes them. A given ``client`` stays the caller's; one the publisher made is closed with it
    (it is a context manager).
    """

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        *,
        accept_draft_api: bool = False,
        client: httpx.AsyncClient | None = None,
        timeout: float = 35.0,
        max_duration: float = DEFAULT_MAX_DURATION,
        max_bytes: int = DEFAULT_MAX_ANSWER_BYTES,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        if not accept_draft_api:
            raise DirectoryError(_DRAFT)
        self._base_url = endpoint(base_url, "the write endpoint's base_url")
        self._key = api_key_of(api_key, environ)
        self.timeout = check_seconds("timeout", timeout)
        self.max_duration = check_seconds("max_duration", max_duration)
        self.max_bytes = positive("max_bytes", max_bytes)
        self._owned = client is None
        self.client = client or httpx.AsyncClient(timeout=timeout, follow_redirects=False)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._base_url!r})"

    async def publish(self, target: PatchTarget, patch: MailboxPatch) -> dict[str, Any]:
        """Send ``patch`` to the resource ``target`` names; the resource as the server updated it."""
        if patch.resource_type != target.resource_type:
            raise ValueError(f"a patch of {patch.resource_type} sent to a {target.resource_type}")
        url = target.url(self._base_url)
        try:
            return await self._publish(url, target, patch)
        except DirectoryFailure as error:
            raise scrub_failure(error, (self._key,)) from None

    async def _publish(self, url: str, target: PatchTarget, patch: MailboxPatch) -> dict[str, Any]:
        headers = {
            "ESANTE-API-KEY": self._key,
            "Content-Type": "application/fhir+json",
            "Accept": "application/fhir+json",
            "Accept-Encoding": "gzip, deflate",
            "User-Agent": f"mssante/{__version__}",
        }
        ask = Exchange(
            method="PATCH", url=url, headers=headers, content=patch.to_bytes(), timeout=self.timeout,
            deadline=Deadline.after(self.max_duration), max_bytes=self.max_bytes, error_bytes=MAX_ERROR_BYTES,
            follow_redirects=False, decode=True,
        )  # fmt: skip
        answer = await attempt(self.client, ask)
        if isinstance(answer, Failure):
            raise publication_error(url, answer)
        body = scrub_bytes(answer.body, (self._key,))
        if answer.status != HTTPStatus.OK:
            raise error_for_status(answer.status, body, url=url)
        value = read_json(body, max_bytes=self.max_bytes, url=url)
        if not isinstance(value, dict) or value.get("resourceType") != target.resource_type:
            message = f"the write endpoint answered no {target.resource_type}"
            raise DirectoryResponseError(message, report=_report(codes.NOT_EXPECTED, message, url), url=url)
        return value


def _report(code: Code, message: str, url: str) -> Report:
    return Report(findings=[code(message, where=url)], subject=url)


def publication_error(url: str, failure: Failure) -> DirectoryFailure:
    """The error of a publication that got no usable answer: no answer, too late, too large, or unreadable."""
    if failure.reason == "network":
        message = f"the directory's write endpoint did not answer: {type(failure.error).__name__}"
        return DirectoryUnavailable(message, report=_report(codes.NETWORK, message, url), url=url)
    message = str(failure.error)
    if failure.reason == "timeout":
        return DirectoryUnavailable(message, report=_report(codes.NETWORK, message, url), url=url)
    code = codes.TOO_LARGE if failure.reason == "oversize" else codes.NOT_JSON
    return DirectoryResponseError(message, report=_report(code, message, url), url=url)

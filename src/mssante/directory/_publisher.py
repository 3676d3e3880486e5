"""Sending mailbox patches to the draft write endpoint of the directory: an explicit opt-in, since it is not live."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from mssante._http import HTTPX_ERRORS
from mssante.directory._client import _api_key
from mssante.directory._fhir import MAX_PAGE_BYTES, DirectoryResponseError, error_for_status, read_json
from mssante.directory._publication import MailboxPatch, PatchTarget
from mssante.errors import DirectoryError

__all__ = ["MailboxPublisher"]

_DRAFT = (
    "the directory's write API for mailboxes is a draft ANS has not opened yet (its server is 'à définir'): "
    "pass accept_draft_api=True and the base_url ANS gives you to use it"
)


class MailboxPublisher:
    """PATCH an operator's mailboxes into the national directory (the draft FHIR write API).

    Refused unless ``accept_draft_api=True``: the endpoint is specified but not live, and its
    authorisation rules are not settled. Each :meth:`publish` sends one conditional PATCH and
    returns the updated resource; 412 (several resources match) and 404 (none) are
    :class:`~mssante.errors.DirectoryError` with the server's diagnostics.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        *,
        accept_draft_api: bool = False,
        client: httpx.Client | None = None,
        timeout: float = 35.0,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        if not accept_draft_api:
            raise DirectoryError(_DRAFT)
        if not base_url.startswith("https://") and not base_url.startswith(("http://127.0.0.1", "http://localhost")):
            raise ValueError("the write endpoint is reached over https (http only on the loopback, for tests)")
        self._base_url = base_url
        self._key = _api_key(api_key, environ)
        self._owned = client is None
        self._client = client or httpx.Client(timeout=timeout, follow_redirects=False)

    def publish(self, target: PatchTarget, patch: MailboxPatch) -> dict[str, Any]:
        """Send ``patch`` to the resource ``target`` names; the resource as the server updated it."""
        if patch.resource_type != target.resource_type:
            raise ValueError(f"a patch of {patch.resource_type} sent to a {target.resource_type}")
        url = target.url(self._base_url)
        headers = {
            "ESANTE-API-KEY": self._key,
            "Content-Type": "application/fhir+json",
            "Accept": "application/fhir+json",
        }
        try:
            answer = self._client.patch(url, content=patch.to_bytes(), headers=headers)
        except HTTPX_ERRORS as error:
            raise DirectoryError(f"the directory's write endpoint did not answer: {type(error).__name__}") from None
        body = answer.content[: MAX_PAGE_BYTES + 1]
        if answer.status_code != 200:
            raise error_for_status(answer.status_code, body, url=url)
        value = read_json(body, max_bytes=MAX_PAGE_BYTES, url=url)
        if not isinstance(value, dict) or value.get("resourceType") != target.resource_type:
            raise DirectoryResponseError(f"the write endpoint answered no {target.resource_type}")
        return value

    def close(self) -> None:
        """Close the HTTP client this publisher made (not one it was given)."""
        if self._owned:
            self._client.close()

    def __enter__(self) -> MailboxPublisher:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

"""HTTP re-validation of a cached download, without I/O: the conditional-request headers from its validators."""

from __future__ import annotations

__all__ = ["conditional_headers"]


def conditional_headers(etag: str | None, last_modified: str | None) -> dict[str, str]:
    """``If-None-Match`` / ``If-Modified-Since`` re-validating a cached download with its validators."""
    headers = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    return headers

"""The URLs of the directory's FHIR API: the base, a search's URL and query string, and the origin a link keeps."""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterable

__all__ = ["BASE_URL", "query_string", "same_origin", "search_url"]

BASE_URL = "https://gateway.api.esante.gouv.fr/fhir/v2"
"""The v2 FHIR API of the Annuaire Santé (production: there is no sandbox)."""

_DEFAULT_PORTS = {"http": 80, "https": 443}


def search_url(base_url: str, resource: str) -> str:
    """The URL of a search on ``resource``, without the parameters: ``<base_url>/<resource>``."""
    return f"{base_url.rstrip('/')}/{resource}"


def query_string(params: Iterable[tuple[str, str]]) -> str:
    """The parameters percent-encoded, in order: ``identifier=https%3A%2F%2F...%7C590064036&...``."""
    return urllib.parse.urlencode(list(params), quote_via=urllib.parse.quote, safe="")


def same_origin(base_url: str, url: str) -> bool:
    """True when ``url`` is absolute with the scheme, host and port of ``base_url``."""
    try:
        base, other = urllib.parse.urlsplit(base_url), urllib.parse.urlsplit(url)
        return (
            bool(other.scheme and other.hostname)
            and other.scheme.lower() == base.scheme.lower()
            and other.hostname == base.hostname
            and (other.port or _DEFAULT_PORTS.get(other.scheme.lower()))
            == (base.port or _DEFAULT_PORTS.get(base.scheme.lower()))
            and not other.username
            and not other.password
        )
    except ValueError:
        return False

"""Untrusted JSON from the directory: a bounded read, and values taken from it without trusting their types.

:func:`read_json` refuses a body that is too large or not JSON; the other functions take a value of the
expected type from parsed JSON, or an empty one (a string made printable and bounded, a dict, a list of dicts).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from mssante.directory import fhir_codes as codes
from mssante.directory._fhir_errors import DirectoryResponseError, fail

__all__ = [
    "MAX_PAGE_BYTES",
    "MAX_TEXT",
    "as_dict",
    "clean",
    "codings_of",
    "dicts_of",
    "extension_url",
    "extensions_of",
    "read_json",
    "strings_of",
    "text_of",
]

MAX_PAGE_BYTES = 32 * 1024 * 1024
"""The largest page body read (a page of 200 full resources is about 1 MB)."""

MAX_TEXT = 1000
"""The longest text kept from an answer, unless a shorter bound is given."""


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not a JSON number")


def read_json(body: bytes, *, max_bytes: int = MAX_PAGE_BYTES, url: str = "") -> object:
    """The JSON value of an untrusted body of at most ``max_bytes`` (UTF-8, BOM allowed).

    Raises :class:`DirectoryResponseError` (``MSS-FHIR-001``/``002``) on anything else: too large, not UTF-8,
    malformed, nested too deep, numbers too long, ``NaN``.
    """
    if len(body) > max_bytes:
        raise fail(
            DirectoryResponseError,
            codes.TOO_LARGE,
            f"the body has {len(body)} bytes, over the limit of {max_bytes}",
            url=url,
        )
    try:
        text = bytes(body).decode("utf-8-sig")
        return json.loads(text, parse_constant=_refuse_constant)
    except RecursionError:
        reason = "it is nested too deep"
    except ValueError as error:  # UnicodeDecodeError, JSONDecodeError, too many digits
        reason = clean(str(error), 200)
    raise fail(DirectoryResponseError, codes.NOT_JSON, f"the body is not JSON: {reason}", url=url)


def clean(value: str, limit: int = MAX_TEXT) -> str:
    """Untrusted text made safe to show and log: printable characters only, trimmed and bounded."""
    text = value[: limit * 2]
    if not text.isprintable():
        text = "".join(char if char.isprintable() else " " for char in text)
    return text.strip()[:limit]


def text_of(value: object, limit: int = MAX_TEXT) -> str:
    """:func:`clean` of a string; ``""`` for any other value."""
    return clean(value, limit) if isinstance(value, str) else ""


def as_dict(value: object) -> dict[str, Any]:
    """``value`` when it is a JSON object, else an empty one."""
    return value if isinstance(value, dict) else {}


def dicts_of(value: object) -> list[dict[str, Any]]:
    """The JSON objects of a list (other items left out); ``[]`` for anything but a list."""
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def strings_of(value: object) -> list[str]:
    """The strings of a list, cleaned and bounded (other items left out); ``[]`` for anything but a list."""
    return [clean(item, 200) for item in value if isinstance(item, str)] if isinstance(value, list) else []


def extensions_of(element: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The FHIR extensions of an element."""
    return dicts_of(element.get("extension"))


def extension_url(extension: Mapping[str, Any]) -> str:
    """The URL of an extension, without a ``|version``; ``""`` when it has none."""
    url = extension.get("url")
    return url.partition("|")[0] if isinstance(url, str) else ""


def codings_of(concept: object) -> list[dict[str, Any]]:
    """The codings of a CodeableConcept."""
    return dicts_of(as_dict(concept).get("coding"))

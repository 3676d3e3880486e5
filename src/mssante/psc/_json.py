"""Reading the JSON a provider sends: one object, bounded in depth, its values typed."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

__all__ = ["JsonObject", "read_object"]

JsonObject = dict[str, Any]


def read_object(body: bytes, *, invalid: Callable[[str], Exception]) -> JsonObject:
    """``body`` as a JSON object, or ``invalid(reason)`` raised (not UTF-8, not JSON, not an object)."""
    try:
        value = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise invalid(f"not JSON ({type(error).__name__})") from None
    if not isinstance(value, dict):
        raise invalid(f"a JSON {type(value).__name__}, not an object")
    return value

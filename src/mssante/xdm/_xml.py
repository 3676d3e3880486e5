"""Untrusted XML in, an element tree out: bounded, no DTD, no entity, no external reference."""

from __future__ import annotations

from typing import Literal
from xml.etree import ElementTree

import defusedxml  # type: ignore[import-untyped,unused-ignore]
import defusedxml.ElementTree  # type: ignore[import-untyped,unused-ignore]

__all__ = ["UnreadableXml", "parse_untrusted"]


class UnreadableXml(Exception):
    """Why the bytes give no tree: ``too-large``, ``forbidden`` (DTD, entity, external reference) or ``malformed``."""

    def __init__(self, reason: Literal["too-large", "forbidden", "malformed"], message: str) -> None:
        super().__init__(message)
        self.reason = reason


def parse_untrusted(data: bytes, *, limit: int) -> ElementTree.Element:
    """The root element of ``data``; :class:`UnreadableXml` when it is larger than ``limit`` or not safe XML."""
    if len(data) > limit:
        raise UnreadableXml("too-large", f"{len(data)} bytes; at most {limit} are read")
    try:
        root: ElementTree.Element = defusedxml.ElementTree.fromstring(bytes(data), forbid_dtd=True)
    except defusedxml.DefusedXmlException as error:
        message = f"refused: {type(error).__name__} (no DTD, entity or external reference is accepted)"
        raise UnreadableXml("forbidden", message) from None
    except ElementTree.ParseError as error:
        raise UnreadableXml("malformed", f"not well-formed XML: {error}") from None
    except (ValueError, LookupError) as error:  # an encoding expat cannot use (multi-byte, unknown, not a text codec)
        raise UnreadableXml("malformed", f"not readable XML: {type(error).__name__}: {error}"[:200]) from None
    return root

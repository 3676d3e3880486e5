"""The bytes of a CDA document parsed by the guarded parser: the header's tree, the body checked but not built.

The body (the ``component`` child of the root) is found by one pass of expat over the whole document, or by its
bytes when that is sure; only the header is built into a tree, with the media type of an unstructured body.
"""

from __future__ import annotations

import re
from xml.etree import ElementTree
from xml.parsers import expat

from mssante._xml import UnreadableXml, guarded_parser, parse_untrusted, run

__all__ = ["MAX_CDA_BYTES"]

MAX_CDA_BYTES = 64 * 1024 * 1024
"""A CDA document larger than this is not read (an unstructured CDA embedding a large PDF stays well below)."""


class _Scan:
    """One pass of the guarded expat parser over the whole document, building no tree: well-formed XML, no DTD.

    It notes where the body (the ``component`` child of the root) starts, the root's name as
    written and, for an unstructured body, its media type; the handlers are dropped once the
    body's kind is known, so the body costs expat's own parsing only.
    """

    def __init__(self) -> None:
        self.parser = guarded_parser()
        self.depth = 0
        self.root = ""
        self.body: int | None = None
        self.media_type: str | None = None
        self.parser.StartElementHandler = self.start
        self.parser.EndElementHandler = self.end

    def start(self, name: str, attributes: dict[str, str]) -> None:
        depth, local = self.depth, name.rpartition(":")[2]
        self.depth += 1
        if depth == 0:
            self.root = name
        elif self.body is None:
            if depth == 1 and local == "component":
                self.body = self.parser.CurrentByteIndex
        elif depth == 3 and local == "text":
            self.media_type = attributes.get("mediaType")
            self.done()
        elif depth == 2 and local != "nonXMLBody":
            self.done()

    def end(self, _name: str) -> None:
        self.depth -= 1

    def root_only(self, name: str, _attributes: dict[str, str]) -> None:
        """Notes the root's name, then nothing: the first handler when the body is found by its bytes."""
        self.root = name
        self.parser.StartElementHandler = None

    def done(self) -> None:
        self.parser.StartElementHandler = None
        self.parser.EndElementHandler = None

    def run(self, data: bytes) -> None:
        run(self.parser, data)


def _parse_scanned(data: bytes) -> tuple[ElementTree.Element, str | None]:
    """The header found by a scan whose handlers see every element of the header (any encoding expat reads)."""
    scan = _Scan()
    scan.run(data)
    ascii_compatible = not data.startswith((b"\xff\xfe", b"\xfe\xff")) and b"\x00" not in data[:4]
    header = data
    if scan.body is not None and ascii_compatible:  # the root's children up to the body, then its end tag
        header = data[: scan.body] + f"</{scan.root}>".encode("ascii", "xmlcharrefreplace")
    return parse_untrusted(header, limit=MAX_CDA_BYTES), scan.media_type


# A start tag whose local name is ``component``: every one matches, so the first match is the first such tag when it
# is markup at all (one in a comment, a CDATA section or deeper than the root's children leaves the header unclosed).
_COMPONENT_TAG = re.compile(rb"<(?:[^\s<>/=\"']*:)?component[\s/>]")
_DECLARED_ENCODING = re.compile(rb"encoding\s*=\s*[\"']([A-Za-z0-9._-]*)[\"']")
_ASCII_ENCODINGS = frozenset({b"UTF-8", b"US-ASCII", b"ISO-8859-1"})


def _parse_at_component(data: bytes) -> tuple[ElementTree.Element, str | None] | None:
    """The header read as :func:`_parse_scanned` reads it, the body found by its bytes: None when not sure.

    The header (up to the first ``component`` tag) is read by the guarded parser without a handler; the scan's
    handlers see the body only. The tree is that of the header with the root's end tag: it is well-formed only
    when that tag is a child of the root, so the tree is the scan's. Anything else (no such tag, a document in
    an encoding that is not a superset of ASCII, any error) is left to :func:`_parse_scanned`, whose words it
    keeps.
    """
    start = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    if data.startswith(b"<?xml", start):
        declared = _DECLARED_ENCODING.search(data, start, max(data.find(b"?>", start), start))
        if declared is not None and declared.group(1).upper() not in _ASCII_ENCODINGS:
            return None
    elif data[start : start + 1] != b"<":
        return None
    component = _COMPONENT_TAG.search(data)
    if component is None:
        return None
    body = component.start()
    scan = _Scan()
    scan.parser.StartElementHandler = scan.root_only
    scan.parser.EndElementHandler = None
    try:
        scan.parser.Parse(data[:body], False)  # noqa: FBT003 (positional only)
        if not scan.root:
            return None
        scan.depth, scan.body = 1, body
        scan.parser.StartElementHandler = scan.start
        scan.parser.EndElementHandler = scan.end
        run(scan.parser, data[body:])
        header = data[:body] + f"</{scan.root}>".encode("ascii", "xmlcharrefreplace")
        root = parse_untrusted(header, limit=MAX_CDA_BYTES)
    except (UnreadableXml, expat.ExpatError, ValueError, LookupError):
        return None
    return root, scan.media_type

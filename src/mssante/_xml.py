"""Untrusted XML: the one way the library reads XML it did not write (allow-list, CDA, METADATA.XML).

Whatever parser builds the tree, the same screen comes first:

- a document larger than its bound is refused unread;
- a DTD is refused at its ``<!DOCTYPE``, whatever its place in the prolog or its spelling, before any entity is
  declared or expanded: expat reads the prolog with handlers that refuse a document type declaration and an
  entity declaration, and stops at the root's start tag (:func:`check_prolog`). A ``<!DOCTYPE`` anywhere else is
  not well-formed XML. With no DTD there is no entity to expand and no external reference to follow: a reference
  to anything but the five predefined entities is an error;
- the tree is then built by the C parser of the standard library (:func:`parse_untrusted`);
- :func:`check_well_formed` reads a whole document with the same guard and builds nothing (lxml may check it
  first when it is installed and the caller asks: network access, DTD loading and entity resolution off, its
  size limits on, nothing built), and :func:`guarded_parser` gives the guarded expat parser itself, for a caller
  that reads a document as a stream.

Encodings are those expat reads (UTF-8, UTF-16 with its mark, US-ASCII, ISO-8859-1 and the single-byte encodings
Python knows); :func:`require_utf8` refuses anything but UTF-8 (and US-ASCII) from the first bytes, as XML 1.0
Appendix F tells the encoding, before any parser reads them. Every refusal is :class:`UnreadableXml`, never an
exception of the parser.
"""

from __future__ import annotations

import functools
import importlib
import re
from typing import Any, Literal, NoReturn
from xml.etree import ElementTree
from xml.parsers import expat

__all__ = [
    "UnreadableXml",
    "check_prolog",
    "check_well_formed",
    "guarded_parser",
    "lxml_available",
    "parse_untrusted",
    "require_utf8",
    "run",
]

Reason = Literal["too-large", "forbidden", "encoding", "malformed"]

_FORBIDDEN = "a DTD, an entity or an external reference is not accepted"


class UnreadableXml(Exception):
    """Why the bytes give no tree: ``too-large``, ``forbidden`` (DTD, entity, external reference), ``encoding``
    (not UTF-8 where only UTF-8 is read) or ``malformed``.

    ``detail`` is the parser's own words for a malformed document (``no element found: line 1, column 0``).
    """

    def __init__(self, reason: Reason, message: str, *, detail: str = "") -> None:
        super().__init__(message)
        self.reason: Reason = reason
        self.detail = detail or message


def _forbid(*_: object) -> NoReturn:
    raise UnreadableXml("forbidden", f"refused: {_FORBIDDEN} (a DTD or an entity declaration)")


def guarded_parser(*, encoding: str | None = None, namespaces: bool = False) -> expat.XMLParserType:
    """An expat parser that refuses a document type declaration and any entity or notation declaration.

    The caller sets its element handlers and reads with :func:`run`. ``namespaces`` makes names
    ``uri}local`` and unbound prefixes errors, as the element tree reads them.
    """
    parser = expat.ParserCreate(encoding, "}" if namespaces else None)
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartDoctypeDeclHandler = _forbid
    parser.EntityDeclHandler = _forbid
    parser.UnparsedEntityDeclHandler = _forbid
    parser.NotationDeclHandler = _forbid
    parser.ExternalEntityRefHandler = _forbid
    return parser


def _malformed(error: Exception) -> UnreadableXml:
    if isinstance(error, expat.ExpatError | ElementTree.ParseError):
        return UnreadableXml("malformed", f"not well-formed XML: {error}", detail=str(error))
    # ValueError, LookupError: an encoding expat cannot use (multi-byte, unknown, not a text codec)
    return UnreadableXml("malformed", f"not readable XML: {type(error).__name__}: {error}"[:200])


def run(parser: expat.XMLParserType, data: bytes) -> None:
    """Parse the whole of ``data`` with ``parser``; :class:`UnreadableXml` unless it is well-formed and DTD-free."""
    try:
        parser.Parse(data, True)  # noqa: FBT003 (positional only)
    except (expat.ExpatError, ValueError, LookupError) as error:
        raise _malformed(error) from None


class _RootReached(Exception):
    """Raised by the prolog screen at the root's start tag: what follows is not its business."""


def _root_reached(*_: object) -> NoReturn:
    raise _RootReached


def check_prolog(data: bytes, *, encoding: str | None = None) -> None:
    """Read the prolog of ``data`` (up to the root's start tag) with the guarded parser: no DTD may stand there.

    Expat tells the encoding as the parser that builds the tree will, so both see the same prolog. A
    document that ends or goes wrong before its root is refused here with the parser's own words.
    """
    parser = guarded_parser(encoding=encoding, namespaces=True)  # as the tree's parser and the check read it
    parser.StartElementHandler = _root_reached
    try:
        run(parser, data)
    except _RootReached:
        return


def check_well_formed(
    data: bytes, *, encoding: str | None = None, limit: int | None = None, fast: bool = False
) -> None:
    """Read the whole of ``data`` with the guard, building nothing: well-formed, namespaces bound, no DTD.

    With no handler but the guard's, expat checks the markup in C without a call to Python per tag.
    ``fast`` lets lxml check it first when it is installed (after the same prolog screen, with a
    target that builds nothing): a document lxml accepts is accepted, anything it refuses is read
    again by expat, whose refusal (or acceptance) decides, so the answer and its words are expat's.
    """
    _bound(data, limit)
    if fast and _checked_by_lxml(data, encoding):
        return
    run(guarded_parser(encoding=encoding, namespaces=True), data)


def _bound(data: bytes, limit: int | None) -> None:
    if limit is not None and len(data) > limit:
        raise UnreadableXml("too-large", f"{len(data)} bytes; at most {limit} are read")


def parse_untrusted(data: bytes, *, limit: int, encoding: str | None = None) -> ElementTree.Element:
    """The root element of ``data``; :class:`UnreadableXml` when it is larger than ``limit`` or not safe XML.

    The prolog is screened (:func:`check_prolog`), then the C parser of the standard library builds
    the tree; ``encoding`` overrides the document's own (the allow-list is read as UTF-8 only).
    """
    _bound(data, limit)
    data = bytes(data)
    check_prolog(data, encoding=encoding)
    parser = ElementTree.XMLParser(encoding=encoding)  # noqa: S314 (check_prolog refused any DTD: nothing to expand)
    try:
        parser.feed(data)
        root: ElementTree.Element = parser.close()
    except (ElementTree.ParseError, ValueError, LookupError) as error:
        raise _malformed(error) from None
    return root


@functools.cache
def _etree() -> Any:
    try:
        etree = importlib.import_module("lxml.etree")
    except ImportError:
        return None
    return etree


def lxml_available() -> bool:
    """Whether lxml is installed (the ``fast`` extra); imported on the first call only."""
    return _etree() is not None


class _LxmlGuard:
    """The target of lxml's check: it builds nothing, and refuses a document type the screen would have refused."""

    def doctype(self, *_: object) -> NoReturn:
        _forbid()

    def close(self) -> None:
        return None


def _checked_by_lxml(data: bytes, encoding: str | None) -> bool:
    """Whether lxml, when installed, reads ``data`` as well-formed XML; False leaves the decision to expat."""
    etree = _etree()
    if etree is None:
        return False
    check_prolog(data, encoding=encoding)
    parser = etree.XMLParser(
        target=_LxmlGuard(), encoding=encoding, resolve_entities=False, no_network=True, load_dtd=False,
        huge_tree=False,
    )  # fmt: skip
    try:
        etree.fromstring(data, parser)
    except UnreadableXml:
        raise
    except (etree.LxmlError, ValueError, LookupError):  # whatever lxml refuses, expat decides and says why
        return False
    return not parser.error_log  # libxml2 only logs some errors (an unbound prefix): expat decides those too


_UTF8_BOM = b"\xef\xbb\xbf"
_OTHER_MARKS = (  # UTF-32 (UCS-4) in the four byte orders, then UTF-16: longest first
    (b"\x00\x00\xfe\xff", "a UTF-32 byte-order mark"), (b"\xff\xfe\x00\x00", "a UTF-32 byte-order mark"),
    (b"\x00\x00\xff\xfe", "a UTF-32 byte-order mark"), (b"\xfe\xff\x00\x00", "a UTF-32 byte-order mark"),
    (b"\xfe\xff", "a UTF-16 byte-order mark"), (b"\xff\xfe", "a UTF-16 byte-order mark"),
    (b"\x4c\x6f\xa7\x94", "EBCDIC (<?xm)"),
)  # fmt: skip
_S = rb"[\x20\x09\x0d\x0a]"


def _pseudo_attribute(name: bytes, value: bytes) -> bytes:
    """``S name S? = S? value``, the value in single or double quotes."""
    return _S + b"+" + name + _S + b"*=" + _S + rb"*(?:'" + value + rb"'|\"" + value + rb"\")"


_XML_DECLARATION_START = re.compile(rb"<\?xml(?:" + _S + rb"|\?>)")
# XMLDecl ::= '<?xml' VersionInfo EncodingDecl? SDDecl? S? '?>'
_XML_DECLARATION = re.compile(
    rb"<\?xml"
    + _pseudo_attribute(b"version", rb"1\.[0-9]+")
    + rb"(?:" + _pseudo_attribute(b"encoding", rb"([A-Za-z][A-Za-z0-9._-]*)") + rb")?"
    + rb"(?:" + _pseudo_attribute(b"standalone", rb"(?:yes|no)") + rb")?"
    + _S + rb"*\?>"
)  # fmt: skip


def require_utf8(data: bytes, *, what: str = "the document") -> None:
    """Refuse, from its first bytes and before any parser reads it, a document that is not UTF-8.

    The encoding is found as XML 1.0 Appendix F says: a byte-order mark, else the pattern of the
    first four bytes (UTF-16 and UTF-32 without a mark; expat also takes a NUL in either of the first
    two bytes for UTF-16), else the encoding of the XML declaration, read with its grammar (``S? = S?``,
    either quote) and only where it may stand, at the very start. UTF-8 and US-ASCII pass (``encoding``
    refusals, or ``malformed`` for a broken declaration); the parser is then told UTF-8, so no later part
    of the document can switch it to another encoding.
    """
    start = len(_UTF8_BOM) if data.startswith(_UTF8_BOM) else 0
    if not start:
        for mark, name in _OTHER_MARKS:
            if data.startswith(mark):
                raise UnreadableXml("encoding", f"the document starts with {name}: it is read as UTF-8 only")
    if b"\x00" in data[start : start + 2]:  # 00 3C, 3C 00 (UTF-16), 00 00 00 3C, 3C 00 00 00... (UTF-32)
        raise UnreadableXml("encoding", f"the first bytes are UTF-16 or UTF-32: {what} is read as UTF-8 only")
    if not _XML_DECLARATION_START.match(data, start):
        return  # no declaration: UTF-8
    declaration = _XML_DECLARATION.match(data, start)
    if declaration is None:
        raise UnreadableXml("malformed", "not well-formed XML: the XML declaration is malformed")
    encoding = (declaration.group(1) or declaration.group(2) or b"UTF-8").upper()
    if encoding == b"US-ASCII" and not data[start:].isascii():
        raise UnreadableXml("malformed", "not well-formed XML: declared US-ASCII, it holds other bytes")
    if encoding not in (b"UTF-8", b"US-ASCII"):
        raise UnreadableXml("encoding", f"the XML declaration says {encoding.decode()}: {what} is read as UTF-8 only")

"""Reading the ANS allow-list XML: untrusted, bounded, strict about structure."""

from __future__ import annotations

import datetime as dt
import functools
import html
import re
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import NamedTuple
from xml.etree import ElementTree

import attrs
import defusedxml  # type: ignore[import-untyped,unused-ignore]
import defusedxml.ElementTree  # type: ignore[import-untyped,unused-ignore]

from mssante._files import FileTooLarge, read_regular
from mssante.addresses import normalise_domain
from mssante.addresses._address import _PLAIN_DOMAIN
from mssante.errors import InvalidAddress, InvalidInput
from mssante.report import Finding, Report
from mssante.trustspace import _codes
from mssante.trustspace._dn import OperatorDn

__all__ = ["MAX_ALLOWLIST_BYTES", "NAMESPACE", "Entry", "ParsedDocument", "parse_document", "read_bounded"]

NAMESPACE = "https://listeblanche.mssante.fr/schema"
"""The XML namespace of the allow-list."""

MAX_ALLOWLIST_BYTES = 64 * 1024 * 1024
"""Far above the real list (3.7 MB for 6,554 entries in 2025): anything larger is refused unread."""

_NS = "{" + NAMESPACE + "}"
_FIELDS = ("Nom", "Description", "DNCertificatOperateur", "ResponsableContact", "SupportContact", "DateMAJ")
_FIELD_TAGS = tuple(_NS + field for field in _FIELDS)
_REQUIRED = frozenset({"Nom", "DNCertificatOperateur", "DateMAJ"})  # the others may be empty, never absent

# XML 1.0 Appendix F: the encoding is told by a byte-order mark, else by the first four bytes, else by the XML
# declaration, which can only open the document. UTF-8 (and US-ASCII, its subset) only is read.
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
# The shape ANS publishes, for the fast path: no attribute but the namespace, no comment, no empty-element tag.
_PUBLISHED_HEAD = re.compile(
    r'(?:<\?xml[^<>]*\?>)?\s*<ListeBlancheMSSante xmlns="https://listeblanche\.mssante\.fr/schema">\s*'
    r"<DateDeGeneration>([^<]*)</DateDeGeneration>\s*<ListeDomaines>"
)
_PUBLISHED_TAIL = re.compile(r"</ListeDomaines>\s*</ListeBlancheMSSante>\s*")
_PUBLISHED_ENTRY = re.compile(
    r"<Domaine>\s*" + r"\s*".join(f"<{field}>([^<]*)</{field}>" for field in _FIELDS) + r"\s*</Domaine>"
)
_TAGS_PER_ENTRY = 2 + 2 * len(_FIELDS)
_WHERE = re.compile(r"line (\d+), column (\d+)")


class Entry(NamedTuple):
    """One ``Domaine`` element: a domain and one operator certificate allowed for it (immutable).

    ``domain`` is the name as lower-case A-labels; ``usable`` is false when the name is not a
    domain or the DN does not parse: such an entry is kept, reported, and allows nothing. (A
    named tuple rather than an attrs class: the real list makes thousands of them per read.)
    """

    name: str
    domain: str
    description: str
    dn: OperatorDn | None
    dn_text: str
    responsible_contact: str
    support_contact: str
    updated: dt.datetime
    usable: bool


@attrs.frozen(kw_only=True, eq=False)
class ParsedDocument:
    """What a structurally valid allow-list document holds.

    Every check is made when it is read; the :class:`Entry` tuples are assembled on first use
    from the columns kept in ``assemble``, as the domain index does not need them.
    """

    generated: dt.datetime
    findings: tuple[Finding, ...]
    operators: dict[str, frozenset[OperatorDn]]
    """The operator certificates of each domain, from the usable entries."""
    assemble: Callable[[], tuple[Entry, ...]] = attrs.field(repr=False)

    @cached_property
    def entries(self) -> tuple[Entry, ...]:
        """Every ``Domaine`` element, in document order."""
        return self.assemble()


def _refuse(finding: Finding, source: str) -> InvalidInput:
    return InvalidInput(f"{source or 'the allow-list'}: {finding.message}", Report(findings=[finding], subject=source))


def read_bounded(path: Path) -> bytes:
    """The bytes of a file, refused when larger than :data:`MAX_ALLOWLIST_BYTES`."""
    try:
        return read_regular(path, limit=MAX_ALLOWLIST_BYTES)
    except FileTooLarge:
        raise _refuse(_codes.TOO_LARGE(f"{path} has more than {MAX_ALLOWLIST_BYTES} bytes"), str(path)) from None


def _moment(text: str) -> dt.datetime | None:
    try:
        moment = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)


def _time(text: str | None, where: str, source: str) -> dt.datetime:
    moment = _moment(text or "")
    if moment is None:
        raise _refuse(_codes.BAD_DATE(f"{where} is {text!r}, not an ISO 8601 time", where=where), source)
    return moment


def _check_encoding(data: bytes, source: str) -> None:
    """Refuse, from its first bytes and before any parser reads it, a document that is not UTF-8.

    The encoding is found as XML 1.0 Appendix F says: a byte-order mark, else the pattern of the
    first four bytes (UTF-16 and UTF-32 without a mark; expat also takes a NUL in either of the first
    two bytes for UTF-16), else the encoding of the XML declaration, read with its grammar (``S? = S?``,
    either quote) and only where it may stand, at the very start. UTF-8 and US-ASCII are read; the
    parser is then told UTF-8, so no later part of the document can switch it to another encoding.
    """
    start = len(_UTF8_BOM) if data.startswith(_UTF8_BOM) else 0
    if not start:
        for mark, name in _OTHER_MARKS:
            if data.startswith(mark):
                raise _refuse(_codes.NOT_UTF8(f"the document starts with {name}: it is read as UTF-8 only"), source)
    if b"\x00" in data[start : start + 2]:  # 00 3C, 3C 00 (UTF-16), 00 00 00 3C, 3C 00 00 00... (UTF-32)
        raise _refuse(_codes.NOT_UTF8("the first bytes are UTF-16 or UTF-32: the list is read as UTF-8 only"), source)
    if not _XML_DECLARATION_START.match(data, start):
        return  # no declaration: UTF-8
    declaration = _XML_DECLARATION.match(data, start)
    if declaration is None:
        raise _refuse(_codes.UNREADABLE("not well-formed XML: the XML declaration is malformed"), source)
    encoding = (declaration.group(1) or declaration.group(2) or b"UTF-8").upper()
    if encoding == b"US-ASCII" and not data[start:].isascii():
        raise _refuse(_codes.UNREADABLE("not well-formed XML: declared US-ASCII, it holds other bytes"), source)
    if encoding not in (b"UTF-8", b"US-ASCII"):
        message = f"the XML declaration says {encoding.decode()}: the list is read as UTF-8 only"
        raise _refuse(_codes.NOT_UTF8(message), source)


def _not_well_formed(error: ElementTree.ParseError, data: bytes, source: str) -> InvalidInput:
    """The refusal of a document the parser could not read: truncated when it ends too soon, else unreadable."""
    message = str(error)
    position = _WHERE.search(message)
    at_end = position is not None and message.startswith("no element found")
    if at_end or (position and int(position.group(1)) >= data.count(b"\n") and "unclosed token" in message):
        return _refuse(_codes.TRUNCATED(f"the document ends before </ListeBlancheMSSante> ({message})"), source)
    return _refuse(_codes.UNREADABLE(f"not well-formed XML: {message}"), source)


class _NoTree:
    """The target of the guarded parser: it builds nothing, so expat checks the document without Python calls."""

    def close(self) -> None:
        return None


def _check_xml(data: bytes, source: str) -> None:
    """Parse the whole document once with DTDs, entity declarations and external references forbidden.

    This is the one decision on the DTD, whatever its place or spelling: defusedxml's parser
    refuses at the ``<!DOCTYPE`` itself, before any entity is declared or expanded, and any
    document that is not well-formed is refused here too. A document that passes has no DTD,
    so the element tree (or the fast path) reads it afterwards with nothing to expand.
    """
    parser = defusedxml.ElementTree.DefusedXMLParser(
        target=_NoTree(), encoding="utf-8", forbid_dtd=True, forbid_entities=True, forbid_external=True
    )
    # The pure-Python parser's catch-all handler serves only DTD content (refused here); without it expat checks
    # the markup in C instead of calling Python for each tag.
    parser.parser.DefaultHandlerExpand = None
    try:
        parser.feed(data)
        parser.close()
    except defusedxml.DefusedXmlException as error:
        message = f"a DTD, an entity or an external reference is not accepted ({type(error).__name__})"
        raise _refuse(_codes.FORBIDDEN_XML(message), source) from None
    except ElementTree.ParseError as error:
        raise _not_well_formed(error, data, source) from None


def _xml(data: bytes, source: str) -> ElementTree.Element:
    """The element tree (the C parser of the standard library) of a document :func:`_check_xml` accepted."""
    parser = ElementTree.XMLParser(encoding="utf-8")  # noqa: S314 (no DTD reaches it: _check_xml refused every one)
    try:
        parser.feed(data)
        root: ElementTree.Element = parser.close()
    except ElementTree.ParseError as error:  # the same expat, told the same encoding: not expected
        raise _not_well_formed(error, data, source) from None
    return root


def _published(data: bytes) -> tuple[list[list[str | None]], str] | None:
    """The six columns and the generation time when the document is in the shape ANS publishes.

    Called on a document :func:`_check_xml` accepted (well-formed UTF-8 XML without a DTD); the
    entries are read with one regular expression. Every ``<`` of the list must belong to a matched
    entry, so a comment, a CDATA section, an attribute, a prefix or a foreign element gives None,
    and the document is read by the element tree instead: both ways accept and refuse the same
    documents.
    """
    try:
        text = data.decode("utf-8")
    except ValueError:
        return None
    head = _PUBLISHED_HEAD.match(text)
    end = text.rfind("</ListeDomaines>")
    if head is None or end < head.end() or not _PUBLISHED_TAIL.fullmatch(text, end) or "\r" in text:
        return None
    body = text[head.end() : end]
    rows = _PUBLISHED_ENTRY.findall(body)
    if body.count("<") != _TAGS_PER_ENTRY * len(rows):
        return None
    columns: list[list[str | None]] = [list(column) for column in zip(*rows, strict=True)] if rows else [[]] * 6
    if "&" in body:  # character and entity references, which expat has checked
        columns = [[html.unescape(text) for text in column] if "&" in "".join(column) else column  # type: ignore[arg-type]
                   for column in columns]  # fmt: skip
    return columns, html.unescape(head.group(1))


def _columns(domains: ElementTree.Element, source: str) -> list[list[str | None]]:
    """The six field texts of the ``Domaine`` entries (None for an empty element), as six columns in document order.

    A missing field or a foreign element refuses the list.
    """
    elements = list(domains)
    size = len(_FIELD_TAGS)
    tags = [child.tag for element in elements for child in element]
    if len(tags) == size * len(elements) and tags == list(_FIELD_TAGS) * len(elements):
        # The usual case: every entry has its six fields in the published order.
        texts = [child.text for element in elements for child in element]
        return [texts[column::size] for column in range(size)]
    rows = []
    for index, element in enumerate(elements):
        if element.tag != f"{_NS}Domaine":
            raise _refuse(
                _codes.NOT_AN_ALLOWLIST(f"ListeDomaines holds {element.tag!r}", where="ListeDomaines"), source
            )
        texts_by_tag = {child.tag: child.text for child in element}
        for field, tag in zip(_FIELDS, _FIELD_TAGS, strict=True):
            if tag not in texts_by_tag:
                where = f"Domaine[{index}].{field}"
                raise _refuse(_codes.MISSING_FIELD(f"Domaine[{index}] has no {field}", where=where), source)
        rows.append([texts_by_tag[tag] for tag in _FIELD_TAGS])
    return [list(column) for column in zip(*rows, strict=True)] if rows else [[] for _ in _FIELD_TAGS]


def _stripped(texts: list[str | None]) -> list[str]:
    return [(text or "").strip() for text in texts]


def _domains(names: list[str], findings: list[Finding]) -> dict[str, str | None]:
    """Each distinct name as :func:`normalise_domain` gives it, or None (and a finding) when it is not a domain."""
    distinct = list(dict.fromkeys(names))
    plain = _PLAIN_DOMAIN.fullmatch
    # normalise_domain's own fast path, over the whole column: lower-case ASCII labels, dotted, not ending in digits.
    domain_of: dict[str, str | None] = {
        name: lowered
        for name, lowered in zip(distinct, [name.lower() for name in distinct], strict=True)
        if plain(lowered) and "." in lowered and not lowered.rpartition(".")[2].isdigit()
    }
    for name in distinct:
        if name in domain_of:
            continue
        try:
            domain_of[name] = normalise_domain(name)
        except InvalidAddress as error:
            domain_of[name] = None
            message = f"{name!r}: {error.report.errors[0].message}"
            findings.append(_codes.BAD_DOMAIN_ENTRY(message, where=f"Domaine[{names.index(name)}].Nom"))
    return domain_of


def _assemble(
    columns: list[list[str | None]],
    *,
    names: list[str],
    dn_texts: list[str],
    updates: list[str],
    domain_of: dict[str, str | None],
    dn_of: dict[str, OperatorDn | None],
    moment_of: dict[str, dt.datetime],
) -> tuple[Entry, ...]:
    descriptions, responsibles, supports = (_stripped(columns[column]) for column in (1, 3, 4))
    dns = list(map(dn_of.__getitem__, dn_texts))
    usable = [domain_of[name] is not None and dn is not None for name, dn in zip(names, dns, strict=True)]
    domains = [domain or name.lower() for name, domain in zip(names, map(domain_of.__getitem__, names), strict=True)]
    return tuple(map(Entry._make, zip(
        names, domains, descriptions, dns, dn_texts, responsibles, supports, map(moment_of.__getitem__, updates),
        usable, strict=True,
    )))  # fmt: skip


def _document(columns: list[list[str | None]], generated: str | None, source: str) -> ParsedDocument:
    """Names, DNs and dates worked out once each (the list repeats them), the duplicates and the domain index."""
    names, dn_texts, updates = (_stripped(columns[column]) for column in (0, 2, 5))
    for field, column in (("Nom", names), ("DNCertificatOperateur", dn_texts), ("DateMAJ", updates)):
        if not all(column):
            index = column.index("")
            where = f"Domaine[{index}].{field}"
            raise _refuse(_codes.MISSING_FIELD(f"Domaine[{index}] has an empty {field}", where=where), source)
    findings: list[Finding] = []
    domain_of = _domains(names, findings)
    dn_of: dict[str, OperatorDn | None] = {}
    for text in dict.fromkeys(dn_texts):
        try:
            dn_of[text] = OperatorDn.parse(text)
        except InvalidInput as error:  # noqa: PERF203 (raised only by a bad entry)
            dn_of[text] = None
            where = f"Domaine[{dn_texts.index(text)}].DNCertificatOperateur"
            findings.append(_codes.BAD_DN_ENTRY(error.report.errors[0].message, where=where))
    moment_of = {
        text: _moment(text) or _time(text, f"Domaine[{updates.index(text)}].DateMAJ", source)  # _time raises
        for text in dict.fromkeys(updates)
    }
    domain_key = {name: domain or name.lower() for name, domain in domain_of.items()}
    numbers: dict[object, int] = {}  # a number for each DN compared by value (an unreadable one by its text)
    dn_number = {
        text: numbers.setdefault(dn.key if dn is not None else text, len(numbers)) for text, dn in dn_of.items()
    }
    keys = list(zip(map(domain_key.__getitem__, names), map(dn_number.__getitem__, dn_texts), strict=True))
    if len(set(keys)) < len(keys):
        seen: set[tuple[str, int]] = set()
        for index, key in enumerate(keys):
            if key in seen:
                message = f"{names[index]} with {dn_texts[index]}"
                findings.append(_codes.DUPLICATE_ENTRY(message, where=f"Domaine[{index}]"))
            seen.add(key)
    operators: dict[str, list[OperatorDn]] = {}
    for domain, dn in zip(map(domain_of.__getitem__, names), map(dn_of.__getitem__, dn_texts), strict=True):
        if domain is not None and dn is not None:
            operators.setdefault(domain, []).append(dn)
    return ParsedDocument(
        generated=_time(generated, "DateDeGeneration", source),
        findings=tuple(findings),
        operators={domain: frozenset(dns) for domain, dns in operators.items()},  # the first of equal DNs is kept
        assemble=functools.partial(
            _assemble,
            columns,
            names=names,
            dn_texts=dn_texts,
            updates=updates,
            domain_of=domain_of,
            dn_of=dn_of,
            moment_of=moment_of,
        ),
    )


def parse_document(data: bytes, *, source: str = "") -> ParsedDocument:
    """Read the ANS allow-list XML; :class:`~mssante.errors.InvalidInput` unless it is a whole, well-formed list.

    UTF-8 (or US-ASCII) only; no DTD, entity or external reference is accepted; more than
    :data:`MAX_ALLOWLIST_BYTES` is not read. A truncated document, another root or namespace, a
    missing element or date is an error: never a partial list.
    """
    if not isinstance(data, bytes | bytearray):
        raise TypeError(f"the allow-list is read from bytes, not {type(data).__name__}")
    if len(data) > MAX_ALLOWLIST_BYTES:
        raise _refuse(_codes.TOO_LARGE(f"{len(data)} bytes; at most {MAX_ALLOWLIST_BYTES} are read"), source)
    data = bytes(data)
    _check_encoding(data, source)
    if not data.strip():
        raise _refuse(_codes.UNREADABLE("the document is empty"), source)
    _check_xml(data, source)
    published = _published(data)
    if published is not None:
        return _document(*published, source)
    root = _xml(data, source)
    if root.tag != f"{_NS}ListeBlancheMSSante":
        raise _refuse(_codes.NOT_AN_ALLOWLIST(f"the root element is {root.tag!r}"), source)
    generated = root.find(f"{_NS}DateDeGeneration")
    domains = root.find(f"{_NS}ListeDomaines")
    if generated is None or domains is None:
        missing = "DateDeGeneration" if generated is None else "ListeDomaines"
        raise _refuse(_codes.MISSING_FIELD(f"the document has no {missing}", where=missing), source)
    return _document(_columns(domains, source), generated.text, source)

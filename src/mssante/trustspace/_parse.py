"""Reading the ANS allow-list XML: untrusted, bounded, strict about structure."""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import operator
import re
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import NamedTuple, cast
from xml.etree import ElementTree

import attrs

from mssante import _xml
from mssante._files import FileTooLarge, read_regular
from mssante.addresses import PLAIN_DOMAIN, normalise_domain
from mssante.errors import InvalidAddress, InvalidInput
from mssante.report import Finding, Report
from mssante.trustspace import codes as _codes
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

# The shape ANS publishes, for the fast path: no attribute but the namespace, no comment, no empty-element tag.
# Read as bytes: UTF-8 never has the byte of "<" inside another character, and white space between tags is ASCII.
_PUBLISHED_HEAD = re.compile(
    rb'(?:<\?xml[^<>]*\?>)?\s*<ListeBlancheMSSante xmlns="https://listeblanche\.mssante\.fr/schema">\s*'
    rb"<DateDeGeneration>([^<]*)</DateDeGeneration>\s*<ListeDomaines>"
)
_PUBLISHED_TAIL = re.compile(rb"</ListeDomaines>\s*</ListeBlancheMSSante>\s*")
_PUBLISHED_ENTRY = re.compile(
    rb"<Domaine>\s*" + rb"\s*".join(f"<{field}>([^<]*)</{field}>".encode() for field in _FIELDS) + rb"\s*</Domaine>"
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


def _not_well_formed(error: _xml.UnreadableXml, data: bytes, source: str) -> InvalidInput:
    """The refusal of a document expat could not read: truncated when it ends too soon, else unreadable."""
    message = error.detail
    position = _WHERE.search(message)
    at_end = position is not None and message.startswith("no element found")
    if at_end or (position and int(position.group(1)) >= data.count(b"\n") and "unclosed token" in message):
        return _refuse(_codes.TRUNCATED(f"the document ends before </ListeBlancheMSSante> ({message})"), source)
    return _refuse(_codes.UNREADABLE(f"not well-formed XML: {message}"), source)


def _unreadable(error: _xml.UnreadableXml, data: bytes, source: str) -> InvalidInput:
    """The refusal, with its code, of what the XML route refused."""
    if error.reason == "forbidden":
        message = "a DTD, an entity or an external reference is not accepted (refused at the document type)"
        return _refuse(_codes.FORBIDDEN_XML(message), source)
    if error.reason == "too-large":
        return _refuse(_codes.TOO_LARGE(str(error)), source)
    if error.reason == "encoding":
        return _refuse(_codes.NOT_UTF8(str(error)), source)
    return _not_well_formed(error, data, source)


def _check_encoding(data: bytes, source: str) -> None:
    """Refuse a document that is not UTF-8 (or US-ASCII) from its first bytes, before any parser reads it."""
    try:
        _xml.require_utf8(data, what="the list")
    except _xml.UnreadableXml as error:
        if error.reason == "malformed":
            raise _refuse(_codes.UNREADABLE(str(error)), source) from None
        raise _unreadable(error, data, source) from None


def _check_xml(data: bytes, source: str) -> None:
    """Parse the whole document once with the guarded parser, building nothing (:func:`mssante._xml.check_well_formed`).

    This is the one decision on the DTD, whatever its place or spelling: the guard refuses at the
    ``<!DOCTYPE`` itself, before any entity is declared or expanded, and any document that is not
    well-formed is refused here too. A document that passes has no DTD, so the element tree (or the
    fast path) reads it afterwards with nothing to expand.
    """
    try:
        _xml.check_well_formed(data, encoding="utf-8", fast=True)
    except _xml.UnreadableXml as error:
        raise _unreadable(error, data, source) from None


def _xml_tree(data: bytes, source: str) -> ElementTree.Element:
    """The element tree (the C parser of the standard library) of a document :func:`_check_xml` accepted."""
    try:
        return _xml.parse_untrusted(data, limit=MAX_ALLOWLIST_BYTES, encoding="utf-8")
    except _xml.UnreadableXml as error:  # the same expat, told the same encoding: not expected
        raise _unreadable(error, data, source) from None


def _published(data: bytes) -> tuple[list[list[str | None]], str] | None:
    """The six columns and the generation time when the document is in the shape ANS publishes.

    Called on a document :func:`_check_xml` accepted (well-formed UTF-8 XML without a DTD); the
    entries are read with one regular expression. Every ``<`` of the list must belong to a matched
    entry, so a comment, a CDATA section, an attribute, a prefix or a foreign element gives None,
    and the document is read by the element tree instead: both ways accept and refuse the same
    documents.
    """
    head = _PUBLISHED_HEAD.match(data)
    end = data.rfind(b"</ListeDomaines>")
    if head is None or end < head.end() or not _PUBLISHED_TAIL.fullmatch(data, end) or b"\r" in data:
        return None
    body = data[head.end() : end]
    rows = _PUBLISHED_ENTRY.findall(body)
    if body.count(b"<") != _TAGS_PER_ENTRY * len(rows):
        return None
    try:  # each column decoded at once: a NUL cannot stand in a well-formed document
        texts = [b"\0".join(column).decode("utf-8") for column in zip(*rows, strict=True)]
        generated = head.group(1).decode("utf-8")
    except ValueError:
        return None
    if b"&" in body:  # character and entity references, which the parser has checked: each column at once
        texts = [_unescape(text) for text in texts]
    columns = cast("list[list[str | None]]", [text.split("\0") for text in texts] if rows else [[] for _ in _FIELDS])
    return columns, _unescape(generated)


_REFERENCE = re.compile(r"&(?:#([0-9]+)|#x([0-9a-fA-F]+)|(amp|lt|gt|quot|apos));")
_PREDEFINED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}


def _reference(match: re.Match[str]) -> str:
    decimal, hexadecimal, name = match.groups()
    return _PREDEFINED[name] if name else chr(int(decimal, 10) if decimal else int(hexadecimal, 16))


def _unescape(text: str) -> str:
    """The text of XML character data whose references the parser has checked (XML 1.0 4.1 and 4.6)."""
    return _REFERENCE.sub(_reference, text) if "&" in text else text


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
    plain = PLAIN_DOMAIN.fullmatch
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
    count = len(keys)
    first_of = dict(zip(reversed(keys), range(count - 1, -1, -1), strict=True))  # each key's first entry
    if len(first_of) < count:  # the entries that repeat an earlier one, in document order
        for index in itertools.compress(range(count), map(operator.ne, map(first_of.__getitem__, keys), range(count))):
            message = f"{names[index]} with {dn_texts[index]}"
            findings.append(_codes.DUPLICATE_ENTRY(message, where=f"Domaine[{index}]"))
    texts_of: dict[str, dict[str, None]] = {}  # the DN texts of each usable domain, in document order
    for domain, text in zip(map(domain_of.__getitem__, names), dn_texts, strict=True):
        if domain is not None and dn_of[text] is not None:
            texts_of.setdefault(domain, {})[text] = None
    sets: dict[tuple[str, ...], frozenset[OperatorDn]] = {}  # most domains share their set with others
    operators: dict[str, frozenset[OperatorDn]] = {}
    for domain, texts in texts_of.items():
        key = tuple(texts)
        found = sets.get(key)
        if found is None:  # the first of equal DNs is kept
            found = sets[key] = frozenset(map(dn_of.__getitem__, key))  # type: ignore[arg-type]
        operators[domain] = found
    return ParsedDocument(
        generated=_time(generated, "DateDeGeneration", source),
        findings=tuple(findings),
        operators=operators,
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
    return _document(*_read(data, source), source)


def _read(data: bytes, source: str) -> tuple[list[list[str | None]], str | None]:
    """The six columns and the generation time: the published shape by one regular expression, anything else
    by the element tree, once the whole document is checked."""
    _check_xml(data, source)
    published = _published(data)
    if published is not None:
        return published
    root = _xml_tree(data, source)
    if root.tag != f"{_NS}ListeBlancheMSSante":
        raise _refuse(_codes.NOT_AN_ALLOWLIST(f"the root element is {root.tag!r}"), source)
    generated = root.find(f"{_NS}DateDeGeneration")
    domains = root.find(f"{_NS}ListeDomaines")
    if generated is None or domains is None:
        missing = "DateDeGeneration" if generated is None else "ListeDomaines"
        raise _refuse(_codes.MISSING_FIELD(f"the document has no {missing}", where=missing), source)
    return _columns(domains, source), generated.text

"""The search plans of the directory index: which SQL answers a search by name, place, profession and type.

With the full-text tables of format 2, a search with a city narrows by one full-text query before any row is read
(:func:`_search_narrowed`); the other plans (and those of format 1, and of an index without FTS5) query the
criteria one clause each. Every plan gives the same mailboxes in the same order.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeAlias

from mssante.addresses import MailboxType, check
from mssante.directory._index_schema import _COLUMNS, _FROM, _mailbox, _profession_token, _words
from mssante.directory._models import DirectoryMailbox

__all__ = ["ByKey", "Rows", "address_key", "lookup_by_shape", "search"]

Rows: TypeAlias = Callable[[str, Sequence[object]], list[Any]]
"""Run one query on the index: SQL and its bound values, the rows."""

_MAX_LIMIT = 10_000
_RPPS = re.compile(r"[0-9]{11}", re.ASCII)
_FROM_NAMES = "mailbox_fts JOIN mailbox AS m ON m.id = mailbox_fts.rowid LEFT JOIN structure AS s ON s.id = m.structure"
# The mailboxes of the structures a full-text query finds, structure by structure (each in file order).
_FROM_STRUCTURES = (
    "structure_fts JOIN mailbox AS m ON m.structure = structure_fts.rowid "
    "LEFT JOIN structure AS s ON s.id = m.structure"
)
_STRUCTURE_BY_POSTCODE = "SELECT id FROM structure WHERE postcode >= ? AND postcode < ? AND postcode <> ''"
_MAX = "\U0010ffff"  # above every character: "75" <= postcode < "75" + _MAX is the prefix "75"


class ByKey(Protocol):
    """An index's lookups by key (:class:`~mssante.directory.DirectoryIndex`, its PostgreSQL twin)."""

    def by_address(self, address: str) -> tuple[DirectoryMailbox, ...]: ...

    def by_rpps(self, rpps: str) -> tuple[DirectoryMailbox, ...]: ...

    def by_idnps(self, idnps: str) -> tuple[DirectoryMailbox, ...]: ...

    def by_structure(self, identifier: str, *, limit: int | None = None) -> tuple[DirectoryMailbox, ...]: ...


def address_key(address: str) -> str:
    """The address to look up: without ``mailto:``, in its checked form when it is one."""
    text = address.strip().removeprefix("mailto:")
    verdict = check(text) if text else None
    if verdict is not None and verdict.address is not None:
        text = str(verdict.address)
    return text


def lookup_by_shape(index: ByKey, text: str) -> tuple[DirectoryMailbox, ...]:
    """:meth:`DirectoryIndex.lookup <mssante.directory.DirectoryIndex.lookup>` on ``index``: an address, an RPPS
    (11 digits), else an IDNPS, then a structure identifier."""
    key = text.strip()
    if "@" in key:
        return index.by_address(key)
    if _RPPS.fullmatch(key):
        return index.by_rpps(key)
    return index.by_idnps(key) or index.by_structure(key)


def _terms(words: Sequence[str]) -> list[str]:
    """The words cut where SQLite's tokenizer may cut them, so that each is one FTS5 term (with ``detail=none``
    a word of two tokens is a phrase query, which FTS5 refuses). unicode61 knows the Unicode 6.1 letters and
    digits: a character that is one for Python but was not in Unicode 3.2 (the oldest tables Python has),
    such as U+19B0, separates."""
    terms: list[str] = []
    for word in words:
        piece = ""
        for char in word:
            if char.isascii() or unicodedata.ucd_3_2_0.category(char)[0] in "LN":
                piece += char
            elif piece:
                terms.append(piece)
                piece = ""
        if piece:
            terms.append(piece)
    return terms


def _match(words: Sequence[str]) -> str:
    """An FTS5 query for every word by prefix; words are letters and digits only, so quoting them is safe."""
    return " AND ".join(f'"{word}"*' for word in words)


def _professions_match(codes: Sequence[str]) -> str:
    return "profession : (" + " OR ".join(f'"{_profession_token(code)}"' for code in codes) + ")"


def _person_words(words: Sequence[str]) -> tuple[str, Sequence[object]]:
    """The clause on a person's names and service, every word by prefix, when there is no full-text index."""
    folded = "(' ' || mss_fold(m.given || ' ' || m.family || ' ' || m.service))"
    return " AND ".join(f"{folded} LIKE ?" for _ in words), [f"% {word}%" for word in words]


def _structure_words(column: str, words: Sequence[str], *, full_text: bool) -> tuple[str, Sequence[object]]:
    """The clause on the structure's ``name`` or ``city`` (a constant of this module): every word, by prefix."""
    if full_text:
        query = "SELECT rowid FROM structure_fts WHERE structure_fts MATCH ?"
        return f"m.structure IN ({query})", (f"{column} : ({_match(words)})",)
    folded = f"(' ' || mss_fold({column}))"
    query = "SELECT id FROM structure WHERE " + " AND ".join(f"{folded} LIKE ?" for _ in words)  # noqa: S608
    return f"m.structure IN ({query})", [f"% {word}%" for word in words]


def search(
    rows: Rows,
    layout: Callable[[], tuple[bool, bool]],
    *,
    name: str | None = None,
    city: str | None = None,
    postcode: str | None = None,
    profession: str | None = None,
    type: MailboxType | str | None = None,
    limit: int = 50,
) -> tuple[DirectoryMailbox, ...]:
    """:meth:`DirectoryIndex.search <mssante.directory.DirectoryIndex.search>`, planned
    for the index's ``layout``.

    ``rows`` runs a query on the index; ``layout`` opens it and says whether it has full-text tables and whether
    they have the columns of the current format (it is called only once the criteria have words).
    """
    limit = min(max(int(limit), 0), _MAX_LIMIT)
    names, cities = _words(name or ""), _words(city or "")
    if (name is not None and not names) or (city is not None and not cities) or not limit:
        return ()
    full_text, columns = layout()  # which tables to query depends on the index
    if full_text:
        names, cities = _terms(names), _terms(cities)
        if (name is not None and not names) or (city is not None and not cities):
            return ()
    codes = None if profession is None else _profession_codes(rows, profession)
    if codes is not None and not codes:
        return ()
    kind = None
    if type is not None:
        kind = type.value if isinstance(type, MailboxType) else str(type).strip().upper()
    if full_text and columns and cities and (names or codes):
        return _search_narrowed(rows, names, cities, postcode, codes, kind, limit)
    clauses: list[tuple[str, Sequence[object]]] = []
    if cities:
        clauses.append(_structure_words("city", cities, full_text=full_text))
    if postcode is not None:
        clauses.append((f"m.structure IN ({_STRUCTURE_BY_POSTCODE})", (postcode.strip(), postcode.strip() + _MAX)))
    if codes is not None:
        clauses.append((f"m.profession_code IN ({', '.join('?' * len(codes))}) AND m.profession_code <> ''", codes))
    if kind is not None:
        clauses.append(("m.type = ?", (kind,)))
    if not names:
        return tuple(mailbox for _, mailbox in _select(rows, clauses, limit)) if clauses else ()
    if full_text:
        people = f"name : ({_match(names)})"
        found = _select(rows, [("mailbox_fts MATCH ?", (people,)), *clauses], limit, source=_FROM_NAMES)
    else:
        found = _select(rows, [_person_words(names), *clauses], limit)
    if len(found) < limit:
        seen = {mailbox_id for mailbox_id, _ in found}
        more = _select(rows, [_structure_words("name", names, full_text=full_text), *clauses], limit)
        found += [item for item in more if item[0] not in seen][: limit - len(found)]
    return tuple(mailbox for _, mailbox in found)


def _search_narrowed(  # noqa: PLR0917 (the criteria of search, checked)
    rows: Rows,
    names: Sequence[str],
    cities: Sequence[str],
    postcode: str | None,
    codes: Sequence[str] | None,
    kind: str | None,
    limit: int,
) -> tuple[DirectoryMailbox, ...]:
    """A search whose full-text query narrows to a few rows first, filtered then by the other criteria.

    It gives what the plans of :func:`search` give, in the same order: people matching by name in file
    order, then the mailboxes of structures matching by name, by profession code then in file order
    when a profession is given, else structure by structure; without a name, by profession code, then
    in file order. Only for a search with a city (a full-text query on the structures' cities).
    """
    filters: list[tuple[str, Sequence[object]]] = []
    if postcode is not None:  # on the row's own structure: no index to prefer over the full-text query
        filters.append(
            ("s.postcode >= ? AND s.postcode < ? AND s.postcode <> ''", (postcode.strip(), postcode.strip() + _MAX))
        )
    if kind is not None:
        filters.append(("m.type = ?", (kind,)))
    place = [f"city : ({_match(cities)})"] if cities else []
    if not names:  # a city and professions: one query per code, in the order of the codes
        found: list[tuple[int, DirectoryMailbox]] = []
        for code in codes or ():
            query = " AND ".join([*place, _professions_match([code])])
            found += _select(
                rows, [("mailbox_fts MATCH ?", (query,)), *filters], limit - len(found), source=_FROM_NAMES
            )
            if len(found) >= limit:
                break
        return tuple(mailbox for _, mailbox in found)
    people = " AND ".join([f"name : ({_match(names)})", *place, *([_professions_match(codes)] if codes else [])])
    found = _select(rows, [("mailbox_fts MATCH ?", (people,)), *filters], limit, source=_FROM_NAMES)
    if len(found) < limit:
        seen = {mailbox_id for mailbox_id, _ in found}
        structures = " AND ".join([f"name : ({_match(names)})", *place])
        clauses = [("structure_fts MATCH ?", (structures,)), *filters]
        if codes:
            clauses.append((f"m.profession_code IN ({', '.join('?' * len(codes))}) AND m.profession_code <> ''", codes))
        order = "m.profession_code, m.id" if codes else ""
        more = _select(rows, clauses, limit, source=_FROM_STRUCTURES, order=order)
        found += [item for item in more if item[0] not in seen][: limit - len(found)]
    return tuple(mailbox for _, mailbox in found)


def _select(
    rows: Rows,
    clauses: Sequence[tuple[str, Sequence[object]]],
    limit: int,
    *,
    source: str = _FROM,
    order: str = "",
) -> list[tuple[int, DirectoryMailbox]]:
    """Mailbox ids and values matching every clause (constant SQL of this module; values bound)."""
    where = " AND ".join(clause for clause, _ in clauses)
    parameters = [value for _, values in clauses for value in values]
    ordering = f" ORDER BY {order}" if order else ""
    sql = f"SELECT m.id, {_COLUMNS} FROM {source} WHERE {where}{ordering} LIMIT ?"  # noqa: S608 (constants)
    return [(row[0], _mailbox(row[1:])) for row in rows(sql, [*parameters, limit])]


def _profession_codes(rows: Rows, profession: str) -> list[str]:
    """The profession codes a criterion names: a code as given, or every label starting with its words."""
    text = profession.strip()
    if text.isascii() and text.isalnum() and any(char.isdigit() for char in text):
        return [text]
    words = _words(text)
    if not words:
        return []
    codes = set()
    for code, label in rows("SELECT code, label FROM profession", ()):
        folded = _words(label)
        if len(folded) >= len(words) and all(have.startswith(want) for have, want in zip(folded, words, strict=False)):
            codes.add(code)
    return sorted(codes)

"""The offline index of the national directory in PostgreSQL: one import, read by the processes of several nodes.

:class:`PostgresDirectoryIndex` answers the lookups and searches of :class:`~mssante.directory.DirectoryIndex` from
tables of one PostgreSQL schema (``mssante_directory`` by default). An import reads the extraction with the same
:class:`~mssante.directory.ExtractionReader`, copies its rows (``COPY``, in batches: memory stays bounded) into a new
schema, builds the indexes, then, in the same transaction, drops the old schema and renames the new one in its place:
a reader sees the old import or the new one, never half, and a failed import leaves the old one. Imports run one at
a time (an advisory lock).

Searching uses PostgreSQL's full-text search: each person's names and service, and each structure's name and city,
are folded as the SQLite index folds them (lower case, no accents, words of letters and digits) and indexed as
``tsvector`` of the ``simple`` configuration (GIN); every word of a query matches a word by prefix (``hel:*``).
"""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timezone
from typing import Any

import attrs
import psycopg
from psycopg import sql

from mssante._postgres import Connection, Pool, PooledStore, translated
from mssante.addresses import MailboxType
from mssante.directory._extraction import ExtractionReader, ExtractionSource
from mssante.directory._index_import import ImportResult
from mssante.directory._index_schema import _COLUMNS, _FROM, _SELECT, _fold, _mailbox, _words
from mssante.directory._index_search import _profession_codes, address_key, lookup_by_shape
from mssante.directory._models import DirectoryMailbox
from mssante.errors import DirectoryError

__all__ = ["DEFAULT_SCHEMA", "PostgresDirectoryIndex"]

DEFAULT_SCHEMA = "mssante_directory"
"""The PostgreSQL schema holding the index's tables."""

_FORMAT = "pg1"
_BATCH = 20_000
_MAX_LIMIT = 10_000
_SCHEMA_NAME = re.compile(r"[a-z_][a-z0-9_]{0,39}", re.ASCII)
_HINT = "run `mssante directory import FILE` with this database to build it"
_LOCK = "mssante.directory:"

_TABLES = """
CREATE TABLE meta (key text NOT NULL, value text NOT NULL);
CREATE TABLE structure (
    id integer NOT NULL,
    identifier_type text NOT NULL,
    identifier text NOT NULL,
    name text NOT NULL,
    address_lines text NOT NULL,
    postcode text NOT NULL,
    city text NOT NULL,
    department text NOT NULL,
    name_words text NOT NULL,
    city_words text NOT NULL
);
CREATE TABLE mailbox (
    id integer NOT NULL,
    address text NOT NULL,
    type text NOT NULL,
    rpps text,
    idnps text,
    civility text NOT NULL,
    family text NOT NULL,
    given text NOT NULL,
    profession_code text NOT NULL,
    profession text NOT NULL,
    specialty_code text NOT NULL,
    specialty text NOT NULL,
    digitization boolean,
    service text NOT NULL,
    structure integer,
    person_words text NOT NULL
);
CREATE TABLE profession (code text NOT NULL, label text NOT NULL);
"""
# Built once the rows are in: faster than keeping them up to date row by row.
_INDEXES = """
ALTER TABLE meta ADD PRIMARY KEY (key);
ALTER TABLE structure ADD PRIMARY KEY (id);
ALTER TABLE mailbox ADD PRIMARY KEY (id);
CREATE INDEX mailbox_address ON mailbox (lower(address));
CREATE INDEX mailbox_rpps ON mailbox (rpps) WHERE rpps IS NOT NULL;
CREATE INDEX mailbox_idnps ON mailbox (idnps) WHERE idnps IS NOT NULL;
CREATE INDEX mailbox_structure ON mailbox (structure) WHERE structure IS NOT NULL;
CREATE INDEX mailbox_profession ON mailbox (profession_code) WHERE profession_code <> '';
CREATE INDEX mailbox_words ON mailbox USING gin (to_tsvector('simple', person_words));
CREATE INDEX structure_identifier ON structure (identifier) WHERE identifier <> '';
CREATE INDEX structure_name_words ON structure USING gin (to_tsvector('simple', name_words));
CREATE INDEX structure_city_words ON structure USING gin (to_tsvector('simple', city_words));
INSERT INTO profession (code, label)
    SELECT DISTINCT ON (profession_code) profession_code, profession FROM mailbox
    WHERE profession_code <> '' ORDER BY profession_code, id;
ANALYZE meta;
ANALYZE structure;
ANALYZE mailbox;
ANALYZE profession;
"""
_MAILBOX_COPY = (
    "COPY mailbox (id, address, type, rpps, idnps, civility, family, given, profession_code, profession, "
    "specialty_code, specialty, digitization, service, structure, person_words) FROM STDIN"
)
_STRUCTURE_COPY = (
    "COPY structure (id, identifier_type, identifier, name, address_lines, postcode, city, department, name_words, "
    "city_words) FROM STDIN"
)
_PERSON_WORDS = "to_tsvector('simple', m.person_words) @@ to_tsquery('simple', %s)"
_STRUCTURE_WORDS = (
    "m.structure IN (SELECT id FROM structure WHERE to_tsvector('simple', {}) @@ to_tsquery('simple', %s))"
)
_STRUCTURE_BY_ID = "SELECT id FROM structure WHERE identifier = %s AND identifier <> ''"
_ONLY_IN = "SELECT count(*) FROM (SELECT lower(address) FROM {} EXCEPT SELECT lower(address) FROM {}) AS difference"


def _text(value: object) -> object:
    """A value as PostgreSQL can hold it: text without NUL characters (replaced by U+FFFD)."""
    return value.replace("\x00", "\ufffd") if isinstance(value, str) else value


def _query(words: Sequence[str]) -> str:
    """A ``tsquery`` for every word by prefix; words are letters and digits only, so they need no quoting."""
    return " & ".join(f"{word}:*" for word in words)


@attrs.frozen(kw_only=True)
class _Search:
    clauses: list[tuple[str, Sequence[object]]]
    names: list[str]


class PostgresDirectoryIndex(PooledStore):
    """The offline index of the MSSanté extraction in PostgreSQL, shared by several nodes.

    ``source`` is a conninfo (the index opens a pool of ``min_size`` to ``max_size`` connections, closed by
    :meth:`close`) or a :class:`psycopg_pool.ConnectionPool` the caller owns; ``schema`` the PostgreSQL schema of its
    tables (``[a-z_][a-z0-9_]*``), replaced whole by each import. The query methods are those of
    :class:`~mssante.directory.DirectoryIndex` and give the same mailboxes; a query when nothing was imported raises
    :class:`~mssante.errors.DirectoryError`, and one the database cannot answer (unreachable, too slow)
    :class:`~mssante.errors.StoreUnavailable`.

        with PostgresDirectoryIndex("host=db1 dbname=mssante user=directory") as index:
            index.import_extraction("Extraction_Correspondance_MSSante_202608261013.zip")  # on one node, daily
            index.search(name="dupont", city="paris")                                     # on every node
    """

    def __init__(
        self,
        source: str | Pool,
        *,
        schema: str = DEFAULT_SCHEMA,
        min_size: int = 1,
        max_size: int = 4,
        connect_timeout: float = 10.0,
        statement_timeout: float = 30.0,
    ) -> None:
        if not _SCHEMA_NAME.fullmatch(schema):
            raise ValueError(f"schema must be a lower-case SQL name of at most 40 characters, not {schema!r}")
        self.schema = schema
        super().__init__(
            source,
            name="directory",
            min_size=min_size,
            max_size=max_size,
            connect_timeout=connect_timeout,
            statement_timeout=statement_timeout,
        )
        self._statement_timeout = statement_timeout

    # -- queries ----------------------------------------------------------------------------------------------------

    def _rows(self, query: str, parameters: Sequence[object]) -> list[Any]:
        """The rows of one query (constant SQL of this package, values bound) on the current import."""
        with translated("reading the directory index", self._where):
            try:
                with self._pool.connection() as connection, connection.transaction():
                    connection.execute(sql.SQL("SET LOCAL search_path TO {}").format(sql.Identifier(self.schema)))
                    return connection.execute(query.encode(), parameters).fetchall()
            except psycopg.errors.UndefinedTable:
                raise DirectoryError(
                    f"there is no directory index in schema {self.schema!r} of {self._where}: {_HINT}"
                ) from None

    def _mailboxes(self, query: str, parameters: Sequence[object]) -> tuple[DirectoryMailbox, ...]:
        return tuple(_mailbox(row) for row in self._rows(query, parameters))

    def imported(self) -> dict[str, str]:
        """What the current import holds: ``source``, ``imported_at``, ``rows``, ``mailboxes``, ``skipped``."""
        meta = dict(self._rows("SELECT key, value FROM meta", ()))
        if meta.get("format") != _FORMAT:
            raise DirectoryError(f"schema {self.schema!r} of {self._where} was made by another version: {_HINT}")
        return {key: value for key, value in meta.items() if key != "format"}

    def by_address(self, address: str) -> tuple[DirectoryMailbox, ...]:
        """The lines of an address (case-insensitive)."""
        text = address_key(address)
        return self._mailboxes(f"{_SELECT} WHERE lower(m.address) = lower(%s) ORDER BY m.id", (_text(text),))

    def by_rpps(self, rpps: str) -> tuple[DirectoryMailbox, ...]:
        """The mailboxes of the professional with this RPPS number."""
        return self._mailboxes(f"{_SELECT} WHERE m.rpps = %s ORDER BY m.id", (_text(rpps.strip()),))

    def by_idnps(self, idnps: str) -> tuple[DirectoryMailbox, ...]:
        """The mailboxes of the professional with this national identifier (IdNat_PS)."""
        return self._mailboxes(f"{_SELECT} WHERE m.idnps = %s ORDER BY m.id", (_text(idnps.strip()),))

    def by_structure(self, identifier: str, *, limit: int | None = None) -> tuple[DirectoryMailbox, ...]:
        """The mailboxes attached to a structure, by its identifier as the extraction gives it (FINESS...)."""
        bound = None if limit is None else max(0, limit)
        query = f"{_SELECT} WHERE m.structure IN ({_STRUCTURE_BY_ID}) ORDER BY m.id LIMIT %s"
        return self._mailboxes(query, (_text(identifier.strip()), bound))

    def lookup(self, text: str) -> tuple[DirectoryMailbox, ...]:
        """The mailboxes of an address, an RPPS (11 digits) or an IDNPS, told apart by their shape (then a
        structure identifier)."""
        return lookup_by_shape(self, text)

    def search(
        self,
        *,
        name: str | None = None,
        city: str | None = None,
        postcode: str | None = None,
        profession: str | None = None,
        type: MailboxType | str | None = None,
        limit: int = 50,
    ) -> tuple[DirectoryMailbox, ...]:
        """Mailboxes matching every criterion given, at most ``limit``: see
        :meth:`DirectoryIndex.search <mssante.directory.DirectoryIndex.search>`. People matching by name come
        first, then the mailboxes of structures whose name matches, each in file order."""
        limit = min(max(int(limit), 0), _MAX_LIMIT)
        planned = self._plan(name=name, city=city, postcode=postcode, profession=profession, type=type)
        if planned is None or not limit:
            return ()
        clauses, names = planned.clauses, planned.names
        if not names:
            return tuple(mailbox for _, mailbox in self._select(clauses, limit)) if clauses else ()
        found = self._select([(_PERSON_WORDS, (_query(names),)), *clauses], limit)
        if len(found) < limit:
            seen = {mailbox_id for mailbox_id, _ in found}
            by_structure = (_STRUCTURE_WORDS.format("name_words"), (_query(names),))
            more = self._select([by_structure, *clauses], limit)
            found += [item for item in more if item[0] not in seen][: limit - len(found)]
        return tuple(mailbox for _, mailbox in found)

    def _plan(
        self,
        *,
        name: str | None,
        city: str | None,
        postcode: str | None,
        profession: str | None,
        type: MailboxType | str | None,
    ) -> _Search | None:
        """The clauses of a search, or None when it can find nothing."""
        names, cities = _words(name or ""), _words(city or "")
        if (name is not None and not names) or (city is not None and not cities):
            return None
        codes = None if profession is None else _profession_codes(self._rows, profession)
        if codes is not None and not codes:
            return None
        clauses: list[tuple[str, Sequence[object]]] = []
        if cities:
            clauses.append((_STRUCTURE_WORDS.format("city_words"), (_query(cities),)))
        if postcode is not None:
            prefix = postcode.strip()
            if "\x00" in prefix:  # no postcode holds one
                return None
            clauses.append(
                (
                    "m.structure IN (SELECT id FROM structure WHERE starts_with(postcode, %s) AND postcode <> '')",
                    (prefix,),
                )
            )
        if codes is not None:
            clauses.append(
                (f"m.profession_code IN ({', '.join(['%s'] * len(codes))}) AND m.profession_code <> ''", codes)
            )
        if type is not None:
            kind = type.value if isinstance(type, MailboxType) else str(type).strip().upper()
            if "\x00" in kind:
                return None
            clauses.append(("m.type = %s", (kind,)))
        return _Search(clauses=clauses, names=names)

    def _select(
        self, clauses: Sequence[tuple[str, Sequence[object]]], limit: int
    ) -> list[tuple[int, DirectoryMailbox]]:
        where = " AND ".join(clause for clause, _ in clauses)
        parameters = [value for _, values in clauses for value in values]
        query = f"SELECT m.id, {_COLUMNS} FROM {_FROM} WHERE {where} ORDER BY m.id LIMIT %s"  # noqa: S608 (constants)
        return [(row[0], _mailbox(row[1:])) for row in self._rows(query, [*parameters, limit])]

    # -- import -----------------------------------------------------------------------------------------------------

    def import_extraction(
        self,
        source: ExtractionSource,
        *,
        progress: Callable[[int], None] | None = None,
        at: datetime | None = None,
    ) -> ImportResult:
        """Replace the index's content with an extraction file (path, bytes, stream or chunks; TXT or ZIP).

        One transaction: the rows go into a new schema, which replaces the old one at the commit; readers see the
        old data or the new, never a mix, and on any failure the old data stays. ``progress`` is called with the
        number of rows stored so far; ``at`` is the import time recorded (default: now). Raises
        :class:`~mssante.errors.InvalidInput` when the file is not the extraction and
        :class:`~mssante.errors.StoreUnavailable` when the database cannot be reached.
        """
        started = time.perf_counter()
        imported_at = at or datetime.now(timezone.utc)
        staging = f"{self.schema}_import"
        with (
            translated("importing the directory index", self._where),
            self._pool.connection() as connection,
            connection.transaction(),
        ):
            connection.execute("SET LOCAL statement_timeout = 0")  # an import takes the time it takes
            connection.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (_LOCK + self.schema,))
            connection.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(staging)))
            connection.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(staging)))
            connection.execute(sql.SQL("SET LOCAL search_path TO {}").format(sql.Identifier(staging)))
            connection.execute(_TABLES.encode())
            reader = ExtractionReader(source)
            rows = _copy(connection, reader, progress)
            connection.execute(_INDEXES.encode())
            result = self._replace(connection, staging, reader, rows, imported_at)
        return attrs.evolve(result, seconds=time.perf_counter() - started)

    def _replace(
        self, connection: Connection, staging: str, reader: ExtractionReader, rows: int, imported_at: datetime
    ) -> ImportResult:
        """Count the changes against the current import, record the meta, put the new schema in its place."""
        current, new = sql.Identifier(self.schema), sql.Identifier(staging)
        (mailboxes,) = connection.execute("SELECT count(DISTINCT lower(address)) FROM mailbox").fetchone() or (0,)
        exists = connection.execute("SELECT to_regclass(%s) IS NOT NULL", (f'"{self.schema}".mailbox',)).fetchone()
        added, removed = mailboxes, 0
        if exists and exists[0]:
            old_table, new_table = sql.SQL("{}.mailbox").format(current), sql.SQL("{}.mailbox").format(new)
            (added,) = connection.execute(sql.SQL(_ONLY_IN).format(new_table, old_table)).fetchone() or (0,)
            (removed,) = connection.execute(sql.SQL(_ONLY_IN).format(old_table, new_table)).fetchone() or (0,)
        meta = {
            "format": _FORMAT,
            "source": reader.name,
            "imported_at": imported_at.isoformat(),
            "rows": str(rows),
            "mailboxes": str(mailboxes),
            "skipped": str(reader.skipped),
        }
        with connection.cursor() as cursor:
            cursor.executemany("INSERT INTO meta (key, value) VALUES (%s, %s)", list(meta.items()))
        connection.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(current))
        connection.execute(sql.SQL("ALTER SCHEMA {} RENAME TO {}").format(new, current))
        return ImportResult(
            source=reader.name,
            rows=rows,
            mailboxes=int(mailboxes),
            added=int(added),
            removed=int(removed),
            skipped=reader.skipped,
            seconds=0.0,
            findings=reader.findings,
        )


def _copy(connection: Connection, reader: ExtractionReader, progress: Callable[[int], None] | None) -> int:
    """Copy the reader's rows and structures in batches (what is held stays bounded); how many rows."""
    structures: list[tuple[int, str, str, str, str, str, str, str]] = []
    records: Iterator[Any] = reader.numbered_records(structures)
    rows = 0
    with connection.cursor() as cursor:
        while True:
            batch = list(itertools.islice(records, _BATCH))
            if batch:
                with cursor.copy(_MAILBOX_COPY) as copy:
                    for number, record in enumerate(batch, start=rows + 1):
                        values = [_text(value) for value in record]
                        person = _fold(f"{values[6]} {values[5]} {values[12]}")
                        copy.write_row((number, *values, person))
            if structures:
                with cursor.copy(_STRUCTURE_COPY) as copy:
                    for structure in structures:
                        values = [_text(value) for value in structure]
                        copy.write_row((*values, _fold(str(values[3])), _fold(str(values[6]))))
                structures.clear()
            if not batch:
                return rows
            rows += len(batch)
            if progress is not None:
                progress(rows)

"""The SQLite schema of the directory index: its format versions, tables, indexes and full-text tables.

Format 2 (written) gives the people's full-text table the city of their structure and their profession, as one
token (:func:`_profession_token`); format 1 (still read) has their names only. The text folding (:func:`_fold`) is
the one the full-text tables' tokenizer applies, and the SQL function ``mss_fold`` of an index without FTS5.
"""

from __future__ import annotations

import re
import sqlite3
import unicodedata
from collections.abc import Sequence
from typing import Any

from mssante.directory._extraction import RECORD_FIELDS, STRUCTURE_FIELDS, mailbox_from_record
from mssante.directory._models import DirectoryMailbox

_FORMAT = "2"
_FORMATS = ("1", "2")  # what this version reads; format 1 has no city or profession in the people's full-text table

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE structure (
    id INTEGER PRIMARY KEY,
    identifier_type TEXT NOT NULL,
    identifier TEXT NOT NULL,
    name TEXT NOT NULL,
    address_lines TEXT NOT NULL,
    postcode TEXT NOT NULL,
    city TEXT NOT NULL,
    department TEXT NOT NULL
);
CREATE TABLE mailbox (
    id INTEGER PRIMARY KEY,
    address TEXT NOT NULL,
    type TEXT NOT NULL,
    rpps TEXT,
    idnps TEXT,
    civility TEXT NOT NULL,
    family TEXT NOT NULL,
    given TEXT NOT NULL,
    profession_code TEXT NOT NULL,
    profession TEXT NOT NULL,
    specialty_code TEXT NOT NULL,
    specialty TEXT NOT NULL,
    digitization INTEGER,
    service TEXT NOT NULL,
    structure INTEGER
);
CREATE TABLE profession (code TEXT NOT NULL, label TEXT NOT NULL);
"""
# Built once the rows are in: a sorted build is faster than keeping the indexes up to date row by row.
_INDEXES = (
    "CREATE INDEX mailbox_address ON mailbox (lower(address))",
    "CREATE INDEX mailbox_rpps ON mailbox (rpps) WHERE rpps IS NOT NULL",
    "CREATE INDEX mailbox_idnps ON mailbox (idnps) WHERE idnps IS NOT NULL",
    "CREATE INDEX mailbox_structure ON mailbox (structure) WHERE structure IS NOT NULL",
    "CREATE INDEX mailbox_profession ON mailbox (profession_code) WHERE profession_code <> ''",
    # One label per profession code, found by skipping from code to code along the index (a few dozen seeks).
    "INSERT INTO profession (code, label) "
    "WITH RECURSIVE code (value) AS ("
    " SELECT min(profession_code) FROM mailbox WHERE profession_code <> ''"
    " UNION ALL SELECT (SELECT min(profession_code) FROM mailbox WHERE profession_code > value"
    " AND profession_code <> '') FROM code WHERE value IS NOT NULL) "
    "SELECT value, (SELECT profession FROM mailbox WHERE profession_code = value AND profession_code <> '' LIMIT 1) "
    "FROM code WHERE value IS NOT NULL",
    "CREATE INDEX structure_identifier ON structure (identifier) WHERE identifier <> ''",
    "CREATE INDEX structure_postcode ON structure (postcode) WHERE postcode <> ''",
)
_FTS = (
    # The people's names, their structure's city and their profession (as one token, see _profession_token): a
    # search by name, city and profession is one full-text query, which narrows before any row is read.
    "CREATE VIRTUAL TABLE mailbox_fts USING fts5(name, city, profession, content='', columnsize=0, detail=column, "
    "prefix='1 2', tokenize='unicode61 remove_diacritics 2')",
    "CREATE VIRTUAL TABLE structure_fts USING fts5(name, city, content='', columnsize=0, detail=column, "
    "prefix='1 2', tokenize='unicode61 remove_diacritics 2')",
)
_FTS_FILL = (
    "INSERT INTO mailbox_fts (rowid, name, city, profession) "
    "SELECT m.id, m.given || ' ' || m.family || ' ' || m.service, s.city, "
    "CASE WHEN m.profession_code <> '' THEN 'p' || hex(m.profession_code) END "
    "FROM mailbox AS m LEFT JOIN structure AS s ON s.id = m.structure",
    "INSERT INTO structure_fts (rowid, name, city) SELECT id, name, city FROM structure",
)
_MAILBOX_COLUMNS = RECORD_FIELDS[:-1]
_COLUMNS = ", ".join(
    [*(f"m.{field}" for field in _MAILBOX_COLUMNS), "m.structure"] + [f"s.{field}" for field in STRUCTURE_FIELDS]
)
_FROM = "mailbox AS m LEFT JOIN structure AS s ON s.id = m.structure"
_SELECT = f"SELECT {_COLUMNS} FROM {_FROM}"  # noqa: S608 (constants)

_WORD = re.compile(r"[^\W_]+")
_COMBINING = re.compile(r"[\u0300-\u036f]")


def _fold(text: str) -> str:
    """Lower case, accents removed, every run of non-alphanumerics a space: ``Hélène-Marie`` -> ``helene marie``."""
    return " ".join(_WORD.findall(_COMBINING.sub("", unicodedata.normalize("NFKD", text)).casefold()))


def _words(text: str) -> list[str]:
    return _fold(text).split()


def _create_fts(connection: sqlite3.Connection) -> bool:
    """Create the full-text tables; False when this SQLite has no FTS5 (searches then scan with LIKE)."""
    try:
        for statement in _FTS:
            connection.execute(statement)
    except sqlite3.OperationalError:
        return False
    return True


def _fold_function(text: object) -> str | None:
    """``mss_fold(text)`` in SQL, for searches without a full-text index."""
    return _fold(text) if isinstance(text, str) else None


def _profession_token(code: str) -> str:
    """The one full-text token of a profession code, whatever its characters: ``10`` -> ``p3130`` (SQL: ``'p' ||
    hex(code)``, the hexadecimal of its UTF-8)."""
    return "p" + code.encode("utf-8", "surrogatepass").hex().upper()


def _mailbox(row: Sequence[Any]) -> DirectoryMailbox:
    """The mailbox of an index row: the mailbox columns, the structure's id, then the structure columns."""
    split = len(_MAILBOX_COLUMNS)
    structure = None if row[split] is None else row[split + 1 :]
    return mailbox_from_record((*row[:split], structure))

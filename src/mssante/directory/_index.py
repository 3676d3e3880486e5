"""The offline index of the national directory: the bulk MSSanté extraction in an embedded SQLite database.

:class:`DirectoryIndex` imports the extraction (see :class:`~mssante.directory.ExtractionReader`) into a
database file in the user's cache, then answers lookups (address, RPPS, IDNPS, structure) and searches
(name, city, postcode, profession, type) without network or key. An import builds a new database file
beside the old one and renames it over the old one only when it is complete, so that readers always see
one whole import, and a failed import leaves the previous data in place.

The new file is ``.<index name>.import-<pid>-<random>.tmp``, beside a ``.lock`` file of the same name that the
import holds locked (``flock``) while it runs. An import killed midway (or a power loss) leaves both behind:
the next import, or the next :meth:`DirectoryIndex.open`, removes those whose lock no process holds any more,
and never a running import's. The new file is synced before the rename and the directory after it, so that a
power loss leaves the old index or the new one, whole.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import secrets
import sqlite3
import stat
import sys
import threading
import time
import unicodedata
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path
from types import TracebackType
from typing import Any

import attrs

from mssante._files import cache_directory, file_kind, sync_directory
from mssante.addresses import MailboxType, check
from mssante.directory._extraction import (
    RECORD_FIELDS,
    STRUCTURE_FIELDS,
    ExtractionReader,
    ExtractionSource,
    mailbox_from_record,
)
from mssante.directory._models import DirectoryMailbox
from mssante.errors import DirectoryError
from mssante.report import Finding, Report

__all__ = ["DEFAULT_INDEX_NAME", "DirectoryIndex", "ImportResult", "IndexInfo"]

DEFAULT_INDEX_NAME = "mssante-directory.sqlite3"
"""The index's file name in the user's cache folder (``~/.cache/mssante/directory/``)."""

_FORMAT = "2"
_FORMATS = ("1", "2")  # what this version reads; format 1 has no city or profession in the people's full-text table
_BATCH = 20_000
_MAX_LIMIT = 10_000
_CACHE_KIB = 2 * 1024  # the build's page cache, and the sorter's memory per run: what an import holds is bounded
_HINT = "run `mssante directory import FILE` to build it"

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
# SQL is built from this module's constants only; every value is bound.
_INSERT_MAILBOX = "INSERT INTO mailbox ({}, structure) VALUES ({})".format(  # noqa: S608
    ", ".join(_MAILBOX_COLUMNS), ", ".join("?" * len(RECORD_FIELDS))
)
_INSERT_STRUCTURE = "INSERT INTO structure (id, {}) VALUES ({})".format(  # noqa: S608
    ", ".join(STRUCTURE_FIELDS), ", ".join("?" * (len(STRUCTURE_FIELDS) + 1))
)
_COLUMNS = ", ".join(
    [*(f"m.{field}" for field in _MAILBOX_COLUMNS), "m.structure"] + [f"s.{field}" for field in STRUCTURE_FIELDS]
)
_FROM = "mailbox AS m LEFT JOIN structure AS s ON s.id = m.structure"
_FROM_NAMES = "mailbox_fts JOIN mailbox AS m ON m.id = mailbox_fts.rowid LEFT JOIN structure AS s ON s.id = m.structure"
# The mailboxes of the structures a full-text query finds, structure by structure (each in file order).
_FROM_STRUCTURES = (
    "structure_fts JOIN mailbox AS m ON m.structure = structure_fts.rowid "
    "LEFT JOIN structure AS s ON s.id = m.structure"
)
_SELECT = f"SELECT {_COLUMNS} FROM {_FROM}"  # noqa: S608 (constants)
_DISTINCT = "SELECT count(*) FROM (SELECT DISTINCT lower(address) FROM {schema}.mailbox)"
# Both sides come sorted from their address index: SQLite merges them in one pass (ORDER BY makes it a merge).
_ONLY_IN = (
    "SELECT count(*) FROM (SELECT lower(address) FROM {this}.mailbox "
    "EXCEPT SELECT lower(address) FROM {other}.mailbox ORDER BY 1)"
)
_STRUCTURE_BY_ID = "SELECT id FROM structure WHERE identifier = ? AND identifier <> ''"
_STRUCTURE_BY_POSTCODE = "SELECT id FROM structure WHERE postcode >= ? AND postcode < ? AND postcode <> ''"
_MAX = "\U0010ffff"  # above every character: "75" <= postcode < "75" + _MAX is the prefix "75"
_BUILD_PRAGMAS = (
    "page_size = 8192",
    "journal_mode = OFF",
    "synchronous = OFF",
    "locking_mode = EXCLUSIVE",
    f"cache_size = -{_CACHE_KIB}",
)

# The files of an import in progress, beside the index: ".<index>.import-<pid>-<random>" + ".tmp" (the new
# database) and + ".lock" (held locked by the import while it runs).
_IMPORT_MARK = ".import-"
_DATABASE_SUFFIX, _LOCK_SUFFIX = ".tmp", ".lock"
_COMPANIONS = ("", "-journal", "-wal", "-shm")
_STALE_SECONDS = 3600  # a leftover no lock can vouch for (earlier versions' ".<index>.XXXXXXXX.tmp") is this old
_LEGACY_TEMPORARY = re.compile(r"[a-z0-9_]{8}\.tmp", re.ASCII)  # what tempfile.mkstemp named them
_NEW_FILE_FLAGS = os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
_LOCK_FLAGS = os.O_RDWR | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)

_WORD = re.compile(r"[^\W_]+")
_RPPS = re.compile(r"[0-9]{11}", re.ASCII)
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


def _profession_token(code: str) -> str:
    """The one full-text token of a profession code, whatever its characters: ``10`` -> ``p3130`` (SQL: ``'p' ||
    hex(code)``, the hexadecimal of its UTF-8)."""
    return "p" + code.encode("utf-8", "surrogatepass").hex().upper()


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


def _mailbox(row: Sequence[Any]) -> DirectoryMailbox:
    """The mailbox of an index row: the mailbox columns, the structure's id, then the structure columns."""
    split = len(_MAILBOX_COLUMNS)
    structure = None if row[split] is None else row[split + 1 :]
    return mailbox_from_record((*row[:split], structure))


@attrs.frozen(kw_only=True)
class ImportResult:
    """What an import did: rows stored, distinct addresses, the change since the last import, lines skipped."""

    source: str
    """The extraction's file name (the ZIP member's when zipped)."""
    rows: int
    """Lines stored (one per mailbox and structure)."""
    mailboxes: int
    """Distinct addresses (case-insensitive)."""
    added: int
    """Addresses absent from the previous import (all of them on a first import)."""
    removed: int
    """Addresses of the previous import that are gone."""
    skipped: int
    """Lines that could not be used; :attr:`findings` says why."""
    seconds: float
    findings: tuple[Finding, ...] = ()

    @property
    def report(self) -> Report:
        """The findings as a report (skipped lines are warnings: it stays ok)."""
        return Report(findings=self.findings, subject=self.source or "extraction")

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: counts, seconds and findings."""
        return {
            "source": self.source,
            "rows": self.rows,
            "mailboxes": self.mailboxes,
            "added": self.added,
            "removed": self.removed,
            "skipped": self.skipped,
            "seconds": round(self.seconds, 3),
            "findings": [finding.to_dict() for finding in self.findings],
        }


@attrs.frozen(kw_only=True)
class IndexInfo:
    """What the index holds: the file imported, when, and how much."""

    path: Path
    source: str
    imported_at: datetime
    rows: int
    mailboxes: int
    skipped: int
    full_text: bool
    """True when searches go through SQLite FTS5 (else a slower scan)."""


def _identity(path: Path) -> tuple[int, int, int, int] | None:
    """The file's identity, None when there is none; DirectoryError for what is not a regular file (SQLite
    would block on a FIFO)."""
    try:
        status = path.stat()
    except OSError:
        return None
    if not stat.S_ISREG(status.st_mode):
        raise DirectoryError(
            f"{str(path)!r} is {file_kind(status.st_mode)}, not a directory index file: give the path of one"
        )
    return (status.st_dev, status.st_ino, status.st_mtime_ns, status.st_size)


def _check_replaceable(path: Path) -> None:
    """Refuse to replace what is not a regular file: a device, a FIFO, a directory, a symbolic link."""
    try:
        status = os.lstat(path)
    except OSError:  # nothing there (or no folder yet: creating it says what is wrong)
        return
    if not stat.S_ISREG(status.st_mode):
        raise DirectoryError(
            f"{str(path)!r} is {file_kind(status.st_mode)}: an import replaces only a regular file (give the path of "
            "the index file itself, or of one that does not exist yet)"
        )


def _unlocked(descriptor: int) -> bool:
    """Take the lock of ``descriptor``; False when another process holds it (its import is running)."""
    if sys.platform == "win32":  # no flock: an open file cannot be deleted there, which keeps a running import's
        return True
    import fcntl  # noqa: PLC0415 (POSIX only)

    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _remove(*paths: Path) -> None:
    for path in paths:
        with contextlib.suppress(OSError):
            path.unlink()


def _companions(database: Path) -> list[Path]:
    return [database.with_name(database.name + suffix) for suffix in _COMPANIONS]


def _remove_stale_imports(index: Path) -> list[Path]:
    """Remove what imports of ``index`` that died (killed, a power loss) left beside it; the files removed.

    Only files named after this index are looked at. A new database whose lock no process holds is removed
    with its lock; a running import's lock is held, and its files are left alone. A temporary file of an
    earlier version (``.<index>.XXXXXXXX.tmp``, without lock) is removed once an hour old.
    """
    folder = index.parent
    prefix = f".{index.name}."
    try:
        names = [name for name in os.listdir(folder) if name.startswith(prefix)]
    except OSError:
        return []
    removed: list[Path] = []
    now = time.time()
    for name in names:
        rest = name[len(prefix) :]
        if rest.startswith(_IMPORT_MARK[1:]) and name.endswith(_LOCK_SUFFIX):
            lock = folder / name
            database = folder / (name[: -len(_LOCK_SUFFIX)] + _DATABASE_SUFFIX)
            try:
                descriptor = os.open(lock, _LOCK_FLAGS)
            except OSError:
                continue
            try:
                if not stat.S_ISREG(os.fstat(descriptor).st_mode) or not _unlocked(descriptor):
                    continue
                if sys.platform == "win32" and now - os.fstat(descriptor).st_mtime < _STALE_SECONDS:
                    continue
                found = [path for path in _companions(database) if path.exists()]
                _remove(*found, lock)
                removed += [path for path in [*found, lock] if not path.exists()]
            finally:
                os.close(descriptor)
        elif _LEGACY_TEMPORARY.fullmatch(rest):
            legacy = folder / name
            with contextlib.suppress(OSError):
                status = os.lstat(legacy)
                if stat.S_ISREG(status.st_mode) and now - status.st_mtime > _STALE_SECONDS:
                    _remove(*_companions(legacy))
                    removed += [legacy] if not legacy.exists() else []
    return removed


class _ImportFiles:
    """The new database file of one import and its lock, held from creation until :meth:`release`."""

    def __init__(self, index: Path) -> None:
        self.database, self.lock, self._descriptor = self._claim(index)

    @staticmethod
    def _claim(index: Path) -> tuple[Path, Path, int]:
        for _ in range(100):
            stem = f".{index.name}{_IMPORT_MARK}{os.getpid()}-{secrets.token_hex(4)}"
            lock, database = index.with_name(stem + _LOCK_SUFFIX), index.with_name(stem + _DATABASE_SUFFIX)
            try:
                descriptor = os.open(lock, _NEW_FILE_FLAGS, 0o600)
            except FileExistsError:
                continue
            if sys.platform != "win32":
                import fcntl  # noqa: PLC0415 (POSIX only)

                fcntl.flock(descriptor, fcntl.LOCK_EX)  # waits only while a sweeper looks at it
                if os.fstat(descriptor).st_nlink == 0:  # that sweeper took it for stale and removed it
                    os.close(descriptor)
                    continue
            try:
                os.close(os.open(database, _NEW_FILE_FLAGS, 0o600))
            except BaseException:
                _remove(lock)
                os.close(descriptor)
                raise
            return database, lock, descriptor
        raise FileExistsError(f"no free name for the new index file beside {str(index)!r}")

    def release(self) -> None:
        """Remove what is left of the new file (nothing once renamed into place), then the lock."""
        _remove(*_companions(self.database), self.lock)
        os.close(self._descriptor)


class DirectoryIndex:
    """The offline index of the MSSanté extraction: import it, then look up and search without network.

    Build it with :meth:`open`; use it as a context manager or :meth:`close` it. Queries read a file
    that imports replace whole: an instance notices a new import and reads it from its next query.

        with DirectoryIndex.open() as index:          # ~/.cache/mssante/directory/mssante-directory.sqlite3
            index.import_extraction("Extraction_Correspondance_MSSante_202608261013.zip")
            index.lookup("10000000001")               # RPPS, IDNPS or address
            index.search(name="dupont", city="paris")
    """

    def __init__(self, path: Path) -> None:
        """Use the index file at ``path`` (see :meth:`open`)."""
        self.path = path
        """The database file."""
        self._connection: sqlite3.Connection | None = None
        self._identity: tuple[int, int, int, int] | None = None
        self._full_text = True
        self._columns = True  # the people's full-text table has the city and profession columns
        self._lock = threading.RLock()  # one connection, shared by the threads that query this instance

    @classmethod
    def open(cls, path: Path | str | None = None) -> DirectoryIndex:
        """The index at ``path``, by default ``mssante-directory.sqlite3`` in the user's cache folder.

        The file need not exist yet: :meth:`import_extraction` creates it. Queries on a missing or
        damaged file raise :class:`~mssante.errors.DirectoryError`.
        """
        index = cls(Path(path) if path is not None else cache_directory("directory") / DEFAULT_INDEX_NAME)
        _remove_stale_imports(index.path)
        return index

    def __enter__(self) -> DirectoryIndex:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the database connection (a later query opens it again)."""
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None
                self._identity = None

    # -- reading -----------------------------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        """The read-only connection to the current file, reopened when an import replaced it."""
        identity = _identity(self.path)
        if identity is None:
            self.close()
            raise DirectoryError(f"there is no directory index at {str(self.path)!r}: {_HINT}")
        if self._connection is not None and identity == self._identity:
            return self._connection
        self.close()
        uri = self.path.resolve().as_uri() + "?mode=ro"
        try:
            connection = sqlite3.connect(uri, uri=True, check_same_thread=False)
        except sqlite3.Error as error:
            raise DirectoryError(
                f"the directory index {str(self.path)!r} cannot be opened ({error}): {_HINT}"
            ) from None
        try:
            rows = dict(connection.execute("SELECT key, value FROM meta WHERE key IN ('format', 'fts')").fetchall())
        except sqlite3.Error as error:
            connection.close()
            raise DirectoryError(
                f"{str(self.path)!r} is not a readable directory index ({error}): {_HINT} again"
            ) from None
        if rows.get("format") not in _FORMATS:
            connection.close()
            raise DirectoryError(f"{str(self.path)!r} was made by another version of mssante: {_HINT} again")
        self._full_text = rows.get("fts", "1") == "1"
        self._columns = rows.get("format") == _FORMAT
        if not self._full_text:
            connection.create_function("mss_fold", 1, _fold_function, deterministic=True)
        self._connection, self._identity = connection, identity
        return connection

    def _query(self, sql: str, parameters: Sequence[object]) -> list[Any]:
        with self._lock:
            connection = self._connect()
            try:
                return connection.execute(sql, parameters).fetchall()
            except sqlite3.Error as error:
                self.close()
                message = f"the directory index {str(self.path)!r} cannot be read ({error}): {_HINT}"
                raise DirectoryError(message) from None

    def _mailboxes(self, sql: str, parameters: Sequence[object]) -> tuple[DirectoryMailbox, ...]:
        return tuple(_mailbox(row) for row in self._query(sql, parameters))

    def info(self) -> IndexInfo:
        """What the index holds; :class:`~mssante.errors.DirectoryError` when there is none."""
        meta = dict(self._query("SELECT key, value FROM meta", ()))
        try:
            return IndexInfo(
                path=self.path,
                source=meta.get("source", ""),
                imported_at=datetime.fromisoformat(meta["imported_at"]),
                rows=int(meta["rows"]),
                mailboxes=int(meta["mailboxes"]),
                skipped=int(meta["skipped"]),
                full_text=meta.get("fts", "1") == "1",
            )
        except (KeyError, ValueError):
            raise DirectoryError(f"{str(self.path)!r} is an incomplete directory index: {_HINT} again") from None

    def by_address(self, address: str) -> tuple[DirectoryMailbox, ...]:
        """The lines of an address (case-insensitive; an address may be on several lines, one per structure)."""
        text = address.strip().removeprefix("mailto:")
        verdict = check(text) if text else None
        if verdict is not None and verdict.address is not None:
            text = str(verdict.address)
        return self._mailboxes(f"{_SELECT} WHERE lower(m.address) = lower(?) ORDER BY m.id", (text,))

    def by_rpps(self, rpps: str) -> tuple[DirectoryMailbox, ...]:
        """The mailboxes of the professional with this RPPS number."""
        return self._mailboxes(f"{_SELECT} WHERE m.rpps = ? ORDER BY m.id", (rpps.strip(),))

    def by_idnps(self, idnps: str) -> tuple[DirectoryMailbox, ...]:
        """The mailboxes of the professional with this national identifier (IdNat_PS: ``8`` + RPPS, ``0`` + ADELI)."""
        return self._mailboxes(f"{_SELECT} WHERE m.idnps = ? ORDER BY m.id", (idnps.strip(),))

    def by_structure(self, identifier: str, *, limit: int | None = None) -> tuple[DirectoryMailbox, ...]:
        """The mailboxes attached to a structure, by its identifier as the extraction gives it (FINESS...)."""
        bound = -1 if limit is None else max(0, limit)
        sql = f"{_SELECT} WHERE m.structure IN ({_STRUCTURE_BY_ID}) ORDER BY m.id LIMIT ?"
        return self._mailboxes(sql, (identifier.strip(), bound))

    def lookup(self, text: str) -> tuple[DirectoryMailbox, ...]:
        """The mailboxes of an address, an RPPS (11 digits) or an IDNPS, told apart by their shape.

        Anything else is tried as an IDNPS, then as a structure identifier.
        """
        key = text.strip()
        if "@" in key:
            return self.by_address(key)
        if _RPPS.fullmatch(key):
            return self.by_rpps(key)
        return self.by_idnps(key) or self.by_structure(key)

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
        """Mailboxes matching every criterion given, at most ``limit``.

        ``name`` and ``city`` match words by prefix, regardless of case and accents: ``hel dup`` finds
        Hélène DUPONT; ``name`` matches a person's names and service, or else the structure's name.
        ``postcode`` is a prefix (``75`` for Paris); ``profession`` a code (``10``) or the start of a
        label (``médecin``); ``type`` PER, ORG, APP or CAB. A search without criteria, or whose
        criteria have no word, finds nothing. People matching by name come first, in file order.
        """
        limit = min(max(int(limit), 0), _MAX_LIMIT)
        names, cities = _words(name or ""), _words(city or "")
        if (name is not None and not names) or (city is not None and not cities) or not limit:
            return ()
        with self._lock:
            self._connect()  # which tables to query depends on the index
            full_text, columns = self._full_text, self._columns
        if full_text:
            names, cities = _terms(names), _terms(cities)
            if (name is not None and not names) or (city is not None and not cities):
                return ()
        codes = None if profession is None else self._profession_codes(profession)
        if codes is not None and not codes:
            return ()
        kind = None
        if type is not None:
            kind = type.value if isinstance(type, MailboxType) else str(type).strip().upper()
        if full_text and columns and cities and (names or codes):
            return self._search_narrowed(names, cities, postcode, codes, kind, limit)
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
            return tuple(mailbox for _, mailbox in self._select(clauses, limit)) if clauses else ()
        if full_text:
            people = f"name : ({_match(names)})"
            found = self._select([("mailbox_fts MATCH ?", (people,)), *clauses], limit, source=_FROM_NAMES)
        else:
            found = self._select([_person_words(names), *clauses], limit)
        if len(found) < limit:
            seen = {mailbox_id for mailbox_id, _ in found}
            more = self._select([_structure_words("name", names, full_text=full_text), *clauses], limit)
            found += [item for item in more if item[0] not in seen][: limit - len(found)]
        return tuple(mailbox for _, mailbox in found)

    def _search_narrowed(  # noqa: PLR0917 (the criteria of search, checked)
        self,
        names: Sequence[str],
        cities: Sequence[str],
        postcode: str | None,
        codes: Sequence[str] | None,
        kind: str | None,
        limit: int,
    ) -> tuple[DirectoryMailbox, ...]:
        """A search whose full-text query narrows to a few rows first, filtered then by the other criteria.

        It gives what the plans of :meth:`search` give, in the same order: people matching by name in file
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
                found += self._select(
                    [("mailbox_fts MATCH ?", (query,)), *filters], limit - len(found), source=_FROM_NAMES
                )
                if len(found) >= limit:
                    break
            return tuple(mailbox for _, mailbox in found)
        people = " AND ".join([f"name : ({_match(names)})", *place, *([_professions_match(codes)] if codes else [])])
        found = self._select([("mailbox_fts MATCH ?", (people,)), *filters], limit, source=_FROM_NAMES)
        if len(found) < limit:
            seen = {mailbox_id for mailbox_id, _ in found}
            structures = " AND ".join([f"name : ({_match(names)})", *place])
            clauses = [("structure_fts MATCH ?", (structures,)), *filters]
            if codes:
                clauses.append(
                    (f"m.profession_code IN ({', '.join('?' * len(codes))}) AND m.profession_code <> ''", codes)
                )
            order = "m.profession_code, m.id" if codes else ""
            more = self._select(clauses, limit, source=_FROM_STRUCTURES, order=order)
            found += [item for item in more if item[0] not in seen][: limit - len(found)]
        return tuple(mailbox for _, mailbox in found)

    def _select(
        self,
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
        rows = self._query(sql, [*parameters, limit])
        return [(row[0], _mailbox(row[1:])) for row in rows]

    def _profession_codes(self, profession: str) -> list[str]:
        """The profession codes a criterion names: a code as given, or every label starting with its words."""
        text = profession.strip()
        if text.isascii() and text.isalnum() and any(char.isdigit() for char in text):
            return [text]
        words = _words(text)
        if not words:
            return []
        codes = set()
        for code, label in self._query("SELECT code, label FROM profession", ()):
            folded = _words(label)
            if len(folded) >= len(words) and all(
                have.startswith(want) for have, want in zip(folded, words, strict=False)
            ):
                codes.add(code)
        return sorted(codes)

    # -- importing ---------------------------------------------------------------------------------------------

    def import_extraction(
        self,
        source: ExtractionSource,
        *,
        progress: Callable[[int], None] | None = None,
        at: datetime | None = None,
    ) -> ImportResult:
        """Replace the index's content with an extraction file (path, bytes, stream or chunks; TXT or ZIP).

        The new data is written to a new file beside the index, which then replaces the index in one
        rename: readers see the old data or the new, never a mix, and on any failure the old data stays.
        ``progress`` is called with the number of rows stored so far; ``at`` is the import time recorded
        (default: now). Raises :class:`~mssante.errors.InvalidInput` when the file is not the extraction
        (bad header, hostile ZIP) and :class:`~mssante.errors.DirectoryError` when the index cannot be written.
        """
        started = time.perf_counter()
        imported_at = at or datetime.now(timezone.utc)
        _check_replaceable(self.path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            _remove_stale_imports(self.path)
            files = _ImportFiles(self.path)
        except OSError as error:
            raise DirectoryError(
                f"the directory index cannot be written in {str(self.path.parent)!r} ({error})"
            ) from None
        try:
            result = self._build(files.database, source, progress, imported_at, started)
            _check_replaceable(self.path)  # again: what appeared meanwhile is not replaced either
            os.replace(files.database, self.path)
            sync_directory(self.path.parent)
        except sqlite3.Error as error:
            raise DirectoryError(f"the directory index {str(self.path)!r} cannot be written ({error})") from None
        except OSError as error:
            raise DirectoryError(f"the directory index {str(self.path)!r} cannot be replaced ({error})") from None
        finally:
            files.release()
        self.close()
        return attrs.evolve(result, seconds=time.perf_counter() - started)

    def _build(
        self,
        temporary: Path,
        source: ExtractionSource,
        progress: Callable[[int], None] | None,
        imported_at: datetime,
        started: float,
    ) -> ImportResult:
        """Fill the new database file; the counts of the result."""
        reader = ExtractionReader(source)
        connection = sqlite3.connect(temporary.resolve().as_uri(), uri=True, isolation_level=None)
        try:
            for pragma in _BUILD_PRAGMAS:
                connection.execute(f"PRAGMA main.{pragma}")
            connection.executescript(_SCHEMA)
            full_text = _create_fts(connection)
            previous = self._attach_previous(connection)
            connection.execute("BEGIN")
            rows = 0
            structures: list[tuple[int, str, str, str, str, str, str, str]] = []
            records = reader.numbered_records(structures)
            while True:  # rows go straight from the reader to SQLite; the structures they number follow
                inserted = connection.executemany(_INSERT_MAILBOX, itertools.islice(records, _BATCH)).rowcount
                connection.executemany(_INSERT_STRUCTURE, structures)
                structures.clear()
                if inserted <= 0:
                    break
                rows += inserted
                if progress is not None:
                    progress(rows)
            for statement in _INDEXES + (_FTS_FILL if full_text else ()):
                connection.execute(statement)
            (mailboxes,) = connection.execute(_DISTINCT.format(schema="main")).fetchone()
            added, removed = _changes(connection, mailboxes) if previous else (mailboxes, 0)
            meta = {
                "format": _FORMAT,
                "fts": "1" if full_text else "0",
                "source": reader.name,
                "imported_at": imported_at.isoformat(),
                "rows": str(rows),
                "mailboxes": str(mailboxes),
                "skipped": str(reader.skipped),
            }
            connection.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", meta.items())
            connection.execute("COMMIT")
        finally:
            connection.close()
        descriptor = os.open(temporary, os.O_RDWR | getattr(os, "O_CLOEXEC", 0))
        try:  # the build ran with synchronous=OFF: all of it reaches the disk before the rename
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
        return ImportResult(
            source=reader.name,
            rows=rows,
            mailboxes=mailboxes,
            added=added,
            removed=removed,
            skipped=reader.skipped,
            seconds=time.perf_counter() - started,
            findings=reader.findings,
        )

    def _attach_previous(self, connection: sqlite3.Connection) -> bool:
        """Attach the index being replaced as ``previous``; False when there is none that can be read."""
        if _identity(self.path) is None:
            return False
        try:
            connection.execute("ATTACH DATABASE ? AS previous", (self.path.resolve().as_uri() + "?mode=ro",))
        except sqlite3.Error:
            return False
        try:
            row = connection.execute("SELECT value FROM previous.meta WHERE key = 'format'").fetchone()
        except sqlite3.Error:
            row = None
        if row is None or row[0] not in _FORMATS:  # the mailbox table is the same in every format read
            connection.execute("DETACH DATABASE previous")
            return False
        return True


def _changes(connection: sqlite3.Connection, mailboxes: int) -> tuple[int, int]:
    """Addresses (added, removed) against the attached previous index."""
    try:
        (added,) = connection.execute(_ONLY_IN.format(this="main", other="previous")).fetchone()
        (removed,) = connection.execute(_ONLY_IN.format(this="previous", other="main")).fetchone()
    except sqlite3.DatabaseError:  # the previous index is damaged: everything is new
        return mailboxes, 0
    return int(added), int(removed)

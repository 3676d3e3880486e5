"""The offline index of the national directory: the bulk MSSanté extraction in an embedded SQLite database.

:class:`DirectoryIndex` imports the extraction (see :class:`~mssante.directory.ExtractionReader`) into a
database file in the user's cache, then answers lookups (address, RPPS, IDNPS, structure) and searches
(name, city, postcode, profession, type) without network or key. An import builds a new database file
beside the old one and renames it over the old one only when it is complete, so that readers always see
one whole import, and a failed import leaves the previous data in place.

The schema is in :mod:`~mssante.directory._index_schema`, the import in :mod:`~mssante.directory._index_import`
(with its files in :mod:`~mssante.directory._index_files`) and the search plans in
:mod:`~mssante.directory._index_search`.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import attrs

from mssante._files import cache_directory
from mssante._lifecycle import Closing
from mssante.addresses import MailboxType
from mssante.directory._extraction import ExtractionSource
from mssante.directory._index_files import _identity, _remove_stale_imports
from mssante.directory._index_import import ImportResult, import_extraction
from mssante.directory._index_schema import _FORMAT, _FORMATS, _SELECT, _fold_function, _mailbox
from mssante.directory._index_search import address_key, lookup_by_shape, search
from mssante.directory._models import DirectoryMailbox
from mssante.errors import DirectoryError

__all__ = ["DEFAULT_INDEX_NAME", "DirectoryIndex", "ImportResult", "IndexInfo"]

DEFAULT_INDEX_NAME = "mssante-directory.sqlite3"
"""The index's file name in the user's cache folder (``~/.cache/mssante/directory/``)."""

_HINT = "run `mssante directory import FILE` to build it"
_STRUCTURE_BY_ID = "SELECT id FROM structure WHERE identifier = ? AND identifier <> ''"


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


class DirectoryIndex(Closing):
    """The offline index of the MSSanté extraction: import it, then look up and search without network.

    Build it with :meth:`open`; use it as a context manager or :meth:`close` it. Queries read a file
    that imports replace whole: an instance notices a new import and reads it from its next query.

        with DirectoryIndex.open() as index:          # ~/.cache/mssante/directory/mssante-directory.sqlite3
            index.import_extraction("Extraction_Correspondance_MSSante_202608261013.zip")
            index.lookup("10000000001")               # RPPS, IDNPS or address
            index.search(name="dupont", city="paris")
    """

    def __init__(self, path: Path | str) -> None:
        """Use the index file at ``path`` (see :meth:`open`)."""
        self.path = Path(path)
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

    def close(self) -> None:
        """Close the database connection (a later query opens it again)."""
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None
                self._identity = None

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
        text = address_key(address)
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
        """Mailboxes matching every criterion given, at most ``limit``.

        ``name`` and ``city`` match words by prefix, regardless of case and accents: ``hel dup`` finds
        Hélène DUPONT; ``name`` matches a person's names and service, or else the structure's name.
        ``postcode`` is a prefix (``75`` for Paris); ``profession`` a code (``10``) or the start of a
        label (``médecin``); ``type`` PER, ORG, APP or CAB. A search without criteria, or whose
        criteria have no word, finds nothing. People matching by name come first, in file order.
        """
        return search(
            self._query,
            self._layout,
            name=name,
            city=city,
            postcode=postcode,
            profession=profession,
            type=type,
            limit=limit,
        )

    def _layout(self) -> tuple[bool, bool]:
        """Whether the index has full-text tables, and whether they have the columns of the current format."""
        with self._lock:
            self._connect()
            return self._full_text, self._columns

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
        result = import_extraction(self.path, source, progress=progress, at=at)
        self.close()
        return result

"""What the SQLite stores share: opening their file safely, its pragmas, and a schema versioned in the file.

A store's file is marked as its own (``PRAGMA application_id``) and carries its schema version (``PRAGMA
user_version``): a file of another application, or made by a newer version, is refused with the store's error. The
file is in WAL mode (readers never wait for a writer) and each commit is synced to disk when ``durable``
(``synchronous=FULL``). Creating or upgrading the schema is one ``BEGIN IMMEDIATE`` transaction, so that several
processes opening a new file at once create it once.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import attrs

from mssante._files import check_regular

__all__ = ["SqliteFile", "begin", "open_file"]


@attrs.frozen(kw_only=True)
class SqliteFile:
    """What a kind of store file is: its name in messages, its mark, its schema and the store's error."""

    noun: str
    """What the file is, in messages: ``"audit trail"``."""
    article: str
    """``"a"`` or ``"an"``, before :attr:`noun`."""
    schema: str
    """The schema's name in messages: ``"audit"``."""
    application_id: int
    version: int
    """The schema version this code writes."""
    statements: Sequence[str]
    """The statements creating the newest schema in an empty file."""
    error: Callable[[str], Exception]
    """The store's error, from a message."""
    upgrades: Mapping[int, Sequence[str]] = attrs.field(factory=dict)
    """The statements bringing a file of version ``n`` (a key) to ``n + 1``."""
    pragmas: Sequence[str] = ()
    """Set on each connection, after the journal mode: ``"foreign_keys = ON"``."""

    def check(self, connection: sqlite3.Connection, path: Path) -> int:
        """The schema version of the file (0 for an empty one); raises when it is not ours or newer."""
        version = int(connection.execute("PRAGMA user_version").fetchone()[0])
        application = int(connection.execute("PRAGMA application_id").fetchone()[0])
        if version == 0 and application == 0:
            if connection.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
                raise self.error(f"{str(path)!r} is an SQLite database, but not {self.article} {self.noun}")
            return 0
        if application != self.application_id:
            raise self.error(f"{str(path)!r} is an SQLite database, but not {self.article} {self.noun}")
        if version > self.version:
            raise self.error(
                f"{str(path)!r} has {self.schema} schema {version}, newer than this mssante's {self.version}: "
                "upgrade mssante"
            )
        return version


def open_file(
    path: Path, kind: SqliteFile, *, durable: bool, timeout: float, private: bool = False
) -> sqlite3.Connection:
    """A connection to the store file at ``path`` in autocommit mode, usable from any thread (callers serialise),
    its schema created or upgraded; ``private`` creates a missing file readable by its owner only.

    Raises ``kind.error`` when the file cannot be opened, is not of this kind, or was made by a newer version.
    """
    try:
        if private:
            with contextlib.suppress(FileExistsError):
                os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        check_regular(path)  # SQLite would block on a FIFO, or read a device
    except OSError as error:
        raise kind.error(f"the {kind.noun} {str(path)!r} cannot be opened: {error.strerror or error}") from None
    try:
        connection = sqlite3.connect(str(path), timeout=timeout, isolation_level=None, check_same_thread=False)
    except sqlite3.Error as error:
        raise kind.error(f"the {kind.noun} {str(path)!r} cannot be opened ({error})") from None
    try:
        _prepare(connection, path, kind, durable=durable, timeout=timeout)
    except sqlite3.Error as error:
        connection.close()
        raise kind.error(f"{str(path)!r} is not a usable {kind.noun} ({error})") from None
    except BaseException:
        connection.close()
        raise
    return connection


def _prepare(connection: sqlite3.Connection, path: Path, kind: SqliteFile, *, durable: bool, timeout: float) -> None:
    connection.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
    kind.check(connection, path)
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute(f"PRAGMA synchronous = {'FULL' if durable else 'NORMAL'}")
    for pragma in kind.pragmas:
        connection.execute(f"PRAGMA {pragma}")
    if connection.execute("PRAGMA user_version").fetchone()[0] >= kind.version:
        return
    connection.execute("BEGIN IMMEDIATE")
    try:
        version = kind.check(connection, path)  # another process may have made it meanwhile
        if version == 0:
            for statement in kind.statements:
                connection.execute(statement)
            connection.execute(f"PRAGMA application_id = {kind.application_id}")
        else:
            for step in range(version, kind.version):
                for statement in kind.upgrades[step]:
                    connection.execute(statement)
        if version < kind.version:
            connection.execute(f"PRAGMA user_version = {kind.version}")
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise


def begin(connection: sqlite3.Connection, path: Path, kind: SqliteFile, *, write: bool) -> None:
    """Start a transaction: ``BEGIN IMMEDIATE`` (``BEGIN``, a read, without ``write``); ``kind.error`` when busy."""
    try:
        connection.execute("BEGIN IMMEDIATE" if write else "BEGIN")
    except sqlite3.Error as error:
        raise kind.error(f"the {kind.noun} {str(path)!r} is busy ({error})") from None

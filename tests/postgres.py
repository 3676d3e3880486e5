"""A private PostgreSQL cluster in a temporary directory, on a free 127.0.0.1 port, for the PostgreSQL store tests.

Nothing of the system's configuration is read or changed: ``initdb`` creates a cluster in a new temporary directory,
``pg_ctl`` starts it listening on 127.0.0.1 only (a free port) and on a unix socket in that directory, with
``fsync=off`` (a test cluster need not survive a power cut; a commit still reaches the system before it returns,
so the stop in immediate mode, a crash of the server, loses nothing committed). PostgreSQL refuses to run as root:
as root the directory belongs to the ``postgres`` system user and the commands run as that user (``runuser``);
otherwise they run as the current user. Authentication is ``trust`` for the loopback only.

- :func:`shared_cluster`: one cluster per process, started on first use, stopped at exit (tests and benchmarks).
- :func:`fresh_database`: a new empty database on a cluster (``CREATE DATABASE ... TEMPLATE template0``), its
  conninfo.
- Fixtures ``postgres_cluster`` (the shared cluster, skipping the test when PostgreSQL is missing, failing it when
  ``MSSANTE_REQUIRE_MTA`` is set) and ``postgres_conninfo`` (a fresh database per test module). Use them from a
  ``conftest.py``: ``from tests.postgres import postgres_cluster, postgres_conninfo  # noqa: F401``.
- Outside pytest (a benchmark): ``with PostgresCluster() as cluster: conninfo = fresh_database(cluster)``.
"""

from __future__ import annotations

import atexit
import itertools
import os
import pwd
import re
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

import pytest

from tests.servers import REQUIRE_SERVERS, free_port, require, tail

__all__ = [
    "POSTGRES_PACKAGES",
    "REQUIRE_POSTGRES",
    "PostgresCluster",
    "PostgresError",
    "free_closed_port",
    "fresh_database",
    "missing",
    "postgres_bin",
    "postgres_cluster",
    "postgres_conninfo",
    "require_postgres",
    "shared_cluster",
]

POSTGRES_PACKAGES = "postgresql"
REQUIRE_POSTGRES = REQUIRE_SERVERS
"""When set (CI), a missing PostgreSQL fails the tests that need it instead of skipping them."""

_SYSTEM_USER = "postgres"  # owner of the cluster when the tests run as root
_SUPERUSER = "mssante"  # the cluster's superuser role, used by the tests
_BIN_ROOTS = ("/usr/lib/postgresql",)


class PostgresError(RuntimeError):
    """The cluster did not start or stop, or a database could not be created; the message ends with its log."""


def postgres_bin() -> Path | None:
    """The ``bin`` directory of the newest PostgreSQL installed (``$MSSANTE_POSTGRES_BIN`` first), or None."""
    configured = os.environ.get("MSSANTE_POSTGRES_BIN")
    if configured:
        path = Path(configured)
        return path if (path / "initdb").exists() else None
    found: list[tuple[int, Path]] = []
    for root in _BIN_ROOTS:
        for candidate in Path(root).glob("*/bin"):
            version = candidate.parent.name
            if re.fullmatch(r"\d+", version) and os.access(candidate / "initdb", os.X_OK):
                found.append((int(version), candidate))
    if found:
        return max(found)[1]
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def missing() -> str | None:
    """Why a private PostgreSQL cluster cannot run here, or None."""
    if postgres_bin() is None:
        return f"PostgreSQL is not installed (apt-get install {POSTGRES_PACKAGES})"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(_SYSTEM_USER)
        except KeyError:
            return f"running as root without a {_SYSTEM_USER} system user (apt-get install {POSTGRES_PACKAGES})"
        if shutil.which("runuser") is None:
            return "running as root without runuser (util-linux) to start PostgreSQL as another user"
    try:
        import psycopg  # noqa: F401, PLC0415
    except ImportError:
        return "psycopg is not installed"
    return None


def require_postgres() -> None:
    """Skip the calling test (fail it when ``MSSANTE_REQUIRE_MTA`` is set) when PostgreSQL cannot run here."""
    require(missing(), tests="the PostgreSQL tests")


def free_closed_port() -> int:
    """A 127.0.0.1 port where nothing listens now (a connection to it is refused): an unreachable database."""
    return free_port()


class PostgresCluster:
    """A private PostgreSQL cluster: ``port`` on 127.0.0.1 and a unix socket in ``directory``.

    :meth:`start` runs ``initdb`` the first time; :meth:`stop` stops the server (the data stays, :meth:`start`
    again restarts it on the same port); :meth:`close` stops it and deletes the directory.
    """

    def __init__(self, *, bin_dir: Path | None = None) -> None:
        found = bin_dir or postgres_bin()
        if found is None:
            raise PostgresError(f"PostgreSQL is not installed (apt-get install {POSTGRES_PACKAGES})")
        self.bin_dir = found
        self.port = free_port()
        self.directory = Path(tempfile.mkdtemp(prefix="mssante-postgres-"))
        self.directory.chmod(0o755)
        self._as_other = os.geteuid() == 0
        if self._as_other:
            shutil.chown(self.directory, user=_SYSTEM_USER, group=None)
        self.data = self.directory / "data"
        self.log = self.directory / "postgres.log"
        self._running = False
        self._names = itertools.count(1)
        self._lock = threading.Lock()

    @property
    def socket_dir(self) -> Path:
        return self.directory

    def conninfo(self, dbname: str = "postgres", *, unix: bool = False) -> str:
        """The conninfo of database ``dbname``, over TCP on 127.0.0.1 or (``unix``) over the unix socket."""
        host = str(self.socket_dir) if unix else "127.0.0.1"
        return f"host={host} port={self.port} user={_SUPERUSER} dbname={dbname} connect_timeout=10"

    def _command(self, name: str, *arguments: str) -> list[str]:
        program = [str(self.bin_dir / name), *arguments]
        return ["runuser", "-u", _SYSTEM_USER, "--", *program] if self._as_other else program

    def _run(self, command: Sequence[str], what: str) -> None:
        result = subprocess.run(
            command, stdin=subprocess.DEVNULL, capture_output=True, timeout=120, check=False, cwd=self.directory
        )
        if result.returncode != 0:
            output = (result.stdout + result.stderr).decode(errors="replace")
            raise PostgresError(
                f"{what} failed ({' '.join(command)}: exit {result.returncode}):\n{output}\n"
                f"last lines of {self.log}:\n{tail(self.log)}"
            )

    def start(self) -> None:
        if self._running:
            return
        if not self.data.exists():
            self._run(
                self._command(
                    "initdb", "-D", str(self.data), "-U", _SUPERUSER, "--auth=trust", "-E", "UTF8",
                    "--locale=C.UTF-8", "--no-sync",
                ),
                "initdb",
            )  # fmt: skip
        options = " ".join(
            [
                "-c listen_addresses=127.0.0.1",
                f"-p {self.port}",
                f"-c unix_socket_directories={self.socket_dir}",
                "-c fsync=off",
                "-c full_page_writes=off",
                "-c max_connections=200",
                "-c shared_buffers=32MB",
            ]
        )
        self._run(
            self._command(
                "pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "-o", options, "start"
            ),
            "starting PostgreSQL",
        )
        self._running = True

    def stop(self) -> None:
        if not self._running:
            return
        self._run(self._command("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "-t", "60", "stop"), "stop")
        self._running = False

    def close(self) -> None:
        try:
            self.stop()
        finally:
            shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> PostgresCluster:
        try:
            self.start()
        except BaseException:
            shutil.rmtree(self.directory, ignore_errors=True)
            raise
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    def new_database_name(self, prefix: str = "test") -> str:
        with self._lock:
            number = next(self._names)
        return f"{re.sub(r'[^a-z0-9_]', '_', prefix.lower())[:40]}_{os.getpid()}_{number}"


def fresh_database(cluster: PostgresCluster, prefix: str = "test") -> str:
    """A new empty database on ``cluster`` (from ``template0``), and its conninfo."""
    import psycopg  # noqa: PLC0415

    name = cluster.new_database_name(prefix)
    with psycopg.connect(cluster.conninfo(), autocommit=True) as connection:
        connection.execute(f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8'")
    return cluster.conninfo(name)


_shared: PostgresCluster | None = None
_shared_lock = threading.Lock()


def shared_cluster() -> PostgresCluster:
    """One private cluster for this process, started on first use and removed when the process exits."""
    global _shared  # noqa: PLW0603
    with _shared_lock:
        if _shared is None:
            cluster = PostgresCluster()
            cluster.__enter__()
            atexit.register(cluster.close)
            _shared = cluster
        return _shared


@pytest.fixture(scope="session")
def postgres_cluster() -> PostgresCluster:
    """The shared private cluster (skips, or fails under ``MSSANTE_REQUIRE_MTA``, when PostgreSQL is missing)."""
    require_postgres()
    return shared_cluster()


@pytest.fixture(scope="module")
def postgres_conninfo(postgres_cluster: PostgresCluster, request: pytest.FixtureRequest) -> str:
    """The conninfo of a fresh database for this test module."""
    return fresh_database(postgres_cluster, request.module.__name__.rsplit(".", 1)[-1])

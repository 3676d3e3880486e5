"""Special files given to the command line: refused with one line (exit status 2), never read, never replaced.

Every command that reads a file refuses a FIFO without a writer, a device and a directory before it reads a
byte (it used to wait forever on a FIFO, and `directory import /dev/zero` never ended). Every command that
writes a file (`--out`, the index of `--db`) refuses to replace a FIFO, a device, a socket, a directory or a
symbolic link, and leaves it as it was.

A command that could block runs in a thread (FIFO cases: a blocked reader is set free by opening the FIFO for
writing) or in a subprocess (`/dev/zero`), each with a generous timeout, so that a regression fails instead
of hanging the suite.
"""

from __future__ import annotations

import io
import json
import os
import socket
import stat
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from mssante.cli import main
from mssante.testing import sample_path
from tests.cli.running import run_json

HANG_GUARD = 60.0  # seconds: only a blocked command comes near it
DATA = Path(__file__).parent.parent / "data"
CDA = str(DATA / "xdm" / "cisis-BIO-TROD_2024.01_COVID-19.xml")
CERTIFICATE = str(DATA / "pki" / "gip-cps-anonyme-root.pem")
ALLOWLIST = str(sample_path("listeblanchemssante-2025-03-13-excerpt.xml"))
AT = "2024-01-16T08:00:00Z"
DOCTOR = "pierre.didot@pharmacie-4-cantons.mssante.fr"
PATIENT = "279035121518989@patient.mssante.fr"
COMPOSE = ["message", "compose", "--from", DOCTOR, "--to", PATIENT, "--nil", "DEV1", "--at", AT]
SESSION = ["--server", "localhost:1", "--revocation", "off"]


def run_bounded(argv: list[str], fifo: Path | None = None) -> tuple[int, str, str]:
    """``mssante ARGV`` in a thread: its status, output and errors; a failure when it is blocked after the guard."""
    out, err = io.StringIO(), io.StringIO()
    status: list[int] = []
    worker = threading.Thread(target=lambda: status.append(main(argv, out=out, err=err)), daemon=True)
    worker.start()
    worker.join(HANG_GUARD)
    if worker.is_alive():
        if fifo is not None:  # a reader blocked in open() is set free by a writer that leaves at once
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
            worker.join(HANG_GUARD)
        pytest.fail(f"mssante {' '.join(argv)} was still running after {HANG_GUARD} seconds")
    return status[0], out.getvalue(), err.getvalue()


def assert_one_line_refusal(status: int, out: str, err: str, *words: str) -> None:
    assert (status, out) == (2, ""), err
    assert err.count("\n") == 1, err
    assert "Traceback" not in err
    for word in words:
        assert word in err


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "fifo"
    os.mkfifo(path)
    return path


@pytest.fixture
def composed(tmp_path: Path) -> Path:
    out = tmp_path / "message.eml"
    status, payload = run_json(*COMPOSE, "--text", "Bonjour", "--read-receipt", "--out", str(out))
    assert status == 0, payload
    return out


# -- reading: a FIFO without a writer -------------------------------------------------------------------------------

READERS: dict[str, list[str]] = {
    "cert inspect": ["cert", "inspect", "{fifo}"],
    "cert verify": ["cert", "verify", "{fifo}"],
    "cert verify --chain": ["cert", "verify", CERTIFICATE, "--chain", "{fifo}"],
    "cert verify --trust-anchor": ["cert", "verify", CERTIFICATE, "--trust-anchor", "{fifo}"],
    "cert verify --crl": ["cert", "verify", CERTIFICATE, "--crl", "{fifo}"],
    "cert verify --ocsp": ["cert", "verify", CERTIFICATE, "--ocsp", "{fifo}"],
    "whitelist show": ["whitelist", "show", "--file", "{fifo}"],
    "whitelist check": ["whitelist", "check", "example.mssante.fr", "--file", "{fifo}"],
    "whitelist check --cert": ["whitelist", "check", "example.mssante.fr", "--file", ALLOWLIST, "--cert", "{fifo}"],
    "whitelist diff": ["whitelist", "diff", ALLOWLIST, "{fifo}"],
    "whitelist fetch --trust-anchor": ["whitelist", "fetch", "--trust-anchor", "{fifo}", "--cache-dir", "{tmp}"],
    "xdm inspect": ["xdm", "inspect", "{fifo}"],
    "xdm validate": ["xdm", "validate", "{fifo}"],
    "xdm pack": ["xdm", "pack", "{fifo}", "--out", "{tmp}/out.zip", "--at", AT],
    "xdm pack --metadata": ["xdm", "pack", CDA, "--metadata", "{fifo}", "--out", "{tmp}/out.zip", "--at", AT],
    "message inspect": ["message", "inspect", "{fifo}"],
    "message lint": ["message", "lint", "{fifo}"],
    "message compose --text-file": [*COMPOSE, "--text-file", "{fifo}", "--out", "{tmp}/out.eml"],
    "message compose --cda": [*COMPOSE, "--cda", "{fifo}", "--out", "{tmp}/out.eml"],
    "message compose --pdf": [*COMPOSE, "--pdf", "{fifo}", "--out", "{tmp}/out.eml"],
    "message compose --attach": [*COMPOSE, "--attach", "{fifo}", "--out", "{tmp}/out.eml"],
    "mdn parse": ["mdn", "parse", "{fifo}"],
    "mdn build": ["mdn", "build", "{fifo}", "--from", DOCTOR, "--final-recipient", DOCTOR, "--out", "{tmp}/m.eml"],
    "directory import": ["directory", "import", "{fifo}", "--db", "{tmp}/index.sqlite3"],
    "directory lookup --db": ["directory", "lookup", DOCTOR, "--db", "{fifo}"],
    "directory search --db": ["directory", "search", "--name", "didot", "--db", "{fifo}"],
    "send": ["send", "{fifo}", *SESSION],
    "send --cert": ["send", "{eml}", *SESSION, "--cert", "{fifo}", "--key", "{fifo}"],
    "send --crl": ["send", "{eml}", "--server", "localhost:1", "--crl", "{fifo}"],
    "fetch --cert": ["fetch", *SESSION, "--cert", "{fifo}", "--key", "{fifo}"],
    "track sent": ["track", "sent", "{fifo}", "--db", "{tmp}/tracking.sqlite3"],
    "track observe": ["track", "observe", "{fifo}", "--db", "{tmp}/tracking.sqlite3"],
    "track status --db": ["track", "status", "--db", "{fifo}"],
}


@pytest.mark.parametrize("template", READERS.values(), ids=READERS.keys())
def test_a_fifo_is_refused_unread(template: list[str], fifo: Path, composed: Path, tmp_path: Path) -> None:
    argv = [part.format(fifo=fifo, tmp=tmp_path, eml=composed) for part in template]
    status, out, err = run_bounded(argv, fifo=fifo)
    assert_one_line_refusal(status, out, err, "FIFO")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert not (tmp_path / "index.sqlite3").exists()
    assert [path.name for path in tmp_path.iterdir() if path.name.startswith(".")] == []


def test_a_fifo_is_refused_with_one_json_object(fifo: Path) -> None:
    status, out, _ = run_bounded(["message", "lint", str(fifo), "--json"], fifo=fifo)
    assert status == 2
    payload = json.loads(out)
    assert payload["ok"] is False
    assert "FIFO" in payload["error"]


@pytest.mark.parametrize(
    "argv",
    [
        ["directory", "import", "/dev/zero", "--db", "{tmp}/index.sqlite3"],
        ["message", "lint", "/dev/zero"],
        ["cert", "inspect", "/dev/zero"],
    ],
    ids=["directory import", "message lint", "cert inspect"],
)
def test_dev_zero_is_refused_unread(argv: list[str], tmp_path: Path) -> None:
    if not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero")
    command = [sys.executable, "-m", "mssante", *(part.format(tmp=tmp_path) for part in argv)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=HANG_GUARD, check=False)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{' '.join(argv)} was still running after {HANG_GUARD} seconds")
    assert_one_line_refusal(done.returncode, done.stdout, done.stderr, "character device")
    assert sorted(path.name for path in tmp_path.iterdir()) == []


def test_a_directory_is_refused(tmp_path: Path) -> None:
    status, out, err = run_bounded(["message", "lint", str(tmp_path)])
    assert_one_line_refusal(status, out, err, "a directory, not a regular file")


def test_a_link_to_a_regular_file_is_read(composed: Path, tmp_path: Path) -> None:
    link = tmp_path / "link.eml"
    link.symlink_to(composed)
    status, payload = run_json("message", "inspect", str(link))
    assert status == 0, payload


# -- writing: only a regular file is replaced -----------------------------------------------------------------------


def make_fifo(path: Path) -> None:
    os.mkfifo(path)


def make_device(path: Path) -> None:
    """A character device like /dev/full (1, 7), made in the test's folder: never the real one."""
    try:
        os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, 7))
    except PermissionError:
        pytest.skip("making a device needs CAP_MKNOD")


def make_link(path: Path) -> None:
    target = path.with_name("target")
    target.write_bytes(b"the link's target")
    path.symlink_to(target)


def make_directory(path: Path) -> None:
    path.mkdir()


@pytest.fixture
def make_socket() -> Iterator[Callable[[Path], None]]:
    sockets: list[socket.socket] = []

    def make(path: Path) -> None:
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        server.bind(str(path))
        sockets.append(server)

    yield make
    for server in sockets:
        server.close()


TARGETS = {
    "fifo": (make_fifo, "FIFO"),
    "character device": (make_device, "character device"),
    "symbolic link": (make_link, "symbolic link"),
    "directory": (make_directory, "a directory"),
    "socket": (None, "socket"),
}
WRITERS: dict[str, list[str]] = {
    "message compose": [*COMPOSE, "--text", "Bonjour", "--out", "{target}"],
    "mdn build": ["mdn", "build", "{eml}", "--from", DOCTOR, "--final-recipient", DOCTOR, "--confirmed", "--out",
                  "{target}"],
    "xdm pack": ["xdm", "pack", CDA, "--out", "{target}", "--at", AT, "--env", "test", "--metadata",
                 str(DATA / "xdm" / "content-type-outpatient.json")],
    "whitelist export": ["whitelist", "export", "--format", "cafile", "--out", "{target}"],
    "directory import --db": ["directory", "import", str(DATA / "directory" / "extraction-SYNTHETIC.txt"), "--db",
                              "{target}"],
}  # fmt: skip


def kind_of(path: Path) -> tuple[int, str | None]:
    mode = stat.S_IFMT(os.lstat(path).st_mode)
    return mode, os.readlink(path) if stat.S_ISLNK(mode) else None


@pytest.mark.parametrize("target", TARGETS, ids=TARGETS.keys())
@pytest.mark.parametrize("template", WRITERS.values(), ids=WRITERS.keys())
def test_out_replaces_only_a_regular_file(
    template: list[str],
    target: str,
    composed: Path,
    tmp_path: Path,
    make_socket: Callable[[Path], None],
) -> None:
    make, word = TARGETS[target]
    folder = tmp_path / "out"
    folder.mkdir()
    path = folder / "target.out"
    (make or make_socket)(path)
    before = kind_of(path)
    argv = [part.format(target=path, eml=composed) for part in template]
    status, out, err = run_bounded(argv)
    assert_one_line_refusal(status, out, err, word, "give")
    assert kind_of(path) == before
    if target == "symbolic link":
        assert (folder / "target").read_bytes() == b"the link's target"
    assert [name.name for name in folder.iterdir() if name.name.startswith(".")] == []


@pytest.mark.parametrize("template", WRITERS.values(), ids=WRITERS.keys())
def test_out_replaces_a_regular_file(template: list[str], composed: Path, tmp_path: Path) -> None:
    path = tmp_path / "target.out"
    path.write_bytes(b"old")
    status, _, err = run_bounded([part.format(target=path, eml=composed) for part in template])
    assert status in (0, 1), err
    assert path.read_bytes() != b"old"

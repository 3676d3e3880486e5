"""The progress of long work on standard error: rich's bars on a terminal, a plain line without rich, nothing off a
terminal; and the JSON answer on standard output unchanged either way."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import io
import json
import ssl
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import rich.progress  # noqa: F401 - imported before any server thread starts (see tests/conftest.py)
from cryptography.hazmat.primitives import serialization

from mssante.cli import main
from mssante.cli._progress import count_progress, download_progress, is_terminal
from mssante.cli._session import session_arguments, session_options
from mssante.pki import CrlFetcher, Environment
from mssante.testing import TestPki
from tests.local_server import LocalServer, Reply

DATA = Path(__file__).parent.parent / "data"
EXTRACTION = str(DATA / "directory" / "extraction-SYNTHETIC.txt")
RESTORED = DATA / "listeblanchemssante-2025-03-13-restored.xml"


class Terminal(io.StringIO):
    """Standard error as a terminal."""

    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An ordinary terminal, the test's own cache, and local servers reached without a proxy."""
    monkeypatch.setenv("TERM", "xterm")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


@pytest.fixture
def without_rich(monkeypatch: pytest.MonkeyPatch) -> None:
    """rich cannot be imported (the cli extra is not installed)."""
    for name in ("rich", "rich.console", "rich.progress"):
        monkeypatch.setitem(sys.modules, name, None)


def ended(shown: str) -> bool:
    """Whether rich's display was stopped: the cursor it hid is shown again, last."""
    return shown.endswith("\x1b[?25h")


# --- the reporter -----------------------------------------------------------------------------------------------


def test_nothing_off_a_terminal() -> None:
    stream = io.StringIO()
    with count_progress(stream, "importing") as rows, download_progress(stream, "CRL") as received:
        assert (rows, received) == (None, None)
    assert stream.getvalue() == ""


def test_nothing_off_a_terminal_even_without_rich(without_rich: None) -> None:
    with download_progress(io.StringIO(), "CRL") as received:
        assert received is None


def test_odd_streams_are_not_terminals() -> None:
    closed = io.StringIO()
    closed.close()
    assert is_terminal(Terminal()) is True
    assert (is_terminal(io.StringIO()), is_terminal(closed)) == (False, False)


def test_rich_counts_rows_on_a_terminal() -> None:
    stream = Terminal()
    with count_progress(stream, "importing") as rows:
        assert rows is not None
        rows(1000)
        rows(2000)
    shown = stream.getvalue()
    assert "importing 2,000 rows" in shown
    assert "\x1b[" in shown  # terminal control: rich drew it
    assert "importing:" not in shown  # not the plain line
    assert ended(shown)


def test_rich_shows_each_download_on_a_terminal() -> None:
    stream = Terminal()
    with download_progress(stream, "CRL") as received:
        assert received is not None
        for got, total in [(0, 3000), (1500, 3000), (3000, 3000), (0, None), (700, None)]:
            received(got, total)
    shown = stream.getvalue()
    assert "3.0/3.0 kB" in shown
    assert "700/700 bytes" in shown  # a download of unknown length is full once done
    assert "CRL:" not in shown
    assert ended(shown)


def test_plain_line_without_rich(without_rich: None) -> None:
    stream = Terminal()
    with count_progress(stream, "importing") as rows:
        assert rows is not None
        rows(1000)
        rows(2000)
    assert stream.getvalue() == "\rimporting: 1,000 rows\rimporting: 2,000 rows\n"


def test_plain_downloads_without_rich(without_rich: None) -> None:
    stream = Terminal()
    with download_progress(stream, "CRL") as received:
        assert received is not None
        for got, total in [(0, 2_500_000), (999_900, 2_500_000), (999_960, 2_500_000), (2_500_000, 2_500_000)]:
            received(got, total)
        received(0, None)  # the next download
        received(700, None)
    first, second, end = stream.getvalue().split("\n")
    shown = ["", "CRL: 0 B of 2.5 MB", "CRL: 999.9 kB of 2.5 MB", "CRL: 1.0 MB of 2.5 MB  ", "CRL: 2.5 MB of 2.5 MB"]
    assert first.split("\r") == shown  # a shorter text blanks what the longer one left
    assert second == "\rCRL: 0 B\rCRL: 700 B"
    assert end == ""


@pytest.mark.parametrize("rich_installed", [True, False], ids=["rich", "plain"])
def test_nothing_shown_when_nothing_happens(rich_installed: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    if not rich_installed:
        monkeypatch.setitem(sys.modules, "rich", None)
    stream = Terminal()
    with count_progress(stream, "importing") as rows, download_progress(stream, "CRL") as received:
        assert rows is not None
        assert received is not None
    assert stream.getvalue() == ""


@pytest.mark.parametrize("rich_installed", [True, False], ids=["rich", "plain"])
def test_the_display_ends_when_the_work_fails(rich_installed: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    if not rich_installed:
        monkeypatch.setitem(sys.modules, "rich", None)
    stream = Terminal()

    def broken_download() -> None:
        with download_progress(stream, "allow-list") as received:
            assert received is not None
            received(0, None)
            raise RuntimeError("the download broke")

    with pytest.raises(RuntimeError, match="broke"):
        broken_download()
    assert ended(stream.getvalue()) if rich_installed else stream.getvalue().endswith("\n")


# --- the commands -----------------------------------------------------------------------------------------------


def run_on_terminal(*argv: str) -> tuple[int, str, str]:
    """``mssante ARGV`` with standard error a terminal: status, standard output, standard error."""
    out, err = io.StringIO(), Terminal()
    status = main(list(argv), out=out, err=err)
    return status, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("rich_installed", [True, False], ids=["rich", "plain"])
def test_directory_import_shows_rows_and_keeps_the_json(
    rich_installed: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not rich_installed:
        monkeypatch.setitem(sys.modules, "rich", None)
    status, out, err = run_on_terminal("directory", "import", EXTRACTION, "--db", str(tmp_path / "i.db"), "--json")
    assert status == 0
    payload = json.loads(out)  # one JSON object, and nothing else
    assert (payload["ok"], payload["rows"]) == (True, 3)
    if rich_installed:
        assert "importing 3 rows" in err
        assert ended(err)
    else:
        assert err == "\rimporting: 3 rows\n"


def test_directory_import_off_a_terminal_shows_nothing(tmp_path: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    assert main(["directory", "import", EXTRACTION, "--db", str(tmp_path / "i.db"), "--json"], out=out, err=err) == 0
    assert json.loads(out.getvalue())["rows"] == 3
    assert err.getvalue() == ""


@pytest.fixture(scope="module")
def pki() -> TestPki:
    return TestPki.create(environment=Environment.PROD, at=dt.datetime.now(dt.timezone.utc))


@pytest.fixture
def list_server(pki: TestPki, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """An https server for ``localhost`` (a TestPki SERV SSL certificate) serving the real list, and its roots."""
    identity = pki.server(["localhost"])
    (tmp_path / "server.pem").write_bytes(identity.pem())
    (tmp_path / "server.key").write_bytes(identity.key_pem())
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "server.pem", tmp_path / "server.key")
    roots = tmp_path / "roots.pem"
    roots.write_bytes(b"".join(c.public_bytes(serialization.Encoding.PEM) for c in [*pki.anchors, *pki.intermediates]))
    server = LocalServer(context, host="localhost")
    server.routes["/listeblanchemssante.xml"] = Reply(RESTORED.read_bytes())
    try:
        yield server.url("/listeblanchemssante.xml"), roots
    finally:
        server.stop()


@pytest.mark.parametrize("rich_installed", [True, False], ids=["rich", "plain"])
def test_whitelist_fetch_shows_the_download_and_keeps_the_json(
    rich_installed: bool, list_server: tuple[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not rich_installed:
        monkeypatch.setitem(sys.modules, "rich", None)
    url, roots = list_server
    fetch = ["whitelist", "fetch", "--url", url, "--cache-dir", str(tmp_path / "c"), "--trust-anchor", str(roots)]
    status, out, err = run_on_terminal(*fetch, "--json")
    assert status == 0, out
    payload = json.loads(out)  # one JSON object, and nothing else
    assert (payload["changed"], payload["entries"]) == (True, 6554)
    if rich_installed:
        assert "allow-list" in err
        assert "3.7/3.7 MB" in err
        assert ended(err)
    else:
        assert err.startswith("\rallow-list: 0 B of 3.7 MB")
        assert err.endswith("\rallow-list: 3.7 MB of 3.7 MB\n")


@pytest.mark.parametrize("terminal", [True, False], ids=["terminal", "pipe"])
def test_the_sessions_give_their_crl_fetcher_a_progress_on_a_terminal(terminal: bool) -> None:
    args = session_arguments().parse_args(["--server", "localhost:587"])
    args.streams = (io.StringIO(), Terminal() if terminal else io.StringIO())
    with contextlib.ExitStack() as stack:
        fetcher = session_options(args, stack)["revocation"]
        assert isinstance(fetcher, CrlFetcher)
        assert (fetcher.progress is not None) is terminal
    off = argparse.Namespace(**{**vars(args), "revocation": "off"})
    with contextlib.ExitStack() as stack:
        assert not isinstance(session_options(off, stack)["revocation"], CrlFetcher)

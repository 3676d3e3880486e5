"""docs/getting-started.md: every command of the ``mssante demo --keep demo`` console block runs as written.

The commands are read from the page itself (``$`` lines, ``\\`` continuations joined, ``#`` comments dropped), so
the page and this test cannot drift apart; they run in a fresh folder, one after the other, through the
command line. ``<the Message-ID>`` stands for the Message-ID the demo printed.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from mssante.demo import next_commands
from tests.cli.running import run

PAGE = Path(__file__).resolve().parent.parent.parent / "docs" / "getting-started.md"
FIRST = ["mssante", "demo", "--keep", "demo"]
PLACEHOLDER = "<the Message-ID>"

_CONSOLE = re.compile(r"^```console\n(.*?)^```", re.MULTILINE | re.DOTALL)


def console_commands(block: str) -> list[list[str]]:
    """The commands of a console block: each ``$`` line with its ``\\`` continuations, split as a shell would."""
    commands: list[str] = []
    for line in block.splitlines():
        if line.startswith("$ "):
            commands.append(line[2:])
        elif commands and commands[-1].endswith("\\"):
            commands[-1] = commands[-1][:-1] + " " + line.strip()
    return [shlex.split(command, comments=True) for command in commands]


def demo_block() -> list[list[str]]:
    """The console block of the page whose first command is ``mssante demo --keep demo``."""
    blocks = [console_commands(match[1]) for match in _CONSOLE.finditer(PAGE.read_text(encoding="utf-8"))]
    found = [commands for commands in blocks if commands and commands[0] == FIRST]
    assert len(found) == 1, f"{PAGE.name} has {len(found)} console blocks starting with {shlex.join(FIRST)}"
    return found[0]


FOLLOW_UP = demo_block()[1:]


@pytest.fixture(scope="module")
def kept(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A folder where the page's first command ran, and the Message-ID it printed."""
    folder = tmp_path_factory.mktemp("getting-started")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        status, out, err = run(*FIRST[1:])
    assert status == 0, out + err
    found = re.search(r"Message-ID: (<[^\s<>]+>)", out)
    assert found, out
    return folder, found[1]


def test_the_block_has_the_follow_up_commands() -> None:
    assert all(command[0] == "mssante" for command in FOLLOW_UP)
    assert [" ".join(command[1:3]) for command in FOLLOW_UP if command[1] == "cert"] == ["cert verify"]
    assert sum(PLACEHOLDER in command for command in FOLLOW_UP) == 1


def test_the_page_shows_what_the_demo_tells_to_run() -> None:
    assert [shlex.split(command) for command, _ in next_commands("demo", PLACEHOLDER)] == FOLLOW_UP


@pytest.mark.parametrize("command", FOLLOW_UP, ids=[" ".join(command[1:3]) for command in FOLLOW_UP])
def test_each_follow_up_command_runs(
    kept: tuple[Path, str], command: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder, message_id = kept
    monkeypatch.chdir(folder)
    argv = [message_id if word == PLACEHOLDER else word for word in command]
    status, out, err = run(*argv[1:])
    assert status == 0, f"{shlex.join(argv)}\n{out}{err}"

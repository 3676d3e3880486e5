"""The command line starts light: its tree is built without importing any command, and has no import cycle.

- ``mssante --version`` and ``mssante --help`` (and ``import mssante.cli``) load no module of mssante but the command
  line's light modules and ``mssante._version``, and none of httpx, ssl, asyncio, dns or cryptography.
- A check that needs no network (``ins check``, ``id check``, ``address check``) loads the pure packages it needs,
  and no network library, no certificate library and no other package of the SDK; no command that works offline
  (``cert inspect``, ``whitelist show``, ``xdm validate``, ``message lint``, ``directory lookup``, ...) loads a
  network library.
- The modules of ``mssante.cli`` form no import cycle, counting the handlers and argument types the tree names as
  ``"module:function"`` (imported when a command runs) as imports of the tree.
- The values the tree offers without importing the SDK are the SDK's own.

Each start is a fresh interpreter; what it loaded is read from ``sys.modules`` as it exits. Nothing is timed here:
``benchmarks/bench_startup.py`` measures.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import grimp
import pytest

from mssante import identifiers, message, pki, transport, xdm
from mssante.cli import _choices
from mssante.cli._parsing import PROG, Deferred, Parser, json_flag, resolve
from mssante.cli._tree import COMMANDS, build_parser

_TIMEOUT = 120  # seconds: a hang, not a measure
_LIGHT = ("mssante", "mssante._version")
_HEAVY = ("httpx", "httpcore", "ssl", "asyncio", "dns", "cryptography", "smtplib", "imaplib", "sqlite3")
_VALID_INS = "255087505601812"


_AT_EXIT = """
import atexit, json, runpy, sys
atexit.register(lambda: sys.stderr.write("\\nloaded: " + json.dumps(sorted(sys.modules)) + "\\n"))
"""


def _loaded(*arguments: str, status: int = 0, cwd: Path | None = None) -> set[str]:
    """The modules in ``sys.modules`` when a fresh ``python -m mssante ARGUMENTS`` (or ``python -c CODE`` for
    ``("-c", CODE)``) exits; it must exit with ``status``."""
    if arguments[0] == "-c":
        code = _AT_EXIT + arguments[1]
    else:
        code = _AT_EXIT + f"sys.argv = ['mssante', *{arguments!r}]\nrunpy.run_module('mssante', run_name='__main__')"
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTHON")}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=_TIMEOUT, env=env, check=False, cwd=cwd
    )
    assert done.returncode == status, done.stderr[-2000:]
    lines = [line for line in done.stderr.splitlines() if line.startswith("loaded: ")]
    assert len(lines) == 1, done.stderr[-2000:]
    loaded: list[str] = json.loads(lines[0].removeprefix("loaded: "))
    return set(loaded)


def _sdk(modules: set[str]) -> set[str]:
    return {name for name in modules if name == "mssante" or name.startswith("mssante.")}


def _heavy(modules: set[str]) -> set[str]:
    return {name for name in modules if name.split(".")[0] in _HEAVY}


def _outside_cli(modules: set[str]) -> set[str]:
    return {name for name in _sdk(modules) if name not in _LIGHT and not name.startswith("mssante.cli")}


@pytest.mark.parametrize(
    ("arguments", "added"),
    [
        (("--version",), set()),
        (("--help",), set()),
        (("ins", "--help"), {"mssante.cli._args_values"}),
        (("send", "--help"), {"mssante.cli._args_network"}),
        (("-c", "import mssante.cli"), set()),
        (("-c", "from mssante.cli import main; main(['--version'])"), set()),
    ],
    ids=["--version", "--help", "ins --help", "send --help", "import", "main --version"],
)
def test_starting_imports_nothing_of_the_sdk(arguments: tuple[str, ...], added: set[str]) -> None:
    loaded = _loaded(*arguments)
    assert "mssante.cli._tree" in loaded  # the tree was built (or imported)
    assert {name for name in loaded if name.startswith("mssante.cli._args_")} == added  # the commands named only
    assert _outside_cli(loaded) == set()
    assert _heavy(loaded) == set()
    assert "mssante.cli._run" not in loaded  # no command ran: nothing of what running one needs


@pytest.mark.parametrize(
    ("arguments", "packages"),
    [
        (("ins", "check", _VALID_INS), {"identifiers"}),
        (("ins", "check", _VALID_INS, "--oid", "nir"), {"identifiers"}),
        (("id", "check", "10000001916"), {"identifiers"}),
        (("address", "check", "jean.dupont@chu-exemple.mssante.fr"), {"addresses", "identifiers"}),
    ],
    ids=["ins", "ins --oid", "id", "address"],
)
def test_a_pure_check_imports_only_the_pure_packages_it_needs(arguments: tuple[str, ...], packages: set[str]) -> None:
    loaded = _loaded(*arguments)
    shared = {"mssante._html", "mssante._renamed", "mssante.report", "mssante.errors"}  # every check returns, raises
    allowed = {f"mssante.{package}" for package in packages}
    outside = {
        name for name in _outside_cli(loaded) if name not in shared and ".".join(name.split(".")[:2]) not in allowed
    }
    assert outside == set()
    assert allowed <= loaded
    assert _heavy(loaded) == set()


_NETWORK = ("httpx", "httpcore", "ssl", "asyncio", "dns", "smtplib", "imaplib")


@pytest.mark.parametrize(
    "arguments",
    [
        ("cert", "inspect", "missing.pem"),
        ("whitelist", "show", "--file", "missing.xml"),
        ("whitelist", "diff", "old.xml", "new.xml"),
        ("xdm", "validate", "missing.zip"),
        ("message", "lint", "missing.eml"),
        ("mdn", "parse", "missing.eml"),
        ("directory", "lookup", "10000001916", "--db", "missing/index.sqlite3"),
        ("track", "observe", "missing.eml", "--db", "missing/tracking.sqlite3"),
    ],
    ids=lambda arguments: " ".join(arguments[:2]),
)
def test_a_command_without_network_imports_no_network_library(arguments: tuple[str, ...], tmp_path: Path) -> None:
    loaded = _loaded(*arguments, status=2, cwd=tmp_path)  # the files are missing: exit status 2, the command ran
    assert {name for name in loaded if name.split(".")[0] in _NETWORK} == set()


def _parsers(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    """``parser`` and every parser below it, each command added whole."""
    if isinstance(parser, Parser):
        parser = parser.whole()
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in dict.fromkeys(action.choices.values()):  # a parser once, whatever its aliases
                yield from _parsers(child)


def _named() -> dict[str, set[str]]:
    """What the tree names as ``"module:function"``: each target and the commands (by prog) naming it."""
    named: dict[str, set[str]] = {}
    for parser in _parsers(build_parser()):
        handler = parser.get_default("handler")
        if handler is not None:
            named.setdefault(handler, set()).add(parser.prog)
        for action in parser._actions:
            if isinstance(action.type, Deferred):
                named.setdefault(action.type.target, set()).add(f"{parser.prog} {action.dest}")
    return named


def test_every_command_names_a_handler_that_exists() -> None:
    named = _named()
    assert len([target for target in named if target.partition(":")[2].startswith("run_")]) >= 30
    for target in named:
        assert target.startswith("mssante.cli._"), target
        assert callable(resolve(target)), target
    leaves = [
        parser.prog
        for parser in _parsers(build_parser())
        if not any(isinstance(action, argparse._SubParsersAction) for action in parser._actions)
    ]
    assert all(build_parser().parse_args([*prog.split()[1:], *_required(prog)]).handler for prog in leaves)


def _required(prog: str) -> list[str]:
    """Arguments enough for ``prog`` to parse (its positionals and required options)."""
    parser = next(parser for parser in _parsers(build_parser()) if parser.prog == prog)
    given: list[str] = []
    for action in parser._actions:
        if action.option_strings and not action.required:
            continue
        if isinstance(action, argparse._HelpAction):
            continue
        value = "h:1" if action.dest == "server" else "x"
        if action.choices:
            value = next(iter(action.choices))
        given += [*(action.option_strings[:1]), value]
    return given


def test_a_command_is_added_whole_only_when_named() -> None:
    parser = build_parser()
    (groups,) = [action for action in parser._actions if isinstance(action, argparse._SubParsersAction)]
    assert [name for name, _, _ in COMMANDS] == list(groups.choices)
    for name, about, register in COMMANDS:  # the help of the top level is the one the command is added with
        root = Parser(prog=PROG)
        added = root.add_subparsers(parser_class=Parser)
        resolve(register)(added, json_flag())
        assert list(added.choices) == [name]
        assert [action.help for action in added._choices_actions] == [about]
    assert all(isinstance(child, Parser) and child.adds is not None for child in groups.choices.values())
    parser.parse_args(["ins", "check", "x"])
    built = [name for name, child in groups.choices.items() if child._whole is not None]
    assert built == ["ins"]
    ins = groups.choices["ins"]
    assert ins.whole().prog == "mssante ins"
    assert ins.whole() is ins.whole()


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Every cycle found by a depth-first walk of ``edges`` (one per back edge), as the path that closes it."""
    found: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the path, 2: done
    path: list[str] = []

    def walk(module: str) -> None:
        state[module] = 1
        path.append(module)
        for imported in sorted(edges.get(module, ())):
            if state.get(imported) == 1:
                found.append([*path[path.index(imported) :], imported])
            elif imported not in state:
                walk(imported)
        path.pop()
        state[module] = 2

    for module in sorted(edges):
        if module not in state:
            walk(module)
    return found


def test_the_command_line_has_no_import_cycle() -> None:
    graph = grimp.build_graph("mssante", include_external_packages=False, cache_dir=None)  # imports in functions too
    modules = {module for module in graph.modules if module == "mssante.cli" or module.startswith("mssante.cli.")}
    edges = {module: graph.find_modules_directly_imported_by(module) & modules for module in modules}
    for target in _named():  # the tree names them: counted as imported by the tree
        edges["mssante.cli._tree"].add(target.partition(":")[0])
    assert _cycles(edges) == []
    # and the walk does find one when there is one
    assert _cycles({**edges, "mssante.cli._contract": {"mssante.cli._app"}}) != []


def test_commands_import_neither_the_tree_nor_the_entry_point() -> None:
    graph = grimp.build_graph("mssante", include_external_packages=False, cache_dir=None)
    importers = graph.find_modules_that_directly_import("mssante.cli._app") | graph.find_modules_that_directly_import(
        "mssante.cli._tree"
    )
    assert importers <= {"mssante.cli", "mssante.cli._app"}


def test_the_values_offered_are_the_sdk_ones() -> None:
    assert tuple(environment.value for environment in pki.Environment) == _choices.PKI_ENVIRONMENTS
    assert tuple(purpose.value for purpose in pki.Purpose) == _choices.PURPOSES
    assert tuple(mode.value for mode in pki.RevocationMode) == _choices.REVOCATION_MODES
    kinds = tuple(kind.value for kind in identifiers.IdentifierType if kind is not identifiers.IdentifierType.INS)
    assert kinds == _choices.ID_TYPES
    assert tuple(authority.name.lower() for authority in identifiers.InsAuthority) == _choices.INS_AUTHORITIES
    assert tuple(xdm.ENVIRONMENTS) == _choices.XDM_ENVIRONMENTS
    assert tuple(message.MDN_FORMS) == _choices.MDN_FORMS
    # the default deadline of a session, as the signature of a session says it
    assert inspect.signature(transport.Submission).parameters["max_duration"].default == _choices.DEFAULT_MAX_DURATION
    assert inspect.signature(transport.ImapMailbox).parameters["max_duration"].default == _choices.DEFAULT_MAX_DURATION

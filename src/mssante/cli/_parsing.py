"""What every part of the command tree is built with: the parser class, ``--json``, command groups, and
handlers and argument types named ``"module:function"``, imported only when they are used.

A command of the top level is first added by its name and help only (:func:`add_command`); the function that adds
it whole (its arguments, its own commands) runs when the command line names it, so that ``mssante ins check``
builds the ``ins`` commands and no other, and ``mssante --version`` none.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable, Sequence

from mssante.cli._contract import UsageError

TYPE_CHECKING = False  # not typing's: the command line starts without importing typing
if TYPE_CHECKING:
    from typing import Any, NoReturn

__all__ = ["PROG", "Deferred", "Parser", "add_command", "command_group", "json_flag", "resolve"]

PROG = "mssante"


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are :class:`UsageError` (exit status 2, one line), not an exit.

    One added by :func:`add_command` stands for the command until it is parsed: then the command is added whole, and
    parses the arguments.
    """

    adds: tuple[str, str] | None = None
    """The command's name and the function (``"module:function"``) that adds it whole; None when this is it."""

    _whole: argparse.ArgumentParser | None = None

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}")

    def whole(self) -> argparse.ArgumentParser:
        """The parser of the command with its arguments: this one, or the one the function of :attr:`adds` adds."""
        if self.adds is None:
            return self
        if self._whole is None:
            name, register = self.adds
            root = Parser(prog=PROG)  # the same prefix as the top level's: "mssante <name>"
            groups = root.add_subparsers(title="commands", metavar="COMMAND", parser_class=Parser)
            resolve(register)(groups, json_flag())
            self._whole = groups.choices[name]
        return self._whole

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        whole = self.whole()
        if whole is not self:
            return whole.parse_known_args(args, namespace)
        return super().parse_known_args(args, namespace)


def add_command(groups: argparse._SubParsersAction[Any], name: str, about: str, register: str) -> None:
    """Add the command ``name`` with its help ``about``; ``register`` (``"module:function"``, called with the group
    and the ``--json`` parent parser) adds it whole when the command line names it."""
    parser = groups.add_parser(name, help=about)
    assert isinstance(parser, Parser)
    parser.adds = (name, register)


def json_flag() -> argparse.ArgumentParser:
    """``--json``, as a parent parser of each command."""
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument(
        "--json",
        action="store_true",
        default=argparse.SUPPRESS,
        help="print exactly one JSON object on standard output",
    )
    return parent


def command_group(groups: argparse._SubParsersAction[Any], name: str, about: str) -> argparse._SubParsersAction[Any]:
    """``mssante <name> COMMAND``: a group of commands, one of which must be given."""
    group: argparse._SubParsersAction[Any] = groups.add_parser(name, help=about).add_subparsers(
        title="commands", metavar="COMMAND", required=True
    )
    return group


def resolve(target: str) -> Callable[..., Any]:
    """The function named ``"package.module:function"``, its module imported now."""
    module, _, name = target.partition(":")
    function: Callable[..., Any] = getattr(importlib.import_module(module), name)
    return function


class Deferred:
    """An argument type named ``"module:function"``: the module is imported when a value is converted.

    The function raises :class:`argparse.ArgumentTypeError` with the message the user reads.
    """

    def __init__(self, target: str) -> None:
        self.target = target
        self.__name__ = target.rpartition(":")[2]

    def __call__(self, text: str) -> Any:
        return resolve(self.target)(text)

    def __repr__(self) -> str:
        return f"Deferred({self.target!r})"

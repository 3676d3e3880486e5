"""The ``mssante`` command: parsing, dispatch, and the exit-status and output contract.

Exit status 0 when the answer is ok, 1 when the input was judged not ok, 2 for a usage error
or input that cannot be read. With ``--json`` standard output carries exactly one JSON
object; messages go to standard error. No traceback is ever an answer.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from collections.abc import Callable, Sequence
from typing import Any, NoReturn, TextIO

from mssante._version import __version__
from mssante.errors import InvalidInput, MssanteError, SecurityWarning, TransportError
from mssante.report import Finding

__all__ = ["EXIT_INVALID", "EXIT_OK", "EXIT_USAGE", "Outcome", "UsageError", "main"]

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2

Outcome = tuple[dict[str, Any], list[str], int]
"""What a command returns: the JSON object, the lines for humans, the exit status."""

Handler = Callable[[argparse.Namespace], Outcome]


class UsageError(Exception):
    """The command line cannot be understood (exit status 2)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}")


def command_group(groups: argparse._SubParsersAction[Any], name: str, about: str) -> argparse._SubParsersAction[Any]:
    """``mssante <name> COMMAND``: a group of commands, one of which must be given."""
    group: argparse._SubParsersAction[Any] = groups.add_parser(name, help=about).add_subparsers(
        title="commands", metavar="COMMAND", required=True
    )
    return group


def _json_flag() -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument(
        "--json",
        action="store_true",
        default=argparse.SUPPRESS,
        help="print exactly one JSON object on standard output",
    )
    return parent


def build_parser() -> argparse.ArgumentParser:
    """The whole command tree."""
    from mssante.cli import _cert, _checks, _demo, _directory, _fetch, _message, _send, _track, _whitelist, _xdm  # noqa: PLC0415 (commands register themselves on the tree)

    parser = _Parser(
        prog="mssante",
        description="The MSSanté SDK from a shell: identifiers, addresses, certificates, the allow-list, XDM "
        "packages, messages, read receipts, the directory, transport and delivery tracking.",
        parents=[_json_flag()],
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    groups = parser.add_subparsers(title="commands", metavar="COMMAND", parser_class=_Parser)
    _checks.register(groups, _json_flag())
    _cert.register(groups, _json_flag())
    _whitelist.register(groups, _json_flag())
    _xdm.register(groups, _json_flag())
    _message.register(groups, _json_flag())
    _directory.register(groups, _json_flag())
    _send.register(groups, _json_flag())
    _fetch.register(groups, _json_flag())
    _track.register(groups, _json_flag())
    _demo.register(groups, _json_flag())
    return parser


def _write(stream: TextIO, text: str) -> None:
    """Write ``text``; what the stream cannot encode (a lone surrogate from undecodable argv) is escaped."""
    try:
        stream.write(text)
    except UnicodeEncodeError:
        encoding = stream.encoding or "utf-8"
        stream.write(text.encode(encoding, "backslashreplace").decode(encoding))


def _emit(stream: TextIO, payload: dict[str, Any]) -> None:
    _write(stream, json.dumps(payload, ensure_ascii=False, indent=2) + "\n")


def _failure(
    message: str,
    *,
    as_json: bool,
    out: TextIO,
    err: TextIO,
    status: int = EXIT_USAGE,
    findings: Sequence[Finding] = (),
) -> int:
    line = " ".join(message.split())
    codes = [finding.code for finding in findings if finding.code not in line]
    if codes:
        line = f"{line} ({', '.join(dict.fromkeys(codes))})"
    if as_json:
        _emit(out, {"ok": False, "error": line, "findings": [finding.to_dict() for finding in findings]})
    _write(err, f"{line}\n")
    return status


def main(argv: Sequence[str] | None = None, *, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``) and return the exit status."""
    out = out or sys.stdout
    err = err or sys.stderr
    arguments = list(sys.argv[1:] if argv is None else argv)
    as_json = "--json" in arguments
    try:
        args = build_parser().parse_args(arguments)
        if args.version:
            _write(out, f"mssante {__version__}\n")
            return EXIT_OK
        handler: Handler | None = getattr(args, "handler", None)
        if handler is None:
            raise UsageError("mssante: a command is required (see mssante --help)")
        args.streams = (out, err)  # for the commands that tell their progress as they go
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", SecurityWarning)
            payload, lines, status = handler(args)
        for warning in caught:  # a weakened default is said on standard error, never silently
            _write(err, f"mssante: warning: {warning.message}\n")
    except SystemExit as exit_:  # --help
        return exit_.code if isinstance(exit_.code, int) else EXIT_OK
    except UsageError as error:
        return _failure(str(error), as_json=as_json, out=out, err=err)
    except InvalidInput as error:
        findings = error.report.errors
        return _failure(f"mssante: {error}", as_json=as_json, out=out, err=err, findings=findings)
    except TransportError as error:  # a peer refused, or could not be reached: a verdict when a finding says why
        status = EXIT_USAGE if error.report.ok else EXIT_INVALID
        findings = error.report.findings
        return _failure(f"mssante: {error}", as_json=as_json, out=out, err=err, status=status, findings=findings)
    except (MssanteError, OSError, UnicodeError, ValueError) as error:  # ValueError: the library refusing an argument
        return _failure(f"mssante: {error}", as_json=as_json, out=out, err=err)
    except KeyboardInterrupt:
        return _failure("mssante: interrupted", as_json=as_json, out=out, err=err, status=130)
    except Exception as error:
        return _failure(
            f"mssante: internal error ({type(error).__name__}: {error}); please report it",
            as_json=as_json,
            out=out,
            err=err,
        )
    if getattr(args, "json", False):
        _emit(out, payload)
    else:
        _write(out, "".join(f"{line}\n" for line in lines))
    return status

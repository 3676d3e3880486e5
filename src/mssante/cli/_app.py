"""The ``mssante`` command: parsing, then the command named on the command line, imported only now.

``mssante --version`` and ``mssante --help`` import nothing of the SDK but its version. The exit-status and output
contract is in :mod:`mssante.cli._contract`; running a command, in :mod:`mssante.cli._run`.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from mssante._version import __version__
from mssante.cli._contract import EXIT_OK, UsageError, failure, internal_error, write
from mssante.cli._tree import build_parser

TYPE_CHECKING = False  # not typing's: the command line starts without importing typing
if TYPE_CHECKING:
    from typing import TextIO

__all__ = ["main"]


def main(argv: Sequence[str] | None = None, *, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``) and return the exit status."""
    out = out or sys.stdout
    err = err or sys.stderr
    arguments = list(sys.argv[1:] if argv is None else argv)
    as_json = "--json" in arguments
    try:
        args = build_parser().parse_args(arguments)
        if args.version:
            write(out, f"mssante {__version__}\n")
            return EXIT_OK
        handler: str | None = getattr(args, "handler", None)
        if handler is None:
            raise UsageError("mssante: a command is required (see mssante --help)")
        from mssante.cli._run import run  # noqa: PLC0415 (the SDK is loaded when a command runs, not for --help)
    except SystemExit as exit_:  # --help
        return exit_.code if isinstance(exit_.code, int) else EXIT_OK
    except UsageError as error:
        return failure(str(error), as_json=as_json, out=out, err=err)
    except KeyboardInterrupt:
        return failure("mssante: interrupted", as_json=as_json, out=out, err=err, status=130)
    except Exception as error:
        return internal_error(error, as_json=as_json, out=out, err=err)
    return run(handler, args, as_json=as_json, out=out, err=err)

"""Running one command: its handler imported, its answer written, every failure told in one line.

A weakened default (a :class:`~mssante.errors.SecurityWarning`) is said on standard error, never silently.
"""

from __future__ import annotations

import argparse
import warnings
from typing import TextIO, cast

from mssante.cli._contract import (
    EXIT_INVALID,
    EXIT_OK,
    EXIT_USAGE,
    Handler,
    UsageError,
    emit,
    failure,
    internal_error,
    write,
)
from mssante.cli._parsing import resolve
from mssante.errors import InvalidInput, MssanteError, SecurityWarning, TransportError

__all__ = ["run"]


def run(target: str, args: argparse.Namespace, *, as_json: bool, out: TextIO, err: TextIO) -> int:
    """Run the handler named ``target`` (``"module:function"``) on ``args``; return the exit status."""
    try:
        handler = cast(Handler, resolve(target))
        args.streams = (out, err)  # for the commands that tell their progress as they go
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", SecurityWarning)
            payload, lines, status = handler(args)
        for warning in caught:  # a weakened default is said on standard error, never silently
            write(err, f"mssante: warning: {warning.message}\n")
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else EXIT_OK
    except UsageError as error:
        return failure(str(error), as_json=as_json, out=out, err=err)
    except InvalidInput as error:
        findings = error.report.errors
        return failure(f"mssante: {error}", as_json=as_json, out=out, err=err, findings=findings)
    except TransportError as error:  # a peer refused, or could not be reached: a verdict when a finding says why
        status = EXIT_USAGE if error.report.ok else EXIT_INVALID
        findings = error.report.findings
        return failure(f"mssante: {error}", as_json=as_json, out=out, err=err, status=status, findings=findings)
    except (MssanteError, OSError, UnicodeError, ValueError) as error:  # ValueError: the library refusing an argument
        return failure(f"mssante: {error}", as_json=as_json, out=out, err=err)
    except KeyboardInterrupt:
        return failure("mssante: interrupted", as_json=as_json, out=out, err=err, status=130)
    except Exception as error:
        return internal_error(error, as_json=as_json, out=out, err=err)
    if getattr(args, "json", False):
        emit(out, payload)
    else:
        write(out, "".join(f"{line}\n" for line in lines))
    return status

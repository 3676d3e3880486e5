"""The contract every command keeps: exit statuses, what a command returns, how an answer or a failure is written.

Exit status 0 when the answer is ok, 1 when the input was judged not ok, 2 for a usage error or input that cannot
be read. With ``--json`` standard output carries exactly one JSON object; messages go to standard error. No
traceback is ever an answer.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence

TYPE_CHECKING = False  # not typing's: the command line starts without importing typing
if TYPE_CHECKING:
    from typing import Any, TextIO

    from mssante.report import Finding

__all__ = [
    "EXIT_INVALID",
    "EXIT_OK",
    "EXIT_USAGE",
    "Handler",
    "Outcome",
    "UsageError",
    "emit",
    "failure",
    "internal_error",
    "write",
]

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2

Outcome = tuple[dict[str, "Any"], list[str], int]
"""What a command returns: the JSON object, the lines for humans, the exit status."""

Handler = Callable[[argparse.Namespace], Outcome]


class UsageError(Exception):
    """The command line cannot be understood (exit status 2)."""


def write(stream: TextIO, text: str) -> None:
    """Write ``text``; what the stream cannot encode (a lone surrogate from undecodable argv) is escaped."""
    try:
        stream.write(text)
    except UnicodeEncodeError:
        encoding = stream.encoding or "utf-8"
        stream.write(text.encode(encoding, "backslashreplace").decode(encoding))


def emit(stream: TextIO, payload: dict[str, Any]) -> None:
    """Write ``payload`` as the one JSON object of the answer."""
    import json  # noqa: PLC0415 (only an answer with --json needs it)

    write(stream, json.dumps(payload, ensure_ascii=False, indent=2) + "\n")


def failure(
    message: str,
    *,
    as_json: bool,
    out: TextIO,
    err: TextIO,
    status: int = EXIT_USAGE,
    findings: Sequence[Finding] = (),
) -> int:
    """Tell a failure in one line on ``err`` (and as a JSON object on ``out`` with ``--json``); return ``status``."""
    line = " ".join(message.split())
    codes = [finding.code for finding in findings if finding.code not in line]
    if codes:
        line = f"{line} ({', '.join(dict.fromkeys(codes))})"
    if as_json:
        emit(out, {"ok": False, "error": line, "findings": [finding.to_dict() for finding in findings]})
    write(err, f"{line}\n")
    return status


def internal_error(error: Exception, *, as_json: bool, out: TextIO, err: TextIO) -> int:
    """An exception nothing expected, told as a failure to report (never a traceback); exit status 2."""
    return failure(
        f"mssante: internal error ({type(error).__name__}: {error}); please report it",
        as_json=as_json,
        out=out,
        err=err,
    )

"""Running the command line in-process, as the tests of each command group do."""

from __future__ import annotations

import io
import json
from typing import Any

from mssante.cli import main


def run(*argv: str) -> tuple[int, str, str]:
    """The exit status, standard output and standard error of ``mssante ARGV``."""
    out, err = io.StringIO(), io.StringIO()
    status = main(list(argv), out=out, err=err)
    return status, out.getvalue(), err.getvalue()


def run_json(*argv: str) -> tuple[int, dict[str, Any]]:
    """The exit status and the one JSON object of ``mssante ARGV --json``."""
    status, out, _ = run(*argv, "--json")
    return status, json.loads(out)

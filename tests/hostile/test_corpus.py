"""Run the hostile corpus: each command on each hostile input in a subprocess, under a memory limit and a timeout.

A command passes when it answers as the command-line contract says (exit 0, 1 or 2, exactly one JSON object on
standard output, no traceback), within :data:`MEMORY_LIMIT` of address space and before :data:`HANG_GUARD`; a
special file given as input or output is still that special file afterwards. A Python case passes when its
snippet, which may raise only the library's own errors, ends normally.
"""

from __future__ import annotations

import json
import os
import resource
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from mssante.testing import sample_path
from tests.hostile.corpus import CASES, CDA, Case

MEMORY_LIMIT = 1536 * 1024 * 1024
"""Address space allowed to one run (bytes): the interpreter and its libraries take about 300 MiB of it."""

HANG_GUARD = 60.0
"""Seconds after which a run is a hang (each answers in about a second; this is not a measure)."""


def _limited() -> None:  # runs in the child, before exec
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def _environment() -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if not key.startswith("PYTHON")} | {"LC_ALL": "C.UTF-8"}


def _run(argv: list[str], folder: Path) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            argv, cwd=folder, env=_environment(), stdin=subprocess.DEVNULL, capture_output=True, text=True,
            timeout=HANG_GUARD, preexec_fn=_limited, check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        pytest.fail(f"no answer within {HANG_GUARD:.0f} s (a hang): {' '.join(argv)}")


def _kind(path: Path) -> int:
    return stat.S_IFMT(path.lstat().st_mode)


def _params() -> list[pytest.ParameterSet]:
    params = []
    for case in CASES:
        params += [
            pytest.param(case, index, id=f"{case.name}:{' '.join(command[:2])}")
            for index, command in enumerate(case.commands)
        ]
        if case.python:
            params.append(pytest.param(case, -1, id=f"{case.name}:python"))
    return params


@pytest.mark.parametrize(("case", "index"), _params())
def test_hostile_input_gets_an_answer(case: Case, index: int, tmp_path: Path) -> None:
    hostile = case.make(tmp_path)
    kind = _kind(hostile)
    if index < 0:
        code = f"from mssante.errors import MssanteError\npath = {str(hostile)!r}\n{case.python}"
        done = _run([sys.executable, "-c", code], tmp_path)
        assert done.returncode == 0, done.stdout + done.stderr
        return
    values = {"input": str(hostile), "folder": str(tmp_path), "cda": str(sample_path(CDA))}
    argv = [sys.executable, "-m", "mssante", *(part.format(**values) for part in case.commands[index]), "--json"]
    done = _run(argv, tmp_path)
    said = f"{' '.join(argv[2:])}\nexit {done.returncode}\nstdout: {done.stdout[-2000:]}\nstderr: {done.stderr[-4000:]}"
    assert done.returncode in (0, 1, 2), said  # a signal (negative) or anything else is a crash
    assert "Traceback" not in done.stderr, said
    assert "MemoryError" not in done.stderr + done.stdout, said
    assert "internal error" not in done.stderr + done.stdout, said  # an exception the library let through
    answer = json.loads(done.stdout)
    assert isinstance(answer, dict), said
    assert "ok" in answer or "error" in answer, said
    if case.refused:
        assert done.returncode in (1, 2), said
        assert answer.get("ok") is not True, said
    for text in case.absent:
        assert text not in done.stdout, said
    if case.special:
        assert _kind(hostile) == kind, f"{hostile} was replaced: {said}"

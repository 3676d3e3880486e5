"""What ``ins check``, ``id check`` and ``address check`` share: the values given (or read from standard input)
and the answer made of their verdicts."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import Protocol

from mssante.cli._contract import EXIT_INVALID, EXIT_OK, Outcome
from mssante.report import Report, Severity

__all__ = ["Verdict", "outcome", "values"]

_MAX_STDIN_VALUES = 1_000_000


class Verdict(Protocol):
    """One value checked: what a check of identifiers or addresses gives."""

    @property
    def input(self) -> str: ...
    @property
    def report(self) -> Report: ...
    @property
    def ok(self) -> bool: ...
    def to_dict(self) -> dict[str, object]: ...


def values(given: list[str]) -> Iterator[str]:
    """The values of the command line, or one per line of standard input for ``-``."""
    if given != ["-"]:
        yield from given
        return
    for count, line in enumerate(sys.stdin):
        if count >= _MAX_STDIN_VALUES:
            raise OSError(f"more than {_MAX_STDIN_VALUES} values on standard input")
        if value := line.rstrip("\r\n"):
            yield value


def outcome(verdicts: Iterable[Verdict]) -> Outcome:
    """The answer of a ``check`` command: every value's verdict, ``ok`` when all are valid."""
    results: list[dict[str, object]] = []
    findings: list[dict[str, str]] = []
    lines: list[str] = []
    for index, verdict in enumerate(verdicts):
        data = verdict.to_dict()
        results.append(data)
        findings += [finding.located(f"results[{index}]").to_dict() for finding in verdict.report]
        summary = " ".join(
            [str(data[key]) for key in ("type", "kind") if data.get(key)]
            + (["patient"] if data.get("patient") else [])
            + ([f"-> {data['normalized']}"] if data.get("normalized") not in (None, verdict.input) else [])
        )
        lines.append(f"{'ok' if verdict.ok else 'invalid':8} {verdict.input}  {summary}".rstrip())
        lines += [
            f"         {finding.code} {finding.severity.value}: {finding.message}"
            for finding in verdict.report
            if finding.severity is not Severity.INFO or verdict.ok
        ]
    ok = all(result["valid"] for result in results)
    payload = {"ok": ok, "findings": findings, "results": results}
    return payload, lines, EXIT_OK if ok else EXIT_INVALID

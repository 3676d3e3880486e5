"""Start-up: the command line's process and the import of the pure packages, against bare Python in the same run.

Run: ``python benchmarks/bench_startup.py`` (from the repository root; ``--turns N`` for fewer or more turns).

- Process start-up: a fresh ``python -m mssante --version``, ``mssante ins check <a valid INS>``, ``mssante address
  check <an address>`` and ``mssante --help``, each against ``python -c pass``. Goal: at most 3x for a command that
  needs no network (a compliance suite calls the command line thousands of times).
- Import time, inside a fresh interpreter: ``import mssante.pki`` against ``import cryptography.x509`` and
  ``cryptography.x509.verification`` (goal: at most 1.3x), ``import mssante.message`` against ``import email`` and
  ``email.policy``, ``import mssante.trustspace`` against ``import xml.etree.ElementTree`` and
  ``cryptography.x509`` (the libraries it reads the allow-list and its certificates with).

Each side runs in turns with the other (as ``timing.paired`` does); the table gives milliseconds, minimum and median,
and the ratios. Then the ten slowest imports of ``python -X importtime -m mssante ins check <INS>`` (by each module's
own time, and by the time with what it imports), to see what remains.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Callable

from timing import TURNS, alternate

VALID_INS = "255087505601812"
ADDRESS = "jean.dupont@chu-exemple.mssante.fr"
_IMPORT = "import time; start = time.perf_counter(); {}; print((time.perf_counter() - start) * 1e3)"
ENV = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
"""As a user runs them: the modules' bytecode is written on the first run (the warm-up) and read on the next."""


def _process(*arguments: str) -> Callable[[], float]:
    """A fresh ``python ARGUMENTS``: its milliseconds from start to exit, as the caller sees them."""

    def run() -> float:
        start = time.perf_counter()
        subprocess.run([sys.executable, *arguments], capture_output=True, check=True, env=ENV)
        return (time.perf_counter() - start) * 1e3

    return run


def _import(statement: str) -> Callable[[], float]:
    """The milliseconds ``statement`` (imports) takes in a fresh interpreter, measured inside it."""

    def run() -> float:
        done = subprocess.run(
            [sys.executable, "-c", _IMPORT.format(statement)], capture_output=True, text=True, check=True, env=ENV
        )
        return float(done.stdout)

    return run


BARE = _process("-c", "pass")
CASES: list[tuple[str, Callable[[], float], str, Callable[[], float], float | None]] = [
    ("`mssante --version`", _process("-m", "mssante", "--version"), "`python -c pass`", BARE, 3.0),
    ("`mssante ins check INS`", _process("-m", "mssante", "ins", "check", VALID_INS), "`python -c pass`", BARE, 3.0),
    (
        "`mssante address check ADDRESS`",
        _process("-m", "mssante", "address", "check", ADDRESS),
        "`python -c pass`",
        BARE,
        3.0,
    ),
    ("`mssante --help`", _process("-m", "mssante", "--help"), "`python -c pass`", BARE, 3.0),
    (
        "`import mssante.pki`",
        _import("import mssante.pki"),
        "`import cryptography.x509, cryptography.x509.verification`",
        _import("import cryptography.x509, cryptography.x509.verification"),
        1.3,
    ),
    (
        "`import mssante.message`",
        _import("import mssante.message"),
        "`import email, email.policy`",
        _import("import email, email.policy"),
        None,
    ),
    (
        "`import mssante.trustspace`",
        _import("import mssante.trustspace"),
        "`import xml.etree.ElementTree, cryptography.x509`",
        _import("import xml.etree.ElementTree, cryptography.x509"),
        None,
    ),
]


def slowest_imports(count: int = 10) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """The ``count`` slowest imports of ``mssante ins check``: by own time, and by time with what they import (µs)."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "mssante", "ins", "check", VALID_INS],
        capture_output=True,
        text=True,
        check=True,
        env=ENV,
    )
    own: list[tuple[int, str]] = []
    cumulative: list[tuple[int, str]] = []
    for line in done.stderr.splitlines()[1:]:
        if not line.startswith("import time:"):
            continue
        self_us, total_us, name = line.removeprefix("import time:").split("|")
        own.append((int(self_us), name.strip()))
        cumulative.append((int(total_us), name.rstrip()))
    return sorted(own, reverse=True)[:count], sorted(cumulative, reverse=True)[:count]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=TURNS, help=f"turns of each side (default {TURNS})")
    turns = parser.parse_args().turns
    print(f"{turns} turns of each side, alternating; ms, min / median\n")
    print("| mssante | baseline | mssante ms | baseline ms | ratio | goal |")
    print("|---|---|---:|---:|---:|---|")
    for name, ours, baseline_name, baseline, goal in CASES:
        ours(), baseline()  # the warm-up: bytecode written, files in the page cache
        result = alternate(ours, baseline, turns=turns)
        verdict = "" if goal is None else f"<= {goal:g}x: {'met' if result.ratio_min <= goal else 'NOT met'} (min)"
        print(f"| {name} | {baseline_name} | {result.row()} | {verdict} |")
    own, cumulative = slowest_imports()
    print("\nThe 10 slowest imports of `python -X importtime -m mssante ins check INS`, by own time (µs):\n")
    print("\n".join(f"    {microseconds:>7}  {name}" for microseconds, name in own))
    print("\nand by time with what each imports (µs; indented: imported by the one above it):\n")
    print("\n".join(f"    {microseconds:>7}  {name}" for microseconds, name in cumulative))


if __name__ == "__main__":
    main()

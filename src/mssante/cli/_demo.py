"""``mssante demo``: a complete MSSanté exchange on this machine, offline, told step by step."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, TextIO

from mssante.cli._contract import EXIT_INVALID, EXIT_OK, Outcome, UsageError

__all__ = ["run_demo"]


def run_demo(args: argparse.Namespace) -> Outcome:
    """``mssante demo``."""
    try:
        from mssante.demo import (  # noqa: PLC0415 (needs the testing extra: loaded when asked)
            KEPT,
            DemoStep,
            next_commands,
            run_demo,
        )
    except ImportError as error:
        raise UsageError(
            f'mssante: the demo needs the testing extra: pip install "mssante[cli,testing]" ({error})'
        ) from None
    out, err = args.streams
    as_json = getattr(args, "json", False)
    stream: TextIO = err if as_json else out

    def told(step: DemoStep) -> None:
        mark = "ok" if step.ok else "FAILED"
        stream.write(f"\n[{mark}] {step.title} ({step.seconds:.2f} s)\n")
        for line in step.lines:
            stream.write(f"      {line}\n")
        if step.error:
            stream.write(f"      {step.error}\n")
        stream.flush()

    if not as_json:
        out.write("mssante demo: a complete MSSanté exchange on this machine, offline.\n")
    keep = Path(args.keep) if args.keep else None
    result = run_demo(progress=told, workdir=keep)
    summary = (
        f"\nThe exchange went through: {len(result.steps)} steps in {result.seconds:.1f} s."
        if result.ok
        else f"\nThe demo stopped at the step '{result.steps[-1].name}'."
    )
    if result.message_id:
        summary += f"\nThe message's Message-ID: {result.message_id}"
    kept = {name: str(keep / name) for name in KEPT if (keep / name).exists()} if keep else {}
    commands = next_commands(keep, result.message_id) if keep and result.ok and result.message_id else []
    if kept:
        width = max(len(name) for name in kept)
        summary += f"\n\nKept in {keep}:\n" + "".join(f"  {name:{width}}  {KEPT[name]}\n" for name in kept)
    if commands:
        summary += "\nLook at them with:\n" + "".join(f"  # {what}\n  {command}\n" for command, what in commands)
    payload: dict[str, Any] = {
        "ok": result.ok,
        "findings": [],
        "seconds": round(result.seconds, 3),
        "message_id": result.message_id,
        "files": kept,
        "commands": [command for command, _ in commands],
        "steps": [
            {
                "name": step.name,
                "ok": step.ok,
                "seconds": round(step.seconds, 3),
                "title": step.title,
                "lines": list(step.lines),
                **({"error": step.error} if step.error else {}),
            }
            for step in result.steps
        ],
    }
    if as_json:
        err.write(summary.lstrip("\n") + "\n")
    return payload, [summary], EXIT_OK if result.ok else EXIT_INVALID

"""``mssante directory import | lookup | search``: the national directory, offline index or FHIR API."""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from itertools import islice
from typing import Any

from mssante.cli._contract import EXIT_INVALID, EXIT_OK, Outcome, UsageError
from mssante.cli._progress import count_progress
from mssante.directory import DirectoryIndex, DirectoryMailbox
from mssante.report import Report

__all__ = ["run_import", "run_lookup", "run_search"]


def _open(args: argparse.Namespace) -> DirectoryIndex:
    return DirectoryIndex.open(args.db)


def run_import(args: argparse.Namespace) -> Outcome:
    """``mssante directory import FILE``."""
    with count_progress(args.streams[1], "importing") as progress, _open(args) as index:
        result = index.import_extraction(args.file, progress=progress)
    report = Report(findings=result.findings, subject=args.file)
    payload = {
        **report.to_dict(),
        "rows": result.rows,
        "mailboxes": result.mailboxes,
        "added": result.added,
        "removed": result.removed,
        "skipped": result.skipped,
        "seconds": round(result.seconds, 3),
    }
    lines = [
        f"imported {result.rows:,} rows, {result.mailboxes:,} mailboxes in {result.seconds:.1f} s "
        f"({result.added:,} added, {result.removed:,} removed, {result.skipped:,} skipped)"
    ]
    lines += [f"  {finding}" for finding in report.findings[:20]]
    return payload, lines, EXIT_OK


def _answer(mailboxes: Iterable[DirectoryMailbox], what: str) -> Outcome:
    found = [mailbox.to_dict() for mailbox in mailboxes]
    payload = {"ok": True, "findings": [], "mailboxes": found}
    lines = [
        "  ".join(str(item[key] or "-") for key in ("address", "type", "rpps", "name", "profession", "structure"))
        for item in found
    ]
    if not found:
        lines = [f"no mailbox for {what}"]
    return payload, lines, EXIT_OK if found else EXIT_INVALID


def run_lookup(args: argparse.Namespace) -> Outcome:
    """``mssante directory lookup KEY``."""
    with _open(args) as index:
        return _answer(index.lookup(args.key), args.key)


def run_search(args: argparse.Namespace) -> Outcome:
    """``mssante directory search``."""
    criteria = {"name": args.name, "city": args.city, "postcode": args.postcode, "profession": args.profession}
    if not any(criteria.values()):
        raise UsageError("mssante: give at least one of --name, --city, --postcode, --profession")
    what = ", ".join(f"{key} {value!r}" for key, value in criteria.items() if value)
    if args.online:
        from mssante.directory import DirectoryClient  # noqa: PLC0415 (the HTTP client, loaded for --online only)

        options: dict[str, Any] = {"base_url": args.base_url} if args.base_url else {}
        with DirectoryClient(**options) as client:
            return _answer(islice(client.search_mailboxes(**criteria), args.limit), what)
    with _open(args) as index:
        return _answer(index.search(**criteria, limit=args.limit), what)

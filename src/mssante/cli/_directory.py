"""``mssante directory import | lookup | search``: the national directory, offline index or FHIR API."""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from itertools import islice
from typing import Any

from mssante.cli._app import EXIT_INVALID, EXIT_OK, Outcome, UsageError, command_group
from mssante.cli._progress import count_progress
from mssante.directory import DirectoryClient, DirectoryIndex, Mailbox
from mssante.report import Report

_DEFAULT_LIMIT = 50


def _open(args: argparse.Namespace) -> DirectoryIndex:
    return DirectoryIndex.open(args.db)


def _import(args: argparse.Namespace) -> Outcome:
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


def _answer(mailboxes: Iterable[Mailbox], what: str) -> Outcome:
    found = [mailbox.to_dict() for mailbox in mailboxes]
    payload = {"ok": True, "findings": [], "mailboxes": found}
    lines = [
        "  ".join(str(item[key] or "-") for key in ("address", "type", "rpps", "name", "profession", "structure"))
        for item in found
    ]
    if not found:
        lines = [f"no mailbox for {what}"]
    return payload, lines, EXIT_OK if found else EXIT_INVALID


def _lookup(args: argparse.Namespace) -> Outcome:
    with _open(args) as index:
        return _answer(index.lookup(args.key), args.key)


def _search(args: argparse.Namespace) -> Outcome:
    criteria = {"name": args.name, "city": args.city, "postcode": args.postcode, "profession": args.profession}
    if not any(criteria.values()):
        raise UsageError("mssante: give at least one of --name, --city, --postcode, --profession")
    what = ", ".join(f"{key} {value!r}" for key, value in criteria.items() if value)
    if args.online:
        options: dict[str, Any] = {"base_url": args.base_url} if args.base_url else {}
        with DirectoryClient(**options) as client:
            return _answer(islice(client.search_mailboxes(**criteria), args.limit), what)
    with _open(args) as index:
        return _answer(index.search(**criteria, limit=args.limit), what)


def register(groups: argparse._SubParsersAction[Any], json_flag: argparse.ArgumentParser) -> None:
    """Add the ``directory`` command group."""
    commands = command_group(groups, "directory", "the national directory (Annuaire Santé)")
    load = commands.add_parser(
        "import", parents=[json_flag], help="import the bulk MSSanté extraction into the local index",
        description="Import the Extraction_Correspondance_MSSante file (TXT or ZIP, as ANS and data.gouv.fr "
        "publish it every day) into the local index. The new data replaces the old at once, and the counts of "
        "addresses added and removed since the last import are reported.",
    )  # fmt: skip
    load.add_argument("file", metavar="FILE")
    load.add_argument("--db", metavar="PATH", help="the index file (default: in the user's cache)")
    load.set_defaults(handler=_import)

    find = commands.add_parser(
        "lookup", parents=[json_flag], help="find mailboxes by address, RPPS or IDNPS in the local index",
        description="Exact lookup in the local index: an MSSanté address, an RPPS (11 digits) or an IdNat_PS. "
        "Exit status 1 when nothing is found.",
    )  # fmt: skip
    find.add_argument("key", metavar="ADDRESS|RPPS|IDNPS")
    find.add_argument("--db", metavar="PATH", help="the index file (default: in the user's cache)")
    find.set_defaults(handler=_lookup)

    search = commands.add_parser(
        "search", parents=[json_flag], help="search mailboxes by name, place or profession",
        description="Search the local index (default) or, with --online, the FHIR API of the Annuaire Santé "
        "(key from ESANTE_API_KEY). Names match without regard to case or accents, by word prefix.",
    )  # fmt: skip
    search.add_argument("--name", help="a name (family and/or given)")
    search.add_argument("--city", help="the city of the structure")
    search.add_argument("--postcode", help="the postcode of the structure")
    search.add_argument("--profession", help="a profession code (10 = médecin) or label")
    search.add_argument("--limit", type=int, default=_DEFAULT_LIMIT, help="at most this many results (default 50)")
    where = search.add_mutually_exclusive_group()
    where.add_argument("--db", metavar="PATH", help="the index file (default: in the user's cache)")
    where.add_argument("--online", action="store_true", help="ask the FHIR API instead of the local index")
    search.add_argument("--base-url", metavar="URL", help="with --online: the FHIR base URL")
    search.set_defaults(handler=_search)

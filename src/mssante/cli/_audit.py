"""``mssante audit export | purge | show``: the audit trail, in a local SQLite file or a PostgreSQL database."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mssante.cli._contract import EXIT_OK, Outcome, UsageError
from mssante.cli._inputs import iso_time
from mssante.cli._parsing import command_group

__all__ = ["DEFAULT_AUDIT_DATABASE", "register_audit", "run_export", "run_purge", "run_show"]

DEFAULT_AUDIT_DATABASE = "mssante-audit.sqlite3"
"""The audit file of ``mssante audit``, in the user's cache unless ``--db`` names another."""


def register_audit(groups: argparse._SubParsersAction[Any], json_flag: argparse.ArgumentParser) -> None:
    """Add ``audit export``, ``audit purge`` and ``audit show``."""
    audit = command_group(groups, "audit", "the audit trail: export for an auditor, purge past retention")
    where = argparse.ArgumentParser(add_help=False)
    source = where.add_mutually_exclusive_group()
    source.add_argument("--db", metavar="PATH", help=f"the audit file (default: {DEFAULT_AUDIT_DATABASE} in the cache)")
    source.add_argument("--postgres", metavar="CONNINFO",
                        help="a PostgreSQL conninfo instead (libpq's PG* variables and ~/.pgpass apply: keep the "
                        "password out of the command line)")  # fmt: skip
    window = argparse.ArgumentParser(add_help=False)
    window.add_argument("--since", metavar="TIME", help="from this ISO 8601 time (included)")
    window.add_argument("--until", metavar="TIME", help="up to this ISO 8601 time (excluded)")

    export = audit.add_parser(
        "export", parents=[json_flag, where, window], help="the events as JSON lines, for an auditor",
        description="Write the events, oldest first, one JSON object a line (ISO 8601 UTC times, stable keys), on "
        "standard output or in --out. With --json, --out is required and the one JSON object is a summary.",
    )  # fmt: skip
    export.add_argument("--kind", action="append", default=[], metavar="K", help="only this kind (repeat)")
    export.add_argument("--out", metavar="FILE", help="write the lines to FILE (created, owner only) instead")
    export.set_defaults(handler="mssante.cli._audit:run_export")

    purge = audit.add_parser(
        "purge", parents=[json_flag, where], help="remove the events past retention",
        description="Remove the events older than the retention (default 183 days, six months, as Référentiel #2 "
        "ECO.4.1.1 recommends) at --at (default: now). Run it daily (cron, a systemd timer).",
    )  # fmt: skip
    purge.add_argument("--retention-days", metavar="N", type=int, help="keep N days (default 183)")
    purge.add_argument("--below-recommendation", action="store_true",
                       help="accept a retention shorter than 183 days (a warning says so)")  # fmt: skip
    purge.add_argument("--at", metavar="TIME", help="purge as of this ISO 8601 time (default: now)")
    purge.set_defaults(handler="mssante.cli._audit:run_purge")

    show = audit.add_parser("show", parents=[json_flag, where, window], help="the number of events of each kind",
                            description="Count the events of each kind, oldest and newest included.")  # fmt: skip
    show.set_defaults(handler="mssante.cli._audit:run_show")


def _time(text: str | None, flag: str) -> dt.datetime | None:
    from mssante.audit import parse_time  # noqa: PLC0415 (loaded with the command only)

    if text is None:
        return None
    try:
        return parse_time(text)
    except ValueError:
        raise UsageError(
            f"mssante: {flag} {text!r} is not an ISO 8601 time with its zone, such as 2026-06-01T00:00:00Z"
        ) from None


@contextlib.contextmanager
def _store(args: argparse.Namespace, **options: Any) -> Iterator[Any]:
    from mssante import audit  # noqa: PLC0415 (loaded with the command only)
    from mssante._files import cache_directory  # noqa: PLC0415

    if args.postgres:
        with audit.PostgresAuditStore(args.postgres, **options) as store:
            yield store
        return
    path = Path(args.db) if args.db else cache_directory("audit") / DEFAULT_AUDIT_DATABASE
    if not path.exists():
        raise UsageError(f"mssante: no audit trail at {str(path)!r}")
    with audit.SqliteAuditStore(path, **options) as store:
        yield store


def _window(args: argparse.Namespace) -> tuple[dt.datetime | None, dt.datetime | None]:
    return _time(args.since, "--since"), _time(args.until, "--until")


def run_export(args: argparse.Namespace) -> Outcome:
    """``mssante audit export``."""
    since, until = _window(args)
    as_json = getattr(args, "json", False)
    if as_json and not args.out:
        raise UsageError("mssante: audit export writes JSON lines; with --json, name the file with --out")
    with _store(args) as store:
        if args.out is None:
            store.export(args.streams[0], since=since, until=until, kinds=args.kind)
            return {}, [], EXIT_OK
        out = Path(args.out)
        try:
            descriptor = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise UsageError(f"mssante: {args.out} exists: the export goes to a new file") from None
        with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
            count = store.export(stream, since=since, until=until, kinds=args.kind)
    payload = {"ok": True, "findings": [], "exported": count, "path": str(out)}
    return payload, [f"{count} events written to {out}"], EXIT_OK


def run_purge(args: argparse.Namespace) -> Outcome:
    """``mssante audit purge``."""
    from mssante.audit import DEFAULT_RETENTION_DAYS, Retention  # noqa: PLC0415 (loaded with the command only)

    at = _time(args.at, "--at") or dt.datetime.now(dt.timezone.utc)
    days = args.retention_days if args.retention_days is not None else DEFAULT_RETENTION_DAYS
    retention = Retention(days=days, below_recommendation=args.below_recommendation)
    with _store(args, retention=retention) as store:
        result = store.purge(at=at)
    payload = {
        "ok": True,
        "findings": [],
        "purged": result.purged,
        "kept": result.kept,
        "cutoff": iso_time(result.cutoff),
        "retention_days": days,
    }
    lines = [f"{result.purged} events older than {iso_time(result.cutoff)} removed, {result.kept} kept"]
    return payload, lines, EXIT_OK


def run_show(args: argparse.Namespace) -> Outcome:
    """``mssante audit show``."""
    since, until = _window(args)
    with _store(args) as store:
        counts = store.counts(since=since, until=until)
    total = sum(counts.values())
    payload = {"ok": True, "findings": [], "counts": counts, "total": total}
    lines = [f"{count:>9} {kind}" for kind, count in counts.items()] + [f"{total:>9} events"]
    return payload, lines, EXIT_OK

"""``mssante track sent | observe | status``: delivery tracking in a local SQLite file."""

from __future__ import annotations

import argparse
import email.parser
import email.policy
import email.utils
from pathlib import Path
from typing import Any

from mssante._files import cache_directory
from mssante.cli._app import EXIT_INVALID, EXIT_OK, Outcome, UsageError, command_group
from mssante.cli._cert import parse_time, read_bounded
from mssante.message._mime import MimeLimits
from mssante.report import Finding, Report
from mssante.tracking import Change, SqliteStore, Tracked, Tracker
from mssante.transport._submission import header_recipients

DEFAULT_DATABASE = "mssante-tracking.sqlite3"


def _tracker(args: argparse.Namespace) -> tuple[Tracker, SqliteStore]:
    path = Path(args.db) if args.db else cache_directory("tracking") / DEFAULT_DATABASE
    path.parent.mkdir(parents=True, exist_ok=True)
    store = SqliteStore(path)
    return Tracker(store), store


def _read(path: str) -> bytes:
    return read_bounded(path, limit=MimeLimits().max_bytes)


def _change(change: Change) -> dict[str, Any]:
    before = change.before.value if change.before is not None else None
    return {
        "message_id": change.message_id,
        "recipient": change.recipient,
        "before": before,
        "after": change.after.value,
    }


def _tracked(tracked: Tracked) -> dict[str, Any]:
    return {
        "message_id": tracked.message_id,
        "recipients": [
            {
                "address": state.address,
                "status": state.status.value,
                "sent_at": state.sent_at.isoformat(),
                "deadline": state.deadline.isoformat(),
                "updated_at": state.updated_at.isoformat(),
            }
            for state in tracked.recipients
        ],
    }


def _lines(tracked: Tracked) -> list[str]:
    return [tracked.message_id] + [f"  {state.status.value:9} {state.address}" for state in tracked.recipients]


def _sent(args: argparse.Namespace) -> Outcome:
    at = parse_time(args.at)
    parser = email.parser.BytesHeaderParser(policy=email.policy.default)
    messages = []
    for path in args.eml:
        headers = parser.parsebytes(_read(path))
        message_id = str(headers.get("Message-ID", "")).strip()
        recipients = header_recipients(headers)
        if not message_id or not recipients:
            raise UsageError(f"mssante: {path} has no Message-ID or no recipient: it cannot be tracked")
        messages.append((message_id, recipients))
    tracker, store = _tracker(args)
    with store:
        tracked = [tracker.sent(message_id, recipients, at) for message_id, recipients in messages]
    payload = {"ok": True, "findings": [], "messages": [_tracked(item) for item in tracked]}
    return payload, [line for item in tracked for line in _lines(item)], EXIT_OK


def _observe(args: argparse.Namespace) -> Outcome:
    at = parse_time(args.at)
    mails = [(path, _read(path)) for path in args.eml]
    tracker, store = _tracker(args)
    results: list[dict[str, Any]] = []
    findings: list[Finding] = []
    lines: list[str] = []
    with store:
        for path, data in mails:
            observation = tracker.observe(data, at)
            located = [finding.located(path) for finding in observation.report.findings]
            findings += located
            results.append({
                "file": path,
                "kind": observation.kind,
                "message_id": observation.message_id,
                "duplicate": observation.duplicate,
                "changes": [_change(change) for change in observation.changes],
                "findings": [finding.to_dict() for finding in located],
            })  # fmt: skip
            lines.append(f"{path}: {observation.kind} about {observation.message_id or '(no message)'}")
            lines += [
                f"  {c.recipient}: {c.before.value if c.before else '-'} -> {c.after.value}"
                for c in observation.changes
            ]
            lines += [f"  {finding}" for finding in observation.report.findings]
    report = Report(findings=findings, subject="notifications")
    payload = {**report.to_dict(), "results": results}
    return payload, lines, EXIT_OK if report.ok else EXIT_INVALID


def _status(args: argparse.Namespace) -> Outcome:
    at = parse_time(args.at)
    tracker, store = _tracker(args)
    with store:
        expired = tracker.expire(at) if args.expire else ()
        if args.message_id:
            found = {mid: tracker.status(mid) for mid in args.message_id}
            unknown = [mid for mid, tracked in found.items() if tracked is None]
            tracked = [item for item in found.values() if item is not None]
        else:
            unknown, tracked = [], list(tracker.pending(at))
    payload = {
        "ok": not unknown,
        "findings": [],
        "messages": [_tracked(item) for item in tracked],
        "unknown": unknown,
        "expired": [_change(change) for change in expired],
    }
    lines = [line for item in tracked for line in _lines(item)] + [f"{mid}: not tracked" for mid in unknown]
    if not args.message_id and not tracked:
        lines.append("nothing pending")
    return payload, lines, EXIT_OK if not unknown else EXIT_INVALID


def register(groups: argparse._SubParsersAction[Any], json_flag: argparse.ArgumentParser) -> None:
    """Add ``track sent``, ``track observe`` and ``track status``."""
    track = command_group(groups, "track", "delivery tracking: messages sent, DSNs and MDNs that come back")
    database = argparse.ArgumentParser(add_help=False)
    database.add_argument("--db", metavar="PATH", help=f"the tracking file (default: {DEFAULT_DATABASE} in the cache)")
    database.add_argument("--at", metavar="TIME", help="the moment of what is recorded or asked (default: now)")
    sent = track.add_parser(
        "sent", parents=[json_flag, database], help="record messages as sent (.eml files)",
        description="Track each message (its Message-ID and its To, Cc and Bcc recipients).",
    )  # fmt: skip
    sent.add_argument("eml", metavar="EML", nargs="+")
    sent.set_defaults(handler=_sent)
    observe = track.add_parser("observe", parents=[json_flag, database], help="read DSNs and MDNs (.eml files)",
                               description="Match delivery reports (DSN) and read receipts (MDN) to the messages "
                               "tracked; a status never goes backwards and a notification seen twice changes nothing. "
                               "Exit status 1 when a file cannot be read as a notification.")  # fmt: skip
    observe.add_argument("eml", metavar="EML", nargs="+")
    observe.set_defaults(handler=_observe)
    status = track.add_parser("status", parents=[json_flag, database], help="the status of each recipient",
                              description="The recipients' statuses of the given messages, or of the messages "
                              "still waiting. Exit status 1 when a given Message-ID is not tracked.")  # fmt: skip
    status.add_argument("message_id", metavar="MESSAGE-ID", nargs="*")
    status.add_argument("--expire", action="store_true", help="first mark as expired what passed its deadline")
    status.set_defaults(handler=_status)

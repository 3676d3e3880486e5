"""``mssante track sent | observe | status``: delivery tracking in a local SQLite file."""

from __future__ import annotations

import argparse
import email.parser
import email.policy
import email.utils
from pathlib import Path
from typing import Any

from mssante._files import cache_directory
from mssante.cli._args_network import DEFAULT_DATABASE
from mssante.cli._contract import EXIT_INVALID, EXIT_OK, Outcome, UsageError
from mssante.cli._inputs import parse_time, read_bounded
from mssante.message import MimeLimits
from mssante.report import Finding, Report
from mssante.tracking import Change, SqliteStore, Tracked, Tracker

__all__ = ["DEFAULT_DATABASE", "run_observe", "run_sent", "run_status"]


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


def run_sent(args: argparse.Namespace) -> Outcome:
    """``mssante track sent EML...``."""
    # The recipients as the SMTP submission reads them; its module is the SMTP shell's: loaded for this command only.
    from mssante.transport import header_recipients  # noqa: PLC0415

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


def run_observe(args: argparse.Namespace) -> Outcome:
    """``mssante track observe EML...``."""
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


def run_status(args: argparse.Namespace) -> Outcome:
    """``mssante track status [MESSAGE-ID...]``."""
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

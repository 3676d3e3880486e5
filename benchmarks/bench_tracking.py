"""Tracking DSNs and MDNs in an SQLite store, against bare ``sqlite3`` doing the same upserts.

Run: ``python benchmarks/bench_tracking.py`` (from the repository root). mssante: a fresh
:class:`~mssante.tracking.SqliteStore` in a temporary folder, ``Tracker.sent`` for each message, then
``Tracker.observe`` of every DSN and MDN (read, matched, one transaction each). Baseline, the same work by
hand: ``email.message_from_bytes``, the report block's fields split by hand, then per notification one
``BEGIN IMMEDIATE`` with the recipient upsert, the event insert and the notification insert, ``COMMIT``; same
pragmas (WAL, ``synchronous=FULL``). Prints a Markdown table: milliseconds (best of several repeats) and the ratio.
"""

from __future__ import annotations

import datetime as dt
import email
import email.message
import email.policy
import hashlib
import sqlite3
import tempfile
from pathlib import Path

from timing import REPEATS, ROUNDS, interleaved

from mssante.message import Disposition, Dsn, DsnRecipient, build_dsn, build_mdn
from mssante.tracking import SqliteStore, Tracker

T0 = dt.datetime(2024, 5, 6, 8, 0, tzinfo=dt.timezone.utc)
MESSAGES = 100
RECIPIENTS = ("alice@clinique.mssante.fr", "bob@labo.mssante.fr")


def notifications() -> list[bytes]:
    """Per message: one DSN for both recipients (delivered), then an MDN displayed from each."""
    found = []
    for number in range(MESSAGES):
        original = email.message.EmailMessage()
        original["From"] = "dr@chu.mssante.fr"
        original["To"] = ", ".join(RECIPIENTS)
        original["Subject"] = "CR"
        original["Message-ID"] = f"<m{number}@chu.mssante.fr>"
        original["Disposition-Notification-To"] = "dr@chu.mssante.fr"
        original.set_content("Bonjour\n")
        report = Dsn(
            reporting_mta="mx.clinique.mssante.fr",
            original_envelope_id=f"<m{number}@chu.mssante.fr>",
            recipients=[DsnRecipient(final_recipient=r, action="delivered", status="2.0.0") for r in RECIPIENTS],
        )
        found.append(build_dsn(dsn=report, sender="MAILER-DAEMON@mx.fr", at=T0, original=original).as_bytes())
        for recipient in RECIPIENTS:
            disposition = Disposition(action_mode="manual-action", sending_mode="MDN-sent-manually", type="displayed")
            found.append(
                build_mdn(original=original, reporting_ua="ua", final_recipient=recipient, disposition=disposition,
                          at=T0, sender=recipient, include_original=False).as_bytes()
            )  # fmt: skip
    return found


def ours(data: list[bytes]) -> None:
    with tempfile.TemporaryDirectory() as folder, SqliteStore(Path(folder) / "t.sqlite3") as store:
        tracking = Tracker(store)
        for number in range(MESSAGES):
            tracking.sent(f"<m{number}@chu.mssante.fr>", RECIPIENTS, T0)
        for mail in data:
            tracking.observe(mail, T0)


BARE_SCHEMA = (
    "CREATE TABLE recipient (message_id TEXT, key TEXT, status TEXT, updated_at TEXT, "
    "PRIMARY KEY (message_id, key)) WITHOUT ROWID",
    "CREATE TABLE event (message_id TEXT, key TEXT, at TEXT, status TEXT, detail TEXT, notification TEXT)",
    "CREATE TABLE notification (id TEXT PRIMARY KEY, at TEXT) WITHOUT ROWID",
)
STATUS = {"delivered": "delivered", "displayed": "read"}


def fields(block: bytes) -> list[dict[str, str]]:
    groups = []
    for chunk in block.replace(b"\r\n", b"\n").split(b"\n\n"):
        group = {}
        for line in chunk.decode().split("\n"):
            name, _, value = line.partition(":")
            if value:
                group[name.strip().lower()] = value.split(";")[-1].strip()
        if group:
            groups.append(group)
    return groups


def bare(data: list[bytes]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        connection = sqlite3.connect(Path(folder) / "t.sqlite3", isolation_level=None)
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("PRAGMA synchronous = FULL")
        for statement in BARE_SCHEMA:
            connection.execute(statement)
        at = T0.isoformat()
        connection.execute("BEGIN")
        for number in range(MESSAGES):
            for recipient in RECIPIENTS:
                connection.execute(
                    "INSERT INTO recipient VALUES (?, ?, 'pending', ?)", (f"<m{number}@chu.mssante.fr>", recipient, at)
                )
        connection.execute("COMMIT")
        for mail in data:
            message = email.message_from_bytes(mail, policy=email.policy.default)
            part = next(p for p in message.walk() if p.get_content_type().startswith("message/d"))
            payload = part.get_payload()
            parts = payload if isinstance(payload, list) else []
            block = b"\n\n".join(sub.as_bytes() for sub in parts if isinstance(sub, email.message.Message))
            groups = fields(block)
            notification = hashlib.sha256(block).hexdigest()
            if part.get_content_type() == "message/delivery-status":
                message_id = groups[0]["original-envelope-id"]
                updates = [(g["final-recipient"], STATUS[g["action"]]) for g in groups[1:]]
            else:
                message_id = groups[0]["original-message-id"]
                updates = [(groups[0]["final-recipient"], STATUS[groups[0]["disposition"].split("/")[0].strip()])]
            connection.execute("BEGIN IMMEDIATE")
            for recipient, status in updates:
                connection.execute(
                    "INSERT INTO recipient VALUES (?, ?, ?, ?) ON CONFLICT (message_id, key) DO UPDATE SET "
                    "status = excluded.status, updated_at = excluded.updated_at",
                    (message_id, recipient, status, at),
                )
                connection.execute(
                    "INSERT INTO event VALUES (?, ?, ?, ?, ?, ?)", (message_id, recipient, at, status, "", notification)
                )
            connection.execute("INSERT OR IGNORE INTO notification VALUES (?, ?)", (notification, at))
            connection.execute("COMMIT")
        connection.close()


def main() -> None:
    """Print the table."""
    data = notifications()
    ours_ms, base_ms = interleaved(lambda: ours(data), lambda: bare(data))
    print(f"{MESSAGES} messages to {len(RECIPIENTS)} recipients, {len(data)} notifications (a DSN per message, "
          f"an MDN per recipient); best of {ROUNDS * REPEATS} runs\n")  # fmt: skip
    print("| operation | mssante ms | baseline ms | ratio |")
    print("|---|---:|---:|---:|")
    print(f"| track {len(data)} notifications (SQLite, one transaction each) | {ours_ms:.1f} | {base_ms:.1f} | "
          f"{ours_ms / base_ms:.2f} |")  # fmt: skip
    print(f"| per notification | {ours_ms / len(data):.2f} | {base_ms / len(data):.2f} | |")


if __name__ == "__main__":
    main()

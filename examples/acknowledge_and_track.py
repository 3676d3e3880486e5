"""Acknowledge a message with an MDN and track its delivery with ``mssante.tracking``, on a local operator.

A message asking for delivery reports (DSN) and a read receipt is sent and recorded in a ``Tracker`` kept in
SQLite. Each recipient's software answers with the CI-SIS MDN: ``processed`` (integrated) or ``processed/error``
902 (unknown patient). The sender's software feeds the notifications of its mailbox to the tracker.

Run: ``python examples/acknowledge_and_track.py`` (offline, about a second; needs ``pip install 'mssante[testing]'``).
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import tempfile
from pathlib import Path

from mssante.message import Disposition, build_mdn, compose
from mssante.testing import LocalOperator
from mssante.tracking import SqliteStore, Tracker

LAB = "pierre.didot@hopital.mssante.fr"
ANSWERS = {  # what each recipient's software answers
    "claire.durand@hopital.mssante.fr": Disposition.processed(),  # the document was integrated
    "secretariat@hopital.mssante.fr": Disposition.integration_error("902"),  # Identifiant patient inconnu
}
now = dt.datetime.now(dt.timezone.utc)

with tempfile.TemporaryDirectory() as folder, LocalOperator() as operator:
    for address in (LAB, *ANSWERS):
        operator.add_user(address)
    with SqliteStore(Path(folder) / "tracking.sqlite3") as store:
        tracker = Tracker(store)  # expire_after: 5 days by default
        mail = compose(
            sender=LAB,
            to=list(ANSWERS),
            nil="DEV935997",
            at=now,
            subject="Compte rendu",
            text="Bonjour",
            read_receipt=True,
        )
        with operator.submission(LAB) as smtp:  # mutual TLS and XOAUTH2, configured for the local operator
            tracker.sent_result(smtp.send(mail, dsn=True), now)

        for recipient, disposition in ANSWERS.items():
            with operator.mailbox(recipient) as box:
                [uid] = box.unseen()
                original = email.message_from_bytes(box.fetch(uid).raw, policy=email.policy.default)
                box.mark_seen(uid)
            receipt = build_mdn(
                original=original,
                reporting_ua="Logiciel du cabinet 4.2",
                final_recipient=recipient,
                disposition=disposition,
                at=now,
                sender=recipient,
            )
            with operator.submission(recipient) as smtp:
                print(f"{recipient} answers {disposition}: {'sent' if smtp.send(receipt).ok else 'refused'}")

        with operator.mailbox(LAB) as box:
            for uid in box.unseen():
                observation = tracker.observe(box.fetch(uid).raw, now)
                for change in observation.changes:
                    print(f"{observation.kind.upper()}: {change.recipient} is now {change.after.value}")
                box.mark_seen(uid)

        tracked = tracker.status(mail["Message-ID"])
        assert tracked is not None
        for address, status in tracked.statuses.items():
            print(f"final: {address} {status.value}")

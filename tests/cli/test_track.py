"""`mssante track sent | observe | status`: a message followed from its sending to its read receipt."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from mssante.message import Disposition, Dsn, DsnRecipient, build_dsn, build_mdn, compose
from tests.cli.running import run, run_json

AT = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.timezone.utc)
SENDER = "dr.dupont@chu.mssante.fr"
ALICE, BOB = "alice@clinique.mssante.fr", "bob@labo.mssante.fr"


def files(tmp_path: Path) -> tuple[str, str, str, str]:
    """The message sent, the DSN for both recipients, Alice's read receipt; and the message's id."""
    mail = compose(sender=SENDER, to=[ALICE, BOB], subject="Compte rendu", text="Bonjour", nil="DEV1", at=AT,
                   read_receipt=True)  # fmt: skip
    dsn = Dsn(
        reporting_mta="mx.clinique.mssante.fr",
        original_envelope_id=mail["Message-ID"],
        recipients=[DsnRecipient(final_recipient=who, action="delivered", status="2.0.0") for who in (ALICE, BOB)],
    )
    report = build_dsn(dsn=dsn, sender="MAILER-DAEMON@mx.clinique.mssante.fr", original=mail, at=AT)
    receipt = build_mdn(
        original=mail, reporting_ua="ua.clinique.mssante.fr", final_recipient=ALICE, sender=ALICE, at=AT,
        disposition=Disposition(action_mode="manual-action", sending_mode="MDN-sent-manually", type="displayed"),
    )  # fmt: skip
    paths = []
    for name, item in (("sent.eml", mail), ("dsn.eml", report), ("mdn.eml", receipt)):
        (tmp_path / name).write_bytes(item.as_bytes())
        paths.append(str(tmp_path / name))
    return paths[0], paths[1], paths[2], str(mail["Message-ID"])


def test_a_message_followed_to_its_read_receipt(tmp_path: Path) -> None:
    sent, dsn, mdn, message_id = files(tmp_path)
    db = ["--db", str(tmp_path / "tracking.sqlite3")]
    status, payload = run_json("track", "sent", sent, *db, "--at", "2026-03-02T09:00:00Z")
    assert status == 0
    assert [r["status"] for r in payload["messages"][0]["recipients"]] == ["pending", "pending"]

    status, payload = run_json("track", "observe", dsn, mdn, *db, "--at", "2026-03-02T10:00:00Z")
    assert status == 0, payload
    assert [result["kind"] for result in payload["results"]] == ["dsn", "mdn"]
    assert [(c["recipient"], c["after"]) for c in payload["results"][0]["changes"]] == [
        (ALICE, "delivered"),
        (BOB, "delivered"),
    ]
    assert [(c["recipient"], c["before"], c["after"]) for c in payload["results"][1]["changes"]] == [
        (ALICE, "delivered", "read")
    ]

    status, payload = run_json("track", "observe", mdn, *db)  # the same receipt again: nothing changes
    assert status == 0
    assert payload["results"][0]["duplicate"] is True
    assert payload["results"][0]["changes"] == []

    status, payload = run_json("track", "status", message_id, *db)
    assert status == 0
    assert {r["address"]: r["status"] for r in payload["messages"][0]["recipients"]} == {
        ALICE: "read",
        BOB: "delivered",
    }
    status, out, _ = run("track", "status", message_id, *db)
    assert "read      alice@clinique.mssante.fr" in out


def test_pending_messages_expire(tmp_path: Path) -> None:
    sent, _, _, message_id = files(tmp_path)
    db = ["--db", str(tmp_path / "tracking.sqlite3")]
    run_json("track", "sent", sent, *db, "--at", "2026-03-02T09:00:00Z")
    status, payload = run_json("track", "status", *db, "--at", "2026-03-03T09:00:00Z")
    assert status == 0
    assert [m["message_id"] for m in payload["messages"]] == [message_id]  # still waiting
    status, payload = run_json("track", "status", *db, "--at", "2026-04-01T00:00:00Z", "--expire")
    assert status == 0
    assert {c["after"] for c in payload["expired"]} == {"expired"}
    assert payload["messages"] == []


def test_unknown_message_and_unreadable_notification(tmp_path: Path) -> None:
    db = ["--db", str(tmp_path / "tracking.sqlite3")]
    status, payload = run_json("track", "status", "<nobody@nowhere>", *db)
    assert (status, payload["unknown"]) == (1, ["<nobody@nowhere>"])
    broken = tmp_path / "broken.eml"
    broken.write_bytes(
        b"From: MAILER-DAEMON@mx.example\r\nContent-Type: multipart/report; report-type=delivery-status; "
        b'boundary="b"\r\n\r\n--b\r\nContent-Type: message/delivery-status\r\n\r\nnot a field\r\n--b--\r\n'
    )
    status, payload = run_json("track", "observe", str(broken), *db)
    assert status == 1
    assert "MSS-TRK-002" in {finding["code"] for finding in payload["findings"]}


def test_a_message_without_recipients_cannot_be_tracked(tmp_path: Path) -> None:
    lone = tmp_path / "lone.eml"
    lone.write_bytes(b"Message-ID: <a@b>\r\nSubject: x\r\n\r\nbody\r\n")
    status, _, err = run("track", "sent", str(lone), "--db", str(tmp_path / "t.sqlite3"))
    assert status == 2
    assert "no Message-ID or no recipient" in err

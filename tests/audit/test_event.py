"""The audit event: a closed list of fields, every text scrubbed, escaped and bounded."""

from __future__ import annotations

import datetime as dt
import json
import warnings

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mssante.audit import (
    DEFAULT_RETENTION_DAYS,
    MAX_RECIPIENTS,
    AuditEvent,
    RecipientOutcome,
    Retention,
    clean,
    format_time,
    parse_time,
)
from mssante.errors import SecurityWarning
from tests.audit.helpers import AT, SHA256, full_event

TOKEN = "ya29.a0AfH6SMBx-secret-token-value"


def test_the_json_form_round_trips() -> None:
    event = full_event()
    data = json.loads(json.dumps(event.to_dict()))
    assert data["at"] == "2026-03-02T09:00:00.000000Z"
    assert data["certificate"] == {"subject": event.certificate_subject, "sha256": SHA256}
    assert AuditEvent.from_dict(data) == event


@pytest.mark.parametrize(
    "reason",
    [
        f"server said: Authorization: Bearer {TOKEN}",
        f"login failed password={TOKEN}",
        f"refresh_token: {TOKEN}",
        f"token={TOKEN}&x=1",
        "jwt eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJkciJ9.c2lnbmF0dXJl was refused",
    ],
)
def test_a_secret_in_a_reason_is_scrubbed(reason: str) -> None:
    event = AuditEvent(kind="authenticate", at=AT, node="n", reason=reason)
    assert TOKEN not in event.reason
    assert "eyJzdWIiOiJkciJ9" not in event.reason
    assert "[secret]" in event.reason


def test_what_is_not_a_secret_stays() -> None:
    assert clean("Authorization: Basic dXNlcjpwYXNz") == "Authorization: Basic [secret]"
    assert clean("SMTP AUTH: 535 5.7.8 Authentication credentials invalid") == (
        "SMTP AUTH: 535 5.7.8 Authentication credentials invalid"
    )
    assert clean("550 5.7.1 <bob@labo.mssante.fr>: recipient refused") == (
        "550 5.7.1 <bob@labo.mssante.fr>: recipient refused"
    )


def test_control_characters_and_nul_are_escaped() -> None:
    event = AuditEvent(kind="reset", at=AT, node="n\x00", peer="mx\r\nX-Injected: 1", reason="a\x00b\x1b[31mc\ud800")
    assert event.peer == "mx\\x0d\\x0aX-Injected: 1"
    assert event.node == "n\\x00"
    assert event.reason == "a\\x00b\\x1b[31mc\\ud800"
    json.dumps(event.to_dict(), ensure_ascii=False).encode("utf-8")  # storable and exportable as UTF-8


def test_huge_values_are_bounded() -> None:
    event = AuditEvent(kind="reset", at=AT, node="n", peer="x" * 10_000_000, reason="r" * 10_000_000)
    assert len(event.peer) == 320
    assert len(event.reason) == 1000
    assert event.reason.endswith("…")


def test_the_fields_are_a_closed_list() -> None:
    with pytest.raises(ValueError, match="details may only be"):
        AuditEvent(kind="send", at=AT, node="n", details={"body": "Bonjour"})
    with pytest.raises(TypeError):
        AuditEvent(kind="send", at=AT, node="n", body="Bonjour")  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="kind"):
        AuditEvent(kind="Send; DROP TABLE", at=AT, node="n")
    with pytest.raises(ValueError, match="SHA-256"):
        AuditEvent(kind="tls", at=AT, node="n", certificate_sha256="-----BEGIN PRIVATE KEY-----")
    with pytest.raises(ValueError, match="timezone"):
        AuditEvent(kind="tls", at=dt.datetime(2026, 1, 1), node="n")
    with pytest.raises(ValueError, match="port"):
        AuditEvent(kind="connect", at=AT, node="n", port=70000)
    with pytest.raises(ValueError, match="recipients"):
        AuditEvent(
            kind="send",
            at=AT,
            node="n",
            recipients=[RecipientOutcome(address=f"{i}@x.fr", status="accepted") for i in range(MAX_RECIPIENTS + 1)],
        )


def test_a_fingerprint_is_normalised() -> None:
    event = AuditEvent(kind="tls", at=AT, node="n", certificate_sha256=":".join(["AB"] * 32))
    assert event.certificate_sha256 == "ab" * 32


def test_times_are_utc() -> None:
    paris = dt.timezone(dt.timedelta(hours=1))
    event = AuditEvent(kind="quit", at=dt.datetime(2026, 3, 2, 10, 0, tzinfo=paris), node="n")
    assert event.at == AT
    assert event.at.tzinfo == dt.timezone.utc
    assert format_time(event.at) == "2026-03-02T09:00:00.000000Z"
    assert parse_time("2026-03-02T10:00:00+01:00") == AT
    with pytest.raises(ValueError, match="time zone"):
        parse_time("2026-03-02T09:00:00")


def test_retention_below_the_recommendation_is_explicit() -> None:
    assert Retention().days == DEFAULT_RETENTION_DAYS == 183
    assert Retention(days=400).cutoff(AT) == AT - dt.timedelta(days=400)
    with pytest.raises(ValueError, match=r"ECO\.4\.1\.1"):
        Retention(days=30)
    with pytest.warns(SecurityWarning, match="30 days"):
        assert Retention(days=30, below_recommendation=True).days == 30
    with pytest.raises(ValueError, match="not possible"):
        Retention(days=0, below_recommendation=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Retention(days=365)


@given(st.text(max_size=3000))
def test_clean_is_bounded_printable_and_stable(text: str) -> None:
    once = clean(text, limit=200)
    assert len(once) <= 200
    assert all(ord(ch) >= 0x20 and not 0x7F <= ord(ch) <= 0x9F for ch in once)
    assert not any(0xD800 <= ord(ch) <= 0xDFFF for ch in once)
    assert clean(once, limit=200) == once

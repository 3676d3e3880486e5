"""`mssante fetch`: the new messages of a mailbox on a local operator, read over IMAP with every check."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from mssante.message import compose
from mssante.testing import CA_NAMES, LocalOperator
from tests.cli.running import run, run_json

DOCTOR = "dr.martin@hopital.mssante.fr"
TOKEN = "psc-token-dr-martin"


@pytest.fixture
def operator() -> Iterator[LocalOperator]:
    with LocalOperator() as running:
        running.add_user(DOCTOR, token=TOKEN)
        yield running


def session(operator: LocalOperator, folder: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The options of ``mssante fetch`` for the doctor's mailbox: the test PKI trusted, its CRLs given."""
    anchors = folder / "anchors.pem"
    pki = operator.pki
    anchors.write_bytes(b"".join(c.public_bytes(Encoding.PEM) for c in [*pki.anchors, *pki.intermediates]))
    crls: list[str] = []
    for name in CA_NAMES:
        (folder / f"{name}.crl").write_bytes(pki.crl(name))
        crls += ["--crl", str(folder / f"{name}.crl")]
    certificate, key = operator.client_certificate(folder)
    monkeypatch.setenv("PSC_TOKEN", TOKEN)
    return [
        "--server", f"localhost:{operator.imap_port}", "--env", "test", "--trust-anchor", str(anchors), *crls,
        "--cert", str(certificate), "--key", str(key), "--user", DOCTOR, "--xoauth2-token-env", "PSC_TOKEN",
    ]  # fmt: skip


def deliver(operator: LocalOperator, subject: str) -> None:
    mail = compose(sender=operator.application, to=[DOCTOR], nil="DEV1", at=dt.datetime.now(dt.timezone.utc),
                   subject=subject, text="...")  # fmt: skip
    with operator.submission() as smtp:
        assert smtp.send(mail).ok


def test_new_messages_are_stored_then_marked(
    operator: LocalOperator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    options = session(operator, tmp_path, monkeypatch)
    deliver(operator, "Premier")
    deliver(operator, "Second")
    status, payload = run_json("fetch", *options)  # listed, not stored, not marked
    assert status == 0, payload
    assert [m["subject"] for m in payload["messages"]] == ["Premier", "Second"]
    assert all(m["file"] is None for m in payload["messages"])
    out = tmp_path / "inbox"
    status, payload = run_json("fetch", *options, "--out", str(out), "--mark-seen")
    assert status == 0
    assert sorted(path.name for path in out.iterdir()) == [f"{m['uid']}.eml" for m in payload["messages"]]
    assert (out / f"{payload['messages'][0]['uid']}.eml").read_bytes() == operator.messages(DOCTOR)[0]
    status, out_text, _ = run("fetch", *options)
    assert (status, out_text.strip()) == (0, "no new message")


def test_mark_seen_needs_somewhere_to_store(
    operator: LocalOperator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    status, _, err = run("fetch", *session(operator, tmp_path, monkeypatch), "--mark-seen")
    assert status == 2
    assert "--mark-seen needs --out" in err


def test_a_wrong_token_is_refused_without_showing_it(
    operator: LocalOperator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    options = session(operator, tmp_path, monkeypatch)
    monkeypatch.setenv("PSC_TOKEN", "not-the-token")
    status, payload = run_json("fetch", *options)
    assert status == 2
    assert "XOAUTH2" in payload["error"]
    assert "not-the-token" not in payload["error"]


def test_trust_anchors_without_a_root_are_a_usage_error(
    operator: LocalOperator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    options = session(operator, tmp_path, monkeypatch)
    intermediates = tmp_path / "intermediates.pem"
    intermediates.write_bytes(b"".join(c.public_bytes(Encoding.PEM) for c in operator.pki.intermediates))
    options[options.index("--trust-anchor") + 1] = str(intermediates)
    status, _, err = run("fetch", *options)
    assert status == 2
    assert "a trust store needs at least one anchor" in err

"""Submission against a real aiosmtpd server on 127.0.0.1: STARTTLS, mutual TLS with a test IGC Santé, XOAUTH2."""

from __future__ import annotations

import datetime as dt
import logging
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from cryptography.hazmat.primitives.serialization import Encoding

from mssante.errors import TransportError
from mssante.message import compose
from mssante.pki import Environment, RevocationChecker, TrustStore
from mssante.testing import CA_NAMES, TestPki
from mssante.transport._results import Envelope
from mssante.transport._submission import Submission
from tests.cli.running import run, run_json
from tests.transport.conftest import Files, tls, write
from tests.transport.smtp_server import TOKEN, USER, Recorder, serve

SENDER = USER
TO = ("dr.martin@hopital.mssante.fr", "dr.durand@hopital.mssante.fr")
HIDDEN = "secretariat@hopital.mssante.fr"


def submission(
    controller: Controller,
    store: TrustStore,
    crls: RevocationChecker,
    client: Files | None,
    *,
    token: str = TOKEN,
    host: str = "localhost",
) -> Submission:
    return Submission(
        host,
        controller.port,
        store=store,
        client_certificate=(client.certificate, client.key) if client else None,
        username=USER,
        token=lambda: token,
        revocation=crls,
        timeout=5,
    )


def message(*, to: tuple[str, ...] = TO, text: str = "Compte rendu en pièce jointe.", bcc: bool = True) -> EmailMessage:
    mail = compose(
        sender=SENDER,
        to=list(to),
        nil="DEV000001",
        at=dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.timezone.utc),
        subject="Compte rendu",
        text=text,
    )
    if bcc:
        mail["Bcc"] = HIDDEN
    return mail


# --- a successful session ---------------------------------------------------------------------------------


def test_success_with_mutual_tls_and_xoauth2(
    server: Controller, recorder: Recorder, store: TrustStore, crls: RevocationChecker, client: Files
) -> None:
    mail = message()
    with submission(server, store, crls, client) as smtp:
        result = smtp.send(mail)
    assert result.ok
    assert result.accepted == (*TO, HIDDEN)
    assert result.message_id == mail["Message-ID"]
    assert [r.code for r in result.recipients] == [250, 250, 250]
    [received] = recorder.messages
    assert received.sender == SENDER
    assert received.recipients == [*TO, HIDDEN]
    assert b"Bcc" not in received.data
    assert HIDDEN.encode() not in received.data
    assert b"Compte rendu" in received.data
    assert any(option.startswith("SIZE=") for option in received.mail_options)
    assert mail["Bcc"] == HIDDEN  # the caller's message is left as it was


def test_explicit_envelope_and_bytes(
    server: Controller, recorder: Recorder, store: TrustStore, crls: RevocationChecker, client: Files
) -> None:
    data = message(bcc=False).as_bytes().replace(b"\r\n", b"\n")
    with submission(server, store, crls, client) as smtp:
        result = smtp.send(data, Envelope(sender=SENDER, recipients=(TO[0],)))
    assert result.accepted == (TO[0],)
    assert recorder.messages[0].recipients == [TO[0]]


# --- refusals before any MAIL -----------------------------------------------------------------------------


def test_server_without_starttls_is_refused(
    recorder: Recorder, store: TrustStore, crls: RevocationChecker, client: Files
) -> None:
    with (
        serve(recorder, tls=None) as plain,
        pytest.raises(TransportError, match="STARTTLS"),
        submission(plain, store, crls, client) as smtp,
    ):
        smtp.send(message())
    assert recorder.mail_peers == []


@pytest.mark.parametrize(
    ("variant", "reason"),
    [
        ("expired", "MSS-PKI-007"),
        ("other host", "MSS-PKI-010"),
        ("other PKI", "MSS-PKI-008"),
    ],
)
def test_server_certificate_refused(
    variant: str,
    reason: str,
    recorder: Recorder,
    pki: TestPki,
    foreign: TestPki,
    store: TrustStore,
    crls: RevocationChecker,
    client: Files,
    files: Path,
) -> None:
    if variant == "expired":
        issued = pki.server(["localhost"], expired=True)
    elif variant == "other host":
        issued = pki.server(["mss.example.org"])
    else:
        issued = foreign.server(["localhost"])
    context = tls(store, write(issued, files, variant.replace(" ", "-")))
    with (
        serve(recorder, tls=context) as controller,
        pytest.raises(TransportError, match=reason),
        submission(controller, store, crls, client) as smtp,
    ):
        smtp.send(message())
    assert recorder.mail_peers == []
    assert recorder.auth_attempts == []


def test_revoked_server_certificate_is_refused(
    recorder: Recorder, pki: TestPki, store: TrustStore, client: Files, files: Path
) -> None:
    issued = pki.server(["localhost"])
    revoked = RevocationChecker(
        crls=[pki.crl(name, revoked=[issued] if name == "ACI-EL-ORG" else []) for name in CA_NAMES]
    )
    context = tls(store, write(issued, files, "revoked"))
    with (
        serve(recorder, tls=context) as controller,
        pytest.raises(TransportError, match="MSS-REV-002"),
        submission(controller, store, revoked, client) as smtp,
    ):
        smtp.send(message())
    assert recorder.mail_peers == []
    assert recorder.auth_attempts == []


def test_test_hierarchy_server_is_refused_in_production(
    recorder: Recorder, now: dt.datetime, store: TrustStore, crls: RevocationChecker, client: Files, files: Path
) -> None:
    test_pki = TestPki.create(environment=Environment.TEST, at=now)
    test_store = TrustStore.from_certificates([*test_pki.anchors, *test_pki.intermediates], environment="test")
    # the server trusts both hierarchies, so only the client's production store can refuse it
    context = tls(test_store, write(test_pki.server(["localhost"]), files, "test-hierarchy"))
    with (
        serve(recorder, tls=context) as controller,
        pytest.raises(TransportError, match="MSS-PKI-008"),
        submission(controller, store, crls, client) as smtp,
    ):
        smtp.send(message())
    assert recorder.mail_peers == []


def test_client_certificate_refused_by_server(
    server: Controller, recorder: Recorder, foreign: TestPki, store: TrustStore, crls: RevocationChecker, files: Path
) -> None:
    stranger = write(foreign.organisation("LOGICIEL", usage="auth"), files, "stranger")
    with pytest.raises(TransportError), submission(server, store, crls, stranger) as smtp:
        smtp.send(message())
    assert recorder.mail_peers == []


def test_wrong_token_is_refused_without_showing_it(
    server: Controller, recorder: Recorder, store: TrustStore, crls: RevocationChecker, client: Files
) -> None:
    wrong = "not-the-right-token-123"
    with (
        pytest.raises(TransportError, match="XOAUTH2") as caught,
        submission(server, store, crls, client, token=wrong) as smtp,
    ):
        smtp.send(message())
    assert wrong not in str(caught.value)
    assert recorder.mail_peers == []


# --- per-recipient outcomes -------------------------------------------------------------------------------


def test_rcpt_refusals_give_rejected_and_deferred(
    server: Controller, recorder: Recorder, store: TrustStore, crls: RevocationChecker, client: Files
) -> None:
    recorder.rcpt_replies = {TO[0]: "550 5.1.1 no such mailbox", HIDDEN: "450 4.2.1 mailbox busy"}
    with submission(server, store, crls, client) as smtp:
        result = smtp.send(message())
    assert result.rejected == (TO[0],)
    assert result.deferred == (HIDDEN,)
    assert result.accepted == (TO[1],)
    assert not result.ok
    assert recorder.messages[0].recipients == [TO[1]]


def test_421_during_data_defers_and_reconnects(
    server: Controller, recorder: Recorder, store: TrustStore, crls: RevocationChecker, client: Files
) -> None:
    recorder.data_reply = "421 4.3.2 shutting down"
    with submission(server, store, crls, client) as smtp:
        result = smtp.send(message())
        assert result.deferred == (*TO, HIDDEN)
        assert {r.code for r in result.recipients} == {421}
        recorder.data_reply = None
        assert smtp.send(message()).ok
    assert recorder.connections == 2


def test_421_at_mail_defers_everyone_and_reconnects(
    server: Controller, recorder: Recorder, store: TrustStore, crls: RevocationChecker, client: Files
) -> None:
    recorder.mail_reply = "421 4.7.0 too many sessions"
    with submission(server, store, crls, client) as smtp:
        result = smtp.send(message())
        assert result.deferred == (*TO, HIDDEN)
        assert recorder.data_commands == 0
        recorder.mail_reply = None
        assert smtp.send(message()).ok
    assert recorder.connections == 2


def test_421_at_rcpt_defers_the_recipients_already_accepted(
    server: Controller, recorder: Recorder, store: TrustStore, crls: RevocationChecker, client: Files
) -> None:
    recorder.rcpt_replies = {TO[1]: "421 4.3.2 shutting down"}
    with submission(server, store, crls, client) as smtp:
        result = smtp.send(message())
    assert result.accepted == ()
    assert result.deferred == (*TO, HIDDEN)
    assert not result.ok
    assert recorder.data_commands == 0


def test_552_during_data_rejects(
    server: Controller, recorder: Recorder, store: TrustStore, crls: RevocationChecker, client: Files
) -> None:
    recorder.data_reply = "552 5.3.4 too big"
    with submission(server, store, crls, client) as smtp:
        result = smtp.send(message())
        assert result.rejected == (*TO, HIDDEN)
        recorder.data_reply = None
        assert smtp.send(message()).ok
    assert recorder.connections == 1


def test_dropped_connection_defers_and_next_send_reconnects(
    server: Controller, recorder: Recorder, store: TrustStore, crls: RevocationChecker, client: Files
) -> None:
    recorder.drop_in_data = True
    with submission(server, store, crls, client) as smtp:
        result = smtp.send(message())
        assert result.deferred == (*TO, HIDDEN)
        assert {r.code for r in result.recipients} == {None}
        recorder.drop_in_data = False
        assert smtp.send(message()).ok
    assert recorder.connections == 2


def test_message_over_size_is_rejected_without_data(
    server: Controller, recorder: Recorder, store: TrustStore, crls: RevocationChecker, client: Files
) -> None:
    with submission(server, store, crls, client) as smtp:
        result = smtp.send(message(text="x" * 200_000))
    assert result.rejected == (*TO, HIDDEN)
    assert "SIZE" in result.recipients[0].reply
    assert recorder.data_commands == 0
    assert recorder.mail_peers == []


def test_send_many_uses_one_connection(
    server: Controller, recorder: Recorder, store: TrustStore, crls: RevocationChecker, client: Files
) -> None:
    with submission(server, store, crls, client) as smtp:
        results = smtp.send_many([message() for _ in range(5)])
    assert all(result.ok for result in results)
    assert len(recorder.messages) == 5
    assert recorder.connections == 1


# --- the audit trail --------------------------------------------------------------------------------------


def test_audit_events_without_secrets(
    server: Controller,
    store: TrustStore,
    crls: RevocationChecker,
    client: Files,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="mssante.transport.audit")
    mail = message()
    with submission(server, store, crls, client) as smtp:
        smtp.send(mail)
    records = [r for r in caplog.records if r.name == "mssante.transport.audit"]
    events = [getattr(r, "event", None) for r in records]
    assert events == ["connect", "tls", "authenticate", "send", "quit"]
    tls_record = records[1]
    assert "localhost" in getattr(tls_record, "peer_subject", "")
    assert getattr(tls_record, "protocol", "").startswith("TLSv1.")
    assert getattr(records[2], "mechanism", None) == "XOAUTH2"
    assert getattr(records[2], "success", None) is True
    assert getattr(records[3], "message_id", None) == mail["Message-ID"]
    for record in records:
        text = record.getMessage() + repr(record.__dict__)
        assert TOKEN not in text
        assert "Compte rendu en pi" not in text


# --- the command line ---------------------------------------------------------------------------------------


def test_mssante_send(server: Controller, recorder: Recorder, pki: TestPki, client: Files, files: Path,
                      monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    anchors = files / "anchors.pem"
    chain = [*pki.anchors, *pki.intermediates]
    anchors.write_bytes(b"".join(certificate.public_bytes(Encoding.PEM) for certificate in chain))
    eml = files / "message.eml"
    eml.write_bytes(message(bcc=False).as_bytes())
    monkeypatch.setenv("PSC_TOKEN", TOKEN)
    crls = []
    for name in CA_NAMES:
        crls += ["--crl", str(files / f"{name}.crl")]
        (files / f"{name}.crl").write_bytes(pki.crl(name))
    status, payload = run_json(
        "send", str(eml), "--server", f"localhost:{server.port}", "--cert", str(client.certificate), "--key",
        str(client.key), "--trust-anchor", str(anchors), "--user", USER, "--xoauth2-token-env", "PSC_TOKEN", *crls,
        "--max-duration", "60",
    )  # fmt: skip
    assert status == 0, payload
    assert payload["accepted"] == list(TO)
    assert payload["rejected"] == []
    assert len(recorder.messages) == 1
    monkeypatch.setenv("PSC_TOKEN", "wrong-token")
    status, out, err = run(
        "send", str(eml), "--server", f"localhost:{server.port}", "--cert", str(client.certificate), "--key",
        str(client.key), "--trust-anchor", str(anchors), "--user", USER, "--xoauth2-token-env", "PSC_TOKEN",
        "--revocation", "off",
    )  # fmt: skip
    assert status == 1  # the server refused the login: a verdict
    assert "MSS-TRN-011" in out
    assert "wrong-token" not in out + err
    status, out, err = run("send", str(eml), "--server", f"localhost:{server.port}", "--max-duration", "0")
    assert status != 0
    assert "'0' is not a positive number of seconds" in err

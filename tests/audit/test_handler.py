"""The audit logger feeds a store: real sessions leave their trail, a failing store never breaks a send."""

from __future__ import annotations

import datetime as dt
import io
import logging
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

from mssante.audit import AuditEvent, AuditHandler, AuditStore, Outcome, attach, event_from_record
from mssante.message import compose
from mssante.pki import Environment, RevocationChecker, TrustStore
from mssante.testing import CA_NAMES, TestPki
from mssante.transport import AUDIT_LOGGER, Delivery, RecipientResult, Submission
from mssante.transport import _audit as audit
from tests.audit.conftest import OpenStore
from tests.audit.helpers import SHA256
from tests.transport.conftest import tls, write
from tests.transport.smtp_server import TOKEN, USER, Recorder, serve

TO = ("dr.martin@hopital.mssante.fr", "dr.durand@hopital.mssante.fr")


@pytest.fixture
def trail(open_store: OpenStore) -> Iterator[tuple[AuditStore, AuditHandler]]:
    with open_store() as store:
        handler = attach(store, node="node-a")
        try:
            yield store, handler
        finally:
            handler.detach()


def test_a_submission_leaves_its_trail(trail: tuple[AuditStore, AuditHandler], tmp_path: Path) -> None:
    store, handler = trail
    now = dt.datetime.now(dt.timezone.utc)
    pki = TestPki.create(environment=Environment.PROD, at=now)
    trust = TrustStore.from_certificates([*pki.anchors, *pki.intermediates], environment=pki.environment)
    client = write(pki.organisation("LOGICIEL", usage="auth"), tmp_path, "client")
    context = tls(trust, write(pki.server(["localhost"]), tmp_path, "server"))
    mail = compose(sender=USER, to=list(TO), subject="Compte rendu", text="Corps confidentiel", nil="DEV1", at=now)
    with (
        serve(Recorder(), tls=context) as server,
        Submission(
            "localhost",
            server.port,
            store=trust,
            client_certificate=(client.certificate, client.key),
            username=USER,
            token=lambda: TOKEN,
            revocation=RevocationChecker(crls=[pki.crl(name) for name in CA_NAMES]),
            timeout=5,
        ) as smtp,
    ):
        smtp.send(mail)
    events = store.query()
    assert [event.kind for event in events] == ["connect", "tls", "authenticate", "send", "quit"]
    assert handler.recorded == 5
    assert handler.failures == 0
    connect, handshake, login, send, _ = events
    assert (connect.peer, connect.port, connect.node) == ("localhost", server.port, "node-a")
    assert handshake.certificate_subject is not None
    assert "localhost" in handshake.certificate_subject
    assert handshake.detail["protocol"].startswith("TLSv1.")
    assert (login.user, login.detail["mechanism"], login.outcome) == (USER, "XOAUTH2", Outcome.OK)
    assert send.message_id == mail["Message-ID"]
    assert [(r.address, r.status, r.code) for r in send.recipients] == [(to, "accepted", "250") for to in TO]
    exported = io.StringIO()
    store.export(exported)
    assert TOKEN not in exported.getvalue()
    assert "Corps confidentiel" not in exported.getvalue()
    assert "Compte rendu" not in exported.getvalue()


def test_inbound_policy_decisions_are_kept(trail: tuple[AuditStore, AuditHandler]) -> None:
    store, _ = trail
    subject = "CN=mx.autre.mssante.fr,O=AUTRE,C=FR"
    audit.policy("mx.autre.mssante.fr[192.0.2.7]", sender="a@autre.mssante.fr", recipient="b@chu.mssante.fr",
                 certificate_subject=subject, certificate_sha256=":".join(["9F"] * 32), action="REJECT",
                 code="MSS-POL-002", reason="peer not on the allow-list")  # fmt: skip
    audit.policy("mx.ok.mssante.fr[192.0.2.8]", sender="", recipient="c@chu.mssante.fr", certificate_subject="",
                 certificate_sha256="", action="DUNNO", code="", reason="")  # fmt: skip
    refused, accepted = store.query(kinds=["policy"])
    assert (refused.peer, refused.sender, refused.certificate_subject) == (
        "mx.autre.mssante.fr[192.0.2.7]", "a@autre.mssante.fr", subject
    )  # fmt: skip
    assert (refused.certificate_sha256, refused.outcome, refused.codes) == (SHA256, Outcome.REFUSED, ("MSS-POL-002",))
    assert [(r.address, r.status) for r in refused.recipients] == [("b@chu.mssante.fr", "reject")]
    assert refused.detail["action"] == "REJECT"
    assert refused.reason == "peer not on the allow-list"
    assert (accepted.outcome, accepted.certificate_subject, accepted.certificate_sha256) == (Outcome.OK, None, None)


def test_every_event_of_the_logger_is_read(trail: tuple[AuditStore, AuditHandler]) -> None:
    store, handler = trail
    audit.tls("mx", peer_subject="CN=mx", protocol="TLSv1.3", cipher="X", ok=False, reason="expired",
              peer_sha256=SHA256.upper())  # fmt: skip
    audit.authenticate("mx", mechanism="XOAUTH2", user=USER, ok=False, code=535)
    audit.send("mx", message_id="<m@x>", results=[
        RecipientResult(recipient=TO[0], delivery=Delivery.ACCEPTED, code=250),
        RecipientResult(recipient=TO[1], delivery=Delivery.DEFERRED, code=None, reply=f"Bearer {TOKEN}"),
    ])  # fmt: skip
    audit.reset("mx", reason="connection closed by the server")
    logger = logging.getLogger(AUDIT_LOGGER)
    logger.info("fetched", extra={"event": "fetch", "server": "imap", "folder": "INBOX", "uid": "7", "size": 10,
                                  "success": True, "reason": ""})  # fmt: skip
    logger.info("moved", extra={"event": "move", "server": "imap", "folder": "INBOX", "uid": "7", "to": "Archive"})
    logger.info("no event field: not an audit event")
    tls_, login, send, reset, fetch, move = store.query()
    assert (tls_.outcome, tls_.reason, tls_.certificate_sha256) == (Outcome.REFUSED, "expired", SHA256)
    assert (login.outcome, login.codes) == (Outcome.REFUSED, ("535",))
    assert send.outcome == Outcome.REFUSED
    assert send.reason == "1 of 2 recipients not accepted"
    assert [r.code for r in send.recipients] == ["250", None]
    assert reset.outcome == Outcome.FAILED
    assert fetch.detail == {"folder": "INBOX", "uid": "7", "size": "10"}
    assert move.detail == {"folder": "INBOX", "uid": "7", "to": "Archive"}
    assert handler.recorded == 6


class Broken:
    """A store whose every write fails (a full disk, a database gone)."""

    def record(self, events: Iterable[AuditEvent]) -> int:
        raise OSError("No space left on device")


def test_a_failing_store_never_breaks_what_is_audited(caplog: pytest.LogCaptureFixture) -> None:
    handler = attach(Broken(), node="n")  # type: ignore[arg-type]
    try:
        with caplog.at_level(logging.ERROR, logger="mssante.audit"):
            audit.connect("mx", 25, code=220, reply="")
            audit.quit("mx")
    finally:
        handler.detach()
    assert (handler.failures, handler.recorded) == (2, 0)
    assert handler.last_error == "OSError: No space left on device"
    errors = [record for record in caplog.records if record.name == "mssante.audit"]
    assert len(errors) == 2
    assert "not recorded (2 lost so far)" in errors[1].getMessage()


def test_detach_puts_the_level_back() -> None:
    logger = logging.getLogger(AUDIT_LOGGER)
    before = logger.level
    handler = attach(Broken(), node="n")  # type: ignore[arg-type]
    assert logger.getEffectiveLevel() <= logging.INFO
    handler.detach()
    assert logger.level == before
    assert handler not in logger.handlers


def test_a_record_without_fields_is_ignored() -> None:
    record = logging.LogRecord(AUDIT_LOGGER, logging.INFO, __file__, 1, "plain", None, None)
    assert event_from_record(record, node="n") is None
    record.event = "rotate"
    event = event_from_record(record, node="n")
    assert event is not None
    assert (event.kind, event.peer, event.outcome) == ("rotate", "", Outcome.OK)


def test_in_the_background_events_are_written_in_batches(trail: tuple[AuditStore, AuditHandler]) -> None:
    store, _ = trail
    handler = attach(store, node="node-b", background=True)
    try:
        for port in range(1000):
            audit.connect("mx", port, code=220, reply="")
        handler.flush()
        assert (handler.recorded, handler.failures) == (1000, 0)
        audit.quit("mx")
    finally:
        handler.detach()  # writes what is left
    assert handler.recorded == 1001
    events = [event for event in store.events() if event.node == "node-b"]
    assert [event.port for event in events] == [*range(1000), None]


class Slow:
    """A store that takes its time (a distant database)."""

    def __init__(self) -> None:
        self.events: list[AuditEvent] = []

    def record(self, events: Iterable[AuditEvent]) -> int:
        time.sleep(0.2)
        self.events.extend(events)
        return len(self.events)


def test_in_the_background_a_slow_store_never_slows_a_session() -> None:
    slow = Slow()
    handler = AuditHandler(slow, node="n", background=True, queue_size=2)  # type: ignore[arg-type]
    logger = logging.getLogger(AUDIT_LOGGER)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        started = time.perf_counter()
        for port in range(20):
            audit.connect("mx", port, code=220, reply="")
        assert time.perf_counter() - started < 1.0  # written one by one, they would take 4 s
    finally:
        logger.removeHandler(handler)
        logger.setLevel(logging.NOTSET)
        handler.close()
    assert handler.failures > 0
    assert handler.last_error is not None
    assert "queue of events to record is full" in handler.last_error
    assert handler.recorded + handler.failures == 20
    assert len(slow.events) == handler.recorded


def test_in_the_background_a_failing_store_is_counted() -> None:
    handler = attach(Broken(), node="n", background=True)  # type: ignore[arg-type]
    try:
        audit.connect("mx", 25, code=220, reply="")
        handler.flush()
        assert handler.failures == 1
    finally:
        handler.detach()
    assert handler.last_error == "OSError: No space left on device"

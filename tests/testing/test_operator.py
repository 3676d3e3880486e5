"""LocalOperator: submission and IMAP on 127.0.0.1 with every check in force, delivery, DSN, refusals."""

from __future__ import annotations

import datetime as dt
import smtplib
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest

from mssante.errors import TransportError
from mssante.message import compose, parse_delivery_status, parse_mime
from mssante.pki import client_context
from mssante.testing import LocalOperator, _pki
from mssante.transport import Delivery, Envelope
from tests.counting import spy

PRO = "dr.martin@hopital.mssante.fr"
PATIENT = "279035121518989@patient.mssante.fr"
AT = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.timezone.utc)


@pytest.fixture(scope="module")
def operator() -> Iterator[LocalOperator]:
    with LocalOperator() as running:
        running.add_user(PRO, token="token-du-dr-martin")
        running.add_user(PATIENT, password="mot-de-passe-patient")
        yield running


def message(sender: str, to: list[str], text: str = "Compte rendu en pièce jointe.") -> EmailMessage:
    return compose(sender=sender, to=to, nil="DEV000001", at=AT, subject="Compte rendu", text=text)


def test_round_trip_to_a_professional_and_a_patient_with_a_dsn(operator: LocalOperator) -> None:
    sender = "secretariat@hopital.mssante.fr"
    operator.add_user(sender, token="token-du-secretariat")
    mail = message(sender, [PRO, PATIENT])
    before_pro, before_patient = len(operator.messages(PRO)), len(operator.messages(PATIENT))
    with operator.submission(sender) as smtp:
        result = smtp.send(mail, dsn=True)
    assert result.ok
    assert result.accepted == (PRO, PATIENT)
    assert len(operator.messages(PRO)) == before_pro + 1
    assert len(operator.messages(PATIENT)) == before_patient + 1
    with operator.mailbox(PRO) as box:
        fetched = box.fetch(box.unseen()[-1])
    assert fetched.message.subject == "Compte rendu"
    assert fetched.raw.startswith(f"Return-Path: <{sender}>".encode())
    with operator.mailbox(PATIENT) as box:  # LOGIN with the password: this user has no token
        patient_copy = box.fetch(box.unseen()[-1])
    assert patient_copy.message.message_id == mail["Message-ID"]
    with operator.mailbox(sender) as box:
        [uid] = box.unseen()
        report = box.fetch(uid)
    assert report.message.kind == "dsn"
    assert report.message.dsn is not None
    assert [(r.final_recipient, r.action, r.status) for r in report.message.dsn.recipients] == [
        (PRO, "delivered", "2.0.0"),
        (PATIENT, "delivered", "2.0.0"),
    ]
    assert report.message.dsn.original_envelope_id == mail["Message-ID"]
    block = next(part for part in parse_mime(report.raw).parts if part.content_type == "message/delivery-status")
    assert parse_delivery_status(block.data).recipients[0].action == "delivered"


def test_no_dsn_unless_asked(operator: LocalOperator) -> None:
    with operator.submission() as smtp:
        assert smtp.send(message(operator.application, [PRO])).ok
    assert operator.messages(operator.application) == []


def test_other_domains_are_refused(operator: LocalOperator) -> None:
    with operator.submission() as smtp:
        result = smtp.send(message(operator.application, [PRO, "someone@ailleurs.mssante.fr"]))
    [delivered, refused] = result.recipients
    assert delivered.delivery is Delivery.ACCEPTED
    assert refused.delivery is Delivery.REJECTED
    assert refused.code == 550
    assert "5.1.1" in refused.reply


def test_sender_must_be_the_authenticated_user(operator: LocalOperator) -> None:
    with operator.submission() as smtp:
        result = smtp.send(message(PRO, [PATIENT]), Envelope(sender=PRO, recipients=(PATIENT,)))
    assert not result.ok
    assert result.recipients[0].code == 553


def test_wrong_token_is_refused(operator: LocalOperator) -> None:
    with (
        pytest.raises(TransportError, match=r"XOAUTH2|535"),
        operator.submission(PRO, token="not-the-token") as smtp,
    ):
        smtp.send(message(PRO, [PATIENT]))
    with pytest.raises(TransportError, match="AUTHENTICATIONFAILED"):
        operator.mailbox(PRO, token="not-the-token").connect()


def test_plain_is_refused_unless_allowed(operator: LocalOperator) -> None:
    with pytest.raises(TransportError, match="PLAIN"), operator.submission(PATIENT) as smtp:
        smtp.send(message(PATIENT, [PRO]))


def test_plain_when_allowed() -> None:
    with LocalOperator(allow_plain=True) as operator:
        operator.add_user(PRO, password="secret-pro")
        with operator.submission(PRO) as smtp:
            assert smtp.send(message(PRO, [PATIENT])).ok
        assert len(operator.messages(PATIENT)) == 1


def test_client_certificate_is_required(operator: LocalOperator) -> None:
    with (  # noqa: PT012 (the session fails at STARTTLS or at the first command after it)
        pytest.raises((smtplib.SMTPException, OSError)),
        smtplib.SMTP(operator.host, operator.smtp_port, timeout=5) as smtp,
    ):
        smtp.ehlo()
        smtp.starttls(context=client_context(operator.trust_store))
        smtp.ehlo()
        smtp.noop()


def test_another_client_certificate_and_size(operator: LocalOperator, tmp_path: Path) -> None:
    certificate = operator.client_certificate(tmp_path, name="AUTRE LOGICIEL")
    assert all(path.is_file() for path in certificate)
    big = message(operator.application, [PRO], text="x" * 100)
    small = LocalOperator(max_message_size=200)
    with small, small.submission(client_certificate=certificate) as smtp:
        result = smtp.send(big)
    assert result.recipients[0].code == 552
    assert small.messages(PRO) == []


def test_a_revoked_client_certificate_is_refused_by_both_servers(tmp_path: Path) -> None:
    with LocalOperator() as running:
        running.add_user(PRO, token="token-du-dr-martin")
        kept = running.client_certificate(tmp_path, name="LOGICIEL GARDE")
        issued = running.pki.organisation("LOGICIEL REVOQUE", usage="auth")
        revoked = issued.write(tmp_path, "revoked")
        running.revoke(issued)
        with running.submission(PRO, client_certificate=kept) as smtp:  # another certificate still passes
            assert smtp.send(message(PRO, [PRO])).ok
        with running.submission(PRO, client_certificate=revoked) as smtp:
            refused = smtp.send(message(PRO, [PRO]))  # the operator answers MAIL FROM with 530
        assert [(r.delivery, r.code) for r in refused.recipients] == [(Delivery.REJECTED, 530)]
        assert "revoked" in refused.recipients[0].reply
        with pytest.raises(TransportError, match="revoked"):
            running.mailbox(PRO, client_certificate=revoked).connect()
        with running.mailbox(PRO, client_certificate=kept) as box:
            assert len(box.unseen()) == 1
        now = dt.datetime.now(dt.timezone.utc)
        assert running.revocation.check(issued.certificate, issued.intermediates[0], at=now).status.value == "revoked"


def test_not_running_and_bad_users(operator: LocalOperator) -> None:
    stopped = LocalOperator()
    with pytest.raises(RuntimeError, match="not running"):
        _ = stopped.smtp_port
    with pytest.raises(ValueError, match="domains"):
        operator.add_user("x@ailleurs.mssante.fr")
    with pytest.raises(ValueError, match="valid"):
        operator.add_user("pas une adresse")
    token = operator.add_user("nouveau@hopital.mssante.fr")
    assert token
    assert operator.token("nouveau@hopital.mssante.fr") == token


def test_a_second_operator_generates_no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    with LocalOperator():  # the shared PKI is made once per process
        pass
    keys = spy(monkeypatch, _pki, "_new_key")
    with LocalOperator() as operator:
        assert operator.smtp_port != operator.imap_port
    assert keys == []  # catches a PKI or certificates made again at each start: seconds of RSA key generation


def test_a_token_verifier_checks_each_token_at_each_login(operator: LocalOperator) -> None:
    address = "verifie@hopital.mssante.fr"
    seen: list[str] = []

    def verifier(token: str) -> bool:
        seen.append(token)
        return token.startswith("issued-")

    assert operator.add_user(address, token_verifier=verifier) is None
    assert operator.token(address) is None  # no fixed token made
    for token in ("issued-1", "issued-2"):  # any token the verifier accepts, e.g. a refreshed one
        with operator.submission(address, token=token) as smtp:
            assert smtp.send(message(address, [PATIENT])).ok
        with operator.mailbox(address, token=token) as box:
            assert box.unseen() == []
    assert seen == ["issued-1", "issued-1", "issued-2", "issued-2"]  # SMTP then IMAP, each time
    with pytest.raises(TransportError, match=r"XOAUTH2|535"), operator.submission(address, token="forged") as smtp:
        smtp.send(message(address, [PATIENT]))
    with pytest.raises(TransportError, match="AUTHENTICATIONFAILED"):
        operator.mailbox(address, token="forged").connect()
    assert seen[-2:] == ["forged", "forged"]


def test_a_verifier_that_fails_refuses_and_new_credentials_replace_it(operator: LocalOperator) -> None:
    address = "remplace@hopital.mssante.fr"

    def broken(token: str) -> bool:
        raise RuntimeError("the provider cannot be reached")

    operator.add_user(address, token="fixe", token_verifier=broken)
    with operator.submission(address, token="fixe") as smtp:  # the fixed token needs no verifier
        assert smtp.send(message(address, [PATIENT])).ok
    with pytest.raises(TransportError), operator.submission(address, token="autre") as smtp:
        smtp.send(message(address, [PATIENT]))
    with pytest.raises(TransportError, match="AUTHENTICATIONFAILED"):
        operator.mailbox(address, token="autre").connect()
    operator.add_user(address, token="nouveau")  # the verifier goes with the old credentials
    with pytest.raises(TransportError, match="AUTHENTICATIONFAILED"):
        operator.mailbox(address, token="fixe").connect()
    with operator.mailbox(address) as box:  # the new token
        assert box.unseen() == []

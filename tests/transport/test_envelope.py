"""The envelope holds validated addresses, and the server receives exactly what was checked.

A recipient string is one address or nothing: ``"evil@attacker.example, dr@hopital.mssante.fr"`` is not checked as
``hopital.mssante.fr`` and sent to ``evil@attacker.example``; it is refused (``InvalidAddress``, ``MSS-ADR-003``)
before any connection. The ``MAIL FROM`` and ``RCPT TO`` lines a real server receives are compared byte for byte
with ``str()`` of the checked addresses, for the sync and the async submissions alike.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from mssante.addresses import Address
from mssante.errors import InvalidAddress
from mssante.message import compose
from mssante.pki import RevocationChecker, TrustStore
from mssante.transport import Envelope, FileTransport, MemoryTransport, SendResult, Submission
from mssante.transport._async_submission import AsyncSubmission
from tests.transport.conftest import Files
from tests.transport.smtp_server import TOKEN, USER, Recorder

MODES = ["sync", "async"]
DOCTOR = "dr.martin@hopital.mssante.fr"
HOSTILE = [
    "evil@attacker.example, dr.martin@hopital.mssante.fr",
    "<evil@attacker.example> dr.martin@hopital.mssante.fr",
    "dr.martin@hopital.mssante.fr\r\nRCPT TO:<evil@attacker.example>",
    "dr.martin@hopital.mssante.fr>\r\nRCPT TO:<evil@attacker.example",
    "Dr Martin <dr.martin@hopital.mssante.fr>",
    "dr.martin@hopital.mssante.fr\n",
]


def message() -> EmailMessage:
    return compose(
        sender=USER, to=[DOCTOR], nil="DEV000001", at=dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.timezone.utc),
        subject="Compte rendu", text="Compte rendu en pièce jointe.",
    )  # fmt: skip


def send(
    mode: str,
    controller: Controller,
    store: TrustStore,
    crls: RevocationChecker,
    client: Files,
    envelope: Envelope | None,
    mail: EmailMessage | bytes | None = None,
) -> SendResult:
    """Send ``mail`` (a message to DOCTOR by default) with ``envelope`` by Submission (sync) or AsyncSubmission."""
    mail = mail if mail is not None else message()
    certificate = (client.certificate, client.key)
    if mode == "sync":
        with Submission(
            "localhost", controller.port, store=store, client_certificate=certificate, username=USER,
            token=lambda: TOKEN, revocation=crls, timeout=5,
        ) as smtp:  # fmt: skip
            return smtp.send(mail, envelope)

    async def scenario() -> SendResult:
        async with AsyncSubmission(
            "localhost", controller.port, store=store, client_certificate=certificate, username=USER,
            token=lambda: TOKEN, revocation=crls, timeout=5,
        ) as smtp:  # fmt: skip
            return await smtp.send(mail, envelope)

    return asyncio.run(scenario())


# --- the envelope -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", HOSTILE)
def test_what_is_not_one_address_is_refused_with_a_finding(text: str) -> None:
    with pytest.raises(InvalidAddress, match="the envelope recipient") as as_recipient:
        Envelope(sender=USER, recipients=[DOCTOR, text])
    assert "MSS-ADR-003" in as_recipient.value.report.codes
    with pytest.raises(InvalidAddress, match="the envelope sender") as as_sender:
        Envelope(sender=text, recipients=[DOCTOR])
    assert "MSS-ADR-003" in as_sender.value.report.codes


def test_the_envelope_holds_the_addresses_it_checked() -> None:
    envelope = Envelope(sender=" Application@HOPITAL.MSSante.fr", recipients=["Dr.Martin@Hopital.mssante.fr"])
    assert envelope.sender == Address(local="Application", domain="hopital.mssante.fr")
    assert envelope.recipients == (Address(local="Dr.Martin", domain="hopital.mssante.fr"),)
    assert [str(address) for address in envelope.recipients] == ["Dr.Martin@hopital.mssante.fr"]
    given = Address.parse(DOCTOR)
    assert Envelope(sender=None, recipients=(given,)).recipients[0] is given
    for null in ("", "<>", None):
        assert Envelope(sender=null, recipients=[DOCTOR]).sender is None  # the null sender of bounces
    with pytest.raises(InvalidAddress) as unqualified:
        Envelope(sender=USER, recipients=["dr.martin@hopital"])
    assert unqualified.value.report.codes == ("MSS-ADR-007",)
    with pytest.raises(InvalidAddress):  # SMTPUTF8 is not offered: an MSSanté local part is ASCII
        Envelope(sender=USER, recipients=["élodie@chu.mssante.fr"])
    with pytest.raises(TypeError, match="not one str"):
        Envelope(sender=USER, recipients=DOCTOR)


# --- on the wire ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_the_server_receives_the_addresses_as_checked(
    mode: str, server: Controller, recorder: Recorder, store: TrustStore, crls: RevocationChecker, client: Files
) -> None:
    envelope = Envelope(sender="Application@HOPITAL.MSSante.fr", recipients=["Dr.Martin@HOPITAL.MSSante.fr", DOCTOR])
    result = send(mode, server, store, crls, client, envelope)
    assert result.accepted == ("Dr.Martin@hopital.mssante.fr", DOCTOR)
    mail, *rcpts = recorder.commands
    assert mail.split(" ")[:2] == ["MAIL", f"FROM:<{envelope.sender}>"]
    assert rcpts == [f"RCPT TO:<{recipient}>" for recipient in envelope.recipients]


@pytest.mark.parametrize("mode", MODES)
def test_the_null_sender_is_sent_as_such(
    mode: str, server: Controller, recorder: Recorder, store: TrustStore, crls: RevocationChecker, client: Files
) -> None:
    result = send(mode, server, store, crls, client, Envelope(sender="", recipients=[DOCTOR]))
    assert result.ok
    assert recorder.commands[0].split(" ")[:2] == ["MAIL", "FROM:<>"]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("hostile", HOSTILE[:2])
def test_a_recipient_list_in_one_string_never_reaches_the_server(
    mode: str,
    hostile: str,
    server: Controller,
    recorder: Recorder,
    store: TrustStore,
    crls: RevocationChecker,
    client: Files,
) -> None:
    with pytest.raises(InvalidAddress):
        send(mode, server, store, crls, client, Envelope(sender=USER, recipients=(hostile,)))
    assert recorder.commands == []
    assert recorder.messages == []


@pytest.mark.parametrize("mode", MODES)
def test_a_bad_address_in_the_headers_is_refused_before_connecting(
    mode: str, server: Controller, recorder: Recorder, store: TrustStore, crls: RevocationChecker, client: Files
) -> None:
    data = b"From: application@hopital.mssante.fr\r\nTo: dr.martin@hopital\r\nSubject: x\r\n\r\nbody\r\n"
    with pytest.raises(InvalidAddress, match=r"recipient \(To, Cc, Bcc\)") as raised:
        send(mode, server, store, crls, client, None, data)
    assert "MSS-ADR-007" in raised.value.report.codes
    assert recorder.mail_peers == []


# --- the local transports ---------------------------------------------------------------------------------


def test_the_local_transports_refuse_what_is_not_one_address(tmp_path: Path) -> None:
    data = b"From: application@hopital.mssante.fr\r\nTo: dr.martin@hopital\r\nSubject: x\r\n\r\nbody\r\n"
    memory = MemoryTransport()
    files = FileTransport(tmp_path / "outbox")
    for transport in (memory, files):
        with pytest.raises(InvalidAddress) as raised:
            transport.send(data)
        assert "MSS-ADR-007" in raised.value.report.codes
    assert memory.sent == []
    assert list((tmp_path / "outbox").iterdir()) == []


def test_the_file_transport_writes_the_checked_envelope(tmp_path: Path) -> None:
    files = FileTransport(tmp_path)
    result = files.send(message(), Envelope(sender="", recipients=["Dr.Martin@HOPITAL.MSSante.fr"]))
    assert result.accepted == ("Dr.Martin@hopital.mssante.fr",)
    [side] = tmp_path.glob("*.envelope.json")
    assert json.loads(side.read_text()) | {"message_id": None} == {
        "sender": "",
        "recipients": ["Dr.Martin@hopital.mssante.fr"],
        "message_id": None,
    }

"""The transports that keep messages: in memory and as files in an outbox folder."""

from __future__ import annotations

import datetime as dt
import json
import stat
from email.message import EmailMessage
from pathlib import Path

import pytest

from mssante.addresses import Address
from mssante.errors import InvalidInput
from mssante.message import Attachment, compose, parse
from mssante.transport._local import FileTransport, MemoryTransport
from mssante.transport._results import Delivery, Envelope

AT = dt.datetime(2026, 6, 1, 12, tzinfo=dt.timezone.utc)
DOCTOR = "pierre.didot@pharmacie-4-cantons.mssante.fr"
COLLEAGUE = "stephane.medioni@mssante.fr"
OTHER = "secretariat@chu-x.mssante.fr"
HIDDEN = "archives@chu-x.mssante.fr"
MESSAGE_ID = "<20260601.1/x@pharmacie-4-cantons.mssante.fr>"


def mail(*, bcc: str | None = None, message_id: str = MESSAGE_ID) -> EmailMessage:
    message = compose(
        sender=("Dr Pierre DIDOT", DOCTOR), to=[COLLEAGUE], cc=[OTHER], nil="DEV1", at=AT, subject="Résultats",
        text="Bonjour,\n", message_id=message_id,
        attachments=[Attachment(filename="cr.pdf", content=b"%PDF-1.4\n", content_type="application/pdf")],
    )  # fmt: skip
    if bcc:
        message["Bcc"] = bcc
    return message


def test_memory_round_trip() -> None:
    transport = MemoryTransport()
    result = transport.send(mail(bcc=HIDDEN))
    assert result.ok
    assert result.accepted == (COLLEAGUE, OTHER, HIDDEN)
    assert result.message_id == MESSAGE_ID
    [kept] = transport.sent
    assert kept.envelope.sender == Address.parse(DOCTOR)
    assert [str(address) for address in kept.envelope.recipients] == [COLLEAGUE, OTHER, HIDDEN]
    assert kept.message.subject == "Résultats"
    assert [part.filename for part in kept.message.attachments] == ["cr.pdf"]
    assert kept.message.attachments[0].data == b"%PDF-1.4\n"
    assert b"Bcc" not in kept.data
    assert HIDDEN.encode() not in kept.data
    assert parse(kept.data).subject == "Résultats"
    transport.clear()
    assert transport.sent == []


def test_bytes_and_a_given_envelope() -> None:
    transport = MemoryTransport()
    envelope = Envelope(sender="", recipients=[HIDDEN])
    result = transport.send(mail().as_bytes(), envelope)
    assert result.accepted == (HIDDEN,)
    assert transport.sent[0].envelope == envelope


def test_simulated_reject_and_defer() -> None:
    transport = MemoryTransport(
        reject={COLLEAGUE.upper(): (550, "5.1.1 no such user")}, defer={OTHER: (451, "4.3.0 try later")}
    )
    result = transport.send(mail(bcc=HIDDEN))
    assert not result.ok
    assert result.rejected == (COLLEAGUE,)
    assert result.deferred == (OTHER,)
    assert result.accepted == (HIDDEN,)
    by_recipient = {item.recipient: item for item in result.recipients}
    assert (by_recipient[COLLEAGUE].delivery, by_recipient[COLLEAGUE].code) == (Delivery.REJECTED, 550)
    assert by_recipient[OTHER].reply == "4.3.0 try later"
    everyone_refused = MemoryTransport(reject={COLLEAGUE: (550, "no")}).send(
        mail(), Envelope(sender=DOCTOR, recipients=[COLLEAGUE])
    )
    assert not everyone_refused.ok


def test_send_many_and_no_recipient() -> None:
    transport = MemoryTransport()
    results = transport.send_many([mail(), mail(message_id="<2@x.mssante.fr>")])
    assert [result.ok for result in results] == [True, True]
    assert len(transport.sent) == 2
    lonely = EmailMessage()
    lonely["From"] = DOCTOR
    lonely.set_content("nobody to read this")
    with pytest.raises(InvalidInput, match="no recipient"):
        transport.send(lonely)
    with pytest.raises(InvalidInput, match="no From"):
        transport.send(b"Subject: x\r\n\r\nbody\r\n")


def test_files_parse_back_and_keep_the_envelope(tmp_path: Path) -> None:
    outbox = tmp_path / "outbox" / "nested"
    transport = FileTransport(outbox, clock=lambda: AT)
    assert stat.S_IMODE(outbox.stat().st_mode) == 0o700
    result = transport.send(mail(bcc=HIDDEN))
    assert result.ok
    assert result.server == outbox.resolve().as_uri()
    [written] = sorted(outbox.glob("*.eml"))
    assert written.name.startswith("20260601T120000000000Z-")
    assert "/" not in written.name.removesuffix(".eml")
    assert stat.S_IMODE(written.stat().st_mode) == 0o600
    data = written.read_bytes()
    assert b"Bcc" not in data
    assert parse(data).subject == "Résultats"
    side = json.loads((outbox / (written.name + ".envelope.json")).read_text())
    assert side["sender"] == DOCTOR
    assert side["recipients"] == [COLLEAGUE, OTHER, HIDDEN]
    assert not list(outbox.glob(".tmp-*"))


def test_files_are_never_overwritten(tmp_path: Path) -> None:
    transport = FileTransport(tmp_path, clock=lambda: AT)
    transport.send_many([mail(), mail(), mail()])
    names = sorted(path.name for path in tmp_path.glob("*.eml"))
    assert len(names) == 3
    assert len(list(tmp_path.glob("*.envelope.json"))) == 3
    assert sum(name.endswith(("-1.eml", "-2.eml")) for name in names) == 2


def test_a_hostile_message_id_makes_a_safe_name(tmp_path: Path) -> None:
    transport = FileTransport(tmp_path, clock=lambda: AT)
    transport.send(mail(message_id="<../../etc/passwd@x.mssante.fr>"))
    [written] = list(tmp_path.glob("*.eml"))
    assert written.parent == tmp_path
    assert ".." not in written.name

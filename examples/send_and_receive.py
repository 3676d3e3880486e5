"""Send a message with ``Submission`` and read it with ``ImapMailbox``, against a local MSSanté operator.

``LocalOperator`` runs an SMTP submission server and an IMAP server on 127.0.0.1 that require STARTTLS, an
IGC Santé-shaped client certificate and XOAUTH2, as a real operator does. The sender's software submits a
message to two recipients, one of them unknown, and prints what became of each; the recipient's software then
reads its mailbox: fetch, store, and only then mark the message seen. In production, give your operator's hosts,
``TrustStore.bundled("prod")``, the IGC Santé CRLs, your software's certificate and a Pro Santé Connect token.

Run: ``python examples/send_and_receive.py`` (offline, about a second; needs ``pip install 'mssante[testing]'``).
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

from mssante.message import compose
from mssante.testing import LocalOperator
from mssante.transport import ImapMailbox, Submission

SENDER = "pierre.didot@hopital.mssante.fr"
DOCTOR = "claire.durand@hopital.mssante.fr"

with tempfile.TemporaryDirectory() as folder, LocalOperator() as operator:
    tokens = {address: str(operator.add_user(address)) for address in (SENDER, DOCTOR)}  # stand-ins for PSC tokens
    certificate = operator.client_certificate(folder, name="LOGICIEL-EXEMPLE")  # (certificate, key) PEM files
    store, revocation = operator.trust_store, operator.revocation

    mail = compose(
        sender=SENDER,
        to=[DOCTOR, "inconnu@clinique-fermee.mssante.fr"],
        nil="DEV935997",
        at=dt.datetime.now(dt.timezone.utc),
        subject="Avis sur le dossier de Mme PAT-TROIS",
        text="Bonjour,\n\nPouvez-vous donner votre avis ?\n",
    )
    with Submission(
        operator.host, operator.smtp_port, store=store, client_certificate=certificate, revocation=revocation,
        username=SENDER, token=lambda: tokens[SENDER],
    ) as smtp:  # fmt: skip
        result = smtp.send(mail)
    for outcome in result.recipients:  # accepted: wait; rejected: do not retry as is; deferred: retry later
        print(f"sent to {outcome.recipient}: {outcome.delivery.value} ({outcome.code} {outcome.reply})")

    inbox = Path(folder) / "inbox"
    inbox.mkdir()
    with ImapMailbox(
        operator.host, operator.imap_port, store=store, client_certificate=certificate, revocation=revocation,
        username=DOCTOR, token=lambda: tokens[DOCTOR],
    ) as box:  # fmt: skip
        for uid in box.unseen():
            fetched = box.fetch(uid)  # read, not marked: nothing is lost if the program stops here
            (inbox / f"{uid}.eml").write_bytes(fetched.raw)  # your storage first...
            box.mark_seen(uid)  # ...then the server
            message = fetched.message
            sender = message.sender.address if message.sender else "?"
            print(f"{DOCTOR} received UID {uid}: {message.subject!r} from {sender}")
        print(f"left unseen: {len(box.unseen())}")

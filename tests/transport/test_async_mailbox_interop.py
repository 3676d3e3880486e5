"""AsyncMailbox against the real Dovecot of the interop tests: a message sent through Postfix is read back, and
Dovecot's refusals of a client certificate are told as by ImapMailbox.

The operator (Postfix and Dovecot, every TLS check in force) is the one of :mod:`tests.transport.test_interop`;
needs root, Postfix and Dovecot: skipped without them, failed when ``MSSANTE_REQUIRE_MTA`` is set (CI).
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from mssante.errors import TransportError
from mssante.pki import RevocationChecker, TrustStore
from mssante.testing import IssuedCertificate, TestPki
from mssante.transport import AsyncMailbox, FetchedMessage
from mssante.xdm import Package
from tests.transport import test_interop as interop
from tests.transport.conftest import Files, write
from tests.transport.test_interop import DELIVERY_SECONDS, DOMAIN, RECIPIENT, Operator, assert_intact, message, submit

# The operator of the interop tests and what it needs (module-scoped fixtures: started for this module too).
operator = interop.operator
mailbox_client = interop.mailbox_client
mx_certificate = interop.mx_certificate
package = interop.package
revoked = interop.revoked


def mailbox(operator: Operator, store: TrustStore, crls: RevocationChecker, client: Files | None) -> AsyncMailbox:
    return AsyncMailbox(
        "localhost", operator.dovecot.imap_port, store=store,
        client_certificate=(client.certificate, client.key) if client else None, username=RECIPIENT,
        external=True, revocation=crls, timeout=5,
    )  # fmt: skip


async def wait_for(box: AsyncMailbox, message_id: str, operator: Operator) -> FetchedMessage:
    """Poll the unseen messages until the one with ``message_id`` is there."""
    deadline = time.monotonic() + DELIVERY_SECONDS
    while True:
        for uid in await box.unseen():
            fetched = await box.fetch(uid)
            if fetched.message.message_id == message_id:
                return fetched
        if time.monotonic() > deadline:
            log = operator.postfix.log.read_text(errors="replace").splitlines()[-20:]
            pytest.fail(f"{message_id} not delivered in {DELIVERY_SECONDS:.0f} s; Postfix log:\n" + "\n".join(log))
        await asyncio.sleep(0.1)


def test_submission_to_postfix_then_async_mailbox_from_dovecot(
    operator: Operator, package: Package, store: TrustStore, crls: RevocationChecker, client: Files,
    mailbox_client: Files,
) -> None:  # fmt: skip
    sent = message(package)
    assert submit(operator, store, crls, client, sent).ok

    async def scenario() -> None:
        async with mailbox(operator, store, crls, mailbox_client) as box:
            assert box.uidvalidity is not None  # Dovecot announces it at SELECT
            fetched = await wait_for(box, sent["Message-ID"], operator)
            assert_intact(fetched, sent, client_cn="LOGICIEL")
            await box.mark_seen(fetched.uid)
            assert fetched.uid not in await box.unseen()
            await box.delete(fetched.uid)

    asyncio.run(scenario())
    assert not any(sent["Message-ID"].encode() in data for data in operator.dovecot.messages(RECIPIENT))


@pytest.mark.parametrize(
    ("variant", "logged"),
    [
        ("no certificate", "Client didn't present valid SSL certificate"),
        ("revoked", "certificate revoked"),
        ("unknown mailbox", f"passwd-file(inconnu@{DOMAIN},127.0.0.1,"),
    ],
)
def test_dovecot_refuses_a_login_without_a_valid_client_certificate(
    variant: str, logged: str, operator: Operator, pki: TestPki, revoked: IssuedCertificate,
    store: TrustStore, crls: RevocationChecker, files: Path,
) -> None:  # fmt: skip
    certificates = {
        "no certificate": None,
        "revoked": revoked,
        "unknown mailbox": pki.organisation(f"inconnu@{DOMAIN}", usage="auth"),
    }
    issued = certificates[variant]
    client = write(issued, files, f"async-{variant.replace(' ', '-')}") if issued is not None else None
    offset = operator.dovecot.log.stat().st_size
    with pytest.raises(TransportError, match="refused EXTERNAL") as caught:
        asyncio.run(mailbox(operator, store, crls, client).connect())
    assert caught.value.report.codes == ("MSS-TRN-006",)  # the certificate refused as credentials
    interop.wait_for_log(operator.dovecot.log, offset, logged)

"""Log in with Pro Santé Connect, send, read and acknowledge with asyncio, against a local provider and operator.

``LocalPscProvider`` runs an OpenID provider shaped like Pro Santé Connect on 127.0.0.1 (node-oidc-provider), and
``LocalOperator`` an SMTP submission server and an IMAP server that require STARTTLS, a client certificate and an
XOAUTH2 access token, which they check at the provider (token introspection). Two users log in (the back-channel
flow: each approves on their device); the laboratory's software sends a result with ``AsyncSubmission`` and
``AsyncTokenSource``; the doctor's software reads it with ``AsyncMailbox``, stores it, marks it seen and answers
with a read receipt (MDN); the laboratory reads the receipt with a refreshed token. Then the provider ends the
laboratory's session: the refresh is refused (``MSS-PSC-009``) and the open mailbox refuses its next command
(``MSS-TRN-024``): the user must log in again.

The provider needs Node.js 20.19 or later and ``npm install --prefix psc-provider oidc-provider@9``; give the
``node_modules`` folder in ``MSSANTE_PSC_NODE_MODULES``. Without it the script says so and stops (exit 0; exit 1
when ``MSSANTE_REQUIRE_MTA`` is set, as in CI).

Run: ``MSSANTE_PSC_NODE_MODULES=psc-provider/node_modules python examples/vendor_async_psc.py`` (a few seconds).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email
import email.policy
import os
import sys
import tempfile
from pathlib import Path

from mssante.errors import TransportError
from mssante.message import Disposition, build_mdn, compose
from mssante.psc import AsyncPscClient, AsyncTokenSource, PscError
from mssante.testing import LocalOperator, LocalPscProvider
from mssante.transport import AsyncMailbox, AsyncSubmission

LAB = "pierre.didot@labo-exemple.mssante.fr"
DOCTOR = "claire.durand@hopital.mssante.fr"
LAB_PSC, DOCTOR_PSC = LocalPscProvider.user, "810000000108"  # their Pro Santé Connect subjects (IdNat_PS)


def submission(operator: LocalOperator, address: str, source: AsyncTokenSource, files: Path) -> AsyncSubmission:
    return AsyncSubmission(
        operator.host,
        operator.smtp_port,
        store=operator.trust_store,
        client_certificate=operator.client_certificate(files),
        revocation=operator.revocation,
        username=address,
        token=source,
    )


def mailbox(operator: LocalOperator, address: str, source: AsyncTokenSource, files: Path) -> AsyncMailbox:
    return AsyncMailbox(
        operator.host,
        operator.imap_port,
        store=operator.trust_store,
        client_certificate=operator.client_certificate(files),
        revocation=operator.revocation,
        username=address,
        token=source,
    )


async def exchange(client: AsyncPscClient, operator: LocalOperator, files: Path) -> None:
    now = dt.datetime.now(dt.timezone.utc)
    lab = AsyncTokenSource(client, await client.ciba(LAB_PSC))
    doctor = AsyncTokenSource(client, await client.ciba(DOCTOR_PSC))
    print(f"logged in: {lab.tokens.subject} and {doctor.tokens.subject}")  # never print the tokens
    async with lab, doctor:  # refreshed by a task of the event loop; leaving the block logs out
        mail = compose(
            sender=LAB, to=[DOCTOR], nil="DEV935997", at=now, subject="Résultat d'analyse",
            text="Bonjour,\n\nVeuillez trouver le résultat.\n", read_receipt=True,
        )  # fmt: skip
        async with submission(operator, LAB, lab, files) as smtp:
            result = await smtp.send(mail)
        print(f"sent: {[(outcome.recipient, outcome.delivery.value) for outcome in result.recipients]}")

        receipts = []
        async with mailbox(operator, DOCTOR, doctor, files) as box:
            for uid in await box.unseen():
                fetched = await box.fetch(uid)
                (files / f"{uid}.eml").write_bytes(fetched.raw)  # 1. your storage
                await box.mark_seen(uid)  # 2. then the server
                print(f"the doctor read: {fetched.message.subject}")
                original = email.message_from_bytes(fetched.raw, policy=email.policy.default)
                receipts.append(
                    build_mdn(
                        original=original,
                        reporting_ua="Logiciel du cabinet 4.2",
                        final_recipient=DOCTOR,
                        disposition=Disposition.processed(),
                        at=now,
                        sender=DOCTOR,
                    )
                )
        async with submission(operator, DOCTOR, doctor, files) as smtp:
            for receipt in receipts:
                print(f"read receipt sent: {(await smtp.send(receipt)).ok}")

        await lab.refresh()  # as the task does when the token is due: the next session authenticates with the new one
        async with mailbox(operator, LAB, lab, files) as box:
            for uid in await box.unseen():
                print(f"the laboratory got: {(await box.fetch(uid)).message.kind}")


async def session_end(client: AsyncPscClient, provider: LocalPscProvider, operator: LocalOperator, files: Path) -> None:
    source = AsyncTokenSource(client, await client.ciba(LAB_PSC))
    box = mailbox(operator, LAB, source, files)
    await box.connect()
    if source.tokens.refresh_token:
        provider.revoke(source.tokens.refresh_token)  # the provider ends the user's session
    try:
        await source.refresh()
    except PscError as error:
        print(f"refresh refused: {error.code}")
    try:
        await box.unseen()
    except TransportError as error:
        print(f"the mailbox is closed: {error.report.findings[0].code}; ask the user to log in again")
    finally:
        await box.close()


async def main(provider: LocalPscProvider, operator: LocalOperator, files: Path) -> None:
    async with provider.async_client() as client:
        await exchange(client, operator, files)
        await session_end(client, provider, operator, files)


node_modules = os.environ.get("MSSANTE_PSC_NODE_MODULES", "psc-provider/node_modules")
if not LocalPscProvider.available(node_modules):
    print(f"no local Pro Santé Connect provider in {node_modules!r} (Node.js and oidc-provider): nothing run")
    sys.exit(1 if os.environ.get("MSSANTE_REQUIRE_MTA") else 0)

with (
    tempfile.TemporaryDirectory() as folder,
    LocalPscProvider(node_modules, approve=(LAB_PSC, DOCTOR_PSC)) as provider,
    LocalOperator(domains=("labo-exemple.mssante.fr", "hopital.mssante.fr")) as operator,
):
    operator.add_user(LAB, token_verifier=provider.token_verifier(LAB_PSC))  # checked at the provider
    operator.add_user(DOCTOR, token_verifier=provider.token_verifier(DOCTOR_PSC))
    asyncio.run(main(provider, operator, Path(folder)))

"""The asyncio side: AsyncPscClient (the source the sync client is generated from) and AsyncTokenSource, with an
AsyncSubmission and an AsyncMailbox that end with their source."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest

from mssante.errors import TransportError
from mssante.psc import AsyncPscClient, AsyncTokenSource, MemoryTokenStore, PscError
from mssante.psc import codes as psc_codes
from mssante.testing import LocalOperator
from mssante.transport import AsyncMailbox, AsyncSubmission, EndingTokenSource
from mssante.transport import codes as transport_codes
from tests.psc.lying_provider import CLIENT_ID, CLIENT_SECRET, SUBJECT, Provider, new_key


async def no_wait(seconds: float) -> None:
    await asyncio.sleep(0)


def client_of(provider: Provider, files: Path, max_duration: float = 30.0) -> AsyncPscClient:
    return AsyncPscClient(
        provider.issuer, CLIENT_ID, client_secret=CLIENT_SECRET, ca_file=files / "ca.pem", max_duration=max_duration
    )


@pytest.fixture(scope="module")
def operator() -> Iterator[LocalOperator]:
    with LocalOperator() as running:
        yield running


def test_back_channel_and_refresh(provider: Provider, psc_files: Path) -> None:
    async def run() -> None:
        async with client_of(provider, psc_files) as client:
            assert (await client.metadata()).ciba
            tokens = await client.ciba("810000001916", sleep=no_wait)
            assert tokens.subject == SUBJECT
            refreshed = await client.refresh(tokens)
            assert refreshed.access_token == provider.seen.access_tokens[-1]
            assert refreshed.subject == SUBJECT

    asyncio.run(run())


def test_mutual_tls(provider: Provider, psc_files: Path) -> None:
    async def run() -> None:
        async with AsyncPscClient(
            provider.issuer, CLIENT_ID, certificate=psc_files / "client.pem", key=psc_files / "client.key",
            ca_file=psc_files / "ca.pem",
        ) as client:  # fmt: skip
            await client.ciba("810000001916", sleep=no_wait)

    asyncio.run(run())
    assert provider.seen.client_auth == ["tls_client_auth", "tls_client_auth", "tls_client_auth"]


@pytest.mark.parametrize(
    ("lie", "code"),
    [("issuer", psc_codes.ISSUER_MISMATCH.id), ("none", psc_codes.BAD_SIGNATURE.id), ("nonce", None)],
)
def test_lies(provider: Provider, psc_files: Path, lie: str, code: str | None) -> None:
    if lie == "issuer":
        provider.behaviour.metadata_issuer = "https://evil.example"
    else:
        provider.behaviour.id_token = lie

    async def run() -> str:
        async with client_of(provider, psc_files) as client:
            try:
                await client.ciba("810000001916", sleep=no_wait)
            except PscError as error:
                return error.code
            return "accepted"

    assert asyncio.run(run()) == (code or "accepted")  # CIBA sends no nonce: none to check


def test_key_rotation(provider: Provider, psc_files: Path) -> None:
    async def run() -> None:
        async with client_of(provider, psc_files) as client:
            await client.keys()
            provider.behaviour.signing_key = new_key("k2")
            await client.ciba("810000001916", sleep=no_wait)

    asyncio.run(run())
    assert provider.seen.jwks_fetches == 2


def test_trickling_provider(provider: Provider, psc_files: Path) -> None:
    provider.behaviour.trickle = 0.05

    async def run() -> str:
        async with client_of(provider, psc_files, max_duration=1.0) as client:
            try:
                await client.metadata()
            except PscError as error:
                return error.code
            return "answered"

    assert asyncio.run(run()) == psc_codes.UNREACHABLE.id


def test_async_source_ends_an_async_submission(
    provider: Provider, psc_files: Path, operator: LocalOperator, tmp_path: Path
) -> None:
    address = f"async-source@{operator.domains[0]}"

    async def run() -> tuple[str, str, str, str | None, str | None]:
        async with client_of(provider, psc_files) as client:
            store = MemoryTokenStore()
            source = AsyncTokenSource(client, await client.ciba("810000001916", sleep=no_wait), store=store)
            assert isinstance(source, EndingTokenSource)
            operator.add_user(address, token=await source())
            smtp = AsyncSubmission(
                operator.host, operator.smtp_port, store=operator.trust_store, username=address, token=source,
                client_certificate=operator.client_certificate(tmp_path), revocation=operator.revocation, timeout=5,
            )  # fmt: skip
            await smtp.connect()
            box = AsyncMailbox(
                operator.host, operator.imap_port, store=operator.trust_store, username=address, token=source,
                client_certificate=operator.client_certificate(tmp_path), revocation=operator.revocation, timeout=5,
            )  # fmt: skip
            await box.connect()
            assert await box.unseen() == []
            provider.behaviour.access_ttl = 2  # the resumed source is due for a refresh within a second
            resumed = await AsyncTokenSource.resume(client, store)  # from the refresh token kept
            provider.behaviour.refresh = False
            refused = ended = "not refused"
            try:
                await source.refresh()
            except PscError as error:
                refused = error.code
            message = EmailMessage()
            message["From"], message["To"], message["Subject"] = address, address, "after the end"
            message.set_content("never sent")
            try:
                await smtp.send(message)
            except TransportError as error:
                ended = error.report.findings[0].code
            finally:
                await smtp.close()
            mailbox_ended = "read"
            try:
                await box.unseen()
            except TransportError as error:
                mailbox_ended = error.report.findings[0].code
            finally:
                await box.close()
            async with resumed:  # refreshed in the background when due: refused, so it ends
                for _ in range(150):
                    if resumed.ended:
                        break
                    await asyncio.sleep(0.02)
                background = resumed.ended
            return refused, ended, mailbox_ended, store.load(), background

    refused, ended, mailbox_ended, kept, background = asyncio.run(run())
    assert refused == psc_codes.REFRESH_REFUSED.id
    assert ended == transport_codes.TOKEN_ENDED.id
    assert mailbox_ended == transport_codes.TOKEN_ENDED.id
    assert kept is None
    assert background is not None
    assert background.startswith(psc_codes.REFRESH_REFUSED.id)

"""The token source in the sessions: a refresh that fails ends the sessions using it (MSS-TRN-024), a session opened
after a refresh authenticates with the fresh token (SC.MSS/CONF.10, CONF.11)."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest

from mssante.errors import TransportError
from mssante.psc import PscClient, PscError, TokenSource
from mssante.psc import codes as psc_codes
from mssante.testing import LocalOperator
from mssante.transport import AsyncSubmission, EndingTokenSource, ImapMailbox, Submission
from mssante.transport import codes as transport_codes
from tests.psc.lying_provider import Provider


@pytest.fixture(scope="module")
def operator() -> Iterator[LocalOperator]:
    with LocalOperator() as running:
        yield running


def message(sender: str) -> EmailMessage:
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = sender, sender, "psc"
    mail.set_content("hello")
    return mail


def source_for(client: PscClient, operator: LocalOperator, address: str) -> TokenSource:
    tokens = client.ciba("810000001916", sleep=lambda seconds: None)
    operator.add_user(address, token=tokens.access_token)
    return TokenSource(client, tokens)


def submission(operator: LocalOperator, address: str, source: TokenSource, files: Path) -> Submission:
    return Submission(
        operator.host, operator.smtp_port, store=operator.trust_store, username=address, token=source,
        client_certificate=operator.client_certificate(files), revocation=operator.revocation, timeout=5,
    )  # fmt: skip


def test_the_source_is_an_ending_token_source(client: PscClient, operator: LocalOperator) -> None:
    source = source_for(client, operator, f"ending@{operator.domains[0]}")
    assert isinstance(source, EndingTokenSource)
    assert not isinstance(lambda: "token", EndingTokenSource)


def test_a_session_opened_after_a_refresh_uses_the_fresh_token(
    client: PscClient, operator: LocalOperator, tmp_path: Path
) -> None:
    address = f"fresh@{operator.domains[0]}"
    source = source_for(client, operator, address)
    with submission(operator, address, source, tmp_path) as smtp:
        assert smtp.send(message(address)).ok
    refreshed = source.refresh()
    operator.add_user(address, token=refreshed.access_token)  # the operator now takes the new token only
    with submission(operator, address, source, tmp_path) as smtp:
        assert smtp.send(message(address)).ok


def test_a_failed_refresh_ends_the_submission_and_the_mailbox(
    client: PscClient, provider: Provider, operator: LocalOperator, tmp_path: Path
) -> None:
    address = f"ended@{operator.domains[0]}"
    source = source_for(client, operator, address)
    smtp = submission(operator, address, source, tmp_path)
    smtp.connect()
    mailbox = ImapMailbox(
        operator.host, operator.imap_port, store=operator.trust_store, username=address, token=source,
        client_certificate=operator.client_certificate(tmp_path), revocation=operator.revocation, timeout=5,
    )  # fmt: skip
    mailbox.connect()
    assert mailbox.unseen() == []
    provider.behaviour.refresh = False
    with pytest.raises(PscError) as refused:
        source.refresh()
    assert refused.value.code == psc_codes.REFRESH_REFUSED.id
    assert source.ended is not None
    for operation in (lambda: smtp.send(message(address)), mailbox.unseen):
        with pytest.raises(TransportError) as ended:
            operation()
        assert ended.value.report.findings[0].code == transport_codes.TOKEN_ENDED.id
        assert "log in again" in str(ended.value)
    smtp.close()
    mailbox.close()
    with pytest.raises(PscError) as after:
        source()
    assert after.value.code == psc_codes.TOKEN_ENDED.id
    with pytest.raises(TransportError) as later:  # a session made after the end is ended at once
        submission(operator, address, source, tmp_path).connect()
    assert later.value.report.findings[0].code == transport_codes.TOKEN_ENDED.id


def test_a_failed_refresh_ends_an_async_submission(
    client: PscClient, provider: Provider, operator: LocalOperator, tmp_path: Path
) -> None:
    address = f"async@{operator.domains[0]}"
    source = source_for(client, operator, address)

    async def run() -> str:
        smtp = AsyncSubmission(
            operator.host, operator.smtp_port, store=operator.trust_store, username=address, token=source,
            client_certificate=operator.client_certificate(tmp_path), revocation=operator.revocation, timeout=5,
        )  # fmt: skip
        await smtp.connect()
        provider.behaviour.refresh = False
        with pytest.raises(PscError):
            await asyncio.to_thread(source.refresh)
        try:
            await smtp.send(message(address))
        except TransportError as error:
            return error.report.findings[0].code
        finally:
            await smtp.close()
        return "sent"

    assert asyncio.run(run()) == transport_codes.TOKEN_ENDED.id


def test_the_background_refresher_ends_the_sessions(
    provider: Provider, operator: LocalOperator, psc_files: Path, tmp_path: Path
) -> None:
    provider.behaviour.access_ttl = 2  # due at once (1 s before expiry): refreshed, then refused
    with PscClient(
        provider.issuer, "lps-test", client_secret="s3cret-of-the-client", ca_file=psc_files / "ca.pem"
    ) as client:
        address = f"background@{operator.domains[0]}"
        source = source_for(client, operator, address)
        smtp = submission(operator, address, source, tmp_path)
        smtp.connect()
        provider.behaviour.refresh = False
        ended: list[str] = []
        source.on_end(ended.append)
        with source:
            deadline = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=5)
            while not ended and dt.datetime.now(dt.timezone.utc) < deadline:
                asyncio.run(asyncio.sleep(0.05))
        assert ended
        assert ended[0].startswith(psc_codes.REFRESH_REFUSED.id)
        with pytest.raises(TransportError) as refused:
            smtp.send(message(address))
        assert refused.value.report.findings[0].code == transport_codes.TOKEN_ENDED.id
        smtp.close()

"""The vendor's flow end to end, with asyncio: Pro Santé Connect login at the local OpenID provider, send with
AsyncSubmission and read with AsyncMailbox at the local operator, which checks every access token at the provider
(introspection, RFC 7662); then each way it is refused."""

from __future__ import annotations

import asyncio
import datetime as dt
import email
import email.policy
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest

from mssante.errors import TransportError
from mssante.message import Disposition, build_mdn, compose
from mssante.psc import AsyncTokenSource, PscError
from mssante.psc import codes as psc_codes
from mssante.testing import LocalOperator, LocalPscProvider
from mssante.transport import AsyncMailbox, AsyncSubmission
from mssante.transport import codes as transport_codes
from tests.psc.oidc import NODE_MODULES, require_provider

LAB_RPPS = LocalPscProvider.user
DOCTOR_RPPS = "810000002021"
LAB = "pierre.didot@labo-exemple.mssante.fr"
DOCTOR = "claire.durand@hopital.mssante.fr"


@pytest.fixture(scope="module")
def oidc() -> Iterator[LocalPscProvider]:
    require_provider()
    with LocalPscProvider(NODE_MODULES, access_token_ttl=60, approve=(LAB_RPPS, DOCTOR_RPPS)) as running:
        yield running


@pytest.fixture(scope="module")
def operator() -> Iterator[LocalOperator]:
    with LocalOperator(domains=("labo-exemple.mssante.fr", "hopital.mssante.fr")) as running:
        yield running


class Seen:
    """The provider's verifier for one user, recording each token the operator was given."""

    def __init__(self, oidc: LocalPscProvider, subject: str) -> None:
        self.tokens: list[str] = []
        self._verify = oidc.token_verifier(subject)

    def __call__(self, token: str) -> bool:
        self.tokens.append(token)
        return self._verify(token)


async def no_wait(seconds: float) -> None:
    await asyncio.sleep(min(seconds, 0.05))


def submission(
    operator: LocalOperator, address: str, token: Callable[[], Awaitable[str] | str], files: Path
) -> AsyncSubmission:
    return AsyncSubmission(
        operator.host, operator.smtp_port, store=operator.trust_store, username=address, token=token,
        client_certificate=operator.client_certificate(files), revocation=operator.revocation, timeout=5,
    )  # fmt: skip


def mailbox(
    operator: LocalOperator, address: str, token: Callable[[], Awaitable[str] | str], files: Path
) -> AsyncMailbox:
    return AsyncMailbox(
        operator.host, operator.imap_port, store=operator.trust_store, username=address, token=token,
        client_certificate=operator.client_certificate(files), revocation=operator.revocation, timeout=5,
    )  # fmt: skip


def code_of(error: BaseException) -> str:
    assert isinstance(error, TransportError)
    return error.report.findings[0].code


def test_login_send_read_acknowledge_and_a_refreshed_token(
    oidc: LocalPscProvider, operator: LocalOperator, tmp_path: Path
) -> None:
    lab_seen, doctor_seen = Seen(oidc, LAB_RPPS), Seen(oidc, DOCTOR_RPPS)
    operator.add_user(LAB, token_verifier=lab_seen)
    operator.add_user(DOCTOR, token_verifier=doctor_seen)
    now = dt.datetime.now(dt.timezone.utc)

    async def run() -> tuple[str, str, str, str]:
        async with oidc.async_client() as client:
            lab = AsyncTokenSource(client, await client.ciba(LAB_RPPS, sleep=no_wait))
            doctor = AsyncTokenSource(client, await client.ciba(DOCTOR_RPPS, sleep=no_wait))
            async with lab, doctor:
                mail = compose(sender=LAB, to=[DOCTOR], nil="DEV935997", at=now, text="Résultat", read_receipt=True)
                async with submission(operator, LAB, lab, tmp_path) as smtp:
                    assert (await smtp.send(mail)).ok
                first = lab_seen.tokens[-1]
                async with mailbox(operator, DOCTOR, doctor, tmp_path) as box:
                    [uid] = await box.unseen()
                    fetched = await box.fetch(uid)
                    await box.mark_seen(uid)
                original = email.message_from_bytes(fetched.raw, policy=email.policy.default)
                receipt = build_mdn(
                    original=original, reporting_ua="Logiciel du cabinet 4.2", final_recipient=DOCTOR,
                    disposition=Disposition.processed(), at=now, sender=DOCTOR,
                )  # fmt: skip
                async with submission(operator, DOCTOR, doctor, tmp_path) as smtp:
                    assert (await smtp.send(receipt)).ok
                refreshed = (await lab.refresh()).access_token
                async with mailbox(operator, LAB, lab, tmp_path) as box:  # opened after the refresh
                    [uid] = await box.unseen()
                    kind = (await box.fetch(uid)).message.kind
                return first, refreshed, lab_seen.tokens[-1], kind

    first, refreshed, reached, kind = asyncio.run(run())
    assert kind == "mdn"
    assert refreshed != first
    assert reached == refreshed  # the token that reached the operator after the refresh is the new one
    assert oidc.introspect(first)["active"] is True  # the old one still lives: the operator was given the new one
    assert doctor_seen.tokens
    assert not set(doctor_seen.tokens) & set(lab_seen.tokens)


def refusal(session: AsyncSubmission | AsyncMailbox) -> str:
    async def run() -> str:
        try:
            await session.connect()
        except TransportError as error:
            return code_of(error)
        finally:
            await session.close()
        return "accepted"

    return asyncio.run(run())


def test_a_token_the_provider_did_not_issue_is_refused(
    oidc: LocalPscProvider, operator: LocalOperator, tmp_path: Path
) -> None:
    operator.add_user(LAB, token_verifier=oidc.token_verifier(LAB_RPPS))
    forged = "eyJhbGciOiJub25lIn0.eyJzdWIiOiI4MTAwMDAwMDE5MTYifQ."  # shaped like a token, issued by nobody
    assert refusal(submission(operator, LAB, lambda: forged, tmp_path)) == transport_codes.LOGIN_REFUSED.id
    assert refusal(mailbox(operator, LAB, lambda: forged, tmp_path)) == transport_codes.LOGIN_REFUSED.id


def test_the_token_of_another_user_is_refused(oidc: LocalPscProvider, operator: LocalOperator, tmp_path: Path) -> None:
    operator.add_user(DOCTOR, token_verifier=oidc.token_verifier(DOCTOR_RPPS))
    with oidc.client() as client:
        lab_token = client.ciba(LAB_RPPS, sleep=lambda seconds: None).access_token
    assert refusal(submission(operator, DOCTOR, lambda: lab_token, tmp_path)) == transport_codes.LOGIN_REFUSED.id
    assert refusal(mailbox(operator, DOCTOR, lambda: lab_token, tmp_path)) == transport_codes.LOGIN_REFUSED.id


def test_a_revoked_access_token_is_refused(oidc: LocalPscProvider, operator: LocalOperator, tmp_path: Path) -> None:
    operator.add_user(LAB, token_verifier=oidc.token_verifier(LAB_RPPS))
    with oidc.client() as client:
        token = client.ciba(LAB_RPPS, sleep=lambda seconds: None).access_token
    assert refusal(mailbox(operator, LAB, lambda: token, tmp_path)) == "accepted"
    oidc.revoke(token)
    assert refusal(submission(operator, LAB, lambda: token, tmp_path)) == transport_codes.LOGIN_REFUSED.id
    assert refusal(mailbox(operator, LAB, lambda: token, tmp_path)) == transport_codes.LOGIN_REFUSED.id


def test_an_expired_access_token_is_refused(tmp_path: Path) -> None:
    require_provider()
    with (
        LocalPscProvider(NODE_MODULES, access_token_ttl=3) as short,
        LocalOperator(domains=("labo-exemple.mssante.fr",)) as operator,
        short.client() as client,
    ):
        operator.add_user(LAB, token_verifier=short.token_verifier(LAB_RPPS))
        tokens = client.ciba(LAB_RPPS, sleep=lambda seconds: None)
        assert refusal(mailbox(operator, LAB, lambda: tokens.access_token, tmp_path)) == "accepted"  # still alive
        time.sleep(max(0.0, (tokens.expires_at - dt.datetime.now(dt.timezone.utc)).total_seconds()) + 1.1)
        assert refusal(mailbox(operator, LAB, lambda: tokens.access_token, tmp_path)) == (
            transport_codes.LOGIN_REFUSED.id
        )


def test_a_refused_refresh_ends_the_async_sessions(
    oidc: LocalPscProvider, operator: LocalOperator, tmp_path: Path
) -> None:
    operator.add_user(LAB, token_verifier=oidc.token_verifier(LAB_RPPS))
    now = dt.datetime.now(dt.timezone.utc)

    async def run() -> tuple[str, str, str, str]:
        async with oidc.async_client() as client:
            source = AsyncTokenSource(client, await client.ciba(LAB_RPPS, sleep=no_wait))
            smtp, box = submission(operator, LAB, source, tmp_path), mailbox(operator, LAB, source, tmp_path)
            await smtp.connect()
            await box.connect()
            assert source.tokens.refresh_token
            oidc.revoke(source.tokens.refresh_token)  # the PSC session is over
            codes = []
            try:
                await source.refresh()
            except PscError as error:
                codes.append(error.code)
            mail = compose(sender=LAB, to=[DOCTOR], nil="DEV935997", at=now, text="jamais envoyé")
            try:
                await smtp.send(mail)
            except TransportError as error:
                codes.append(code_of(error))
            try:
                await box.unseen()
            except TransportError as error:
                codes.append(code_of(error))
            await smtp.close()
            await box.close()
            try:
                await source()
            except PscError as error:
                codes.append(error.code)
            return codes[0], codes[1], codes[2], codes[3]

    assert asyncio.run(run()) == (
        psc_codes.REFRESH_REFUSED.id,
        transport_codes.TOKEN_ENDED.id,
        transport_codes.TOKEN_ENDED.id,
        psc_codes.TOKEN_ENDED.id,
    )


def test_a_revoked_client_certificate_is_refused_with_a_valid_token(oidc: LocalPscProvider, tmp_path: Path) -> None:
    with LocalOperator(domains=("labo-exemple.mssante.fr",)) as operator, oidc.client() as client:
        operator.add_user(LAB, token_verifier=oidc.token_verifier(LAB_RPPS))
        token = client.ciba(LAB_RPPS, sleep=lambda seconds: None).access_token
        issued = operator.pki.organisation("LABO REVOQUE", usage="auth")
        files = issued.write(tmp_path, "revoked")
        operator.revoke(issued)
        mail = compose(sender=LAB, to=[LAB], nil="DEV935997", at=dt.datetime.now(dt.timezone.utc), text="-")

        async def send() -> tuple[str, int | None, str]:
            smtp = AsyncSubmission(
                operator.host, operator.smtp_port, store=operator.trust_store, username=LAB, token=lambda: token,
                client_certificate=files, revocation=operator.revocation, timeout=5,
            )  # fmt: skip
            async with smtp:
                [outcome] = (await smtp.send(mail)).recipients  # the operator answers MAIL FROM with 530
            return outcome.delivery.value, outcome.code, outcome.reply

        assert asyncio.run(send())[:2] == ("rejected", 530)
        box = AsyncMailbox(
            operator.host, operator.imap_port, store=operator.trust_store, username=LAB, token=lambda: token,
            client_certificate=files, revocation=operator.revocation, timeout=5,
        )  # fmt: skip
        assert refusal(box) == transport_codes.CLIENT_CERTIFICATE_REFUSED.id
        assert operator.messages(LAB) == []

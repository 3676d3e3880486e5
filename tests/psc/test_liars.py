"""Providers that lie: wrong issuer, unsigned, expired, for another client, another nonce, rotated keys, refused
refresh, trickling, oversized; and tokens never shown in reprs, errors or logs."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import pytest

from mssante.errors import SecurityWarning
from mssante.psc import PscClient, PscError, TokenSource, login
from mssante.psc import codes as psc_codes
from tests.psc.lying_provider import CLIENT_ID, CLIENT_SECRET, Provider, new_key
from tests.psc.test_flows import browse


def refused(client: PscClient) -> str:
    with pytest.raises(PscError) as error:
        client.ciba("810000001916", sleep=lambda seconds: None)
    return error.value.code


def test_metadata_naming_another_issuer(client: PscClient, provider: Provider) -> None:
    provider.behaviour.metadata_issuer = "https://evil.example"
    assert refused(client) == psc_codes.ISSUER_MISMATCH.id


def test_metadata_with_http_endpoints(client: PscClient, provider: Provider) -> None:
    provider.behaviour.http_endpoints = True
    assert refused(client) == psc_codes.METADATA_INVALID.id


@pytest.mark.parametrize(
    ("mode", "code"),
    [
        ("none", psc_codes.BAD_SIGNATURE),
        ("expired", psc_codes.EXPIRED),
        ("audience", psc_codes.AUDIENCE),
        ("issuer", psc_codes.ISSUER_MISMATCH),
        ("unknown-key", psc_codes.BAD_SIGNATURE),
    ],
)
def test_id_tokens_refused(client: PscClient, provider: Provider, mode: str, code: object) -> None:
    provider.behaviour.id_token = mode
    assert refused(client) == getattr(code, "id", None)


def test_nonce_mismatch(client: PscClient, provider: Provider, psc_files: Path) -> None:
    provider.behaviour.id_token = "nonce"
    with pytest.raises(PscError) as error:
        login(client, lambda url: browse(url, psc_files / "ca.pem"), seconds=10)
    assert error.value.code == psc_codes.NONCE.id


def test_key_rotation_refetches_once(client: PscClient, provider: Provider) -> None:
    client.keys()  # the key set of k1, kept
    provider.behaviour.signing_key = new_key("k2")  # rotated: the kept set does not know k2
    tokens = client.ciba("810000001916", sleep=lambda seconds: None)
    assert tokens.subject
    assert provider.seen.jwks_fetches == 2


def test_unknown_key_after_refetch_is_refused_after_one_refetch(client: PscClient, provider: Provider) -> None:
    client.keys()
    provider.behaviour.id_token = "unknown-key"
    assert refused(client) == psc_codes.BAD_SIGNATURE.id
    assert provider.seen.jwks_fetches == 2


def test_trickling_provider_hits_the_deadline(provider: Provider, psc_files: Path) -> None:
    provider.behaviour.trickle = 0.05
    with PscClient(
        provider.issuer, CLIENT_ID, client_secret=CLIENT_SECRET, ca_file=psc_files / "ca.pem", max_duration=1.0
    ) as client, pytest.raises(PscError) as error:  # fmt: skip
        client.metadata()
    assert error.value.code == psc_codes.UNREACHABLE.id


def test_oversized_answer(provider: Provider, psc_files: Path) -> None:
    provider.behaviour.oversize = 300_000
    with PscClient(
        provider.issuer, CLIENT_ID, client_secret=CLIENT_SECRET, ca_file=psc_files / "ca.pem", max_bytes=100_000
    ) as client, pytest.raises(PscError) as error:  # fmt: skip
        client.metadata()
    assert error.value.code == psc_codes.UNREACHABLE.id


def test_http_issuer_refused_unless_weakened() -> None:
    with pytest.raises(ValueError, match="https"):
        PscClient("http://127.0.0.1:1", CLIENT_ID, client_secret=CLIENT_SECRET)
    with pytest.warns(SecurityWarning):
        PscClient("http://127.0.0.1:1", CLIENT_ID, client_secret=CLIENT_SECRET, allow_http_loopback=True).close()


def test_tokens_never_shown(client: PscClient, provider: Provider, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with warnings.catch_warnings():
        tokens = client.ciba("810000001916", sleep=lambda seconds: None)
    source = TokenSource(client, tokens)
    secrets = [*tokens.secrets(), CLIENT_SECRET]
    provider.behaviour.refresh = False  # its error description echoes the refresh token
    with pytest.raises(PscError) as error:
        source.refresh()
    shown = [repr(tokens), str(tokens), repr(source), str(source), repr(client), str(error.value),
             repr(error.value.report), source.ended or "", caplog.text]  # fmt: skip
    for text in shown:
        for secret in secrets:
            assert secret not in text
    assert "refresh token [secret] is not valid" in str(error.value)

"""The flows against the provider over HTTPS: discovery, login with PKCE, client authentication, refresh, CIBA."""

from __future__ import annotations

import contextlib
import ssl
import threading
import time
import urllib.parse
from pathlib import Path

import httpx
import pytest

from mssante.psc import AuthMethod, MemoryTokenStore, PscClient, PscError, TokenSource, login
from mssante.psc import codes as psc_codes
from tests.psc.lying_provider import CLIENT_ID, CLIENT_SECRET, SUBJECT, Provider


def browse(url: str, ca: Path) -> None:
    """The user's browser, in a thread of its own: opens the authorization URL and follows the redirect to the
    loopback listener."""

    def run() -> None:
        with httpx.Client(verify=ssl.create_default_context(cafile=str(ca))) as browser:
            answer = browser.get(url)
            assert answer.status_code == 302
            httpx.get(answer.headers["location"])

    threading.Thread(target=run, daemon=True).start()


def quietly_get(url: str) -> None:
    """A request that may find the listener gone (the login done): its failure is not the test's."""
    with contextlib.suppress(httpx.HTTPError):
        httpx.get(url, timeout=5)


def logged_in(client: PscClient, ca: Path) -> TokenSource:
    return TokenSource(client, login(client, lambda url: browse(url, ca), seconds=10))


def test_discovery(client: PscClient, provider: Provider) -> None:
    metadata = client.metadata()
    assert metadata.issuer == provider.issuer
    assert metadata.token_endpoint == f"{provider.issuer}/token"
    assert metadata.ciba


def test_login_with_pkce_and_the_id_token_checked(client: PscClient, psc_files: Path, provider: Provider) -> None:
    source = logged_in(client, psc_files / "ca.pem")
    tokens = source.tokens
    assert tokens.subject == SUBJECT
    assert source() == provider.seen.access_tokens[-1]
    request = provider.seen.token_requests[-1]
    assert request["grant_type"] == "authorization_code"
    assert request["code_verifier"]
    assert provider.seen.client_auth == ["client_secret_basic"]


def test_client_secret_post(provider: Provider, psc_files: Path) -> None:
    with PscClient(
        provider.issuer, CLIENT_ID, client_secret=CLIENT_SECRET, auth_method="client_secret_post",
        ca_file=psc_files / "ca.pem",
    ) as client:  # fmt: skip
        logged_in(client, psc_files / "ca.pem")
    assert provider.seen.client_auth == ["client_secret_post"]


def test_mutual_tls_client_authentication(provider: Provider, psc_files: Path) -> None:
    with PscClient(
        provider.issuer, CLIENT_ID, certificate=psc_files / "client.pem", key=psc_files / "client.key",
        ca_file=psc_files / "ca.pem",
    ) as client:  # fmt: skip
        assert client.credentials.method is AuthMethod.TLS_CLIENT_AUTH
        logged_in(client, psc_files / "ca.pem")
    assert provider.seen.client_auth == ["tls_client_auth"]
    assert "client_secret" not in provider.seen.token_requests[-1]


def test_mutual_tls_not_offered(provider: Provider, psc_files: Path) -> None:
    provider.behaviour.auth_methods = ("client_secret_basic",)
    with PscClient(
        provider.issuer, CLIENT_ID, certificate=psc_files / "client.pem", key=psc_files / "client.key",
        ca_file=psc_files / "ca.pem",
    ) as client, pytest.raises(PscError) as refused:  # fmt: skip
        client.metadata()
    assert refused.value.code == psc_codes.CLIENT_AUTH_UNSUPPORTED.id


def test_wrong_secret_refused(provider: Provider, psc_files: Path) -> None:
    with (
        PscClient(provider.issuer, CLIENT_ID, client_secret="wrong", ca_file=psc_files / "ca.pem") as client,
        pytest.raises(PscError) as refused,
    ):
        login(client, lambda url: browse(url, psc_files / "ca.pem"), seconds=10)
    assert refused.value.code == psc_codes.GRANT_REFUSED.id


def test_refresh_gives_a_new_token_and_keeps_the_subject(client: PscClient, psc_files: Path) -> None:
    source = logged_in(client, psc_files / "ca.pem")
    first = source()
    refreshed = source.refresh()
    assert refreshed.access_token != first
    assert source() == refreshed.access_token
    assert refreshed.subject == SUBJECT


def test_a_call_refreshes_when_due(provider: Provider, psc_files: Path) -> None:
    provider.behaviour.access_ttl = 2  # refreshed 1 s before expiry: at once, then each time
    with PscClient(provider.issuer, CLIENT_ID, client_secret=CLIENT_SECRET, ca_file=psc_files / "ca.pem") as client:
        source = logged_in(client, psc_files / "ca.pem")
        provider.behaviour.access_ttl = 120
        time.sleep(1.1)
        assert source() == provider.seen.access_tokens[-1]
        assert len(provider.seen.access_tokens) == 2


def test_the_store_keeps_the_refresh_token_only(client: PscClient, psc_files: Path, provider: Provider) -> None:
    store = MemoryTokenStore()
    source = TokenSource(client, login(client, lambda url: browse(url, psc_files / "ca.pem"), seconds=10), store=store)
    assert store.load() == provider.seen.refresh_tokens[-1]
    resumed = TokenSource.resume(client, store)
    assert resumed() == provider.seen.access_tokens[-1]
    assert store.load() == provider.seen.refresh_tokens[-1]
    resumed.close()
    assert store.load() is None
    del source


def test_ciba(client: PscClient, provider: Provider) -> None:
    tokens = client.ciba("810000001916", sleep=lambda seconds: None)
    assert tokens.subject == SUBJECT
    assert tokens.access_token == provider.seen.access_tokens[-1]


def test_ciba_not_offered(client: PscClient, provider: Provider) -> None:
    provider.behaviour.ciba = False
    with pytest.raises(PscError) as refused:
        client.ciba("810000001916", sleep=lambda seconds: None)
    assert refused.value.code == psc_codes.CIBA_UNSUPPORTED.id


def test_login_redirect_with_another_state_is_ignored(client: PscClient, psc_files: Path) -> None:
    def attacker_then_user(url: str) -> None:
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
        threading.Thread(target=quietly_get, args=(query["redirect_uri"] + "?code=forged&state=forged",)).start()
        browse(url, psc_files / "ca.pem")

    tokens = login(client, attacker_then_user, seconds=10)
    assert tokens.subject == SUBJECT


def test_login_deadline(client: PscClient) -> None:
    with pytest.raises(PscError) as refused:
        login(client, lambda url: None, seconds=0.5)
    assert refused.value.code == psc_codes.LOGIN_FAILED.id


def test_login_listens_on_loopback_only(client: PscClient) -> None:
    with pytest.raises(ValueError, match="loopback"):
        login(client, lambda url: None, host="0.0.0.0")

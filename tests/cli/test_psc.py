"""`mssante psc login` and `mssante psc token` against the local OpenID provider (node-oidc-provider)."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mssante.cli import main
from mssante.pki import Environment
from mssante.testing import LocalPscProvider, TestPki
from tests.cli.running import run, run_json
from tests.psc.oidc import NODE_MODULES, require_provider

SECRET_ENV = "MSSANTE_TEST_PSC_SECRET"


@pytest.fixture(scope="module")
def oidc() -> Iterator[LocalPscProvider]:
    require_provider()
    pki = TestPki.create(environment=Environment.PROD, at=dt.datetime.now(dt.timezone.utc))
    with LocalPscProvider(NODE_MODULES, pki=pki) as running:
        yield running


@pytest.fixture(autouse=True)
def quick_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    """The back-channel polls wait 5 s (the provider's default interval): 0.05 s here."""
    sleep = time.sleep
    monkeypatch.setattr(time, "sleep", lambda seconds: sleep(min(seconds, 0.05)))


@pytest.fixture
def secret(oidc: LocalPscProvider, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv(SECRET_ENV, oidc.client_secret)
    return oidc.client_secret


def options(oidc: LocalPscProvider, client_id: str = LocalPscProvider.SECRET_CLIENT) -> list[str]:
    return ["--issuer", oidc.issuer, "--client-id", client_id, "--ca-file", str(oidc.ca_file)]


class UserAtTheTerminal(io.StringIO):
    """Standard error, read by the user: the URL printed is opened in their browser (a thread)."""

    def __init__(self, oidc: LocalPscProvider) -> None:
        super().__init__()
        self.oidc = oidc

    def write(self, text: str) -> int:
        if match := re.search(r"https://\S+", text):
            threading.Thread(target=self.oidc.log_in, args=(match.group(0),), daemon=True).start()
        return super().write(text)


def test_login_in_the_browser(oidc: LocalPscProvider, secret: str) -> None:
    out, err = io.StringIO(), UserAtTheTerminal(oidc)
    status = main(["psc", "login", *options(oidc), "--client-secret-env", SECRET_ENV, "--json"], out=out, err=err)
    assert status == 0, err.getvalue()
    payload = json.loads(out.getvalue())
    assert payload["ok"] is True
    assert payload["subject"] == oidc.user
    assert payload["scope"] == "openid"
    assert payload["expires_at"].endswith("Z")
    assert len(payload["token_prefix"]) <= 9
    assert "Open this URL" in err.getvalue()
    assert secret not in out.getvalue() + err.getvalue()


def test_login_by_back_channel(oidc: LocalPscProvider, secret: str) -> None:
    status, payload = run_json(
        "psc", "login", *options(oidc), "--client-secret-env", SECRET_ENV, "--ciba", "--login-hint", oidc.user
    )
    assert status == 0
    assert payload["subject"] == oidc.user


def test_login_with_mutual_tls(oidc: LocalPscProvider) -> None:
    certificate, key = oidc.client_certificate
    status, payload = run_json(
        "psc", "login", *options(oidc, LocalPscProvider.MTLS_CLIENT), "--cert", str(certificate), "--key", str(key),
        "--ciba", "--login-hint", oidc.user,
    )  # fmt: skip
    assert status == 0
    assert payload["subject"] == oidc.user


def test_token_printed_alone_for_piping(oidc: LocalPscProvider, secret: str) -> None:
    status, out, err = run(
        "psc", "token", *options(oidc), "--client-secret-env", SECRET_ENV, "--login-hint", oidc.user, "--print-token"
    )
    assert status == 0
    token = out.strip()
    assert out == token + "\n"
    assert token
    assert "warning" in err


def test_token_from_a_refresh_token(oidc: LocalPscProvider, monkeypatch: pytest.MonkeyPatch, secret: str) -> None:
    with oidc.client() as client:
        refresh_token = client.ciba(oidc.user, sleep=lambda seconds: None).refresh_token
    assert refresh_token
    monkeypatch.setenv("MSSANTE_TEST_PSC_REFRESH", refresh_token)
    status, out, err = run(
        "psc", "token", *options(oidc), "--client-secret-env", SECRET_ENV, "--refresh-token-env",
        "MSSANTE_TEST_PSC_REFRESH",
    )  # fmt: skip
    assert status == 0, err
    assert f"subject: {oidc.user}" in out
    assert refresh_token not in out + err
    status, payload = run_json(  # rotated: the refresh token used is refused now
        "psc", "token", *options(oidc), "--client-secret-env", SECRET_ENV, "--refresh-token-env",
        "MSSANTE_TEST_PSC_REFRESH",
    )  # fmt: skip
    assert status == 1
    assert payload["findings"][0]["code"] == "MSS-PSC-009"
    assert refresh_token not in json.dumps(payload)


def test_refused_back_channel(oidc: LocalPscProvider, secret: str) -> None:
    status, payload = run_json(
        "psc", "login", *options(oidc), "--client-secret-env", SECRET_ENV, "--ciba", "--login-hint", "899999999999"
    )
    assert status == 1
    assert payload["ok"] is False
    assert payload["findings"][0]["code"] == "MSS-PSC-010"


@pytest.mark.parametrize(
    "argv",
    [
        ["psc", "token", "--login-hint", "x"],  # no issuer, no client id
        ["psc", "login", "--issuer", "https://psc.example", "--client-id", "x"],  # no secret nor certificate
        ["psc", "login", "--issuer", "https://psc.example", "--client-id", "x", "--cert", "c.pem"],  # no key
    ],
)
def test_usage_errors(argv: list[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("MSSANTE_PSC_ISSUER", raising=False)
    monkeypatch.delenv("MSSANTE_PSC_CLIENT_ID", raising=False)
    status, _, err = run(*argv)
    assert status == 2
    assert "mssante psc" in err

"""Against node-oidc-provider (OpenID certified): discovery, login with PKCE through its login and consent pages,
client secret and mutual TLS, refresh (rotated), back-channel authentication, and the end of the sessions when the
refresh token is revoked."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest

from mssante.errors import TransportError
from mssante.psc import PscClient, PscError, TokenSource, login
from mssante.psc import codes as psc_codes
from mssante.testing import LocalOperator, LocalPscProvider, TestPki
from mssante.transport import Submission
from mssante.transport import codes as transport_codes
from tests.psc.oidc import NODE_MODULES, require_provider


@pytest.fixture(scope="module")
def oidc(pki: TestPki) -> Iterator[LocalPscProvider]:
    require_provider()
    with LocalPscProvider(NODE_MODULES, pki=pki, access_token_ttl=60) as running:
        yield running


def user(provider: LocalPscProvider) -> Callable[[str], None]:
    """The user, in a browser of their own: logs in at the provider's pages."""
    return lambda url: threading.Thread(target=provider.log_in, args=(url,), daemon=True).start()


def pause(seconds: float) -> None:
    time.sleep(min(seconds, 0.1))


@pytest.mark.parametrize("client_id", [LocalPscProvider.SECRET_CLIENT, LocalPscProvider.POST_CLIENT])
def test_login_with_a_client_secret(oidc: LocalPscProvider, client_id: str) -> None:
    with oidc.client(client_id) as client:
        tokens = login(client, user(oidc), seconds=20)
        assert tokens.subject == oidc.user
        assert tokens.refresh_token
        assert 0 < tokens.lifetime <= 60
        refreshed = client.refresh(tokens)
        assert refreshed.access_token != tokens.access_token
        assert refreshed.refresh_token != tokens.refresh_token  # rotated
        assert refreshed.subject == oidc.user


def test_mutual_tls(oidc: LocalPscProvider) -> None:
    with oidc.client(LocalPscProvider.MTLS_CLIENT) as client:
        assert "tls_client_auth" in client.metadata().token_endpoint_auth_methods
        tokens = client.ciba(oidc.user, sleep=pause)
        assert tokens.subject == oidc.user


def test_mutual_tls_with_another_certificate_is_refused(oidc: LocalPscProvider, pki: TestPki, tmp_path: Path) -> None:
    pki.organisation("AUTRE LOGICIEL").write(tmp_path, "other")  # trusted, but not the registered subject
    with PscClient(
        oidc.issuer, LocalPscProvider.MTLS_CLIENT, certificate=tmp_path / "other.pem", key=tmp_path / "other.key",
        ca_file=oidc.ca_file,
    ) as client, pytest.raises(PscError) as refused:  # fmt: skip
        client.ciba(oidc.user, sleep=pause)
    assert refused.value.code == psc_codes.GRANT_REFUSED.id


def test_ciba_refused_by_the_user(oidc: LocalPscProvider) -> None:
    with oidc.client() as client, pytest.raises(PscError) as refused:
        client.ciba("899999999999", sleep=pause)
    assert refused.value.code == psc_codes.GRANT_REFUSED.id


def test_revoked_refresh_token_ends_the_sessions(oidc: LocalPscProvider, tmp_path: Path) -> None:
    with LocalOperator() as operator, oidc.client() as client:
        address = operator.application
        source = TokenSource(client, login(client, user(oidc), seconds=20))
        operator.add_user(address, token=source())
        smtp = Submission(
            operator.host, operator.smtp_port, store=operator.trust_store, username=address, token=source,
            client_certificate=operator.client_certificate(tmp_path), revocation=operator.revocation, timeout=5,
        )  # fmt: skip
        smtp.connect()
        assert source.tokens.refresh_token
        oidc.revoke(source.tokens.refresh_token)
        with pytest.raises(PscError) as refused:
            source.refresh()
        assert refused.value.code == psc_codes.REFRESH_REFUSED.id
        mail = EmailMessage()
        mail["From"], mail["To"], mail["Subject"] = address, address, "after the end"
        mail.set_content("never sent")
        with pytest.raises(TransportError) as ended:
            smtp.send(mail)
        assert ended.value.report.findings[0].code == transport_codes.TOKEN_ENDED.id
        smtp.close()

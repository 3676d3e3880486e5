"""A Pro Santé Connect stand-in on this machine: node-oidc-provider (OpenID certified) over HTTPS on loopback."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import secrets
import shutil
import ssl
import subprocess
import tempfile
import threading
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
from cryptography.hazmat.primitives import serialization

from mssante.psc import AsyncPscClient, PscClient
from mssante.testing._pki import TestPki

__all__ = ["PROVIDER_SCRIPT", "LocalPscProvider"]

PROVIDER_SCRIPT = Path(__file__).with_name("_psc_provider") / "provider.mjs"
"""The provider's script, shipped with the package; it needs ``oidc-provider`` installed by npm (9.x, Node >= 20.19)."""

_FORM = re.compile(r'<form[^>]*action="([^"]+)"')


class LocalPscProvider:
    """An OpenID provider shaped like Pro Santé Connect on 127.0.0.1, for tests and demonstrations.

    ``node_modules`` is the folder where ``npm install oidc-provider@9`` put it. The provider serves HTTPS with a
    server certificate of ``pki`` (a :class:`~mssante.testing.TestPki`, one made by default) for ``localhost``; its
    clients are :attr:`SECRET_CLIENT` (``client_secret_basic``), :attr:`POST_CLIENT` (``client_secret_post``), both
    with :attr:`client_secret`, and :attr:`MTLS_CLIENT` (``tls_client_auth`` with :attr:`client_certificate`, an ORG
    certificate of the PKI). They use PKCE, refresh tokens (rotated), back-channel authentication (approved at once
    for the login hints of ``approve``, refused for others), token revocation and introspection (RFC 7662); access
    tokens live ``access_token_ttl`` seconds. :meth:`log_in` plays the user at the provider's login and consent
    pages; :meth:`token_verifier` checks an access token at the provider, for a
    :class:`~mssante.testing.LocalOperator` (``add_user(address, token_verifier=...)``).

        with LocalPscProvider(node_modules) as provider, provider.client() as client:
            tokens = client.ciba(provider.user)
    """

    SECRET_CLIENT = "lps-secret"  # noqa: S105 - a client id
    POST_CLIENT = "lps-post"
    MTLS_CLIENT = "lps-mtls"
    user = "810000001916"
    """The professional's account (an RPPS-like identifier) the back-channel flow approves by default."""

    def __init__(
        self,
        node_modules: str | os.PathLike[str],
        *,
        pki: TestPki | None = None,
        access_token_ttl: int = 120,
        approve: tuple[str, ...] = ("810000001916",),
        node: str = "node",
        start_seconds: float = 30.0,
    ) -> None:
        self.node_modules = Path(node_modules)
        self._pki = pki
        self.access_token_ttl = access_token_ttl
        self.approve = approve
        self._node = node
        self._start_seconds = start_seconds
        self.client_secret = secrets.token_urlsafe(24)
        self.issuer = ""
        """``https://localhost:<port>``, once started."""
        self._folder: Path | None = None
        self._process: subprocess.Popen[bytes] | None = None

    def __repr__(self) -> str:
        return f"LocalPscProvider({self.issuer or 'stopped'})"

    @staticmethod
    def available(node_modules: str | os.PathLike[str], node: str = "node") -> bool:
        """Whether Node.js and ``oidc-provider`` are installed (``node_modules/oidc-provider``)."""
        return shutil.which(node) is not None and (Path(node_modules) / "oidc-provider" / "package.json").is_file()

    @property
    def ca_file(self) -> Path:
        """The PEM file of the PKI's CAs: the anchors that trust the provider's server certificate."""
        return self._path("ca.pem")

    @property
    def client_certificate(self) -> tuple[Path, Path]:
        """The ORG certificate (with its chain) and key files of :attr:`MTLS_CLIENT`."""
        return self._path("client.pem"), self._path("client.key")

    def _path(self, name: str) -> Path:
        if self._folder is None:
            raise RuntimeError("the provider is not started")
        return self._folder / name

    def start(self) -> None:
        """Write the certificates and the configuration, start Node and wait until it listens."""
        if self._process is not None:
            return
        pki = self._pki or TestPki.create(at=dt.datetime.now(dt.timezone.utc))
        folder = self._folder = Path(tempfile.mkdtemp(prefix="mssante-psc-"))
        authorities = [*pki.anchors, *pki.intermediates]
        (folder / "ca.pem").write_bytes(b"".join(c.public_bytes(serialization.Encoding.PEM) for c in authorities))
        pki.server(["localhost"]).write(folder, "server")
        pki.organisation("LOGICIEL PSC").write(folder, "client")
        common = {
            "grant_types": ["authorization_code", "refresh_token", "urn:openid:params:grant-type:ciba"],
            "response_types": ["code"],
            "application_type": "native",
            "redirect_uris": ["http://127.0.0.1/callback"],
            "backchannel_token_delivery_mode": "poll",
            "id_token_signed_response_alg": "ES256",
        }
        clients: list[dict[str, Any]] = [
            {**common, "client_id": self.SECRET_CLIENT, "client_secret": self.client_secret,
             "token_endpoint_auth_method": "client_secret_basic"},
            {**common, "client_id": self.POST_CLIENT, "client_secret": self.client_secret,
             "token_endpoint_auth_method": "client_secret_post"},
            {**common, "client_id": self.MTLS_CLIENT, "token_endpoint_auth_method": "tls_client_auth",
             "tls_client_auth_subject_dn": "CN=LOGICIEL PSC"},
        ]  # fmt: skip
        config = {
            "node_modules": str(self.node_modules.resolve()),
            "cert": str(folder / "server.pem"),
            "key": str(folder / "server.key"),
            "ca": str(folder / "ca.pem"),
            "clients": clients,
            "access_token_ttl": self.access_token_ttl,
            "ciba_approve": list(self.approve),
        }
        (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")
        process = self._process = subprocess.Popen(  # noqa: S603 - a fixed script and its configuration
            [self._node, str(PROVIDER_SCRIPT), str(folder / "config.json")],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        line: list[bytes] = []
        reader = threading.Thread(
            target=lambda: line.append(process.stdout.readline() if process.stdout else b""), daemon=True
        )
        reader.start()
        reader.join(self._start_seconds)
        try:
            self.issuer = str(json.loads(line[0])["issuer"]) if line and line[0] else ""
        except (ValueError, KeyError):
            self.issuer = ""
        if not self.issuer:
            self.stop()
            raise RuntimeError(f"the local PSC provider did not start within {self._start_seconds:g} s")

    def stop(self) -> None:
        """Stop Node and delete the files."""
        process, self._process = self._process, None
        if process is not None:
            process.terminate()
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            if process.stdout is not None:
                process.stdout.close()
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None
        self.issuer = ""

    def __enter__(self) -> LocalPscProvider:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()

    def client(self, client_id: str = SECRET_CLIENT, **options: Any) -> PscClient:
        """A :class:`~mssante.psc.PscClient` of this provider as ``client_id`` (its secret, or its certificate for
        :attr:`MTLS_CLIENT`), trusting the PKI's CAs; ``options`` go to :class:`~mssante.psc.PscClient`."""
        if client_id == self.MTLS_CLIENT:
            certificate, key = self.client_certificate
            return PscClient(self.issuer, client_id, certificate=certificate, key=key, ca_file=self.ca_file, **options)
        method = "client_secret_post" if client_id == self.POST_CLIENT else "client_secret_basic"
        return PscClient(
            self.issuer, client_id, client_secret=self.client_secret, auth_method=method, ca_file=self.ca_file,
            **options,
        )  # fmt: skip

    def async_client(self, client_id: str = SECRET_CLIENT, **options: Any) -> AsyncPscClient:
        """As :meth:`client`, an :class:`~mssante.psc.AsyncPscClient`."""
        if client_id == self.MTLS_CLIENT:
            certificate, key = self.client_certificate
            return AsyncPscClient(
                self.issuer, client_id, certificate=certificate, key=key, ca_file=self.ca_file, **options
            )
        method = "client_secret_post" if client_id == self.POST_CLIENT else "client_secret_basic"
        return AsyncPscClient(
            self.issuer, client_id, client_secret=self.client_secret, auth_method=method, ca_file=self.ca_file,
            **options,
        )  # fmt: skip

    def introspect(self, token: str, *, seconds: float = 5.0) -> dict[str, Any]:
        """What the provider says of the access ``token`` (RFC 7662 introspection, asked as :attr:`SECRET_CLIENT`):
        ``{"active": False}`` for a token it did not issue, one expired or revoked."""
        context = ssl.create_default_context(cafile=str(self.ca_file))
        with httpx.Client(verify=context, timeout=seconds) as http:
            answer = http.post(
                f"{self.issuer}/token/introspection",
                data={"token": token, "token_type_hint": "access_token"},
                auth=(self.SECRET_CLIENT, self.client_secret),
            )
            answer.raise_for_status()
            claims = answer.json()
        if not isinstance(claims, dict):
            raise RuntimeError("the provider's introspection answer is not a JSON object")
        return claims

    def token_verifier(self, subject: str | None = None) -> Callable[[str], bool]:
        """A check of access tokens for :meth:`LocalOperator.add_user <mssante.testing.LocalOperator.add_user>`:
        true when the provider says the token is active, is an access token of one of its clients and (with
        ``subject``, default :attr:`user`) was issued for that user; false when it cannot be asked."""
        expected = subject or self.user
        clients = {self.SECRET_CLIENT, self.POST_CLIENT, self.MTLS_CLIENT}

        def verify(token: str) -> bool:
            try:
                claims = self.introspect(token)
            except (httpx.HTTPError, RuntimeError, ValueError):
                return False
            return (
                claims.get("active") is True
                and claims.get("token_type", "Bearer") == "Bearer"
                and claims.get("client_id") in clients
                and claims.get("sub") == expected
            )

        return verify

    def log_in(self, url: str, account: str | None = None, *, seconds: float = 10.0) -> None:
        """Play the user: open the authorization ``url``, sign in as ``account`` (default :attr:`user`) and consent
        on the provider's development pages, then follow the redirect to the loopback listener."""
        context = ssl.create_default_context(cafile=str(self.ca_file))
        with httpx.Client(verify=context, timeout=seconds, follow_redirects=False) as browser:
            answer = browser.get(url)
            for _ in range(10):
                location = answer.headers.get("location")
                if answer.is_redirect and location:
                    target = urllib.parse.urljoin(str(answer.url), location)
                    if not target.startswith(self.issuer):  # the redirect to the application: the browser follows
                        with contextlib.suppress(httpx.HTTPError):
                            httpx.get(target, timeout=seconds)
                        return
                    answer = browser.get(target)
                    continue
                form = _FORM.search(answer.text)
                if form is None:
                    raise RuntimeError(f"the provider's page has no form (status {answer.status_code})")
                action = urllib.parse.urljoin(str(answer.url), form.group(1))
                if 'name="login"' in answer.text:
                    fields = {"prompt": "login", "login": account or self.user, "password": "any"}
                else:
                    fields = {"prompt": "consent"}
                answer = browser.post(action, data=fields)
            raise RuntimeError("the login did not end in a redirect to the application")

    def revoke(self, token: str) -> None:
        """Revoke ``token`` (a refresh token) at the provider (RFC 7009): the next refresh is refused."""
        context = ssl.create_default_context(cafile=str(self.ca_file))
        with httpx.Client(verify=context, timeout=10) as http:
            answer = http.post(
                f"{self.issuer}/token/revocation",
                data={"token": token, "token_type_hint": "refresh_token"},
                auth=(self.SECRET_CLIENT, self.client_secret),
            )
            answer.raise_for_status()

"""A small OpenID provider over HTTPS on loopback, for the tests: it behaves, or lies the way a test asks."""

from __future__ import annotations

import base64
import hashlib
import http.server
import json
import secrets
import ssl
import threading
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from joserfc import jwt
from joserfc.jwk import ECKey, KeySet, OctKey, OKPKey, RSAKey

CLIENT_ID = "lps-test"
CLIENT_SECRET = "s3cret-of-the-client"
SUBJECT = "810000001916"


def new_key(kid: str) -> ECKey:
    key: ECKey = ECKey.generate_key("P-256", parameters={"kid": kid, "alg": "ES256", "use": "sig"})
    return key


@dataclass
class Behaviour:
    """What the provider does; a test changes it between requests."""

    metadata_issuer: str | None = None  # another issuer in the metadata
    id_token: str = "good"  # good, none, expired, audience, nonce, issuer, unknown-key
    signing_key: ECKey = field(default_factory=lambda: new_key("k1"))
    published: list[ECKey] = field(default_factory=list)  # the key set published (default: the signing key)
    access_ttl: int = 120
    refresh: bool = True  # refresh tokens accepted
    trickle: float = 0.0  # seconds between bytes of the metadata
    oversize: int = 0  # bytes of padding in the metadata
    ciba: bool = True
    http_endpoints: bool = False  # endpoints in plain http
    auth_methods: tuple[str, ...] = ("client_secret_basic", "client_secret_post", "tls_client_auth")


@dataclass
class Seen:
    token_requests: list[dict[str, str]] = field(default_factory=list)
    client_auth: list[str] = field(default_factory=list)
    jwks_fetches: int = 0
    access_tokens: list[str] = field(default_factory=list)
    refresh_tokens: list[str] = field(default_factory=list)


class Provider:
    def __init__(self, context: ssl.SSLContext) -> None:
        self.behaviour = Behaviour()
        self.seen = Seen()
        self._codes: dict[str, dict[str, str]] = {}
        self._ciba: dict[str, int] = {}
        self._refresh: set[str] = set()
        provider = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                provider.get(self)

            def do_POST(self) -> None:
                provider.post(self)

        self.server = http.server.ThreadingHTTPServer(("localhost", 0), Handler)
        self.server.daemon_threads = True
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.issuer = f"https://localhost:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    def start(self) -> Provider:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # --- answers -------------------------------------------------------------------------------------------------

    def metadata(self) -> dict[str, Any]:
        base = self.issuer.replace("https:", "http:") if self.behaviour.http_endpoints else self.issuer
        document: dict[str, Any] = {
            "issuer": self.behaviour.metadata_issuer or self.issuer,
            "authorization_endpoint": f"{base}/authorize",
            "token_endpoint": f"{base}/token",
            "jwks_uri": f"{base}/jwks",
            "token_endpoint_auth_methods_supported": list(self.behaviour.auth_methods),
            "code_challenge_methods_supported": ["S256"],
            "id_token_signing_alg_values_supported": ["ES256"],
        }
        if self.behaviour.ciba:
            document["backchannel_authentication_endpoint"] = f"{base}/bc-authorize"
            document["backchannel_token_delivery_modes_supported"] = ["poll"]
        if self.behaviour.oversize:
            document["padding"] = "x" * self.behaviour.oversize
        return document

    def id_token(self, nonce: str | None) -> str:
        mode = self.behaviour.id_token
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": "https://evil.example" if mode == "issuer" else self.issuer,
            "sub": SUBJECT,
            "aud": "another-client" if mode == "audience" else CLIENT_ID,
            "iat": now - 7200 if mode == "expired" else now,
            "exp": now - 3600 if mode == "expired" else now + 300,
        }
        if nonce is not None:
            claims["nonce"] = "not-the-nonce" if mode == "nonce" else nonce
        if mode == "none":

            def part(value: dict[str, Any]) -> str:
                return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

            return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."
        key = new_key("stranger") if mode == "unknown-key" else self.behaviour.signing_key
        return jwt.encode({"alg": "ES256", "kid": key.kid}, claims, key)

    def tokens(self, nonce: str | None, *, with_id_token: bool = True) -> dict[str, Any]:
        access, refresh = "at-" + secrets.token_urlsafe(24), "rt-" + secrets.token_urlsafe(24)
        self.seen.access_tokens.append(access)
        self.seen.refresh_tokens.append(refresh)
        self._refresh.add(refresh)
        answer: dict[str, Any] = {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": self.behaviour.access_ttl,
            "refresh_token": refresh,
            "scope": "openid",
        }
        if with_id_token:
            answer["id_token"] = self.id_token(nonce)
        return answer

    # --- requests ------------------------------------------------------------------------------------------------

    def send(self, handler: http.server.BaseHTTPRequestHandler, status: int, document: Any) -> None:
        body = json.dumps(document).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        if self.behaviour.trickle and handler.path.startswith("/.well-known"):
            for index in range(len(body)):
                handler.wfile.write(body[index : index + 1])
                handler.wfile.flush()
                time.sleep(self.behaviour.trickle)
            return
        handler.wfile.write(body)

    def get(self, handler: http.server.BaseHTTPRequestHandler) -> None:
        parts = urllib.parse.urlsplit(handler.path)
        if parts.path == "/.well-known/openid-configuration":
            self.send(handler, 200, self.metadata())
        elif parts.path == "/jwks":
            self.seen.jwks_fetches += 1
            keys: list[OctKey | RSAKey | ECKey | OKPKey] = [*(self.behaviour.published or [self.behaviour.signing_key])]
            self.send(handler, 200, KeySet(keys).as_dict(private=False))
        elif parts.path == "/authorize":  # the user logs in at once: redirected with a code
            query = dict(urllib.parse.parse_qsl(parts.query))
            code = secrets.token_urlsafe(16)
            self._codes[code] = query
            target = query["redirect_uri"] + "?" + urllib.parse.urlencode({"code": code, "state": query["state"]})
            handler.send_response(302)
            handler.send_header("Location", target)
            handler.send_header("Content-Length", "0")
            handler.end_headers()
        else:
            self.send(handler, 404, {"error": "not_found"})

    def authenticated(self, handler: http.server.BaseHTTPRequestHandler, form: dict[str, str]) -> bool:
        header = handler.headers.get("Authorization", "")
        if header.startswith("Basic "):
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
            self.seen.client_auth.append("client_secret_basic")
            return urllib.parse.unquote(user) == CLIENT_ID and urllib.parse.unquote(password) == CLIENT_SECRET
        if "client_secret" in form:
            self.seen.client_auth.append("client_secret_post")
            return form.get("client_id") == CLIENT_ID and form["client_secret"] == CLIENT_SECRET
        connection = handler.connection
        if isinstance(connection, ssl.SSLSocket) and connection.getpeercert(binary_form=True):
            self.seen.client_auth.append("tls_client_auth")
            return form.get("client_id") == CLIENT_ID
        self.seen.client_auth.append("none")
        return False

    def post(self, handler: http.server.BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length", "0"))
        form = dict(urllib.parse.parse_qsl(handler.rfile.read(length).decode()))
        path = urllib.parse.urlsplit(handler.path).path
        if not self.authenticated(handler, form):
            self.send(handler, 401, {"error": "invalid_client"})
            return
        if path == "/bc-authorize":
            request_id = secrets.token_urlsafe(16)
            self._ciba[request_id] = 0
            self.send(handler, 200, {"auth_req_id": request_id, "expires_in": 60, "interval": 0})
            return
        self.seen.token_requests.append(form)
        grant = form.get("grant_type")
        if grant == "authorization_code":
            request = self._codes.pop(form.get("code", ""), None)
            verifier = form.get("code_verifier", "")
            challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            if request is None or request["code_challenge"] != challenge:
                self.send(handler, 400, {"error": "invalid_grant", "error_description": "code or verifier"})
                return
            self.send(handler, 200, self.tokens(request.get("nonce")))
        elif grant == "refresh_token":
            token = form.get("refresh_token", "")
            if not self.behaviour.refresh or token not in self._refresh:
                described = f"refresh token {token} is not valid"  # a provider that echoes the token
                self.send(handler, 400, {"error": "invalid_grant", "error_description": described})
                return
            self._refresh.discard(token)
            self.send(handler, 200, self.tokens(None, with_id_token=False))
        elif grant == "urn:openid:params:grant-type:ciba":
            request_id = form.get("auth_req_id", "")
            if request_id not in self._ciba:
                self.send(handler, 400, {"error": "invalid_grant"})
                return
            self._ciba[request_id] += 1
            if self._ciba[request_id] < 2:
                self.send(handler, 400, {"error": "authorization_pending"})
                return
            del self._ciba[request_id]
            self.send(handler, 200, self.tokens(None))
        else:
            self.send(handler, 400, {"error": "unsupported_grant_type"})


@contextmanager
def serving(context: ssl.SSLContext) -> Iterator[Provider]:
    provider = Provider(context).start()
    try:
        yield provider
    finally:
        provider.stop()

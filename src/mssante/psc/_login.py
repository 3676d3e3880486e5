"""The interactive login (authorization code with PKCE) through a redirect to a listener on this machine (RFC 8252)."""

from __future__ import annotations

import http.server
import time
import urllib.parse
from collections.abc import Callable

from mssante.psc import codes
from mssante.psc._metadata import is_loopback
from mssante.psc._requests import read_redirect
from mssante.psc._sync._client import PscClient
from mssante.psc._tokens import TokenSet

__all__ = ["login"]

DEFAULT_LOGIN_SECONDS = 300.0
"""Seconds the user has to log in."""

_DONE = b"<!doctype html><title>mssante</title><p>Login received: this window may be closed.</p>"


def login(
    client: PscClient,
    show: Callable[[str], None],
    *,
    scope: str = "openid",
    seconds: float = DEFAULT_LOGIN_SECONDS,
    host: str = "127.0.0.1",
) -> TokenSet:
    """Log the user in: a listener on ``host`` (loopback) waits for the redirect, ``show`` is given the URL the user
    opens (print it, or open a browser), the code that comes back is exchanged for tokens (PKCE verifier sent, ID
    token checked). ``MSS-PSC-012`` when no redirect comes within ``seconds`` or it carries an error or another
    state."""
    if not is_loopback(f"http://{host}/"):
        raise ValueError(f"the redirect listener is on a loopback address (RFC 8252 §7.3), not {host!r}")
    queries: list[str] = []

    class Redirect(http.server.BaseHTTPRequestHandler):
        timeout = 5.0  # a browser that connects and says nothing cannot hold the listener

        def do_GET(self) -> None:
            parts = urllib.parse.urlsplit(self.path)
            if parts.path != "/callback":
                self.send_error(404)
                return
            queries.append(parts.query)
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(_DONE)))
            self.end_headers()
            self.wfile.write(_DONE)

        def log_message(self, format: str, *args: object) -> None:
            """Nothing is logged: the redirect carries the code."""

    server = http.server.HTTPServer((host, 0), Redirect)
    server.timeout = 0.2
    try:
        redirect_uri = f"http://{host}:{server.server_address[1]}/callback"
        request = client.authorization_request(redirect_uri, scope=scope)
        show(request.url)
        deadline = time.monotonic() + seconds
        code: str | None = None
        while code is None:
            if time.monotonic() >= deadline:
                message = f"no login came back within {seconds:g} s"
                raise codes.failure(codes.LOGIN_FAILED, message, where=client.issuer)
            server.handle_request()
            answered = [query for query in queries if _state(query) == request.state]
            queries.clear()  # a stray request, with another state or none, is ignored
            if answered:
                code = read_redirect(answered[0], request, where=client.issuer)
    finally:
        server.server_close()
    return client.exchange_code(request, code)


def _state(query: str) -> str | None:
    states = urllib.parse.parse_qs(query).get("state", [])
    return states[0] if len(states) == 1 else None

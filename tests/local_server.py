"""A real HTTP(S) server on the loopback, started and stopped by the tests, answering scripted replies.

``routes`` maps a path (without its query) to a :class:`Reply`, or to a function of the
:class:`Request` that returns one; ``requests`` records every request received. A reply can be
late (``delay``), drip its body, or leave out ``Content-Length``; ``stop()`` ends pending delays.
"""

from __future__ import annotations

import socket
import ssl
import threading
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TIMEOUT = 5.0


@dataclass
class Reply:
    """What the server answers."""

    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    length: bool = True  # send Content-Length (else the body ends when the connection closes)
    drip: float = 0.0  # seconds between 1 KiB pieces of the body


@dataclass
class Request:
    """A request the server received: the path as sent (query included) and the headers, names lower-cased."""

    path: str
    headers: dict[str, str]
    method: str = "GET"
    body: bytes = b""

    @property
    def route(self) -> str:
        return urllib.parse.urlsplit(self.path).path

    @property
    def query(self) -> list[tuple[str, str]]:
        return urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query, keep_blank_values=True)


Route = Reply | Callable[[Request], Reply]


class _Httpd(ThreadingHTTPServer):
    daemon_threads = False  # server_close() joins every handler thread
    block_on_close = True

    def __init__(self, context: ssl.SSLContext | None, automatic_headers: bool) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.context = context
        self.automatic_headers = automatic_headers
        self.routes: dict[str, Route] = {}
        self.requests: list[Request] = []
        self.stopping = threading.Event()

    def get_request(self) -> tuple[socket.socket, Any]:
        connection, address = self.socket.accept()
        connection.settimeout(TIMEOUT)
        if self.context is None:
            return connection, address
        return self.context.wrap_socket(connection, server_side=True, do_handshake_on_connect=False), address

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that refused the certificate or gave up (timeout, oversize) is expected here: stay quiet."""


class _Handler(BaseHTTPRequestHandler):
    server: _Httpd
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        if isinstance(self.request, ssl.SSLSocket):
            self.request.do_handshake()
        super().setup()

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def _serve(self) -> None:
        self.close_connection = True
        length = int(self.headers.get("Content-Length") or 0)
        request = Request(
            path=self.path,
            headers={name.lower(): value for name, value in self.headers.items()},
            method=self.command,
            body=self.rfile.read(length) if length else b"",
        )
        self.server.requests.append(request)
        route = self.server.routes.get(request.route, Reply(status=404))
        reply = route(request) if callable(route) else route
        if reply.delay and self.server.stopping.wait(reply.delay):
            return
        if self.server.automatic_headers:
            self.send_response(reply.status)
        else:
            self.send_response_only(reply.status)  # no automatic Date: the tests choose it
        for name, value in reply.headers.items():
            self.send_header(name, value)
        if reply.length:
            self.send_header("Content-Length", str(len(reply.body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if not reply.drip:
            self.wfile.write(reply.body)
            return
        for start in range(0, len(reply.body), 1024):
            self.wfile.write(reply.body[start : start + 1024])
            self.wfile.flush()
            if self.server.stopping.wait(reply.drip):
                return

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the access log."""


class LocalServer:
    """The running server; ``url(path)`` is its address, ``stop()`` ends it and joins its threads."""

    def __init__(
        self, context: ssl.SSLContext | None = None, *, host: str = "127.0.0.1", automatic_headers: bool = True
    ) -> None:
        self.host = host
        self._httpd = _Httpd(context, automatic_headers)
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05})
        self._thread.start()

    @property
    def routes(self) -> dict[str, Route]:
        return self._httpd.routes

    @property
    def requests(self) -> list[Request]:
        return self._httpd.requests

    def url(self, path: str) -> str:
        scheme = "http" if self._httpd.context is None else "https"
        return f"{scheme}://{self.host}:{self._httpd.server_address[1]}{path}"

    def stop(self) -> None:
        self._httpd.stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(TIMEOUT)
        assert not self._thread.is_alive(), "the server thread did not end"

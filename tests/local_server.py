"""A real HTTP(S) server on the loopback, started and stopped by the tests, answering scripted replies.

``routes`` maps a path (without its query) to a :class:`Reply`, or to a function of the
:class:`Request` that returns one; ``requests`` records every request received. A reply can be
late (``delay``), drip its body (``drip`` seconds between pieces of ``piece`` bytes), trickle its
status line and headers (``head_drip`` seconds between bytes), or leave out ``Content-Length``;
``stop()`` ends pending delays and trickles. Each :class:`Request` counts the bytes of its reply
the server wrote (``sent``) and says whether it wrote them all (``complete``): a test sees that a
client gave up while the server was still sending, without timing anything.
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
    drip: float = 0.0  # seconds between pieces of the body
    piece: int = 1024  # bytes of each piece a dripping body is sent in
    head_drip: float = 0.0  # seconds between the bytes of the status line and headers (0: sent at once)


@dataclass
class Request:
    """A request the server received: the path as sent (query included) and the headers, names lower-cased."""

    path: str
    headers: dict[str, str]
    method: str = "GET"
    body: bytes = b""
    sent: int = 0  # bytes of the reply (status line, headers and body) written so far
    complete: bool = False  # the server got to the last bytes of the reply (set just before it writes them)

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

    def do_PATCH(self) -> None:
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
        buffered: list[bytes] = getattr(self, "_headers_buffer", [])  # what send_header() gathered
        if reply.head_drip:
            head = b"".join(buffered) + b"\r\n"  # what end_headers() would send at once, trickled instead
            buffered.clear()
            for index in range(len(head)):
                self._write(request, head[index : index + 1])
                if self.server.stopping.wait(reply.head_drip):
                    return
        else:
            request.sent += sum(len(line) for line in buffered) + 2
            self.end_headers()
        if not reply.drip:
            request.complete = True  # before the last bytes go: a client that has them all sees it so
            self._write(request, reply.body)
            return
        for start in range(0, len(reply.body), reply.piece):
            request.complete = start + reply.piece >= len(reply.body)
            self._write(request, reply.body[start : start + reply.piece])
            if self.server.stopping.wait(reply.drip):
                return

    def _write(self, request: Request, data: bytes) -> None:
        """Write ``data`` at once and count it as sent (an error, when the client is gone, ends the reply)."""
        self.wfile.write(data)
        self.wfile.flush()
        request.sent += len(data)

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

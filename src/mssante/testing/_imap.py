"""A small in-memory IMAP4rev1 server for tests: STARTTLS or implicit TLS, XOAUTH2, LOGIN, bounded.

It speaks what :class:`mssante.transport.ImapMailbox` uses: CAPABILITY, STARTTLS, AUTHENTICATE XOAUTH2, LOGIN,
SELECT, UID SEARCH UNSEEN, UID FETCH (UID, RFC822.SIZE, FLAGS, BODY.PEEK[]), UID STORE +FLAGS, EXPUNGE,
UID MOVE, UID COPY, NOOP and LOGOUT. :func:`serve` runs it on 127.0.0.1 (a free port) in a thread for the
length of a ``with`` block. The accounts are an :class:`ImapState` (one mailbox) or :class:`ImapAccounts`
(several, as :class:`~mssante.testing.LocalOperator` uses).

A client cannot make it hang or grow: lines, literals, commands per connection, bad commands in a row and
connections at once are bounded (:data:`MAX_LINE_BYTES` and the others), every socket has a timeout, and
leaving the block closes the open connections and joins their threads.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import re
import socket
import socketserver
import ssl
import threading
from collections.abc import Callable, Iterator
from typing import BinaryIO, Protocol

import attrs

__all__ = [
    "MAX_BAD_COMMANDS",
    "MAX_COMMANDS",
    "MAX_CONNECTIONS",
    "MAX_LINE_BYTES",
    "MAX_LITERAL_BYTES",
    "MAX_RECORDED",
    "PASSWORD",
    "TOKEN",
    "USER",
    "ImapAccounts",
    "ImapBackend",
    "ImapState",
    "Recorded",
    "Stored",
    "serve",
]

USER = "application@hopital.mssante.fr"
"""The account of a default :class:`ImapState`."""
TOKEN = "psc-access-token-5f1e0c"  # noqa: S105 (a test credential)
"""The XOAUTH2 token a default :class:`ImapState` accepts."""
PASSWORD = "mot-de-passe-applicatif"  # noqa: S105 (a test credential)
"""The LOGIN password a default :class:`ImapState` accepts."""

MAX_LINE_BYTES = 8192
"""The longest command line accepted (CRLF included): a longer one ends the connection."""
MAX_LITERAL_BYTES = 65536
"""The largest literal (``{n}``) accepted in a command: a larger one is refused without reading it."""
MAX_COMMANDS = 10_000
"""Commands per connection: the connection is closed after this many."""
MAX_BAD_COMMANDS = 20
"""Bad commands in a row before the connection is closed."""
MAX_CONNECTIONS = 32
"""Connections served at once: more are greeted with ``BYE`` and closed."""
MAX_RECORDED = 10_000
"""The commands and authentications remembered (the most recent)."""

_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|\([^)]*\)|\S+')
_LITERAL = re.compile(rb"\{(\d{1,20})(\+?)\}\r?\n\Z")
_LITERAL_MARK = "\x00"


@attrs.define
class Stored:
    """One message in a folder: its UID, bytes and flags."""

    uid: int
    data: bytes
    flags: set[str] = attrs.Factory(set)


class Recorded(list[str]):
    """A list that keeps only its :data:`MAX_RECORDED` most recent items."""

    def append(self, item: str) -> None:
        """Add ``item``, dropping the oldest items beyond the bound."""
        super().append(item)
        if len(self) > MAX_RECORDED:
            del self[: len(self) - MAX_RECORDED]


@attrs.define
class ImapState:
    """One account: its credentials, folders, and what its clients asked (commands, authentications).

    ``token`` is the XOAUTH2 bearer token accepted, ``password`` the LOGIN password; None refuses that way.
    """

    user: str = USER
    token: str | None = TOKEN
    password: str | None = PASSWORD
    folders: dict[str, list[Stored]] = attrs.Factory(lambda: {"INBOX": []})
    next_uid: int = 1
    commands: Recorded = attrs.Factory(Recorded)
    auth_attempts: Recorded = attrs.Factory(Recorded)
    lock: threading.RLock = attrs.Factory(threading.RLock)

    def add(self, data: bytes, *, folder: str = "INBOX", flags: tuple[str, ...] = ()) -> str:
        """Deliver a message to ``folder`` (created if missing); its UID."""
        with self.lock:
            uid = self.next_uid
            self.next_uid += 1
            self.folders.setdefault(folder, []).append(Stored(uid, data, set(flags)))
            return str(uid)

    def uids(self, folder: str = "INBOX") -> list[str]:
        """The UIDs in ``folder``, in order."""
        with self.lock:
            return [str(m.uid) for m in self.folders.get(folder, [])]

    def login(self, user: str, *, token: str | None = None, password: str | None = None) -> ImapState | None:
        """This account when ``user`` and the token or password are its own, else None."""
        if user != self.user:
            return None
        if token is not None and token == self.token:
            return self
        if password is not None and password == self.password:
            return self
        return None


@attrs.define
class ImapAccounts:
    """Several accounts by address (lower case), and what their clients asked before logging in."""

    accounts: dict[str, ImapState] = attrs.Factory(dict)
    commands: Recorded = attrs.Factory(Recorded)
    auth_attempts: Recorded = attrs.Factory(Recorded)
    lock: threading.RLock = attrs.Factory(threading.RLock)

    def account(self, user: str) -> ImapState:
        """The account of ``user``, created (without credentials) when missing."""
        with self.lock:
            key = user.lower()
            if key not in self.accounts:
                self.accounts[key] = ImapState(user=key, token=None, password=None)
            return self.accounts[key]

    def login(self, user: str, *, token: str | None = None, password: str | None = None) -> ImapState | None:
        """The account when the token or password is its own, else None."""
        with self.lock:
            state = self.accounts.get(user.lower())
        return state.login(user.lower(), token=token, password=password) if state is not None else None


class ImapBackend(Protocol):
    """What :func:`serve` needs: a login, and where to record commands and authentication attempts."""

    @property
    def commands(self) -> Recorded:
        """The commands received, most recent last."""
        ...

    @property
    def auth_attempts(self) -> Recorded:
        """The authentications tried: the decoded XOAUTH2 string or ``LOGIN <user>``."""
        ...

    def login(self, user: str, *, token: str | None = None, password: str | None = None) -> ImapState | None:
        """The account for these credentials, or None."""
        ...


def _unquote(token: str) -> str:
    if token.startswith('"') and token.endswith('"') and len(token) >= 2:
        return re.sub(r"\\(.)", r"\1", token[1:-1])
    return token


def _xoauth2(decoded: str) -> tuple[str, str] | None:
    """``(user, token)`` from ``user=...^Aauth=Bearer ...^A^A``, or None."""
    if not decoded.endswith("\x01\x01"):
        return None
    fields = dict(part.partition("=")[::2] for part in decoded[:-2].split("\x01"))
    user, auth = fields.get("user"), fields.get("auth", "")
    if not user or not auth.startswith("Bearer "):
        return None
    return user, auth[len("Bearer ") :]


ClientCheck = Callable[[ssl.SSLSocket], "str | None"]
"""Judges the client of a TLS connection: None to go on, or the reason to refuse it."""


class _Closed(Exception):
    """The connection must end (client gone, limit reached)."""


class _Handler(socketserver.StreamRequestHandler):
    server: _Server

    def setup(self) -> None:
        self.sock: socket.socket = self.request
        self.sock.settimeout(self.server.timeout_seconds)
        # Answers go out a line at a time: without this, each waits for the client's delayed ACK (~40 ms).
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.reader: BinaryIO = self.sock.makefile("rb")
        self.encrypted = False
        self.account: ImapState | None = None
        self.selected: str | None = None

    def finish(self) -> None:
        self.reader.close()
        with contextlib.suppress(OSError):
            self.sock.close()
        with contextlib.suppress(OSError):
            self.request.close()

    def send(self, line: str | bytes) -> None:
        self.sock.sendall((line.encode() if isinstance(line, str) else line) + b"\r\n")

    def readline(self) -> bytes:
        """One line of at most :data:`MAX_LINE_BYTES`; the connection ends on a longer one or at EOF."""
        line = self.reader.readline(MAX_LINE_BYTES + 1)
        if not line:
            raise _Closed
        if len(line) > MAX_LINE_BYTES or not line.endswith(b"\n"):
            with contextlib.suppress(OSError):
                self.send("* BYE line too long")
            raise _Closed
        return line

    def read_command(self) -> tuple[str, list[bytes]]:
        """A command's text, its literals replaced by a mark, and the literals."""
        parts: list[str] = []
        literals: list[bytes] = []
        total = 0
        while True:
            line = self.readline()
            total += len(line)
            found = _LITERAL.search(line)
            if found is None:
                parts.append(line.decode("utf-8", "replace").rstrip("\r\n"))
                return "".join(parts), literals
            size, non_sync = int(found.group(1)), bool(found.group(2))
            total += size
            if size > MAX_LITERAL_BYTES or total > MAX_LINE_BYTES + MAX_LITERAL_BYTES or len(literals) >= 8:
                tag = line.split(b" ", 1)[0].decode("ascii", "replace")
                with contextlib.suppress(OSError):
                    self.send(f"{tag} BAD literal too large")
                    if non_sync:  # its bytes are already on the way: no way to find the next command
                        self.send("* BYE literal too large")
                if non_sync:
                    raise _Closed
                return "", []
            if not non_sync:
                self.send("+ Ready for literal data")
            data = self.reader.read(size)
            if len(data) < size:
                raise _Closed
            parts.append(line[: found.start()].decode("utf-8", "replace") + f"{_LITERAL_MARK}{len(literals)}")
            literals.append(data)

    def handle(self) -> None:
        try:
            if not self.server.admit(self):
                with contextlib.suppress(OSError):
                    self.send("* BYE too many connections")
                return
            try:
                self.session()
            finally:
                self.server.release(self)
        except (_Closed, OSError, ValueError):
            return

    def session(self) -> None:
        backend = self.server.backend
        if self.server.implicit and not self._secure():
            return
        self.send("* OK IMAP4rev1 test server ready")
        bad = 0
        for _ in range(MAX_COMMANDS):
            text, literals = self.read_command()
            if not text:
                continue
            tag, _, rest = text.partition(" ")
            args = [self._literal(token, literals) for token in _TOKENS.findall(rest)]
            if not tag or not args:
                bad += 1
                self.send(f"{tag or '*'} BAD empty command")
                if bad >= MAX_BAD_COMMANDS:
                    self.send("* BYE too many bad commands")
                    return
                continue
            command = args[0].upper()
            if command == "UID" and len(args) > 1:
                command = "UID " + args[1].upper()
                args = args[1:]
            (self.account or backend).commands.append(command[:40])
            outcome = self.dispatch(tag, command, args[1:])
            if outcome is None:
                return
            bad = 0 if outcome else bad + 1
            if bad >= MAX_BAD_COMMANDS:
                self.send("* BYE too many bad commands")
                return
        self.send("* BYE too many commands")

    @staticmethod
    def _literal(token: str, literals: list[bytes]) -> str:
        if token.startswith(_LITERAL_MARK) and token[1:].isdigit() and int(token[1:]) < len(literals):
            return (
                '"'
                + literals[int(token[1:])].decode("utf-8", "replace").replace("\\", "\\\\").replace('"', '\\"')
                + '"'
            )
        return token

    def _secure(self) -> bool:
        assert self.server.tls is not None
        try:
            self.sock = self.server.tls.wrap_socket(self.sock, server_side=True)
        except (OSError, ssl.SSLError):
            return False
        self.reader.close()
        self.reader = self.sock.makefile("rb")
        self.encrypted = True
        if self.server.check_client is not None and isinstance(self.sock, ssl.SSLSocket):
            refused = self.server.check_client(self.sock)
            if refused is not None:
                self.send(f"* BYE {refused}")
                return False
        return True

    def capabilities(self) -> str:
        """What CAPABILITY lists: before TLS, STARTTLS and LOGINDISABLED (LOGIN is refused until TLS is up, and a
        client must not send a password in plain text: RFC 3501 §6.2.3, RFC 9051 §6.2.3)."""
        items = ["IMAP4rev1", "AUTH=XOAUTH2", "MOVE"]
        if self.server.tls is not None and not self.encrypted:
            items[1:1] = ["STARTTLS", "LOGINDISABLED"]
        return " ".join(items)

    def messages(self) -> list[Stored]:
        assert self.selected is not None
        assert self.account is not None
        return self.account.folders[self.selected]

    def dispatch(self, tag: str, command: str, args: list[str]) -> bool | None:
        """Answer one command: True when done, False for a bad command, None to end the connection."""
        backend = self.server.backend
        if command == "CAPABILITY":
            self.send(f"* CAPABILITY {self.capabilities()}")
            self.send(f"{tag} OK CAPABILITY completed")
        elif command == "NOOP":
            self.send(f"{tag} OK NOOP completed")
        elif command == "LOGOUT":
            self.send("* BYE logging out")
            self.send(f"{tag} OK LOGOUT completed")
            return None
        elif command == "STARTTLS":
            if self.server.tls is None or self.encrypted:
                self.send(f"{tag} BAD STARTTLS not available")
                return False
            self.send(f"{tag} OK begin TLS")
            return True if self._secure() else None
        elif command in ("AUTHENTICATE", "LOGIN") and self.server.tls is not None and not self.encrypted:
            self.send(f"{tag} NO [PRIVACYREQUIRED] STARTTLS first")
        elif command in ("AUTHENTICATE", "LOGIN") and self.account is not None:
            self.send(f"{tag} BAD already authenticated")
            return False
        elif command == "AUTHENTICATE":
            return self.authenticate(tag, args)
        elif command == "LOGIN":
            if len(args) != 2:
                self.send(f"{tag} BAD LOGIN user password")
                return False
            user, password = (_unquote(a) for a in args)
            backend.auth_attempts.append(f"LOGIN {user}"[:400])
            self.account = backend.login(user, password=password)
            if self.account is not None:
                self.send(f"{tag} OK LOGIN completed")
            else:
                self.send(f"{tag} NO [AUTHENTICATIONFAILED] invalid credentials")
        elif self.account is None:
            self.send(f"{tag} BAD authenticate first")
            return False
        elif command == "SELECT":
            folder = _unquote(args[0]) if args else ""
            with self.account.lock:
                if folder not in self.account.folders:
                    self.send(f"{tag} NO [NONEXISTENT] no such folder")
                    return True
                self.selected = folder
                self.send(f"* {len(self.messages())} EXISTS")
                self.send("* 0 RECENT")
                self.send("* FLAGS (\\Seen \\Deleted)")
                self.send(f"* OK [UIDNEXT {self.account.next_uid}] next")
            self.send(f"{tag} OK [READ-WRITE] SELECT completed")
        elif self.selected is None:
            self.send(f"{tag} BAD select first")
            return False
        else:
            return self.selected_command(tag, command, args)
        return True

    def authenticate(self, tag: str, args: list[str]) -> bool:
        backend = self.server.backend
        if len(args) < 1 or args[0].upper() != "XOAUTH2":
            self.send(f"{tag} NO unsupported mechanism")
            return True
        if len(args) > 1:
            answer = args[1].encode("ascii", "replace")
        else:
            self.send("+ ")
            answer = self.readline().strip()
        try:
            decoded = base64.b64decode(answer, validate=True).decode()
        except (ValueError, binascii.Error):
            self.send(f"{tag} BAD not base64")
            return False
        backend.auth_attempts.append(decoded[:400])
        credentials = _xoauth2(decoded)
        self.account = backend.login(credentials[0], token=credentials[1]) if credentials else None
        if self.account is not None:
            self.send(f"{tag} OK AUTHENTICATE completed")
        else:
            error = base64.b64encode(b'{"status":"401","schemes":"Bearer","scope":"mssante"}').decode()
            self.send(f"+ {error}")
            self.readline()
            self.send(f"{tag} NO [AUTHENTICATIONFAILED] invalid credentials")
        return True

    def find(self, uid: str) -> tuple[int, Stored] | None:
        for seq, message in enumerate(self.messages(), 1):
            if str(message.uid) == uid:
                return seq, message
        return None

    def selected_command(self, tag: str, command: str, args: list[str]) -> bool:
        assert self.account is not None
        account = self.account
        with account.lock:
            if command == "UID SEARCH" and [a.upper() for a in args] == ["UNSEEN"]:
                found = [str(m.uid) for m in self.messages() if "\\Seen" not in m.flags]
                self.send(" ".join(["* SEARCH", *found]))
            elif command == "UID FETCH" and len(args) == 2:
                found_one = self.find(args[0])
                if found_one is not None:
                    seq, message = found_one
                    items = args[1].strip("()").upper().split()
                    parts = [f"UID {message.uid}"]
                    if "RFC822.SIZE" in items:
                        parts.append(f"RFC822.SIZE {len(message.data)}")
                    if "FLAGS" in items:
                        parts.append(f"FLAGS ({' '.join(sorted(message.flags))})")
                    head = f"* {seq} FETCH ({' '.join(parts)}"
                    if "BODY.PEEK[]" in items:
                        self.sock.sendall(f"{head} BODY[] {{{len(message.data)}}}\r\n".encode() + message.data)
                        self.send(")")
                    else:
                        self.send(head + ")")
            elif command == "UID STORE" and len(args) == 3 and args[1].upper() == "+FLAGS":
                found_one = self.find(args[0])
                if found_one is not None:
                    seq, message = found_one
                    message.flags.update(args[2].strip("()").split()[:16])
                    self.send(f"* {seq} FETCH (UID {message.uid} FLAGS ({' '.join(sorted(message.flags))}))")
            elif command == "EXPUNGE":
                messages = self.messages()
                for seq in range(len(messages), 0, -1):
                    if "\\Deleted" in messages[seq - 1].flags:
                        del messages[seq - 1]
                        self.send(f"* {seq} EXPUNGE")
            elif command in ("UID MOVE", "UID COPY") and len(args) == 2:
                folder = _unquote(args[1])
                if folder not in account.folders:
                    self.send(f"{tag} NO [TRYCREATE] no such folder")
                    return True
                found_one = self.find(args[0])
                if found_one is not None:
                    seq, message = found_one
                    account.folders[folder].append(Stored(message.uid, message.data, set(message.flags)))
                    if command == "UID MOVE":
                        del self.messages()[seq - 1]
                        self.send(f"* {seq} EXPUNGE")
            else:
                self.send(f"{tag} BAD unknown command {command}")
                return False
        self.send(f"{tag} OK {command} completed")
        return True


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = False
    block_on_close = True
    allow_reuse_address = True

    def __init__(
        self,
        backend: ImapBackend,
        tls: ssl.SSLContext | None,
        *,
        implicit: bool,
        timeout: float,
        check_client: ClientCheck | None,
    ) -> None:
        self.backend = backend
        self.tls = tls
        self.check_client = check_client
        self.implicit = implicit
        self.timeout_seconds = timeout
        self._open: set[_Handler] = set()
        self._open_lock = threading.Lock()
        self._closing = False
        super().__init__(("127.0.0.1", 0), _Handler)

    def admit(self, handler: _Handler) -> bool:
        with self._open_lock:
            if self._closing or len(self._open) >= MAX_CONNECTIONS:
                return False
            self._open.add(handler)
            return True

    def release(self, handler: _Handler) -> None:
        with self._open_lock:
            self._open.discard(handler)

    def close_connections(self) -> None:
        """Cut every open connection: the handler threads see the end of input and return."""
        with self._open_lock:
            self._closing = True
            for handler in self._open:
                with contextlib.suppress(OSError):
                    handler.sock.shutdown(socket.SHUT_RDWR)


@contextlib.contextmanager
def serve(
    backend: ImapBackend,
    *,
    tls: ssl.SSLContext | None,
    implicit: bool = False,
    timeout: float = 10.0,
    check_client: ClientCheck | None = None,
) -> Iterator[int]:
    """Run the server on 127.0.0.1 during the block (its port).

    STARTTLS is offered and required before authentication when given a TLS context, TLS from the first
    byte with ``implicit``; plain text only without a context. ``timeout`` bounds every read and write.
    ``check_client`` judges the client once TLS is up: a reason ends the connection with ``* BYE <reason>``.
    """
    server = _Server(backend, tls, implicit=implicit, timeout=timeout, check_client=check_client)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="mssante-imap", daemon=True
    )
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.close_connections()
        server.server_close()
        thread.join(5)

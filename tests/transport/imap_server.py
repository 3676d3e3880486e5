"""A small in-memory IMAP4rev1 server for the transport tests: STARTTLS or implicit TLS, XOAUTH2, LOGIN.

Only what :class:`mssante.transport._mailbox.Mailbox` uses: CAPABILITY, STARTTLS, AUTHENTICATE XOAUTH2,
LOGIN, SELECT, UID SEARCH UNSEEN, UID FETCH (UID, RFC822.SIZE, FLAGS, BODY.PEEK[]), UID STORE +FLAGS,
EXPUNGE, UID MOVE, UID COPY, NOOP and LOGOUT. :func:`serve` runs it on 127.0.0.1 (a free port) in a thread
for the length of a ``with`` block; :class:`ImapState` holds the folders and what the clients did.
"""

from __future__ import annotations

import base64
import contextlib
import re
import socket
import socketserver
import ssl
import threading
from collections.abc import Iterator
from typing import BinaryIO

import attrs

USER = "application@hopital.mssante.fr"
TOKEN = "psc-access-token-5f1e0c"
PASSWORD = "mot-de-passe-applicatif"

_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|\([^)]*\)|\S+')


@attrs.define
class Stored:
    """One message in a folder."""

    uid: int
    data: bytes
    flags: set[str] = attrs.Factory(set)


@attrs.define
class ImapState:
    """The folders, the credentials expected, and what was asked (commands, authentications)."""

    user: str = USER
    token: str = TOKEN
    password: str = PASSWORD
    folders: dict[str, list[Stored]] = attrs.Factory(lambda: {"INBOX": []})
    next_uid: int = 1
    commands: list[str] = attrs.Factory(list)
    auth_attempts: list[str] = attrs.Factory(list)
    lock: threading.Lock = attrs.Factory(threading.Lock)

    def add(self, data: bytes, *, folder: str = "INBOX", flags: tuple[str, ...] = ()) -> str:
        """Deliver a message; its UID."""
        with self.lock:
            uid = self.next_uid
            self.next_uid += 1
            self.folders.setdefault(folder, []).append(Stored(uid, data, set(flags)))
            return str(uid)

    def uids(self, folder: str = "INBOX") -> list[str]:
        return [str(m.uid) for m in self.folders.get(folder, [])]


def _unquote(token: str) -> str:
    if token.startswith('"') and token.endswith('"') and len(token) >= 2:
        return re.sub(r"\\(.)", r"\1", token[1:-1])
    return token


class _Handler(socketserver.StreamRequestHandler):
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.sock: socket.socket = self.request
        self.reader: BinaryIO = self.sock.makefile("rb")
        self.encrypted = False
        self.authenticated = False
        self.selected: str | None = None

    def finish(self) -> None:
        super().finish()
        self.reader.close()
        if self.sock is not self.request:
            self.sock.close()

    def send(self, line: str | bytes) -> None:
        self.sock.sendall((line.encode() if isinstance(line, str) else line) + b"\r\n")

    def handle(self) -> None:
        state = self.server.state
        if self.server.implicit and not self._secure():
            return
        self.send("* OK IMAP4rev1 test server ready")
        while True:
            try:
                line = self.reader.readline(65536)
            except (OSError, ValueError):
                return
            if not line:
                return
            text = line.decode("utf-8", "replace").rstrip("\r\n")
            tag, _, rest = text.partition(" ")
            args = _TOKENS.findall(rest)
            if not args:
                self.send(f"{tag} BAD empty command")
                continue
            command = args[0].upper()
            if command == "UID" and len(args) > 1:
                command = "UID " + args[1].upper()
                args = args[1:]
            state.commands.append(command)
            try:
                if not self.dispatch(tag, command, args[1:]):
                    return
            except (OSError, ssl.SSLError):
                return

    def _secure(self) -> bool:
        assert self.server.tls is not None
        try:
            self.sock = self.server.tls.wrap_socket(self.sock, server_side=True)
        except (OSError, ssl.SSLError):
            return False
        self.reader = self.sock.makefile("rb")
        self.encrypted = True
        return True

    def capabilities(self) -> str:
        items = ["IMAP4rev1", "AUTH=XOAUTH2", "MOVE"]
        if self.server.tls is not None and not self.encrypted:
            items.insert(1, "STARTTLS")
        return " ".join(items)

    def messages(self) -> list[Stored]:
        assert self.selected is not None
        return self.server.state.folders[self.selected]

    def dispatch(self, tag: str, command: str, args: list[str]) -> bool:
        state = self.server.state
        if command == "CAPABILITY":
            self.send(f"* CAPABILITY {self.capabilities()}")
            self.send(f"{tag} OK CAPABILITY completed")
        elif command == "NOOP":
            self.send(f"{tag} OK NOOP completed")
        elif command == "LOGOUT":
            self.send("* BYE logging out")
            self.send(f"{tag} OK LOGOUT completed")
            return False
        elif command == "STARTTLS":
            if self.server.tls is None or self.encrypted:
                self.send(f"{tag} BAD STARTTLS not available")
                return True
            self.send(f"{tag} OK begin TLS")
            return self._secure()
        elif command == "AUTHENTICATE":
            if len(args) < 1 or args[0].upper() != "XOAUTH2":
                self.send(f"{tag} NO unsupported mechanism")
                return True
            self.send("+ ")
            answer = self.reader.readline(65536).strip()
            try:
                decoded = base64.b64decode(answer, validate=True).decode()
            except ValueError:
                self.send(f"{tag} BAD not base64")
                return True
            state.auth_attempts.append(decoded)
            if decoded == f"user={state.user}\x01auth=Bearer {state.token}\x01\x01":
                self.authenticated = True
                self.send(f"{tag} OK AUTHENTICATE completed")
            else:
                error = base64.b64encode(b'{"status":"401","schemes":"Bearer","scope":"mssante"}').decode()
                self.send(f"+ {error}")
                self.reader.readline(65536)
                self.send(f"{tag} NO [AUTHENTICATIONFAILED] invalid credentials")
        elif command == "LOGIN":
            user, password = (_unquote(a) for a in args[:2])
            state.auth_attempts.append(f"LOGIN {user}")
            if user == state.user and password == state.password:
                self.authenticated = True
                self.send(f"{tag} OK LOGIN completed")
            else:
                self.send(f"{tag} NO [AUTHENTICATIONFAILED] invalid credentials")
        elif not self.authenticated:
            self.send(f"{tag} BAD authenticate first")
        elif command == "SELECT":
            folder = _unquote(args[0]) if args else ""
            if folder not in state.folders:
                self.send(f"{tag} NO [NONEXISTENT] no such folder")
                return True
            self.selected = folder
            self.send(f"* {len(self.messages())} EXISTS")
            self.send("* 0 RECENT")
            self.send("* FLAGS (\\Seen \\Deleted)")
            self.send(f"* OK [UIDNEXT {state.next_uid}] next")
            self.send(f"{tag} OK [READ-WRITE] SELECT completed")
        elif self.selected is None:
            self.send(f"{tag} BAD select first")
        else:
            self.selected_command(tag, command, args)
        return True

    def find(self, uid: str) -> tuple[int, Stored] | None:
        for seq, message in enumerate(self.messages(), 1):
            if str(message.uid) == uid:
                return seq, message
        return None

    def selected_command(self, tag: str, command: str, args: list[str]) -> None:
        state = self.server.state
        with state.lock:
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
                    message.flags.update(args[2].strip("()").split())
                    self.send(f"* {seq} FETCH (UID {message.uid} FLAGS ({' '.join(sorted(message.flags))}))")
            elif command == "EXPUNGE":
                messages = self.messages()
                for seq in range(len(messages), 0, -1):
                    if "\\Deleted" in messages[seq - 1].flags:
                        del messages[seq - 1]
                        self.send(f"* {seq} EXPUNGE")
            elif command in ("UID MOVE", "UID COPY") and len(args) == 2:
                folder = _unquote(args[1])
                if folder not in state.folders:
                    self.send(f"{tag} NO [TRYCREATE] no such folder")
                    return
                found_one = self.find(args[0])
                if found_one is not None:
                    seq, message = found_one
                    state.folders[folder].append(Stored(message.uid, message.data, set(message.flags)))
                    if command == "UID MOVE":
                        del self.messages()[seq - 1]
                        self.send(f"* {seq} EXPUNGE")
            else:
                self.send(f"{tag} BAD unknown command {command}")
                return
        self.send(f"{tag} OK {command} completed")


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, state: ImapState, tls: ssl.SSLContext | None, *, implicit: bool) -> None:
        self.state = state
        self.tls = tls
        self.implicit = implicit
        super().__init__(("127.0.0.1", 0), _Handler)


@contextlib.contextmanager
def serve(state: ImapState, *, tls: ssl.SSLContext | None, implicit: bool = False) -> Iterator[int]:
    """Run the server on 127.0.0.1 during the block (its port): STARTTLS offered when given a TLS context,
    TLS from the first byte with ``implicit``, plain text only without a context."""
    server = _Server(state, tls, implicit=implicit)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)

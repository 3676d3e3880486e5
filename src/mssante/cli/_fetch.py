"""``mssante fetch``: read a mailbox over IMAP (STARTTLS or TLS, IGC Santé certificates), store the new messages.

With ``--out DIR`` each message is stored as ``DIR/<folder>/<uidvalidity>-<uid>.eml``: UIDs are unique only
within one folder and one UIDVALIDITY, so both are in the name (the folder name made safe for a file
name). A file is never replaced: it is created whole under a name no file has (a FIFO, a link or an
earlier message there are left alone; the same message stored by an earlier run is recognised), and
synced with its directory before the message is marked seen. A message that cannot be parsed is stored as
it came, reported with its finding (exit status 1), and the next messages are read all the same.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import re
import string
from pathlib import Path
from typing import Any

from mssante._files import create_new, ensure_directory, read_regular, sync_directory
from mssante.cli._contract import EXIT_INVALID, EXIT_OK, Outcome, UsageError
from mssante.cli._session import refused, session_options
from mssante.errors import InvalidInput, TransportError
from mssante.message import Message, MimeLimits, parse
from mssante.message.mime_codes import UNREADABLE
from mssante.report import Finding, Report
from mssante.transport import ImapMailbox

__all__ = ["folder_name", "run_fetch", "store"]

_SAFE = frozenset(string.ascii_letters + string.digits + "-_.")
_MAX_FOLDER_NAME = 100
_UIDVALIDITY = re.compile(r"[1-9][0-9]{0,9}", re.ASCII)
_UNKNOWN_UIDVALIDITY = "0"  # UIDVALIDITY is never 0: this says the server did not announce one
_MAX_NAMES = 1000


def folder_name(folder: str) -> str:
    """The IMAP folder's name as one safe file name: letters, digits, ``-``, ``_`` and ``.`` kept, every other
    character as ``%XX`` of its UTF-8 bytes (``INBOX/Archives`` is ``INBOX%2FArchives``), a leading dot
    too (no hidden name, no ``..``); a long name is cut and ends with a hash of the whole."""
    encoded = "".join(
        char if char in _SAFE else "".join(f"%{byte:02X}" for byte in char.encode("utf-8", "surrogatepass"))
        for char in folder
    )
    if encoded.startswith("."):
        encoded = "%2E" + encoded[1:]
    if len(encoded) > _MAX_FOLDER_NAME:
        digest = hashlib.sha256(folder.encode("utf-8", "surrogatepass")).hexdigest()[:16]
        encoded = f"{encoded[: _MAX_FOLDER_NAME - 17]}-{digest}"
    return encoded


def _uidvalidity(box: ImapMailbox) -> str:
    """The folder's UIDVALIDITY as the server announced it at SELECT, or ``0`` when it did not."""
    text = box.uidvalidity or ""
    return text if _UIDVALIDITY.fullmatch(text) else _UNKNOWN_UIDVALIDITY


def _read(box: ImapMailbox, uid: str, limits: MimeLimits) -> tuple[bytes | None, Message | None, InvalidInput | None]:
    """The message's bytes, the message parsed (None when it cannot be), and why it cannot be."""
    raw = box.fetch_raw(uid)
    try:
        return raw, parse(raw, limits=limits), None
    except InvalidInput as refusal:
        return raw, None, refusal


def _holds(path: Path, raw: bytes) -> bool:
    """Whether ``path`` is a regular file holding exactly ``raw`` (read without blocking, at most its size)."""
    try:
        return read_regular(path, limit=len(raw)) == raw
    except OSError:
        return False


def store(folder: Path, stem: str, raw: bytes) -> Path:
    """Store ``raw`` as ``folder/<stem>.eml``, or ``<stem>.2.eml``... when that name is taken by another file.

    Nothing is ever replaced. A file that already holds these very bytes (stored by an earlier run that
    stopped before marking the message seen) is the message's file. When this returns, the file and its
    name are on disk (synced).
    """
    for attempt in range(1, _MAX_NAMES + 1):
        path = folder / (f"{stem}.eml" if attempt == 1 else f"{stem}.{attempt}.eml")
        try:
            create_new(path, raw, mode=0o600)
        except FileExistsError:
            if _holds(path, raw):
                sync_directory(folder)
                return path
            continue
        return path
    raise OSError(f"cannot store {stem}: {_MAX_NAMES} other files named {stem}.*.eml are in {folder}")


def run_fetch(args: argparse.Namespace) -> Outcome:
    """``mssante fetch``."""
    if args.mark_seen and not args.out:
        raise UsageError("mssante: --mark-seen needs --out: a message is marked only once it is stored")
    host, port = args.server
    folder = Path(args.out) / folder_name(args.folder) if args.out else None
    if folder is not None:
        try:
            ensure_directory(folder)
        except OSError as error:
            raise OSError(f"cannot store messages in {folder}: {error.strerror or error}") from None
    limits = MimeLimits()
    messages: list[dict[str, Any]] = []
    findings: list[Finding] = []
    uidvalidity = _UNKNOWN_UIDVALIDITY
    try:
        with contextlib.ExitStack() as stack:
            options = session_options(args, stack)
            box = stack.enter_context(
                ImapMailbox(
                    host, port, implicit_tls=args.implicit_tls, folder=args.folder, external=args.external, **options
                )
            )
            uidvalidity = _uidvalidity(box)
            for uid in box.unseen()[: args.limit]:
                raw, message, refusal = _read(box, uid, limits)
                if refusal is not None:
                    unparsed = refusal.report.findings or (UNREADABLE(str(refusal)),)
                    findings += [finding.located(f"UID {uid}") for finding in unparsed]
                stored = None
                if folder is not None and raw is not None:
                    try:
                        stored = store(folder, f"{uidvalidity}-{uid}", raw)  # stored and synced first...
                    except OSError as error:
                        detail = error.strerror or error
                        raise OSError(f"cannot store message UID {uid} in {folder}: {detail}") from None
                    if args.mark_seen:
                        box.mark_seen(uid)  # ...then marked: nothing is lost if this stops midway
                messages.append({
                    "uid": uid,
                    "kind": message.kind if message else None,
                    "subject": message.subject if message else None,
                    "from": message.sender.address if message and message.sender else None,
                    "message_id": message.message_id if message else None,
                    "size": len(raw) if raw is not None else None,
                    "file": str(stored) if stored else None,
                    "parsed": message is not None,
                })  # fmt: skip
    except TransportError as error:  # refused, or the session failed midway: what was stored so far is said
        payload = {"folder": args.folder, "uidvalidity": _announced(uidvalidity), "messages": messages}
        outcome, lines, status = refused(error, payload, findings)
        return outcome, [_line(m) for m in messages] + lines, status
    report = Report(findings=findings)
    payload = {
        **report.to_dict(),
        "folder": args.folder,
        "uidvalidity": _announced(uidvalidity),
        "messages": messages,
    }
    lines = [_line(m) for m in messages] or ["no new message"]
    lines += [f"  {finding}" for finding in report.findings]
    return payload, lines, EXIT_OK if report.ok else EXIT_INVALID


def _announced(uidvalidity: str) -> str | None:
    return None if uidvalidity == _UNKNOWN_UIDVALIDITY else uidvalidity


def _line(message: dict[str, Any]) -> str:
    if message["parsed"]:
        return f"{message['uid']:>6}  {message['kind']:7} {message['from'] or '-'}  {message['subject']}"
    where = f"stored as it came in {message['file']}" if message["file"] else "not stored"
    return f"{message['uid']:>6}  cannot be parsed: {where}"

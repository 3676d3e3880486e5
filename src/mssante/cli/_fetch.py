"""``mssante fetch``: read a mailbox over IMAP (STARTTLS or TLS, IGC Santé certificates), store the new messages."""

from __future__ import annotations

import argparse
import contextlib
from pathlib import Path
from typing import Any

from mssante._files import atomic_write
from mssante.cli._app import EXIT_OK, Outcome, UsageError
from mssante.cli._session import session_arguments, session_options
from mssante.transport import Mailbox


def _fetch(args: argparse.Namespace) -> Outcome:
    if args.mark_seen and not args.out:
        raise UsageError("mssante: --mark-seen needs --out: a message is marked only once it is stored")
    host, port = args.server
    out = Path(args.out) if args.out else None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    messages: list[dict[str, Any]] = []
    with contextlib.ExitStack() as stack:
        options = session_options(args, stack)
        box = stack.enter_context(
            Mailbox(host, port, implicit_tls=args.implicit_tls, folder=args.folder, external=args.external, **options)
        )
        for uid in box.unseen()[: args.limit]:
            fetched = box.fetch(uid)
            stored = None
            if out is not None:
                stored = out / f"{uid}.eml"
                atomic_write(stored, fetched.raw)  # stored first...
                if args.mark_seen:
                    box.mark_seen(uid)  # ...then marked: nothing is lost if this stops midway
            message = fetched.message
            messages.append({
                "uid": uid,
                "kind": message.kind,
                "subject": message.subject,
                "from": message.sender.address if message.sender else None,
                "message_id": message.message_id,
                "size": len(fetched.raw),
                "file": str(stored) if stored else None,
            })  # fmt: skip
    payload = {"ok": True, "findings": [], "messages": messages}
    lines = [f"{m['uid']:>6}  {m['kind']:7} {m['from'] or '-'}  {m['subject']}" for m in messages] or ["no new message"]
    return payload, lines, EXIT_OK


def register(groups: argparse._SubParsersAction[Any], json_flag: argparse.ArgumentParser) -> None:
    """Add the ``fetch`` command."""
    fetch = groups.add_parser(
        "fetch", parents=[json_flag, session_arguments()], help="read the new messages of a mailbox over IMAP",
        description="List the unseen messages of a mailbox (IMAP with STARTTLS, or TLS with --implicit-tls; the "
        "server certificate validated against IGC Santé for its host name; a client certificate, XOAUTH2 or SASL "
        "EXTERNAL) and store them as .eml files with --out. Nothing is marked unless --mark-seen, and then only "
        "after the file is written.",
    )  # fmt: skip
    fetch.add_argument("--folder", default="INBOX", help="the folder to read (default INBOX)")
    fetch.add_argument("--implicit-tls", action="store_true", help="TLS from the first byte (port 993)")
    fetch.add_argument("--external", action="store_true", help="log in with the client certificate (SASL EXTERNAL)")
    fetch.add_argument("--out", metavar="DIR", help="store each message as DIR/<uid>.eml")
    fetch.add_argument("--mark-seen", action="store_true", help="mark each message seen once it is stored")
    fetch.add_argument("--limit", type=int, default=100, metavar="N", help="at most N messages (default 100)")
    fetch.set_defaults(handler=_fetch)

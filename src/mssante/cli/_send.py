"""``mssante send``: submit a message over SMTP with STARTTLS (required) and IGC Santé certificates."""

from __future__ import annotations

import argparse
import contextlib
from typing import Any

from mssante.cli._app import EXIT_INVALID, EXIT_OK, Outcome
from mssante.cli._cert import read_bounded
from mssante.cli._session import session_arguments, session_options
from mssante.message._mime import MimeLimits
from mssante.transport import Submission


def _send(args: argparse.Namespace) -> Outcome:
    host, port = args.server
    data = read_bounded(args.eml, limit=MimeLimits().max_bytes)
    with contextlib.ExitStack() as stack:
        options = session_options(args, stack)
        submission = stack.enter_context(Submission(host, port, **options))
        result = submission.send(data, dsn=args.dsn)
    payload = {"ok": result.ok, "findings": [], **result.to_dict()}
    lines = [f"{item.delivery.value:9} {item.recipient}  {item.code or '-'} {item.reply}" for item in result.recipients]
    return payload, lines, EXIT_OK if result.ok else EXIT_INVALID


def register(groups: argparse._SubParsersAction[Any], json_flag: argparse.ArgumentParser) -> None:
    """Add the ``send`` command."""
    send = groups.add_parser(
        "send", parents=[json_flag, session_arguments()], help="submit a message over SMTP (STARTTLS required)",
        description="Submit a message (.eml) to an operator's SMTP server: STARTTLS is required, the server "
        "certificate is validated against IGC Santé (or --trust-anchor) for its host name, with a client "
        "certificate and/or SASL XOAUTH2 (the Pro Santé Connect token read from an environment variable, never "
        "from the command line). Exit status 1 when a recipient was not accepted.",
    )  # fmt: skip
    send.add_argument("eml", metavar="EML")
    send.add_argument("--dsn", action="store_true", help="ask for delivery status notifications (RFC 3461)")
    send.set_defaults(handler=_send)

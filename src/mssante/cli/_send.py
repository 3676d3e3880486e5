"""``mssante send``: submit a message over SMTP with STARTTLS (required) and IGC Santé certificates."""

from __future__ import annotations

import argparse
import contextlib
from typing import Any

from mssante.cli._app import EXIT_INVALID, EXIT_OK, Outcome
from mssante.cli._cert import read_bounded
from mssante.cli._session import refused, session_arguments, session_options
from mssante.errors import TransportError
from mssante.message._mime import MimeLimits
from mssante.report import Finding, Report
from mssante.transport import Delivery, RecipientResult, SendResult, Submission
from mssante.transport import _codes as codes


def _send(args: argparse.Namespace) -> Outcome:
    host, port = args.server
    data = read_bounded(args.eml, limit=MimeLimits().max_bytes)
    try:
        with contextlib.ExitStack() as stack:
            options = session_options(args, stack)
            submission = stack.enter_context(Submission(host, port, **options))
            result = submission.send(data, dsn=args.dsn)
    except TransportError as error:  # the session was refused: nothing was sent
        return refused(error, SendResult(message_id=None, server=f"{host}:{port}", recipients=()).to_dict())
    report = Report(findings=[_finding(item) for item in result.recipients if item.delivery is not Delivery.ACCEPTED])
    payload = {**report.to_dict(), **result.to_dict()}
    lines = [f"{item.delivery.value:9} {item.recipient}  {item.code or '-'} {item.reply}" for item in result.recipients]
    return payload, lines, EXIT_OK if result.ok and report.ok else EXIT_INVALID


def _finding(result: RecipientResult) -> Finding:
    """What the server's answer for a recipient not accepted says, as a finding at that recipient."""
    code = codes.RECIPIENT_REJECTED if result.delivery is Delivery.REJECTED else codes.RECIPIENT_DEFERRED
    return code(f"{result.delivery.value}: {result.code or '-'} {result.reply}".strip(), where=result.recipient)


def register(groups: argparse._SubParsersAction[Any], json_flag: argparse.ArgumentParser) -> None:
    """Add the ``send`` command."""
    send = groups.add_parser(
        "send", parents=[json_flag, session_arguments()], help="submit a message over SMTP (STARTTLS required)",
        description="Submit a message (.eml) to an operator's SMTP server: STARTTLS is required, the server "
        "certificate is validated against IGC Santé (or --trust-anchor) for its host name, with a client "
        "certificate and/or SASL XOAUTH2 (the Pro Santé Connect token read from an environment variable, never "
        "from the command line). Exit status 1 when a recipient was not accepted, or when the session was refused "
        "or could not be opened (server certificate, STARTTLS, client certificate, login, connection: the MSS code "
        "is in the findings).",
    )  # fmt: skip
    send.add_argument("eml", metavar="EML")
    send.add_argument("--dsn", action="store_true", help="ask for delivery status notifications (RFC 3461)")
    send.set_defaults(handler=_send)

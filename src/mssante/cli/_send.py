"""``mssante send``: submit a message over SMTP with STARTTLS (required) and IGC Santé certificates."""

from __future__ import annotations

import argparse
import contextlib

from mssante.cli._contract import EXIT_INVALID, EXIT_OK, Outcome
from mssante.cli._inputs import read_bounded
from mssante.cli._session import refused, session_options
from mssante.errors import TransportError
from mssante.message import MimeLimits
from mssante.report import Finding, Report
from mssante.transport import Delivery, RecipientResult, SendResult, Submission, codes

__all__ = ["run_send"]


def run_send(args: argparse.Namespace) -> Outcome:
    """``mssante send EML``."""
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

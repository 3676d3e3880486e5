"""``mssante send``: submit a message over SMTP with STARTTLS (required) and IGC Santé certificates."""

from __future__ import annotations

import argparse
import contextlib
import os
from pathlib import Path
from typing import Any

from mssante.cli._app import EXIT_INVALID, EXIT_OK, Outcome, UsageError
from mssante.cli._cert import certificates_of, parse_time, read_bounded
from mssante.message._mime import MimeLimits
from mssante.pki import (
    DEFAULT_MAX_CRL_BYTES,
    CrlCache,
    CrlFetcher,
    Environment,
    RevocationChecker,
    RevocationMode,
    TrustStore,
)
from mssante.transport import Submission


def _server(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError(f"{text!r} is not HOST:PORT")
    return host.strip("[]"), int(port)


def _send(args: argparse.Namespace) -> Outcome:
    host, port = args.server
    data = read_bounded(args.eml, limit=MimeLimits().max_bytes)
    if args.trust_anchor:
        store = TrustStore.from_certificates(certificates_of(args.trust_anchor), environment=Environment(args.env))
    else:
        store = TrustStore.bundled(args.env)
    if bool(args.cert) != bool(args.key):
        raise UsageError("mssante: give --cert and --key together")
    mode = RevocationMode(args.revocation)
    options: dict[str, Any] = {"store": store, "at": parse_time(args.at), "revocation": mode}
    if args.crl:
        crls = [read_bounded(path, limit=DEFAULT_MAX_CRL_BYTES) for path in args.crl]
        options["revocation"] = RevocationChecker(crls=crls, mode=mode)
    if args.cert:
        options["client_certificate"] = (args.cert, args.key)
    if args.xoauth2_token_env:
        variable = args.xoauth2_token_env
        if not os.environ.get(variable):
            raise UsageError(f"mssante: the environment variable {variable} holds no token")
        if not args.user:
            raise UsageError("mssante: --xoauth2-token-env needs --user (the mailbox address)")
        options.update(username=args.user, token=lambda: os.environ[variable])
    with contextlib.ExitStack() as stack:
        if not args.crl and mode is not RevocationMode.OFF:  # the server's CRLs, from its distribution points
            cache = CrlCache(Path(args.cache_dir) if args.cache_dir else None)
            options["revocation"] = stack.enter_context(CrlFetcher(cache=cache))
        submission = stack.enter_context(Submission(host, port, **options))
        result = submission.send(data, dsn=args.dsn)
    payload = {"ok": result.ok, "findings": [], **result.to_dict()}
    lines = [f"{item.delivery.value:9} {item.recipient}  {item.code or '-'} {item.reply}" for item in result.recipients]
    return payload, lines, EXIT_OK if result.ok else EXIT_INVALID


def register(groups: argparse._SubParsersAction[Any], json_flag: argparse.ArgumentParser) -> None:
    """Add the ``send`` command."""
    send = groups.add_parser(
        "send", parents=[json_flag], help="submit a message over SMTP (STARTTLS required)",
        description="Submit a message (.eml) to an operator's SMTP server: STARTTLS is required, the server "
        "certificate is validated against IGC Santé (or --trust-anchor) for its host name, with a client "
        "certificate and/or SASL XOAUTH2 (the Pro Santé Connect token read from an environment variable, never "
        "from the command line). Exit status 1 when a recipient was not accepted.",
    )  # fmt: skip
    send.add_argument("eml", metavar="EML")
    send.add_argument("--server", metavar="HOST:PORT", type=_server, required=True, help="the submission server")
    send.add_argument("--cert", metavar="F", help="the client certificate (PEM)")
    send.add_argument("--key", metavar="F", help="its private key (PEM)")
    send.add_argument("--env", choices=[e.value for e in Environment], default="prod", help="IGC Santé hierarchy")
    send.add_argument("--trust-anchor", metavar="F", action="append", help="trust these roots instead (repeat)")
    send.add_argument("--user", metavar="ADDRESS", help="the mailbox to authenticate as (with XOAUTH2)")
    send.add_argument("--xoauth2-token-env", metavar="VAR", help="the environment variable holding the token")
    send.add_argument("--revocation", choices=["hard", "soft", "off"], default="hard",
                      help="revocation checking of the server certificate (default hard: its CRLs are fetched "
                      "from its distribution points and cached, unless given with --crl)")  # fmt: skip
    send.add_argument("--crl", action="append", default=[], metavar="F",
                      help="a CRL (DER or PEM) of the server certificate's path, not fetched (repeat)")  # fmt: skip
    send.add_argument("--cache-dir", metavar="DIR", help="where fetched CRLs are kept (default: the user cache)")
    send.add_argument("--dsn", action="store_true", help="ask for delivery status notifications (RFC 3461)")
    send.add_argument("--at", metavar="TIME", help="check certificates as of this ISO 8601 time (default: now)")
    send.set_defaults(handler=_send)

"""What ``mssante send`` and ``mssante fetch`` share: the server, this side's certificate and login, the trust, and
how a refusal of the session is told (a verdict: exit status 1 with the refusal's codes)."""

from __future__ import annotations

import argparse
import contextlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mssante.cli._args_network import server_address, session_arguments
from mssante.cli._contract import EXIT_INVALID, Outcome, UsageError
from mssante.cli._inputs import parse_time, read_bounded
from mssante.cli._progress import download_progress
from mssante.cli._trust import read_certificate_file, trust_store
from mssante.errors import TransportError
from mssante.pki import (
    DEFAULT_MAX_CRL_BYTES,
    CrlCache,
    CrlFetcher,
    RevocationChecker,
    RevocationMode,
)
from mssante.report import Finding, Report
from mssante.transport import check_max_duration

__all__ = ["refused", "seconds", "server_address", "session_arguments", "session_options"]


def seconds(text: str) -> float:
    """The value of ``--max-duration``: a positive number of seconds."""
    try:
        return check_max_duration(float(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number of seconds") from None


def session_options(args: argparse.Namespace, stack: contextlib.ExitStack) -> dict[str, Any]:
    """The keyword arguments of the session; a CRL fetcher it needs (and the progress of its downloads, on
    standard error when it is a terminal) is closed with ``stack``."""
    store = trust_store(args)
    if bool(args.cert) != bool(args.key):
        raise UsageError("mssante: give --cert and --key together")
    mode = RevocationMode(args.revocation)
    options: dict[str, Any] = {"store": store, "at": parse_time(args.at), "revocation": mode}
    if args.max_duration is not None:
        options["max_duration"] = args.max_duration
    if args.crl:
        crls = [read_bounded(path, limit=DEFAULT_MAX_CRL_BYTES) for path in args.crl]
        options["revocation"] = RevocationChecker(crls=crls, mode=mode)
    if args.cert:
        for path in (args.cert, args.key):  # TLS reads them by name: a FIFO or a device would block it
            read_certificate_file(path)
        options["client_certificate"] = (args.cert, args.key)
    if args.xoauth2_token_env:
        variable = args.xoauth2_token_env
        if not os.environ.get(variable):
            raise UsageError(f"mssante: the environment variable {variable} holds no token")
        if not args.user:
            raise UsageError("mssante: --xoauth2-token-env needs --user (the mailbox address)")
        options.update(username=args.user, token=lambda: os.environ[variable])
    if not args.crl and mode is not RevocationMode.OFF:  # the server's CRLs, from its distribution points
        cache = CrlCache(Path(args.cache_dir) if args.cache_dir else None)
        progress = stack.enter_context(download_progress(args.streams[1], "CRL"))
        options["revocation"] = stack.enter_context(CrlFetcher(cache=cache, progress=progress))
    return options


def refused(error: TransportError, payload: dict[str, Any], findings: Sequence[Finding] = ()) -> Outcome:
    """The outcome of a session the server refused or that could not be held (TLS, a certificate, STARTTLS, the
    login, the connection): a verdict, exit status 1, ``ok`` false, the refusal's findings after ``findings`` (those
    made before it), the command's other keys from ``payload``. A TransportError without an error finding is no
    verdict: it is raised again (exit status 2)."""
    if error.report.ok:
        raise error
    report = Report(findings=[*findings, *error.report.findings])
    line = f"mssante: {' '.join(str(error).split())}"
    missing = [finding.code for finding in error.report.findings if finding.code not in line]
    told = f"{line} ({', '.join(dict.fromkeys(missing))})" if missing else line
    lines = [told, *(f"  {finding}" for finding in report.findings if finding.message not in line)]
    return {**report.to_dict(), "error": line, **payload}, lines, EXIT_INVALID

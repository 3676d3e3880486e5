"""``mssante probe server | domain | message``: the conformance of a live operator endpoint, of a domain, or of a
message a vendor wrote. The tree is built without the SDK: each handler imports what it uses when it runs."""

from __future__ import annotations

import argparse
import contextlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mssante.cli._choices import PKI_ENVIRONMENTS, REVOCATION_MODES, XDM_ENVIRONMENTS
from mssante.cli._contract import EXIT_INVALID, EXIT_OK, Outcome, UsageError
from mssante.cli._inputs import parse_time, read_bounded
from mssante.cli._parsing import Deferred, command_group

if TYPE_CHECKING:
    from mssante.pki import CrlFetcher, RevocationChecker
    from mssante.probe import ProbeReport

__all__ = [
    "endpoint",
    "port_number",
    "positive_seconds",
    "register_probe",
    "run_probe_domain",
    "run_probe_message",
    "run_probe_server",
]

_DEFAULT_PORT = 25
_ROLES = ("mx", "submission", "imap")
"""The values of :class:`mssante.probe.Role`."""


def endpoint(text: str) -> tuple[str, int]:
    """``HOST[:PORT]`` (``[v6]:PORT`` too) as a host and a port; port 25 when not given."""
    host, colon, port = text.rpartition(":")
    if not colon or (not host.startswith("[") and ":" in host):  # no port, or a bare IPv6 address
        host, port = text, str(_DEFAULT_PORT)
    host = host.strip("[]")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError(f"{text!r} is not HOST[:PORT]")
    return host, int(port)


def positive_seconds(text: str) -> float:
    """A positive number of seconds."""
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number of seconds")
    return value


def port_number(text: str) -> int:
    """A TCP port: 1 to 65535."""
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port")
    return int(text)


def _certificate_options() -> argparse.ArgumentParser:
    """The trust, the revocation and the deadlines of ``probe server`` and ``probe domain``."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--env", choices=PKI_ENVIRONMENTS, default="prod", help="IGC Santé hierarchy")
    parser.add_argument("--trust-anchor", metavar="F", action="append", help="trust these roots instead (repeat)")
    parser.add_argument(
        "--revocation",
        choices=REVOCATION_MODES,
        default="hard",
        help="revocation checking of the server certificates (default hard: their CRLs are fetched and their OCSP "
        "responders asked)",
    )
    parser.add_argument(
        "--crl",
        action="append",
        default=[],
        metavar="F",
        help="a CRL (DER or PEM) of a server certificate's path, not fetched (repeat)",
    )
    parser.add_argument("--cache-dir", metavar="DIR", help="where fetched CRLs are kept (default: the user cache)")
    parser.add_argument("--at", metavar="TIME", help="judge certificates as of this ISO 8601 time (default: now)")
    parser.add_argument(
        "--timeout",
        metavar="SECONDS",
        type=Deferred("mssante.cli._probe:positive_seconds"),
        default=10.0,
        help="the most one connection may take (default 10)",
    )
    parser.add_argument(
        "--max-duration",
        metavar="SECONDS",
        type=Deferred("mssante.cli._probe:positive_seconds"),
        default=120.0,
        help="the most the whole probe may take (default 120)",
    )
    return parser  # fmt: skip


def register_probe(groups: argparse._SubParsersAction[Any], json_flag: argparse.ArgumentParser) -> None:
    """Add ``probe server``, ``probe domain`` and ``probe message``."""
    commands = command_group(groups, "probe", "conformance checks of a live server or of a message")
    options = _certificate_options()
    server = commands.add_parser(
        "server", parents=[json_flag, options], help="check a live SMTP (MX, submission) or IMAP endpoint",
        description="Check an operator's endpoint the way the trust space sees it: STARTTLS offered and required "
        "before any authentication, the TLS versions (below 1.2 refused) and the TLS 1.2 suites it accepts, its "
        "certificate (IGC Santé chain, SERV SSL profile, host name, validity, revocation), for an MX whether a "
        "client without a certificate, or with one outside IGC Santé, is refused before MAIL FROM, SIZE and DSN, "
        "the greeting and EHLO, for IMAP LOGINDISABLED and the mechanisms offered. Nothing is delivered unless "
        "--send-test-to names a mailbox of your own: the SMTP dialogue goes up to MAIL FROM:<> at most, then RSET "
        "and QUIT; IMAP never logs in. With --send-test-to, one test message goes to that address once the checks "
        "pass far enough: for an MX its domain must be on the allow-list (--allow-list) with the DN of your "
        "certificate (--cert); a submission server is logged in to (--user with --xoauth2-token-env, or "
        "--external) and the message goes to the mailbox logged in only. Exit status 1 when a check fails.",
    )  # fmt: skip
    server.add_argument("server", metavar="HOST[:PORT]", type=Deferred("mssante.cli._probe:endpoint"))
    server.add_argument(
        "--role",
        choices=_ROLES,
        help="what the endpoint is (default from the port: 25 mx, 143 and 993 imap, else submission)",
    )
    server.add_argument("--cert", metavar="F", help="an IGC Santé certificate of your own (PEM), presented as a client")
    server.add_argument("--key", metavar="F", help="its private key (PEM)")  # fmt: skip
    server.add_argument(
        "--send-test-to",
        metavar="ADDRESS",
        help="send one test message to this mailbox of your own (by default nothing is delivered)",
    )
    server.add_argument(
        "--allow-list",
        metavar="F",
        help="the ANS allow-list (XML) that lists the domain of --send-test-to with your --cert (MX)",
    )
    server.add_argument(
        "--user", metavar="ADDRESS", help="the mailbox to log in as (submission: with a token or EXTERNAL)"
    )
    server.add_argument("--xoauth2-token-env", metavar="VAR", help="the environment variable holding its token")
    server.add_argument("--external", action="store_true",
                        help="log in with the client certificate (SASL EXTERNAL), as --user (submission)")  # fmt: skip
    server.set_defaults(handler="mssante.cli._probe:run_probe_server")
    domain = commands.add_parser(
        "domain", parents=[json_flag, options], help="MX and SRV records, allow-list listing, certificates presented",
        description="Check a domain: its MX records and whether DNSSEC validated them, the SRV records of its "
        "clients (RFC 6186), its entry on the ANS allow-list (--allow-list) with the operator DNs listed, and "
        "whether the certificate each MX presents after STARTTLS is one of them (nothing is sent beyond STARTTLS). "
        "Exit status 1 when a check fails.",
    )  # fmt: skip
    domain.add_argument("domain", metavar="DOMAIN")
    domain.add_argument("--allow-list", metavar="F", help="the ANS allow-list (XML) to judge the domain by")
    domain.add_argument("--nameserver", metavar="IP[:PORT]", help="the DNS server to ask (default: the system's)")
    domain.add_argument("--mx-port", metavar="PORT", type=Deferred("mssante.cli._probe:port_number"), default=25,
                        help="the port the MX hosts are reached on (default 25)")  # fmt: skip
    domain.set_defaults(handler="mssante.cli._probe:run_probe_domain")
    message = commands.add_parser(
        "message", parents=[json_flag], help="everything a vendor's qualification needs about one message",
        description="Judge one message (.eml) as mssante message lint does, with its XDM packages validated, the "
        "PDF/A identification (pdfaid:part and conformance), the subject and the file names, the patient across "
        "the headers, the metadata and the CDA; the findings sorted into named checks. Exit status 1 when a "
        "check fails.",
    )  # fmt: skip
    message.add_argument("eml", metavar="EML")
    message.add_argument("--env", choices=XDM_ENVIRONMENTS, default="prod", help="the environment of the message")
    message.set_defaults(handler="mssante.cli._probe:run_probe_message")


def _lines(report: ProbeReport) -> list[str]:
    from mssante.report import Severity  # noqa: PLC0415 (the tree is built without the SDK)

    lines = [f"{'ok' if report.ok else 'not ok':7} {report.subject}"]
    hidden = 0
    for check in report.checks:
        lines.append(f"  {'ok' if check.ok else 'NOT OK':6} {check.name}")
        for finding in check.findings:
            if finding.severity is Severity.INFO:
                hidden += 1
            else:
                lines.append(f"         {finding}")
    if hidden:
        lines.append(f"  and {hidden} info finding(s): see --json")
    return lines


def _revocation(args: argparse.Namespace, stack: contextlib.ExitStack) -> RevocationChecker | CrlFetcher:
    """The CRLs given, a fetcher of the server certificates' CRLs and OCSP answers (closed with ``stack``), or a
    mode's checker."""
    from mssante.cli._progress import download_progress  # noqa: PLC0415
    from mssante.pki import (  # noqa: PLC0415
        DEFAULT_MAX_CRL_BYTES,
        CrlCache,
        CrlFetcher,
        RevocationChecker,
        RevocationMode,
    )

    mode = RevocationMode(args.revocation)
    if args.crl:
        return RevocationChecker(crls=[read_bounded(path, limit=DEFAULT_MAX_CRL_BYTES) for path in args.crl], mode=mode)
    if mode is RevocationMode.OFF:
        return RevocationChecker(mode=mode)
    cache = CrlCache(Path(args.cache_dir) if args.cache_dir else None)
    progress = stack.enter_context(download_progress(args.streams[1], "CRL"))
    return stack.enter_context(CrlFetcher(cache=cache, progress=progress))


def run_probe_server(args: argparse.Namespace) -> Outcome:
    """``mssante probe server HOST[:PORT]``."""
    from mssante.cli._trust import read_certificate_file, trust_store  # noqa: PLC0415
    from mssante.probe import Role, probe_server  # noqa: PLC0415

    host, port = args.server
    if bool(args.cert) != bool(args.key):
        raise UsageError("mssante: give --cert and --key together")
    store = trust_store(args)
    identity = None
    if args.cert:
        for path in (args.cert, args.key):  # TLS reads them by name: a FIFO or a device would block it
            read_certificate_file(path)
        identity = (args.cert, args.key)
    sending = _sending(args)
    with contextlib.ExitStack() as stack:
        report = probe_server(
            host, port, role=args.role, store=store, at=parse_time(args.at), client_certificate=identity,
            revocation=_revocation(args, stack), revocation_mode=args.revocation, timeout=args.timeout,
            max_duration=args.max_duration, **sending,
        )  # fmt: skip
    role = Role(args.role) if args.role else Role.of_port(port)
    payload = {**report.to_dict(), "server": f"{host}:{port}", "role": role.value}
    return payload, _lines(report), EXIT_OK if report.ok else EXIT_INVALID


def _sending(args: argparse.Namespace) -> dict[str, Any]:
    """The options of the test message (none without ``--send-test-to``)."""
    from mssante.trustspace import AllowList  # noqa: PLC0415

    login = [name for name in ("allow_list", "user", "xoauth2_token_env", "external") if getattr(args, name)]
    if args.send_test_to is None:
        if login:
            flag = "--" + login[0].replace("_", "-")
            raise UsageError(f"mssante: {flag} is for the test message: give --send-test-to too")
        return {}
    options: dict[str, Any] = {"send_test_to": args.send_test_to, "username": args.user, "external": args.external}
    if args.allow_list:
        options["allow_list"] = AllowList.load(args.allow_list)
    if args.xoauth2_token_env:
        variable = args.xoauth2_token_env
        if not os.environ.get(variable):
            raise UsageError(f"mssante: the environment variable {variable} holds no token")
        options["token"] = lambda: os.environ[variable]
    if (args.xoauth2_token_env or args.external) and not args.user:
        raise UsageError("mssante: --xoauth2-token-env and --external need --user (the mailbox address)")
    return options


def run_probe_domain(args: argparse.Namespace) -> Outcome:
    """``mssante probe domain DOMAIN``."""
    from mssante.cli._trust import trust_store  # noqa: PLC0415
    from mssante.probe import probe_domain  # noqa: PLC0415
    from mssante.trustspace import AllowList  # noqa: PLC0415

    allow_list = AllowList.load(args.allow_list) if args.allow_list else None
    store = trust_store(args)
    with contextlib.ExitStack() as stack:
        found = probe_domain(
            args.domain, store=store, at=parse_time(args.at), allow_list=allow_list, nameserver=args.nameserver,
            revocation=_revocation(args, stack), revocation_mode=args.revocation, mx_port=args.mx_port,
            timeout=args.timeout, max_duration=args.max_duration,
        )  # fmt: skip
    lines = _lines(found.probe)
    lines[1:1] = [f"  mx     {host.name} ({host.preference}) {host.subject or '-'}" for host in found.mx]
    return found.to_dict(), lines, EXIT_OK if found.ok else EXIT_INVALID


def run_probe_message(args: argparse.Namespace) -> Outcome:
    """``mssante probe message EML``."""
    from mssante.message import MimeLimits  # noqa: PLC0415
    from mssante.probe import probe_message  # noqa: PLC0415

    report = probe_message(read_bounded(args.eml, limit=MimeLimits().max_bytes), environment=args.env)
    payload = {**report.to_dict(), "subject": report.subject, "environment": args.env}
    return payload, _lines(report), EXIT_OK if report.ok else EXIT_INVALID

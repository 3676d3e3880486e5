"""``mssante policy serve | check``: the inbound policy of an operator as a Postfix policy service."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import logging
import signal
import sys
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import NameOID

from mssante.cli._args_network import server_address
from mssante.cli._choices import PKI_ENVIRONMENTS
from mssante.cli._contract import EXIT_INVALID, EXIT_OK, Outcome, UsageError
from mssante.cli._inputs import parse_time, read_bounded
from mssante.cli._parsing import command_group
from mssante.cli._trust import read_certificate_file, trust_store
from mssante.errors import InvalidInput
from mssante.pki import DEFAULT_MAX_CRL_BYTES, CrlCache, CrlFetcher, RevocationChecker, RevocationMode, load_certificate
from mssante.transport import (
    PolicyRequest,
    PolicyServer,
    PolicyService,
    WatchedFile,
    certificate_index,
    read_policy_request,
)
from mssante.trustspace import AllowList, AllowListCache

__all__ = ["load_certificates", "register_policy", "run_check", "run_serve"]

_MAX_CERTIFICATE_FILES = 10_000
logger = logging.getLogger("mssante.transport.policy")


def _positive(kind: type[int] | type[float]) -> Any:
    def parse(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError:
            value = 0
        if not value > 0:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number greater than 0")
        return value

    return parse


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 86_400:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds (0 to 86400)")
    return value


def _policy_arguments() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--allow-list", metavar="F", help="the allow-list file (default: the last good one of the "
                        "cache that mssante whitelist fetch keeps, in --cache-dir)")  # fmt: skip
    parser.add_argument("--cache-dir", metavar="DIR", help="the allow-list cache (default: the user cache)")
    parser.add_argument("--env", choices=PKI_ENVIRONMENTS, default="prod", help="IGC Santé hierarchy")
    parser.add_argument("--trust-anchor", metavar="F", action="append", help="trust these roots instead (repeat)")
    parser.add_argument("--certificates", metavar="DIR", help="the certificate cache: the peers' certificates (PEM "
                        "files *.pem), checked whole (DN, chain, profile, revocation) when Postfix names one by its "
                        "SHA-256 fingerprint")  # fmt: skip
    parser.add_argument("--revocation", choices=["hard", "soft", "off"], default="hard",
                        help="hard (default): a certificate of unknown revocation status, or not in the certificate "
                        "cache, is deferred; soft and off accept it, decided by its CN (weaker)")  # fmt: skip
    parser.add_argument("--crl", action="append", default=[], metavar="F",
                        help="a CRL (DER or PEM) of the IGC Santé CAs, not fetched (repeat); without it the CRLs are "
                        "fetched from the distribution points and cached in --crl-cache-dir")  # fmt: skip
    parser.add_argument("--crl-cache-dir", metavar="DIR", help="where fetched CRLs are kept (default: the user cache)")
    parser.add_argument("--max-age", metavar="HOURS", type=_positive(float),
                        help="answer DEFER while the allow-list is older than this")  # fmt: skip
    parser.add_argument("--domain", action="append", metavar="D", dest="domains",
                        help="a domain this operator serves: other recipients are refused (repeat)")  # fmt: skip
    parser.add_argument("--decision-ttl", metavar="SECONDS", type=_seconds, default=60.0,
                        help="keep an answer for the same certificate and sender (default 60; 0: none)")  # fmt: skip
    return parser


def register_policy(groups: argparse._SubParsersAction[Any], json_flag: argparse.ArgumentParser) -> None:
    """Add ``policy serve`` and ``policy check``."""
    policy = command_group(groups, "policy", "the inbound policy as a Postfix policy service")
    serve = policy.add_parser(
        "serve", parents=[_policy_arguments()], help="serve the inbound policy to Postfix (check_policy_service)",
        description="A Postfix policy-delegation server for inbound MSSanté mail: for each request (RCPT TO) it "
        "answers action=DUNNO when the peer is allowed (its client certificate listed on the allow-list for the "
        "sender's domain), action=REJECT 5.7.1 <code> <reason> or action=DEFER 4.7.1 <code> <reason> otherwise, the "
        "MSS code in the reason. The allow-list (and the certificate cache) are reloaded when they change; SIGTERM "
        "or SIGINT stops it. Logs go to standard error.",
    )  # fmt: skip
    serve.add_argument("--listen", metavar="HOST:PORT", required=True, help="where to listen")
    serve.add_argument("--max-connections", metavar="N", type=_positive(int), default=100,
                       help="connections served at once; the next ones wait (default 100)")  # fmt: skip
    serve.add_argument("--request-deadline", metavar="SECONDS", type=_positive(float), default=10.0,
                       help="the most a request may take to arrive and be answered (default 10)")  # fmt: skip
    serve.add_argument("--idle-timeout", metavar="SECONDS", type=_positive(float), default=300.0,
                       help="an idle connection is closed after this (default 300)")  # fmt: skip
    serve.add_argument("--reload-interval", metavar="SECONDS", type=_positive(float), default=30.0,
                       help="how often the allow-list and certificate cache are looked at (default 30)")  # fmt: skip
    serve.add_argument("--verbose", action="store_true", help="log each decision (the audit events) too")
    serve.set_defaults(handler="mssante.cli._policy:run_serve")
    check = policy.add_parser(
        "check", parents=[json_flag, _policy_arguments()], help="answer one policy request, as the service would",
        description="Answer one request as mssante policy serve would: the request's name=value lines from "
        "standard input (ended by an empty line), or built from --cert (its subject and issuer CNs and its SHA-256 "
        "fingerprint, as Postfix gives them once it verified the chain), --sender and --recipient. Exit status 0 "
        "when the answer is DUNNO, 1 for REJECT or DEFER.",
    )  # fmt: skip
    check.add_argument("--cert", metavar="F", help="the peer's client certificate (PEM or DER)")
    check.add_argument("--sender", help="the envelope sender (empty: the null sender)")
    check.add_argument("--recipient", default="", help="the recipient")
    check.add_argument("--at", metavar="TIME", help="decide as of this ISO 8601 time (default: now)")
    check.set_defaults(handler="mssante.cli._policy:run_check")


def _certificates_in(path: Path) -> list[x509.Certificate]:
    try:
        return x509.load_pem_x509_certificates(read_certificate_file(str(path)))
    except (ValueError, OSError) as error:
        logger.warning("%s is not read: %s", path, error)
        return []


def load_certificates(directory: Path) -> dict[str, x509.Certificate]:
    """The certificate cache: every certificate of the ``*.pem`` files of ``directory``, by SHA-256 fingerprint."""
    paths = sorted(directory.glob("*.pem"))[:_MAX_CERTIFICATE_FILES]
    return certificate_index(certificate for path in paths for certificate in _certificates_in(path))


def _load_allowlist(args: argparse.Namespace) -> AllowList:
    if args.allow_list:
        return AllowList.load(args.allow_list)
    cached = AllowListCache(Path(args.cache_dir) if args.cache_dir else None).load()
    if cached is None:
        raise UsageError("mssante: no allow-list: run mssante whitelist fetch or give --allow-list")
    return cached.allowlist


def _service(args: argparse.Namespace, stack: contextlib.ExitStack) -> PolicyService:
    store = trust_store(args)
    mode = RevocationMode(args.revocation)
    revocation: RevocationChecker | RevocationMode | CrlFetcher = mode
    if args.crl:
        crls = [read_bounded(path, limit=DEFAULT_MAX_CRL_BYTES) for path in args.crl]
        revocation = RevocationChecker(crls=crls, mode=mode)
    elif mode is RevocationMode.HARD:
        cache = CrlCache(Path(args.crl_cache_dir) if args.crl_cache_dir else None)
        revocation = stack.enter_context(CrlFetcher(cache=cache))
    certificates = load_certificates(Path(args.certificates)) if args.certificates else {}
    max_age = dt.timedelta(hours=args.max_age) if args.max_age else None
    return PolicyService(
        _load_allowlist(args), store, certificates=certificates, revocation=revocation, max_age=max_age,
        decision_ttl=dt.timedelta(seconds=args.decision_ttl), recipient_domains=args.domains,
    )  # fmt: skip


def _watched(args: argparse.Namespace, service: PolicyService) -> tuple[WatchedFile[Any], ...]:
    def swap_allowlist(allowlist: AllowList) -> None:
        service.replace(allowlist=allowlist)

    def from_cache(_path: Path) -> AllowList:
        return _load_allowlist(args)

    if args.allow_list:
        source: WatchedFile[Any] = WatchedFile(args.allow_list, AllowList.load, swap_allowlist)
    else:
        cache = AllowListCache(Path(args.cache_dir) if args.cache_dir else None)
        source = WatchedFile(cache.metadata_path, from_cache, swap_allowlist)  # written last by each fetch
    watched = [source]
    if args.certificates:
        watched.append(
            WatchedFile(args.certificates, load_certificates, lambda found: service.replace(certificates=found))
        )
    return tuple(watched)


async def _serve(server: PolicyServer) -> None:
    await server.start()
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    serving = asyncio.ensure_future(server.serve())
    await stop.wait()
    logger.info("stopping")
    await server.stop()
    await serving


def run_serve(args: argparse.Namespace) -> Outcome:
    """``mssante policy serve``."""
    handler = logging.StreamHandler(args.streams[1] if hasattr(args, "streams") else sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    for name in ("mssante.transport.policy", "mssante.transport.audit"):
        named = logging.getLogger(name)
        named.addHandler(handler)
        named.setLevel(logging.INFO if args.verbose or name.endswith("policy") else logging.WARNING)
    try:
        host, port = server_address(args.listen)
    except argparse.ArgumentTypeError as error:
        raise UsageError(f"mssante policy serve: argument --listen: {error}") from error
    with contextlib.ExitStack() as stack:
        service = _service(args, stack)
        if args.revocation != "hard":
            logger.warning("--revocation %s: certificates not in the cache are accepted by their CN", args.revocation)
        server = PolicyServer(
            service, host=host, port=port, max_connections=args.max_connections,
            request_deadline=args.request_deadline, idle_timeout=args.idle_timeout,
            reload_interval=args.reload_interval, watched=_watched(args, service),
        )  # fmt: skip
        asyncio.run(_serve(server))
    return {"ok": True, "findings": []}, [], EXIT_OK


def _request_of_certificate(args: argparse.Namespace) -> dict[str, str]:
    certificate = load_certificate(read_certificate_file(args.cert), what=args.cert)

    def common_name(name: x509.Name) -> str:
        values = name.get_attributes_for_oid(NameOID.COMMON_NAME)
        return str(values[0].value) if values else ""

    return {
        "request": "smtpd_access_policy", "protocol_state": "RCPT", "sender": args.sender or "",
        "recipient": args.recipient, "ccert_subject": common_name(certificate.subject),
        "ccert_issuer": common_name(certificate.issuer),
        "ccert_fingerprint": certificate.fingerprint(hashes.SHA256()).hex(":").upper(),
    }  # fmt: skip


def run_check(args: argparse.Namespace) -> Outcome:
    """``mssante policy check``."""
    if args.cert:
        attributes = _request_of_certificate(args)
    else:
        if args.sender is not None:
            raise UsageError("mssante: --sender goes with --cert; without it the request is read from standard input")
        try:
            attributes = read_policy_request(sys.stdin)
        except InvalidInput as error:
            raise UsageError(f"mssante: the policy request cannot be read: {error}") from error
        if not attributes:
            raise UsageError("mssante: no policy request on standard input")
    with contextlib.ExitStack() as stack:
        service = _service(args, stack)
        answer = service.decide(PolicyRequest.from_attributes(attributes), at=parse_time(args.at))
    payload = {**answer.report.to_dict(), "action": answer.action, "code": answer.code, "answer": answer.line}
    lines = [answer.line, *(f"{f.severity.value:7} {f.code} {f.message}" for f in answer.report.findings)]
    return payload, lines, EXIT_OK if answer.action == "DUNNO" else EXIT_INVALID

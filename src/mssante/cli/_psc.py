"""``mssante psc login`` / ``mssante psc token``: get a Pro Santé Connect token and show it (never in full)."""

from __future__ import annotations

import argparse
import os

from mssante.cli._contract import EXIT_INVALID, EXIT_OK, Outcome, UsageError, write

TYPE_CHECKING = False  # not typing's: the command line starts without importing typing
if TYPE_CHECKING:
    from typing import Any

    from mssante.psc import PscClient, TokenSet

__all__ = ["register_psc", "run_login", "run_token"]

ISSUER_ENV = "MSSANTE_PSC_ISSUER"
CLIENT_ID_ENV = "MSSANTE_PSC_CLIENT_ID"
_PREFIX = 8
_DEFAULT_SECONDS = 300.0


def register_psc(groups: argparse._SubParsersAction[Any], json_flag: argparse.ArgumentParser) -> None:
    """Add ``psc login`` and ``psc token``."""
    parser = groups.add_parser(
        "psc",
        parents=[json_flag],
        help="Pro Santé Connect tokens (XOAUTH2)",
        description="Get a Pro Santé Connect access token, for exploring: the token is never printed in full (but "
        "with --print-token, alone, for piping into `send --xoauth2-token-env`) and never written anywhere.",
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--issuer", metavar="URL", help=f"the provider (default: ${ISSUER_ENV})")
    common.add_argument("--client-id", metavar="ID", help=f"this software's client id (default: ${CLIENT_ID_ENV})")
    common.add_argument("--client-secret-env", metavar="VAR", help="the environment variable holding the secret")
    common.add_argument("--auth-method", choices=["client_secret_basic", "client_secret_post", "tls_client_auth"],
                        help="how the client authenticates (default: client_secret_basic with a secret, else "
                        "tls_client_auth with --cert and --key)")  # fmt: skip
    common.add_argument("--cert", metavar="F", help="the client certificate (PEM, an IGC Santé ORG certificate)")
    common.add_argument("--key", metavar="F", help="its private key (PEM)")
    common.add_argument("--ca-file", metavar="F", help="more anchors for the provider's server certificate (tests)")
    common.add_argument("--scope", default="openid", help="the scope asked (default: openid)")
    common.add_argument("--seconds", type=float, default=_DEFAULT_SECONDS,
                        help=f"the most the login may take (default {_DEFAULT_SECONDS:g})")  # fmt: skip
    common.add_argument("--print-token", action="store_true",
                        help="print only the access token on standard output (warns on standard error)")  # fmt: skip
    login = commands.add_parser(
        "login",
        parents=[json_flag, common],
        help="log in: authorization code with PKCE in a browser, or back-channel (CIBA)",
        description="Log in: the URL to open is printed on standard error, the redirect comes back to a listener on "
        "127.0.0.1 (RFC 8252); or, with --ciba, the provider asks the user on their device (CIBA, poll mode).",
    )
    login.add_argument("--ciba", action="store_true", help="back-channel authentication (needs --login-hint)")
    login.add_argument("--login-hint", metavar="HINT", help="who logs in, for --ciba (e.g. the RPPS identifier)")
    login.set_defaults(handler="mssante.cli._psc:run_login")
    token = commands.add_parser(
        "token",
        parents=[json_flag, common],
        help="a fresh token without a browser: refreshed, or by back-channel authentication",
        description="A fresh access token without a browser: from the refresh token in --refresh-token-env, or by "
        "back-channel authentication (--login-hint). Prints expires_at, scope and subject.",
    )
    token.add_argument("--refresh-token-env", metavar="VAR", help="the environment variable holding a refresh token")
    token.add_argument("--login-hint", metavar="HINT", help="back-channel authentication of this user")
    token.set_defaults(handler="mssante.cli._psc:run_token")


def _client(args: argparse.Namespace) -> PscClient:
    from mssante.psc import PscClient  # noqa: PLC0415 (the network shell: loaded for this command only)

    if args.print_token and getattr(args, "json", False):
        raise UsageError("mssante psc: --print-token prints the token alone: not with --json")

    issuer = args.issuer or os.environ.get(ISSUER_ENV)
    client_id = args.client_id or os.environ.get(CLIENT_ID_ENV)
    if not issuer or not client_id:
        raise UsageError(f"mssante psc: give --issuer and --client-id (or ${ISSUER_ENV} and ${CLIENT_ID_ENV})")
    secret = None
    if args.client_secret_env:
        secret = os.environ.get(args.client_secret_env)
        if not secret:
            raise UsageError(f"mssante psc: the environment variable {args.client_secret_env} is not set")
    if (args.cert is None) != (args.key is None):
        raise UsageError("mssante psc: --cert and --key go together")
    if secret is None and args.cert is None:
        raise UsageError("mssante psc: give --client-secret-env VAR, or --cert F --key F (mutual TLS)")
    return PscClient(
        issuer, client_id, client_secret=secret, auth_method=args.auth_method, certificate=args.cert, key=args.key,
        ca_file=args.ca_file,
    )  # fmt: skip


def _shown(tokens: TokenSet, args: argparse.Namespace) -> Outcome:
    err = args.streams[1]
    if args.print_token:
        write(err, "mssante: warning: the access token is printed: keep it out of logs and files\n")
        return {}, [tokens.access_token], EXIT_OK
    payload = {
        "ok": True,
        "findings": [],
        "expires_at": tokens.expires_at.isoformat().replace("+00:00", "Z"),
        "scope": tokens.scope,
        "subject": tokens.subject,
        "token_prefix": tokens.access_token[:_PREFIX] + "…",
        "refresh_token": tokens.refresh_token is not None,
    }
    lines = [f"{name}: {payload[name]}" for name in ("subject", "scope", "expires_at", "token_prefix")]
    return payload, lines, EXIT_OK


def _refused(error: Exception) -> Outcome:
    report = getattr(error, "report", None)
    findings = [finding.to_dict() for finding in report.findings] if report is not None else []
    payload = {"ok": False, "findings": findings, "error": str(error)}
    return payload, [f"mssante: {error}"], EXIT_INVALID


def run_login(args: argparse.Namespace) -> Outcome:
    """``mssante psc login``."""
    from mssante.psc import PscError, login  # noqa: PLC0415

    if args.ciba and not args.login_hint:
        raise UsageError("mssante psc login: --ciba needs --login-hint")
    err = args.streams[1]
    with _client(args) as client:
        try:
            if args.ciba:
                write(err, "mssante: waiting for the user to approve on their device\n")
                tokens = client.ciba(args.login_hint, scope=args.scope)
            else:

                def show(url: str) -> None:
                    write(err, f"Open this URL to log in:\n{url}\n")
                    err.flush()

                tokens = login(client, show, scope=args.scope, seconds=args.seconds)
        except PscError as error:
            return _refused(error)
    return _shown(tokens, args)


def run_token(args: argparse.Namespace) -> Outcome:
    """``mssante psc token``."""
    from mssante.psc import MemoryTokenStore, PscError, TokenSource  # noqa: PLC0415

    if bool(args.refresh_token_env) == bool(args.login_hint):
        raise UsageError("mssante psc token: give --refresh-token-env VAR or --login-hint HINT")
    with _client(args) as client:
        try:
            if args.login_hint:
                tokens = client.ciba(args.login_hint, scope=args.scope)
            else:
                refresh_token = os.environ.get(args.refresh_token_env)
                if not refresh_token:
                    raise UsageError(f"mssante psc token: the environment variable {args.refresh_token_env} is not set")
                store = MemoryTokenStore()
                store.save(refresh_token)
                tokens = TokenSource.resume(client, store).tokens
        except PscError as error:
            return _refused(error)
    return _shown(tokens, args)

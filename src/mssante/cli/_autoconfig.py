"""``mssante autoconfig ADDRESS``: the submission and IMAP servers of an address's domain, from DNS SRV records."""

from __future__ import annotations

import argparse

from mssante.cli._contract import EXIT_INVALID, EXIT_OK, Outcome, UsageError

TYPE_CHECKING = False  # not typing's: the command line starts without importing typing
if TYPE_CHECKING:
    from typing import Any

    from mssante.autoconfig import Server

__all__ = ["register_autoconfig", "run_autoconfig"]

_DEFAULT_LIFETIME = 10.0


def register_autoconfig(groups: argparse._SubParsersAction[Any], json_flag: argparse.ArgumentParser) -> None:
    """Add ``autoconfig ADDRESS [--nameserver IP[:PORT]] [--lifetime SECONDS] [--allow-private]``."""
    parser = groups.add_parser(
        "autoconfig",
        parents=[json_flag],
        help="an address's mail servers from DNS SRV records",
        description="Ask the DNS for the SRV records of the address's domain (_submissions._tcp, _submission._tcp, "
        "_imaps._tcp, _imap._tcp) and print the servers to use, implicit TLS first at the same priority. The server "
        "certificate must match the host printed. Exit status 1 when no server is published (or the DNS could not "
        "answer, or a target was refused).",
    )
    parser.add_argument("address", metavar="ADDRESS", help="an address (or a bare domain)")
    parser.add_argument("--nameserver", metavar="IP[:PORT]",
                        help="ask this name server only (default: the system's resolvers); a validating resolver "
                        "reports whether DNSSEC validated the answers")  # fmt: skip
    parser.add_argument("--lifetime", metavar="SECONDS", type=float, default=_DEFAULT_LIFETIME,
                        help=f"the most the whole lookup may take (default {_DEFAULT_LIFETIME:g})")  # fmt: skip
    parser.add_argument("--allow-private", action="store_true",
                        help="accept targets that are IP addresses, localhost or private addresses (tests only: "
                        "warns)")  # fmt: skip
    parser.set_defaults(handler="mssante.cli._autoconfig:run_autoconfig")


def _line(kind: str, server: Server | None) -> str:
    if server is None:
        return f"{kind}: not published"
    return f"{kind}: {server.host}:{server.port} ({server.tls.value})"


def run_autoconfig(args: argparse.Namespace) -> Outcome:
    """``mssante autoconfig ADDRESS``."""
    # The DNS shell loads dnspython: imported for this command only.
    from mssante.autoconfig import discover  # noqa: PLC0415

    if not args.lifetime > 0:
        raise UsageError(f"mssante autoconfig: --lifetime is a number of seconds above 0, not {args.lifetime:g}")
    servers = discover(
        args.address, nameserver=args.nameserver, lifetime=args.lifetime, allow_private=args.allow_private
    )
    lines = [_line("submission", servers.submission), _line("imap", servers.imap)]
    lines += [f"  {finding}" for finding in servers.report.findings]
    status = EXIT_OK if servers.published and servers.ok else EXIT_INVALID
    return servers.to_dict(), lines, status

"""The arguments of ``directory``, ``send``, ``fetch``, ``track`` and ``demo``: the directory, mail sessions,
delivery tracking and the demo exchange."""

from __future__ import annotations

import argparse
from typing import Any

from mssante.cli._choices import DEFAULT_MAX_DURATION, PKI_ENVIRONMENTS
from mssante.cli._parsing import Deferred, command_group

__all__ = [
    "DEFAULT_DATABASE",
    "register_demo",
    "register_directory",
    "register_fetch",
    "register_send",
    "register_track",
    "server_address",
    "session_arguments",
]

DEFAULT_DATABASE = "mssante-tracking.sqlite3"
"""The tracking file of ``mssante track``, in the user's cache unless ``--db`` names another."""

_DEFAULT_LIMIT = 50


def server_address(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[v6]:PORT`` too) as a host and a port."""
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError(f"{text!r} is not HOST:PORT")
    return host.strip("[]"), int(port)


def session_arguments() -> argparse.ArgumentParser:
    """The options of a client session, as a parent parser."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--server", metavar="HOST:PORT", type=server_address, required=True, help="the server")
    parser.add_argument("--cert", metavar="F", help="the client certificate (PEM)")
    parser.add_argument("--key", metavar="F", help="its private key (PEM)")
    parser.add_argument("--env", choices=PKI_ENVIRONMENTS, default="prod", help="IGC Santé hierarchy")
    parser.add_argument("--trust-anchor", metavar="F", action="append", help="trust these roots instead (repeat)")
    parser.add_argument("--user", metavar="ADDRESS", help="the mailbox to authenticate as (with XOAUTH2)")
    parser.add_argument("--xoauth2-token-env", metavar="VAR", help="the environment variable holding the token")
    parser.add_argument("--revocation", choices=["hard", "soft", "off"], default="hard",
                        help="revocation checking of the server certificate (default hard: its CRLs are fetched "
                        "from its distribution points and cached, unless given with --crl)")  # fmt: skip
    parser.add_argument("--crl", action="append", default=[], metavar="F",
                        help="a CRL (DER or PEM) of the server certificate's path, not fetched (repeat)")  # fmt: skip
    parser.add_argument("--cache-dir", metavar="DIR", help="where fetched CRLs are kept (default: the user cache)")
    parser.add_argument("--at", metavar="TIME", help="check certificates as of this ISO 8601 time (default: now)")
    parser.add_argument("--max-duration", metavar="SECONDS", type=Deferred("mssante.cli._session:seconds"),
                        help="the most one operation may take as a whole: opening the session, sending the message, "
                        f"fetching one, in seconds (default {DEFAULT_MAX_DURATION:g})")  # fmt: skip
    return parser


def register_directory(groups: argparse._SubParsersAction[Any], json_flag: argparse.ArgumentParser) -> None:
    """Add the ``directory`` command group."""
    commands = command_group(groups, "directory", "the national directory (Annuaire Santé)")
    load = commands.add_parser(
        "import", parents=[json_flag], help="import the bulk MSSanté extraction into the local index",
        description="Import the Extraction_Correspondance_MSSante file (TXT or ZIP, as ANS and data.gouv.fr "
        "publish it every day) into the local index. The new data replaces the old at once, and the counts of "
        "addresses added and removed since the last import are reported.",
    )  # fmt: skip
    load.add_argument("file", metavar="FILE")
    load.add_argument("--db", metavar="PATH", help="the index file (default: in the user's cache)")
    load.set_defaults(handler="mssante.cli._directory:run_import")

    find = commands.add_parser(
        "lookup", parents=[json_flag], help="find mailboxes by address, RPPS or IDNPS in the local index",
        description="Exact lookup in the local index: an MSSanté address, an RPPS (11 digits) or an IdNat_PS. "
        "Exit status 1 when nothing is found.",
    )  # fmt: skip
    find.add_argument("key", metavar="ADDRESS|RPPS|IDNPS")
    find.add_argument("--db", metavar="PATH", help="the index file (default: in the user's cache)")
    find.set_defaults(handler="mssante.cli._directory:run_lookup")

    search = commands.add_parser(
        "search", parents=[json_flag], help="search mailboxes by name, place or profession",
        description="Search the local index (default) or, with --online, the FHIR API of the Annuaire Santé "
        "(key from ESANTE_API_KEY). Names match without regard to case or accents, by word prefix.",
    )  # fmt: skip
    search.add_argument("--name", help="a name (family and/or given)")
    search.add_argument("--city", help="the city of the structure")
    search.add_argument("--postcode", help="the postcode of the structure")
    search.add_argument("--profession", help="a profession code (10 = médecin) or label")
    search.add_argument("--limit", type=int, default=_DEFAULT_LIMIT, help="at most this many results (default 50)")
    where = search.add_mutually_exclusive_group()
    where.add_argument("--db", metavar="PATH", help="the index file (default: in the user's cache)")
    where.add_argument("--online", action="store_true", help="ask the FHIR API instead of the local index")
    search.add_argument("--base-url", metavar="URL", help="with --online: the FHIR base URL")
    search.set_defaults(handler="mssante.cli._directory:run_search")


def register_send(groups: argparse._SubParsersAction[Any], json_flag: argparse.ArgumentParser) -> None:
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
    send.set_defaults(handler="mssante.cli._send:run_send")


def register_fetch(groups: argparse._SubParsersAction[Any], json_flag: argparse.ArgumentParser) -> None:
    """Add the ``fetch`` command."""
    fetch = groups.add_parser(
        "fetch", parents=[json_flag, session_arguments()], help="read the new messages of a mailbox over IMAP",
        description="List the unseen messages of a mailbox (IMAP with STARTTLS, or TLS with --implicit-tls; the "
        "server certificate validated against IGC Santé for its host name; a client certificate, XOAUTH2 or SASL "
        "EXTERNAL) and store them as .eml files with --out: DIR/<folder>/<uidvalidity>-<uid>.eml (the folder name "
        "with other characters than letters, digits, - _ . as %%XX; uidvalidity 0 when the server announces none). "
        "A file is never replaced: when the name is taken by another file, <uidvalidity>-<uid>.2.eml, and so on. "
        "A message that cannot be parsed is stored as it came and reported (exit status 1); the next ones are read "
        "all the same. Nothing is marked unless --mark-seen, and then only after the file is written and synced. "
        "A session refused or lost (server certificate, STARTTLS, client certificate, login, connection) is exit "
        "status 1 too, its MSS code in the findings, the messages stored before it listed.",
    )  # fmt: skip
    fetch.add_argument("--folder", default="INBOX", help="the folder to read (default INBOX)")
    fetch.add_argument("--implicit-tls", action="store_true", help="TLS from the first byte (port 993)")
    fetch.add_argument("--external", action="store_true", help="log in with the client certificate (SASL EXTERNAL)")
    fetch.add_argument("--out", metavar="DIR", help="store each message as DIR/<folder>/<uidvalidity>-<uid>.eml")
    fetch.add_argument("--mark-seen", action="store_true", help="mark each message seen once it is stored")
    fetch.add_argument("--limit", type=int, default=100, metavar="N", help="at most N messages (default 100)")
    fetch.set_defaults(handler="mssante.cli._fetch:run_fetch")


def register_track(groups: argparse._SubParsersAction[Any], json_flag: argparse.ArgumentParser) -> None:
    """Add ``track sent``, ``track observe`` and ``track status``."""
    track = command_group(groups, "track", "delivery tracking: messages sent, DSNs and MDNs that come back")
    database = argparse.ArgumentParser(add_help=False)
    database.add_argument("--db", metavar="PATH", help=f"the tracking file (default: {DEFAULT_DATABASE} in the cache)")
    database.add_argument("--at", metavar="TIME", help="the moment of what is recorded or asked (default: now)")
    sent = track.add_parser(
        "sent", parents=[json_flag, database], help="record messages as sent (.eml files)",
        description="Track each message (its Message-ID and its To, Cc and Bcc recipients).",
    )  # fmt: skip
    sent.add_argument("eml", metavar="EML", nargs="+")
    sent.set_defaults(handler="mssante.cli._track:run_sent")
    observe = track.add_parser("observe", parents=[json_flag, database], help="read DSNs and MDNs (.eml files)",
                               description="Match delivery reports (DSN) and read receipts (MDN) to the messages "
                               "tracked; a status never goes backwards and a notification seen twice changes nothing. "
                               "Exit status 1 when a file cannot be read as a notification.")  # fmt: skip
    observe.add_argument("eml", metavar="EML", nargs="+")
    observe.set_defaults(handler="mssante.cli._track:run_observe")
    status = track.add_parser("status", parents=[json_flag, database], help="the status of each recipient",
                              description="The recipients' statuses of the given messages, or of the messages "
                              "still waiting. Exit status 1 when a given Message-ID is not tracked.")  # fmt: skip
    status.add_argument("message_id", metavar="MESSAGE-ID", nargs="*")
    status.add_argument("--expire", action="store_true", help="first mark as expired what passed its deadline")
    status.set_defaults(handler="mssante.cli._track:run_status")


def register_demo(groups: argparse._SubParsersAction[Any], json_flag: argparse.ArgumentParser) -> None:
    """Add the ``demo`` command."""
    demo = groups.add_parser(
        "demo", parents=[json_flag], help="run a complete MSSanté exchange on this machine, offline",
        description="A test PKI shaped like IGC Santé, a demo allow-list, a local operator (SMTP and IMAP with "
        "STARTTLS and client certificates), a directory lookup, a message to a patient with the CI-SIS CDA example "
        "in an XDM package and a PDF, sent with mutual TLS, read back, parsed and linted, a read receipt, and the "
        "delivery tracker. Nothing leaves 127.0.0.1. Exit status 1 when a step fails.",
    )  # fmt: skip
    demo.add_argument(
        "--keep", metavar="DIR", help="keep the message, the receipts, the tracker's file and the test certificates in "
        "DIR, and show the commands that look at them",
    )  # fmt: skip
    demo.set_defaults(handler="mssante.cli._demo:run_demo")

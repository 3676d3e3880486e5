"""The arguments of ``ins``, ``id``, ``address``, ``cert`` and ``whitelist``: values, certificates, the allow-list."""

from __future__ import annotations

import argparse
from typing import Any

from mssante.cli._choices import ID_TYPES, INS_AUTHORITIES, PKI_ENVIRONMENTS, PURPOSES, REVOCATION_MODES
from mssante.cli._parsing import Deferred, command_group

__all__ = ["register_address", "register_cert", "register_id", "register_ins", "register_whitelist"]

_FORMATS = ("postfix-tls", "postfix-access", "cafile")


def _check_command(
    groups: argparse._SubParsersAction[Any],
    json_flag: argparse.ArgumentParser,
    *,
    group: str,
    about: str,
    description: str,
    metavar: str,
    handler: str,
) -> argparse.ArgumentParser:
    """``mssante <group> check VALUE...``: a group with its ``check`` command, returned for extra flags."""
    commands = command_group(groups, group, about)
    command: argparse.ArgumentParser = commands.add_parser(
        "check",
        parents=[json_flag],
        help=f"validate {about}",
        description=f"{description} Use - to read one value per line from standard input.",
    )
    command.add_argument("values", nargs="+", metavar=metavar)
    command.set_defaults(handler=handler)
    return command


def register_ins(groups: argparse._SubParsersAction[Any], json_flag: argparse.ArgumentParser) -> None:
    """Add the ``ins`` command group."""
    authorities = ", ".join(INS_AUTHORITIES)
    ins = _check_command(
        groups, json_flag, group="ins", about="INS matricules (NIR/NIA)", metavar="INS",
        handler="mssante.cli._checks:run_ins_check",
        description="Validate INS matricules: 15 characters, key 97 - (body mod 97), Corsica 2A/2B.",
    )  # fmt: skip
    ins.add_argument(
        "--oid",
        metavar="AUTHORITY",
        default=None,
        type=Deferred("mssante.cli._checks:authority"),
        help=f"assigning authority: {authorities} or its OID; under test/demo a wrong key is a warning",
    )


def register_id(groups: argparse._SubParsersAction[Any], json_flag: argparse.ArgumentParser) -> None:
    """Add the ``id`` command group."""
    ids = _check_command(
        groups, json_flag, group="id", about="national identifiers (RPPS, ADELI, FINESS, SIRET, ...)",
        metavar="VALUE", handler="mssante.cli._checks:run_id_check",
        description="Validate RPPS, ADELI, IdNat_PS, FINESS, SIREN, SIRET and IdNat_Struct. "
        "Without --type the type is told from the shape.",
    )  # fmt: skip
    ids.add_argument("--type", choices=ID_TYPES, default=None, help="the identifier type")


def register_address(groups: argparse._SubParsersAction[Any], json_flag: argparse.ArgumentParser) -> None:
    """Add the ``address`` command group."""
    _check_command(
        groups, json_flag, group="address", about="MSSanté addresses", metavar="ADDRESS",
        handler="mssante.cli._address:run_address_check",
        description="Validate MSSanté addresses and tell patient (MSS-C) addresses apart.",
    )  # fmt: skip


def register_cert(groups: argparse._SubParsersAction[Any], json_flag: argparse.ArgumentParser) -> None:
    """Add the ``cert`` command group."""
    commands = command_group(groups, "cert", "IGC Santé certificates")
    inspect = commands.add_parser(
        "inspect", parents=[json_flag], help="describe a certificate",
        description="Describe a certificate (PEM, DER or PKCS#7): profile, holder, issuer, validity, revocation "
        "pointers. Nothing is verified: see cert verify.",
    )  # fmt: skip
    inspect.add_argument("file", metavar="FILE")
    inspect.set_defaults(handler="mssante.cli._cert:run_inspect")

    verify = commands.add_parser(
        "verify", parents=[json_flag], help="validate a certificate against IGC Santé",
        description="Validate a certificate for a purpose: chain to the IGC Santé anchors of one environment, "
        "time, host name, key usage, profile and revocation (hard by default: give --crl or --ocsp).",
    )  # fmt: skip
    verify.add_argument("file", metavar="FILE")
    verify.add_argument("--chain", action="append", default=[], metavar="F", help="intermediate certificates")
    verify.add_argument("--add-ca", action="append", default=[], metavar="F",
                        help="an IGC Santé CA certificate downloaded from ANS that mssante does not ship (the "
                        "TEST FORT ones), trusted once checked against the fingerprint or key identifier mssante "
                        "pins for it")  # fmt: skip
    verify.add_argument("--env", choices=PKI_ENVIRONMENTS, default="prod", help="IGC Santé environment")
    verify.add_argument("--trust-anchor", action="append", default=[], metavar="F",
                        help="trust these roots instead of the bundled IGC Santé ones")  # fmt: skip
    verify.add_argument("--purpose", choices=PURPOSES, default="server", help="what it is for")
    verify.add_argument("--host", metavar="NAME", help="the server host name (purpose server)")
    verify.add_argument("--at", metavar="TIME", help="check as of this ISO 8601 time (default: now)")
    verify.add_argument("--crl", action="append", default=[], metavar="F", help="a CRL (DER or PEM)")
    verify.add_argument("--ocsp", action="append", default=[], metavar="F", help="an OCSP response (DER)")
    verify.add_argument("--revocation", choices=REVOCATION_MODES, default="hard",
                        help="hard (default) refuses an unknown status; soft warns; off skips")  # fmt: skip
    verify.set_defaults(handler="mssante.cli._cert:run_verify")


def _hex64(text: str) -> str:
    if len(text) != 64 or any(char not in "0123456789abcdefABCDEF" for char in text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a SHA-256 (64 hexadecimal digits)")
    return text.lower()


def _source_options(command: argparse.ArgumentParser) -> None:
    command.add_argument("--file", metavar="F", help="read this allow-list file (default: the last fetched list)")
    command.add_argument("--cache-dir", metavar="D", help="the cache of whitelist fetch (default: the user's cache)")


def register_whitelist(groups: argparse._SubParsersAction[Any], json_flag: argparse.ArgumentParser) -> None:
    """Add the ``whitelist`` command group."""
    commands = command_group(groups, "whitelist", 'the ANS allow-list ("liste blanche")')
    show = commands.add_parser(
        "show", parents=[json_flag], help="read an allow-list and count what it holds",
        description="Read an allow-list (strictly: a truncated or malformed document is refused) and count its "
        "entries, domains and distinct operator certificate DNs.",
    )  # fmt: skip
    _source_options(show)
    show.set_defaults(handler="mssante.cli._whitelist:run_show")

    check = commands.add_parser(
        "check", parents=[json_flag], help="is this domain (and this operator certificate) allowed",
        description="Is DOMAIN on the allow-list? With --dn or --cert, is that subject one of the operator "
        "certificate DNs listed for it (compared by value)? Only the subject is compared: the certificate "
        "itself is not verified (see cert verify). Exit status 1 when not allowed.",
    )  # fmt: skip
    check.add_argument("domain", metavar="DOMAIN")
    subject = check.add_mutually_exclusive_group()
    subject.add_argument("--dn", metavar="DN", help="an operator certificate subject, e.g. CN=...,OU=...,O=...,C=FR")
    subject.add_argument("--cert", metavar="F", help="a certificate file whose subject DN is compared (not verified)")
    check.add_argument("--at", metavar="TIME", help="check as of this ISO 8601 time (default: now)")
    check.add_argument("--max-age", metavar="DAYS", type=Deferred("mssante.cli._whitelist:max_age"),
                       help="warn when the list is older than this")  # fmt: skip
    _source_options(check)
    check.set_defaults(handler="mssante.cli._whitelist:run_check")

    differ = commands.add_parser(
        "diff", parents=[json_flag], help="what changed between two lists",
        description="The domains added, removed, and whose operator certificates changed (DNs compared by "
        "value) from OLD to NEW. The findings are the warnings of reading either list.",
    )  # fmt: skip
    differ.add_argument("old", metavar="OLD")
    differ.add_argument("new", metavar="NEW")
    differ.set_defaults(handler="mssante.cli._whitelist:run_diff")

    export = commands.add_parser(
        "export", parents=[json_flag], help="Postfix tables and the IGC Santé CA file",
        description="Write a Postfix table made from the allow-list: postfix-tls (smtp_tls_policy_maps), "
        "postfix-access (check_sender_access); or cafile, the IGC Santé CA bundle (smtp_tls_CAfile, "
        "smtpd_tls_CAfile). Standard output without --out.",
    )  # fmt: skip
    export.add_argument("--format", choices=_FORMATS, required=True, help="what to write")
    export.add_argument("--out", metavar="PATH", help="write here (replaced atomically) instead of standard output")
    export.add_argument("--env", choices=PKI_ENVIRONMENTS, default="prod",
                        help="the IGC Santé hierarchy of cafile (default prod)")  # fmt: skip
    export.add_argument("--no-null-sender", action="store_true", help="postfix-access: leave out the <> OK line")
    _source_options(export)
    export.set_defaults(handler="mssante.cli._whitelist:run_export")

    fetch = commands.add_parser(
        "fetch", parents=[json_flag], help="download the allow-list into the cache",
        description="Download the allow-list over https (the server must present an IGC Santé certificate) and "
        "keep it in the cache when it is a whole, valid list. When the download fails, the last good list "
        "stays in use (with warnings); exit status 2 when there is none.",
    )  # fmt: skip
    fetch.add_argument("--url", metavar="URL", help="where to download from (default: the ANS address)")
    fetch.add_argument("--cache-dir", metavar="D", help="the cache directory (default: the user's cache)")
    fetch.add_argument("--sha256", metavar="HEX", type=_hex64, help="refuse any document with another SHA-256")
    fetch.add_argument("--trust-anchor", action="append", default=[], metavar="F",
                       help="trust these CAs for the server instead of the bundled IGC Santé ones")  # fmt: skip
    fetch.set_defaults(handler="mssante.cli._whitelist_fetch:run_fetch")

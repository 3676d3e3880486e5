"""The command tree: each command of the top level by its name and help, added whole (its arguments, its own
commands, each naming its handler ``"module:function"``) only when the command line names it."""

from __future__ import annotations

import argparse

from mssante.cli._parsing import PROG, Parser, add_command, json_flag

__all__ = ["COMMANDS", "build_parser"]

_VALUES = "mssante.cli._args_values"
_DOCUMENTS = "mssante.cli._args_documents"
_NETWORK = "mssante.cli._args_network"

COMMANDS: tuple[tuple[str, str, str], ...] = (
    ("ins", "INS matricules (NIR/NIA)", f"{_VALUES}:register_ins"),
    ("id", "national identifiers (RPPS, ADELI, FINESS, SIRET, ...)", f"{_VALUES}:register_id"),
    ("address", "MSSanté addresses", f"{_VALUES}:register_address"),
    ("cert", "IGC Santé certificates", f"{_VALUES}:register_cert"),
    ("whitelist", 'the ANS allow-list ("liste blanche")', f"{_VALUES}:register_whitelist"),
    ("xdm", "IHE XDM packages (IHE_XDM.ZIP)", f"{_DOCUMENTS}:register_xdm"),
    ("message", "MSSanté messages", f"{_DOCUMENTS}:register_message"),
    ("mdn", "read receipts (MDN), delivery reports (DSN) and the volet's KO mail", f"{_DOCUMENTS}:register_mdn"),
    ("directory", "the national directory (Annuaire Santé)", f"{_NETWORK}:register_directory"),
    ("send", "submit a message over SMTP (STARTTLS required)", f"{_NETWORK}:register_send"),
    ("fetch", "read the new messages of a mailbox over IMAP", f"{_NETWORK}:register_fetch"),
    ("track", "delivery tracking: messages sent, DSNs and MDNs that come back", f"{_NETWORK}:register_track"),
    ("demo", "run a complete MSSanté exchange on this machine, offline", f"{_NETWORK}:register_demo"),
    ("probe", "conformance checks of a live server or of a message", "mssante.cli._probe:register_probe"),
    ("audit", "the audit trail: export for an auditor, purge past retention", "mssante.cli._audit:register_audit"),
    ("policy", "the inbound policy as a Postfix policy service", "mssante.cli._policy:register_policy"),
    ("autoconfig", "an address's mail servers from DNS SRV records", "mssante.cli._autoconfig:register_autoconfig"),
    ("psc", "Pro Santé Connect tokens (XOAUTH2)", "mssante.cli._psc:register_psc"),
)
"""Each command of the top level: its name, its help, and the function (``"module:function"``) that adds it whole."""


def build_parser() -> argparse.ArgumentParser:
    """The command tree (each command added whole when it is parsed: see :meth:`Parser.whole`)."""
    parser = Parser(
        prog=PROG,
        description="The MSSanté SDK from a shell: identifiers, addresses, certificates, the allow-list, XDM "
        "packages, messages, read receipts, the directory, transport and delivery tracking.",
        parents=[json_flag()],
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    groups = parser.add_subparsers(title="commands", metavar="COMMAND", parser_class=Parser)
    for name, about, register in COMMANDS:
        add_command(groups, name, about, register)
    return parser

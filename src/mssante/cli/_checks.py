"""``mssante ins check`` and ``mssante id check``: national identifiers."""

from __future__ import annotations

import argparse

from mssante import identifiers
from mssante.cli._contract import Outcome
from mssante.cli._verdicts import outcome, values
from mssante.errors import InvalidIdentifier
from mssante.identifiers import InsAuthority
from mssante.report import Report

__all__ = ["authority", "run_id_check", "run_ins_check"]


def run_ins_check(args: argparse.Namespace) -> Outcome:
    """``mssante ins check INS...``."""
    return outcome(_InsVerdict(identifiers.check_ins(value, args.oid)) for value in values(args.values))


class _InsVerdict:
    """An INS check as the command line shows it: ``kind`` instead of ``type``."""

    def __init__(self, check: identifiers.IdentifierCheck) -> None:
        self.check = check
        self.input: str = check.input
        self.report: Report = check.report
        self.ok: bool = check.ok

    def to_dict(self) -> dict[str, object]:
        ins = self.check.identifier
        kind = ins.kind if isinstance(ins, identifiers.Ins) else None
        return {
            "input": self.input,
            "valid": self.ok,
            "normalized": self.check.normalized,
            "kind": kind,
            "findings": [finding.to_dict() for finding in self.report],
        }


def run_id_check(args: argparse.Namespace) -> Outcome:
    """``mssante id check VALUE...``."""
    return outcome(identifiers.check(value, args.type) for value in values(args.values))


def authority(text: str) -> InsAuthority:
    """The value of ``--oid``: an INS authority by name or OID."""
    try:
        return InsAuthority.parse(text)
    except InvalidIdentifier as error:
        raise argparse.ArgumentTypeError(str(error)) from None

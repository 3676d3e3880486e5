"""``mssante address check``: MSSanté addresses."""

from __future__ import annotations

import argparse

from mssante import addresses
from mssante.cli._contract import Outcome
from mssante.cli._verdicts import outcome, values

__all__ = ["run_address_check"]


def run_address_check(args: argparse.Namespace) -> Outcome:
    """``mssante address check ADDRESS...``."""
    return outcome(addresses.check(value) for value in values(args.values))

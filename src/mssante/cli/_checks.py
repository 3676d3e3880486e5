"""``mssante ins check``, ``mssante id check`` and ``mssante address check``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol

from mssante import addresses, identifiers
from mssante.cli._app import EXIT_INVALID, EXIT_OK, Outcome, command_group
from mssante.errors import InvalidIdentifier
from mssante.identifiers import IdentifierType, InsAuthority
from mssante.report import Report, Severity

_ID_TYPES = [kind.value for kind in IdentifierType if kind is not IdentifierType.INS]
_MAX_STDIN_VALUES = 1_000_000


class _Verdict(Protocol):
    @property
    def input(self) -> str: ...
    @property
    def report(self) -> Report: ...
    @property
    def valid(self) -> bool: ...
    def to_dict(self) -> dict[str, object]: ...


def _values(given: list[str]) -> Iterator[str]:
    """The values of the command line, or one per line of standard input for ``-``."""
    if given != ["-"]:
        yield from given
        return
    for count, line in enumerate(sys.stdin):
        if count >= _MAX_STDIN_VALUES:
            raise OSError(f"more than {_MAX_STDIN_VALUES} values on standard input")
        if value := line.rstrip("\r\n"):
            yield value


def _outcome(verdicts: Iterable[_Verdict]) -> Outcome:
    results: list[dict[str, object]] = []
    findings: list[dict[str, str]] = []
    lines: list[str] = []
    for index, verdict in enumerate(verdicts):
        data = verdict.to_dict()
        results.append(data)
        findings += [finding.located(f"results[{index}]").to_dict() for finding in verdict.report]
        summary = " ".join(
            [str(data[key]) for key in ("type", "kind") if data.get(key)]
            + (["patient"] if data.get("patient") else [])
            + ([f"-> {data['normalized']}"] if data.get("normalized") not in (None, verdict.input) else [])
        )
        lines.append(f"{'ok' if verdict.valid else 'invalid':8} {verdict.input}  {summary}".rstrip())
        lines += [
            f"         {finding.code} {finding.severity.value}: {finding.message}"
            for finding in verdict.report
            if finding.severity is not Severity.INFO or verdict.valid
        ]
    ok = all(result["valid"] for result in results)
    payload = {"ok": ok, "findings": findings, "results": results}
    return payload, lines, EXIT_OK if ok else EXIT_INVALID


def _ins_check(args: argparse.Namespace) -> Outcome:
    return _outcome(_InsVerdict(identifiers.check_ins(value, args.oid)) for value in _values(args.values))


class _InsVerdict:
    """An INS check as the command line shows it: ``kind`` instead of ``type``."""

    def __init__(self, check: identifiers.IdentifierCheck) -> None:
        self.check = check
        self.input = check.input
        self.report = check.report
        self.valid = check.valid

    def to_dict(self) -> dict[str, object]:
        ins = self.check.identifier
        kind = ins.kind if isinstance(ins, identifiers.Ins) else None
        return {
            "input": self.input,
            "valid": self.valid,
            "normalized": self.check.normalized,
            "kind": kind,
            "findings": [finding.to_dict() for finding in self.report],
        }


def _id_check(args: argparse.Namespace) -> Outcome:
    return _outcome(identifiers.check(value, args.type) for value in _values(args.values))


def _address_check(args: argparse.Namespace) -> Outcome:
    return _outcome(addresses.check(value) for value in _values(args.values))


def _authority(text: str) -> InsAuthority:
    try:
        return InsAuthority.parse(text)
    except InvalidIdentifier as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _check_command(
    groups: argparse._SubParsersAction[Any],
    json_flag: argparse.ArgumentParser,
    *,
    group: str,
    about: str,
    description: str,
    metavar: str,
    handler: Callable[[argparse.Namespace], Outcome],
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


def register(groups: argparse._SubParsersAction[Any], json_flag: argparse.ArgumentParser) -> None:
    """Add the ``ins``, ``id`` and ``address`` command groups."""
    authorities = ", ".join(authority.name.lower() for authority in InsAuthority)
    ins = _check_command(
        groups, json_flag, group="ins", about="INS matricules (NIR/NIA)", metavar="INS", handler=_ins_check,
        description="Validate INS matricules: 15 characters, key 97 - (body mod 97), Corsica 2A/2B.",
    )  # fmt: skip
    ins.add_argument(
        "--oid",
        metavar="AUTHORITY",
        default=None,
        type=_authority,
        help=f"assigning authority: {authorities} or its OID; under test/demo a wrong key is a warning",
    )
    ids = _check_command(
        groups, json_flag, group="id", about="national identifiers (RPPS, ADELI, FINESS, SIRET, ...)",
        metavar="VALUE", handler=_id_check,
        description="Validate RPPS, ADELI, IdNat_PS, FINESS, SIREN, SIRET and IdNat_Struct. "
        "Without --type the type is told from the shape.",
    )  # fmt: skip
    ids.add_argument("--type", choices=_ID_TYPES, default=None, help="the identifier type")
    _check_command(
        groups, json_flag, group="address", about="MSSanté addresses", metavar="ADDRESS", handler=_address_check,
        description="Validate MSSanté addresses and tell patient (MSS-C) addresses apart.",
    )  # fmt: skip

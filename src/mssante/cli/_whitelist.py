"""``mssante whitelist show | check | diff | export``: the ANS allow-list ("liste blanche"), read from a file or
the cache (``whitelist fetch``, which downloads it, is :mod:`mssante.cli._whitelist_fetch`)."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path
from typing import Any

from mssante import pki
from mssante._files import FileTooLarge, atomic_write, read_regular
from mssante.cli._contract import EXIT_INVALID, EXIT_OK, Outcome, UsageError
from mssante.cli._inputs import iso_time, parse_time
from mssante.cli._trust import read_certificate_file
from mssante.errors import InvalidInput
from mssante.pki import TrustStore
from mssante.report import Finding, Report, Severity, finding_codes
from mssante.trustspace import (
    MAX_ALLOWLIST_BYTES,
    AllowList,
    AllowListCache,
    OperatorDn,
    diff,
    igc_sante_cafile,
    postfix_sender_access,
    postfix_tls_policy,
)
from mssante.trustspace.codes import TOO_LARGE

__all__ = [
    "cache_of",
    "finding_lines",
    "max_age",
    "run_check",
    "run_diff",
    "run_export",
    "run_show",
    "summary_lines",
    "summary_of",
]

_NO_LIST = "mssante: no allow-list: run mssante whitelist fetch or give --file"


def finding_lines(findings: list[Finding] | tuple[Finding, ...], *, info: bool = True) -> list[str]:
    """The findings, one a line under the answer; info findings left out (and counted) unless ``info``."""
    shown = [finding for finding in findings if info or finding.severity is not Severity.INFO]
    lines = [f"         {finding}" for finding in shown]
    if hidden := len(findings) - len(shown):
        lines.append(f"         and {hidden} info finding(s): see --json")
    return lines


def _refusal(path: str, error: InvalidInput) -> str:
    """One line for a file that is not a whole allow-list: the code, what it means, and the detail."""
    if not error.report.errors:
        return str(error)
    finding = error.report.errors[0]
    titles = {code.id: code.title for code in finding_codes()}
    meaning = titles.get(finding.code, "").partition(": ")[0]
    return f"{path}: {finding.code} {meaning}: {finding.message}" if meaning else f"{path}: {finding}"


def _load_file(path: str) -> AllowList:
    """The allow-list in ``path``; a one-line error (exit status 2) when it cannot be read or is not whole.

    Only a regular file is read (a FIFO or a device is refused before it is opened for reading).
    """
    try:
        return AllowList.parse(read_regular(path, limit=MAX_ALLOWLIST_BYTES), source=path)
    except FileTooLarge:
        finding = TOO_LARGE(f"{path} has more than {MAX_ALLOWLIST_BYTES} bytes")
        error = InvalidInput(finding.message, Report(findings=[finding], subject=path))
        raise InvalidInput(_refusal(path, error), error.report) from None
    except OSError as error:
        raise OSError(f"cannot read {path}: {error.strerror or error}") from None
    except InvalidInput as error:
        raise InvalidInput(_refusal(path, error), error.report) from None


def cache_of(args: argparse.Namespace) -> AllowListCache:
    """The allow-list cache of ``--cache-dir`` (default: the user's cache)."""
    return AllowListCache(Path(args.cache_dir) if args.cache_dir else None)


def _allowlist(args: argparse.Namespace) -> AllowList:
    """The list of ``--file``, or else the last good one of the cache."""
    if args.file:
        return _load_file(args.file)
    cached, report = cache_of(args).read()
    if cached is None:
        damaged = f" (the cache is unusable: {report.warnings[0].message})" if report.warnings else ""
        raise UsageError(_NO_LIST + damaged)
    return cached.allowlist


def summary_of(allow: AllowList) -> dict[str, Any]:
    """What an allow-list holds, as ``whitelist show`` and ``whitelist fetch`` tell it."""
    return {
        "generated": iso_time(allow.generated),
        "domains": len(allow.domains),
        "entries": len(allow),
        "certificates": len(allow.dns),
        "sha256": allow.sha256,
        "source": allow.source,
    }


def summary_lines(summary: dict[str, Any]) -> list[str]:
    """:func:`summary_of` for a person."""
    return [
        f"{key:13} {summary[key]}" for key in ("generated", "entries", "domains", "certificates", "sha256", "source")
    ]


def run_show(args: argparse.Namespace) -> Outcome:
    """``mssante whitelist show``."""
    allow = _allowlist(args)
    summary = summary_of(allow)
    payload = {**allow.report.to_dict(), **summary}
    return payload, summary_lines(summary) + finding_lines(allow.report.findings, info=False), EXIT_OK


def max_age(text: str) -> dt.timedelta:
    """The value of ``--max-age``: a number of days."""
    try:
        days = float(text)
    except ValueError:
        days = -1.0
    if not days > 0 or days > 36_500:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of days (more than 0)")
    return dt.timedelta(days=days)


def run_check(args: argparse.Namespace) -> Outcome:
    """``mssante whitelist check DOMAIN``."""
    allow = _allowlist(args)
    at = parse_time(args.at)
    if args.cert:
        subject = pki.load_certificate(read_certificate_file(args.cert), what=args.cert).subject
        decision = allow.check_operator(args.domain, subject, at=at, max_age=args.max_age)
    elif args.dn is not None:
        decision = allow.check_operator(args.domain, OperatorDn.parse(args.dn), at=at, max_age=args.max_age)
    else:
        decision = allow.check_domain(args.domain, at=at, max_age=args.max_age)
    payload = {**decision.to_dict(), "generated": iso_time(allow.generated)}
    lines = [f"{'allowed' if decision.ok else 'refused':8} {decision.domain}"]
    lines += [f"         dn: {dn}" for dn in payload["dns"]]
    lines += finding_lines(decision.report.findings)
    return payload, lines, EXIT_OK if decision.ok else EXIT_INVALID


def run_diff(args: argparse.Namespace) -> Outcome:
    """``mssante whitelist diff OLD NEW``."""
    old, new = _load_file(args.old), _load_file(args.new)
    difference = diff(old, new)
    findings = Report().extended(_noteworthy(old.report), where="old").extended(_noteworthy(new.report), where="new")
    payload = {**findings.to_dict(), **difference.to_dict()}
    lines = [f"old  {iso_time(old.generated)}  {old.sha256}", f"new  {iso_time(new.generated)}  {new.sha256}"]
    lines += [f"+ {domain}" for domain in difference.added]
    lines += [f"- {domain}" for domain in difference.removed]
    for domain in difference.changed:
        lines.append(f"~ {domain}")
        lines += [f"    + {dn}" for dn in difference.dns_added[domain]]
        lines += [f"    - {dn}" for dn in difference.dns_removed[domain]]
    counts = f"{len(difference.added)} added, {len(difference.removed)} removed, {len(difference.changed)} changed"
    lines.append("no change" if difference.empty else counts)
    lines += finding_lines(findings.findings)
    return payload, lines, EXIT_OK


def _noteworthy(report: Report) -> list[Finding]:
    return [finding for finding in report if finding.severity is not Severity.INFO]


def run_export(args: argparse.Namespace) -> Outcome:
    """``mssante whitelist export``."""
    payload: dict[str, Any] = {"ok": True, "findings": [], "format": args.format}
    if args.format == "cafile":
        text = igc_sante_cafile(TrustStore.bundled(args.env))
    else:
        allow = _allowlist(args)
        if args.format == "postfix-tls":
            text = postfix_tls_policy(allow)
        else:
            text = postfix_sender_access(allow, null_sender=not args.no_null_sender)
        payload.update(Report(findings=_noteworthy(allow.report)).to_dict())
        payload.update(generated=iso_time(allow.generated), sha256=allow.sha256)
    payload["lines"] = text.count("\n")
    if args.out is None:
        payload["path"] = None
        payload["content"] = text
        return payload, text.splitlines(), EXIT_OK
    path = Path(args.out)
    try:
        atomic_write(path, text.encode("utf-8"), mode=0o644)  # Postfix reads it unprivileged
    except OSError as error:
        raise OSError(f"cannot write {path}: {error.strerror or error}") from None
    payload["path"] = str(path)
    return payload, [f"wrote {path} ({args.format}, {payload['lines']} lines)"], EXIT_OK

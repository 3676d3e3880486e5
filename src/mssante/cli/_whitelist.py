"""``mssante whitelist show | check | diff | export | fetch``: the ANS allow-list ("liste blanche")."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path
from typing import Any

from mssante import pki
from mssante._files import FileTooLarge, atomic_write, read_regular
from mssante.cli._app import EXIT_INVALID, EXIT_OK, Outcome, UsageError, command_group
from mssante.cli._cert import parse_time, read_bounded
from mssante.cli._progress import download_progress
from mssante.errors import InvalidInput
from mssante.pki import Environment, TrustStore
from mssante.report import Finding, Report, Severity, finding_codes
from mssante.trustspace import AllowList, OperatorDn
from mssante.trustspace._codes import TOO_LARGE
from mssante.trustspace._diff import diff, iso_time
from mssante.trustspace._export import igc_sante_cafile, postfix_sender_access, postfix_tls_policy
from mssante.trustspace._fetch import AllowListCache, AllowListFetcher
from mssante.trustspace._parse import MAX_ALLOWLIST_BYTES

_FORMATS = ("postfix-tls", "postfix-access", "cafile")
_NO_LIST = "mssante: no allow-list: run mssante whitelist fetch or give --file"


def _finding_lines(findings: list[Finding] | tuple[Finding, ...], *, info: bool = True) -> list[str]:
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


def _cache(args: argparse.Namespace) -> AllowListCache:
    return AllowListCache(Path(args.cache_dir) if args.cache_dir else None)


def _allowlist(args: argparse.Namespace) -> AllowList:
    """The list of ``--file``, or else the last good one of the cache."""
    if args.file:
        return _load_file(args.file)
    cached, report = _cache(args).read()
    if cached is None:
        damaged = f" (the cache is unusable: {report.warnings[0].message})" if report.warnings else ""
        raise UsageError(_NO_LIST + damaged)
    return cached.allowlist


def _summary(allow: AllowList) -> dict[str, Any]:
    return {
        "generated": iso_time(allow.generated),
        "domains": len(allow.domains),
        "entries": len(allow),
        "certificates": len(allow.dns),
        "sha256": allow.sha256,
        "source": allow.source,
    }


def _summary_lines(summary: dict[str, Any]) -> list[str]:
    return [
        f"{key:13} {summary[key]}" for key in ("generated", "entries", "domains", "certificates", "sha256", "source")
    ]


def _show(args: argparse.Namespace) -> Outcome:
    allow = _allowlist(args)
    summary = _summary(allow)
    payload = {**allow.report.to_dict(), **summary}
    return payload, _summary_lines(summary) + _finding_lines(allow.report.findings, info=False), EXIT_OK


def _days(text: str) -> dt.timedelta:
    try:
        days = float(text)
    except ValueError:
        days = -1.0
    if not days > 0 or days > 36_500:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of days (more than 0)")
    return dt.timedelta(days=days)


def _hex64(text: str) -> str:
    if len(text) != 64 or any(char not in "0123456789abcdefABCDEF" for char in text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a SHA-256 (64 hexadecimal digits)")
    return text.lower()


def _check(args: argparse.Namespace) -> Outcome:
    allow = _allowlist(args)
    at = parse_time(args.at)
    if args.cert:
        subject = pki.load_certificate(read_bounded(args.cert), what=args.cert).subject
        decision = allow.check_operator(args.domain, subject, at=at, max_age=args.max_age)
    elif args.dn is not None:
        decision = allow.check_operator(args.domain, OperatorDn.parse(args.dn), at=at, max_age=args.max_age)
    else:
        decision = allow.check_domain(args.domain, at=at, max_age=args.max_age)
    payload = {**decision.to_dict(), "generated": iso_time(allow.generated)}
    lines = [f"{'allowed' if decision.ok else 'refused':8} {decision.domain}"]
    lines += [f"         dn: {dn}" for dn in payload["dns"]]
    lines += _finding_lines(decision.report.findings)
    return payload, lines, EXIT_OK if decision.ok else EXIT_INVALID


def _diff(args: argparse.Namespace) -> Outcome:
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
    lines += _finding_lines(findings.findings)
    return payload, lines, EXIT_OK


def _noteworthy(report: Report) -> list[Finding]:
    return [finding for finding in report if finding.severity is not Severity.INFO]


def _export(args: argparse.Namespace) -> Outcome:
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


def _fetch(args: argparse.Namespace) -> Outcome:
    options: dict[str, Any] = {"cache": _cache(args), "expected_sha256": args.sha256}
    if args.url:
        options["url"] = args.url
    if args.trust_anchor:
        certificates = [c for path in args.trust_anchor for c in pki.load_certificates(read_bounded(path), what=path)]
        options["store"] = TrustStore.from_certificates(certificates, environment=Environment.PROD)
    with (
        download_progress(args.streams[1], "allow-list") as progress,
        AllowListFetcher(**options, progress=progress) as fetcher,
    ):
        result = fetcher.fetch(at=dt.datetime.now(dt.timezone.utc))
    allow = result.allowlist
    payload = {
        **result.report.to_dict(),
        "url": result.url,
        "changed": result.changed,
        "from_cache": result.from_cache,
        "fetched_at": iso_time(result.fetched_at),
        "checked_at": iso_time(result.checked_at),
        "cache": str(options["cache"].directory),
        **_summary(allow),
    }
    how = "from cache" if result.from_cache else "changed" if result.changed else "unchanged"
    lines = [f"{how:13} {result.url}", *_summary_lines(_summary(allow)), *_finding_lines(result.report.findings)]
    return payload, lines, EXIT_OK if result.report.ok else EXIT_INVALID


def _source_options(command: argparse.ArgumentParser) -> None:
    command.add_argument("--file", metavar="F", help="read this allow-list file (default: the last fetched list)")
    command.add_argument("--cache-dir", metavar="D", help="the cache of whitelist fetch (default: the user's cache)")


def register(groups: argparse._SubParsersAction[Any], json_flag: argparse.ArgumentParser) -> None:
    """Add the ``whitelist`` command group."""
    commands = command_group(groups, "whitelist", 'the ANS allow-list ("liste blanche")')
    show = commands.add_parser(
        "show", parents=[json_flag], help="read an allow-list and count what it holds",
        description="Read an allow-list (strictly: a truncated or malformed document is refused) and count its "
        "entries, domains and distinct operator certificate DNs.",
    )  # fmt: skip
    _source_options(show)
    show.set_defaults(handler=_show)

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
    check.add_argument("--max-age", metavar="DAYS", type=_days, help="warn when the list is older than this")
    _source_options(check)
    check.set_defaults(handler=_check)

    differ = commands.add_parser(
        "diff", parents=[json_flag], help="what changed between two lists",
        description="The domains added, removed, and whose operator certificates changed (DNs compared by "
        "value) from OLD to NEW. The findings are the warnings of reading either list.",
    )  # fmt: skip
    differ.add_argument("old", metavar="OLD")
    differ.add_argument("new", metavar="NEW")
    differ.set_defaults(handler=_diff)

    export = commands.add_parser(
        "export", parents=[json_flag], help="Postfix tables and the IGC Santé CA file",
        description="Write a Postfix table made from the allow-list: postfix-tls (smtp_tls_policy_maps), "
        "postfix-access (check_sender_access); or cafile, the IGC Santé CA bundle (smtp_tls_CAfile, "
        "smtpd_tls_CAfile). Standard output without --out.",
    )  # fmt: skip
    export.add_argument("--format", choices=_FORMATS, required=True, help="what to write")
    export.add_argument("--out", metavar="PATH", help="write here (replaced atomically) instead of standard output")
    export.add_argument("--env", choices=[e.value for e in Environment], default="prod",
                        help="the IGC Santé hierarchy of cafile (default prod)")  # fmt: skip
    export.add_argument("--no-null-sender", action="store_true", help="postfix-access: leave out the <> OK line")
    _source_options(export)
    export.set_defaults(handler=_export)

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
    fetch.set_defaults(handler=_fetch)

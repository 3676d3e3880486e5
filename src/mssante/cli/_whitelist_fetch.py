"""``mssante whitelist fetch``: download the ANS allow-list into the cache (over HTTPS, trusting IGC Santé)."""

from __future__ import annotations

import argparse
import datetime as dt
from typing import Any

from mssante.cli._contract import EXIT_INVALID, EXIT_OK, Outcome
from mssante.cli._inputs import iso_time
from mssante.cli._progress import download_progress
from mssante.cli._trust import certificates_of
from mssante.cli._whitelist import cache_of, finding_lines, summary_lines, summary_of
from mssante.pki import Environment, TrustStore
from mssante.trustspace import AllowListFetcher

__all__ = ["run_fetch"]


def run_fetch(args: argparse.Namespace) -> Outcome:
    """``mssante whitelist fetch``."""
    options: dict[str, Any] = {"cache": cache_of(args), "expected_sha256": args.sha256}
    if args.url:
        options["url"] = args.url
    if args.trust_anchor:
        certificates = certificates_of(args.trust_anchor)
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
        **summary_of(allow),
    }
    how = "from cache" if result.from_cache else "changed" if result.changed else "unchanged"
    lines = [f"{how:13} {result.url}", *summary_lines(summary_of(allow)), *finding_lines(result.report.findings)]
    return payload, lines, EXIT_OK if result.report.ok else EXIT_INVALID

"""``mssante cert inspect`` and ``mssante cert verify``."""

from __future__ import annotations

import argparse
from typing import Any

from mssante import pki
from mssante.cli._contract import EXIT_INVALID, EXIT_OK, Outcome
from mssante.cli._inputs import parse_time, read_bounded
from mssante.cli._trust import certificates_of, read_certificate_file, trust_store
from mssante.pki import RevocationMode

__all__ = ["run_inspect", "run_verify"]


def _lines(data: dict[str, Any]) -> list[str]:
    return [f"         {f['code']} {f['severity']}: {f['message']}" + (f" ({f['where']})" if f["where"] else "")
            for f in data["findings"]]  # fmt: skip


def run_inspect(args: argparse.Namespace) -> Outcome:
    """``mssante cert inspect FILE``."""
    certificate = pki.load_certificate(read_certificate_file(args.file), what=args.file)
    description = pki.describe(certificate)
    data = description.to_dict()
    lines = [
        f"subject  {data['subject']}",
        f"issuer   {data['issuer']}",
        f"what     {description.kind}",
        f"holder   {description.holder}",
        f"valid    {data['not_before']} to {data['not_after']}",
        f"sha256   {data['sha256']}",
        *_lines(data),
    ]
    return data, lines, EXIT_OK if data["ok"] else EXIT_INVALID


def run_verify(args: argparse.Namespace) -> Outcome:
    """``mssante cert verify FILE``."""
    certificate = pki.load_certificate(read_certificate_file(args.file), what=args.file)
    store = trust_store(args)
    revocation: pki.RevocationChecker | RevocationMode = RevocationMode(args.revocation)
    if args.crl or args.ocsp:
        revocation = pki.RevocationChecker(
            crls=[read_bounded(path, limit=pki.DEFAULT_MAX_CRL_BYTES) for path in args.crl],
            ocsp_responses=[read_certificate_file(path) for path in args.ocsp],
            mode=RevocationMode(args.revocation),
        )
    result = pki.verify(
        certificate,
        purpose=args.purpose,
        store=store,
        at=parse_time(args.at),
        host=args.host,
        intermediates=certificates_of(args.chain),
        revocation=revocation,
    )
    data = result.to_dict()
    status = "ok" if result.ok else "refused"
    ca = pki.describe(certificate).ca
    lines = [f"{status:8} {args.file}  {f'{ca} CA' if ca else data['profile'] or ''}".rstrip()]
    lines += [f"         chain: {subject}" for subject in data["chain"]]
    lines += _lines(data)
    return data, lines, EXIT_OK if result.ok else EXIT_INVALID

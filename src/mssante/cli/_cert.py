"""``mssante cert inspect`` and ``mssante cert verify``."""

from __future__ import annotations

import argparse
import datetime as dt
from typing import Any

from mssante import pki
from mssante._files import FileTooLarge, read_regular
from mssante.cli._app import EXIT_INVALID, EXIT_OK, Outcome, UsageError, command_group
from mssante.errors import InvalidInput
from mssante.pki import Environment, Purpose, RevocationMode


def read_bounded(path: str, *, limit: int = pki.MAX_INPUT_BYTES) -> bytes:
    """The bytes of a file given on the command line, at most ``limit``.

    Refuses (exit status 2, one line) a missing file, anything but a regular file (a FIFO, a device, a
    directory: never opened for reading, so nothing blocks) and a file larger than ``limit``.
    """
    try:
        return read_regular(path, limit=limit)
    except FileTooLarge:
        raise InvalidInput(f"{path} is larger than {limit} bytes: it is not read") from None
    except OSError as error:
        raise OSError(f"cannot read {path}: {error.strerror or error}") from None


def parse_time(text: str | None) -> dt.datetime:
    """An ISO 8601 time (``2018-06-01T00:00:00Z``) as an aware UTC datetime; now when not given."""
    if text is None:
        return dt.datetime.now(dt.timezone.utc)
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise UsageError(f"mssante: --at {text!r} is not an ISO 8601 time such as 2018-06-01T00:00:00Z") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)


def certificates_of(paths: list[str]) -> list[Any]:
    return [certificate for path in paths for certificate in pki.load_certificates(read_bounded(path), what=path)]


def _lines(data: dict[str, Any]) -> list[str]:
    return [f"         {f['code']} {f['severity']}: {f['message']}" + (f" ({f['where']})" if f["where"] else "")
            for f in data["findings"]]  # fmt: skip


def _inspect(args: argparse.Namespace) -> Outcome:
    certificate = pki.load_certificate(read_bounded(args.file), what=args.file)
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


def trust_store(args: argparse.Namespace) -> pki.TrustStore:
    """The anchors of ``--trust-anchor``, or the bundled IGC Santé hierarchy of ``--env``; with ``--add-ca``.

    Anchors without a self-signed root are refused by :meth:`~mssante.pki.TrustStore.from_certificates`. The CA
    files of ``--add-ca`` are each checked against the pin mssante holds for them
    (:meth:`~mssante.pki.TrustStore.with_published_cas`): one that does not match is input that cannot be used.
    """
    environment = Environment(args.env)
    if not args.trust_anchor:
        store = pki.TrustStore.bundled(environment)
    else:
        store = pki.TrustStore.from_certificates(certificates_of(args.trust_anchor), environment=environment)
    added = getattr(args, "add_ca", [])
    return store.with_published_cas(certificates_of(added)) if added else store


def _verify(args: argparse.Namespace) -> Outcome:
    certificate = pki.load_certificate(read_bounded(args.file), what=args.file)
    store = trust_store(args)
    revocation: pki.RevocationChecker | RevocationMode = RevocationMode(args.revocation)
    if args.crl or args.ocsp:
        revocation = pki.RevocationChecker(
            crls=[read_bounded(path, limit=pki.DEFAULT_MAX_CRL_BYTES) for path in args.crl],
            ocsp_responses=[read_bounded(path) for path in args.ocsp],
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


def register(groups: argparse._SubParsersAction[Any], json_flag: argparse.ArgumentParser) -> None:
    """Add the ``cert`` command group."""
    commands = command_group(groups, "cert", "IGC Santé certificates")
    inspect = commands.add_parser(
        "inspect", parents=[json_flag], help="describe a certificate",
        description="Describe a certificate (PEM, DER or PKCS#7): profile, holder, issuer, validity, revocation "
        "pointers. Nothing is verified: see cert verify.",
    )  # fmt: skip
    inspect.add_argument("file", metavar="FILE")
    inspect.set_defaults(handler=_inspect)

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
    verify.add_argument("--env", choices=[e.value for e in Environment], default="prod", help="IGC Santé environment")
    verify.add_argument("--trust-anchor", action="append", default=[], metavar="F",
                        help="trust these roots instead of the bundled IGC Santé ones")  # fmt: skip
    verify.add_argument("--purpose", choices=[p.value for p in Purpose], default="server", help="what it is for")
    verify.add_argument("--host", metavar="NAME", help="the server host name (purpose server)")
    verify.add_argument("--at", metavar="TIME", help="check as of this ISO 8601 time (default: now)")
    verify.add_argument("--crl", action="append", default=[], metavar="F", help="a CRL (DER or PEM)")
    verify.add_argument("--ocsp", action="append", default=[], metavar="F", help="an OCSP response (DER)")
    verify.add_argument("--revocation", choices=[m.value for m in RevocationMode], default="hard",
                        help="hard (default) refuses an unknown status; soft warns; off skips")  # fmt: skip
    verify.set_defaults(handler=_verify)

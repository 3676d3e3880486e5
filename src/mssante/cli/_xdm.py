"""``mssante xdm inspect | validate | pack | replace | delete``: IHE XDM packages (IHE_XDM.ZIP)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from mssante._files import atomic_write
from mssante.cli._contract import EXIT_INVALID, EXIT_OK, Outcome, UsageError
from mssante.cli._inputs import parse_time, read_bounded
from mssante.errors import InvalidInput
from mssante.report import Finding, Report, Severity
from mssante.xdm import (
    MAX_CDA_BYTES,
    MAX_PACKAGE_BYTES,
    DocumentEntry,
    DocumentRef,
    Metadata,
    Package,
    uuid_urn,
    validate,
)
from mssante.xdm.codes import CI_SIS_REQUIRED, NO_XDM_DIRECTORY

__all__ = [
    "metadata_overrides",
    "package_summary",
    "run_delete",
    "run_inspect",
    "run_pack",
    "run_replace",
    "run_validate",
]

_MAX_JSON_BYTES = 1024 * 1024


def _read_package(path: str) -> Package:
    return Package.read(read_bounded(path, limit=MAX_PACKAGE_BYTES))


def _lines(findings: tuple[Finding, ...] | list[Finding], *, info: bool = False) -> list[str]:
    shown = [finding for finding in findings if info or finding.severity is not Severity.INFO]
    lines = [f"  {finding}" for finding in shown]
    if hidden := len(findings) - len(shown):
        lines.append(f"  and {hidden} info finding(s): see --json")
    return lines


def _document(entry: DocumentEntry, metadata: Metadata | None = None) -> dict[str, Any]:
    request = metadata.request_of(entry) if metadata is not None else "transmission"
    return {
        "uri": entry.uri,
        "mime_type": entry.mime_type,
        "size": entry.size,
        "hash": entry.hash,
        "patient_id": entry.patient_id,
        "type_code": entry.type_code.code if entry.type_code else None,
        "title": entry.title,
        "unique_id": entry.unique_id,
        "entry_uuid": entry.entry_uuid,
        "request": request,
        "replaces": list(metadata.replaced_ids(entry)) if metadata is not None else [],
    }


def package_summary(package: Package) -> list[dict[str, Any]]:
    """The submission sets of ``package`` as ``xdm inspect`` and ``message inspect`` show them."""
    return [
        {
            "path": f"IHE_XDM/{subset.directory}/",
            "documents": [
                _document(entry, subset.metadata) for entry in (subset.metadata.documents if subset.metadata else ())
            ],
            "files": sorted(subset.files),
        }
        for subset in package.subsets
    ]


def run_inspect(args: argparse.Namespace) -> Outcome:
    """``mssante xdm inspect``."""
    package = _read_package(args.zip)
    report = Report(findings=package.findings, subject=args.zip)
    if not package.subsets:
        report = report.extended([NO_XDM_DIRECTORY("no IHE_XDM/<subset>/ directory holds a file: not an XDM package")])
    sets = package_summary(package)
    payload = {**report.to_dict(), "submission_sets": sets, "junk": list(package.junk)}
    lines = []
    for subset in sets:
        lines.append(subset["path"])
        lines += [
            f"  {doc['uri']:14} {doc['mime_type']:20} {doc['size']:>9}  {doc['title']}" for doc in subset["documents"]
        ]
    lines += _lines(report.findings)
    return payload, lines, EXIT_OK if report.ok else EXIT_INVALID


def run_validate(args: argparse.Namespace) -> Outcome:
    """``mssante xdm validate``."""
    package = _read_package(args.zip)
    report = validate(package, ci_sis=not args.ihe_only, environment=args.env)
    payload = {**report.to_dict(), "submission_sets": package_summary(package)}
    errors, warnings = len(report.errors), len(report.warnings)
    lines = [f"{'valid' if report.ok else 'not valid':9} {args.zip} ({errors} error(s), {warnings} warning(s))"]
    lines += _lines(report.findings)
    return payload, lines, EXIT_OK if report.ok else EXIT_INVALID


def metadata_overrides(path: str | None) -> dict[str, Any]:
    """The JSON object of ``--metadata``: ``document`` and ``submission_set`` fields overriding the derived ones."""
    if path is None:
        return {}
    text = read_bounded(path, limit=_MAX_JSON_BYTES)
    try:
        value = json.loads(text)
    except (ValueError, UnicodeDecodeError) as error:
        raise InvalidInput(f"{path} is not JSON: {error}") from None
    if not isinstance(value, dict) or not set(value) <= {"document", "submission_set"}:
        raise InvalidInput(f'{path}: give an object with "document" and/or "submission_set" objects')
    return value


def run_pack(args: argparse.Namespace) -> Outcome:
    """``mssante xdm pack``."""
    overrides = metadata_overrides(args.metadata)
    documents = [read_bounded(path, limit=MAX_CDA_BYTES) for path in args.documents]
    package = Package.from_cda(
        documents,
        at=parse_time(args.at),
        source_id=args.source_id or "",
        recipients=args.to or (),
        document=overrides.get("document"),
        submission_set=overrides.get("submission_set"),
    )
    return _written(args, package)


def run_replace(args: argparse.Namespace) -> Outcome:
    """``mssante xdm replace``."""
    overrides = metadata_overrides(args.metadata)
    replaces: DocumentRef | None = None
    if args.replaces:
        replaces = DocumentRef(unique_id=args.replaces, **({"entry_uuid": args.entry_uuid} if args.entry_uuid else {}))
    elif args.entry_uuid:
        raise UsageError("mssante: --entry-uuid goes with --replaces (the replaced document's uniqueId)")
    package = Package.replacement(
        read_bounded(args.document, limit=MAX_CDA_BYTES),
        at=parse_time(args.at),
        replaces=replaces,
        source_id=args.source_id or "",
        recipients=args.to or (),
        document=overrides.get("document"),
        submission_set=overrides.get("submission_set"),
    )
    return _written(args, package)


def run_delete(args: argparse.Namespace) -> Outcome:
    """``mssante xdm delete``."""
    overrides = metadata_overrides(args.metadata)
    document = dict(overrides.get("document") or {})
    if args.entry_uuid:
        document["entry_uuid"] = uuid_urn(args.entry_uuid)
        if not document["entry_uuid"]:
            raise InvalidInput(f"--entry-uuid {args.entry_uuid!r} is not a UUID (urn:uuid: and 36 characters)")
    package = Package.deletion(
        read_bounded(args.document, limit=MAX_CDA_BYTES),
        at=parse_time(args.at),
        source_id=args.source_id or "",
        recipients=args.to or (),
        document=document,
        submission_set=overrides.get("submission_set"),
    )
    return _written(args, package)


def _written(args: argparse.Namespace, package: Package) -> Outcome:
    """The package validated, and written when valid."""
    data = package.to_zip()
    report = validate(package, ci_sis=True, environment=args.env)
    path = Path(args.out)
    if report.ok:
        try:
            atomic_write(path, data, mode=0o644)
        except OSError as error:
            raise OSError(f"cannot write {path}: {error.strerror or error}") from None
    payload = {
        **report.to_dict(),
        "path": str(path) if report.ok else None,
        "size": len(data),
        "documents": package_summary(package)[0]["documents"],
    }
    lines = [f"wrote {path} ({len(data)} bytes)" if report.ok else f"not written: {path}"]
    lines += _lines(report.findings)
    if hint := _missing_hint(report):
        payload["hint"] = hint
        lines.append(hint)
    return payload, lines, EXIT_OK if report.ok else EXIT_INVALID


_FIELDS = {  # XDS attribute -> (part of --metadata, field)
    "contentTypeCode": ("submission_set", "content_type_code"),
    "classCode": ("document", "class_code"),
    "typeCode": ("document", "type_code"),
    "formatCode": ("document", "format_code"),
    "healthcareFacilityTypeCode": ("document", "healthcare_facility_type_code"),
    "practiceSettingCode": ("document", "practice_setting_code"),
}


def _missing_hint(report: Report) -> str:
    """What to put in --metadata for the coded attributes the CI-SIS requires and the CDA did not give."""
    wanted: dict[str, dict[str, Any]] = {}
    for finding in report.findings:
        if finding.code != CI_SIS_REQUIRED.id:
            continue
        for attribute, (part, field) in _FIELDS.items():
            if f"no {attribute}:" in finding.message:
                wanted.setdefault(part, {})[field] = {"code": "<code>", "scheme": "<code system OID>"}
    if not wanted:
        return ""
    return (
        f"give what the CDA does not say with --metadata FILE, FILE holding {json.dumps(wanted)} "
        "(the value sets are named in the findings above)"
    )

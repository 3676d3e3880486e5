"""``mssante xdm inspect | validate | pack``: IHE XDM packages (IHE_XDM.ZIP)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from mssante._files import atomic_write
from mssante.cli._app import EXIT_INVALID, EXIT_OK, Outcome, command_group
from mssante.cli._cert import parse_time, read_bounded
from mssante.errors import InvalidInput
from mssante.report import Finding, Report, Severity
from mssante.xdm import ENVIRONMENTS, MAX_PACKAGE_BYTES, DocumentEntry, Package, validate
from mssante.xdm._cda import MAX_CDA_BYTES
from mssante.xdm._codes import CI_SIS_REQUIRED, NO_XDM_DIRECTORY

_MAX_JSON_BYTES = 1024 * 1024


def _read_package(path: str) -> Package:
    return Package.read(read_bounded(path, limit=MAX_PACKAGE_BYTES))


def _lines(findings: tuple[Finding, ...] | list[Finding], *, info: bool = False) -> list[str]:
    shown = [finding for finding in findings if info or finding.severity is not Severity.INFO]
    lines = [f"  {finding}" for finding in shown]
    if hidden := len(findings) - len(shown):
        lines.append(f"  and {hidden} info finding(s): see --json")
    return lines


def _document(entry: DocumentEntry) -> dict[str, Any]:
    return {
        "uri": entry.uri,
        "mime_type": entry.mime_type,
        "size": entry.size,
        "hash": entry.hash,
        "patient_id": entry.patient_id,
        "type_code": entry.type_code.code if entry.type_code else None,
        "title": entry.title,
        "unique_id": entry.unique_id,
    }


def package_summary(package: Package) -> list[dict[str, Any]]:
    return [
        {
            "path": f"IHE_XDM/{subset.directory}/",
            "documents": [_document(entry) for entry in (subset.metadata.documents if subset.metadata else ())],
            "files": sorted(subset.files),
        }
        for subset in package.subsets
    ]


def _inspect(args: argparse.Namespace) -> Outcome:
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


def _validate(args: argparse.Namespace) -> Outcome:
    package = _read_package(args.zip)
    report = validate(package, ci_sis=not args.ihe_only, environment=args.env)
    payload = {**report.to_dict(), "submission_sets": package_summary(package)}
    errors, warnings = len(report.errors), len(report.warnings)
    lines = [f"{'valid' if report.ok else 'not valid':9} {args.zip} ({errors} error(s), {warnings} warning(s))"]
    lines += _lines(report.findings)
    return payload, lines, EXIT_OK if report.ok else EXIT_INVALID


def _overrides(path: str | None) -> dict[str, Any]:
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


def _pack(args: argparse.Namespace) -> Outcome:
    overrides = _overrides(args.metadata)
    documents = [read_bounded(path, limit=MAX_CDA_BYTES) for path in args.documents]
    package = Package.from_cda(
        documents,
        at=parse_time(args.at),
        source_id=args.source_id or "",
        recipients=args.to or (),
        document=overrides.get("document"),
        submission_set=overrides.get("submission_set"),
    )
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


def register(groups: argparse._SubParsersAction[Any], json_flag: argparse.ArgumentParser) -> None:
    """Add the ``xdm`` command group."""
    commands = command_group(groups, "xdm", "IHE XDM packages (IHE_XDM.ZIP)")
    inspect = commands.add_parser(
        "inspect", parents=[json_flag], help="read an XDM package (tolerant) and list what it holds",
        description="Read an IHE_XDM.ZIP as real systems write it (any case, wrapper folder, any subset name, "
        "__MACOSX junk) and list its submission sets and documents. The findings say what was tolerated. "
        "An archive that is not a safe ZIP (bomb, traversal, symlink, encryption) is refused: exit status 2.",
    )  # fmt: skip
    inspect.add_argument("zip", metavar="ZIP")
    inspect.set_defaults(handler=_inspect)

    judge = commands.add_parser(
        "validate", parents=[json_flag], help="judge an XDM package (IHE XDM + CI-SIS rules)",
        description="Judge an IHE_XDM.ZIP: README.TXT, INDEX.HTM, METADATA.XML; each document's hash, size "
        "and URI against its file; required attributes; then the CI-SIS rules (one patient with a valid INS, "
        "codes in the CI-SIS value sets). Exit status 1 when an error is found.",
    )  # fmt: skip
    judge.add_argument("zip", metavar="ZIP")
    judge.add_argument("--ihe-only", action="store_true", help="apply the IHE XDM rules only, not the CI-SIS ones")
    judge.add_argument("--env", choices=ENVIRONMENTS, default="prod",
                       help="prod (default), or test: a TEST or DEMO INS is expected there (MSS-XDM-044 is "
                       "information)")  # fmt: skip
    judge.set_defaults(handler=_validate)

    pack = commands.add_parser(
        "pack", parents=[json_flag], help="build an IHE_XDM.ZIP from CDA documents",
        description="Build an IHE_XDM.ZIP from CDA R2 documents: the metadata is derived from each CDA header "
        "(patient INS and traits, author, type, class by ASS_X04, format by ASS_A11, confidentiality, title, "
        'dates...). --metadata gives a JSON object {"document": {...}, "submission_set": {...}} whose fields '
        "override the derived ones; the submission set's contentTypeCode (JDV_J03) is in no CDA header: give it "
        'there, as {"submission_set": {"content_type_code": {"code": ..., "scheme": ...}}}. A patient id under '
        "an INS authority that fails its check is kept as read, and the package is then not valid. The package "
        "is validated (CI-SIS rules, for --env) and written only when valid (exit status 1 otherwise).",
    )  # fmt: skip
    pack.add_argument("documents", metavar="DOCUMENT", nargs="+", help="a CDA R2 document (XML)")
    pack.add_argument("--out", metavar="ZIP", required=True, help="where to write the package")
    pack.add_argument("--metadata", metavar="JSON", help="a JSON file of metadata fields overriding the derived ones")
    pack.add_argument("--to", metavar="ADDRESS", action="append", help="an intended recipient's MSSanté address")
    pack.add_argument("--source-id", metavar="OID", help="the sending system's OID (default: the CDA id root)")
    pack.add_argument("--at", metavar="TIME", help="the submission time, ISO 8601 (default: now)")
    pack.add_argument("--env", choices=ENVIRONMENTS, default="prod",
                      help="prod (default), or test: the package is validated for that environment (a TEST or DEMO "
                      "INS is expected in test)")  # fmt: skip
    pack.set_defaults(handler=_pack)

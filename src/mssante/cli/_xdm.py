"""``mssante xdm inspect | validate | pack | replace | delete``: IHE XDM packages (IHE_XDM.ZIP)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from mssante._files import atomic_write
from mssante.cli._app import EXIT_INVALID, EXIT_OK, Outcome, UsageError, command_group
from mssante.cli._cert import parse_time, read_bounded
from mssante.errors import InvalidInput
from mssante.report import Finding, Report, Severity
from mssante.xdm import ENVIRONMENTS, MAX_PACKAGE_BYTES, DocumentEntry, DocumentRef, Metadata, Package, validate
from mssante.xdm._cda import MAX_CDA_BYTES
from mssante.xdm._codes import CI_SIS_REQUIRED, NO_XDM_DIRECTORY
from mssante.xdm._model import uuid_urn

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
    return _written(args, package)


def _replace(args: argparse.Namespace) -> Outcome:
    overrides = _overrides(args.metadata)
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


def _delete(args: argparse.Namespace) -> Outcome:
    overrides = _overrides(args.metadata)
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
    _packing_options(pack)
    pack.set_defaults(handler=_pack)

    replace = commands.add_parser(
        "replace", parents=[json_flag], help="build the package that replaces a document sent earlier",
        description="Build the IHE_XDM.ZIP that replaces a document sent earlier ('annule et remplace'): the new "
        "version DOCUMENT, its metadata derived as for pack, and an RPLC association "
        "(urn:ihe:iti:2007:AssociationType:RPLC) to the replaced document's entryUUID. --replaces gives the "
        "replaced document's uniqueId (default: the one the CDA's relatedDocument typeCode=RPLC names); "
        "--entry-uuid its entryUUID when the earlier package was not built by this SDK (its METADATA.XML gives "
        "it; this SDK derives it from the uniqueId otherwise). The receiver answers 900 or 901 when it cannot "
        "replace it. Written only when valid (exit status 1 otherwise).",
    )  # fmt: skip
    replace.add_argument("document", metavar="DOCUMENT", help="the new version, a CDA R2 document (XML)")
    replace.add_argument("--replaces", metavar="UNIQUE_ID", help="the replaced document's uniqueId (its CDA id)")
    replace.add_argument("--entry-uuid", metavar="UUID", help="the replaced document's entryUUID, as it was sent")
    _packing_options(replace)
    replace.set_defaults(handler=_replace)

    delete = commands.add_parser(
        "delete", parents=[json_flag], help="build the package that asks to delete a document sent earlier",
        description="Build the IHE_XDM.ZIP that asks the receiver to delete a document sent earlier "
        "('suppression'): its latest version DOCUMENT, with the identifiers it was sent with (the CDA's id; "
        "--entry-uuid when the earlier package was not built by this SDK) and the availabilityStatus Deprecated. "
        "The volet describes the request, not how the mail carries it: this form is this SDK's reading. The "
        "receiver answers 900 or 901 when it cannot delete it. Written only when valid (exit status 1 otherwise).",
    )  # fmt: skip
    delete.add_argument("document", metavar="DOCUMENT", help="the latest version sent, a CDA R2 document (XML)")
    delete.add_argument("--entry-uuid", metavar="UUID", help="the document's entryUUID, as it was sent")
    _packing_options(delete)
    delete.set_defaults(handler=_delete)


def _packing_options(command: argparse.ArgumentParser) -> None:
    command.add_argument("--out", metavar="ZIP", required=True, help="where to write the package")
    command.add_argument("--metadata", metavar="JSON",
                         help="a JSON file of metadata fields overriding the derived ones")  # fmt: skip
    command.add_argument("--to", metavar="ADDRESS", action="append", help="an intended recipient's MSSanté address")
    command.add_argument("--source-id", metavar="OID", help="the sending system's OID (default: the CDA id root)")
    command.add_argument("--at", metavar="TIME", help="the submission time, ISO 8601 (default: now)")
    command.add_argument("--env", choices=ENVIRONMENTS, default="prod",
                         help="prod (default), or test: the package is validated for that environment (a TEST or "
                         "DEMO INS is expected in test)")  # fmt: skip

"""Judging an XDM package: the IHE XDM rules (as the NIST validator applies them), then the CI-SIS ones."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator

from mssante.errors import InvalidInput
from mssante.identifiers import InsAuthority
from mssante.report import Finding, Report, Severity
from mssante.xdm import codes as _codes
from mssante.xdm._budget import Budget
from mssante.xdm._fromcda import class_code_of
from mssante.xdm._hl7 import BAD_INS as _HL7_BAD_INS_CODE
from mssante.xdm._hl7 import Cx, IntendedRecipient, Xcn, Xon, Xtn
from mssante.xdm._model import (
    APPROVED,
    DEPRECATED,
    HAS_MEMBER,
    ON_DEMAND,
    RPLC,
    STABLE,
    Author,
    Coding,
    DocumentEntry,
    Metadata,
    is_uuid_urn,
    parse_dtm,
)
from mssante.xdm._package import Package, Subset
from mssante.xdm._safezip import ZipLimits
from mssante.xdm._valuesets import value_set

__all__ = ["ENVIRONMENTS", "validate"]

ENVIRONMENTS = ("prod", "test")
"""The environments a package or a message is judged for: production, or the TEST trust space (IGC Santé, INS)."""

_HL7_BAD_INS = _HL7_BAD_INS_CODE.id
_OID = re.compile(r"[0-2](?:\.(?:0|[1-9][0-9]*))+", re.ASCII)
_INS_OIDS = frozenset(authority.value for authority in InsAuthority)
_DOCUMENT_TIMES = ("creation_time", "service_start_time", "service_stop_time")
_VALUE_SETS = {  # DocumentEntry field -> CI-SIS value set
    "class_code": "J06",
    "type_code": "J07",
    "healthcare_facility_type_code": "J02",
    "practice_setting_code": "J04",
}
_GIVE = {  # XDS attribute -> what to give when it is missing
    "classCode": "a code of JDV_J06-XdsClassCode-CISIS (the NOS table ASS_X04 maps each typeCode of JDV_J07 to one)",
    "typeCode": "a code of JDV_J07-XdsTypeCode-CISIS",
    "formatCode": "a code of JDV_J10-XdsFormatCode-CISIS (the NOS table ASS_A11 maps each CDA template to one)",
    "healthcareFacilityTypeCode": "a code of JDV_J02-XdsHealthcareFacilityTypeCode-CISIS",
    "practiceSettingCode": "a code of JDV_J04-XdsPracticeSettingCode-CISIS",
    "confidentialityCode": "a code of JDV_J08-XdsConfidentialityCode-CISIS",
    "contentTypeCode": (
        "a code of JDV_J03-XdsContentTypeCode-CISIS (OID 1.2.250.1.213.1.1.5.464: an activity type of TRE_R209 "
        "1.2.250.1.213.2.2, an activity sector of TRE_R02 1.2.250.1.71.4.2.4, or EXP_PATIENT of TRE_A00 "
        "1.2.250.1.213.1.1.4.6); no CDA header element gives it: the sender says it"
    ),
    "patientId": "the patient's INS as a CX: <matricule>^^^&<INS authority OID>&ISO^NH",
    "sourcePatientId": "the local patient id (IPP) as a CX, or the INS when there is none",
}
_CI_SIS_DOCUMENT = (
    "class_code", "type_code", "format_code", "healthcare_facility_type_code", "practice_setting_code",
    "creation_time", "language_code", "patient_id", "source_patient_id", "authors", "confidentiality_codes",
)  # fmt: skip
_ATTRIBUTE_NAMES = {  # field -> XDS attribute, for messages
    "class_code": "classCode", "type_code": "typeCode", "format_code": "formatCode",
    "healthcare_facility_type_code": "healthcareFacilityTypeCode", "practice_setting_code": "practiceSettingCode",
    "creation_time": "creationTime", "language_code": "languageCode", "patient_id": "patientId",
    "source_patient_id": "sourcePatientId", "authors": "author", "confidentiality_codes": "confidentialityCode",
    "service_start_time": "serviceStartTime", "service_stop_time": "serviceStopTime",
}  # fmt: skip


def _structure(package: Package) -> Iterator[Finding]:
    if not package.readme:
        yield _codes.NO_README("README.TXT is required at the root of the package", where="README.TXT")
    if not package.index:
        yield _codes.NO_INDEX("INDEX.HTM is required at the root of the package", where="INDEX.HTM")
    if not package.subsets:
        yield _codes.NO_XDM_DIRECTORY("no IHE_XDM/<subset>/ directory holds a file", where="IHE_XDM/")
    elif not any(subset.metadata is not None for subset in package.subsets):
        yield _codes.NO_SUBSET("no subset has a readable METADATA.XML", where="IHE_XDM/")
    if len(package.subsets) > 1:
        yield _codes.SEVERAL_SUBSETS(f"{len(package.subsets)} submission sets", where="IHE_XDM/")


def _entry(subset: Subset, entry: DocumentEntry, where: str) -> Iterator[Finding]:
    for value, name in ((entry.entry_uuid, "entryUUID (id)"), (entry.unique_id, "uniqueId"),
                        (entry.mime_type, "mimeType")):  # fmt: skip
        if not value:
            yield _codes.MISSING_ATTRIBUTE(f"the document entry has no {name}", where=where)
    if entry.object_type not in (STABLE, ON_DEMAND):
        yield _codes.BAD_OBJECT_TYPE(f"objectType is {entry.object_type!r}", where=where)
    for field in _DOCUMENT_TIMES:
        value = getattr(entry, field)
        if value and parse_dtm(value) is None:
            yield _codes.BAD_TIME(f"{_ATTRIBUTE_NAMES[field]} is {value!r}", where=where)
    if not entry.hash:
        yield _codes.NO_HASH("hash attribute not found", where=where)
    if not entry.size:
        yield _codes.NO_SIZE("size attribute not found", where=where)
    if not entry.uri:
        yield _codes.NO_URI("URI attribute not found", where=where)
        return
    try:
        content = subset.content(entry)
    except InvalidInput as error:  # damaged, or past the budget the package was read with
        yield from (finding.located(where) for finding in error.report.findings)
        return
    if content is None:
        yield _codes.MISSING_FILE(f"URI attribute is {entry.uri!r} but the file does not exist", where=where)
        return
    if entry.size and entry.size.strip() != str(len(content)):
        yield _codes.SIZE_MISMATCH(f"size is {entry.size!r}; the file has {len(content)} bytes", where=where)
    if entry.hash:
        actual = hashlib.sha1(content).hexdigest()  # noqa: S324 (the XDS hash is SHA-1)
        if entry.hash.strip().lower() != actual:
            yield _codes.HASH_MISMATCH(f"hash is {entry.hash!r}; the file's SHA-1 is {actual}", where=where)
        elif entry.hash.strip() != actual:
            yield _codes.UPPER_CASE_HASH(f"hash {entry.hash!r}", where=where)


def _metadata(subset: Subset, metadata: Metadata, where: str) -> Iterator[Finding]:
    submission = metadata.submission_set
    set_where = f"{where}: SubmissionSet"
    required = (
        (submission.entry_uuid, "entryUUID (id)"), (submission.unique_id, "uniqueId"),
        (submission.source_id, "sourceId"), (submission.submission_time, "submissionTime"),
    )  # fmt: skip
    for value, name in required:
        if not value:
            yield _codes.MISSING_ATTRIBUTE(f"the submission set has no {name}", where=set_where)
    if submission.submission_time and parse_dtm(submission.submission_time) is None:
        yield _codes.BAD_TIME(f"submissionTime is {submission.submission_time!r}", where=set_where)
    members = {
        association.target: association
        for association in metadata.associations
        if association.type == HAS_MEMBER and association.source == submission.entry_uuid
    }
    for index, entry in enumerate(metadata.documents):
        entry_where = f"{where}: DocumentEntry[{index}]"
        yield from _entry(subset, entry, entry_where)
        association = members.get(entry.entry_uuid)
        if association is None:
            yield _codes.NO_ASSOCIATION(f"no HasMember association targets {entry.entry_uuid!r}", where=entry_where)
        elif association.status != "Original":
            message = f"SubmissionSetStatus is {association.status!r}, not 'Original'"
            yield _codes.BAD_SUBMISSION_STATUS(message, where=entry_where)
    referenced = {entry.uri.casefold() for entry in metadata.documents}
    for name in subset.files:
        if name.casefold() not in referenced:
            yield _codes.UNREFERENCED_FILE(f"{name!r} is named by no document entry", where=f"{where}: {name}")
    yield from _requests(metadata, where)


def _requests(metadata: Metadata, where: str) -> Iterator[Finding]:
    """Replacements (RPLC associations) and deletions (Deprecated entries): well formed, and said."""
    index_of = {entry.entry_uuid: index for index, entry in enumerate(metadata.documents)}
    for number, association in enumerate(metadata.associations):
        if association.type != RPLC:
            continue
        at = f"{where}: Association[{number}]"
        source, target = association.source, association.target
        if source not in index_of:
            yield _codes.RPLC_SOURCE(f"sourceObject {source!r} is no document entry of the package", where=at)
        if not is_uuid_urn(target):
            yield _codes.RPLC_TARGET(f"targetObject {target!r} is not urn:uuid: and a UUID", where=at)
        elif target in index_of or target == source:
            yield _codes.RPLC_WITHIN(f"targetObject {target!r} is a document entry of this package", where=at)
        elif source in index_of:
            message = f"DocumentEntry[{index_of[source]}] replaces the document sent earlier as {target}"
            yield _codes.REPLACEMENT(message, where=f"{where}: DocumentEntry[{index_of[source]}]")
    for index, entry in enumerate(metadata.documents):
        at = f"{where}: DocumentEntry[{index}]"
        if entry.availability_status == DEPRECATED:
            yield _codes.DELETION(f"the package asks to delete the document {entry.unique_id!r}", where=at)
        elif entry.availability_status not in ("", APPROVED):
            yield _codes.BAD_AVAILABILITY(f"availabilityStatus is {entry.availability_status!r}", where=at)


def _oid(value: str, *, extension: bool = False) -> bool:
    root, _, rest = value.partition("^") if extension else (value, "", "")
    return bool(_OID.fullmatch(root)) and len(root) <= 64 and len(rest) <= 64


def _refusals(parse: Callable[[str], object], value: str) -> tuple[Finding, ...]:
    """What ``parse`` finds wrong with ``value``: nothing when it parses."""
    try:
        parse(value)
    except InvalidInput as error:
        return tuple(error.report.findings)
    return ()


def _encodings(metadata: Metadata, where: str) -> Iterator[Finding]:
    """Identifiers are OIDs, and HL7 v2 values parse as their datatype."""
    submission = metadata.submission_set
    set_where = f"{where}: SubmissionSet"
    for value, name in ((submission.unique_id, "uniqueId"), (submission.source_id, "sourceId")):
        if value and not _oid(value):
            yield _codes.BAD_VALUE(f"{name} {value!r} is not an OID", where=f"{set_where}.{name}")
    values: list[tuple[Callable[[str], object], str, str]] = [
        (IntendedRecipient.parse, value, f"{set_where}.intendedRecipient") for value in submission.intended_recipients
    ]
    values += _author_values(submission.authors, f"{set_where}.author")
    for index, entry in enumerate(metadata.documents):
        entry_where = f"{where}: DocumentEntry[{index}]"
        if entry.unique_id and not _oid(entry.unique_id, extension=True):
            message = f"uniqueId {entry.unique_id!r} is not an OID (or OID^extension)"
            yield _codes.BAD_VALUE(message, where=f"{entry_where}.uniqueId")
        values += [(Cx.parse, entry.source_patient_id, f"{entry_where}.sourcePatientId")]
        values += [(Xcn.parse, entry.legal_authenticator, f"{entry_where}.legalAuthenticator")]
        values += _author_values(entry.authors, f"{entry_where}.author")
    said: dict[tuple[Callable[[str], object], str], tuple[Finding, ...]] = {}  # a value repeated is parsed once
    for parse, value, value_where in values:
        if value:
            if (parse, value) not in said:
                said[parse, value] = _refusals(parse, value)
            yield from (finding.located(value_where) for finding in said[parse, value])


def _author_values(authors: tuple[Author, ...], where: str) -> list[tuple[Callable[[str], object], str, str]]:
    values: list[tuple[Callable[[str], object], str, str]] = []
    for index, author in enumerate(authors):
        at = f"{where}[{index}]"
        values.append((Xcn.parse, author.person, f"{at}.authorPerson"))
        values += [(Xon.parse, value, f"{at}.authorInstitution") for value in author.institutions]
        values += [(Xtn.parse, value, f"{at}.authorTelecommunication") for value in author.telecommunications]
    return values


def _patient(text: str, where: str, environment: str) -> tuple[tuple[str, str], list[Finding]]:
    """The (identifier, authority) of a CX patient id, and the CI-SIS findings on it."""
    identifier, _, rest = text.partition("^")
    key = (identifier, rest.split("&")[1] if rest.count("&") >= 2 else rest)
    try:
        cx = Cx.parse(text)
    except InvalidInput as error:
        if any(finding.code == _HL7_BAD_INS for finding in error.report.findings):
            return key, [_codes.BAD_INS(f"{text!r} is not a valid INS matricule under its INS authority", where=where)]
        return key, [finding.located(where) for finding in error.report.findings]
    authority = cx.authority.oid if cx.authority is not None else None
    key = (cx.id, authority or "")
    if authority not in _INS_OIDS:
        return key, [_codes.NOT_INS(f"{text!r} is not under an INS authority OID", where=where)]
    ins = cx.ins
    if ins is not None and not ins.is_production:
        if environment == "test":  # what the TEST environment expects: said, as information
            said = f"{text!r} is under the {ins.kind.upper()} authority, as the TEST environment expects"
            return key, [_codes.TEST_INS(said, where=where, severity=Severity.INFO)]
        return key, [_codes.TEST_INS(f"{text!r} is under the {ins.kind.upper()} authority", where=where)]
    return key, []


def _coded(code: Coding, short: str, where: str) -> list[Finding]:
    return [finding.located(where) for finding in value_set(short).check(code.code, code.scheme, code.display)]


def _ci_sis(metadata: Metadata, where: str, environment: str) -> Iterator[Finding]:
    submission = metadata.submission_set
    patients: dict[tuple[str, str], str] = {}
    ids = [(submission.patient_id, f"{where}: SubmissionSet.patientId")]
    ids += [(entry.patient_id, f"{where}: DocumentEntry[{index}].patientId")
            for index, entry in enumerate(metadata.documents)]  # fmt: skip
    judged: dict[str, tuple[tuple[str, str], list[Finding]]] = {}  # the same id in the set and its entries: once
    for text, id_where in ids:
        if not text:
            continue
        if text not in judged:
            judged[text] = _patient(text, "", environment)
        patient, findings = judged[text]
        yield from (finding.located(id_where) for finding in findings)
        patients.setdefault(patient, id_where)
    if len(patients) > 1:
        listed = ", ".join(f"{identifier} ({authority})" for identifier, authority in patients)
        yield _codes.SEVERAL_PATIENTS(f"patient identifiers {listed}", where=where)
    for name, value in (("contentTypeCode", submission.content_type_code), ("author", submission.authors),
                        ("patientId", submission.patient_id)):  # fmt: skip
        if not value:
            yield _codes.CI_SIS_REQUIRED(
                _missing(f"the submission set has no {name}", name), where=f"{where}: SubmissionSet"
            )
    if submission.content_type_code is not None:
        yield from _coded(submission.content_type_code, "J03", f"{where}: SubmissionSet.contentTypeCode")
    for index, entry in enumerate(metadata.documents):
        entry_where = f"{where}: DocumentEntry[{index}]"
        for field in _CI_SIS_DOCUMENT:
            if not getattr(entry, field):
                name = _ATTRIBUTE_NAMES[field]
                yield _codes.CI_SIS_REQUIRED(_missing(f"no {name}", name), where=entry_where)
        for field, short in _VALUE_SETS.items():
            code = getattr(entry, field)
            if code is not None:
                yield from _coded(code, short, f"{entry_where}.{_ATTRIBUTE_NAMES[field]}")
        for code in entry.confidentiality_codes:
            yield from _coded(code, "J08", f"{entry_where}.confidentialityCode")
        yield from _class_of_type(entry, f"{entry_where}.classCode")


def _missing(said: str, attribute: str) -> str:
    give = _GIVE.get(attribute)
    return f"{said}: give {give}" if give else said


def _class_of_type(entry: DocumentEntry, where: str) -> Iterator[Finding]:
    """The classCode is the one ASS_X04 gives for the typeCode, when the table has the type."""
    if entry.class_code is None or entry.type_code is None:
        return
    expected = class_code_of(entry.type_code)
    if expected is not None and (entry.class_code.code, entry.class_code.scheme) != (expected.code, expected.scheme):
        message = (
            f"typeCode {entry.type_code.code} has the class {expected.code} ({expected.display}) in ASS_X04, "
            f"not {entry.class_code.code}"
        )
        yield _codes.CLASS_NOT_OF_TYPE(message, where=where)


def validate(
    package: Package | bytes,
    *,
    ci_sis: bool = True,
    limits: ZipLimits | None = None,
    environment: str = "prod",
    budget: Budget | None = None,
) -> Report:
    """Judge an XDM package (its ZIP bytes, or a :class:`Package` already read).

    The IHE XDM rules: README.TXT, INDEX.HTM and METADATA.XML present; each document entry's
    ``hash``, ``size`` and ``URI`` present and true to the file; required attributes; associations: each
    document a member of the submission set, each ``RPLC`` from one of its entries to the ``urn:uuid:`` entryUUID
    of a document sent earlier (``MSS-XDM-033`` to ``-035``; a replacement and a deletion request are said,
    ``MSS-XDM-036`` and ``-038``).
    With ``ci_sis`` (the default) the French rules as well: one patient, identified by a well-formed
    INS (a patient id that is no INS is an error, ``MSS-XDM-040``); codes in the CI-SIS value sets
    (contentTypeCode in JDV_J03, classCode in JDV_J06 and the one ``ASS_X04`` gives for the typeCode); the
    attributes the CI-SIS requires (``MSS-XDM-043``, an error: XDM's R2 attributes are R there, the
    message naming what to give). ``ci_sis=False`` keeps the IHE XDM rules only. Never raises on bad
    content: an unsafe or unreadable archive is a report with errors, and so is a document that is
    damaged or that the package's budget cannot cover (``MSS-ZIP-023``), at its entry.

    ``environment`` is ``prod`` (the default) or ``test`` (:data:`ENVIRONMENTS`): in the TEST environment a
    patient under the TEST or DEMO INS authority is expected, and ``MSS-XDM-044`` is information, not a warning.

    ZIP bytes are read with ``limits`` and ``budget`` (as :meth:`Package.read`); a package already read keeps the
    budget it was read with.
    """
    if environment not in ENVIRONMENTS:
        raise InvalidInput(f"environment is one of {', '.join(ENVIRONMENTS)}, not {environment!r}")
    if not isinstance(package, Package):
        try:
            package = Package.read(package, limits=limits, budget=budget)
        except InvalidInput as error:
            return Report(findings=error.report.findings, subject="IHE_XDM.ZIP")
    findings = [*package.findings, *_structure(package)]
    for subset in package.subsets:
        where = subset.metadata_path or f"IHE_XDM/{subset.directory}/METADATA.XML"
        if subset.metadata is None:
            continue
        findings += _metadata(subset, subset.metadata, where)
        findings += _encodings(subset.metadata, where)
        if ci_sis:
            findings += _ci_sis(subset.metadata, where, environment)
    return Report(findings=findings, subject="IHE_XDM.ZIP")

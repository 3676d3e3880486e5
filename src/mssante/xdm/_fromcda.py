"""XDS metadata derived from a CDA R2 header (CI-SIS mapping), with any field overridable by the caller.

Derived: every attribute the CI-SIS maps from the header; ``classCode`` from ``typeCode`` by the NOS table
``ASS_X04``; ``formatCode`` from the template by ``ASS_A11`` (and the body's media type for an unstructured CDA,
``ASS_A12``); the display names of codes from their CI-SIS value set. Not derived: the submission set's
``contentTypeCode`` (JDV_J03), which no header element gives: the caller says it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import attrs

from mssante.addresses import Address
from mssante.errors import InvalidInput
from mssante.identifiers import IDNPS_OID, IDNST_OID
from mssante.report import Finding, Report
from mssante.xdm import codes as _codes
from mssante.xdm._cda import CdaAuthor, CdaHeader, ts_to_utc
from mssante.xdm._hl7 import CodedValue, Cx, HierarchicDesignator, IntendedRecipient, Xcn, Xon, Xtn, escape
from mssante.xdm._model import Author, Coding, DocumentEntry, SubmissionSet, dtm, symbolic_id
from mssante.xdm._valuesets import FOR_ATTRIBUTE, canonical, correspondence, value_set

__all__ = ["class_code_of", "completed", "derived_entry", "entry_from_cda", "overridden", "submission_set_from_cda"]

CDA_MIME_TYPE = "text/xml"


def _attempt(build: Callable[[], object], fallback: Callable[[], object] | None = None) -> str:
    """The encoded value ``build`` gives; when the header's values do not make a valid one, ``fallback``'s, or ""."""
    for maker in (build, fallback):
        if maker is None:
            continue
        try:
            return str(maker())
        except InvalidInput:
            continue
    return ""


def _person(author: CdaAuthor) -> str:
    family, given = author.family or "", author.given or ""
    if author.idnps and author.idnps_root == IDNPS_OID:
        return _attempt(
            lambda: Xcn.for_idnps(author.idnps or "", family=family, given=given),
            lambda: Xcn(id=author.idnps or "", family=family, given=given),
        )
    return _attempt(lambda: Xcn(id=author.idnps or "", family=family, given=given))


def _institution(name: str | None, root: str | None, identifier: str | None) -> str:
    if not name:
        return ""
    if identifier and root == IDNST_OID:
        return _attempt(lambda: Xon.for_structure(name, identifier), lambda: Xon(name=name))
    return _attempt(lambda: Xon(name=name))


def _author(author: CdaAuthor) -> Author:
    institution = _institution(author.organisation_name, author.organisation_id_root, author.organisation_id)
    specialty = author.specialty
    coded = (
        _attempt(lambda: CodedValue(code=specialty.code, display=specialty.display, code_system=specialty.scheme))
        if specialty is not None
        else ""
    )
    mailboxes = [telecom.removeprefix("mailto:") for telecom in author.telecoms if telecom.startswith("mailto:")]
    telecoms = [_attempt(lambda mailbox=mailbox: Xtn.for_email(mailbox)) for mailbox in mailboxes]  # type: ignore[misc]
    return Author(
        person=_person(author),
        institutions=[institution] if institution else [],
        specialties=[coded] if coded else [],
        telecommunications=[telecom for telecom in telecoms if telecom],
    )


def _utc(text: str | None) -> str:
    if not text:
        return ""
    try:
        return ts_to_utc(text)
    except InvalidInput:
        return ""


_FACILITY = "componentOf/encompassingEncounter/location/healthCareFacility/code"
_PRACTICE = "documentationOf/serviceEvent/performer/assignedEntity/representedOrganization/standardIndustryClassCode"
_NAMES = {  # field -> XDS attribute, whose value set FOR_ATTRIBUTE names
    "class_code": "classCode",
    "type_code": "typeCode",
    "healthcare_facility_type_code": "healthcareFacilityTypeCode",
    "practice_setting_code": "practiceSettingCode",
    "confidentiality_codes": "confidentialityCode",
    "content_type_code": "contentTypeCode",
}


def _with_display(
    code: Coding | None, short: str, findings: list[Finding] | None = None, where: str = ""
) -> Coding | None:
    """The code in its JDV spelling, with the display name of the JDV when it has the code (else the document's).

    A display the document writes otherwise (at ``where``) is not what the metadata carries: ``findings`` gets
    a ``MSS-XDM-046`` saying which (the document itself keeps it).
    """
    if code is None:
        return None
    spelled = canonical(code.code, code.scheme)
    found = value_set(short)
    listed = found.display_of(spelled, code.scheme or None)
    if listed and code.display and code.display.strip() != listed and findings is not None:
        message = f"{code.code}: the document writes {code.display!r}, the metadata {listed!r} as {found.name} names it"
        findings.append(_codes.DISPLAY_FROM_VALUE_SET(message, where=f"{where}/@displayName" if where else short))
    return Coding(code=spelled, scheme=code.scheme, display=listed or code.display)


def class_code_of(type_code: Coding | None) -> Coding | None:
    """The classCode NOS table ``ASS_X04`` gives for ``type_code`` (display from JDV_J06), None when it has none."""
    if type_code is None:
        return None
    target = correspondence("X04").target(type_code.code, type_code.scheme or None)
    if target is None:
        return None
    display = value_set("J06").display_of(target.code, target.code_system) or ""
    return Coding(code=target.code, scheme=target.code_system, display=display)


def _cx_as_read(root: str, extension: str) -> str:
    """``extension^^^&root&ISO^NH`` for an id under an INS authority that fails the INS check (no Cx would take it)."""
    return f"{escape(extension)}^^^&{root}&ISO^NH"


def _patient_ids(header: CdaHeader) -> tuple[str, str]:
    """The patientId (the INS, else an INS-authority id as read, else the first local id) and the sourcePatientId
    (the IPP, else the patientId).

    An id under an INS authority that fails its check is the patientId as read, never replaced by a local id:
    the package then says what is wrong with it (MSS-XDM-041) instead of naming the patient by another id.
    """
    patient = header.patient
    local = ""
    for root, extension in patient.other_ids:
        local = _attempt(lambda root=root, extension=extension: Cx(  # type: ignore[misc]
            id=extension, authority=HierarchicDesignator.iso(root), type_code="PI"))  # fmt: skip
        if local:
            break
    ins = patient.ins
    national = _attempt(lambda: Cx.for_ins(ins)) if ins is not None else ""
    if not national:
        as_read = next(((root, extension) for root, extension in patient.invalid_ins if extension), None)
        national = _cx_as_read(*as_read) if as_read is not None else ""
    patient_id = national or local
    return patient_id, local or patient_id


def _patient_info(header: CdaHeader, source_patient_id: str) -> tuple[str, ...]:
    patient = header.patient
    info = [f"PID-3|{source_patient_id}"] if source_patient_id else []
    family, given = patient.birth_family or patient.used_family or "", patient.first_given or ""
    if family:
        info.append(f"PID-5|{escape(family)}^{escape(given)}^^^^^L")
    if patient.birth_date:
        info.append(f"PID-7|{patient.birth_date}")
    if patient.gender:
        info.append(f"PID-8|{patient.gender}")
    return tuple(info)


def entry_from_cda(header: CdaHeader) -> DocumentEntry:
    """The document entry of a CDA document (``hash``, ``size`` and ``URI`` are set when packed)."""
    return derived_entry(header)[0]


def derived_entry(header: CdaHeader) -> tuple[DocumentEntry, list[Finding]]:
    """The document entry of a CDA document and what deriving it noticed (display names the metadata does not
    take from the document, MSS-XDM-046)."""
    findings: list[Finding] = []
    patient_id, source_patient_id = _patient_ids(header)
    legal = header.legal_authenticator
    type_code = _with_display(header.type_code, "J07", findings, "code")
    confidentiality = _with_display(header.confidentiality, "J08", findings, "confidentialityCode")
    entry = DocumentEntry(
        entry_uuid=symbolic_id(header.document_id, "document"),
        unique_id=header.document_id,
        mime_type=CDA_MIME_TYPE,
        patient_id=patient_id,
        source_patient_id=source_patient_id,
        source_patient_info=_patient_info(header, source_patient_id),
        title=header.title or "",
        creation_time=_utc(header.effective_time),
        service_start_time=_utc(header.service_start),
        service_stop_time=_utc(header.service_stop),
        language_code=header.language_code or "",
        legal_authenticator=_person(legal) if legal is not None else "",
        authors=[_author(author) for author in header.authors],
        type_code=type_code,
        class_code=class_code_of(type_code),
        format_code=header.format_code,
        healthcare_facility_type_code=_with_display(header.healthcare_facility_type, "J02", findings, _FACILITY),
        practice_setting_code=_with_display(header.practice_setting, "J04", findings, _PRACTICE),
        confidentiality_codes=[code for code in [confidentiality] if code is not None],
        event_codes=header.event_codes,
    )
    return entry, findings


def _recipients(header: CdaHeader, recipients: Sequence[Address | str]) -> tuple[str, ...]:
    addresses = [str(Address.parse(str(recipient))) for recipient in recipients]
    for mailbox in header.recipient_mailboxes:
        text = _attempt(lambda mailbox=mailbox: Address.parse(mailbox))  # type: ignore[misc]
        if text and text not in addresses:
            addresses.append(text)
    return tuple(str(IntendedRecipient.for_email(address)) for address in addresses)


def submission_set_from_cda(
    headers: Sequence[CdaHeader],
    entries: Sequence[DocumentEntry],
    *,
    at: dt.datetime,
    source_id: str = "",
    recipients: Sequence[Address | str] = (),
) -> SubmissionSet:
    """The submission set sending ``entries`` at ``at``: patient and author of the first document."""
    first = headers[0]
    submission_time = dtm(at)
    seed = "|".join([*(entry.unique_id for entry in entries), submission_time])
    unique_id = f"2.25.{uuid.uuid5(uuid.NAMESPACE_OID, seed).int}"  # an OID from a UUID (ISO/IEC 9834-8)
    return SubmissionSet(
        entry_uuid=symbolic_id(unique_id, "submission-set"),
        unique_id=unique_id,
        source_id=source_id or first.document_id.partition("^")[0],
        submission_time=submission_time,
        patient_id=entries[0].patient_id,
        authors=entries[0].authors[:1],
        intended_recipients=_recipients(first, recipients),
    )


def _field_value(kind: Any, value: Any, name: str) -> Any:
    """A JSON value made into the field's type: a Coding from an object, Authors from objects, tuples from lists."""
    if kind in ("Coding | None", "Coding"):
        return None if value is None else value if isinstance(value, Coding) else Coding(**value)
    if kind == "tuple[Coding, ...]":
        return tuple(item if isinstance(item, Coding) else Coding(**item) for item in value)
    if kind == "tuple[Author, ...]":
        return tuple(item if isinstance(item, Author) else Author(**item) for item in value)
    if kind == "tuple[str, ...]":
        if isinstance(value, str):
            raise TypeError(f"{name} is a list of strings")
        return tuple(value)
    if kind == "str" and not isinstance(value, str):
        raise TypeError(f"{name} is a string")
    return value


_T = TypeVar("_T", DocumentEntry, SubmissionSet)


def overridden(instance: _T, fields: Mapping[str, Any] | None, *, what: str) -> _T:
    """``instance`` with ``fields`` replaced; JSON-shaped values (objects, lists) are accepted for codes and authors."""
    if not fields:
        return instance
    known = {field.name: field.type for field in attrs.fields(type(instance))}
    unknown = sorted(set(fields) - set(known))
    if unknown:
        message = f"{what} has no field {', '.join(unknown)}; its fields are {', '.join(sorted(known))}"
        raise InvalidInput(message, Report(findings=[_codes.BAD_VALUE(message, where=what)]))
    try:
        changes = {name: _field_value(known[name], value, f"{what}.{name}") for name, value in fields.items()}
        return attrs.evolve(instance, **changes)
    except (TypeError, ValueError) as error:
        if isinstance(error, InvalidInput):
            raise
        message = f"{what}: {error}"
        raise InvalidInput(message, Report(findings=[_codes.BAD_VALUE(message, where=what)])) from None


def completed(instance: _T, fields: Mapping[str, Any] | None) -> _T:
    """``instance`` after the caller's ``fields``: the classCode derived again from a typeCode the caller gave
    (unless the caller gave the classCode too), and the display name of the value set on each code given
    without one."""
    given = dict(fields or {})
    changes: dict[str, Any] = {}
    if "type_code" in given and "class_code" not in given:  # only a document entry has them
        changes["class_code"] = class_code_of(getattr(instance, "type_code", None))
    for name in given:
        attribute = _NAMES.get(name)
        value = getattr(instance, name, None)
        if attribute is None or value is None:
            continue
        short = FOR_ATTRIBUTE[attribute]
        if isinstance(value, Coding) and not value.display:
            changes[name] = _with_display(value, short)
        elif isinstance(value, tuple):
            changes[name] = tuple(
                _with_display(code, short) if isinstance(code, Coding) and not code.display else code for code in value
            )
    return attrs.evolve(instance, **changes) if changes else instance

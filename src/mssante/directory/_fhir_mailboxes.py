"""The MSSanté mailboxes (BAL) a directory resource carries, and the merging of the same mailbox seen twice.

A mailbox is a ``telecom`` with ``system=email`` and the FR Core e-mail type ``MSSANTE``; a plain contact
e-mail is not one. A telecom that carries the ``as-ext-mailbox-mss-metadata`` extension without the e-mail type
(as in the examples of the draft MSSanté IG) is read as a mailbox too; one whose e-mail type is not ``MSSANTE``
never is. The legacy (v1) resource-level ``MailboxMSS`` extension is read as well.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from mssante.addresses import MailboxType, check
from mssante.directory import fhir_codes as codes
from mssante.directory._fhir_json import as_dict, clean, codings_of, dicts_of, extension_url, extensions_of
from mssante.directory._models import DirectoryMailbox
from mssante.report import Finding

__all__ = ["mailboxes_of", "merge_mailboxes"]

_EMAIL_TYPE_URL = "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-contact-point-email-type"
_METADATA_URL = "https://interop.esante.gouv.fr/ig/fhir/annuaire/StructureDefinition/as-ext-mailbox-mss-metadata"
_V1_MAILBOX_URLS = frozenset(
    {
        "https://annuaire.sante.gouv.fr/fhir/StructureDefinition/MailboxMSS",
        "https://apifhir.annuaire.sante.fr/ws-sync/exposed/structuredefinition/mailboxMSS",
    }
)
_MSSANTE = "MSSANTE"
_TYPE_BAL_SYSTEM = "TRE_R257-TypeBAL"


@attrs.frozen(kw_only=True)
class _Metadata:
    value: str = ""
    type: MailboxType | None = None
    description: str = ""
    service: str = ""
    red_list: bool | None = None
    digitization: bool | None = None


_TRUE, _FALSE = frozenset({"true", "o", "oui", "1"}), frozenset({"false", "n", "non", "0"})


def _boolean(extension: Mapping[str, Any], findings: list[Finding], where: str) -> bool | None:
    value = extension.get("valueBoolean", extension.get("valueString"))
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    findings.append(codes.BAD_METADATA(f"{extension_url(extension)!r} is not a boolean", where=where))
    return None


def _string(extension: Mapping[str, Any], findings: list[Finding], where: str) -> str:
    value = extension.get("valueString")
    if isinstance(value, str):
        return clean(value)
    findings.append(codes.BAD_METADATA(f"{extension_url(extension)!r} is not a string", where=where))
    return ""


def _type_code(extension: Mapping[str, Any]) -> str | None:
    """The type code of a ``type`` sub-extension: CodeableConcept (TRE_R257 first), Coding, code or string."""
    codings = codings_of(extension.get("valueCodeableConcept"))
    codings.sort(key=lambda coding: _TYPE_BAL_SYSTEM not in str(coding.get("system", "")))
    if "valueCoding" in extension:
        codings.append(as_dict(extension["valueCoding"]))
    for coding in codings:
        if isinstance(coding.get("code"), str):
            return str(coding["code"])
    for key in ("valueCode", "valueString"):
        if isinstance(extension.get(key), str):
            return str(extension[key])
    return None


def _mailbox_type(extension: Mapping[str, Any], findings: list[Finding], where: str) -> MailboxType | None:
    code = _type_code(extension)
    if code is None:
        findings.append(codes.BAD_METADATA("the mailbox type has no code", where=where))
        return None
    try:
        return MailboxType(code.strip().upper())
    except ValueError:
        findings.append(codes.UNKNOWN_TYPE(f"the mailbox type {clean(code, 40)!r} is unknown", where=where))
        return None


def _metadata(extension: Mapping[str, Any], findings: list[Finding], where: str) -> _Metadata:
    """The sub-extensions of ``as-ext-mailbox-mss-metadata`` (v2) or ``MailboxMSS`` (v1)."""
    fields: dict[str, Any] = {}
    for sub in extensions_of(extension):
        name = extension_url(sub)
        if name in fields:
            continue
        if name == "value":
            fields["value"] = _string(sub, findings, where)
        elif name == "type":
            fields["type"] = _mailbox_type(sub, findings, where)
        elif name in ("description", "service"):
            fields[name] = _string(sub, findings, where)
        elif name == "listeRouge":
            fields["red_list"] = _boolean(sub, findings, where)
        elif name == "digitization":
            fields["digitization"] = _boolean(sub, findings, where)
    return _Metadata(**fields)


def _address(value: object, findings: list[Finding], where: str) -> str | None:
    """The canonical form of a mailbox address, or None (with a finding) when it is not a valid address."""
    if not isinstance(value, str):
        findings.append(codes.BAD_ADDRESS("the telecom value is not a string", where=where))
        return None
    result = check(value)
    if result.address is None:
        reason = result.report.errors[0].message if result.report.errors else "invalid"
        findings.append(codes.BAD_ADDRESS(f"{clean(value, 120)!r}: {reason}", where=where))
        return None
    return str(result.address)


def _mailbox(address: str, metadata: _Metadata) -> DirectoryMailbox:
    return DirectoryMailbox(
        address=address,
        type=metadata.type,
        description=metadata.description,
        service=metadata.service,
        red_list=metadata.red_list,
        digitization=metadata.digitization,
        source="fhir",
    )


def _telecom_mailbox(telecom: Mapping[str, Any], findings: list[Finding], where: str) -> DirectoryMailbox | None:
    """The mailbox of one telecom, or None for any other contact point (phone, plain e-mail...)."""
    if telecom.get("system") != "email":
        return None
    email_type, metadata = None, None
    for extension in extensions_of(telecom):
        url = extension_url(extension)
        if url == _EMAIL_TYPE_URL and email_type is None:
            email_type = extension
        elif url == _METADATA_URL and metadata is None:
            metadata = extension
    if email_type is not None:
        if as_dict(email_type.get("valueCoding")).get("code") != _MSSANTE:
            return None
    elif metadata is None:
        return None
    address = _address(telecom.get("value"), findings, where)
    if address is None:
        return None
    return _mailbox(address, _metadata(metadata, findings, where) if metadata is not None else _Metadata())


def mailboxes_of(resource: Mapping[str, Any], findings: list[Finding], where: str) -> list[DirectoryMailbox]:
    """The mailboxes of a resource: MSSanté telecoms (v2), then v1 ``MailboxMSS`` extensions."""
    found: list[DirectoryMailbox] = []
    for index, telecom in enumerate(dicts_of(resource.get("telecom"))):
        mailbox = _telecom_mailbox(telecom, findings, f"{where}.telecom[{index}]")
        if mailbox is not None:
            found.append(mailbox)
    for index, extension in enumerate(extensions_of(resource)):
        if extension_url(extension) in _V1_MAILBOX_URLS:
            at = f"{where}.extension[{index}]"
            metadata = _metadata(extension, findings, at)
            address = _address(metadata.value, findings, at)
            if address is not None:
                found.append(_mailbox(address, metadata))
    return found


def _combine(first: DirectoryMailbox, other: DirectoryMailbox) -> DirectoryMailbox:
    return attrs.evolve(
        first,
        type=first.type or other.type,
        description=first.description or other.description,
        service=first.service or other.service,
        red_list=first.red_list if first.red_list is not None else other.red_list,
        digitization=first.digitization if first.digitization is not None else other.digitization,
        person=first.person or other.person,
        structure=first.structure or other.structure,
    )


def merge_mailboxes(mailboxes: Iterable[DirectoryMailbox]) -> tuple[DirectoryMailbox, ...]:
    """One mailbox per address (compared without case), in first-seen order, each completed from the others."""
    merged: dict[str, DirectoryMailbox] = {}
    for mailbox in mailboxes:
        key = mailbox.address.lower()
        merged[key] = _combine(merged[key], mailbox) if key in merged else mailbox
    return tuple(merged.values())

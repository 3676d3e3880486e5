"""Publishing an operator's mailboxes: the FHIR Patch bodies of the draft write API of the national directory.

ANS is specifying a write endpoint that takes FHIR Patch ``Parameters`` on Practitioner,
PractitionerRole and Organization, found by a business identifier (conditional PATCH). Its rules:
the address is the key and, with the type, cannot be changed (delete, then insert); each type may
change only some fields. The endpoint is not live: :class:`MailboxPatch` builds and checks bodies
now, and sending them is an explicit opt-in (:class:`~mssante.directory.MailboxPublisher`).
"""

from __future__ import annotations

import json
import re
import urllib.parse
from typing import Any

import attrs

from mssante.addresses import MailboxType
from mssante.directory import _publication_codes as codes
from mssante.errors import InvalidInput
from mssante.report import Report

__all__ = ["METADATA_URL", "MODIFIABLE", "MailboxPatch", "PatchTarget"]

METADATA_URL = "https://interop.esante.gouv.fr/ig/fhir/annuaire/StructureDefinition/as-ext-mailbox-mss-metadata"
"""The extension that carries a mailbox's type, description, service, responsible and red-list flag."""

MODIFIABLE: dict[MailboxType, frozenset[str]] = {
    MailboxType.PER: frozenset({"listeRouge", "rank"}),
    MailboxType.CAB: frozenset({"listeRouge", "description", "responsible", "rank"}),
    MailboxType.ORG: frozenset({"listeRouge", "description", "service", "responsible", "rank"}),
    MailboxType.APP: frozenset({"listeRouge", "description", "service", "responsible", "rank"}),
}
"""What each type of mailbox may change (the draft API; the address and the type never change)."""

_CARRIERS: dict[MailboxType, frozenset[str]] = {
    MailboxType.PER: frozenset({"Practitioner", "PractitionerRole"}),
    MailboxType.CAB: frozenset({"Practitioner"}),
    MailboxType.ORG: frozenset({"Organization"}),
    MailboxType.APP: frozenset({"Organization"}),
}
_ADDRESS = re.compile(r"[^@\s]+@(?:[^@\s]+\.mssante\.fr|interop-mssante\.apicrypt\.org)", re.ASCII)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_STRING_FIELDS = ("description", "service", "responsible")

_SYSTEMS = {
    "rpps": ("Practitioner", "https://rpps.esante.gouv.fr"),
    "idnps": ("Practitioner", "urn:oid:1.2.250.1.71.4.2.1"),
    "situation": ("PractitionerRole", "https://rpps.esante.gouv.fr"),
    "finess": ("Organization", "https://finess.esante.gouv.fr"),
    "idnst": ("Organization", "urn:oid:1.2.250.1.71.4.2.2"),
}


def _refuse(code: Any, message: str, where: str = "") -> InvalidInput:
    finding = code(message, where=where)
    return InvalidInput(finding.message, Report(findings=[finding], subject=where or "mailbox patch"))


@attrs.frozen(kw_only=True)
class PatchTarget:
    """The resource a patch applies to, found by a business identifier (conditional PATCH)."""

    resource_type: str
    system: str
    value: str

    @classmethod
    def of(cls, kind: str, value: str) -> PatchTarget:
        """By ``rpps``, ``idnps``, ``situation`` (idSituationExercice), ``finess`` or ``idnst``."""
        if kind not in _SYSTEMS:
            raise ValueError(f"target by {kind!r}: give one of {', '.join(_SYSTEMS)}")
        if not value or not value.isalnum():
            raise _refuse(codes.BAD_TARGET, f"{value!r} is not an identifier", where=kind)
        resource_type, system = _SYSTEMS[kind]
        return cls(resource_type=resource_type, system=system, value=value)

    def url(self, base_url: str) -> str:
        """``[base]/<Type>?identifier=<system>|<value>``."""
        query = urllib.parse.urlencode({"identifier": f"{self.system}|{self.value}"}, safe=":/")
        return f"{base_url.rstrip('/')}/{self.resource_type}?{query}"


def _metadata_value(field: str, value: object) -> dict[str, Any]:
    if field == "listeRouge":
        if not isinstance(value, bool):
            raise _refuse(codes.BAD_VALUE, f"listeRouge is true or false, not {value!r}", where=field)
        return {"url": field, "valueBoolean": value}
    if field == "rank":
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise _refuse(codes.BAD_VALUE, f"rank is a positive integer, not {value!r}", where=field)
        return {"url": field, "valueInteger": value}
    if not isinstance(value, str) or not value.strip() or len(value) > 1024 or _CONTROL.search(value):
        raise _refuse(codes.BAD_VALUE, f"{field} is a line of text (at most 1024 characters)", where=field)
    return {"url": field, "valueString": value}


@attrs.define
class MailboxPatch:
    """The operations of one FHIR Patch on one resource type, checked against the rules of the draft API."""

    resource_type: str
    operations: list[dict[str, Any]] = attrs.field(factory=list)

    def __attrs_post_init__(self) -> None:
        if self.resource_type not in ("Practitioner", "PractitionerRole", "Organization"):
            raise ValueError(f"a mailbox is patched on Practitioner, PractitionerRole or Organization, "
                             f"not {self.resource_type!r}")  # fmt: skip

    @classmethod
    def for_target(cls, target: PatchTarget) -> MailboxPatch:
        """An empty patch for the resource type of ``target``."""
        return cls(resource_type=target.resource_type)

    def _check(self, address: str, kind: MailboxType | str) -> MailboxType:
        if not _ADDRESS.fullmatch(address) or "'" in address or "\\" in address:
            raise _refuse(codes.BAD_ADDRESS, f"{address!r} is not an MSSanté address (…@….mssante.fr)", "address")
        mailbox_type = MailboxType(kind)
        if self.resource_type not in _CARRIERS[mailbox_type]:
            carriers = " or ".join(sorted(_CARRIERS[mailbox_type]))
            raise _refuse(codes.WRONG_CARRIER, f"a {mailbox_type} mailbox is carried by {carriers}, "
                          f"not {self.resource_type}", "type")  # fmt: skip
        return mailbox_type

    def _where(self, address: str) -> str:
        return f"{self.resource_type}.telecom.where(value = '{address}')"

    def insert(
        self,
        address: str,
        kind: MailboxType | str,
        *,
        liste_rouge: bool = False,
        description: str | None = None,
        service: str | None = None,
        responsible: str | None = None,
        index: int = 0,
    ) -> MailboxPatch:
        """Add a mailbox (its fields in the order of the specification's examples)."""
        mailbox_type = self._check(address, kind)
        extension = [{"url": "type", "valueCode": mailbox_type.value}, _metadata_value("listeRouge", liste_rouge)]
        for field, text in (("description", description), ("service", service), ("responsible", responsible)):
            if text is None:
                continue
            if field not in MODIFIABLE[mailbox_type]:
                raise _refuse(codes.NOT_MODIFIABLE, f"a {mailbox_type} mailbox has no {field}", field)
            extension.append(_metadata_value(field, text))
        point = {"system": "email", "value": address, "extension": [{"url": METADATA_URL, "extension": extension}]}
        path = f"{self.resource_type}.telecom"
        self.operations.append(_operation("insert", path, index=index, value={"valueContactPoint": point}))
        return self

    def replace(self, address: str, kind: MailboxType | str, field: str, value: object) -> MailboxPatch:
        """Change one metadata field of a mailbox (``listeRouge``, ``description``, ``service``...)."""
        mailbox_type = self._check(address, kind)
        if field in ("address", "value", "type"):
            message = f"the {field} of a mailbox cannot change: delete it, then insert the new one"
            raise _refuse(codes.IMMUTABLE, message, field)
        if field not in MODIFIABLE[mailbox_type]:
            allowed = ", ".join(sorted(MODIFIABLE[mailbox_type]))
            raise _refuse(codes.NOT_MODIFIABLE, f"a {mailbox_type} mailbox may change only {allowed}", field)
        if field == "rank":
            path = f"{self._where(address)}.rank"
            part = {"valueInteger": _metadata_value(field, value)["valueInteger"]}
        else:
            path = f"{self._where(address)}.extension('{METADATA_URL}').extension('{field}').value"
            part = {key: item for key, item in _metadata_value(field, value).items() if key != "url"}
        self.operations.append(_operation("replace", path, value=part))
        return self

    def delete(self, address: str, kind: MailboxType | str) -> MailboxPatch:
        """Remove a mailbox."""
        self._check(address, kind)
        self.operations.append(_operation("delete", self._where(address)))
        return self

    def to_json(self) -> dict[str, Any]:
        """The ``Parameters`` resource (operations applied in order)."""
        if not self.operations:
            raise _refuse(codes.EMPTY, "the patch has no operation")
        return {"resourceType": "Parameters", "parameter": [dict(operation) for operation in self.operations]}

    def to_bytes(self) -> bytes:
        """The request body (``application/fhir+json``)."""
        return json.dumps(self.to_json(), ensure_ascii=False).encode("utf-8")


def _operation(
    kind: str, path: str, *, index: int | None = None, value: dict[str, Any] | None = None
) -> dict[str, Any]:
    parts: list[dict[str, Any]] = [{"name": "type", "valueCode": kind}, {"name": "path", "valueString": path}]
    if index is not None:
        parts.append({"name": "index", "valueInteger": index})
    if value is not None:
        parts.append({"name": "value", **value})
    return {"name": "operation", "part": parts}

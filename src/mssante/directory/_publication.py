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

from mssante.addresses import Address, MailboxType
from mssante.directory import publication_codes as codes
from mssante.errors import InvalidAddress, InvalidInput
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
_MSSANTE_SUFFIX = ".mssante.fr"
_OTHER_MSSANTE_DOMAINS = frozenset({"interop-mssante.apicrypt.org"})
_INTEGER_MAX = 2**31 - 1
"""The largest FHIR ``integer`` (32-bit signed), hence also the largest ``positiveInt`` (a rank) and index."""
_MAX_TEXT = 1024
# What a line of text written in the body may not hold: C0 and C1 controls, the Unicode line and paragraph
# separators, and lone surrogates (no UTF-8 for them).
_UNWRITABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
_MAX_IDENTIFIER = 64

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
        """By ``rpps``, ``idnps``, ``situation`` (idSituationExercice), ``finess`` or ``idnst``.

        ``value`` is ASCII letters and digits, at most 64 of them; anything else is ``MSS-PUB-006``.
        """
        if kind not in _SYSTEMS:
            raise ValueError(f"target by {kind!r}: give one of {', '.join(_SYSTEMS)}")
        if not isinstance(value, str):
            raise TypeError(f"an identifier is given as str, not {type(value).__name__}")
        if not (0 < len(value) <= _MAX_IDENTIFIER and value.isascii() and value.isalnum()):
            message = f"{value[:80]!r} is not an identifier (ASCII letters and digits, at most {_MAX_IDENTIFIER})"
            raise _refuse(codes.BAD_TARGET, message, where=kind)
        resource_type, system = _SYSTEMS[kind]
        return cls(resource_type=resource_type, system=system, value=value)

    def url(self, base_url: str) -> str:
        """``[base]/<Type>?identifier=<system>|<value>``."""
        query = urllib.parse.urlencode({"identifier": f"{self.system}|{self.value}"}, safe=":/")
        return f"{base_url.rstrip('/')}/{self.resource_type}?{query}"


def _fhir_integer(value: object, lowest: int) -> bool:
    """True for an int (not a bool) from ``lowest`` to the largest FHIR integer."""
    return isinstance(value, int) and not isinstance(value, bool) and lowest <= value <= _INTEGER_MAX


def _metadata_value(field: str, value: object) -> dict[str, Any]:
    if field == "listeRouge":
        if not isinstance(value, bool):
            raise _refuse(codes.BAD_VALUE, f"listeRouge is true or false, not {value!r}", where=field)
        return {"url": field, "valueBoolean": value}
    if field == "rank":  # ContactPoint.rank is a FHIR positiveInt, and a patch value has the type of its element
        if not _fhir_integer(value, 1):
            message = f"rank is a FHIR positiveInt (1 to {_INTEGER_MAX}), not {value!r:.80}"
            raise _refuse(codes.BAD_VALUE, message, where=field)
        return {"url": field, "valuePositiveInt": value}
    if not isinstance(value, str) or not value.strip() or len(value) > _MAX_TEXT or _UNWRITABLE.search(value):
        message = (f"{field} is a line of text: at most {_MAX_TEXT} characters, not blank, without control "
                   "characters, line separators or lone surrogates")  # fmt: skip
        raise _refuse(codes.BAD_VALUE, message, where=field)
    return {"url": field, "valueString": value}


def _mailbox_address(address: Address | str) -> str:
    """The address as written in the patch: the canonical form of what :meth:`Address.parse` accepted.

    It must be a mailbox of the MSSanté space (a domain under ``mssante.fr``, or the Apicrypt
    gateway), not a patient (MSS-C) address, and without ``'``, which would end the FHIRPath
    string the address is written in.
    """
    if isinstance(address, Address):
        parsed = address
    elif isinstance(address, str):
        try:
            parsed = Address.parse(address)
        except InvalidAddress as error:
            reason = error.report.errors[0].message
            raise _refuse(codes.BAD_ADDRESS, f"{address[:120]!r} is not an address: {reason}", "address") from None
    else:
        raise TypeError(f"an address is given as str or Address, not {type(address).__name__}")
    domain = parsed.domain
    if parsed.is_patient or not (domain.endswith(_MSSANTE_SUFFIX) or domain in _OTHER_MSSANTE_DOMAINS):
        raise _refuse(codes.BAD_ADDRESS, f"{parsed} is not an MSSanté mailbox address (…@….mssante.fr)", "address")
    if "'" in parsed.local:
        raise _refuse(codes.BAD_ADDRESS, f"{parsed}: a ' cannot be written in the FHIRPath of a patch", "address")
    return str(parsed)


def _mailbox_type(kind: MailboxType | str) -> MailboxType:
    try:
        return MailboxType(kind)
    except ValueError:
        message = f"{str(kind)[:20]!r} is not a mailbox type: PER, ORG, APP or CAB"
        raise _refuse(codes.BAD_VALUE, message, "type") from None


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

    def _check(self, address: Address | str, kind: MailboxType | str) -> tuple[str, MailboxType]:
        """The address as it is written, and the type of mailbox, once both are checked."""
        written = _mailbox_address(address)
        mailbox_type = _mailbox_type(kind)
        if self.resource_type not in _CARRIERS[mailbox_type]:
            carriers = " or ".join(sorted(_CARRIERS[mailbox_type]))
            raise _refuse(codes.WRONG_CARRIER, f"a {mailbox_type} mailbox is carried by {carriers}, "
                          f"not {self.resource_type}", "type")  # fmt: skip
        return written, mailbox_type

    def _where(self, address: str) -> str:
        return f"{self.resource_type}.telecom.where(value = '{address}')"

    def insert(
        self,
        address: Address | str,
        kind: MailboxType | str,
        *,
        liste_rouge: bool = False,
        description: str | None = None,
        service: str | None = None,
        responsible: str | None = None,
        index: int = 0,
    ) -> MailboxPatch:
        """Add a mailbox (its fields in the order of the specification's examples).

        The address is written in its canonical form (:meth:`Address.parse <mssante.addresses.Address.parse>`);
        ``index``, the position in ``telecom``, is from 0 to 2,147,483,647 (a FHIR integer).
        """
        written, mailbox_type = self._check(address, kind)
        if not _fhir_integer(index, 0):
            message = f"index is a position from 0 to {_INTEGER_MAX}, not {index!r:.80}"
            raise _refuse(codes.BAD_VALUE, message, "index")
        extension = [{"url": "type", "valueCode": mailbox_type.value}, _metadata_value("listeRouge", liste_rouge)]
        for field, text in (("description", description), ("service", service), ("responsible", responsible)):
            if text is None:
                continue
            if field not in MODIFIABLE[mailbox_type]:
                raise _refuse(codes.NOT_MODIFIABLE, f"a {mailbox_type} mailbox has no {field}", field)
            extension.append(_metadata_value(field, text))
        point = {"system": "email", "value": written, "extension": [{"url": METADATA_URL, "extension": extension}]}
        path = f"{self.resource_type}.telecom"
        self.operations.append(_operation("insert", path, index=index, value={"valueContactPoint": point}))
        return self

    def _field(
        self, address: Address | str, kind: MailboxType | str, field: str, value: object
    ) -> tuple[str, dict[str, Any]]:
        """The address as written and the metadata element of ``field`` set to ``value``, once the rules allow it."""
        written, mailbox_type = self._check(address, kind)
        if field in ("address", "value", "type"):
            message = f"the {field} of a mailbox cannot change: delete it, then insert the new one"
            raise _refuse(codes.IMMUTABLE, message, field)
        if field not in MODIFIABLE[mailbox_type]:
            allowed = ", ".join(sorted(MODIFIABLE[mailbox_type]))
            where = field if field in MODIFIABLE[MailboxType.ORG] else "field"  # never a caller's text in the report
            raise _refuse(codes.NOT_MODIFIABLE, f"a {mailbox_type} mailbox may change only {allowed}", where)
        return written, _metadata_value(field, value)

    def replace(self, address: Address | str, kind: MailboxType | str, field: str, value: object) -> MailboxPatch:
        """Change one field the mailbox has (``listeRouge``, ``description``, ``service``, ``rank``...).

        FHIR Patch replaces only what exists: to give a mailbox a field it does not have yet, :meth:`add` it.
        The value is written with the type of its element (``rank``: ``valuePositiveInt``).
        """
        written, element = self._field(address, kind, field, value)
        if field == "rank":
            path = f"{self._where(written)}.rank"
        else:
            path = f"{self._where(written)}.extension('{METADATA_URL}').extension('{field}').value"
        part = {key: item for key, item in element.items() if key != "url"}
        self.operations.append(_operation("replace", path, value=part))
        return self

    def add(self, address: Address | str, kind: MailboxType | str, field: str, value: object) -> MailboxPatch:
        """Give a mailbox a field it does not have yet (``rank``, ``description``, ``service``...).

        FHIR Patch adds only what is absent (:meth:`replace` changes what exists). A ``rank`` is added to the
        contact point (``valuePositiveInt``); a metadata field is added as a sub-extension of the mailbox's
        metadata extension, written as the parts of the Extension (its ``url`` and its ``value[x]``), since an
        Extension is not a type a ``Parameters`` value can take in FHIR R4.
        """
        written, element = self._field(address, kind, field, value)
        if field == "rank":
            path, name = self._where(written), "rank"
            part = {key: item for key, item in element.items() if key != "url"}
        else:
            path, name = f"{self._where(written)}.extension('{METADATA_URL}')", "extension"
            parts = [{"name": "url", "valueUri": field}]
            parts += [{"name": key, key: item} for key, item in element.items() if key != "url"]
            part = {"part": parts}
        self.operations.append(_operation("add", path, name=name, value=part))
        return self

    def delete(self, address: Address | str, kind: MailboxType | str) -> MailboxPatch:
        """Remove a mailbox."""
        written, _ = self._check(address, kind)
        self.operations.append(_operation("delete", self._where(written)))
        return self

    def to_json(self) -> dict[str, Any]:
        """The ``Parameters`` resource (operations applied in order)."""
        if not self.operations:
            raise _refuse(codes.EMPTY, "the patch has no operation")
        return {"resourceType": "Parameters", "parameter": [dict(operation) for operation in self.operations]}

    def to_bytes(self) -> bytes:
        """The request body (``application/fhir+json``)."""
        body = self.to_json()
        try:
            return json.dumps(body, ensure_ascii=False, allow_nan=False).encode("utf-8")
        except (TypeError, ValueError) as error:  # operations edited by hand: a value JSON or UTF-8 cannot carry
            raise _refuse(codes.BAD_VALUE, f"the patch cannot be written: {error}"[:200]) from None


def _operation(
    kind: str, path: str, *, name: str | None = None, index: int | None = None, value: dict[str, Any] | None = None
) -> dict[str, Any]:
    parts: list[dict[str, Any]] = [{"name": "type", "valueCode": kind}, {"name": "path", "valueString": path}]
    if name is not None:
        parts.append({"name": "name", "valueString": name})
    if index is not None:
        parts.append({"name": "index", "valueInteger": index})
    if value is not None:
        parts.append({"name": "value", **value})
    return {"name": "operation", "part": parts}

"""XDS metadata as values: the submission set, its document entries, their codes and authors.

HL7 v2 encoded attributes (patient identifiers, author person and institution, recipients) are
kept as their encoded text, as real packages write them; :mod:`mssante.xdm._hl7` builds and reads
them. Whether the values follow IHE and the CI-SIS is the validator's judgement, not the model's:
a package that real systems send must be readable so that it can be reported on.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterable, Mapping

import attrs

from mssante.errors import InvalidInput
from mssante.report import Report
from mssante.xdm import codes as _codes

__all__ = [
    "APPROVED",
    "DEPRECATED",
    "HAS_MEMBER",
    "ON_DEMAND",
    "REQUESTS",
    "RPLC",
    "STABLE",
    "Association",
    "Author",
    "Coding",
    "DocumentEntry",
    "DocumentRef",
    "Metadata",
    "SubmissionSet",
    "dtm",
    "parse_dtm",
    "symbolic_id",
]

STABLE = "urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1"
"""``objectType`` of a stable document entry."""
ON_DEMAND = "urn:uuid:34268e47-fdf5-41a6-ba33-82133c465248"
"""``objectType`` of an on-demand document entry."""
HAS_MEMBER = "urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember"
"""The association that puts a document entry in a submission set."""
RPLC = "urn:ihe:iti:2007:AssociationType:RPLC"
"""The association from a new document entry to the ``entryUUID`` of the one it replaces (IHE ITI TF-3 4.2.2.2):
the "annule et remplace" of the CI-SIS."""
APPROVED = "urn:oasis:names:tc:ebxml-regrep:StatusType:Approved"
"""The ``availabilityStatus`` of a document that is current."""
DEPRECATED = "urn:oasis:names:tc:ebxml-regrep:StatusType:Deprecated"
"""The ``availabilityStatus`` of a document that is obsolete: in a package, a request to delete it."""
REQUESTS = ("transmission", "replacement", "deletion")
"""What a document entry asks of its receiver, as the CI-SIS volet names the processes ("transmission initiale",
"remplacement", "suppression"): :meth:`Metadata.request_of`."""
_UUID_URN = re.compile(r"urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.ASCII)

MAX_TEXT = 64 * 1024
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_DTM = re.compile(r"[0-9]{4}(?:[0-9]{2}){0,5}(?:[+-][0-9]{4})?", re.ASCII)


def _refuse(what: str, why: str) -> InvalidInput:
    finding = _codes.BAD_VALUE(f"{what}: {why}", where=what)
    return InvalidInput(finding.message, Report(findings=[finding], subject=what))


def _judge(name: str, value: object) -> None:
    if not isinstance(value, str):
        raise TypeError(f"{name} is text, not {type(value).__name__}")
    if len(value) > MAX_TEXT or _CONTROL.search(value):
        raise _refuse(name, "longer than any metadata value, or holds control characters")


def _text(instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    _judge(attribute.name, value)


def _texts(instance: object, attribute: attrs.Attribute[tuple[str, ...]], value: tuple[str, ...]) -> None:
    for item in value:
        _judge(attribute.name, item)


def _strings(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(values)


def _authors(values: Iterable[Author]) -> tuple[Author, ...]:
    return tuple(values)


def _codes_of(values: Iterable[Coding]) -> tuple[Coding, ...]:
    return tuple(values)


def _slots(values: Iterable[tuple[str, tuple[str, ...]]]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    return tuple((name, tuple(slot_values)) for name, slot_values in values)


def dtm(moment: dt.datetime | dt.date) -> str:
    """The XDS time of ``moment``: ``YYYYMMDDhhmmss`` in UTC (``YYYYMMDD`` for a date)."""
    if isinstance(moment, dt.datetime):
        if moment.tzinfo is None:
            raise ValueError("an XDS time is in UTC: give an aware datetime")
        return moment.astimezone(dt.timezone.utc).strftime("%Y%m%d%H%M%S")
    return moment.strftime("%Y%m%d")


def parse_dtm(text: str) -> dt.datetime | None:
    """The UTC moment an XDS time (``YYYY[MM[DD[hh[mm[ss]]]]]``, optional ``±hhmm`` offset) names, else None."""
    text = text.strip()
    if not _DTM.fullmatch(text):
        return None
    digits, sign, offset = text.partition("+") if "+" in text else text.partition("-")
    try:
        given = [int(digits[start : start + 2]) for start in range(4, len(digits), 2)]
        month, day, hour, minute, second = [*given, *(1, 1, 0, 0, 0)[len(given) :]]  # as strptime fills them
        moment = dt.datetime(int(digits[:4]), month, day, hour, minute, second)
        if sign:
            delta = dt.timedelta(hours=int(offset[:2]), minutes=int(offset[2:]))
            moment = moment - delta if sign == "+" else moment + delta
    except (ValueError, OverflowError):
        return None
    return moment.replace(tzinfo=dt.timezone.utc)


def symbolic_id(unique_id: str, kind: str) -> str:
    """A stable ``urn:uuid:`` entry id derived from a unique id, so that the same document gives the same package."""
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_OID, f'{kind}:{unique_id}')}"


@attrs.frozen(kw_only=True)
class Coding:
    """A coded value: ``code`` in the code system ``scheme`` (an OID for the CI-SIS), with its display name."""

    code: str = attrs.field(validator=_text)
    scheme: str = attrs.field(default="", validator=_text)
    display: str = attrs.field(default="", validator=_text)

    def __str__(self) -> str:
        return f"{self.code} ({self.scheme})" if self.scheme else self.code


@attrs.frozen(kw_only=True)
class Author:
    """An author: person (XCN), institutions (XON), roles, specialties (coded) and telecoms (XTN), as encoded."""

    person: str = attrs.field(default="", validator=_text)
    institutions: tuple[str, ...] = attrs.field(default=(), converter=_strings, validator=_texts)
    roles: tuple[str, ...] = attrs.field(default=(), converter=_strings, validator=_texts)
    specialties: tuple[str, ...] = attrs.field(default=(), converter=_strings, validator=_texts)
    telecommunications: tuple[str, ...] = attrs.field(default=(), converter=_strings, validator=_texts)


@attrs.frozen(kw_only=True)
class DocumentEntry:
    """``XDSDocumentEntry``: one document's metadata (ITI TF-3 4.2.3.2)."""

    entry_uuid: str = attrs.field(validator=_text)
    unique_id: str = attrs.field(validator=_text)
    mime_type: str = attrs.field(validator=_text)
    patient_id: str = attrs.field(default="", validator=_text)
    title: str = attrs.field(default="", validator=_text)
    comments: str = attrs.field(default="", validator=_text)
    object_type: str = attrs.field(default=STABLE, validator=_text)
    uri: str = attrs.field(default="", validator=_text)
    hash: str = attrs.field(default="", validator=_text)
    size: str = attrs.field(default="", validator=_text)
    creation_time: str = attrs.field(default="", validator=_text)
    service_start_time: str = attrs.field(default="", validator=_text)
    service_stop_time: str = attrs.field(default="", validator=_text)
    language_code: str = attrs.field(default="", validator=_text)
    source_patient_id: str = attrs.field(default="", validator=_text)
    source_patient_info: tuple[str, ...] = attrs.field(default=(), converter=_strings, validator=_texts)
    legal_authenticator: str = attrs.field(default="", validator=_text)
    repository_unique_id: str = attrs.field(default="", validator=_text)
    authors: tuple[Author, ...] = attrs.field(default=(), converter=_authors)
    class_code: Coding | None = None
    type_code: Coding | None = None
    format_code: Coding | None = None
    healthcare_facility_type_code: Coding | None = None
    practice_setting_code: Coding | None = None
    confidentiality_codes: tuple[Coding, ...] = attrs.field(default=(), converter=_codes_of)
    event_codes: tuple[Coding, ...] = attrs.field(default=(), converter=_codes_of)
    extra_slots: tuple[tuple[str, tuple[str, ...]], ...] = attrs.field(default=(), converter=_slots)
    """Slots the model has no field for, kept as read: ``(name, values)``."""
    availability_status: str = attrs.field(default="", validator=_text)
    """The ``status`` of the ExtrinsicObject: empty when not written (a current document), :data:`APPROVED`, or
    :data:`DEPRECATED` (in a package: a request to delete the document)."""

    @property
    def deprecated(self) -> bool:
        """True when the entry is :data:`DEPRECATED`: the package asks to delete the document."""
        return self.availability_status == DEPRECATED


def uuid_urn(value: str) -> str:
    """``value`` as a ``urn:uuid:`` entryUUID (a bare UUID gets the prefix, hex in lower case); "" when it is none."""
    text = value.strip()
    bare = text[len("urn:uuid:") :] if text.casefold().startswith("urn:uuid:") else text
    try:
        return f"urn:uuid:{uuid.UUID(bare)}" if len(bare) == 36 else ""
    except ValueError:
        return ""


def is_uuid_urn(value: str) -> bool:
    """True for an entryUUID as IHE writes one: ``urn:uuid:`` and a UUID, lower-case hex."""
    return bool(_UUID_URN.fullmatch(value))


def _as_entry_uuid(value: str) -> str:
    return uuid_urn(value) or value


def _ref_entry_uuid(instance: DocumentRef, attribute: attrs.Attribute[str], value: str) -> None:
    if not is_uuid_urn(value):
        raise _refuse(attribute.name, f"{value[:80]!r} is not a urn:uuid: entryUUID")


def _ref_unique_id(instance: DocumentRef, attribute: attrs.Attribute[str], value: str) -> None:
    _judge(attribute.name, value)
    if not value.strip() or value != value.strip() or any(char.isspace() for char in value):
        raise _refuse(attribute.name, f"{value[:80]!r} is empty or holds spaces")


def _entry_uuid_of(instance: DocumentRef) -> str:
    return symbolic_id(instance.unique_id, "document")


@attrs.frozen(kw_only=True)
class DocumentRef:
    """A document sent earlier, by the identifiers its sender kept: its ``uniqueId`` and its ``entryUUID``.

    The identifiers of the replaced document are the sender's to keep (the receiver holds them from the earlier
    package). ``entry_uuid`` defaults to the one this SDK derives from ``unique_id`` when it packs a CDA document
    (:meth:`Package.from_cda`): right for a package this SDK built, wrong for one packed elsewhere, whose
    METADATA.XML gives it (:meth:`of` takes it from the entry read there). A bare UUID is given its ``urn:uuid:``.
    """

    unique_id: str = attrs.field(validator=_ref_unique_id)
    entry_uuid: str = attrs.field(
        default=attrs.Factory(_entry_uuid_of, takes_self=True),
        converter=_as_entry_uuid,
        validator=_ref_entry_uuid,
    )

    @classmethod
    def of(cls, entry: DocumentEntry) -> DocumentRef:
        """The reference to a document entry read from the earlier package (:meth:`Package.read`)."""
        return cls(unique_id=entry.unique_id, entry_uuid=entry.entry_uuid)


@attrs.frozen(kw_only=True)
class SubmissionSet:
    """``XDSSubmissionSet``: who sends what, for whom, when (ITI TF-3 4.2.3.3)."""

    entry_uuid: str = attrs.field(validator=_text)
    unique_id: str = attrs.field(validator=_text)
    source_id: str = attrs.field(validator=_text)
    submission_time: str = attrs.field(validator=_text)
    patient_id: str = attrs.field(default="", validator=_text)
    title: str = attrs.field(default="", validator=_text)
    comments: str = attrs.field(default="", validator=_text)
    content_type_code: Coding | None = None
    authors: tuple[Author, ...] = attrs.field(default=(), converter=_authors)
    intended_recipients: tuple[str, ...] = attrs.field(default=(), converter=_strings, validator=_texts)
    extra_slots: tuple[tuple[str, tuple[str, ...]], ...] = attrs.field(default=(), converter=_slots)


@attrs.frozen(kw_only=True)
class Association:
    """An association between two registry objects (``HasMember`` for the documents of a submission set)."""

    id: str = attrs.field(validator=_text)
    type: str = attrs.field(validator=_text)
    source: str = attrs.field(validator=_text)
    target: str = attrs.field(validator=_text)
    status: str = attrs.field(default="", validator=_text)
    """The ``SubmissionSetStatus`` slot: ``Original`` for a document submitted with the set."""


def _entries(values: Iterable[DocumentEntry]) -> tuple[DocumentEntry, ...]:
    return tuple(values)


def _associations(values: Iterable[Association]) -> tuple[Association, ...]:
    return tuple(values)


@attrs.frozen(kw_only=True)
class Metadata:
    """A ``SubmitObjectsRequest``: one submission set, its document entries and the associations between them."""

    submission_set: SubmissionSet
    documents: tuple[DocumentEntry, ...] = attrs.field(converter=_entries)
    associations: tuple[Association, ...] = attrs.field(default=(), converter=_associations)

    @classmethod
    def of(
        cls,
        submission_set: SubmissionSet,
        documents: tuple[DocumentEntry, ...] | list[DocumentEntry],
        *,
        replaces: Mapping[str, str] | None = None,
    ) -> Metadata:
        """The metadata with a ``HasMember`` association (status ``Original``) from the set to each document, and an
        :data:`RPLC` association from each entry named in ``replaces`` (entryUUID -> the replaced entryUUID)."""
        associations = [
            Association(
                id=symbolic_id(f"{submission_set.entry_uuid}/{entry.entry_uuid}", "association"),
                type=HAS_MEMBER,
                source=submission_set.entry_uuid,
                target=entry.entry_uuid,
                status="Original",
            )
            for entry in documents
        ]
        associations += [
            Association(id=symbolic_id(f"{source}/{target}", "replacement"), type=RPLC, source=source, target=target)
            for source, target in (replaces or {}).items()
        ]
        return cls(submission_set=submission_set, documents=tuple(documents), associations=tuple(associations))

    def replaced_ids(self, entry: DocumentEntry) -> tuple[str, ...]:
        """The entryUUIDs of the documents ``entry`` replaces (its :data:`RPLC` associations), in order."""
        return tuple(
            association.target
            for association in self.associations
            if association.type == RPLC and association.source == entry.entry_uuid
        )

    def request_of(self, entry: DocumentEntry) -> str:
        """What ``entry`` asks of the receiver (:data:`REQUESTS`): ``deletion`` when it is :data:`DEPRECATED`,
        ``replacement`` when it replaces a document (:data:`RPLC`), else ``transmission``."""
        if entry.deprecated:
            return "deletion"
        return "replacement" if self.replaced_ids(entry) else "transmission"

    def document(self, uri: str) -> DocumentEntry | None:
        """The entry whose ``URI`` is ``uri`` (compared without regard to case), if any."""
        wanted = uri.casefold()
        return next((entry for entry in self.documents if entry.uri.casefold() == wanted), None)

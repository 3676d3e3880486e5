"""The records read from the directory's resources: a practitioner, a role, an organisation, and a page of them.

:class:`Practitioner`, :class:`PractitionerRole` and :class:`Organization` are light records of the FHIR resources
searched for mailboxes; a :class:`Page` holds those of one searchset page, and gives their
:class:`~mssante.directory.DirectoryMailbox` values completed from one another (:func:`page_mailboxes`).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import TypeAlias

import attrs

from mssante.directory._fhir_mailboxes import merge_mailboxes
from mssante.directory._models import DirectoryMailbox, Person, Structure
from mssante.report import Report

__all__ = [
    "FINESS_SYSTEM",
    "IDNPS_SYSTEM",
    "IDNST_SYSTEM",
    "RPPS_SYSTEMS",
    "Organization",
    "Page",
    "Practitioner",
    "PractitionerRole",
    "Resource",
    "ResourceType",
    "page_mailboxes",
]

RPPS_SYSTEMS = ("https://rpps.esante.gouv.fr", "http://rpps.fr")
"""Identifier systems of RPPS numbers: v2 (IG 1.x), and the v1 one still seen in answers."""

IDNPS_SYSTEM = "urn:oid:1.2.250.1.71.4.2.1"
"""Identifier system of the IdNat_PS (``8`` + RPPS, ...)."""

IDNST_SYSTEM = "urn:oid:1.2.250.1.71.4.2.2"
"""Identifier system of the IdNat_Struct (``1`` + FINESS, ...)."""

FINESS_SYSTEM = "https://finess.esante.gouv.fr"
"""Identifier system of FINESS numbers."""


class ResourceType(str, enum.Enum):
    """The resources searched for mailboxes."""

    PRACTITIONER = "Practitioner"
    PRACTITIONER_ROLE = "PractitionerRole"
    ORGANIZATION = "Organization"

    def __str__(self) -> str:
        return self.value


@attrs.frozen(kw_only=True)
class Practitioner:
    """A ``Practitioner`` of the directory: the person and the mailboxes on the resource.

    The RPPS is read from the ``https://rpps.esante.gouv.fr`` or ``http://rpps.fr`` identifier, or else from an
    IdNat_PS ``8`` + RPPS. Identifiers are kept as the directory gives them (their keys are not checked).
    """

    id: str = ""
    active: bool | None = None
    person: Person
    mailboxes: tuple[DirectoryMailbox, ...] = ()

    @property
    def reference(self) -> str:
        """``Practitioner/<id>``, as references name it."""
        return f"Practitioner/{self.id}"


@attrs.frozen(kw_only=True)
class PractitionerRole:
    """A ``PractitionerRole`` (situation d'exercice): its references and the mailboxes on the resource."""

    id: str = ""
    active: bool | None = None
    practitioner: str = ""
    """The reference to the practitioner, ``Practitioner/<id>`` (empty when absent)."""
    organization: str = ""
    """The reference to the organisation, ``Organization/<id>`` (empty when absent)."""
    mailboxes: tuple[DirectoryMailbox, ...] = ()

    @property
    def reference(self) -> str:
        """``PractitionerRole/<id>``."""
        return f"PractitionerRole/{self.id}"


@attrs.frozen(kw_only=True)
class Organization:
    """An ``Organization`` of the directory: the structure, its identifiers and its mailboxes."""

    id: str = ""
    active: bool | None = None
    structure: Structure
    idnst: str = ""
    """The IdNat_Struct (``urn:oid:1.2.250.1.71.4.2.2``), when given."""
    finess: str = ""
    """The FINESS number (``https://finess.esante.gouv.fr``), when given."""
    mailboxes: tuple[DirectoryMailbox, ...] = ()

    @property
    def reference(self) -> str:
        """``Organization/<id>``."""
        return f"Organization/{self.id}"


Resource: TypeAlias = Practitioner | PractitionerRole | Organization


@attrs.frozen(kw_only=True)
class Page:
    """One page of search results: the records, the ``next`` link, the total when given, and a report.

    The report has the warnings on what was skipped (malformed entries, invalid addresses...).
    """

    resources: tuple[Resource, ...] = ()
    total: int | None = None
    next: str | None = None
    report: Report = attrs.Factory(Report)

    @property
    def mailboxes(self) -> tuple[DirectoryMailbox, ...]:
        """The page's mailboxes, one per address, with the person and structure the page tells.

        A role's mailboxes get the person and structure of the practitioner and organisation it references
        when they are on the page (``_include``/``_revinclude``); mailboxes seen on several resources are merged.
        """
        return page_mailboxes(self.resources)


def page_mailboxes(resources: Iterable[Resource]) -> tuple[DirectoryMailbox, ...]:
    """The mailboxes of ``resources``, roles' ones completed from the practitioners and organisations given."""
    records = tuple(resources)
    people = {r.reference: r.person for r in records if isinstance(r, Practitioner) and r.id}
    structures = {r.reference: r.structure for r in records if isinstance(r, Organization) and r.id}
    found: list[DirectoryMailbox] = []
    for record in records:
        if isinstance(record, PractitionerRole):
            person, structure = people.get(record.practitioner), structures.get(record.organization)
            found.extend(
                attrs.evolve(mailbox, person=mailbox.person or person, structure=mailbox.structure or structure)
                for mailbox in record.mailboxes
            )
        else:
            found.extend(record.mailboxes)
    return merge_mailboxes(found)

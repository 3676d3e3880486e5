"""The values read from the header of a CDA R2 document: its patient, authors, recipients and the header itself."""

from __future__ import annotations

import attrs

from mssante.identifiers import Ins
from mssante.report import Finding, Report
from mssante.xdm._model import Coding

__all__ = ["CdaAuthor", "CdaHeader", "CdaPatient", "CdaRecipient"]


def _mailboxes(telecoms: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(value[len("mailto:") :] for value in telecoms if value[:7].lower() == "mailto:")


@attrs.frozen(kw_only=True)
class CdaPatient:
    """The patient of ``recordTarget/patientRole``: INS, other ids and the INS traits as the document writes them."""

    ins: Ins | None = None
    """The INS (``id`` under an INS authority OID): production NIR/NIA first, then TEST/DEMO, document order."""
    other_ids: tuple[tuple[str, str], ...] = ()
    """The other ids with an extension ``(root, extension)``, such as the IPP; never an INS or a legacy INS-C."""
    invalid_ins: tuple[tuple[str, str], ...] = ()
    """The ids under an INS authority that fail the INS check (key, length), ``(root, extension)`` as read: kept,
    never dropped; when there is no valid INS, the first with an extension is the patientId, as read."""
    birth_family: str | None = None
    """The birth name: the ``family`` qualified ``BR``, else the first ``family``."""
    used_family: str | None = None
    """The used name: the ``family`` qualified ``CL``."""
    given_names: str | None = None
    """All birth first names, space-joined: the unqualified ``given`` (else those qualified ``BR``)."""
    first_given: str | None = None
    """The first birth first name: the ``given`` qualified ``BR``, else the first ``given`` not qualified ``CL``."""
    used_given: str | None = None
    """The used first name: the ``given`` qualified ``CL``."""
    gender: str | None = None
    """``administrativeGenderCode/@code`` (``F``, ``M``, ``U``)."""
    birth_date: str | None = None
    """``birthTime/@value``, as written (``YYYYMMDD``)."""
    birthplace_code: str | None = None
    """The INSEE code of the birthplace (``birthplace/place/addr/county``)."""
    birthplace_city: str | None = None
    """``birthplace/place/addr/city``."""
    telecoms: tuple[str, ...] = ()
    """``patientRole/telecom/@value`` (``tel:…``, ``mailto:…@patient.mssante.fr``)."""

    @property
    def mailboxes(self) -> tuple[str, ...]:
        """The e-mail addresses among the telecoms, without ``mailto:``."""
        return _mailboxes(self.telecoms)


@attrs.frozen(kw_only=True)
class CdaAuthor:
    """A person acting on the document (author, legal authenticator): who, with which specialty, for whom, when."""

    idnps_root: str | None = None
    """The root of the person's id (``1.2.250.1.71.4.2.1``, IdNat_PS, for a health professional)."""
    idnps: str | None = None
    """The extension of the person's id (the IdNat_PS); the IdNat_PS id is preferred, else the first."""
    family: str | None = None
    given: str | None = None
    specialty: Coding | None = None
    """``code`` of the assigned author or entity (JDV_J01 author specialty)."""
    organisation_name: str | None = None
    organisation_id_root: str | None = None
    organisation_id: str | None = None
    """The extension of ``representedOrganization/id`` (IdNat_Struct, root ``1.2.250.1.71.4.2.2``, preferred)."""
    time: str | None = None
    """``time/@value``, as written (HL7 TS)."""
    telecoms: tuple[str, ...] = ()


@attrs.frozen(kw_only=True)
class CdaRecipient:
    """An ``informationRecipient/intendedRecipient``: who the document is meant for, and how to reach them."""

    id_root: str | None = None
    id: str | None = None
    family: str | None = None
    given: str | None = None
    organisation_name: str | None = None
    telecoms: tuple[str, ...] = ()

    @property
    def mailboxes(self) -> tuple[str, ...]:
        """The e-mail addresses among the telecoms, without ``mailto:``."""
        return _mailboxes(self.telecoms)


@attrs.frozen(kw_only=True)
class CdaHeader:
    """The header values of a CDA R2 document that XDS metadata is derived from."""

    document_id: str
    """The XDS uniqueId: ``id/@root``, then ``^extension`` if there is one."""
    type_code: Coding
    """``ClinicalDocument/code`` (the XDS typeCode), scheme = code system OID."""
    patient: CdaPatient
    set_id: str | None = None
    """``setId``, formed like :attr:`document_id`."""
    version: str | None = None
    """``versionNumber/@value``."""
    title: str | None = None
    confidentiality: Coding | None = None
    language_code: str | None = None
    effective_time: str | None = None
    """``effectiveTime/@value`` as written (HL7 TS); :func:`ts_to_utc` gives the XDS creationTime."""
    template_ids: tuple[tuple[str, str], ...] = ()
    """The ``templateId`` of the document ``(root, extension)``, the extension empty when absent."""
    format_code: Coding | None = None
    """The XDS formatCode derived from :attr:`template_ids` (:func:`format_code_of`), None if none is known."""
    body_media_type: str | None = None
    """The media type of an unstructured body (``nonXMLBody/text/@mediaType``), None for a structured one."""
    author: CdaAuthor | None = None
    """The first author."""
    authors: tuple[CdaAuthor, ...] = ()
    custodian_name: str | None = None
    custodian_id_root: str | None = None
    custodian_id: str | None = None
    legal_authenticator: CdaAuthor | None = None
    healthcare_facility_type: Coding | None = None
    """``componentOf/encompassingEncounter/location/healthCareFacility/code``."""
    practice_setting: Coding | None = None
    """The first ``standardIndustryClassCode`` of ``documentationOf/serviceEvent/performer/assignedEntity/``
    ``representedOrganization``."""
    event_codes: tuple[Coding, ...] = ()
    """``documentationOf/serviceEvent/code`` of every service event."""
    service_start: str | None = None
    """``effectiveTime/low/@value`` (or ``@value``) of the first service event that has one, as written."""
    service_stop: str | None = None
    """``effectiveTime/high/@value`` of the first service event that has one, as written."""
    information_recipients: tuple[CdaRecipient, ...] = ()
    replaced_ids: tuple[str, ...] = ()
    """The ids of the documents this one replaces (``relatedDocument[@typeCode='RPLC']/parentDocument/id``, formed
    like :attr:`document_id`): the earlier versions of a document sent again to replace them."""
    findings: tuple[Finding, ...] = ()
    """What was noticed while reading and did not prevent it (warnings, information)."""

    @property
    def recipient_mailboxes(self) -> tuple[str, ...]:
        """The ``mailto:`` addresses of the information recipients, without ``mailto:``, in order."""
        return tuple(mailbox for recipient in self.information_recipients for mailbox in recipient.mailboxes)

    @property
    def report(self) -> Report:
        """The findings of the reading as a report on :attr:`document_id`."""
        return Report(findings=self.findings, subject=self.document_id)

"""Whose certificate is it: structure and person identifiers, names, host names, profession."""

from __future__ import annotations

import enum
from typing import Any

import attrs
from cryptography import x509
from cryptography.x509.oid import NameOID
from pyasn1.codec.der import decoder
from pyasn1.error import PyAsn1Error
from pyasn1.type import char, univ

from mssante.identifiers import IdNatStruct, Idnps, check
from mssante.pki import _codes
from mssante.pki._types import OID_GIP_CPS_2_3, OID_PRODUCT_CATEGORY, OID_PRODUCT_TYPE, OID_PROFESSION
from mssante.report import Finding

__all__ = ["Identity", "IdentityKind", "identify"]


class IdentityKind(str, enum.Enum):
    """What a certificate identifies: a server, an organisation or a person."""

    SERVER = "server"
    ORGANISATION = "organisation"
    PERSON = "person"
    UNKNOWN = "unknown"

    def __str__(self) -> str:
        return self.value


@attrs.frozen(kw_only=True)
class Identity:
    """The holder of an IGC Santé certificate, read from its subject, alternative names and extensions.

    ``structure`` is the IdNat_Struct of the subject's OU (``3`` + SIRET, ``1`` + FINESS ...);
    ``person`` the IdNat_PS of a person certificate's CN (``8`` + RPPS, ``0`` + ADELI);
    ``profession`` the TRE_G15 code of extension 1.2.250.1.71.1.2.7 (10 médecin, 60 infirmier ...).
    """

    kind: IdentityKind
    common_name: str | None = None
    organisation: str | None = None
    department: str | None = None
    structure: IdNatStruct | None = None
    person: Idnps | None = None
    given_name: str | None = None
    surname: str | None = None
    title: str | None = None
    fqdns: tuple[str, ...] = ()
    profession: int | None = None
    product_type: int | None = None
    product_category: int | None = None
    findings: tuple[Finding, ...] = attrs.field(default=(), eq=False)

    @property
    def identifier(self) -> IdNatStruct | Idnps | None:
        """The national identifier of the holder: the person's for a person, else the structure's."""
        return self.person if self.kind is IdentityKind.PERSON else self.structure

    @property
    def name(self) -> str | None:
        """A display name: given name and surname for a person, else the common name."""
        if self.kind is IdentityKind.PERSON and (self.given_name or self.surname):
            return " ".join(part for part in (self.given_name, self.surname) if part)
        return self.common_name

    def to_dict(self) -> dict[str, Any]:
        """The JSON form of ``mssante cert inspect``: ``kind``, ``type``, ``value``, ``name``, ``profession``..."""
        identifier = self.identifier
        return {
            "kind": self.kind.value,
            "type": identifier.TYPE.value if identifier else None,
            "value": str(identifier) if identifier else None,
            "name": self.name,
            "profession": self.profession,
            "organisation": self.organisation,
            "structure": str(self.structure) if self.structure else None,
            "fqdns": list(self.fqdns),
        }


def _attribute(name: x509.Name, oid: x509.ObjectIdentifier) -> str | None:
    values = name.get_attributes_for_oid(oid)
    return str(values[0].value) if values else None


def _private_extension(
    certificate: x509.Certificate, oid: x509.ObjectIdentifier, spec: Any
) -> tuple[Any, list[Finding]]:
    try:
        extension = certificate.extensions.get_extension_for_oid(oid)
    except x509.ExtensionNotFound:
        return None, []
    value = extension.value
    raw = value.value if isinstance(value, x509.UnrecognizedExtension) else b""
    try:
        decoded, rest = decoder.decode(raw, asn1Spec=spec)
    except (PyAsn1Error, TypeError, ValueError):
        decoded, rest = None, b"?"
    if decoded is None or rest:
        finding = _codes.BAD_PRIVATE_EXTENSION(f"extension {oid.dotted_string} is not a DER {type(spec).__name__}",
                                               where=oid.dotted_string)  # fmt: skip
        return None, [finding]
    return decoded, []


def _fqdns(certificate: x509.Certificate) -> tuple[str, ...]:
    try:
        san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return ()
    return tuple(name.lower() for name in san.get_values_for_type(x509.DNSName))


def identify(certificate: x509.Certificate, kind: IdentityKind | None = None) -> Identity:
    """The identity of a certificate's holder, with findings for what does not read as it should.

    ``kind`` says what the certificate is (from its profile); without it, a certificate with a
    DNS name is a server, one whose CN is an IdNat_PS a person, one with a structure OU an
    organisation.
    """
    subject = certificate.subject
    findings: list[Finding] = []
    common_name = _attribute(subject, NameOID.COMMON_NAME)
    organisation_unit = _attribute(subject, NameOID.ORGANIZATIONAL_UNIT_NAME)
    fqdns = _fqdns(certificate)

    person = None
    person_check = check(common_name or "", "idnps")
    if isinstance(person_check.identifier, Idnps):
        person = person_check.identifier
    structure = None
    structure_check = check(organisation_unit or "", "idnst") if organisation_unit else None
    if structure_check is not None and isinstance(structure_check.identifier, IdNatStruct):
        structure = structure_check.identifier

    if kind is None:
        kind = (IdentityKind.SERVER if fqdns else IdentityKind.PERSON if person
                else IdentityKind.ORGANISATION if structure else IdentityKind.UNKNOWN)  # fmt: skip
    if kind is IdentityKind.PERSON and person is None:
        reasons = "; ".join(finding.message for finding in person_check.report.errors)
        findings.append(_codes.BAD_PERSON_ID(f"CN {common_name!r} is not an IdNat_PS: {reasons}", where="subject.CN"))
    if kind in (IdentityKind.SERVER, IdentityKind.ORGANISATION) and structure is None:
        reasons = "; ".join(f.message for f in structure_check.report.errors) if structure_check else "no OU"
        findings.append(_codes.BAD_STRUCTURE_ID(f"OU {organisation_unit!r} is not an IdNat_Struct: {reasons}",
                                                where="subject.OU"))  # fmt: skip

    profession, found = _private_extension(certificate, OID_PROFESSION, univ.Integer())
    findings += found
    product_type, found = _private_extension(certificate, OID_PRODUCT_TYPE, univ.Integer())
    findings += found
    category, found = _private_extension(certificate, OID_PRODUCT_CATEGORY, univ.OctetString())
    findings += found
    _, found = _private_extension(certificate, OID_GIP_CPS_2_3, char.PrintableString())
    findings += found

    return Identity(
        kind=kind,
        common_name=common_name,
        organisation=_attribute(subject, NameOID.ORGANIZATION_NAME),
        department=_attribute(subject, NameOID.STATE_OR_PROVINCE_NAME) or _attribute(subject, NameOID.LOCALITY_NAME),
        structure=structure,
        person=person if kind is IdentityKind.PERSON else None,
        given_name=_attribute(subject, NameOID.GIVEN_NAME),
        surname=_attribute(subject, NameOID.SURNAME),
        title=_attribute(subject, NameOID.TITLE),
        fqdns=fqdns,
        profession=int(profession) if profession is not None else None,
        product_type=int(product_type) if product_type is not None else None,
        product_category=bytes(category)[0] if category is not None and len(bytes(category)) == 1 else None,
        findings=tuple(findings),
    )

"""Whose certificate is it: structure and person identifiers, names, host names, profession."""

from __future__ import annotations

import enum
from typing import Any, TypeVar

import attrs
from cryptography import x509
from cryptography.x509.oid import NameOID

from mssante.identifiers import IdentifierCheck, IdNatStruct, Idnps, check
from mssante.pki import codes as _codes
from mssante.pki._types import OID_GIP_CPS_2_3, OID_PRODUCT_CATEGORY, OID_PRODUCT_TYPE, OID_PROFESSION
from mssante.report import Finding

__all__ = ["Identity", "IdentityKind", "holder_words", "identify"]


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


_E = TypeVar("_E", bound=x509.ExtensionType)


class CertificateFacts:
    """What the checks of one certificate read from it, read once: extensions, subject attributes, identifiers.

    The profile, identity and purpose checks each need the extended key usage, key usage, subject alternative
    names and subject attributes; this reads each once, and runs each identifier check once. Reading the
    extensions raises ``ValueError`` when one cannot be parsed, as ``certificate.extensions`` does.
    """

    __slots__ = ("_attributes", "_checks", "_extensions", "certificate")

    def __init__(self, certificate: x509.Certificate) -> None:
        self.certificate = certificate
        self._extensions: dict[x509.ObjectIdentifier, x509.Extension[x509.ExtensionType]] | None = None
        self._attributes: dict[x509.ObjectIdentifier, list[x509.NameAttribute[str | bytes]]] | None = None
        self._checks: dict[tuple[str, str], IdentifierCheck] = {}

    def extension(self, oid: x509.ObjectIdentifier) -> x509.Extension[x509.ExtensionType] | None:
        """The first extension with this OID, or None."""
        extensions = self._extensions
        if extensions is None:
            extensions = {}
            for extension in self.certificate.extensions:
                extensions.setdefault(extension.oid, extension)
            self._extensions = extensions
        return extensions.get(oid)

    def value(self, kind: type[_E]) -> _E | None:
        """The value of the extension of this class, or None when absent."""
        extension = self.extension(kind.oid)
        value = extension.value if extension is not None else None
        return value if isinstance(value, kind) else None

    def attributes(self, oid: x509.ObjectIdentifier) -> list[x509.NameAttribute[str | bytes]]:
        """The subject attributes with this OID, in order (as ``Name.get_attributes_for_oid``)."""
        attributes = self._attributes
        if attributes is None:
            attributes = {}
            for attribute in self.certificate.subject:
                attributes.setdefault(attribute.oid, []).append(attribute)
            self._attributes = attributes
        return attributes.get(oid, [])

    def attribute(self, oid: x509.ObjectIdentifier) -> str | None:
        """The first subject attribute with this OID, as text, or None."""
        values = self.attributes(oid)
        return str(values[0].value) if values else None

    def check(self, text: str, kind: str) -> IdentifierCheck:
        """``mssante.identifiers.check(text, kind)``, run once per value."""
        key = (text, kind)
        result = self._checks.get(key)
        if result is None:
            result = self._checks[key] = check(text, kind)
        return result


# The DER of the private extensions as IGC Santé writes them: one primitive, short length, nothing after.
# Anything else is left to pyasn1, which also reads the other encodings it accepts (long lengths,
# constructed strings, an empty INTEGER) and decides what is malformed.
_INTEGER, _OCTET_STRING, _PRINTABLE_STRING = 0x02, 0x04, 0x13
_SPECS = {_INTEGER: "Integer", _OCTET_STRING: "OctetString", _PRINTABLE_STRING: "PrintableString"}


def _decode_other(raw: bytes, tag: int) -> tuple[Any, bytes]:
    """pyasn1's reading of an encoding other than the short DER: imported here, as few certificates need it."""
    from pyasn1.codec.der import decoder  # noqa: PLC0415 - loaded on the rare path only
    from pyasn1.error import PyAsn1Error  # noqa: PLC0415
    from pyasn1.type import char, univ  # noqa: PLC0415

    spec: Any = {_INTEGER: univ.Integer, _OCTET_STRING: univ.OctetString, _PRINTABLE_STRING: char.PrintableString}[tag]
    try:
        decoded, rest = decoder.decode(raw, asn1Spec=spec())
    except (PyAsn1Error, TypeError, ValueError):
        return None, b"?"
    return decoded, rest


def _decode_short(raw: bytes, tag: int) -> int | bytes | str | None:
    """The value of a short primitive DER of ``tag``, or None when it is not one (pyasn1 then decides)."""
    if not 2 <= len(raw) < 0x82 or raw[0] != tag or raw[1] != len(raw) - 2:  # a one-octet length is below 0x80
        return None
    content = raw[2:]
    if tag == _INTEGER:
        return int.from_bytes(content, "big", signed=True) if content else None
    if tag == _PRINTABLE_STRING:
        return content.decode("ascii") if content.isascii() else None
    return content


def _private_extension(facts: CertificateFacts, oid: x509.ObjectIdentifier, tag: int) -> tuple[Any, list[Finding]]:
    extension = facts.extension(oid)
    if extension is None:
        return None, []
    value = extension.value
    raw = value.value if isinstance(value, x509.UnrecognizedExtension) else b""
    decoded: Any = _decode_short(raw, tag)
    if decoded is not None:
        return decoded, []
    decoded, rest = _decode_other(raw, tag)
    if decoded is None or rest:
        finding = _codes.BAD_PRIVATE_EXTENSION(f"extension {oid.dotted_string} is not a DER {_SPECS[tag]}",
                                               where=oid.dotted_string)  # fmt: skip
        return None, [finding]
    return decoded, []


def _fqdns(facts: CertificateFacts) -> tuple[str, ...]:
    san = facts.value(x509.SubjectAlternativeName)
    if san is None:
        return ()
    return tuple(name.lower() for name in san.get_values_for_type(x509.DNSName))


def holder_words(identity: Identity) -> str:
    """Who holds the certificate, in words: ``an organisation: NAME (idnst 1750712184)``."""
    kind = {
        IdentityKind.SERVER: "a server",
        IdentityKind.ORGANISATION: "an organisation",
        IdentityKind.PERSON: "a person",
    }.get(identity.kind, "not identified")
    identifier = identity.identifier
    details = ", ".join(filter(None, [identity.name, f"{identifier.TYPE.value} {identifier}" if identifier else ""]))
    return f"{kind}: {details}" if details else kind


def identify(certificate: x509.Certificate, kind: IdentityKind | None = None) -> Identity:
    """The identity of a certificate's holder, with findings for what does not read as it should.

    ``kind`` says what the certificate is (from its profile); without it, a certificate with a
    DNS name is a server, one whose CN is an IdNat_PS a person, one with a structure OU an
    organisation.
    """
    return identity_of(CertificateFacts(certificate), kind)


def identity_of(facts: CertificateFacts, kind: IdentityKind | None = None) -> Identity:
    """:func:`identify` on what is already read from the certificate."""
    findings: list[Finding] = []
    common_name = facts.attribute(NameOID.COMMON_NAME)
    units = facts.attributes(NameOID.ORGANIZATIONAL_UNIT_NAME)
    organisation_unit = str(units[0].value) if len(units) == 1 else None  # a structure has exactly one OU
    fqdns = _fqdns(facts)

    person = None
    person_check = facts.check(common_name or "", "idnps") if kind in (None, IdentityKind.PERSON) else None
    if person_check is not None and isinstance(person_check.identifier, Idnps):
        person = person_check.identifier
    structure = None
    structure_check = facts.check(organisation_unit, "idnst") if organisation_unit else None
    if structure_check is not None and isinstance(structure_check.identifier, IdNatStruct):
        structure = structure_check.identifier

    if kind is None:
        kind = (IdentityKind.SERVER if fqdns else IdentityKind.PERSON if person
                else IdentityKind.ORGANISATION if structure else IdentityKind.UNKNOWN)  # fmt: skip
    if kind is IdentityKind.PERSON and person is None:
        if common_name is None:
            message = "the subject has no CN, so no IdNat_PS"
        else:
            reasons = "; ".join(finding.message for finding in person_check.report.errors) if person_check else ""
            message = f"CN {common_name!r} is not an IdNat_PS" + (f": {reasons}" if reasons else "")
        findings.append(_codes.BAD_PERSON_ID(message, where="subject.CN"))
    if kind in (IdentityKind.SERVER, IdentityKind.ORGANISATION) and structure is None:
        if structure_check is not None:
            reasons = "; ".join(f.message for f in structure_check.report.errors)
            message = f"OU {organisation_unit!r} is not an IdNat_Struct" + (f": {reasons}" if reasons else "")
        elif units:  # an empty OU, or several: which one would hold the structure identifier is not known
            several = len(units) > 1
            message = f"the subject has {len(units)} OUs, not one" if several else "the subject's OU is empty"
            message += ", so no IdNat_Struct"
        else:
            message = "the subject has no OU, so no IdNat_Struct"
        findings.append(_codes.BAD_STRUCTURE_ID(message, where="subject.OU"))

    profession, found = _private_extension(facts, OID_PROFESSION, _INTEGER)
    findings += found
    product_type, found = _private_extension(facts, OID_PRODUCT_TYPE, _INTEGER)
    findings += found
    category, found = _private_extension(facts, OID_PRODUCT_CATEGORY, _OCTET_STRING)
    findings += found
    _, found = _private_extension(facts, OID_GIP_CPS_2_3, _PRINTABLE_STRING)
    findings += found

    return Identity(
        kind=kind,
        common_name=common_name,
        organisation=facts.attribute(NameOID.ORGANIZATION_NAME),
        department=facts.attribute(NameOID.STATE_OR_PROVINCE_NAME) or facts.attribute(NameOID.LOCALITY_NAME),
        structure=structure,
        person=person if kind is IdentityKind.PERSON else None,
        given_name=facts.attribute(NameOID.GIVEN_NAME),
        surname=facts.attribute(NameOID.SURNAME),
        title=facts.attribute(NameOID.TITLE),
        fqdns=fqdns,
        profession=int(profession) if profession is not None else None,
        product_type=int(product_type) if product_type is not None else None,
        product_category=bytes(category)[0] if category is not None and len(bytes(category)) == 1 else None,
        findings=tuple(findings),
    )

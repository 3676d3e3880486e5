"""HL7 v2 datatypes of XDS metadata slots: CX, XCN, XON, XTN, HD and coded values, built and read.

Each value object is validated at construction and ``str()`` gives its encoded form, with the HL7
escape sequences (``\\F\\`` ``\\S\\`` ``\\T\\`` ``\\R\\`` ``\\E\\``) for separators inside text. ``parse()``
is tolerant of what real systems send (trailing empty components, a missing or lower-case ``ISO``)
and strict on everything else: control characters, stray separators, unknown escapes and oversized
input raise :class:`~mssante.errors.InvalidInput` with a ``MSS-HLV-*`` finding.

>>> str(Cx.for_ins(Ins.parse("279035121518989", authority="test")))
'279035121518989^^^&1.2.250.1.213.1.4.10&ISO^NH'
>>> Xcn.parse(r"^O\\S\\BRIEN^Ann").family
'O^BRIEN'
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import attrs

from mssante.addresses import Address
from mssante.errors import InvalidInput
from mssante.identifiers import IDNPS_OID, IDNST_OID, IdNatStruct, Idnps, Ins, InsAuthority
from mssante.report import Finding, Report, Severity, define_code

__all__ = [
    "MAX_LENGTH",
    "CodedValue",
    "Cx",
    "HierarchicDesignator",
    "IntendedRecipient",
    "Xcn",
    "Xon",
    "Xtn",
    "escape",
    "unescape",
]

ERROR = Severity.ERROR

TOO_LONG = define_code("MSS-HLV-001", ERROR, "the value is longer than any HL7 v2 value of XDS metadata")
BAD_CHARACTER = define_code(
    "MSS-HLV-002", ERROR, "the value holds a control character, a line break or an unpaired surrogate"
)
BAD_ESCAPE = define_code(
    "MSS-HLV-003", ERROR, "a backslash that starts none of the escapes \\F\\, \\S\\, \\T\\, \\R\\, \\E\\"
)
MISPLACED_SEPARATOR = define_code("MSS-HLV-004", ERROR, "a separator (|, ~, ^ or &) where the datatype has none")
MISSING_COMPONENT = define_code("MSS-HLV-005", ERROR, "a required component is empty")
BAD_AUTHORITY = define_code(
    "MSS-HLV-006", ERROR, "the assigning authority (HD) is malformed: universal id and its type go together"
)
NOT_AN_OID = define_code("MSS-HLV-007", ERROR, "a universal id of type ISO is not an OID")
AUTHORITY_MISPLACED = define_code(
    "MSS-HLV-008", ERROR, "the assigning authority is in CX.3, not CX.4: a ^ is missing before it"
)
BAD_INS = define_code("MSS-HLV-009", ERROR, "the identifier under an INS authority is not a valid INS matricule")
INS_WITHOUT_AUTHORITY = define_code(
    "MSS-HLV-010", ERROR, "an INS in metadata needs its authority OID (NIR, NIA, TEST or DEMO)"
)
BAD_EMAIL = define_code("MSS-HLV-011", ERROR, "the XTN communication address is not an e-mail address")
BARE_EMAIL = define_code("MSS-HLV-012", ERROR, "a bare e-mail address where an XTN (^^Internet^address) is expected")
UNSUPPORTED_TELECOM = define_code(
    "MSS-HLV-013", ERROR, "only e-mail XTN values (equipment type Internet or X.400) are supported"
)

MAX_LENGTH = 4096
"""No encoded value of an XDS slot is longer; longer input is refused unread."""

_ESCAPES = {"F": "|", "S": "^", "T": "&", "R": "~", "E": "\\"}
_ESCAPE_OF = {char: f"\\{letter}\\" for letter, char in _ESCAPES.items()}
_ESCAPE_OF_TABLE = str.maketrans(_ESCAPE_OF)
# C0 and C1 controls (tab, CR and LF among them), line and paragraph separators, surrogates, non-characters.
_BAD_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufffe\uffff]")
_OID = re.compile(r"[0-2](?:\.(?:0|[1-9][0-9]*))+", re.ASCII)
# HL7 table 0301, Universal ID type.
_UNIVERSAL_ID_TYPES = ("DNS", "GUID", "HCD", "HL7", "ISO", "L", "M", "N", "Random", "URI", "UUID", "x400", "x500")
_UNIVERSAL_ID_TYPE_OF = {kind.upper(): kind for kind in _UNIVERSAL_ID_TYPES}
_EMAIL_EQUIPMENT = {"INTERNET": "Internet", "X.400": "X.400"}
_INS_AUTHORITIES = {authority.value: authority for authority in InsAuthority}

_T = TypeVar("_T")
_N = TypeVar("_N", Idnps, IdNatStruct)


class _Refusal(Exception):
    """Internal: findings that refuse a value, turned into InvalidInput at the public edge."""

    def __init__(self, *findings: Finding) -> None:
        super().__init__(findings[0].message)
        self.findings = findings


def _describe(char: str) -> str:
    return f"U+{ord(char):04X}"


def _judge_text(value: object, where: str, *, limit: int = MAX_LENGTH) -> str:
    """The text itself when it can appear in an HL7 v2 value; a refusal otherwise."""
    if not isinstance(value, str):
        raise TypeError(f"{where or 'an HL7 v2 value'} is given as str, not {type(value).__name__}")
    if len(value) > limit:
        raise _Refusal(TOO_LONG(f"{len(value)} characters; at most {limit} are read", where=where))
    if bad := _BAD_CHARACTERS.search(value):
        raise _Refusal(
            BAD_CHARACTER(
                f"character {_describe(bad.group())} at position {bad.start() + 1} has no place in an HL7 v2 value",
                where=where,
            )
        )
    return value


def escape(text: str) -> str:
    """Text with the HL7 separators written as escape sequences (``^`` becomes ``\\S\\``, ...)."""
    return text.translate(_ESCAPE_OF_TABLE)


def _unescape(text: str, where: str) -> str:
    if "\\" not in text:
        return text
    out: list[str] = []
    position = 0
    while (start := text.find("\\", position)) >= 0:
        out.append(text[position:start])
        letter = text[start + 1 : start + 2]
        if letter not in _ESCAPES or text[start + 2 : start + 3] != "\\":
            raise _Refusal(
                BAD_ESCAPE(
                    f"the backslash at position {start + 1} does not start \\F\\, \\S\\, \\T\\, \\R\\ or \\E\\",
                    where=where,
                )
            )
        out.append(_ESCAPES[letter])
        position = start + 3
    out.append(text[position:])
    return "".join(out)


def unescape(text: str) -> str:
    """Text with the HL7 escape sequences undone; :class:`~mssante.errors.InvalidInput` on any other backslash."""
    with _Reading("HL7 v2 text", text):
        return _unescape(_judge_text(text, ""), "")


def _invalid(kind: str, subject: str, findings: Sequence[Finding]) -> InvalidInput:
    shown = subject[:80]
    return InvalidInput(
        f"{shown!r} is not a valid {kind}: {findings[0].message}", Report(findings=findings, subject=shown)
    )


class _Reading:
    """Turn refusals, and invalid values built while reading, into one InvalidInput about ``text``."""

    __slots__ = ("kind", "text")

    def __init__(self, kind: str, text: object) -> None:
        self.kind = kind
        self.text = text

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, _traceback: object) -> None:
        if error is None:
            return
        subject = self.text if isinstance(self.text, str) else repr(self.text)
        if isinstance(error, _Refusal):
            raise _invalid(self.kind, subject, error.findings) from None
        if isinstance(error, InvalidInput):
            raise _invalid(self.kind, subject, error.report.findings or [MISSING_COMPONENT(str(error))]) from None


def _checked(instance: Any, kind: str, judge: Callable[[], None]) -> None:
    """Run a constructor's judgement: refusals become InvalidInput, and the encoded form must fit."""
    try:
        judge()
        encoded = str(instance)
        if len(encoded) > MAX_LENGTH:
            raise _Refusal(TOO_LONG(f"the encoded {kind} has {len(encoded)} characters; at most {MAX_LENGTH}"))
    except _Refusal as refusal:
        raise _invalid(kind, repr(instance), refusal.findings) from None


class _Located:
    """Refusals and invalid values of a part of a larger value, their findings located under ``where``."""

    __slots__ = ("where",)

    def __init__(self, where: str) -> None:
        self.where = where

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, _traceback: object) -> None:
        if error is None:
            return
        if isinstance(error, _Refusal):
            raise _Refusal(*(finding.located(self.where) for finding in error.findings)) from None
        if isinstance(error, InvalidInput):
            findings = error.report.findings or (MISSING_COMPONENT(str(error)),)
            raise _Refusal(*(finding.located(self.where) for finding in findings)) from None


def _nested(parse: Callable[[str], _T], text: str, where: str) -> _T:
    """Parse a part of a larger value, its findings located under ``where``."""
    with _Located(where):
        return parse(text)


def _refuse_separators(text: str, kind: str, separators: str = "|~") -> None:
    for separator in separators:
        if separator in text:
            name = {"|": "a field separator |", "~": "a repetition separator ~"}.get(separator, repr(separator))
            raise _Refusal(MISPLACED_SEPARATOR(f"{name} inside one {kind}"))


def _components(text: str, kind: str, most: int) -> list[str]:
    """The raw (still escaped) components of one encoded value, at least ``most`` of them (padded with "")."""
    _judge_text(text, kind)
    _refuse_separators(text, kind)
    components = text.split("^")
    if len(components) > most:
        raise _Refusal(MISPLACED_SEPARATOR(f"{len(components)} components; a {kind} has at most {most}"))
    return components + [""] * (most - len(components))


def _leaf(raw: str, where: str) -> str:
    """The text of a component without subcomponents (trailing empty ones tolerated), unescaped."""
    head, _, rest = raw.partition("&")
    if rest.strip("&"):
        raise _Refusal(MISPLACED_SEPARATOR(f"subcomponents (&) where {where} has none", where=where))
    return _unescape(head, where)


def _join(separator: str, parts: Sequence[str]) -> str:
    """Parts joined by a separator, the trailing empty ones left out."""
    kept = list(parts)
    while kept and not kept[-1]:
        kept.pop()
    return separator.join(kept)


def _judge_type(value: object, kind: type | tuple[type, ...], where: str) -> None:
    if not isinstance(value, kind):
        raise TypeError(f"{where} is given as {kind}, not {type(value).__name__}")


def _judge_authority(value: object, where: str) -> None:
    _judge_type(value, (HierarchicDesignator, type(None)), where)


def _judge_fields(instance: Any, kind: str, names: Sequence[str]) -> None:
    for name in names:
        _judge_text(getattr(instance, name), f"{kind}.{name}")


@attrs.frozen(kw_only=True)
class HierarchicDesignator:
    """An HD inside a component: ``namespace&universal_id&universal_id_type`` (``&1.2.250.1.71.4.2.1&ISO``).

    The universal id and its type (HL7 table 0301) go together; an ``ISO`` universal id is an OID.
    Reading tolerates ``iso`` in any case, ``urn:oid:`` in front of an OID and a missing type after one.
    """

    namespace: str = ""
    universal_id: str = ""
    universal_id_type: str = ""

    def __attrs_post_init__(self) -> None:
        _checked(self, "HD", self._judge)

    def _judge(self) -> None:
        _judge_fields(self, "HD", ("namespace", "universal_id", "universal_id_type"))
        if not (self.namespace or self.universal_id or self.universal_id_type):
            raise _Refusal(MISSING_COMPONENT("an assigning authority needs a namespace or a universal id"))
        if bool(self.universal_id) != bool(self.universal_id_type):
            raise _Refusal(BAD_AUTHORITY("a universal id and its type go together", where="HD.3"))
        if self.universal_id_type and self.universal_id_type not in _UNIVERSAL_ID_TYPES:
            raise _Refusal(
                BAD_AUTHORITY(
                    f"{self.universal_id_type[:40]!r} is not a universal id type of HL7 table 0301", where="HD.3"
                )
            )
        if self.universal_id_type == "ISO" and not _OID.fullmatch(self.universal_id):
            raise _Refusal(NOT_AN_OID(f"{self.universal_id[:80]!r} is not an OID", where="HD.2"))

    @classmethod
    def iso(cls, oid: str, *, namespace: str = "") -> HierarchicDesignator:
        """The HD of an OID: ``&<oid>&ISO``."""
        return cls(namespace=namespace, universal_id=oid, universal_id_type="ISO")

    @classmethod
    def parse(cls, text: str) -> HierarchicDesignator:
        """Read an HD as found inside a component (``&1.2.250.1.213.1.4.8&ISO``)."""
        with _Reading("HD", text):
            return cls._read(text)

    @classmethod
    def _read(cls, text: str) -> HierarchicDesignator:
        _judge_text(text, "HD")
        _refuse_separators(text, "HD", "|~^")
        parts = text.split("&")
        if len(parts) > 3 and any(parts[3:]):
            raise _Refusal(MISPLACED_SEPARATOR(f"{len(parts)} subcomponents; an HD has 3"))
        parts += ["", ""]
        namespace, universal_id, kind = (_unescape(part, f"HD.{n}") for n, part in enumerate(parts[:3], 1))
        kind = _UNIVERSAL_ID_TYPE_OF.get(kind.upper(), kind)
        if kind in ("", "ISO") and universal_id.lower().startswith("urn:oid:"):
            universal_id = universal_id[len("urn:oid:") :]
        if not kind and _OID.fullmatch(universal_id):
            kind = "ISO"
        return cls(namespace=namespace, universal_id=universal_id, universal_id_type=kind)

    @classmethod
    def _optional(cls, raw: str, where: str) -> HierarchicDesignator | None:
        """The HD of a component, or None when it is empty (``&&`` included)."""
        if not raw.strip("&"):
            return None
        with _Located(where):
            return cls._read(raw)

    @property
    def oid(self) -> str | None:
        """The universal id when it is an OID (type ``ISO``), else None."""
        return self.universal_id if self.universal_id_type == "ISO" else None

    def __str__(self) -> str:
        return _join("&", [escape(self.namespace), escape(self.universal_id), self.universal_id_type])


def _encoded_authority(authority: HierarchicDesignator | None) -> str:
    return str(authority) if authority is not None else ""


def _oid_of(authority: HierarchicDesignator | None) -> str | None:
    return authority.oid if authority is not None else None


@attrs.frozen(kw_only=True)
class Cx:
    """A patient identifier (CX; patientId, sourcePatientId): ``id^^^&OID&ISO^TYPE``.

    Under an INS authority OID the id must be a valid INS matricule. Reading ignores the check
    digit (CX.2, CX.3) and the components after CX.5 (assigning facility, dates); writing leaves
    them out.
    """

    id: str
    authority: HierarchicDesignator | None = None
    type_code: str = ""

    def __attrs_post_init__(self) -> None:
        _checked(self, "CX", self._judge)

    def _judge(self) -> None:
        _judge_fields(self, "CX", ("id", "type_code"))
        _judge_authority(self.authority, "CX.4")
        if not self.id:
            raise _Refusal(MISSING_COMPONENT("the identifier (CX.1) is empty", where="CX.1"))
        authority = _INS_AUTHORITIES.get(_oid_of(self.authority) or "")
        if authority is not None:
            try:
                Ins(value=self.id, authority=authority)
            except InvalidInput as error:
                raise _Refusal(
                    BAD_INS(f"{self.id[:40]!r} is not a valid INS matricule under {authority.value}", where="CX.1"),
                    *(finding.located("CX.1") for finding in error.report.findings),
                ) from None

    @classmethod
    def for_ins(cls, ins: Ins) -> Cx:
        """The CX of an INS: ``NIR^^^&<authority OID>&ISO^NH``; the INS must carry its authority."""
        if ins.authority is None:
            finding = INS_WITHOUT_AUTHORITY(f"the INS {ins.value} has no authority: give its OID", where="CX.4")
            raise _invalid("CX", ins.value, [finding])
        return cls(id=ins.value, authority=HierarchicDesignator.iso(ins.authority.value), type_code="NH")

    @classmethod
    def parse(cls, text: str) -> Cx:
        """Read a CX as written in a slot or an ExternalIdentifier value."""
        with _Reading("CX", text):
            components = _components(text, "CX", 10)
            if "&" in components[1] + components[2] and not components[3]:
                raise _Refusal(
                    AUTHORITY_MISPLACED("the assigning authority is in CX.2 or CX.3: write id^^^&OID&ISO", where="CX.4")
                )
            return cls(
                id=_leaf(components[0], "CX.1"),
                authority=HierarchicDesignator._optional(components[3], "CX.4"),
                type_code=_leaf(components[4], "CX.5"),
            )

    @property
    def ins(self) -> Ins | None:
        """The INS matricule when the authority is an INS OID (NIR, NIA, TEST, DEMO), else None."""
        authority = _INS_AUTHORITIES.get(_oid_of(self.authority) or "")
        return Ins(value=self.id, authority=authority) if authority is not None else None

    def __str__(self) -> str:
        return _join("^", [escape(self.id), "", "", _encoded_authority(self.authority), escape(self.type_code)])


_XCN_TEXT = ("id", "family", "given", "further_given", "suffix", "prefix", "degree", "name_type", "type_code")


@attrs.frozen(kw_only=True)
class Xcn:
    """A person (XCN; authorPerson, legalAuthenticator): ``ID^FAMILY^GIVEN^^^^^^&OID&ISO^D^^^TYPE``.

    Components: 1 id, 2 family, 3 given, 4 further given names, 5 suffix, 6 prefix, 7 degree,
    9 assigning authority, 10 name type, 13 identifier type. An id or a family name is required.
    The id is kept as written, even under the IdNat_PS OID; :attr:`idnps` gives it checked.
    """

    id: str = ""
    family: str = ""
    given: str = ""
    further_given: str = ""
    suffix: str = ""
    prefix: str = ""
    degree: str = ""
    authority: HierarchicDesignator | None = None
    name_type: str = ""
    type_code: str = ""

    def __attrs_post_init__(self) -> None:
        _checked(self, "XCN", self._judge)

    def _judge(self) -> None:
        _judge_fields(self, "XCN", _XCN_TEXT)
        _judge_authority(self.authority, "XCN.9")
        if not (self.id or self.family):
            raise _Refusal(MISSING_COMPONENT("an XCN needs an id (XCN.1) or a family name (XCN.2)", where="XCN.1"))

    @classmethod
    def for_idnps(cls, idnps: Idnps | str, *, family: str, given: str = "", prefix: str = "") -> Xcn:
        """A health professional by IdNat_PS: ``ID^FAMILY^GIVEN^^^^^^&1.2.250.1.71.4.2.1&ISO^D^^^IDNPS``."""
        value = idnps.value if isinstance(idnps, Idnps) else idnps
        return cls(
            id=value,
            family=family,
            given=given,
            prefix=prefix,
            authority=HierarchicDesignator.iso(IDNPS_OID),
            name_type="D",
            type_code="IDNPS",
        )

    @classmethod
    def parse(cls, text: str) -> Xcn:
        """Read an XCN as written in a slot."""
        with _Reading("XCN", text):
            c = _components(text, "XCN", 23)
            return cls(
                id=_leaf(c[0], "XCN.1"),
                family=_leaf(c[1], "XCN.2"),
                given=_leaf(c[2], "XCN.3"),
                further_given=_leaf(c[3], "XCN.4"),
                suffix=_leaf(c[4], "XCN.5"),
                prefix=_leaf(c[5], "XCN.6"),
                degree=_leaf(c[6], "XCN.7"),
                authority=HierarchicDesignator._optional(c[8], "XCN.9"),
                name_type=_leaf(c[9], "XCN.10"),
                type_code=_leaf(c[12], "XCN.13"),
            )

    @property
    def idnps(self) -> Idnps | None:
        """The IdNat_PS when the authority is its OID (1.2.250.1.71.4.2.1) and the id passes its checks, else None.

        ANS test data often fail the key: :func:`mssante.identifiers.check` says why an id is refused.
        """
        return _national(Idnps, self.id) if _oid_of(self.authority) == IDNPS_OID else None

    def __str__(self) -> str:
        texts = [escape(text) for text in (self.id, self.family, self.given, self.further_given)]
        texts += [escape(self.suffix), escape(self.prefix), escape(self.degree), ""]
        texts += [_encoded_authority(self.authority), escape(self.name_type), "", "", escape(self.type_code)]
        return _join("^", texts)


def _national(kind: type[_N], value: str) -> _N | None:
    try:
        return kind(value=value)
    except InvalidInput:
        return None


@attrs.frozen(kw_only=True)
class Xon:
    """An organisation (XON; authorInstitution): ``NAME^^^^^&OID&ISO^IDNST^^^ID``.

    Components: 1 name (required), 6 assigning authority, 7 identifier type, 10 identifier. Reading
    takes the identifier from the deprecated XON.3 when XON.10 is empty. The identifier is kept as
    written, even under the IdNat_Struct OID; :attr:`id_nat_struct` gives it checked.
    """

    name: str
    authority: HierarchicDesignator | None = None
    type_code: str = ""
    identifier: str = ""

    def __attrs_post_init__(self) -> None:
        _checked(self, "XON", self._judge)

    def _judge(self) -> None:
        _judge_fields(self, "XON", ("name", "type_code", "identifier"))
        _judge_authority(self.authority, "XON.6")
        if not self.name:
            raise _Refusal(MISSING_COMPONENT("the organisation name (XON.1) is empty", where="XON.1"))

    @classmethod
    def for_structure(cls, name: str, id_nat_struct: IdNatStruct | str) -> Xon:
        """A structure by IdNat_Struct: ``NAME^^^^^&1.2.250.1.71.4.2.2&ISO^IDNST^^^ID``."""
        value = id_nat_struct.value if isinstance(id_nat_struct, IdNatStruct) else id_nat_struct
        return cls(name=name, authority=HierarchicDesignator.iso(IDNST_OID), type_code="IDNST", identifier=value)

    @classmethod
    def parse(cls, text: str) -> Xon:
        """Read an XON as written in a slot."""
        with _Reading("XON", text):
            c = _components(text, "XON", 10)
            return cls(
                name=_leaf(c[0], "XON.1"),
                authority=HierarchicDesignator._optional(c[5], "XON.6"),
                type_code=_leaf(c[6], "XON.7"),
                identifier=_leaf(c[9], "XON.10") or _leaf(c[2], "XON.3"),
            )

    @property
    def id_nat_struct(self) -> IdNatStruct | None:
        """The IdNat_Struct when the authority is its OID (1.2.250.1.71.4.2.2) and the id passes its checks, else None.

        ANS test data often fail the key (``2801234567`` in the CI-SIS examples): the value is kept,
        and :func:`mssante.identifiers.check` says why it is refused.
        """
        return _national(IdNatStruct, self.identifier) if _oid_of(self.authority) == IDNST_OID else None

    def __str__(self) -> str:
        texts = [escape(self.name), "", "", "", "", _encoded_authority(self.authority), escape(self.type_code)]
        return _join("^", [*texts, "", "", escape(self.identifier)])


@attrs.frozen(kw_only=True)
class Xtn:
    """An e-mail address as XTN (telecom, intendedRecipient): ``^^Internet^address``.

    Only e-mail XTN values are held: equipment type ``Internet`` (or ``X.400``, seen in French HL7 v2
    for MSSanté addresses), the address in XTN.4. Reading takes a missing equipment type as Internet.
    """

    address: Address
    use_code: str = ""
    equipment_type: str = "Internet"

    def __attrs_post_init__(self) -> None:
        _checked(self, "XTN", self._judge)

    def _judge(self) -> None:
        _judge_type(self.address, Address, "XTN.4")
        _judge_fields(self, "XTN", ("use_code", "equipment_type"))
        if self.equipment_type not in _EMAIL_EQUIPMENT.values():
            raise _Refusal(UNSUPPORTED_TELECOM(f"the equipment type is {self.equipment_type[:40]!r}", where="XTN.3"))

    @classmethod
    def for_email(cls, address: Address | str) -> Xtn:
        """The XTN of an e-mail address (``^^Internet^address``); a text address is validated first."""
        if isinstance(address, str):
            with _Reading("XTN", address):
                address = _email(address, "XTN.4")
        return cls(address=address)

    @classmethod
    def parse(cls, text: str) -> Xtn:
        """Read an XTN as written in a slot."""
        with _Reading("XTN", text):
            c = _components(text, "XTN", 18)
            if "^" not in text and "@" in text:
                raise _Refusal(BARE_EMAIL(f"write ^^Internet^{text[:80]}", where="XTN.4"))
            equipment = _leaf(c[2], "XTN.3")
            kind = _EMAIL_EQUIPMENT.get(equipment.upper(), "" if equipment else "Internet")
            if not kind:
                raise _Refusal(UNSUPPORTED_TELECOM(f"the equipment type is {equipment[:40]!r}", where="XTN.3"))
            raw = _leaf(c[3], "XTN.4")
            if not raw:
                raise _Refusal(MISSING_COMPONENT("the e-mail address (XTN.4) is empty", where="XTN.4"))
            return cls(address=_email(raw, "XTN.4"), use_code=_leaf(c[1], "XTN.2"), equipment_type=kind)

    def __str__(self) -> str:
        return _join("^", ["", escape(self.use_code), self.equipment_type, escape(str(self.address))])


def _email(text: str, where: str) -> Address:
    try:
        return Address.parse(text)
    except InvalidInput as error:
        raise _Refusal(
            BAD_EMAIL(f"{text[:80]!r} is not an e-mail address", where=where),
            *(finding.located(where) for finding in error.report.findings),
        ) from None


@attrs.frozen(kw_only=True)
class IntendedRecipient:
    """An intendedRecipient value: ``XON|XCN|XTN``, any part empty but not all (``||^^Internet^a@b.fr``)."""

    organization: Xon | None = None
    person: Xcn | None = None
    telecom: Xtn | None = None

    def __attrs_post_init__(self) -> None:
        _checked(self, "intendedRecipient", self._judge)

    def _judge(self) -> None:
        _judge_type(self.organization, (Xon, type(None)), "organization")
        _judge_type(self.person, (Xcn, type(None)), "person")
        _judge_type(self.telecom, (Xtn, type(None)), "telecom")
        if self.organization is None and self.person is None and self.telecom is None:
            raise _Refusal(MISSING_COMPONENT("an intendedRecipient needs an organisation, a person or a telecom"))

    @classmethod
    def parse(cls, text: str) -> IntendedRecipient:
        """Read an intendedRecipient slot value."""
        with _Reading("intendedRecipient", text):
            _judge_text(text, "intendedRecipient")
            fields = text.split("|")
            if len(fields) > 3:
                raise _Refusal(MISPLACED_SEPARATOR(f"{len(fields)} fields; an intendedRecipient has 3 (XON|XCN|XTN)"))
            fields += ["", ""]
            return cls(
                organization=_nested(Xon.parse, fields[0], "organization") if fields[0] else None,
                person=_nested(Xcn.parse, fields[1], "person") if fields[1] else None,
                telecom=_nested(Xtn.parse, fields[2], "telecom") if fields[2] else None,
            )

    @classmethod
    def for_email(cls, address: Address | str) -> IntendedRecipient:
        """A recipient known by e-mail only: ``||^^Internet^address``."""
        return cls(telecom=Xtn.for_email(address))

    @property
    def address(self) -> Address | None:
        """The e-mail address: the telecom's, else the person's id when it is one (Direct RI style), else None."""
        if self.telecom is not None:
            return self.telecom.address
        if self.person is not None and "@" in self.person.id:
            try:
                return Address.parse(self.person.id)
            except InvalidInput:
                return None
        return None

    def __str__(self) -> str:
        parts = (self.organization, self.person, self.telecom)
        return _join("|", ["" if part is None else str(part) for part in parts])


@attrs.frozen(kw_only=True)
class CodedValue:
    """A coded value as CE/CWE text (authorSpecialty and the like): ``CODE^Display^CodeSystem``.

    Reading ignores the alternate code (components 4 to 6 and beyond).
    """

    code: str
    display: str = ""
    code_system: str = ""

    def __attrs_post_init__(self) -> None:
        _checked(self, "coded value", self._judge)

    def _judge(self) -> None:
        _judge_fields(self, "CE", ("code", "display", "code_system"))
        if not self.code:
            raise _Refusal(MISSING_COMPONENT("the code (CE.1) is empty", where="CE.1"))

    @classmethod
    def parse(cls, text: str) -> CodedValue:
        """Read ``CODE^Display^CodeSystem``."""
        with _Reading("coded value", text):
            c = _components(text, "coded value", 22)
            return cls(code=_leaf(c[0], "CE.1"), display=_leaf(c[1], "CE.2"), code_system=_leaf(c[2], "CE.3"))

    def __str__(self) -> str:
        return _join("^", [escape(self.code), escape(self.display), escape(self.code_system)])

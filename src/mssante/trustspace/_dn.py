"""Operator certificate distinguished names, compared by value as the allow-list writes them."""

from __future__ import annotations

import re
from functools import cached_property

import attrs
from cryptography import x509

from mssante.errors import InvalidInput
from mssante.report import Report
from mssante.trustspace import codes as _codes

__all__ = ["OperatorDn"]

_SEPARATOR = re.compile(r"(?<!\\),")
_ESCAPED = re.compile(r"\\(.)")
_BEFORE_PARENTHESIS = re.compile(r"\s*\(\s*")
_TYPES = frozenset({"CN", "OU", "O", "L", "ST", "C", "E", "EMAILADDRESS", "SERIALNUMBER", "STREET", "DC", "UID"})
_SAME_AS = {"L": "ST", "E": "EMAILADDRESS"}  # the list writes the department as ST or L
MAX_DN_LENGTH = 1024


def _normal(value: str) -> str:
    value = " ".join(value.split())  # each run of white space (str.isspace, as re's \s) one space, none at the ends
    return (_BEFORE_PARENTHESIS.sub(" (", value) if "(" in value else value).casefold()


def _key(attributes: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((_SAME_AS.get(kind, kind), _normal(value)) for kind, value in attributes))


@attrs.frozen(kw_only=True, eq=False)
class OperatorDn:
    """An operator certificate's subject as the allow-list gives it (``CN=...,OU=...,O=...,ST=...,C=FR``).

    Two DNs are equal when they hold the same attributes with the same values, whatever their
    order, the spaces after the commas or inside the values (``Paris(75)`` and ``Paris (75)``), the
    case, and whether the department is written ``ST`` or ``L``.
    """

    text: str
    attributes: tuple[tuple[str, str], ...]

    @cached_property
    def key(self) -> tuple[tuple[str, str], ...]:
        """The normalised attributes, sorted: what equality compares."""
        return _key(self.attributes)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, OperatorDn) and self.key == other.key

    def __hash__(self) -> int:
        return hash(self.key)

    def _first(self, kind: str) -> str | None:
        return next((value for name, value in self.attributes if name == kind), None)

    @property
    def common_name(self) -> str | None:
        """The CN: the operator's mail server host name."""
        return self._first("CN")

    @property
    def organisation_unit(self) -> str | None:
        """The OU: the operator's structure identifier (IdNat_Struct)."""
        return self._first("OU")

    @classmethod
    def parse(cls, text: str) -> OperatorDn:
        """Read a DN written as in the allow-list; :class:`~mssante.errors.InvalidInput` when it does not parse."""
        if len(text) > MAX_DN_LENGTH or not text.strip():
            raise _refuse(text, "it is empty or longer than any certificate subject")
        escaped = "\\" in text
        attributes = []
        for part in _SEPARATOR.split(text) if escaped else text.split(","):
            kind, equals, value = part.partition("=")
            kind = kind.strip().upper()
            value = _ESCAPED.sub(r"\1", value.strip()) if escaped else value.strip()
            if not equals or kind not in _TYPES or not value:
                raise _refuse(text, f"{part.strip()!r} is not TYPE=value with a known type")
            attributes.append((kind, value))
        return cls(text=text, attributes=tuple(attributes))

    @classmethod
    def from_name(cls, name: x509.Name) -> OperatorDn:
        """The DN of a certificate subject (``certificate.subject``)."""
        attributes = tuple(
            (attribute.rfc4514_attribute_name.upper(), str(attribute.value)) for rdn in reversed(name.rdns)
            for attribute in rdn
        )  # fmt: skip
        return cls(text=name.rfc4514_string(), attributes=attributes)

    def __str__(self) -> str:
        return self.text


def _refuse(text: str, why: str) -> InvalidInput:
    finding = _codes.BAD_DN(f"{text[:200]!r} is not a distinguished name: {why}")
    return InvalidInput(finding.message, Report(findings=[finding], subject=text[:200]))

"""The search parameters of the directory's v2 server, by resource type, and the checks of their values.

The tables copy the server's CapabilityStatement: the search parameters of each resource type and their kind,
the ``_include`` and ``_revinclude`` it accepts. :func:`check_param` refuses a ``key=value`` the server does not
know; :func:`plain`, :func:`token` and :func:`moment_text` check the values given to the typed methods of a query.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime

from mssante.directory._fhir_records import ResourceType

__all__ = ["DATE_PREFIXES", "MAX_COUNT", "as_params", "check_param", "moment_text", "plain", "token"]

MAX_COUNT = 200
"""The largest page (``_count``) asked for: the limit ANS asks clients to keep to."""

_STRING, _TOKEN, _REFERENCE_PARAM, _DATE = "string", "token", "reference", "date"
_COMMON = {
    "_id": _TOKEN,
    "_lastUpdated": _DATE,
    "active": _TOKEN,
    "data-information-system": _TOKEN,
    "data-registration-authority": _TOKEN,
    "identifier": _TOKEN,
}
_SEARCH_PARAMS: dict[ResourceType, dict[str, str]] = {
    ResourceType.PRACTITIONER: {
        **_COMMON,
        "family": _STRING,
        "given": _STRING,
        "identifier-type": _TOKEN,
        "mailbox-mss": _STRING,
        "name": _STRING,
        "number-smartcard": _TOKEN,
        "qualification-code": _TOKEN,
        "type-smartcard": _TOKEN,
    },
    ResourceType.PRACTITIONER_ROLE: {
        **_COMMON,
        "mailbox-mss": _STRING,
        "organization": _REFERENCE_PARAM,
        "practitioner": _REFERENCE_PARAM,
        "role": _TOKEN,
    },
    ResourceType.ORGANIZATION: {
        **_COMMON,
        "address": _STRING,
        "address-city": _STRING,
        "address-line": _STRING,
        "address-postalcode": _STRING,
        "identifier-type": _TOKEN,
        "mailbox-mss": _STRING,
        "name": _STRING,
        "partof": _REFERENCE_PARAM,
        "pharmacy-licence": _TOKEN,
        "type": _TOKEN,
    },
}
_INCLUDES: dict[ResourceType, tuple[str, ...]] = {
    ResourceType.PRACTITIONER: (),
    ResourceType.PRACTITIONER_ROLE: ("*", "PractitionerRole:organization", "PractitionerRole:practitioner"),
    ResourceType.ORGANIZATION: ("*", "Organization:partof"),
}
_REVINCLUDES: dict[ResourceType, tuple[str, ...]] = {
    ResourceType.PRACTITIONER: ("PractitionerRole:practitioner",),
    ResourceType.PRACTITIONER_ROLE: (),
    ResourceType.ORGANIZATION: (
        "Device:organization",
        "HealthcareService:organization",
        "PractitionerRole:organization",
    ),
}
_RESULT_PARAMS = ("_count", "_elements", "_include", "_revinclude", "_total")
_SINGLE = frozenset({"_count", "_total", "_elements"})
_STRING_MODIFIERS = frozenset({"contains", "exact"})
_TOTALS = frozenset({"none", "estimate", "accurate"})
DATE_PREFIXES = ("eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap")
"""The prefixes of a FHIR date search (``ge2025-09-27``)."""
_FHIR_DATE = re.compile(
    r"(?:eq|ne|gt|lt|ge|le|sa|eb|ap)?[0-9]{4}(?:-(?:0[1-9]|1[0-2])(?:-(?:0[1-9]|[12][0-9]|3[01])"
    r"(?:T(?:[01][0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9](?:\.[0-9]{1,9})?)?(?:Z|[+-][0-9]{2}:[0-9]{2})?)?)?)?",
    re.ASCII,
)
_ELEMENT = re.compile(r"[A-Za-z][A-Za-z0-9]*", re.ASCII)
_SPECIAL = frozenset(",|$\\")
_MAX_VALUE = 2048


def _allowed(resource: ResourceType) -> list[str]:
    return sorted([*_SEARCH_PARAMS[resource], *_RESULT_PARAMS])


def check_param(resource: ResourceType, key: object, value: object) -> None:
    """ValueError unless ``key=value`` is a search the directory knows for ``resource``."""
    if not isinstance(key, str) or not isinstance(value, str):
        raise TypeError("a search parameter is a pair of str")
    name, colon, modifier = key.partition(":")
    kind = _SEARCH_PARAMS[resource].get(name)
    if kind is None and name not in _RESULT_PARAMS:
        raise ValueError(
            f"{key!r} is not a search parameter of {resource.value}: use one of {', '.join(_allowed(resource))}"
        )
    if colon and (kind != _STRING or modifier not in _STRING_MODIFIERS):
        raise ValueError(f"{key!r}: only the string parameters take a modifier, :contains or :exact")
    if not value or len(value) > _MAX_VALUE or not value.isprintable():
        raise ValueError(f"{key}: a value is 1 to {_MAX_VALUE} printable characters, not {value[:80]!r}")
    if name == "_count":
        if not value.isdigit() or not 1 <= int(value) <= MAX_COUNT:
            raise ValueError(f"_count is a page size from 1 to {MAX_COUNT} (the directory's limit), not {value!r}")
    elif name == "_total" and value not in _TOTALS:
        raise ValueError(f"_total is one of {', '.join(sorted(_TOTALS))}, not {value!r}")
    elif name in ("_include", "_revinclude"):
        table = _INCLUDES if name == "_include" else _REVINCLUDES
        if value not in table[resource]:
            possible = ", ".join(table[resource]) or "none"
            raise ValueError(f"{name}={value} is not allowed on {resource.value}: use one of {possible}")
    elif name == "_elements":
        if not all(_ELEMENT.fullmatch(element) for element in value.split(",")):
            raise ValueError(f"_elements is a comma-separated list of element names, not {value!r}")
    elif kind == _DATE and not all(_FHIR_DATE.fullmatch(part) for part in value.split(",")):
        raise ValueError(f"{name} is a FHIR date with an optional prefix (ge2025-09-27), not {value!r}")
    elif name == "active" and value not in ("true", "false"):
        raise ValueError(f"active is true or false, not {value!r}")


def plain(value: object, what: str) -> str:
    """A value given to a typed method: a non-empty string without FHIR's separators (``, | $ \\``)."""
    text = str(value).strip() if value is not None else ""
    if not text:
        raise ValueError(f"{what} is empty")
    if _SPECIAL & set(text):
        raise ValueError(f"{what} {text[:80]!r} holds one of , | $ \\: use Query.where() for raw FHIR search syntax")
    return text


def token(value: object, system: str | None, what: str) -> str:
    code = plain(value, what)
    return f"{plain(system, 'system')}|{code}" if system is not None else code


def as_params(value: Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    return tuple((key, val) for key, val in value)


def moment_text(value: date | datetime | str) -> str:
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"a moment must be timezone-aware, not {value!r}")
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)

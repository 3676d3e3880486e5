"""A search of the directory's FHIR API: :class:`Query`, on one resource type, checked as it is built.

A :class:`Query` on ``Practitioner``, ``PractitionerRole`` or ``Organization`` takes the v2 parameters of the
Annuaire Santé (checked against the server's CapabilityStatement, :mod:`._fhir_params`) and gives the request
parameters (:meth:`Query.to_params`) and URL (:mod:`._fhir_urls`); its class methods build the usual searches.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any, Literal, TypeAlias

import attrs

from mssante.addresses import Address
from mssante.directory._fhir_params import (
    DATE_PREFIXES,
    MAX_COUNT,
    as_params,
    check_param,
    moment_text,
    plain,
    token,
)
from mssante.directory._fhir_records import FINESS_SYSTEM, IDNPS_SYSTEM, ResourceType
from mssante.directory._fhir_urls import BASE_URL, query_string, search_url
from mssante.identifiers import Finess, Idnps, Rpps

__all__ = ["Modifier", "Query"]

Modifier: TypeAlias = Literal["contains", "exact"]

_RPPS = re.compile(r"[0-9]{11}", re.ASCII)
_IDNPS = re.compile(r"[0-9][0-9A-Z]{1,20}(?:/[0-9A-Za-z]{1,20})?", re.ASCII)
_FINESS = re.compile(r"(?:[0-9]{2}|2[AB])[0-9]{7}", re.ASCII)


@attrs.frozen(kw_only=True)
class Query:
    """A search on one resource type: the parameters in order, repeated keys kept (repeated = AND).

    Every parameter is checked against what the directory's v2 server accepts for that type; methods return a
    new query. Typed methods refuse values holding FHIR's separators (``, | $ \\``); :meth:`where` takes raw
    FHIR syntax (``identifier=a,b`` means a OR b).

    >>> Query(resource="Practitioner").family("MARTIN").given("Jean").active().to_params()
    [('family', 'MARTIN'), ('given', 'Jean'), ('active', 'true')]
    """

    resource: ResourceType = attrs.field(converter=ResourceType)
    params: tuple[tuple[str, str], ...] = attrs.field(default=(), converter=as_params)

    @params.validator
    def _check(self, _attribute: Any, value: tuple[tuple[str, str], ...]) -> None:
        for key, val in value:
            check_param(self.resource, key, val)

    # raw parameters

    def where(self, key: str, value: str) -> Query:
        """This query and ``key=value`` in raw FHIR syntax (``name:contains``, ``identifier=a,b``...)."""
        return attrs.evolve(self, params=(*self.params, (key, value)))

    def _set(self, key: str, value: str) -> Query:
        """This query with ``key`` given once, as ``value``."""
        return attrs.evolve(self, params=(*(p for p in self.params if p[0] != key), (key, value)))

    def to_params(self) -> list[tuple[str, str]]:
        """The request's query parameters, in order (for ``httpx`` ``params=``)."""
        return list(self.params)

    def to_query_string(self) -> str:
        """The parameters percent-encoded: ``identifier=https%3A%2F%2F...%7C590064036&...``."""
        return query_string(self.params)

    def url(self, base_url: str = BASE_URL) -> str:
        """The search URL, without the parameters: ``<base_url>/<resource>``."""
        return search_url(base_url, self.resource.value)

    def __str__(self) -> str:
        return f"{self.resource.value}?{self.to_query_string()}"

    # search parameters

    def identifier(self, value: str, *, system: str | None = None) -> Query:
        """``identifier=value``, or ``system|value`` (RPPS, IdNat_PS, FINESS...)."""
        return self.where("identifier", token(value, system, "the identifier"))

    def _string(self, key: str, value: str, modifier: Modifier | None) -> Query:
        return self.where(f"{key}:{modifier}" if modifier else key, plain(value, key))

    def family(self, value: str, *, modifier: Modifier | None = None) -> Query:
        """``family=`` (the directory matches the start of the name, case-insensitively, by default)."""
        return self._string("family", value, modifier)

    def given(self, value: str, *, modifier: Modifier | None = None) -> Query:
        """``given=``."""
        return self._string("given", value, modifier)

    def name(self, value: str, *, modifier: Modifier | None = None) -> Query:
        """``name=`` or ``name:contains=`` (repeat for AND: ``.name("ANDRE", ...).name("MIGNOT", ...)``)."""
        return self._string("name", value, modifier)

    def mailbox(self, address: str | Address, *, modifier: Modifier | None = None) -> Query:
        """``mailbox-mss=`` (measured to match whole addresses), or ``:contains`` (unreliable on domains)."""
        return self._string("mailbox-mss", str(address), modifier)

    def qualification(self, code: str, *, system: str | None = None) -> Query:
        """``qualification-code=`` (profession or savoir-faire; ``10`` = médecin in TRE_G15)."""
        return self.where("qualification-code", token(code, system, "the qualification code"))

    def role(self, code: str, *, system: str | None = None) -> Query:
        """``role=`` of a PractitionerRole (TRE_R85-RolePriseCharge...)."""
        return self.where("role", token(code, system, "the role code"))

    def organization(self, reference: str) -> Query:
        """``organization=`` of a PractitionerRole: ``Organization/<id>`` or the id."""
        return self.where("organization", plain(reference, "the organisation"))

    def practitioner(self, reference: str) -> Query:
        """``practitioner=`` of a PractitionerRole: ``Practitioner/<id>`` or the id."""
        return self.where("practitioner", plain(reference, "the practitioner"))

    def city(self, value: str, *, modifier: Modifier | None = None) -> Query:
        """``address-city=`` of an Organization."""
        return self._string("address-city", value, modifier)

    def postcode(self, value: str, *, modifier: Modifier | None = None) -> Query:
        """``address-postalcode=`` of an Organization."""
        return self._string("address-postalcode", value, modifier)

    def type(self, code: str, *, system: str | None = None) -> Query:
        """``type=`` of an Organization (``SA05`` in TRE_R02-SecteurActivite...)."""
        return self.where("type", token(code, system, "the type code"))

    def active(self, *, value: bool = True) -> Query:
        """``active=true`` (or ``false``)."""
        return self.where("active", "true" if value else "false")

    def last_updated(self, moment: date | datetime | str, *, prefix: str = "ge") -> Query:
        """``_lastUpdated=<prefix><moment>`` (twice for a range; the directory allows 30 days of delta)."""
        if prefix not in DATE_PREFIXES:
            raise ValueError(f"a date prefix is one of {', '.join(DATE_PREFIXES)}, not {prefix!r}")
        return self.where("_lastUpdated", f"{prefix}{moment_text(moment)}")

    # result parameters

    def include(self, target: str) -> Query:
        """``_include=`` (``PractitionerRole:organization``...)."""
        return self.where("_include", target)

    def revinclude(self, source: str) -> Query:
        """``_revinclude=`` (``PractitionerRole:practitioner``...)."""
        return self.where("_revinclude", source)

    def elements(self, *names: str) -> Query:
        """``_elements=`` (a subset of each resource: ``telecom``, ``identifier``...)."""
        return self._set("_elements", ",".join(names))

    def count(self, size: int) -> Query:
        """``_count=`` (entries per page): 1 to 200."""
        if type(size) is not int or not 1 <= size <= MAX_COUNT:
            raise ValueError(f"_count is a page size from 1 to {MAX_COUNT} (the directory's limit), not {size!r}")
        return self._set("_count", str(size))

    def total(self, mode: Literal["none", "estimate", "accurate"]) -> Query:
        """``_total=`` (the directory omits the total when costly, unless asked ``accurate``)."""
        return self._set("_total", mode)

    # the usual searches

    @classmethod
    def by_rpps(cls, rpps: str | Rpps) -> Query:
        """The practitioner with this RPPS, and its roles: ``identifier=<rpps>&_revinclude=PractitionerRole:...``.

        The value must be 11 digits; its key is not checked (the directory is the authority).
        """
        value = str(rpps).strip()
        if not _RPPS.fullmatch(value):
            raise ValueError(f"an RPPS number is 11 digits, not {value[:80]!r}")
        return cls(resource=ResourceType.PRACTITIONER).identifier(value).revinclude("PractitionerRole:practitioner")

    @classmethod
    def by_idnps(cls, idnps: str | Idnps) -> Query:
        """The practitioner with this IdNat_PS, and its roles (``identifier=urn:oid:1.2.250.1.71.4.2.1|...``)."""
        value = str(idnps).strip()
        if not _IDNPS.fullmatch(value):
            raise ValueError(f"an IdNat_PS is a type digit then letters and digits, not {value[:80]!r}")
        query = cls(resource=ResourceType.PRACTITIONER).identifier(value, system=IDNPS_SYSTEM)
        return query.revinclude("PractitionerRole:practitioner")

    @classmethod
    def by_address(cls, address: str | Address, resource: ResourceType | str = ResourceType.PRACTITIONER) -> Query:
        """The resources of ``resource`` type holding this mailbox: ``mailbox-mss=<address>``.

        The address must be valid (:class:`~mssante.errors.InvalidAddress` otherwise); a PractitionerRole search
        includes its practitioner and organisation, so that the owner is known.
        """
        canonical = address if isinstance(address, Address) else Address.parse(address)
        query = cls(resource=resource).mailbox(canonical)
        if query.resource is ResourceType.PRACTITIONER_ROLE:
            query = query.include("PractitionerRole:practitioner").include("PractitionerRole:organization")
        return query

    @classmethod
    def by_name(cls, family: str, given: str | None = None) -> Query:
        """Active practitioners by name: ``family=...&given=...&active=true``."""
        query = cls(resource=ResourceType.PRACTITIONER).family(family)
        return (query.given(given) if given is not None else query).active()

    @classmethod
    def organizations_by_finess(cls, finess: str | Finess) -> Query:
        """The organisation with this FINESS, and the roles in it (``_revinclude=PractitionerRole:organization``)."""
        value = str(finess).strip().upper()
        if not _FINESS.fullmatch(value):
            raise ValueError(f"a FINESS number is 9 characters (2A/2B for Corsica), not {value[:80]!r}")
        query = cls(resource=ResourceType.ORGANIZATION).identifier(value, system=FINESS_SYSTEM)
        return query.revinclude("PractitionerRole:organization")

    @classmethod
    def for_mailboxes(
        cls,
        *,
        name: str | None = None,
        profession: str | None = None,
        city: str | None = None,
        postcode: str | None = None,
    ) -> Query:
        """The search behind ``mssante directory search --online``: people, or places, with their roles.

        ``name`` (each word must match a name, at its start) and ``profession`` (a TRE_G15 code: ``10`` =
        médecin) search active practitioners; ``city`` and ``postcode`` search active organisations. The
        directory cannot search a person by place, so the two kinds cannot be mixed (ValueError).
        """
        people, places = (name, profession), (city, postcode)
        if any(people) and any(places):
            raise ValueError("the directory searches people (name, profession) or places (city, postcode), not both")
        if any(places):
            return cls.organizations_by_city(city, postcode=postcode).revinclude("PractitionerRole:organization")
        if not any(people):
            raise ValueError("give a name, a profession, a city or a postcode")
        query = cls(resource=ResourceType.PRACTITIONER)
        for word in (name or "").split():
            query = query.name(word)
        if profession:
            if not profession.strip().isdigit():
                raise ValueError(f"a profession is searched by its TRE_G15 code (10 = médecin), not {profession!r}")
            query = query.qualification(profession.strip())
        return query.active().revinclude("PractitionerRole:practitioner")

    @classmethod
    def organizations_by_city(
        cls, city: str | None = None, *, postcode: str | None = None, with_mailbox: bool = False
    ) -> Query:
        """Active organisations of a city and/or postcode; ``with_mailbox`` keeps those with a mailbox."""
        if not city and not postcode:
            raise ValueError("give a city, a postcode, or both")
        query = cls(resource=ResourceType.ORGANIZATION)
        if city:
            query = query.city(city)
        if postcode:
            query = query.postcode(postcode)
        if with_mailbox:
            query = query.where("mailbox-mss:contains", "@")
        return query.active()

"""A directory answer read into records: one resource, or a searchset page with its ``next`` link.

:func:`read_bundle` reads a searchset page (untrusted JSON) into a :class:`~mssante.directory.Page`: light records
(practitioners, roles, organisations), the ``next`` link and the mailboxes they carry; :func:`read_resource` reads
one resource. Their ``parse_`` forms read the body first, bounded.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mssante.directory import fhir_codes as codes
from mssante.directory._fhir_answers import outcome_diagnostics
from mssante.directory._fhir_errors import DirectoryFailure, DirectoryResponseError, fail
from mssante.directory._fhir_json import MAX_PAGE_BYTES, as_dict, clean, read_json
from mssante.directory._fhir_records import Page, Resource
from mssante.directory._fhir_resources import read_record
from mssante.report import Finding, Report

__all__ = ["MAX_LINK_LENGTH", "parse_bundle", "parse_resource", "read_bundle", "read_resource"]

MAX_LINK_LENGTH = 8192
"""The longest ``next`` link followed (the v2 ones are about 900 characters)."""


def _kind_of(data: object) -> str:
    kind = as_dict(data).get("resourceType")
    return clean(kind, 60) if isinstance(kind, str) else type(data).__name__


_ENTRY_KEYS = frozenset({"fullUrl", "resource", "search", "request", "response"})


def _what_it_is(data: object, *, page: bool = False) -> str:
    """How a refusal names what it was given instead of the resource (or, with ``page``, the Bundle) expected."""
    if isinstance(data, dict) and "resourceType" not in data:
        if not _ENTRY_KEYS & data.keys():
            return "a JSON object without resourceType"
        if not isinstance(data.get("resource"), dict):
            return "a Bundle entry without a resource"
        inside = _kind_of(data["resource"])
        advice = "a page is the whole Bundle" if page else "give its `resource`"
        return f"a Bundle entry (holding a {inside!r}): {advice}"
    kind = _kind_of(data)
    if kind == "Bundle" and not page:
        return "a 'Bundle': read a page with parse_bundle or read_bundle"
    return repr(kind)


def _outcome_failure(data: Mapping[str, Any], url: str) -> DirectoryFailure:
    diagnostics = outcome_diagnostics(data)
    detail = diagnostics[0] if diagnostics else "no diagnostics"
    return fail(
        DirectoryResponseError,
        codes.OUTCOME,
        f"the directory answered an OperationOutcome: {detail}",
        diagnostics=diagnostics,
        url=url,
    )


def read_resource(data: object, *, url: str = "") -> tuple[Resource, Report]:
    """The record of one Practitioner, PractitionerRole or Organization (parsed JSON), and what was skipped.

    Raises :class:`DirectoryResponseError` for anything else (an ``OperationOutcome`` with its diagnostics).
    """
    findings: list[Finding] = []
    if isinstance(data, dict):
        if data.get("resourceType") == "OperationOutcome":
            raise _outcome_failure(data, url)
        record = read_record(data, findings, str(data.get("resourceType", "")))
        if record is not None:
            return record, Report(findings=findings, subject=url)
    raise fail(
        DirectoryResponseError,
        codes.NOT_EXPECTED,
        f"expected a Practitioner, PractitionerRole or Organization, not {_what_it_is(data)}",
        url=url,
    )


def parse_resource(body: bytes, *, max_bytes: int = MAX_PAGE_BYTES, url: str = "") -> tuple[Resource, Report]:
    """:func:`read_resource` of an untrusted body (see :func:`read_json`)."""
    return read_resource(read_json(body, max_bytes=max_bytes, url=url), url=url)


def _next_link(bundle: Mapping[str, Any], url: str) -> str | None:
    links = bundle.get("link", [])
    if not isinstance(links, list):
        raise fail(DirectoryResponseError, codes.LINK_REFUSED, "the Bundle's link is not a list", url=url)
    for link in links:
        if isinstance(link, dict) and link.get("relation") == "next":
            target = link.get("url")
            if (
                not isinstance(target, str)
                or not 0 < len(target) <= MAX_LINK_LENGTH
                or not target.isprintable()
                or " " in target
            ):
                shown = clean(repr(target), 120)
                raise fail(DirectoryResponseError, codes.LINK_REFUSED, f"the next link {shown} is not a URL", url=url)
            return target
    return None


def read_bundle(data: object, *, url: str = "") -> Page:
    """A :class:`Page` from a parsed searchset ``Bundle``.

    Malformed entries are skipped with a warning in the page's report; resources of other types with a note.
    Raises :class:`DirectoryResponseError` when ``data`` is not a Bundle (an ``OperationOutcome`` gives its
    diagnostics), or its ``next`` link is not a URL (a page must not be lost in silence).
    """
    if not isinstance(data, dict) or data.get("resourceType") != "Bundle":
        if isinstance(data, dict) and data.get("resourceType") == "OperationOutcome":
            raise _outcome_failure(data, url)
        message = f"expected a Bundle, not {_what_it_is(data, page=True)}"
        raise fail(DirectoryResponseError, codes.NOT_EXPECTED, message, url=url)
    findings: list[Finding] = []
    entries = data.get("entry", [])
    if not isinstance(entries, list):
        findings.append(codes.ENTRY_SKIPPED("the Bundle's entry is not a list", where="entry"))
        entries = []
    resources: list[Resource] = []
    for index, entry in enumerate(entries):
        where = f"entry[{index}]"
        resource = as_dict(entry).get("resource")
        if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
            findings.append(codes.ENTRY_SKIPPED("the entry has no resource", where=where))
            continue
        record = read_record(resource, findings, where)
        if record is None:
            findings.append(codes.OTHER_RESOURCE(f"a {_kind_of(resource)} is ignored", where=where))
        else:
            resources.append(record)
    total = data.get("total")
    return Page(
        resources=tuple(resources),
        total=total if isinstance(total, int) and not isinstance(total, bool) and total >= 0 else None,
        next=_next_link(data, url),
        report=Report(findings=findings, subject=url),
    )


def parse_bundle(body: bytes, *, max_bytes: int = MAX_PAGE_BYTES, url: str = "") -> Page:
    """:func:`read_bundle` of an untrusted body (see :func:`read_json`): a page, or DirectoryResponseError."""
    return read_bundle(read_json(body, max_bytes=max_bytes, url=url), url=url)

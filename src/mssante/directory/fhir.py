"""The directory's FHIR API without I/O, gathered for the I/O shells; each name is defined in its topic's module.

- ``_fhir_errors``: :class:`DirectoryFailure` and its subclasses; ``_fhir_answers``: the failure for an HTTP
  status (:func:`error_for_status`) and what an ``OperationOutcome`` says.
- ``_fhir_json``: the bounded read of an untrusted body (:func:`read_json`).
- ``_fhir_records``: the records and :class:`Page`; ``_fhir_mailboxes``, ``_fhir_resources``: what a resource
  holds; ``_fhir_bundle``: a page or a resource read from an answer (:func:`parse_bundle`).
- ``_fhir_query``: :class:`Query`, with ``_fhir_params`` (what the server accepts) and ``_fhir_urls`` (the URLs,
  :func:`same_origin`).
"""

from __future__ import annotations

from mssante.directory._fhir_answers import API_KEY_PORTAL, MAX_ERROR_BYTES, error_for_status, outcome_diagnostics
from mssante.directory._fhir_bundle import MAX_LINK_LENGTH, parse_bundle, parse_resource, read_bundle, read_resource
from mssante.directory._fhir_errors import (
    DirectoryAuthError,
    DirectoryBadRequest,
    DirectoryFailure,
    DirectoryNotFound,
    DirectoryRateLimited,
    DirectoryResponseError,
    DirectoryUnavailable,
)
from mssante.directory._fhir_json import MAX_PAGE_BYTES, read_json
from mssante.directory._fhir_mailboxes import merge_mailboxes
from mssante.directory._fhir_params import MAX_COUNT
from mssante.directory._fhir_query import Modifier, Query
from mssante.directory._fhir_records import (
    FINESS_SYSTEM,
    IDNPS_SYSTEM,
    IDNST_SYSTEM,
    RPPS_SYSTEMS,
    Organization,
    Page,
    Practitioner,
    PractitionerRole,
    Resource,
    ResourceType,
    page_mailboxes,
)
from mssante.directory._fhir_urls import BASE_URL, same_origin

__all__ = [
    "API_KEY_PORTAL",
    "BASE_URL",
    "FINESS_SYSTEM",
    "IDNPS_SYSTEM",
    "IDNST_SYSTEM",
    "MAX_COUNT",
    "MAX_ERROR_BYTES",
    "MAX_LINK_LENGTH",
    "MAX_PAGE_BYTES",
    "RPPS_SYSTEMS",
    "DirectoryAuthError",
    "DirectoryBadRequest",
    "DirectoryFailure",
    "DirectoryNotFound",
    "DirectoryRateLimited",
    "DirectoryResponseError",
    "DirectoryUnavailable",
    "Modifier",
    "Organization",
    "Page",
    "Practitioner",
    "PractitionerRole",
    "Query",
    "Resource",
    "ResourceType",
    "error_for_status",
    "merge_mailboxes",
    "outcome_diagnostics",
    "page_mailboxes",
    "parse_bundle",
    "parse_resource",
    "read_bundle",
    "read_json",
    "read_resource",
    "same_origin",
]

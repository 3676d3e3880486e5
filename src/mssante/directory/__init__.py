"""The national directory (Annuaire Santé): find MSSanté addresses offline or online, publish an operator's.

- :class:`DirectoryIndex`: the offline way, with no key and no network. Import the daily bulk
  extraction of all MSSanté mailboxes into a local SQLite index, then :meth:`~DirectoryIndex.lookup`
  an address, an RPPS or an IdNat_PS, or :meth:`~DirectoryIndex.search` by name, place or profession.
- :class:`DirectoryClient` and :class:`AsyncDirectoryClient`: the FHIR API of the Annuaire Santé,
  with an API key, paging, a rate limit and retries; :class:`Query` builds its searches.
- :class:`MailboxPatch` and :class:`MailboxPublisher`: the FHIR Patch bodies of the draft write API
  through which operators will publish their mailboxes (sending them is an explicit opt-in).

Each way gives :class:`DirectoryMailbox` values: the address, its type (PER, ORG, APP, CAB), the
:class:`Person` or :class:`Structure` it belongs to. The clients are I/O shells of :mod:`mssante.net`, re-exported
here lazily.
"""

from typing import TYPE_CHECKING

from mssante._lazy import lazy
from mssante._renamed import renamed
from mssante.directory._extraction import EXTRACTION_HEADER, ExtractionReader, read_extraction
from mssante.directory._fhir_errors import (
    DirectoryAuthError,
    DirectoryBadRequest,
    DirectoryFailure,
    DirectoryNotFound,
    DirectoryRateLimited,
    DirectoryResponseError,
    DirectoryUnavailable,
)
from mssante.directory._fhir_query import Query
from mssante.directory._fhir_records import Organization, Page, Practitioner, PractitionerRole, ResourceType
from mssante.directory._fhir_urls import BASE_URL
from mssante.directory._index import DirectoryIndex, ImportResult, IndexInfo
from mssante.directory._models import DirectoryMailbox, Person, Structure
from mssante.directory._publication import METADATA_URL, MODIFIABLE, MailboxPatch, PatchTarget

if TYPE_CHECKING:
    from mssante.directory._pg_index import PostgresDirectoryIndex
    from mssante.net._async._directory import AsyncDirectoryClient
    from mssante.net._async._publisher import AsyncMailboxPublisher
    from mssante.net._directory import API_KEY_ENV, RateLimiter
    from mssante.net._sync._directory import DirectoryClient
    from mssante.net._sync._publisher import MailboxPublisher

if not TYPE_CHECKING:
    __getattr__, __dir__ = lazy(
        __name__,
        globals(),
        {
            "API_KEY_ENV": "mssante.net._directory",
            "AsyncDirectoryClient": "mssante.net._async._directory",
            "AsyncMailboxPublisher": "mssante.net._async._publisher",
            "DirectoryClient": "mssante.net._sync._directory",
            "MailboxPublisher": "mssante.net._sync._publisher",
            "PostgresDirectoryIndex": "mssante.directory._pg_index",
            "RateLimiter": "mssante.net._directory",
        },
    )
    __getattr__ = renamed(__name__, globals(), {"Mailbox": "DirectoryMailbox"}, fallback=__getattr__)

__all__ = [
    "API_KEY_ENV",
    "BASE_URL",
    "EXTRACTION_HEADER",
    "METADATA_URL",
    "MODIFIABLE",
    "AsyncDirectoryClient",
    "AsyncMailboxPublisher",
    "DirectoryAuthError",
    "DirectoryBadRequest",
    "DirectoryClient",
    "DirectoryFailure",
    "DirectoryIndex",
    "DirectoryMailbox",
    "DirectoryNotFound",
    "DirectoryRateLimited",
    "DirectoryResponseError",
    "DirectoryUnavailable",
    "ExtractionReader",
    "ImportResult",
    "IndexInfo",
    "MailboxPatch",
    "MailboxPublisher",
    "Organization",
    "Page",
    "PatchTarget",
    "Person",
    "PostgresDirectoryIndex",
    "Practitioner",
    "PractitionerRole",
    "Query",
    "RateLimiter",
    "ResourceType",
    "Structure",
    "read_extraction",
]

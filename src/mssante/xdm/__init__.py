"""IHE XDM packages (IHE_XDM.ZIP) with CI-SIS metadata: build, read any real-world package, validate.

Structured health documents travel in MSSanté mail as an ``IHE_XDM.ZIP`` attachment: README.TXT,
INDEX.HTM and, per submission set, ``IHE_XDM/SUBSETnn/METADATA.XML`` (an ebRIM 3.0
``SubmitObjectsRequest``) next to the documents.

- :meth:`Package.from_cda` turns CDA R2 documents into a package, the metadata derived from
  their headers; :meth:`Package.build` packs any documents with metadata you give.
- :meth:`Package.read` reads what real systems send (any case, a wrapper folder, any subset
  name, ``__MACOSX/`` junk) from bytes that are checked as a hostile ZIP first; its documents
  are inflated when asked for, within a :class:`Budget` (a message's, when it came in one).
- :func:`validate` judges a package with stable codes: the IHE XDM rules, then the CI-SIS ones
  (one patient with a valid INS, codes in the CI-SIS value sets).
- :meth:`Package.replacement` packs the new version of a document sent earlier ("annule et remplace": an
  ``RPLC`` association to the replaced :class:`DocumentRef`), :meth:`Package.deletion` the request to delete one.

>>> from mssante import xdm
>>> xdm.value_set("J08").display_of("N")
'Normal'
"""

from typing import TYPE_CHECKING

from mssante._renamed import renamed
from mssante.xdm._budget import Budget
from mssante.xdm._cda import MAX_CDA_BYTES, CdaAuthor, CdaHeader, CdaPatient, CdaRecipient, read_cda_header, ts_to_utc
from mssante.xdm._ebrim import read_metadata, write_metadata
from mssante.xdm._fromcda import entry_from_cda, submission_set_from_cda
from mssante.xdm._hl7 import CodedValue, Cx, HierarchicDesignator, IntendedRecipient, Xcn, Xon, Xtn
from mssante.xdm._hl7 import unescape as hl7_unescape
from mssante.xdm._model import (
    APPROVED,
    DEPRECATED,
    HAS_MEMBER,
    ON_DEMAND,
    REQUESTS,
    RPLC,
    STABLE,
    Association,
    Author,
    Coding,
    DocumentEntry,
    DocumentRef,
    Metadata,
    SubmissionSet,
    dtm,
    parse_dtm,
    uuid_urn,
)
from mssante.xdm._package import MAX_PACKAGE_BYTES, Document, Package, Subset
from mssante.xdm._safezip import SafeZip, ZipEntry, ZipLimits
from mssante.xdm._validate import ENVIRONMENTS, validate
from mssante.xdm._valuesets import Concept, ValueSet, value_set, value_sets

if not TYPE_CHECKING:  # the old name, for one minor release; type checkers see only the new one
    __getattr__ = renamed(__name__, globals(), {"Code": "Coding"})

__all__ = [
    "APPROVED",
    "DEPRECATED",
    "ENVIRONMENTS",
    "HAS_MEMBER",
    "MAX_CDA_BYTES",
    "MAX_PACKAGE_BYTES",
    "ON_DEMAND",
    "REQUESTS",
    "RPLC",
    "STABLE",
    "Association",
    "Author",
    "Budget",
    "CdaAuthor",
    "CdaHeader",
    "CdaPatient",
    "CdaRecipient",
    "CodedValue",
    "Coding",
    "Concept",
    "Cx",
    "Document",
    "DocumentEntry",
    "DocumentRef",
    "HierarchicDesignator",
    "IntendedRecipient",
    "Metadata",
    "Package",
    "SafeZip",
    "SubmissionSet",
    "Subset",
    "ValueSet",
    "Xcn",
    "Xon",
    "Xtn",
    "ZipEntry",
    "ZipLimits",
    "dtm",
    "entry_from_cda",
    "hl7_unescape",
    "parse_dtm",
    "read_cda_header",
    "read_metadata",
    "submission_set_from_cda",
    "ts_to_utc",
    "uuid_urn",
    "validate",
    "value_set",
    "value_sets",
    "write_metadata",
]

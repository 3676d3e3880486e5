"""Finding codes of XDM packages and their metadata (``MSS-XDM-*``)."""

from __future__ import annotations

from mssante.report import Severity, define_code

ERROR, WARNING, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO

# The package (IHE ITI-32, NIST XDM rules)
NO_README = define_code("MSS-XDM-001", ERROR, "the package has no README.TXT at its root")
NO_INDEX = define_code("MSS-XDM-002", ERROR, "the package has no INDEX.HTM at its root")
NO_XDM_DIRECTORY = define_code("MSS-XDM-003", ERROR, "the package has no IHE_XDM directory")
NO_SUBSET = define_code("MSS-XDM-004", ERROR, "IHE_XDM holds no submission set directory with a METADATA.XML")
BAD_METADATA_XML = define_code(
    "MSS-XDM-005", ERROR, "METADATA.XML is not well-formed, too large, or holds a DTD or an entity"
)
NOT_SUBMIT_OBJECTS = define_code("MSS-XDM-006", ERROR, "METADATA.XML is not an ebRIM 3.0 SubmitObjectsRequest")
SUBMISSION_SETS = define_code("MSS-XDM-007", ERROR, "a METADATA.XML must hold exactly one submission set")
NO_HASH = define_code("MSS-XDM-008", ERROR, "a document entry has no hash slot (required on XDM media)")
NO_SIZE = define_code("MSS-XDM-009", ERROR, "a document entry has no size slot (required on XDM media)")
NO_URI = define_code("MSS-XDM-010", ERROR, "a document entry has no URI slot (required on XDM media)")
MISSING_FILE = define_code("MSS-XDM-011", ERROR, "the URI of a document entry names no file of the submission set")
HASH_MISMATCH = define_code("MSS-XDM-012", ERROR, "the hash slot is not the SHA-1 of the document's bytes")
SIZE_MISMATCH = define_code("MSS-XDM-013", ERROR, "the size slot is not the document's size in bytes")
MISSING_ATTRIBUTE = define_code("MSS-XDM-014", ERROR, "a required metadata attribute is missing or empty")
BAD_VALUE = define_code("MSS-XDM-015", ERROR, "a metadata value is malformed")
BAD_TIME = define_code(
    "MSS-XDM-016", ERROR, "a time is not an XDS time: YYYYMMDDhhmmss in UTC, shortened from the right"
)
NO_ASSOCIATION = define_code("MSS-XDM-017", ERROR, "a document entry is not a member of the submission set")
UNREFERENCED_FILE = define_code("MSS-XDM-018", WARNING, "a file of the submission set is named by no document entry")
MISSING_DIRECTORY_ENTRY = define_code(
    "MSS-XDM-019", WARNING, "the ZIP has no directory entry for IHE_XDM/ or a subset (some importers need them)"
)
NOT_CANONICAL_NAME = define_code(
    "MSS-XDM-020", INFO, "a name is not in the canonical upper-case form (read without regard to case)"
)
WRAPPED = define_code("MSS-XDM-021", WARNING, "the package is wrapped in a top folder (read from inside it)")
JUNK = define_code("MSS-XDM-022", INFO, "operating-system junk (__MACOSX/, .DS_Store, Thumbs.db) was skipped")
SHORT_ASSOCIATION = define_code(
    "MSS-XDM-023", INFO, "an association type is written in short form (HasMember): read as the full URN"
)
UPPER_CASE_HASH = define_code("MSS-XDM-024", INFO, "the hash is upper-case hex: accepted, lower case is written")
BAD_SUBMISSION_STATUS = define_code(
    "MSS-XDM-025", WARNING, "a HasMember association has no SubmissionSetStatus Original"
)
BAD_OBJECT_TYPE = define_code("MSS-XDM-026", ERROR, "a document entry's objectType is neither stable nor on-demand")
MISNAMED_ENTRY = define_code(
    "MSS-XDM-027", ERROR, "an entry name looks like a METADATA.XML glued to its directory (missing '/')"
)
SEVERAL_SUBSETS = define_code(
    "MSS-XDM-028", WARNING, "the package holds several submission sets (MSSanté sends one per message)"
)
SET_BY_SCHEME = define_code(
    "MSS-XDM-029", ERROR, "the submission set node is given as a classificationScheme, not a classificationNode"
)
VERSION_CONTROL = define_code(
    "MSS-XDM-030",
    INFO,
    "a version-control folder (.svn/, .git/, CVS/, .hg/, .bzr/) was skipped: it is no submission set, no document",
)
URI_ATTRIBUTE = define_code(
    "MSS-XDM-031",
    WARNING,
    "a document entry's URI is an attribute of its ExtrinsicObject, not the URI slot XDM requires (ITI TF-3 "
    "4.2.3.2): read from there, written as a slot",
)
EBRS_2_1 = define_code(
    "MSS-XDM-032",
    ERROR,
    "METADATA.XML is ebXML RegRep 2.1 (XDS.a) metadata: a version this SDK does not read (XDM media carry the "
    "ebRIM 3.0 SubmitObjectsRequest of ITI-41, ITI TF-2 3.32)",
)

# Replacing and deleting a document sent earlier (IHE ITI TF-3 4.2.2.2; CI-SIS volet "Transmission au LPS d'un
# document CDA provenant d'un courriel MSSanté", contexte-metier and error-codes 900/901)
RPLC_SOURCE = define_code(
    "MSS-XDM-033",
    ERROR,
    "an RPLC association's sourceObject is not a document entry of the submission set: the replacing document "
    "travels with it (IHE ITI TF-3 4.2.2.2)",
)
RPLC_TARGET = define_code(
    "MSS-XDM-034",
    ERROR,
    "an RPLC association's targetObject is not a urn:uuid: entryUUID: it names the replaced document by the "
    "entryUUID it was sent with (IHE ITI TF-3 4.2.2.2, 4.2.3.2 entryUUID)",
)
RPLC_WITHIN = define_code(
    "MSS-XDM-035",
    ERROR,
    "an RPLC association targets a document entry of the same package, or its own source: the replaced document "
    "is one sent earlier (IHE ITI TF-3 4.2.2.2; CI-SIS volet, 'annule et remplace' a document sent earlier)",
)
REPLACEMENT = define_code(
    "MSS-XDM-036",
    INFO,
    "a document entry replaces a document sent earlier (RPLC association): the receiver replaces it ('annule et "
    "remplace', CI-SIS volet contexte-metier; IHE ITI TF-3 4.2.2.2); error 900 or 901 comes back when it cannot",
)
OASIS_RELATIONSHIP = define_code(
    "MSS-XDM-037",
    WARNING,
    "a document relationship (RPLC, APND, XFRM, XFRM_RPLC) is typed urn:oasis:names:tc:ebxml-regrep:AssociationType:"
    "…, not IHE's urn:ihe:iti:2007:AssociationType:… (ITI TF-3 4.2.2.2): read as IHE's, which receivers match",
)
DELETION = define_code(
    "MSS-XDM-038",
    INFO,
    "a document entry is Deprecated: the package asks the receiver to delete a document sent earlier ('suppression', "
    "CI-SIS volet contexte-metier; how the mail says it is not written in the volet: this SDK's reading, "
    "availabilityStatus Deprecated, ITI TF-3 4.2.3.2)",
)
BAD_AVAILABILITY = define_code(
    "MSS-XDM-039",
    WARNING,
    "a document entry's availabilityStatus is neither urn:oasis:names:tc:ebxml-regrep:StatusType:Approved nor "
    "…:Deprecated (ITI TF-3 4.2.3.2)",
)

# The CI-SIS (French) rules
NOT_INS = define_code(
    "MSS-XDM-040",
    ERROR,
    "the patient identifier is not an INS (MSSanté: a document concerns a patient identified by the INS; "
    "Référentiel #2 ECO.2.1.2, the receiver reads the INS from patientId)",
)
BAD_INS = define_code("MSS-XDM-041", ERROR, "the patient identifier claims an INS authority but is not a valid INS")
SEVERAL_PATIENTS = define_code("MSS-XDM-042", ERROR, "the package concerns more than one patient (one per message)")
CI_SIS_REQUIRED = define_code(
    "MSS-XDM-043", ERROR, "an attribute the CI-SIS requires (XDM's R2, R under the CI-SIS) is missing"
)
TEST_INS = define_code("MSS-XDM-044", WARNING, "the patient INS is from the TEST or DEMO authority")
CLASS_NOT_OF_TYPE = define_code(
    "MSS-XDM-045",
    WARNING,
    "the classCode is not the one the NOS table ASS_X04 gives for the typeCode (CI-SIS: the class is deduced "
    "from the type)",
)
DISPLAY_FROM_VALUE_SET = define_code(
    "MSS-XDM-046",
    INFO,
    "a code's display name is written as its CI-SIS value set names it, not as the CDA document writes it (the "
    "document keeps its own)",
)
CDA_REPLACES_WITHOUT_RPLC = define_code(
    "MSS-XDM-047",
    INFO,
    "the CDA document says it replaces another (relatedDocument typeCode RPLC, HL7 CDA R2 4.2.3.1) but the package "
    "has no RPLC association: the receiver takes it for a new document (Package.replacement, xdm replace)",
)
CDA_REPLACES_ANOTHER = define_code(
    "MSS-XDM-048",
    WARNING,
    "the CDA document's relatedDocument RPLC names another document than the one the package replaces (HL7 CDA R2 "
    "4.2.3.1 ParentDocument; the volet's HL7 message names one replaced document, TXA-13)",
)

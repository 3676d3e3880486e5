"""Finding codes of MSSanté messages and their linter (``MSS-MSG-*``).

Each rule names its source: the Référentiel socle MSSanté #2 requirement (ECO.x.y.z, as quoted by
third parties: the primary text was not readable), the Ségur requirement, the Assurance Maladie's « ENS Mon espace
santé – Messagerie, éléments d'information à destination des éditeurs » V1.3 of 28/06/2023 (as quoted by third
parties too), the ISO standard or the RFC.
"""

from __future__ import annotations

from mssante.report import Severity, define_code

ERROR, WARNING, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO

NO_NIL = define_code(
    "MSS-MSG-001", ERROR, "X-MSS-NIL (the product reference) is missing: it is on every message (ECO.2.4.3)"
)
NO_SUBJECT_CONVENTION = define_code(
    "MSS-MSG-002", ERROR, "an XDM package is attached but the subject does not start with XDM/1.0/DDM+ (ECO.2.1.3)"
)
NO_CODECDA = define_code("MSS-MSG-003", ERROR, "X-MSS-CODECDA is missing though a CDA document is attached (ECO.2.4.1)")
CODECDA_MISMATCH = define_code(
    "MSS-MSG-004", ERROR, "X-MSS-CODECDA does not list the type codes of the attached CDA documents (ECO.2.4.1)"
)
CODECDA_WITHOUT_CDA = define_code(
    "MSS-MSG-005", WARNING, "X-MSS-CODECDA is present but no CDA document is attached in an XDM package (ECO.2.4.1)"
)
NO_INS_HEADER = define_code("MSS-MSG-006", ERROR, "X-MSS-INS is missing though a CDA document is attached (ECO.2.4.2)")
INS_HEADER_MISMATCH = define_code(
    "MSS-MSG-007", ERROR, "X-MSS-INS does not say whether the attached documents carry a qualified INS (ECO.2.4.2)"
)
PATIENT_WITHOUT_INS = define_code(
    "MSS-MSG-008",
    ERROR,
    "a patient (MSS-C) recipient gets documents without a qualified INS: patient addresses are built from qualified "
    "INS only (ECO.2.2.6)",
)
MES_NOT_TO_PATIENT = define_code(
    "MSS-MSG-009", WARNING, "X-MSS-MES is set on a message addressed to no patient (ECO.2.2.8)"
)
BAD_MES = define_code("MSS-MSG-010", ERROR, "X-MSS-MES has a value other than FIN (ECO.2.2.8)")
SEVERAL_PATIENTS = define_code("MSS-MSG-011", ERROR, "the message concerns more than one patient (ECO.2.1.1)")
NO_PDF = define_code(
    "MSS-MSG-012", WARNING, "an XDM package is attached without the same documents as PDF (ECO.2.1.1, ECO.2.1.5)"
)
NO_MESSAGE_ID = define_code("MSS-MSG-013", ERROR, "the message has no Message-ID (RFC 5322 3.6.4, Ségur MSS/va1.08)")
BODY_TYPE = define_code(
    "MSS-MSG-014", WARNING, "the body is neither text/plain nor multipart/alternative (Ségur MSS/va1.11)"
)
SUBJECT_PATIENT_MISMATCH = define_code(
    "MSS-MSG-015", WARNING, "the subject names another patient or birth date than the XDM metadata (ECO.2.1.3)"
)
RECEIPT_NOT_TO_SENDER = define_code(
    "MSS-MSG-016", WARNING, "Disposition-Notification-To is not the sender: an MDN needs user confirmation (RFC 8098)"
)
BAD_SENDER = define_code("MSS-MSG-017", ERROR, "From is missing, repeated, or not a valid address")
REPEATED_HEADER = define_code("MSS-MSG-018", ERROR, "an X-MSS header that holds one value is repeated")
BAD_INS_HEADER = define_code("MSS-MSG-019", ERROR, "X-MSS-INS is neither O nor N (ECO.2.4.2)")
BAD_RECIPIENT = define_code("MSS-MSG-020", ERROR, "a recipient address is not a valid address")
XDM_UNREADABLE = define_code("MSS-MSG-021", ERROR, "an attached IHE_XDM archive cannot be read")
PATIENT_SENDER = define_code(
    "MSS-MSG-022",
    WARNING,
    "a patient (MSS-C) address starts a conversation (its message answers none: no In-Reply-To, no References): "
    "only a professional may start one, the patient replies within it (CNAM, ENS Mon espace santé Messagerie V1.3)",
)
BAD_HEADER_VALUE = define_code(
    "MSS-MSG-023",
    ERROR,
    "a value given to compose holds a line break, NUL, control character or lone surrogate, or is no msg-id where "
    "one is due: refused",
)
BAD_CONTENT_TYPE = define_code(
    "MSS-MSG-024",
    ERROR,
    "an attachment's media type is not one type/subtype of RFC 2045 tokens (a parameter, a line break, multipart/*)",
)
REPLY_TO_CLOSED = define_code(
    "MSS-MSG-025",
    ERROR,
    "a patient (MSS-C) address replies in a conversation the professional closed, with X-MSS-MES: FIN on the message "
    "replied to or a later [FIN] subject (ECO.2.2.8; CNAM, ENS Mon espace santé Messagerie V1.3 §7)",
)
TOO_LARGE_FOR_PATIENT = define_code(
    "MSS-MSG-026",
    ERROR,
    "a message to a patient (Mon espace santé) is over 25 Mo (25,000,000 bytes, as encoded): it comes back "
    "undelivered (CNAM, ENS Mon espace santé Messagerie V1.3 §6)",
)
SUBJECT_FIELDS = define_code(
    "MSS-MSG-027",
    ERROR,
    "the XDM/1.0/DDM+ subject lacks the label, the NOM or the prénom: every field but the birth date is mandatory "
    "(ECO.2.1.3)",
)
PDF_NAME = define_code(
    "MSS-MSG-028",
    WARNING,
    "a PDF attachment is not named <AAAAMMJJ>_<type, up to 40 characters>_<NOM>_<prénom>[_<n° de dossier>].pdf "
    "(ECO.2.1.6)",
)
NOT_PDF_A1 = define_code(
    "MSS-MSG-029",
    WARNING,
    "a PDF attachment does not identify itself as PDF/A-1: no pdfaid:part 1 in its XMP metadata "
    "(ECO.2.1.1; ISO 19005-1 6.7.11)",
)
NOT_UTF8 = define_code("MSS-MSG-030", WARNING, "a text part of the body is not in UTF-8 (ECO.2.2.3)")

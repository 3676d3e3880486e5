"""Finding codes of the address checks (``MSS-ADR-*``)."""

from __future__ import annotations

from mssante.report import Severity, define_code

ERROR, WARNING, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO

EMPTY = define_code("MSS-ADR-001", ERROR, "the address is empty")
TOO_LONG = define_code("MSS-ADR-002", ERROR, "the address, its local part or its domain is too long (RFC 5321)")
BAD_CHARACTER = define_code(
    "MSS-ADR-003",
    ERROR,
    'the address holds a character that has no place in it (CR, LF, NUL, control, space, <>()[],;:\\")',
)
BAD_AT = define_code("MSS-ADR-004", ERROR, "an address has exactly one @ between its local part and its domain")
BAD_LOCAL_PART = define_code(
    "MSS-ADR-005", ERROR, "the local part is not a dot-atom of ASCII letters, digits and !#$%&'*+/=?^_`{|}~-"
)
BAD_DOMAIN = define_code("MSS-ADR-006", ERROR, "the domain is not a valid (IDNA 2008) host name")
NOT_QUALIFIED = define_code("MSS-ADR-007", ERROR, "the domain is not fully qualified (it needs a dot)")
PATIENT_BAD_INS = define_code(
    "MSS-ADR-008", ERROR, "a patient (MSS-C) address must be a valid INS matricule @patient.mssante.fr"
)
PATIENT = define_code("MSS-ADR-009", INFO, "patient (MSS-C) address: the local part is the patient's INS matricule")
IDN_DOMAIN = define_code(
    "MSS-ADR-010", WARNING, "internationalised domain: check that its A-label (xn--) is the domain you mean"
)
NOT_CANONICAL = define_code(
    "MSS-ADR-011",
    ERROR,
    "the address is not in canonical form (lower-case A-label domain, upper-case INS): build it with Address.parse",
)

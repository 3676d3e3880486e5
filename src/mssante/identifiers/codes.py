"""Finding codes of the identifier checks (``MSS-ID-*`` and ``MSS-INS-*``)."""

from __future__ import annotations

from mssante.report import Severity, define_code

ERROR, WARNING, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO

EMPTY = define_code("MSS-ID-001", ERROR, "the identifier is empty")
TOO_LONG = define_code("MSS-ID-002", ERROR, "the input is far longer than any identifier")
BAD_CHARACTER = define_code(
    "MSS-ID-003", ERROR, "the input holds a character no identifier has (control, non-ASCII, punctuation)"
)
BAD_LENGTH = define_code("MSS-ID-004", ERROR, "the identifier does not have the length of its type")
BAD_FORMAT = define_code("MSS-ID-005", ERROR, "the identifier has characters its type does not allow there")
BAD_KEY = define_code("MSS-ID-006", ERROR, "the check key does not match the number")
UNKNOWN_PREFIX = define_code("MSS-ID-007", ERROR, "the type prefix is not a known identifier type")
KEY_NOT_CHECKED = define_code("MSS-ID-008", INFO, "this kind of identifier has no check key that can be verified")
LA_POSTE_RULE = define_code(
    "MSS-ID-009", INFO, "La Poste establishment: SIRET checked by digit sum (multiple of 5), not by Luhn"
)
UNKNOWN_TYPE = define_code("MSS-ID-010", ERROR, "the type of the identifier cannot be told from its shape")
AMBIGUOUS = define_code("MSS-ID-011", INFO, "the value is also a valid identifier of another type")

INS_BAD_LENGTH = define_code("MSS-INS-001", ERROR, "an INS matricule has 15 characters")
INS_BAD_FORMAT = define_code(
    "MSS-INS-002", ERROR, "an INS matricule is digits, with 2A or 2B only as the Corsican department"
)
INS_BAD_KEY = define_code("MSS-INS-003", ERROR, "the INS key does not match 97 - (body mod 97)")
INS_BAD_SEX = define_code("MSS-INS-004", ERROR, "the first digit of an INS matricule is 1, 2, 3, 4, 7 or 8")
INS_NOT_PRODUCTION = define_code(
    "MSS-INS-005", WARNING, "the INS is under a TEST or DEMO authority: never a real patient's identity"
)
INS_UNKNOWN_AUTHORITY = define_code(
    "MSS-INS-006", ERROR, "the assigning authority is not an INS OID (NIR .8, NIA .9, TEST .10, DEMO .11)"
)
INS_TEST_BAD_KEY = define_code(
    "MSS-INS-007",
    WARNING,
    "the key of this TEST/DEMO INS does not match; accepted because it is a test identity",
)

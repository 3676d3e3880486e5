"""Finding codes of mailbox publication (``MSS-PUB-*``): the rules of the draft write API of the directory."""

from __future__ import annotations

from mssante.report import Severity, define_code

ERROR = Severity.ERROR

BAD_ADDRESS = define_code("MSS-PUB-001", ERROR, "the address is not an MSSanté address (…@….mssante.fr)")
WRONG_CARRIER = define_code(
    "MSS-PUB-002",
    ERROR,
    "this type of mailbox is not carried by this resource (PER: Practitioner or "
    "PractitionerRole; CAB: Practitioner; ORG, APP: Organization)",
)
IMMUTABLE = define_code(
    "MSS-PUB-003", ERROR, "the address and the type of a mailbox cannot change: delete, then insert"
)
NOT_MODIFIABLE = define_code("MSS-PUB-004", ERROR, "this type of mailbox may not change this field")
BAD_VALUE = define_code("MSS-PUB-005", ERROR, "a field's value has the wrong type or form")
BAD_TARGET = define_code("MSS-PUB-006", ERROR, "the identifier of the resource to patch is malformed")
EMPTY = define_code("MSS-PUB-007", ERROR, "the patch has no operation")

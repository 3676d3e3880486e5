"""MSSanté addresses: professional mailboxes and patient (MSS-C) addresses.

:class:`Address` holds a valid address (domain case-insensitive, IDNA); patient addresses
are ``<INS matricule>@patient.mssante.fr`` and give back their :class:`~mssante.identifiers.Ins`.
:func:`check` never raises on bad input. :class:`MailboxType` names the four kinds of
mailbox (PER, ORG, APP, CAB).

>>> from mssante.addresses import Address
>>> Address.parse("279035121518989@patient.mssante.fr").is_patient
True
"""

from mssante.addresses._address import (
    MAX_ADDRESS_LENGTH,
    PATIENT_DOMAIN,
    PLAIN_DOMAIN,
    Address,
    AddressCheck,
    MailboxType,
    check,
    normalise_domain,
)

__all__ = [
    "MAX_ADDRESS_LENGTH",
    "PATIENT_DOMAIN",
    "PLAIN_DOMAIN",
    "Address",
    "AddressCheck",
    "MailboxType",
    "check",
    "normalise_domain",
]

"""National identifiers of French health IT, typed and validated.

Professionals: :class:`Rpps`, :class:`Adeli` and the national :class:`Idnps` (IdNat_PS).
Structures: :class:`Finess`, :class:`Siren`, :class:`Siret` and the national
:class:`IdNatStruct` (IdNat_Struct). Patients: :class:`Ins` matricules (NIR or NIA) and
their :class:`InsAuthority` OIDs.

Each class reads loose input with ``parse()`` and cannot hold an invalid value.
:func:`check` and :func:`check_ins` never raise on bad input: they return an
:class:`IdentifierCheck` whose report says why.

>>> from mssante import identifiers
>>> str(identifiers.Ins.parse("2 79 03 51 215 189 89"))
'279035121518989'
>>> identifiers.check("810000001916").type.label
'IdNat_PS'
"""

from mssante.identifiers._base import Identifier, IdentifierType
from mssante.identifiers._check import IdentifierCheck, check, check_ins, parse
from mssante.identifiers._checksums import ins_key, luhn_key, luhn_valid
from mssante.identifiers._idnps import IDNPS_OID, Idnps, IdnpsKind
from mssante.identifiers._input import MAX_INPUT_LENGTH
from mssante.identifiers._ins import Ins, InsAuthority, judge_ins
from mssante.identifiers._professionals import Adeli, Rpps
from mssante.identifiers._structures import IDNST_OID, Finess, IdNatStruct, IdNatStructKind, Siren, Siret

__all__ = [
    "IDNPS_OID",
    "IDNST_OID",
    "MAX_INPUT_LENGTH",
    "Adeli",
    "Finess",
    "IdNatStruct",
    "IdNatStructKind",
    "Identifier",
    "IdentifierCheck",
    "IdentifierType",
    "Idnps",
    "IdnpsKind",
    "Ins",
    "InsAuthority",
    "Rpps",
    "Siren",
    "Siret",
    "check",
    "check_ins",
    "ins_key",
    "judge_ins",
    "luhn_key",
    "luhn_valid",
    "parse",
]

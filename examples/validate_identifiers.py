"""Validate the identifiers of a professional, a structure and a patient, as a vendor's form would."""

from __future__ import annotations

from mssante import identifiers
from mssante.identifiers import IdNatStruct, Idnps, Ins, Rpps, Siret

# A professional: the RPPS typed by a user, its national form for XDM/CDA authors (8 + RPPS).
rpps = Rpps.parse(" 100 000 019 16 ")
author = Idnps.of(rpps)
print(f"RPPS {rpps} -> IdNat_PS {author} (OID {identifiers.IDNPS_OID})")

# A structure: a SIRET and the IdNat_Struct found in the OU of its IGC Santé certificate.
structure = IdNatStruct.of(Siret.parse("187 512 751 00020"))
print(f"IdNat_Struct {structure} (SIREN {structure.siren})")

# A patient: the INS matricule, under its assigning authority.
ins = Ins.parse("2 79 03 51 215 189 89", authority="nir")
print(f"INS {ins} kind={ins.kind} oid={ins.authority}")

# Checks never raise on bad input: the report says why, with stable codes.
for text in ["10003461033", "540002698", "12"]:
    result = identifiers.check(text)
    print(text, result.type, "valid" if result.ok else "invalid", [str(finding) for finding in result.report])

verdict = identifiers.check("10003461033")
assert not verdict.ok
assert verdict.report.codes == ("MSS-ID-006",)

"""Build and read patient (MSS-C) addresses, and refuse what is not an MSSanté address."""

from __future__ import annotations

from mssante import addresses
from mssante.addresses import Address
from mssante.identifiers import Ins

ins = Ins.parse("146026322000196")
patient = Address.for_patient(ins)
print(f"write to {patient} (patient: {patient.is_patient})")
assert patient.ins == ins

for text in [
    "Dr.Martin@CHU-Exemple.mssante.fr",
    "288091234567823@patient.mssante.fr",  # a published example whose INS key is wrong
    "dr@chu.fr\r\nBcc: everyone@chu.fr",  # header injection
]:
    result = addresses.check(text)
    status = "valid" if result.ok else "refused"
    print(f"{text!r}: {status}", [finding.code for finding in result.report])
    assert result.ok == (result.address is not None)

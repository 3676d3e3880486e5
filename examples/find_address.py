"""Find recipients' MSSanté addresses: a professional in the offline directory index, a patient from the INS.

The national directory's daily extraction (``Extraction_Correspondance_MSSante``) is imported into a local SQLite
index, then looked up by RPPS or address and searched by name, profession and place. A synthetic extraction of
2,000 lines stands in for the real file here. Patients are not in the directory: their MSS-C address is made from
their INS.

Run: ``python examples/find_address.py`` (offline, writes only in a temporary folder).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from mssante.addresses import Address
from mssante.directory import DirectoryIndex
from mssante.identifiers import Ins
from mssante.testing import write_synthetic_extraction

with tempfile.TemporaryDirectory() as folder:
    extraction = write_synthetic_extraction(Path(folder) / "Extraction_Correspondance_MSSante.zip", 2000, zip=True)
    with DirectoryIndex.open(Path(folder) / "directory.sqlite3") as index:
        imported = index.import_extraction(extraction)  # the real file: once a day, about a minute
        print(f"imported {imported.mailboxes} mailboxes from {imported.source} in {imported.seconds:.2f} s")

        doctors = index.search(profession="médecin", postcode="75", limit=3)
        for mailbox in doctors:
            person, structure = mailbox.person, mailbox.structure
            where = f"{structure.name}, {structure.city}" if structure else "no structure"
            who = person.name if person else mailbox.description
            print(f"search médecin in 75: {mailbox.address} ({who}; {where})")

        rpps = doctors[0].person.rpps if doctors and doctors[0].person else None
        if rpps:
            found = index.lookup(rpps)  # an RPPS, an IdNat_PS or an address
            print(f"lookup RPPS {rpps}: {', '.join(mailbox.address for mailbox in found)}")

ins = Ins.parse("279035121518989")  # the patient's INS, qualified through the INSi teleservice
patient = Address.for_patient(ins)
print(f"patient with INS {ins}: {patient} (patient address: {patient.is_patient})")

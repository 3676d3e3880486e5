"""Compose an MSSanté message carrying a CDA document: XDM package, PDF, X-MSS headers, read receipt; lint it.

The CDA document is the CI-SIS example that ships with ``mssante.testing`` (a rapid COVID-19 test result). The patient's
MSS-C address is made from the INS in its header, ``Package.from_cda`` builds the ``IHE_XDM.ZIP`` from the same
header, and ``compose`` sets the ``X-MSS-*`` headers and the ``XDM/1.0/DDM+`` subject. The message is linted, then
written as ``message.eml`` in the current folder, ready for ``mssante message inspect message.eml``.

Run: ``python examples/compose_message.py`` (offline).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from mssante.addresses import Address
from mssante.message import compose, lint
from mssante.testing import sample_bytes
from mssante.xdm import Package, read_cda_header

now = dt.datetime.now(dt.timezone.utc)
cda = sample_bytes("cisis-BIO-TROD_2024.01_COVID-19.xml")
patient = read_cda_header(cda).patient
assert patient.ins is not None, "the document names no patient INS"
patient_address = str(Address.for_patient(patient.ins))
doctor = "claire.durand@hopital.mssante.fr"

CONTENT_TYPE = {"code": "07", "scheme": "1.2.250.1.213.2.2"}  # JDV_J03: the activity the submission comes from
package = Package.from_cda(
    cda, at=now, recipients=[patient_address, doctor], submission_set={"content_type_code": CONTENT_TYPE}
)
mail = compose(
    sender=("Pierre DIDOT", "pierre.didot@labo-exemple.mssante.fr"),
    to=[patient_address],
    cc=[doctor],
    nil="DEV935997",  # X-MSS-NIL: your product reference, on every message
    at=now,
    xdm=package,  # attached as IHE_XDM.zip
    pdf=b"%PDF-1.4 ...",  # the same document as PDF/A-1, from your renderer
    text="Bonjour,\n\nVeuillez trouver le résultat de votre test.\n",
    read_receipt=True,  # Disposition-Notification-To: the sender
    no_reply=True,  # X-MSS-MES: FIN, the patient cannot answer
)
print(f"Subject: {mail['Subject']}")
for name in ("X-MSS-NIL", "X-MSS-CODECDA", "X-MSS-INS", "X-MSS-MES", "Disposition-Notification-To"):
    print(f"{name}: {mail[name]}")
print("attachments:", ", ".join(part.get_filename() or "?" for part in mail.iter_attachments()))

report = lint(mail)
print(f"lint: {'ok' if report.ok else 'refused'}, {len(report.errors)} error(s), {len(report.warnings)} warning(s)")
for finding in report.warnings:
    print(f"  {finding.code} {finding.message}")
if not report.ok:
    raise SystemExit("not sent: " + "; ".join(str(finding) for finding in report.errors))

target = Path("message.eml")
target.write_bytes(mail.as_bytes())
print(f"wrote {target} ({target.stat().st_size:,} bytes)")

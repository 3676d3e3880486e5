"""The demo: one complete MSSanté exchange on this machine, offline, every check in force.

A laboratory sends a patient (MSS-C) the result of a test as a CI-SIS CDA document in an IHE XDM
package with its PDF, the patient's doctor in copy (found in the directory); the message goes over
mutual TLS to a local operator, is read back from the patient's mailbox, parsed and linted; the
patient's read receipt comes back, and the delivery tracker shows the message delivered, then read.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import email.policy
import re
import shlex
import tempfile
import warnings
from collections.abc import Callable
from email.parser import BytesParser
from importlib import resources
from pathlib import Path

from cryptography.hazmat.primitives.serialization import Encoding

from mssante._files import atomic_write
from mssante.addresses import PATIENT_DOMAIN, Address
from mssante.addresses import check as check_address
from mssante.demo._steps import DemoResult, DemoStep, StepFailed, Steps
from mssante.directory import EXTRACTION_HEADER, DirectoryIndex
from mssante.errors import SecurityWarning
from mssante.message import Disposition, build_mdn, compose, lint, parse
from mssante.pki import Environment, Purpose, verify
from mssante.report import Report
from mssante.testing import IssuedCertificate, LocalOperator, TestPki
from mssante.tracking import SqliteStore, Status, Tracker
from mssante.trustspace import AllowList, OperatorDn
from mssante.xdm import Package, read_cda_header, validate

__all__ = ["KEPT", "next_commands", "run_demo"]

KEPT = {
    "message.eml": "the message as the patient's mailbox gave it",
    "IHE_XDM.zip": "its XDM package",
    "receipt.eml": "the patient's read receipt (MDN)",
    "returned-dsn.eml": "the delivery report the operator sent back",
    "returned-mdn.eml": "the read receipt as the sender received it",
    "tracking.sqlite3": "the delivery tracker's file",
    "directory.sqlite3": "the offline directory index (made from a sample extraction, the .txt file)",
    "laboratoire.pem": "the laboratory software's certificate, then its intermediate CA (PEM)",
    "laboratoire.key": "its private key (a throw-away TEST key)",
    "test-ca-root.pem": "the TEST root CA that certificate chains to: the trust anchor",
    "test-ca-intermediate.pem": "the TEST intermediate CA that issued it",
    "test-ca-root.crl": "the root CA's CRL (valid 7 days)",
    "test-ca-intermediate.crl": "the intermediate CA's CRL (valid 7 days)",
}
"""The files the demo leaves in its folder, and what each is."""

_NEXT = (
    ("message inspect {message.eml}", "the message as the patient's mailbox gave it"),
    ("message lint --env test {message.eml}", "judged in the TEST environment: no error, no warning"),
    ("xdm validate --env test {IHE_XDM.zip}", "its XDM package, judged in the TEST environment too"),
    ("mdn parse {returned-mdn.eml}", "the read receipt that came back"),
    ("message lint {returned-mdn.eml}", "judged as a notification, not as a message"),
    ("cert verify {laboratoire.pem} --purpose organisation --env test --trust-anchor {test-ca-root.pem} "
     "--chain {test-ca-intermediate.pem} --crl {test-ca-intermediate.crl} --crl {test-ca-root.crl}",
     "the laboratory's certificate"),
    ("directory lookup 10101010104 --db {directory.sqlite3}", "the doctor, by RPPS"),
    ("track status --db {tracking.sqlite3} {message_id}", "delivered, then read"),
)  # fmt: skip


_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")


def next_commands(folder: str | Path, message_id: str) -> list[tuple[str, str]]:
    """The ``mssante`` commands to run on the files kept in ``folder``, each with what it shows.

    Each command line starts with ``mssante`` and is quoted for a POSIX shell; ``message_id`` is the
    Message-ID of the demo's message (as :attr:`DemoResult.message_id` gives it).
    """
    values = {name: shlex.quote(str(Path(folder) / name)) for name in KEPT}
    values["message_id"] = shlex.quote(message_id)
    return [("mssante " + _PLACEHOLDER.sub(lambda name: values[name[1]], command), what) for command, what in _NEXT]


LAB_DOMAIN = "labo.mssante.fr"
DOCTOR_DOMAIN = "medecin.mssante.fr"
SENDER = f"pierre.didot@{LAB_DOMAIN}"
DOCTOR_RPPS = "10101010104"
DOCTOR = f"stephane.medioni@{DOCTOR_DOMAIN}"
NIL = "DEMO00001"
CDA_NAME = "cisis-BIO-TROD_2024.01_COVID-19.xml"
CONTENT_TYPE_CODE = {"code": "07", "scheme": "1.2.250.1.213.2.2"}


def _cda() -> bytes:
    return resources.files("mssante.demo").joinpath("data").joinpath(CDA_NAME).read_bytes()


def _sample_extraction() -> str:
    """A small extraction file in the ANS format: the doctor and a few neighbours."""
    blank = [""] * (len(EXTRACTION_HEADER) - 18)
    rows = [
        ["PER", DOCTOR, "8", DOCTOR_RPPS, f"8{DOCTOR_RPPS}", "", "", "", "DR", "MEDIONI", "STEPHANE", "C", "Civil",
         "10", "Médecin", "SM54", "Médecine générale", "True"],
        ["PER", f"jeanne.nessi@{DOCTOR_DOMAIN}", "8", "10101010203", "810101010203", "", "", "", "DR", "NESSI",
         "JEANNE", "C", "Civil", "10", "Médecin", "SM54", "Médecine générale", "True"],
        ["PER", SENDER, "8", "10101010302", "810101010302", "", "", "", "DR", "DIDOT", "PIERRE", "C", "Civil",
         "21", "Pharmacien", "", "", "True"],
    ]  # fmt: skip
    return "\n".join("|".join(fields) for fields in [list(EXTRACTION_HEADER), *[row + blank for row in rows]]) + "\n"


def _allowlist(operator: LocalOperator, at: dt.datetime) -> AllowList:
    """An allow-list in the ANS format listing the demo operator's certificate for each of its domains."""
    dn = OperatorDn.from_name(operator.server_certificate.certificate.subject)
    stamp = at.strftime("%Y-%m-%dT%H:%M:%SZ")
    entries = "".join(
        f"<Domaine><Nom>{domain}</Nom><Description>Opérateur de démonstration</Description>"
        f"<DNCertificatOperateur>{dn}</DNCertificatOperateur><ResponsableContact>demo</ResponsableContact>"
        f"<SupportContact>demo</SupportContact><DateMAJ>{stamp}</DateMAJ></Domaine>"
        for domain in operator.domains
    )
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?><ListeBlancheMSSante xmlns="https://listeblanche.mssante.fr/schema">'
        f"<DateDeGeneration>{stamp}</DateDeGeneration><ListeDomaines>{entries}</ListeDomaines></ListeBlancheMSSante>"
    )
    return AllowList.parse(xml.encode())


_XMP = (
    b'<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/">'
    b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    b'<rdf:Description rdf:about="" xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/">'
    b"<pdfaid:part>1</pdfaid:part><pdfaid:conformance>B</pdfaid:conformance>"
    b'</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
)
"""The XMP packet that identifies the demo's PDF as PDF/A-1b (ISO 19005-1 §6.7.11), uncompressed as PDF/A-1 wants."""


def _pdf(text: str) -> bytes:
    """A one-page PDF showing ``text`` (ASCII), with a correct cross-reference table."""
    content = f"BT /F1 14 Tf 72 760 Td ({text}) Tj ET".encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R /Metadata 6 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Type /Metadata /Subtype /XML /Length %d >>\nstream\n%s\nendstream" % (len(_XMP), _XMP),
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def _errors(report: Report) -> list[str]:
    return [f"{finding.code} {finding.message}" for finding in report.errors]


def run_demo(*, progress: Callable[[DemoStep], None] | None = None, workdir: Path | None = None) -> DemoResult:
    """Run the demo exchange; ``progress`` hears of each step as it ends. Stops at the first failed step.

    Everything happens on 127.0.0.1 with throw-away certificates and data, in a temporary folder removed
    at the end, or in ``workdir``, which keeps them (see :data:`KEPT`). Needs the ``testing`` extra (aiosmtpd).
    """
    steps = Steps(progress)
    with tempfile.TemporaryDirectory(prefix="mssante-demo-") as temporary, warnings.catch_warnings():
        # The demo trusts a TEST hierarchy on purpose: the warning is said once, in the first step.
        warnings.simplefilter("ignore", SecurityWarning)
        folder = Path(workdir) if workdir is not None else Path(temporary)
        folder.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(StepFailed):  # the failed step is in the result
            _exchange(steps, folder)
    return steps.result()


def _exchange(steps: Steps, folder: Path) -> None:
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)

    with steps.step("pki", "A test PKI shaped like IGC Santé") as step:
        pki = TestPki.create(at=now)
        operator = LocalOperator(domains=(LAB_DOMAIN, DOCTOR_DOMAIN, PATIENT_DOMAIN), pki=pki, at=now)
        software = pki.organisation("LABO-DEMO", usage="auth")
        checked = verify(software.certificate, purpose=Purpose.ORGANISATION, store=operator.trust_store, at=now,
                         intermediates=software.intermediates, revocation=operator.revocation)  # fmt: skip
        step.say(f"Made the IGC Santé CAs ({pki.environment} hierarchy) and issued the operator's server certificate")
        step.say(f"and the laboratory software's certificate: {software.certificate.subject.rfc4514_string()}")
        profile = checked.profile.name if checked.profile else "none"
        step.say(f"mssante.pki checked it: {'valid' if checked.ok else 'refused'} (profile {profile})")
        step.say("A TEST hierarchy: what it issues never passes for a production identity.")
        step.expect(checked.ok, f"the software certificate was refused: {_errors(checked.report)}")
        _write_authorities(pki, software, folder)

    with steps.step("operator", "A local MSSanté operator") as step:
        operator.start()
        step.say(f"SMTP submission on localhost:{operator.smtp_port}: STARTTLS required, client certificate required")
        step.say(f"IMAP on localhost:{operator.imap_port}: STARTTLS required, client certificate required")
        step.say(f"Domains: {', '.join(operator.domains)}")
    try:
        with SqliteStore(folder / "tracking.sqlite3") as store:
            _with_operator(steps, operator, software, folder=folder, now=now, tracker=Tracker(store))
    finally:
        operator.stop()


def _write_authorities(pki: TestPki, software: IssuedCertificate, folder: Path) -> None:
    """The CAs of the software's certificate and their CRLs, for ``mssante cert verify`` on the kept files."""
    issuer = pki.issuer_of(software.certificate)
    atomic_write(folder / "test-ca-root.pem", software.anchor.public_bytes(Encoding.PEM), mode=0o644)
    intermediates = b"".join(ca.public_bytes(Encoding.PEM) for ca in software.intermediates)
    atomic_write(folder / "test-ca-intermediate.pem", intermediates, mode=0o644)
    atomic_write(folder / "test-ca-intermediate.crl", pki.crl(issuer.name), mode=0o644)
    atomic_write(folder / "test-ca-root.crl", pki.crl(issuer.root.name), mode=0o644)


def _with_operator(  # noqa: PLR0915 (one story, told step by step)
    steps: Steps,
    operator: LocalOperator,
    software: IssuedCertificate,
    *,
    folder: Path,
    now: dt.datetime,
    tracker: Tracker,
) -> None:
    with steps.step("allowlist", "The ANS allow-list") as step:
        allow = _allowlist(operator, now)
        server = operator.server_certificate.certificate
        decisions = [
            allow.authorise_outbound(
                domain, server, host=operator.host, store=operator.trust_store, at=now, revocation=operator.revocation
            )
            for domain in operator.domains
        ]
        step.say(f"A demo list of {len(allow.domains)} domains, each naming the operator's certificate")
        for decision in decisions:
            step.say(f"{decision.domain}: {'authorised' if decision.ok else 'refused'}")
        step.expect(all(decision.ok for decision in decisions), "the operator is not authorised by the allow-list")
        step.expect(not allow.check_domain("gmail.com").ok, "a domain off the list was accepted")
        step.say("gmail.com: not on the list, so no MSSanté mail goes there")

    with steps.step("directory", "Find the doctor's address in the directory") as step:
        extraction = folder / "Extraction_Correspondance_MSSante_demo.txt"
        atomic_write(extraction, _sample_extraction().encode("utf-8"), mode=0o644)
        with DirectoryIndex.open(folder / "directory.sqlite3") as index:
            imported = index.import_extraction(extraction, at=now)
            found = index.lookup(DOCTOR_RPPS)
        step.say(f"Imported a sample of the national extraction ({imported.rows} lines) into an offline index")
        step.expect(len(found) == 1, f"RPPS {DOCTOR_RPPS} not found in the index")
        doctor = found[0]
        person = doctor.person
        who = f"{person.civility} {person.given} {person.family}, {person.profession}" if person else doctor.description
        step.say(f"RPPS {DOCTOR_RPPS}: {who}: {doctor.address}")

    with steps.step("patient", "Address the patient by the INS") as step:
        cda = _cda()
        patient = read_cda_header(cda).patient
        step.expect(patient.ins is not None, "the CDA document's patient has no INS")
        assert patient.ins is not None
        address = str(Address.for_patient(patient.ins))
        verdict = check_address(address)
        authority = patient.ins.authority.name if patient.ins.authority else "no"
        step.say(
            f"The CDA document's patient, {patient.used_given} {patient.used_family}, has the INS "
            f"{patient.ins.value} ({authority} authority)"
        )
        step.say(f"Patients are not in the directory: their MSS-C address is made from the INS: {address}")
        step.expect(verdict.ok, f"the patient address is refused: {_errors(verdict.report)}")

    with steps.step("compose", "Compose the message: XDM package + PDF") as step:
        # The one code the CI-SIS asks for that a CDA header does not give (MSS-XDM-043): the activity the submission
        # comes from (JDV_J03, here TRE_R209 07: outpatient care); the class is derived from the type (ASS_X04).
        package = Package.from_cda(
            cda, at=now, recipients=[address, doctor.address], submission_set={"content_type_code": CONTENT_TYPE_CODE}
        )
        mail = compose(
            sender=SENDER, to=[address], cc=[doctor.address], nil=NIL, at=now, xdm=package,
            pdf=_pdf("Resultat de test rapide COVID-19 - document de demonstration"), read_receipt=True,
            text="Bonjour,\n\nVeuillez trouver votre résultat d'analyse.\n\nLaboratoire de démonstration",
        )  # fmt: skip
        data = mail.as_bytes()
        atomic_write(folder / "IHE_XDM.zip", package.to_zip(), mode=0o644)
        steps.message_id = str(mail["Message-ID"])
        report = lint(mail, environment=Environment.TEST)
        step.say(f"Subject: {mail['Subject']}")
        step.say(f"Message-ID: {steps.message_id}")
        step.say(f"{len(data):,} bytes; X-MSS-CODECDA {mail['X-MSS-CODECDA']}, X-MSS-INS {mail['X-MSS-INS']}")
        step.say(f"Lint (TEST environment): {len(report.errors)} error(s), {len(report.warnings)} warning(s)")
        for finding in report.warnings:
            step.say(f"  {finding.code} {finding.message}")
        step.expect(report.ok, f"the message fails the MSSanté rules: {_errors(report)}")

    with steps.step("send", "Send over SMTP with mutual TLS") as step:
        certificate = software.write(folder, "laboratoire")
        operator.add_user(SENDER)
        with operator.submission(SENDER, client_certificate=certificate) as smtp:
            result = smtp.send(mail, dsn=True)
        tracker.sent_result(result, now)
        step.say("STARTTLS, the operator's certificate checked by mssante.pki, our certificate checked by the operator")
        step.say(f"XOAUTH2 as {SENDER}; accepted for {', '.join(result.accepted)}")
        step.expect(result.ok, f"not every recipient was accepted: {result}")

    with steps.step("receive", "The patient reads the message") as step:
        operator.add_user(address)
        with operator.mailbox(address, client_certificate=certificate) as box:
            uids = box.unseen()
            step.expect(len(uids) == 1, f"{len(uids)} new message(s) in the patient's mailbox, not 1")
            fetched = box.fetch(uids[0])
            box.mark_seen(uids[0])
        received = fetched.message
        atomic_write(folder / "message.eml", fetched.raw, mode=0o644)
        step.expect(received.message_id == mail["Message-ID"], "the message read back is not the one sent")
        [(_, read_package)] = received.packages
        checked_package = validate(read_package)
        step.say(f"Fetched {len(fetched.raw):,} bytes over IMAP (STARTTLS, client certificate): {received.subject}")
        documents = read_package.documents
        step.say(f"XDM package: {len(documents)} document(s), {len(checked_package.errors)} error(s)")
        same = [content for _, content in documents] == [cda]
        step.say(f"The CDA document is {'byte for byte the one sent' if same else 'different from the one sent'}")
        step.expect(
            same and checked_package.ok and lint(received, environment=Environment.TEST).ok,
            "the package read back is not valid",
        )

    with steps.step("mdn", "The patient's read receipt") as step:
        original = BytesParser(policy=email.policy.default).parsebytes(fetched.raw)
        receipt = build_mdn(
            original=original, reporting_ua="mon-espace-sante.demo", final_recipient=address,
            disposition=Disposition(type="displayed", action_mode="manual-action", sending_mode="MDN-sent-manually"),
            at=now, sender=address,
        )  # fmt: skip
        atomic_write(folder / "receipt.eml", receipt.as_bytes(), mode=0o644)
        with operator.submission(address, client_certificate=certificate) as smtp:
            sent_back = smtp.send(receipt)
        step.say(f"An MDN 'displayed' from {address} to {SENDER}: {'accepted' if sent_back.ok else 'refused'}")
        step.expect(sent_back.ok, f"the read receipt was not accepted: {sent_back}")

    with steps.step("tracking", "Delivery tracking: delivered, then read") as step:
        with operator.mailbox(SENDER, client_certificate=certificate) as box:
            notifications = [box.fetch(uid).raw for uid in box.unseen()]
        order = {"dsn": 0, "mdn": 1}
        notifications.sort(key=lambda raw: order.get(parse(raw).kind, 2))
        for raw in notifications:
            observation = tracker.observe(raw, now)
            atomic_write(folder / f"returned-{observation.kind}.eml", raw, mode=0o644)
            for change in observation.changes:
                step.say(f"{observation.kind.upper()}: {change.recipient} is now {change.after.value}")
        tracked = tracker.status(mail["Message-ID"])
        step.expect(tracked is not None, "the tracker lost the message")
        assert tracked is not None
        statuses = {state.address: state.status for state in tracked.recipients}
        step.say("Final: " + ", ".join(f"{who} {status.value}" for who, status in statuses.items()))
        step.expect(statuses.get(address) is Status.READ, f"the patient's status is {statuses.get(address)}, not read")
        step.expect(statuses.get(doctor.address) is Status.DELIVERED, "the doctor's copy is not delivered")

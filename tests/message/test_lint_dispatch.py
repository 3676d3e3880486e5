"""lint judges a read receipt or a delivery report as a notification, a message as a message; the TEST environment."""

from __future__ import annotations

import datetime as dt
import re
from email.message import EmailMessage
from pathlib import Path

import pytest

from mssante.message import (
    NOTIFICATION_RULES,
    RULES,
    Disposition,
    Dsn,
    DsnRecipient,
    build_dsn,
    build_mdn,
    compose,
    lint,
    parse,
)
from mssante.pki import Environment
from mssante.report import Severity
from mssante.xdm import Package

DATA = Path(__file__).parent.parent / "data" / "xdm"
CDA = (DATA / "cisis-BIO-TROD_2024.01_COVID-19.xml").read_bytes()
AT = dt.datetime(2024, 1, 16, 8, 0, tzinfo=dt.timezone.utc)
PATIENT = "279035121518989@patient.mssante.fr"
DOCTOR = "pierre.didot@pharmacie-4-cantons.mssante.fr"
MESSAGE_RULES = {"MSS-MSG-001", "MSS-MSG-002", "MSS-MSG-012", "MSS-MSG-022"}  # what a notification never gets


@pytest.fixture(scope="module")
def original() -> EmailMessage:
    return compose(
        sender=DOCTOR, to=[PATIENT], nil="DEV935997", at=AT, xdm=Package.from_cda(CDA, at=AT), pdf=b"%PDF-1.4\n",
        text="Bonjour", read_receipt=True, message_id="<20240116080000.1@pharmacie-4-cantons.mssante.fr>",
    )  # fmt: skip


def read_receipt(original: EmailMessage) -> bytes:
    """The patient's read receipt, as the demo sends it: from the patient's address, no X-MSS-NIL."""
    return build_mdn(
        original=original, reporting_ua="mon-espace-sante.demo", final_recipient=PATIENT, at=AT, sender=PATIENT,
        disposition=Disposition(type="displayed", action_mode="manual-action", sending_mode="MDN-sent-manually"),
    ).as_bytes()  # fmt: skip


def delivery_report(original: EmailMessage) -> bytes:
    dsn = Dsn(
        reporting_mta="mx.patient.mssante.fr",
        original_envelope_id=str(original["Message-ID"]),
        recipients=[DsnRecipient(final_recipient=PATIENT, action="delivered", status="2.0.0")],
    )
    return build_dsn(dsn=dsn, sender="MAILER-DAEMON@mx.operateur.fr", at=AT, original=original).as_bytes()


def codes(data: bytes) -> set[str]:
    return set(lint(data).codes)


def test_a_read_receipt_from_the_patient_lints_ok(original: EmailMessage) -> None:
    data = read_receipt(original)
    assert parse(data).kind == "mdn"
    report = lint(data)
    assert report.ok, report
    assert not report.warnings
    assert not MESSAGE_RULES & set(report.codes)


def test_a_delivery_report_lints_ok(original: EmailMessage) -> None:
    data = delivery_report(original)
    assert parse(data).kind == "dsn"
    report = lint(data)
    assert report.ok, report
    assert not report.warnings


def test_a_broken_read_receipt_gets_its_notification_errors(original: EmailMessage) -> None:
    data = read_receipt(original).replace(b"Final-Recipient:", b"Final-Recipients:")
    message = parse(data)
    assert (message.kind, message.mdn) == ("mdn", None)  # still a read receipt, whose block does not read
    report = lint(data)
    assert not report.ok
    assert "MSS-MDN-005" in {finding.code for finding in report.errors}
    assert not MESSAGE_RULES & set(report.codes)


def test_a_broken_delivery_report_gets_its_notification_errors(original: EmailMessage) -> None:
    data = delivery_report(original).replace(b"Status: 2.0.0", b"Status: delivered")
    assert parse(data).kind == "dsn"
    report = lint(data)
    assert not report.ok
    assert "MSS-DSN-010" in {finding.code for finding in report.errors}
    assert not MESSAGE_RULES & set(report.codes)


def test_a_notification_still_gets_the_header_rules_of_any_mail(original: EmailMessage) -> None:
    data = read_receipt(original)
    assert "MSS-MSG-013" in codes(re.sub(rb"(?m)^Message-ID: .*\r?\n", b"", data, count=1))
    assert "MSS-MSG-017" in codes(data.replace(f"From: {PATIENT}".encode(), b"From: not an address", 1))


def test_a_message_is_judged_as_before(original: EmailMessage) -> None:
    data = original.as_bytes()
    assert "MSS-MSG-001" in codes(data.replace(b"X-MSS-NIL: DEV935997\r\n", b""))
    from_patient = compose(sender=PATIENT, to=[DOCTOR], nil="DEV935997", at=AT, subject="Bonjour", text="Bonjour")
    assert "MSS-MSG-022" in codes(from_patient.as_bytes())
    report_like = data.replace(b"Content-Type: multipart/mixed", b"Content-Type: multipart/report", 1)
    assert parse(report_like).kind == "message"  # a report part makes a notification, not the content type alone
    assert "MSS-MSG-001" in codes(report_like.replace(b"X-MSS-NIL: DEV935997\r\n", b""))


def test_a_notification_is_judged_by_none_of_the_rules_of_a_message_a_professional_writes() -> None:
    names = {rule.__name__ for rule in NOTIFICATION_RULES}
    assert not names & {"_nil", "_identity", "_body", "_xdm", "_headers_of_documents", "_patients", "_receipt"}
    assert "_single_headers" in names & {rule.__name__ for rule in RULES}


def test_the_test_environment_expects_a_test_ins(original: EmailMessage) -> None:
    data = original.as_bytes()
    in_prod = lint(data)
    assert {finding.code for finding in in_prod.warnings} >= {"MSS-XDM-044"}
    for environment in ("test", Environment.TEST):
        in_test = lint(data, environment=environment)
        assert "MSS-XDM-044" not in {finding.code for finding in in_test.warnings}
        said = [finding for finding in in_test if finding.code == "MSS-XDM-044"]
        assert said
        assert all(finding.severity is Severity.INFO for finding in said)  # said, never silent
        assert all("TEST environment" in finding.message for finding in said)
    assert lint(data, environment="prod") == in_prod


def test_an_unknown_environment_is_refused(original: EmailMessage) -> None:
    with pytest.raises(ValueError, match="prod, test"):
        lint(original, environment="staging")

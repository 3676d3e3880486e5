"""build_dsn: the DSN as a mail, read back by parse_delivery_status and by parse."""

from __future__ import annotations

import datetime as dt
import email
import email.parser
import email.policy
from email.message import EmailMessage, Message

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mssante.message import Dsn, DsnRecipient, build_dsn, parse, parse_delivery_status
from mssante.message._notification_values import DSN_ACTIONS
from tests.message.reports import block_of, read_report

AT = dt.datetime(2024, 3, 1, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=1)))
ORIGINAL_ID = "<20240301093000.1234@chu.mssante.fr>"


def make_original() -> EmailMessage:
    original = EmailMessage()
    original["Return-Path"] = "<bounces@chu.mssante.fr>"
    original["From"] = "Dr Jeanne Dupont <jeanne.dupont@chu.mssante.fr>"
    original["To"] = "secretariat@clinique.mssante.fr"
    original["Subject"] = "XDM/1.0/DDM+CR de biologie DUPONT Jeanne"
    original["Message-ID"] = ORIGINAL_ID
    original.set_content("Le compte rendu est joint.\n")
    return original


def make_dsn(**overrides: object) -> Dsn:
    values: dict[str, object] = {
        "reporting_mta": "mx.clinique.mssante.fr",
        "original_envelope_id": ORIGINAL_ID,
        "arrival_date": AT,
        "recipients": [
            DsnRecipient(
                final_recipient="secretariat@clinique.mssante.fr",
                original_recipient="secretariat@clinique.mssante.fr",
                action="failed",
                status="5.1.1",
                diagnostic_code="550 5.1.1 <secretariat@clinique.mssante.fr>: Recipient address rejected",
                diagnostic_type="smtp",
                remote_mta="mail.clinique.mssante.fr",
                last_attempt_date=AT,
                final_log_id="4TmQ1x2Y3z",
                extension_fields=[("X-Display-Name", "Secrétariat")],
            ),
            DsnRecipient(final_recipient="dr.martin@clinique.mssante.fr", action="delivered", status="2.0.0"),
        ],
        "extension_fields": [("X-Postfix-Queue-ID", "4TmQ1x2Y3z")],
    }
    values.update(overrides)
    return Dsn(**values)  # type: ignore[arg-type]


def reread(message: EmailMessage) -> EmailMessage:
    received = email.message_from_bytes(message.as_bytes(), policy=email.policy.default)
    assert isinstance(received, EmailMessage)
    return received


def part_of(message: Message, content_type: str) -> Message:
    return next(part for part in message.walk() if part.get_content_type() == content_type)


def test_dsn_round_trips_through_the_block_parser() -> None:
    dsn = make_dsn()
    mail = reread(build_dsn(dsn=dsn, sender="MAILER-DAEMON@clinique.mssante.fr", at=AT, original=make_original()))
    assert mail.get_content_type() == "multipart/report"
    assert mail.get_param("report-type") == "delivery-status"
    assert [part.get_content_type() for part in mail.iter_parts()] == [
        "text/plain",
        "message/delivery-status",
        "text/rfc822-headers",
    ]
    back = parse_delivery_status(block_of(mail, "message/delivery-status"))
    assert back == dsn
    assert read_report(mail) == attrs.evolve(dsn, human_text=read_report(mail).human_text)  # type: ignore[union-attr]


def test_dsn_mail_reads_back_through_parse() -> None:
    dsn = make_dsn()
    data = build_dsn(dsn=dsn, sender="MAILER-DAEMON@clinique.mssante.fr", at=AT, original=make_original()).as_bytes()
    message = parse(data)
    assert message.kind == "dsn"
    assert message.dsn is not None
    assert attrs.evolve(message.dsn, human_text="") == dsn
    assert "n’a pas pu être remis" in message.dsn.human_text
    assert message.subject.startswith("Échec de remise : XDM/1.0/DDM+")
    headers = next(part for part in message.mime.parts if part.content_type == "text/rfc822-headers")
    assert f"Message-ID: {ORIGINAL_ID}".encode() in headers.data
    assert b"Le compte rendu" not in data  # headers only, never the body


def test_addressing_and_defaults() -> None:
    original = make_original()
    mail = build_dsn(dsn=make_dsn(), sender="MAILER-DAEMON@clinique.mssante.fr", at=AT, original=original)
    assert mail["To"] == "bounces@chu.mssante.fr"
    assert mail["Auto-Submitted"] == "auto-replied"
    del original["Return-Path"]
    mail = build_dsn(dsn=make_dsn(), sender="MAILER-DAEMON@clinique.mssante.fr", at=AT, original=original)
    assert "jeanne.dupont@chu.mssante.fr" in mail["To"]
    delayed = make_dsn(recipients=[DsnRecipient(final_recipient="a@b.fr", action="delayed", status="4.4.1")])
    mail = build_dsn(dsn=delayed, sender="m@b.fr", at=AT, to="x@y.fr", message_id="<dsn.1@b.fr>", subject="Delay")
    assert (mail["To"], mail["Subject"], mail["Message-ID"]) == ("x@y.fr", "Delay", "<dsn.1@b.fr>")
    assert [part.get_content_type() for part in mail.iter_parts()] == ["text/plain", "message/delivery-status"]
    delivered = make_dsn(recipients=[DsnRecipient(final_recipient="a@b.fr", action="relayed", status="2.0.0")])
    assert build_dsn(dsn=delivered, sender="m@b.fr", at=AT, to="x@y.fr")["Subject"] == "Remise effectuée"
    custom = build_dsn(dsn=delivered, sender="m@b.fr", at=AT, to="x@y.fr", human_text="Delivered.\n")
    assert parse(custom.as_bytes()).dsn.human_text == "Delivered.\n"  # type: ignore[union-attr]


def test_refusals() -> None:
    with pytest.raises(ValueError, match="nobody"):
        build_dsn(dsn=make_dsn(), sender="m@b.fr", at=AT)
    with pytest.raises(ValueError, match="timezone"):
        build_dsn(dsn=make_dsn(), sender="m@b.fr", at=AT.replace(tzinfo=None), to="x@y.fr")
    with pytest.raises(TypeError):
        build_dsn(dsn="not a dsn", sender="m@b.fr", at=AT, to="x@y.fr")  # type: ignore[arg-type]
    for breaker in ("\r\n", "\n", "\x00"):
        with pytest.raises(ValueError, match="line break or control"):
            build_dsn(dsn=make_dsn(), sender="m@b.fr", at=AT, to=f"x@y.fr{breaker}Bcc: z@z.fr")
        with pytest.raises(ValueError, match="line break or control"):
            build_dsn(dsn=make_dsn(), sender="m@b.fr", at=AT, to="x@y.fr", subject=f"s{breaker}Bcc: z@z.fr")


_TEXT = (
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1, max_size=60)
    .map(str.strip)
    .filter(bool)
)
_TOKEN = st.from_regex(r"[a-z0-9][a-z0-9.-]{0,30}", fullmatch=True)
_ADDRESS = st.builds("{}@{}".format, _TOKEN, _TOKEN)
_DATE = st.datetimes(
    min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2090, 1, 1), timezones=st.just(dt.timezone.utc)
).map(lambda value: value.replace(microsecond=0))
_STATUS = st.builds("{}.{}.{}".format, st.sampled_from("245"), st.integers(0, 999), st.integers(0, 999))
_EXTENSIONS = st.lists(st.tuples(st.from_regex(r"X-[A-Za-z0-9-]{1,20}", fullmatch=True), _TEXT), max_size=3)
_RECIPIENT = st.builds(
    DsnRecipient,
    final_recipient=_ADDRESS,
    action=st.sampled_from(DSN_ACTIONS),
    status=_STATUS,
    original_recipient=st.none() | _ADDRESS,
    diagnostic_code=st.none() | _TEXT,
    diagnostic_type=st.just("smtp"),
    remote_mta=st.none() | _TOKEN,
    last_attempt_date=st.none() | _DATE,
    will_retry_until=st.none() | _DATE,
    final_log_id=st.none() | _TEXT,
    extension_fields=_EXTENSIONS,
)


def _fix_diagnostic(recipient: DsnRecipient) -> DsnRecipient:
    return recipient if recipient.diagnostic_code else attrs.evolve(recipient, diagnostic_type=None)


_DSN = st.builds(
    Dsn,
    reporting_mta=_TOKEN,
    recipients=st.lists(_RECIPIENT.map(_fix_diagnostic), min_size=1, max_size=5),
    arrival_date=st.none() | _DATE,
    original_envelope_id=st.none() | _TEXT,
    received_from_mta=st.none() | _TOKEN,
    dsn_gateway=st.none() | _TOKEN,
    extension_fields=_EXTENSIONS,
)


@settings(max_examples=150, deadline=None)
@given(dsn=_DSN)
def test_any_dsn_round_trips(dsn: Dsn) -> None:
    mail = build_dsn(dsn=dsn, sender="MAILER-DAEMON@b.fr", at=AT, to="x@y.fr", original=make_original())
    data = mail.as_bytes()
    received = email.message_from_bytes(data, policy=email.policy.default)
    assert parse_delivery_status(block_of(received, "message/delivery-status")) == dsn
    message = parse(data)
    assert message.kind == "dsn"
    assert message.dsn is not None
    assert attrs.evolve(message.dsn, human_text="") == dsn


def test_original_read_headers_only_with_an_8bit_body() -> None:
    original = make_original()
    original.set_content("Résultat d'analyse joint.\n", cte="8bit")
    original.add_attachment(b"%PDF-1.4\n", maintype="application", subtype="pdf", filename="résultat.pdf")
    data = original.as_bytes()
    headers_only = email.parser.BytesParser(policy=email.policy.default).parsebytes(data, headersonly=True)
    mail = build_dsn(dsn=make_dsn(), sender="MAILER-DAEMON@clinique.mssante.fr", at=AT, original=headers_only)
    parts = list(mail.iter_parts())
    returned = parts[2].get_content()
    assert f"Message-ID: {ORIGINAL_ID}" in returned
    assert "Résultat" not in returned  # the headers only, never the body


def test_a_global_delivery_status_reads_as_a_dsn() -> None:
    mail = build_dsn(dsn=make_dsn(), sender="MAILER-DAEMON@clinique.mssante.fr", at=AT, original=make_original())
    data = mail.as_bytes().replace(b"message/delivery-status", b"message/global-delivery-status")
    data = data.replace(b"secretariat@clinique.mssante.fr", "secrétariat@clinique.mssante.fr".encode())  # RFC 6533
    read = parse(data)
    assert read.kind == "dsn"
    assert read.dsn is not None
    assert read.dsn.recipients[0].final_recipient == "secrétariat@clinique.mssante.fr"

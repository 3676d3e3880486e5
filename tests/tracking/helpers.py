"""Notifications for the tracking tests: built by build_dsn/build_mdn, and raw."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage

from mssante.message import Disposition, Dsn, DsnRecipient, build_dsn, build_mdn

T0 = dt.datetime(2024, 5, 6, 8, 0, tzinfo=dt.timezone.utc)
MID = "<20240506080000.42@chu.mssante.fr>"
SENDER = "dr.dupont@chu.mssante.fr"
ALICE = "alice@clinique.mssante.fr"
BOB = "bob@labo.mssante.fr"


def original(message_id: str = MID, to: tuple[str, ...] = (ALICE, BOB)) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = SENDER
    mail["To"] = ", ".join(to)
    mail["Subject"] = "XDM/1.0/DDM+CR de biologie DUPONT Jeanne"
    mail["Message-ID"] = message_id
    mail["Disposition-Notification-To"] = SENDER
    mail["Return-Path"] = f"<{SENDER}>"  # as delivered: the MDN goes back to the sender without asking (RFC 8098)
    mail.set_content("Bonjour\n")
    return mail


def dsn(
    *entries: tuple[str, str, str],
    envelope: str | None = MID,
    with_headers: bool = True,
    message_id: str = MID,
    mta: str = "mx.clinique.mssante.fr",
) -> bytes:
    """A DSN for (recipient, action, status) entries."""
    report = Dsn(
        reporting_mta=mta,
        original_envelope_id=envelope,
        recipients=[DsnRecipient(final_recipient=r, action=a, status=s) for r, a, s in entries],
    )
    mail = build_dsn(
        dsn=report,
        sender=f"MAILER-DAEMON@{mta}",
        at=T0,
        original=original(message_id) if with_headers else None,
        to=SENDER,
        message_id=f"<dsn.{abs(hash(entries))}@{mta}>",
    )
    return mail.as_bytes()


def mdn(recipient: str, disposition: Disposition, message_id: str = MID) -> bytes:
    """An MDN from ``recipient`` about ``message_id``."""
    return build_mdn(
        original=original(message_id),
        reporting_ua="pfi.clinique.mssante.fr",
        final_recipient=recipient,
        disposition=disposition,
        at=T0,
        sender=recipient,
        include_original=False,
    ).as_bytes()


DISPLAYED = Disposition(action_mode="manual-action", sending_mode="MDN-sent-manually", type="displayed")
PROCESSED = Disposition.processed()
INTEGRATION_ERROR = Disposition.integration_error("902")
DELETED = Disposition(action_mode="manual-action", sending_mode="MDN-sent-manually", type="deleted")

RAW_BOUNCE = b"""\
Return-Path: <>
From: MAILER-DAEMON@mx.clinique.mssante.fr (Mail Delivery System)
To: dr.dupont@chu.mssante.fr
Subject: Undelivered Mail Returned to Sender
Message-Id: <20240506080102.AB12@mx.clinique.mssante.fr>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
\tboundary="B1"

--B1
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.clinique.mssante.fr.

--B1
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.clinique.mssante.fr
X-Postfix-Queue-ID: AB12
Arrival-Date: Mon,  6 May 2024 10:00:01 +0200

Final-Recipient: rfc822; ALICE@Clinique.MSSante.fr
Original-Recipient: rfc822;alice@clinique.mssante.fr
Action: failed
Status: 5.1.1
Remote-MTA: dns; mail.clinique.mssante.fr
Diagnostic-Code: smtp; 550 5.1.1 <alice@clinique.mssante.fr>: Recipient
    address rejected: User unknown

--B1
Content-Description: Undelivered Message Headers
Content-Type: text/rfc822-headers

From: dr.dupont@chu.mssante.fr
To: alice@clinique.mssante.fr
Subject: test
Message-ID:
 <20240506080000.42@chu.mssante.fr>

--B1--
"""

RAW_LEGACY_MDN = b"""\
From: alice@clinique.mssante.fr
To: dr.dupont@chu.mssante.fr
Subject: [KO Int\xc3\xa9gration syst\xc3\xa8me !][902] test
Message-ID: <mdn.1@clinique.mssante.fr>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=disposition-notification; boundary="M1"

--M1
Content-Type: text/plain; charset=utf-8

Erreur.

--M1
Content-Type: message/disposition-notification

Reporting-UA: pfi.clinique.mssante.fr
Original-Recipient: rfc822;alice@clinique.mssante.fr
Final-Recipient: rfc822;alice@clinique.mssante.fr
Original-Message-ID: <20240506080000.42@chu.mssante.fr>
Disposition: automatic-action/MDN-sent-automatically; processed/Error: 902^Identifiant patient inconnu

--M1--
"""

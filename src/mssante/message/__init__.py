"""MSSanté messages: compose, parse, acknowledgements (MDN/DSN) and a compliance linter.

- :func:`compose` builds a message: addresses, body, the ``IHE_XDM.zip`` of an
  :class:`mssante.xdm.Package` and its PDF, the ``X-MSS-*`` headers and the
  ``XDM/1.0/DDM+`` subject convention.
- :func:`parse` reads any incoming message (bounded, tolerant) into a :class:`Message`:
  headers, body, attachments, XDM packages, the patient, and whether it is an MDN or a DSN.
- :func:`build_mdn`, :func:`build_ko_mail`, :func:`build_dsn`, :func:`parse_disposition_notification` and
  :func:`parse_delivery_status` handle read receipts (RFC 8098, with the CI-SIS error forms)
  and delivery reports (RFC 3464).
- :func:`lint` judges a message against the MSSanté rules, with stable codes; a read receipt or a delivery
  report against the rules of a notification.
- :func:`classify_bounces` and :func:`bounce_reason` read why delivery failed (:class:`BounceReason`: a closed
  mailbox, an unknown recipient, an invalid address, a message too large), as :attr:`Message.bounces` does.

>>> from mssante.message import Subject
>>> Subject.build(label="CR de biologie", family="Dupont", given="Jeanne")
'XDM/1.0/DDM+CR de biologie DUPONT Jeanne'
"""

from typing import TYPE_CHECKING

from mssante._renamed import renamed
from mssante.message._bounces import Bounce, BounceReason, bounce_reason, classify_bounces
from mssante.message._compose import (
    PATIENT_MESSAGE_MAX_BYTES,
    PDF_TYPE_LENGTH,
    XDM_FILENAME,
    Attachment,
    Contact,
    cda_codes,
    compose,
)
from mssante.message._dsn import build_dsn, parse_delivery_status
from mssante.message._headers import (
    FIN,
    FIN_SUBJECT,
    KO_PREFIX,
    MSG_ID,
    SUBJECT_PREFIX,
    X_MSS_CODECDA,
    X_MSS_INS,
    X_MSS_MES,
    X_MSS_NIL,
    Subject,
    join_codes,
    split_codes,
)
from mssante.message._ko_mail import build_ko_mail, ko_code
from mssante.message._limits import MimeLimits
from mssante.message._lint import NOTIFICATION_RULES, RULES, lint
from mssante.message._mail_addresses import MailAddress
from mssante.message._mdn import (
    MdnNeedsConfirmation,
    build_mdn,
    mdn_needs_confirmation,
    parse_disposition_notification,
)
from mssante.message._mime_parser import parse_mime
from mssante.message._mime_values import MimeMessage, Part
from mssante.message._notification_values import (
    INTEGRATION_ERRORS,
    MDN_FORMS,
    MESSAGE_ERRORS,
    Disposition,
    Dsn,
    DsnRecipient,
    IntegrationError,
    Mdn,
)
from mssante.message._parse import Message, declared_report_type, parse
from mssante.message._patient import Patient
from mssante.message._report_types import REPORT_TYPES
from mssante.message._xtext import decode_xtext, encode_xtext

if not TYPE_CHECKING:  # the old names, for one minor release; type checkers see only the new ones
    __getattr__ = renamed(__name__, globals(), {"Mailbox": "MailAddress"})

__all__ = [
    "FIN",
    "FIN_SUBJECT",
    "INTEGRATION_ERRORS",
    "KO_PREFIX",
    "MDN_FORMS",
    "MESSAGE_ERRORS",
    "MSG_ID",
    "NOTIFICATION_RULES",
    "PATIENT_MESSAGE_MAX_BYTES",
    "PDF_TYPE_LENGTH",
    "REPORT_TYPES",
    "RULES",
    "SUBJECT_PREFIX",
    "XDM_FILENAME",
    "X_MSS_CODECDA",
    "X_MSS_INS",
    "X_MSS_MES",
    "X_MSS_NIL",
    "Attachment",
    "Bounce",
    "BounceReason",
    "Contact",
    "Disposition",
    "Dsn",
    "DsnRecipient",
    "IntegrationError",
    "MailAddress",
    "Mdn",
    "MdnNeedsConfirmation",
    "Message",
    "MimeLimits",
    "MimeMessage",
    "Part",
    "Patient",
    "Subject",
    "bounce_reason",
    "build_dsn",
    "build_ko_mail",
    "build_mdn",
    "cda_codes",
    "classify_bounces",
    "compose",
    "declared_report_type",
    "decode_xtext",
    "encode_xtext",
    "join_codes",
    "ko_code",
    "lint",
    "mdn_needs_confirmation",
    "parse",
    "parse_delivery_status",
    "parse_disposition_notification",
    "parse_mime",
    "split_codes",
]

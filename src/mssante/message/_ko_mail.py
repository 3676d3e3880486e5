"""The CI-SIS KO mail: the plain mail the volet sends when an integration failed and no MDN was asked for
(:func:`build_ko_mail`), and the error code of a KO subject (:func:`ko_code`).
"""

from __future__ import annotations

import datetime as dt
import re
from email import policy as email_policy
from email.message import EmailMessage, Message

from mssante.message._notification_values import ERROR_CODE, check_line, known_label
from mssante.message._replies import (
    attach,
    attachments_of,
    checked_time,
    copy_message,
    envelope,
    ko_subject,
    original_header,
    thread,
)

__all__ = ["build_ko_mail", "ko_code"]


_KO_SUBJECT = re.compile(
    r"\s*\[\s*(?:KO\s+int[ée]gration\s+syst[èe]me|erreur\s+d[’']int[ée]gration)\s*!?\s*\]\s*\[\s*([^\]\s]{1,32})\s*\]",
    re.IGNORECASE,
)


def ko_code(subject: str) -> str | None:
    """The error code a KO subject starts with, else None.

    Both prefixes of the volet are read: ``[KO Intégration système !][902] …`` (its text, what
    :func:`build_ko_mail` and :func:`build_mdn` write) and ``[Erreur d’intégration !][902] …`` (its example of
    the plain mail). :meth:`IntegrationError.of` gives the meaning of the code.
    """
    match = _KO_SUBJECT.match(subject)
    return match.group(1) if match else None


def _ko_text(code: str, label: str, *, attachments: bool, embedded: bool) -> str:
    text = (
        "Bonjour,\n\n"
        "Le document envoyé n’a pas pu être intégré correctement dans le système.\n"
        "Voici les détails de l’erreur rencontrée :\n\n"
        f"- Erreur détectée : {label}\n"
        f"- Code d’erreur : {code}\n\n"
    )
    if embedded and attachments:
        text += (
            "Vous trouverez en pièce jointe :\n"
            "1. Le message original contenant le document soumis.\n"
            "2. Les fichiers liés (archive ZIP et PDF associés au message original).\n\n"
        )
    elif embedded:
        text += "Vous trouverez en pièce jointe le courriel d’origine, avec son contenu.\n\n"
    elif attachments:
        text += "Vous trouverez en pièces jointes les fichiers du courriel d’origine.\n\n"
    return text + (
        "Veuillez vérifier les informations fournies et soumettre à nouveau les documents après correction.\n"
        "Si le problème persiste, contactez le service destinataire.\n"
    )


def build_ko_mail(
    *,
    original: Message,
    code: str,
    sender: str,
    at: dt.datetime,
    label: str | None = None,
    message_id: str | None = None,
    to: str | None = None,
    embed_original: bool = False,
) -> EmailMessage:
    """The plain KO mail of the CI-SIS volet, sent when the original asked for no MDN.

    It goes to ``to``, else the original's Reply-To, else its From; its subject is
    ``[KO Intégration système !][<code>] <original subject>``; its French text gives the code and label (the
    label of the volet's tables by default). The original's attachments (``IHE_XDM.zip``, the PDF, …) are
    attached again; with ``embed_original`` the original is attached whole as ``message/rfc822`` too, before them,
    as the volet's example shows (``message_original.eml``, then ``IHE_XDM.zip`` and the PDF).

    Raises ValueError when the code is in none of the volet's tables (900 to 906, the HL7 errors) and no label is
    given, when a value bound for a header (code, label, sender, ...) holds a line break or control character,
    when ``at`` is naive, or when there is nobody to write to.
    """
    check_line("code", code)
    if not ERROR_CODE.fullmatch(code):
        raise ValueError(f"code {code[:80]!r} is not 1 to 32 letters, digits, '.', '_' or '-'")
    label = label if label is not None else known_label(code)
    if label is None:
        raise ValueError(
            f"error code {code!r} is not in the volet's tables (900 to 906, or an HL7 error): give its label"
        )
    check_line("label", label)
    checked_time(at)
    recipient = to or original_header(original, "Reply-To") or original_header(original, "From")
    if not recipient:
        raise ValueError("the original has neither Reply-To nor From: give `to`")
    subject = ko_subject(code, original_header(original, "Subject", decode=True) or "")

    mail = EmailMessage(policy=email_policy.default)
    envelope(target=mail, sender=sender, to=recipient, subject=subject, at=at, message_id=message_id)
    thread(mail, original)
    attachments = attachments_of(original)
    mail.set_content(
        _ko_text(code, label.strip(), attachments=bool(attachments), embedded=embed_original), charset="utf-8"
    )
    if embed_original:
        mail.add_attachment(copy_message(original), filename="message_original.eml")
    for part in attachments:
        attach(mail, part)
    return mail

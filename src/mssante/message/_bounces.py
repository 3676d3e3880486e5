"""Why a message bounced: a DSN recipient's failure read into an explicit reason.

Mon espace santé (MES) returns « Message non distribué » for a closed mailbox, an unknown patient or an invalid
address, and ``Undelivered Mail Returned to Sender`` for a message over 25 Mo (CNAM, « ENS Mon espace santé –
Messagerie, éléments d'information à destination des éditeurs » V1.3 of 28/06/2023, §6, as quoted by third
parties): the sender's software is to show the professional an explicit error. The wording of those bounces is
not public, so a failure is read from what every DSN carries:

1. the text of the recipient's ``Diagnostic-Code`` (French or English wording of the four causes), then the
   human-readable text of the report when it has only one failed recipient (:func:`classify_bounces`);
2. the RFC 3463 status code: ``X.2.3`` and ``X.3.4`` too large, ``X.2.1`` and ``X.1.6`` mailbox closed (disabled,
   or moved without forwarding address), ``X.1.1`` unknown recipient, ``X.1.2``, ``X.1.3`` and ``X.1.10`` invalid
   address;
3. else :attr:`BounceReason.OTHER`.

Text comes first: an operator may answer every refusal with the same ``5.1.1`` and tell the cause in words.
"""

from __future__ import annotations

import enum
import re

import attrs

from mssante.message._headers import fold_name
from mssante.message._notification_values import Dsn, DsnRecipient

__all__ = ["Bounce", "BounceReason", "bounce_reason", "classify_bounces"]

_MAX_TEXT = 4096
"""Characters of a diagnostic or human text read for a cause: the cause is said at the start."""


class BounceReason(str, enum.Enum):
    """Why a recipient's delivery failed, as a DSN tells it."""

    MAILBOX_CLOSED = "mailbox_closed"
    """The mailbox exists no more or is disabled (a patient who closed Mon espace santé): RFC 3463 X.2.1, X.1.6."""
    UNKNOWN_RECIPIENT = "unknown_recipient"
    """No such mailbox (no patient with this INS): RFC 3463 X.1.1."""
    INVALID_ADDRESS = "invalid_address"
    """The address cannot be one (syntax, domain): RFC 3463 X.1.2, X.1.3, X.1.10."""
    TOO_LARGE = "too_large"
    """The message is larger than the recipient's system takes (25 Mo for Mon espace santé): RFC 3463 X.2.3, X.3.4."""
    OTHER = "other"
    """Any other failure: the status and diagnostic say which."""

    def __str__(self) -> str:
        return self.value


# Read on the text as fold_name folds it: lower case, no accents, typewriter apostrophes, single spaces.
_MAILBOX = r"(?:messagerie|boite(?: aux lettres)?|bal|compte|espace(?: sante)?|mailbox|account)"
_PERSON = r"(?:patient|usager|utilisateur|destinataire|user|recipient|mailbox|address|adresse)"
_TEXTS: tuple[tuple[BounceReason, re.Pattern[str]], ...] = (
    (
        BounceReason.TOO_LARGE,
        re.compile(
            r"too (?:large|big)|size (?:limit|exceed)|exceed(?:s|ed)? (?:the )?(?:\w+ )?size|message size"
            r"|taille (?:maximale|limite|maximum)|trop (?:volumineux|gros|lourd)|depasse la taille"
        ),
    ),
    (
        BounceReason.MAILBOX_CLOSED,
        re.compile(
            rf"{_MAILBOX}(?: \w+){{0,3}} (?:est |is |a ete |has been )?(?:fermee?|close|closed|cloturee?|desactivee?"
            rf"|disabled|deactivated|inactive?|suspendue?|suspended|supprimee?|deleted)"
            r"|n'est plus (?:active|ouverte|disponible)|no longer (?:active|exists|accepting)|not accepting messages"
        ),
    ),
    (
        BounceReason.INVALID_ADDRESS,
        re.compile(
            r"(?:adresse|address)(?: \w+){0,3} (?:est |is )?(?:invalide|incorrecte|non valide|mal formee|invalid"
            r"|malformed)|invalid (?:\w+ )?address|address syntax|domain (?:name )?not found|unknown domain"
            r"|domaine (?:inconnu|introuvable|inexistant)"
        ),
    ),
    (
        BounceReason.UNKNOWN_RECIPIENT,
        re.compile(
            rf"{_PERSON}(?: \w+){{0,3}} (?:est |is )?(?:inconnue?|introuvable|non trouvee?|pas trouvee?|not found"
            rf"|unknown|inexistante?)|unknown (?:user|recipient|patient|mailbox|address)|no such (?:user|mailbox"
            r"|recipient|address)|does not exist|n'existe pas"
        ),
    ),
)
_STATUSES: dict[tuple[str, str], BounceReason] = {
    ("2", "3"): BounceReason.TOO_LARGE,  # Message length exceeds administrative limit
    ("3", "4"): BounceReason.TOO_LARGE,  # Message too big for system
    ("2", "1"): BounceReason.MAILBOX_CLOSED,  # Mailbox disabled, not accepting messages
    ("1", "6"): BounceReason.MAILBOX_CLOSED,  # Destination mailbox has moved, No forwarding address
    ("1", "1"): BounceReason.UNKNOWN_RECIPIENT,  # Bad destination mailbox address
    ("1", "2"): BounceReason.INVALID_ADDRESS,  # Bad destination system address
    ("1", "3"): BounceReason.INVALID_ADDRESS,  # Bad destination mailbox address syntax
    ("1", "10"): BounceReason.INVALID_ADDRESS,  # Recipient address has null MX (RFC 7505)
}


def _said(text: str) -> BounceReason | None:
    folded = fold_name(text[:_MAX_TEXT])
    return next((reason for reason, pattern in _TEXTS if pattern.search(folded)), None)


def bounce_reason(recipient: DsnRecipient, *, human_text: str = "") -> BounceReason | None:
    """Why delivery to ``recipient`` failed; None unless its Action is ``failed``.

    Its ``Diagnostic-Code`` text first, then ``human_text`` (the report's text, when it concerns this recipient
    alone), then its RFC 3463 status; :attr:`BounceReason.OTHER` when none tells.
    """
    if recipient.action != "failed":
        return None
    for text in (recipient.diagnostic_code or "", human_text):
        if (reason := _said(text)) is not None:
            return reason
    _, subject, detail = recipient.status.split(".")
    return _STATUSES.get((str(int(subject)), str(int(detail))), BounceReason.OTHER)


@attrs.frozen(kw_only=True)
class Bounce:
    """A recipient a DSN says delivery failed for, and why."""

    recipient: DsnRecipient
    reason: BounceReason

    @property
    def address(self) -> str:
        """The recipient's address (its ``Final-Recipient``)."""
        return self.recipient.final_recipient


def classify_bounces(dsn: Dsn) -> tuple[Bounce, ...]:
    """Each failed recipient of ``dsn`` with its :class:`BounceReason`, in order.

    The report's human-readable text is read for a cause only when one recipient failed: with several, it cannot
    be told which one it speaks of.
    """
    failed = dsn.failed
    human_text = dsn.human_text if len(failed) == 1 else ""
    return tuple(
        Bounce(recipient=recipient, reason=bounce_reason(recipient, human_text=human_text) or BounceReason.OTHER)
        for recipient in failed
    )

"""The MSSanté header fields (X-MSS-*) and the subject convention of messages carrying an XDM package."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

import attrs

from mssante.errors import InvalidInput
from mssante.message import codes as _codes
from mssante.report import Report

__all__ = [
    "FIN",
    "FIN_SUBJECT",
    "KO_PREFIX",
    "SUBJECT_PREFIX",
    "X_MSS_CODECDA",
    "X_MSS_INS",
    "X_MSS_MES",
    "X_MSS_NIL",
    "Subject",
    "fold_name",
    "is_fin_subject",
    "join_codes",
    "split_codes",
]

X_MSS_CODECDA = "X-MSS-CODECDA"
"""The type codes (``ClinicalDocument/code/@code``) of the CDA documents in the IHE_XDM archive (Ref #2 ECO.2.4.1)."""
X_MSS_INS = "X-MSS-INS"
"""``O`` when a qualified INS is in the archive, ``N`` otherwise; absent without a CDA (Ref #2 ECO.2.4.2)."""
X_MSS_NIL = "X-MSS-NIL"
"""The product reference given on convergence.esante.gouv.fr, on every message (Ref #2 ECO.2.4.3)."""
X_MSS_MES = "X-MSS-MES"
"""``FIN``: the patient may not reply to this message (Ref #2 ECO.2.2.8)."""
FIN = "FIN"
"""The one value of X-MSS-MES (« 3 caractères en majuscules », Ref #2 ECO.2.2.8): the patient may not reply to this
message. The method Mon espace santé prefers to end an exchange (CNAM, ENS Mon espace santé Messagerie V1.3 §7)."""
FIN_SUBJECT = "[FIN]"
"""The subject, exactly (case kept), of a message that ends the exchange with a patient: it takes away the reply to
every earlier message (CNAM, ENS Mon espace santé Messagerie V1.3 §7; X-MSS-MES: FIN is the preferred method)."""

SUBJECT_PREFIX = "XDM/1.0/DDM+"
"""The subject of a message carrying an XDM package starts with this (Ref #2 ECO.2.1.3)."""
KO_PREFIX = "[KO Intégration système !]"
"""The subject prefix of a negative acknowledgement (CI-SIS volet, struct-msg-mdn)."""

UNSAFE_IN_HEADER = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
"""What a header value written by mssante never holds: every line break :meth:`str.splitlines` knows, NUL and the
other C0 and C1 controls (TAB excepted), and lone surrogates (undecodable bytes)."""
MSG_ID = re.compile(r"<[!-;=?A-~]+@[!-;=?A-~]+>")
"""A msg-id as mssante writes one: ``<left@right>``, printable ASCII without space, ``<``, ``>`` or a second ``@``."""

_CODES_SEPARATORS = re.compile(r"[,;\s]+")
_KO = re.compile(r"\[KO Int[ée]gration syst[èe]me ?!\]\s*\[([^\]]*)\]\s*", re.IGNORECASE)
_BIRTH_DATE = re.compile(r"(?:^|\s)([0-3][0-9])/([01][0-9])/([0-9]{4})$")


def is_fin_subject(subject: str) -> bool:
    """Whether ``subject`` is exactly :data:`FIN_SUBJECT` (``[FIN]``, upper case), white space around it aside."""
    return subject.strip() == FIN_SUBJECT


def split_codes(values: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """The codes of one or more X-MSS-CODECDA lines: split on commas, semicolons or spaces, in order."""
    return tuple(code for value in values for code in _CODES_SEPARATORS.split(value) if code)


def join_codes(codes: tuple[str, ...] | list[str]) -> str:
    """The X-MSS-CODECDA value of ``codes``: one line, comma-separated, no spaces, in archive order."""
    return ",".join(codes)


def _plain(text: str) -> str:
    """Upper case without accents, as the family name is written in the subject."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char)).upper()


# Typographic apostrophes and quotes, each folded to its typewriter form. Done before NFKD, which would turn
# the acute accent (U+00B4) into a space and a combining mark, and the fullwidth apostrophe into "'" anyway.
_TYPOGRAPHIC = str.maketrans(
    {
        "\u2019": "'",  # ’ right single quotation mark (the apostrophe of French typography)
        "\u2018": "'",  # ‘ left single quotation mark
        "\u02bc": "'",  # ʼ modifier letter apostrophe
        "\uff07": "'",  # ＇ fullwidth apostrophe
        "`": "'",  # grave accent typed for an apostrophe
        "\u00b4": "'",  # ´ acute accent typed for an apostrophe
        "\u00ab": '"',  # « left guillemet
        "\u00bb": '"',  # » right guillemet
        "\u201c": '"',  # “ left double quotation mark
        "\u201d": '"',  # ” right double quotation mark
        "\u0153": "oe",  # œ
        "\u0152": "oe",  # Œ
        "\u00e6": "ae",  # æ
        "\u00c6": "ae",  # Æ
    }
)


def fold_name(text: str) -> str:
    """A name as names are compared: ``D’Alembert  Cœur`` and ``D'ALEMBERT COEUR`` fold to the same text.

    Typographic apostrophes (’ ‘ ʼ ＇ ` ´) become ``'`` and quotes (« » “ ”) ``"``; the ligatures œ and æ
    become ``oe`` and ``ae``; compatibility forms are decomposed (NFKD) and accents dropped; case is folded
    (:meth:`str.casefold`); runs of white space become one space. Hyphens and apostrophes stay: ``Jean-Marie``
    is not ``Jean Marie``. The SDK compares a person's names through it (:meth:`Subject.names`, hence the
    ``MSS-MSG-015`` rule of :func:`~mssante.message.lint`).
    """
    decomposed = unicodedata.normalize("NFKD", text.translate(_TYPOGRAPHIC))
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(plain.casefold().split())


@attrs.frozen(kw_only=True)
class Subject:
    """The parts of a subject written ``XDM/1.0/DDM+<label> <NOM> <prénom> <JJ/MM/AAAA>``.

    ``label``, ``family`` and ``given`` cannot be told apart inside the free text that follows
    the prefix, so :meth:`parse` keeps it whole as ``text`` and reads the birth date at its end.
    """

    text: str
    """What follows ``XDM/1.0/DDM+`` (and the ``[KO ...][code]`` prefix of an error)."""
    birth_date: dt.date | None = None
    error_code: str | None = None
    """The code of a ``[KO Intégration système !][<code>]`` prefix."""

    @classmethod
    def build(cls, *, label: str, family: str, given: str, birth_date: dt.date | None = None) -> str:
        """The subject of a message carrying documents: the family name upper case without accents.

        « Tous les champs sont obligatoires à l'exception du champ <date de naissance> » (Ref #2 ECO.2.1.3): a
        blank ``label``, ``family`` or ``given`` raises :class:`~mssante.errors.InvalidInput` (``MSS-MSG-027``).
        """
        parts = [" ".join(label.split()), _plain(" ".join(family.split())), " ".join(given.split())]
        missing = [name for name, part in zip(("label", "family", "given"), parts, strict=True) if not part]
        if missing:
            said = f"the XDM/1.0/DDM+ subject needs the label, the NOM and the prénom; blank: {', '.join(missing)}"
            raise InvalidInput(said, Report(findings=[_codes.SUBJECT_FIELDS(said, where="Subject")], subject="Subject"))
        if birth_date is not None:
            parts.append(birth_date.strftime("%d/%m/%Y"))
        return SUBJECT_PREFIX + " ".join(parts)

    @classmethod
    def parse(cls, subject: str) -> Subject | None:
        """The parts of a subject that follows the convention (after any ``[KO ...][code]``), else None."""
        text = " ".join(subject.split())
        error_code = None
        ko = _KO.match(text)
        if ko is not None:
            error_code, text = ko.group(1).strip(), text[ko.end() :]
        if not text.upper().startswith(SUBJECT_PREFIX):
            return None
        text = text[len(SUBJECT_PREFIX) :].strip()
        birth_date = None
        found = _BIRTH_DATE.search(text)
        if found is not None:
            try:
                birth_date = dt.date(int(found.group(3)), int(found.group(2)), int(found.group(1)))
            except ValueError:
                birth_date = None
        return cls(text=text, birth_date=birth_date, error_code=error_code)

    def names(self, family: str, given: str) -> bool:
        """Whether the text names this patient: its family name and first given name, compared as
        :func:`fold_name` folds them (case, accents, typographic apostrophes and quotes ignored)."""
        words = set(fold_name(self.text).split())
        return set(fold_name(family).split()) <= words and set(fold_name(given).split()[:1]) <= words

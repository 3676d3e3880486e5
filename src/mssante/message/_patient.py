"""The patient a message is about, as the XDM metadata of its documents identifies them."""

from __future__ import annotations

import datetime as dt

import attrs

from mssante.errors import InvalidInput
from mssante.identifiers import Ins
from mssante.xdm import Cx, DocumentEntry
from mssante.xdm import hl7_unescape as unescape

__all__ = ["Patient"]


def _date(text: str) -> dt.date | None:
    try:
        return dt.datetime.strptime(text[:8], "%Y%m%d").date() if len(text) >= 8 else None
    except ValueError:
        return None


def _component(value: str, index: int) -> str:
    parts = value.split("^")
    if index >= len(parts):
        return ""
    try:
        return unescape(parts[index]).strip()
    except InvalidInput:
        return parts[index].strip()


@attrs.frozen(kw_only=True)
class Patient:
    """A patient: the INS (or another identifier) and the four identity traits of the INS referential."""

    patient_id: str
    """The XDS ``patientId`` (HL7 CX) as written."""
    ins: Ins | None = None
    family: str = ""
    """The birth family name."""
    given: str = ""
    """The first birth given name."""
    birth_date: dt.date | None = None
    gender: str = ""

    @property
    def qualified(self) -> bool:
        """An INS with its OID and the four traits (birth name, first birth given name, birth date, sex)."""
        return self.ins is not None and bool(self.family and self.given and self.birth_date and self.gender)

    @classmethod
    def of(cls, entry: DocumentEntry) -> Patient:
        """The patient of a document entry: ``patientId`` and the traits of ``sourcePatientInfo``."""
        try:
            ins = Cx.parse(entry.patient_id).ins if entry.patient_id else None
        except InvalidInput:
            ins = None
        traits: dict[str, str] = {}
        for value in entry.source_patient_info:
            field, _, rest = value.partition("|")
            if (field == "PID-5" and rest.endswith("^L")) or field not in traits:  # the birth name first
                traits[field] = rest
        name = traits.get("PID-5", "")
        return cls(
            patient_id=entry.patient_id,
            ins=ins,
            family=_component(name, 0),
            given=_component(name, 1),
            birth_date=_date(traits.get("PID-7", "")),
            gender=traits.get("PID-8", "").strip(),
        )

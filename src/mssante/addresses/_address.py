"""MSSanté e-mail addresses, patient (MSS-C) addresses and mailbox types."""

from __future__ import annotations

import enum
import re
from typing import Any

import attrs
import idna

from mssante._renamed import renamed_attribute
from mssante.addresses import codes as _codes
from mssante.errors import InvalidAddress
from mssante.identifiers import Ins, judge_ins
from mssante.report import Finding, Report, Severity

__all__ = [
    "MAX_ADDRESS_LENGTH",
    "PATIENT_DOMAIN",
    "Address",
    "AddressCheck",
    "MailboxType",
    "check",
    "normalise_domain",
]

PATIENT_DOMAIN = "patient.mssante.fr"
"""The domain of patient (MSS-C, Mon espace santé) addresses: ``<INS matricule>@patient.mssante.fr``."""

MAX_ADDRESS_LENGTH = 254
"""The longest address a mail path can carry (RFC 5321: 256 with the angle brackets)."""

_MAX_LOCAL = 64
_MAX_DOMAIN = 253
_ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+", re.ASCII)
_FORBIDDEN = frozenset('<>()[]\\,;:"')
# ASCII labels of letters, digits and inner hyphens, none with "--" in third and fourth place (the xn-- and
# other reserved forms go through IDNA, which checks them).
PLAIN_DOMAIN = re.compile(
    r"(?:(?!..--)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*(?!..--)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?", re.ASCII
)
"""A domain of ASCII labels that IDNA would give back unchanged (lower case)."""
_UNICODE_DOTS = frozenset("\u3002\uff0e\uff61")  # IDNA reads them as label separators


class MailboxType(str, enum.Enum):
    """The four kinds of MSSanté mailbox (BAL), TRE_R257-TypeBAL."""

    PER = "PER"
    ORG = "ORG"
    APP = "APP"
    CAB = "CAB"

    @property
    def label(self) -> str:
        """The French name: Personnelle, Organisationnelle, Applicative, Cabinet."""
        return _MAILBOX_LABELS[self]

    def __str__(self) -> str:
        return self.value


_MAILBOX_LABELS = {
    MailboxType.PER: "Personnelle",
    MailboxType.ORG: "Organisationnelle",
    MailboxType.APP: "Applicative",
    MailboxType.CAB: "Cabinet",
}


def _describe(char: str) -> str:
    return repr(char) if char.isprintable() and char.isascii() else f"U+{ord(char):04X}"


def _judge_characters(text: str) -> list[Finding]:
    for position, char in enumerate(text, start=1):
        if char in "\r\n":
            return [
                _codes.BAD_CHARACTER(
                    f"{_describe(char)} at position {position}: a line break in an address would inject mail headers",
                    where=f"position {position}",
                )
            ]
        if not char.isprintable() or char.isspace() or char in _FORBIDDEN:
            return [
                _codes.BAD_CHARACTER(
                    f"character {_describe(char)} at position {position} has no place in an address",
                    where=f"position {position}",
                )
            ]
    return []


def _judge_local(local: str) -> list[Finding]:
    if not local:
        return [_codes.BAD_AT("the local part before @ is empty", where="local")]
    if len(local) > _MAX_LOCAL:
        return [_codes.TOO_LONG(f"the local part has {len(local)} characters; at most {_MAX_LOCAL}", where="local")]
    if not all(_ATOM.fullmatch(atom) for atom in local.split(".")):
        return [
            _codes.BAD_LOCAL_PART(
                "the local part must be ASCII atoms joined by single dots, without a leading or trailing dot",
                where="local",
            )
        ]
    return []


def _to_a_label(domain: str) -> tuple[str, list[Finding]]:
    """The domain as lower-case A-labels, and the findings when it is not a host name."""
    if not domain:
        return "", [_codes.BAD_AT("the domain after @ is empty", where="domain")]
    if len(domain) > _MAX_DOMAIN:
        return "", [_codes.TOO_LONG(f"the domain has {len(domain)} characters; at most {_MAX_DOMAIN}", where="domain")]
    lowered = domain.lower()
    if PLAIN_DOMAIN.fullmatch(lowered):  # letters, digits and hyphens: what IDNA would give back unchanged
        ascii_domain = lowered
    else:
        if domain.endswith("."):
            return "", [_codes.BAD_DOMAIN("the domain of an address has no trailing dot", where="domain")]
        if dots := _UNICODE_DOTS.intersection(domain):
            return "", [_codes.BAD_DOMAIN(
                f"{_describe(min(dots))} looks like a dot but is not one: write the domain with '.'", where="domain"
            )]  # fmt: skip
        try:
            ascii_domain = idna.encode(lowered, uts46=False).decode("ascii")
        except (idna.IDNAError, UnicodeError) as error:
            return "", [_codes.BAD_DOMAIN(f"{domain[:80]!r} is not a host name: {error}", where="domain")]
    findings: list[Finding] = []
    if "." not in ascii_domain:
        findings.append(_codes.NOT_QUALIFIED(f"{ascii_domain!r} has no dot", where="domain"))
    elif ascii_domain.rsplit(".", 1)[1].isdigit():
        findings.append(_codes.BAD_DOMAIN("the last label of a domain is not all digits", where="domain"))
    if len(ascii_domain) > _MAX_DOMAIN:
        findings.append(_codes.TOO_LONG(f"the domain has {len(ascii_domain)} characters once encoded", where="domain"))
    return ascii_domain, findings


def normalise_domain(text: str) -> str:
    """A domain name as lower-case A-labels (``CHU-x.MSSante.fr`` -> ``chu-x.mssante.fr``, IDNA 2008).

    Raises :class:`~mssante.errors.InvalidAddress` with the findings when ``text`` is not a fully
    qualified host name (the rules of an address's domain).
    """
    lowered = text.lower()
    if PLAIN_DOMAIN.fullmatch(lowered) and "." in lowered and not lowered.rpartition(".")[2].isdigit():
        return lowered  # the common case, without building findings
    ascii_domain, findings = _to_a_label(text)
    if findings:
        Report(findings=findings, subject=text[:120]).raise_for_errors(
            InvalidAddress, f"{text[:120]!r} is not a domain"
        )
    return ascii_domain


def _split(text: str) -> tuple[str, str, list[Finding]]:
    """Local part, A-label domain and the findings on an address (nothing from the patient rule)."""
    if not text:
        return "", "", [_codes.EMPTY()]
    if len(text) > MAX_ADDRESS_LENGTH:
        return (
            "",
            "",
            [_codes.TOO_LONG(f"the address has {len(text)} characters; at most {MAX_ADDRESS_LENGTH}")],
        )
    if findings := _judge_characters(text):
        return "", "", findings
    if text.count("@") != 1:
        return "", "", [_codes.BAD_AT(f"the address has {text.count('@')} @ signs, not one")]
    local, _, domain = text.partition("@")
    findings = _judge_local(local)
    ascii_domain, domain_findings = _to_a_label(domain)
    findings += domain_findings
    if not findings and ascii_domain != domain.lower():
        findings.append(_codes.IDN_DOMAIN(f"{domain!r} is written {ascii_domain!r} on the wire", where="domain"))
    if not findings and len(local) + 1 + len(ascii_domain) > MAX_ADDRESS_LENGTH:
        findings.append(_codes.TOO_LONG(f"the encoded address is longer than {MAX_ADDRESS_LENGTH} characters"))
    return local, ascii_domain, findings


def _judge_patient(local: str) -> list[Finding]:
    findings = judge_ins(local.upper())
    if not any(finding.severity is Severity.ERROR for finding in findings):
        return [_codes.PATIENT(f"patient (MSS-C) address of the INS matricule {local.upper()}")]
    reasons = "; ".join(finding.message for finding in findings)
    return [
        _codes.PATIENT_BAD_INS(f"{local!r} is not a valid INS matricule: {reasons}", where="local"),
        *(finding.located("local") for finding in findings),
    ]


def _judge(text: str) -> tuple[str, str, list[Finding]]:
    """Canonical local part and domain of an address, and the findings on it."""
    local, domain, findings = _split(text)
    if domain == PATIENT_DOMAIN and not any(finding.severity is Severity.ERROR for finding in findings):
        findings += _judge_patient(local)
        local = local.upper()
    return local, domain, findings


def _judged(instance: Address, _attribute: Any, _value: str) -> None:
    text = f"{instance.local}@{instance.domain}"
    local, domain, findings = _judge(text)
    if (local, domain) != (instance.local, instance.domain) and not any(
        finding.severity is Severity.ERROR for finding in findings
    ):
        findings.append(_codes.NOT_CANONICAL(f"the canonical form is {local}@{domain}"))
    Report(findings=findings, subject=text[:120]).raise_for_errors(
        InvalidAddress, f"{text[:120]!r} is not a valid MSSanté address"
    )


@attrs.frozen(kw_only=True)
class Address:
    """An MSSanté e-mail address: a dot-atom local part and a domain in lower-case A-labels.

    Comparison ignores the case of the domain (it is stored lower-case) but keeps the local
    part as given. No domain suffix is assumed: the ANS allow-list has domains outside
    ``mssante.fr``. Addresses ``@patient.mssante.fr`` are patient (MSS-C) addresses, whose
    local part must be a valid INS matricule.
    """

    local: str
    domain: str = attrs.field(validator=_judged)

    @classmethod
    def parse(cls, text: str) -> Address:
        """Read an address (``Dr.Martin@CHU-x.mssante.fr``); surrounding spaces are ignored."""
        result = check(text)
        result.report.raise_for_errors(InvalidAddress, f"{text[:120]!r} is not a valid MSSanté address")
        assert result.address is not None
        return result.address

    @classmethod
    def for_patient(cls, ins: Ins | str) -> Address:
        """The MSS-C address of a patient: ``<INS matricule>@patient.mssante.fr``."""
        matricule = ins if isinstance(ins, Ins) else Ins.parse(ins)
        return cls(local=matricule.value, domain=PATIENT_DOMAIN)

    @property
    def is_patient(self) -> bool:
        """True for a patient (MSS-C) address."""
        return self.domain == PATIENT_DOMAIN

    @property
    def ins(self) -> Ins | None:
        """The patient's INS matricule for an MSS-C address, else None."""
        return Ins(value=self.local) if self.is_patient else None

    @property
    def domain_unicode(self) -> str:
        """The domain as people read it (U-labels)."""
        return idna.decode(self.domain)

    def __str__(self) -> str:
        return f"{self.local}@{self.domain}"


@attrs.frozen(kw_only=True)
class AddressCheck:
    """The verdict on one input: the address if valid, and the report."""

    input: str
    address: Address | None
    report: Report

    @property
    def ok(self) -> bool:
        """True when the input is a valid MSSanté address (the report has no error)."""
        return self.report.ok

    valid = renamed_attribute("valid", "ok")

    def to_dict(self) -> dict[str, Any]:
        """The JSON form of the command line: ``input``, ``valid``, ``domain``, ``patient``, ``ins``, ``findings``."""
        address = self.address
        return {
            "input": self.input,
            "valid": self.ok,
            "normalized": str(address) if address else None,
            "domain": address.domain if address else None,
            "patient": bool(address and address.is_patient),
            "ins": str(address.ins) if address and address.ins else None,
            "findings": [finding.to_dict() for finding in self.report],
        }


def check(text: str) -> AddressCheck:
    """Judge loose input as an MSSanté address; never raises on bad input."""
    if not isinstance(text, str):
        raise TypeError(f"an address is given as str, not {type(text).__name__}")
    local, domain, findings = _judge(text.strip(" \t"))
    report = Report(findings=findings, subject=text[:120])
    address = Address(local=local, domain=domain) if report.ok else None
    return AddressCheck(input=text, address=address, report=report)

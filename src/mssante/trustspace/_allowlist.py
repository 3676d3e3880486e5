"""The ANS allow-list ("liste blanche") as a model, and the decisions it makes: domain, operator, peer."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs
from cryptography import x509

from mssante import _html
from mssante.addresses import normalise_domain
from mssante.errors import InvalidAddress, InvalidInput
from mssante.pki import CertificateReport, Purpose, RevocationChecker, RevocationMode, TrustStore, verify
from mssante.report import Finding, Report
from mssante.trustspace import codes as _codes
from mssante.trustspace._dn import OperatorDn
from mssante.trustspace._parse import Entry, ParsedDocument, parse_document, read_bounded

__all__ = ["ALLOWLIST_URL", "AllowList", "Decision"]

ALLOWLIST_URL = "https://espacedeconfiance.mssante.fr/listeblanchemssante.xml"
"""Where ANS publishes the allow-list (served with an IGC Santé certificate)."""


@attrs.frozen(kw_only=True)
class Decision:
    """The answer to "may I exchange mail with this domain (and this operator certificate)?"."""

    domain: str
    listed: bool
    operators: frozenset[OperatorDn]
    report: Report
    certificate: CertificateReport | None = None

    @property
    def ok(self) -> bool:
        """True when the exchange is allowed (no error finding)."""
        return self.report.ok

    def _repr_html_(self) -> str:
        """The verdict for the domain, its operator certificates and the findings, for notebooks."""
        certificate = self.certificate
        return _html.section(
            _html.heading(f"Allow-list decision for {self.domain}", ok=self.ok),
            _html.definitions(
                [
                    ("listed", "yes" if self.listed else "no"),
                    ("operator certificates", _html.items(sorted(str(dn) for dn in self.operators))),
                    ("certificate", None if certificate is None else _html.verdict(ok=certificate.ok, bad="refused")),
                ]
            ),
            _html.findings(self.report.findings),
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON form of ``mssante whitelist check``: ``ok``, ``findings``, ``domain``, ``listed``, ``dns``."""
        return {
            **self.report.to_dict(),
            "domain": self.domain,
            "listed": self.listed,
            "dns": sorted(str(dn) for dn in self.operators),
        }


@attrs.frozen(kw_only=True, eq=False)
class AllowList:
    """The MSSanté allow-list: each domain and the operator certificates allowed to carry its mail.

    Build it with :meth:`parse` (bytes) or :meth:`load` (a file). A structurally wrong document
    is refused whole; an entry whose name or DN cannot be used is kept and reported (``report``).
    Lookups are dictionary lookups.
    """

    generated: dt.datetime
    sha256: str
    source: str = ""
    report: Report = attrs.field(factory=Report)
    _document: ParsedDocument = attrs.field(alias="document", repr=False)

    @classmethod
    def parse(cls, data: bytes, *, source: str = "") -> AllowList:
        """Read the ANS XML; :class:`~mssante.errors.InvalidInput` when the document is not a whole allow-list."""
        document = parse_document(data, source=source)
        return cls(
            generated=document.generated,
            sha256=hashlib.sha256(data).hexdigest(),
            source=source,
            report=Report(findings=document.findings, subject=source or "allow-list"),
            document=document,
        )

    @classmethod
    def load(cls, path: str | Path) -> AllowList:
        """Read an allow-list file."""
        return cls.parse(read_bounded(Path(path)), source=str(path))

    @property
    def entries(self) -> tuple[Entry, ...]:
        """Every ``Domaine`` element of the list, in document order (assembled on first use)."""
        return self._document.entries

    @property
    def _operators(self) -> dict[str, frozenset[OperatorDn]]:
        return self._document.operators

    @property
    def domains(self) -> frozenset[str]:
        """Every domain named by an entry (lower case), usable or not."""
        return frozenset(entry.domain for entry in self.entries)

    @property
    def dns(self) -> frozenset[OperatorDn]:
        """Every distinct operator certificate DN (compared by value)."""
        return frozenset(entry.dn for entry in self.entries if entry.dn is not None)

    def __len__(self) -> int:
        return len(self.entries)

    def __contains__(self, domain: object) -> bool:
        return isinstance(domain, str) and bool(self.operators(domain))

    def operators(self, domain: str) -> frozenset[OperatorDn]:
        """The operator certificate DNs allowed for ``domain`` (empty when it is not listed)."""
        try:
            return self._operators.get(normalise_domain(domain), frozenset())
        except InvalidAddress:
            return frozenset()

    def entries_for(self, domain: str) -> tuple[Entry, ...]:
        """The entries of ``domain``, as published."""
        key = domain.lower()
        with contextlib.suppress(InvalidAddress):
            key = normalise_domain(domain)
        return tuple(entry for entry in self.entries if entry.domain == key)

    def _age_findings(self, at: dt.datetime | None, max_age: dt.timedelta | None) -> list[Finding]:
        if at is None or max_age is None or at - self.generated <= max_age:
            return []
        return [_codes.STALE(f"the allow-list was generated {self.generated.isoformat()}, more than {max_age} "
                             f"before {at.isoformat()}")]  # fmt: skip

    def check_domain(
        self, domain: str, *, at: dt.datetime | None = None, max_age: dt.timedelta | None = None
    ) -> Decision:
        """Is ``domain`` on the allow-list? ``max_age`` adds a finding when the list is older than that at ``at``."""
        findings = self._age_findings(at, max_age)
        try:
            name = normalise_domain(domain)
        except InvalidAddress as error:
            findings.append(_codes.BAD_DOMAIN(str(error)))
            return Decision(domain=domain, listed=False, operators=frozenset(), report=Report(findings=findings))
        operators = self._operators.get(name, frozenset())
        if operators:
            findings.append(_codes.LISTED(f"{name} is listed with {len(operators)} operator certificate(s)"))
        else:
            findings.append(_codes.NOT_LISTED(f"{name} is not on the allow-list of {self.generated.isoformat()}"))
        return Decision(
            domain=name, listed=bool(operators), operators=operators, report=Report(findings=findings, subject=name)
        )

    def check_operator(
        self,
        domain: str,
        dn: OperatorDn | x509.Name | str,
        *,
        at: dt.datetime | None = None,
        max_age: dt.timedelta | None = None,
    ) -> Decision:
        """Is ``domain`` listed, and is ``dn`` (a certificate subject) one of its operator certificates?"""
        decision = self.check_domain(domain, at=at, max_age=max_age)
        try:
            operator = (
                dn if isinstance(dn, OperatorDn) else OperatorDn.from_name(dn) if isinstance(dn, x509.Name)
                else OperatorDn.parse(dn)
            )  # fmt: skip
        except InvalidInput as error:
            return attrs.evolve(decision, report=decision.report.extended(error.report.findings))
        if not decision.listed:
            return decision
        if operator in decision.operators:
            finding = _codes.OPERATOR_LISTED(f"{operator} is listed for {decision.domain}")
        else:
            listed = "; ".join(sorted(str(listed) for listed in decision.operators))
            finding = _codes.OPERATOR_NOT_LISTED(f"{operator} is not listed for {decision.domain} (listed: {listed})")
        return attrs.evolve(decision, report=decision.report.extended([finding]))

    def authorise_peer(
        self,
        domain: str,
        certificate: x509.Certificate,
        *,
        purpose: Purpose | str,
        store: TrustStore,
        at: dt.datetime,
        host: str | None = None,
        intermediates: Sequence[x509.Certificate] = (),
        revocation: RevocationChecker | RevocationMode | str = RevocationMode.HARD,
        max_age: dt.timedelta | None = None,
    ) -> Decision:
        """May this peer carry ``domain``'s mail? Its subject must be listed for the domain, and the
        certificate must pass :func:`~mssante.pki.verify` as an operator server certificate for ``purpose``."""
        decision = self.check_operator(domain, certificate.subject, at=at, max_age=max_age)
        result = verify(
            certificate, purpose=purpose, store=store, at=at, host=host, intermediates=intermediates,
            revocation=revocation,
        )  # fmt: skip
        report = decision.report.extended(result.report.findings, where="certificate")
        return attrs.evolve(decision, report=report, certificate=result)

    def authorise_inbound(self, sender_domain: str, client_certificate: x509.Certificate, **options: Any) -> Decision:
        """Inbound mail: may the peer that presented ``client_certificate`` send mail from ``sender_domain``?"""
        return self.authorise_peer(sender_domain, client_certificate, purpose=Purpose.CLIENT, **options)

    def authorise_outbound(
        self, recipient_domain: str, server_certificate: x509.Certificate, *, host: str, **options: Any
    ) -> Decision:
        """Outbound mail: may ``server_certificate`` (of the MX ``host``) receive mail for ``recipient_domain``?"""
        return self.authorise_peer(recipient_domain, server_certificate, purpose=Purpose.SERVER, host=host, **options)

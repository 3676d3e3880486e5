"""The Postfix policy service, without I/O: a request's attributes → a decision → the answer line.

What is checked where. Postfix holds the TLS session, and gives a policy service the client certificate's subject
CommonName (``ccert_subject``), its issuer's CommonName (``ccert_issuer``) and its fingerprint
(``ccert_fingerprint``, with ``smtpd_tls_fingerprint_digest``, SHA-256 by default since Postfix 3.6), never the
certificate itself; ``ccert_subject`` and ``ccert_issuer`` are empty unless Postfix verified the chain against its
``smtpd_tls_CAfile`` (the IGC Santé CAs of one environment). Postfix has no CRL checking. So:

- **Postfix** requires TLS and a client certificate and verifies its chain against the IGC Santé CAs
  (``smtpd_tls_security_level = encrypt``, ``smtpd_tls_ask_ccert = yes``, ``smtpd_tls_CAfile``), and calls the
  service at ``RCPT TO`` (``check_policy_service``).
- **The service** refuses a session without a client certificate (``MSS-PKI-001``) or with one Postfix did not
  verify (``MSS-PKI-008``: a fingerprint without a subject), and one whose issuer is not a CA of the trust store
  (``MSS-PKI-008``). When the certificate itself is known, in the certificate cache keyed by SHA-256 fingerprint
  (the peers' certificates, PEM files in a directory), the whole check of :class:`InboundPolicy` is made: the
  subject DN listed for the sender's domain on the allow-list, the chain, the IGC Santé profile and the revocation
  status. When it is not known, the subject CN must be the CN of an operator DN listed for the sender's domain
  (``MSS-WL-011``, ``MSS-WL-013``); its revocation and profile cannot be checked without the certificate, so the
  answer fails closed: ``DEFER`` with ``MSS-REV-001`` (revocation status unknown) in ``hard`` revocation mode, the
  default; ``soft`` accepts with that finding as a warning, ``off`` accepts with ``MSS-REV-003``.
- **Envelope rules**: the sender must be an MSSanté address (``MSS-ADR-*``) of a domain listed for that operator;
  the null sender (bounces) is accepted from an operator listed for some domain; with ``recipient_domains``, the
  recipient must be of one of them (``MSS-POL-002``).
- An allow-list older than ``max_age`` makes every answer ``DEFER`` with ``MSS-WL-015``, until a newer one is loaded.
- A request that cannot be read is answered ``DEFER`` with ``MSS-POL-001`` and the connection is closed.

Every answer carries the MSS code that decided it: ``action=DUNNO`` when the peer is allowed (the next restrictions
of Postfix still apply), ``action=REJECT 5.7.1 <code> <reason>`` or ``action=DEFER 4.7.1 <code> <reason>``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterable, Mapping
from typing import Final

import attrs
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from mssante.addresses import check as check_address
from mssante.errors import InvalidInput
from mssante.pki import CrlFetcher, RevocationChecker, RevocationMode, TrustStore, revocation_codes
from mssante.pki import codes as pki_codes
from mssante.report import Finding, Report, Severity
from mssante.transport import _audit
from mssante.transport._policy import (
    MAX_POLICY_ATTRIBUTES,
    MAX_POLICY_LINE,
    InboundPolicy,
    PolicyDecision,
    read_policy_request,
)
from mssante.transport._policy_codes import BAD_REQUEST, NOT_OUR_RECIPIENT
from mssante.trustspace import AllowList
from mssante.trustspace import codes as wl_codes

__all__ = [
    "BadRequest",
    "PolicyAnswer",
    "PolicyConnection",
    "PolicyRequest",
    "PolicyService",
    "certificate_index",
]

MAX_REASON: Final = 200
MAX_KEPT_DECISIONS: Final = 4096
"""The most answers kept at once (all are dropped when it is reached)."""
MAX_LINE_BYTES: Final = 4 * MAX_POLICY_LINE + 1
"""The most bytes of one request line held while it is read (UTF-8: four bytes a character, and its LF)."""
_XTEXT = re.compile(rb"\+([0-9A-Fa-f]{2})")
_NOT_PRINTABLE = re.compile(r"[^\x20-\x7e]+")
_HEX = re.compile(r"[0-9a-f]+", re.ASCII)


def _xtext(value: str) -> str:
    """Postfix's xtext (RFC 3461 §4: ``+XX`` for a byte) decoded; what is not UTF-8 is replaced."""
    raw = _XTEXT.sub(lambda match: bytes([int(match[1], 16)]), value.encode())
    return raw.decode(errors="replace")


def _fingerprint(value: str) -> str:
    """``AB:CD:...`` as lower-case hex without separators; ``""`` when it is not hexadecimal."""
    text = value.replace(":", "").strip().lower()
    return text if _HEX.fullmatch(text) else ""


def certificate_index(certificates: Iterable[x509.Certificate]) -> dict[str, x509.Certificate]:
    """The certificate cache of :class:`PolicyService`: each certificate by the SHA-256 of its DER, in hex."""
    return {hashlib.sha256(cert.public_bytes(Encoding.DER)).hexdigest(): cert for cert in certificates}


@attrs.frozen(kw_only=True)
class PolicyRequest:
    """The attributes of one Postfix policy request that the decision reads (all of them in ``attributes``)."""

    sender: str
    recipient: str = ""
    client_address: str = ""
    protocol_state: str = ""
    encryption_protocol: str = ""
    certificate_subject: str = ""
    """The client certificate's subject CN (``ccert_subject``, xtext decoded); empty unless Postfix verified it."""
    certificate_issuer: str = ""
    """Its issuer's CN (``ccert_issuer``, xtext decoded)."""
    certificate_fingerprint: str = ""
    """``ccert_fingerprint`` as lower-case hex; empty without a client certificate."""
    attributes: Mapping[str, str] = attrs.field(factory=dict, repr=False)

    @classmethod
    def from_attributes(cls, attributes: Mapping[str, str]) -> PolicyRequest:
        """Read the request :func:`~mssante.transport.read_policy_request` gave (it requires ``sender``)."""
        return cls(
            sender=attributes["sender"], recipient=attributes.get("recipient", ""),
            client_address=attributes.get("client_address", ""),
            protocol_state=attributes.get("protocol_state", ""),
            encryption_protocol=attributes.get("encryption_protocol", ""),
            certificate_subject=_xtext(attributes.get("ccert_subject", "")),
            certificate_issuer=_xtext(attributes.get("ccert_issuer", "")),
            certificate_fingerprint=_fingerprint(attributes.get("ccert_fingerprint", "")),
            attributes=dict(attributes),
        )  # fmt: skip


def _one_line(text: str) -> str:
    text = " ".join(_NOT_PRINTABLE.sub(" ", text).split())
    return text if len(text) <= MAX_REASON else text[: MAX_REASON - 3] + "..."


@attrs.frozen(kw_only=True)
class PolicyAnswer:
    """What the service answers: ``action`` ``DUNNO``, ``REJECT`` or ``DEFER``, the MSS ``code`` that decided it."""

    action: str
    code: str
    reason: str
    report: Report

    @property
    def line(self) -> str:
        """The reply line, without its end: ``action=DUNNO``, ``action=REJECT 5.7.1 <code> <reason>``..."""
        if self.action == "DUNNO":
            return "action=DUNNO"
        status = "4.7.1" if self.action == "DEFER" else "5.7.1"
        return f"action={self.action} {status} {self.code} {_one_line(self.reason) or 'refused'}"

    def encode(self) -> bytes:
        """The reply as Postfix reads it: the line, then the empty line that ends it."""
        return f"{self.line}\n\n".encode("ascii")


def _refused(action: str, finding: Finding, reason: str, subject: str = "peer") -> PolicyAnswer:
    return PolicyAnswer(action=action, code=finding.code, reason=reason, report=Report(findings=[finding],
                        subject=subject))  # fmt: skip


def bad_request(message: str) -> PolicyAnswer:
    """The answer to a request that cannot be read (``MSS-POL-001``)."""
    return _refused("DEFER", BAD_REQUEST(message), f"policy request refused: {message}", "policy request")


def _from_decision(decision: PolicyDecision) -> PolicyAnswer:
    errors = decision.report.errors
    if decision.accept:
        info = [f for f in decision.report.findings if f.code in {wl_codes.OPERATOR_LISTED.id, wl_codes.LISTED.id}]
        code = (info or list(decision.report.findings) or [wl_codes.OPERATOR_LISTED()])[-1].code
        return PolicyAnswer(action="DUNNO", code=code, reason=decision.reason, report=decision.report)
    code = errors[0].code if errors else BAD_REQUEST.id
    return PolicyAnswer(action=decision.action, code=code, reason=decision.reason, report=decision.report)


def _common_name(name: x509.Name) -> str:
    values = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(values[0].value) if values else ""


@attrs.frozen
class _State:
    policy: InboundPolicy
    certificates: Mapping[str, x509.Certificate]
    decisions: dict[tuple[str, str, str], tuple[dt.datetime, dt.datetime, PolicyAnswer]] = attrs.field(
        factory=dict, eq=False
    )
    """The answers given with this allow-list and cache: (fingerprint, subject, sender) -> (made at, kept until,
    answer)."""


class PolicyService:
    """Decides Postfix policy requests for inbound MSSanté mail (see the module's documentation for the rules).

    ``certificates`` is the certificate cache (:func:`certificate_index`); ``revocation`` and ``max_age`` are those
    of :class:`InboundPolicy`, and ``revocation`` also says what is done with a certificate that is not in the
    cache (``hard``, a checker or a fetcher: ``DEFER``; ``soft`` or ``off``: decided from its CN). The allow-list and
    the cache are replaced together, atomically, by :meth:`replace`: a decision sees the old pair or the new one.

    With ``recipient_domains``, a recipient of another domain is refused (``MSS-POL-002``).

    An answer about a certificate (for a cached one, its whole check: chain, profile, revocation, milliseconds) is
    kept for ``decision_ttl`` (60 seconds; zero keeps none) for the same certificate and sender, as long as the
    allow-list and the cache in force are the same: a session's recipients, and the next sessions of the same peer,
    are answered at once. The answers that do not depend on the certificate (an allow-list too old, no certificate)
    are never kept.
    """

    def __init__(
        self,
        allowlist: AllowList,
        store: TrustStore,
        *,
        certificates: Mapping[str, x509.Certificate] | None = None,
        revocation: RevocationChecker | RevocationMode | str | CrlFetcher = RevocationMode.HARD,
        max_age: dt.timedelta | None = None,
        decision_ttl: dt.timedelta = dt.timedelta(seconds=60),
        recipient_domains: Iterable[str] | None = None,
    ) -> None:
        self.store = store
        self.recipient_domains = (
            None if recipient_domains is None else frozenset(domain.lower().rstrip(".") for domain in recipient_domains)
        )
        self.revocation = revocation
        self.max_age = max_age
        self.decision_ttl = decision_ttl
        self._issuers = frozenset(_common_name(ca.subject).casefold() for ca in (*store.anchors, *store.intermediates))
        self._state = _State(InboundPolicy(allowlist, store, revocation=revocation), dict(certificates or {}))

    @property
    def allowlist(self) -> AllowList:
        """The allow-list decisions are made with now."""
        return self._state.policy.allowlist

    @property
    def certificates(self) -> Mapping[str, x509.Certificate]:
        """The certificate cache, by SHA-256 fingerprint."""
        return self._state.certificates

    def replace(
        self, *, allowlist: AllowList | None = None, certificates: Mapping[str, x509.Certificate] | None = None
    ) -> None:
        """Decide with this allow-list and/or certificate cache from now on (the other is kept)."""
        state = self._state
        policy = state.policy if allowlist is None else InboundPolicy(allowlist, self.store, revocation=self.revocation)
        self._state = _State(policy, state.certificates if certificates is None else dict(certificates))

    def _mode(self) -> RevocationMode:
        mode = self.revocation
        if isinstance(mode, RevocationChecker):
            return mode.mode
        return RevocationMode.HARD if isinstance(mode, CrlFetcher) else RevocationMode(mode)

    @property
    def blocking(self) -> bool:
        """True when a decision may download (CRLs, with a :class:`~mssante.pki.CrlFetcher`): a server runs it
        in a worker thread."""
        return isinstance(self.revocation, CrlFetcher)

    def decide(self, request: PolicyRequest, *, at: dt.datetime) -> PolicyAnswer:
        """The answer to ``request`` at ``at``."""
        state = self._state
        allowlist = state.policy.allowlist
        if self.max_age is not None and at - allowlist.generated > self.max_age:
            finding = wl_codes.STALE(
                f"the allow-list was generated {allowlist.generated.isoformat()}, more than {self.max_age} before "
                f"{at.isoformat()}", severity=Severity.ERROR,
            )  # fmt: skip
            return _refused("DEFER", finding, "allow-list too old: refresh it", "allow-list")
        if not request.certificate_fingerprint:
            finding = pki_codes.UNREADABLE("no client certificate was presented (no ccert_fingerprint)")
            return _refused("REJECT", finding, "client certificate required")
        if not request.certificate_subject:
            finding = pki_codes.NO_PATH(
                "Postfix did not verify the client certificate against the IGC Santé CAs (no ccert_subject)"
            )
            return _refused("REJECT", finding, "client certificate not verified")
        if request.certificate_issuer.casefold() not in self._issuers:
            finding = pki_codes.NO_PATH(f"the issuer {request.certificate_issuer!r} is not a CA of the trust store")
            return _refused("REJECT", finding, "client certificate not issued by an IGC Santé CA")
        if self.recipient_domains is not None and request.recipient:
            domain = request.recipient.strip().removeprefix("<").removesuffix(">").rpartition("@")[2]
            if domain.lower().rstrip(".") not in self.recipient_domains:
                finding = NOT_OUR_RECIPIENT(f"{domain or request.recipient} is not one of this operator's domains")
                return _refused("REJECT", finding, "recipient not served here", "recipient")
        key = (request.certificate_fingerprint, request.certificate_subject, request.sender)
        kept = state.decisions.get(key)
        if kept is not None and kept[0] <= at < kept[1]:
            return kept[2]
        certificate = state.certificates.get(request.certificate_fingerprint)
        if certificate is None:
            answer = self._by_name(allowlist, request, at)
        else:
            decision = state.policy.decide(client_certificate=certificate, envelope_sender=request.sender, at=at)
            answer = _from_decision(decision)
        if self.decision_ttl:
            if len(state.decisions) >= MAX_KEPT_DECISIONS:
                state.decisions.clear()
            state.decisions[key] = (at, at + self.decision_ttl, answer)
        return answer

    def _by_name(self, allowlist: AllowList, request: PolicyRequest, at: dt.datetime) -> PolicyAnswer:
        """Decide from the subject CN Postfix verified: the certificate itself is not in the cache."""
        subject = request.certificate_subject
        sender = request.sender.strip()
        if sender in ("", "<>"):
            what, operators = "null sender", allowlist.dns
        else:
            checked = check_address(sender.removeprefix("<").removesuffix(">"))
            if checked.address is None or not checked.ok:
                errors = checked.report.errors
                code = errors[0].code if errors else BAD_REQUEST.id
                return PolicyAnswer(action="REJECT", code=code, reason=f"bad sender: {code}", report=checked.report)
            listed = allowlist.check_domain(checked.address.domain, at=at)
            if not listed.ok:
                return PolicyAnswer(
                    action="REJECT", code=listed.report.errors[0].code,
                    reason=f"sender domain {listed.domain}: not on the allow-list", report=listed.report,
                )  # fmt: skip
            what, operators = f"sender domain {listed.domain}", listed.operators
        matching = sorted(str(dn) for dn in operators if (dn.common_name or "").casefold() == subject.casefold())
        if not matching:
            finding = wl_codes.OPERATOR_NOT_LISTED(f"no operator certificate with CN={subject} is listed for {what}")
            return _refused("REJECT", finding, f"{what}: not authorised", subject=what)
        listed_finding = wl_codes.OPERATOR_LISTED(f"CN={subject} is listed for {what} ({'; '.join(matching)})")
        unchecked = (
            f"the certificate {request.certificate_fingerprint} is not in the certificate cache: its revocation status "
            "and profile cannot be checked"
        )
        mode = self._mode()
        if mode is RevocationMode.HARD:
            report = Report(findings=[listed_finding, revocation_codes.STATUS_UNKNOWN(unchecked)], subject=what)
            return PolicyAnswer(action="DEFER", code=revocation_codes.STATUS_UNKNOWN.id,
                                reason=f"{what}: revocation status unknown", report=report)  # fmt: skip
        if mode is RevocationMode.SOFT:
            second = revocation_codes.STATUS_UNKNOWN(unchecked, severity=Severity.WARNING)
        else:
            second = revocation_codes.NOT_CHECKED(unchecked)
        report = Report(findings=[listed_finding, second], subject=what)
        return PolicyAnswer(action="DUNNO", code=listed_finding.code, reason=f"{what}: operator authorised by CN",
                            report=report)  # fmt: skip


def audit(request: PolicyRequest, answer: PolicyAnswer) -> None:
    """The audit event of one decision (``mssante.transport.audit``, event ``policy``)."""
    _audit.policy(
        request.client_address, sender=request.sender, recipient=request.recipient,
        certificate_subject=request.certificate_subject, certificate_sha256=request.certificate_fingerprint,
        action=answer.action, code=answer.code, reason=answer.reason,
    )  # fmt: skip


@attrs.frozen
class BadRequest:
    """A request that cannot be read: the connection is answered :func:`bad_request` and closed."""

    message: str


class PolicyConnection:
    """The protocol state of one connection from Postfix, which sends several requests on it, one at a time.

    :meth:`receive` takes the bytes as they come and gives the requests completed by them (their attributes, read
    by :func:`~mssante.transport.read_policy_request`), or a :class:`BadRequest` after which nothing more is read.
    Bounded: an unfinished line is never held beyond :data:`MAX_LINE_BYTES`, nor a request beyond its attributes.
    """

    def __init__(self) -> None:
        self._partial = bytearray()
        self._lines: list[str] = []
        self.closed = False

    @property
    def idle(self) -> bool:
        """True between requests: nothing of the next one received yet."""
        return not self._partial and not self._lines

    def _line(self, raw: bytes) -> dict[str, str] | BadRequest | None:
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError:
            return BadRequest("a line is not UTF-8")
        if line == "" and not self._lines:  # a stray empty line between requests
            return None
        self._lines.append(line)
        if line != "" and len(self._lines) <= MAX_POLICY_ATTRIBUTES:
            return None
        lines, self._lines = self._lines, []
        try:
            request = read_policy_request(lines)
        except InvalidInput as error:
            return BadRequest(str(error))
        return request if request else None

    def receive(self, data: bytes) -> list[dict[str, str] | BadRequest]:
        """The requests ``data`` completes, in order; a :class:`BadRequest` ends the list and the connection."""
        if self.closed:
            return []
        events: list[dict[str, str] | BadRequest] = []
        self._partial += data
        while (end := self._partial.find(b"\n")) >= 0:
            if end > MAX_LINE_BYTES:
                break
            raw = bytes(self._partial[:end])
            del self._partial[: end + 1]
            event = self._line(raw)
            if event is not None:
                events.append(event)
                if isinstance(event, BadRequest):
                    self.closed = True
                    self._partial.clear()
                    return events
        if len(self._partial) > MAX_LINE_BYTES:
            self.closed = True
            self._partial.clear()
            events.append(BadRequest(f"a line is longer than {MAX_POLICY_LINE} characters"))
        return events

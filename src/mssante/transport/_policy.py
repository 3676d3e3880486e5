"""Inbound policy for operators: may the peer that connected send mail from this envelope sender?

Spec §1.1: the receiving operator requires a client certificate from the sending MTA, validates it
against IGC Santé, and checks that its subject is listed for the sender's domain on the allow-list.
:class:`InboundPolicy` makes that decision; :func:`postfix_policy_answer` and :func:`read_policy_request`
speak Postfix's policy delegation protocol (``check_policy_service``); the policy service made of them, which
decides from what Postfix gives (not the certificate), is in ``_policy_service`` (without I/O) and
``_policy_server`` (asyncio), run by ``mssante policy serve``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator
from typing import Protocol, runtime_checkable

import attrs
from cryptography import x509

from mssante.addresses import check as check_address
from mssante.errors import InvalidInput
from mssante.pki import CrlFetcher, Purpose, RevocationChecker, RevocationMode, TrustStore, load_certificate, verify
from mssante.pki.codes import UNREADABLE
from mssante.report import Report
from mssante.trustspace import AllowList, Decision, OperatorDn
from mssante.trustspace.codes import OPERATOR_LISTED, OPERATOR_NOT_LISTED

__all__ = ["InboundPolicy", "PolicyDecision", "postfix_policy_answer", "read_policy_request"]

MAX_POLICY_ATTRIBUTES = 100
MAX_POLICY_VALUE = 4096
MAX_POLICY_NAME = 64
MAX_POLICY_LINE = MAX_POLICY_NAME + 1 + MAX_POLICY_VALUE
"""The longest line of a policy request (``name=value``, without its line end): a longer one is refused as it is
read, never read whole."""
MAX_REASON = 200
_TRANSIENT = frozenset({"MSS-REV-001", "MSS-REV-032"})  # status unknown, CRL download failed: may be fine later
_NAME = re.compile(r"[a-z_][a-z0-9_]*", re.ASCII)
_NOT_PRINTABLE = re.compile(r"[^\x20-\x7e]+")


@attrs.frozen(kw_only=True)
class PolicyDecision:
    """The answer for one inbound connection: ``action`` ``OK``, ``REJECT`` or ``DEFER``, and why."""

    action: str
    reason: str
    report: Report
    decision: Decision | None = None
    """The allow-list decision, when one was made (not without certificate or with a bad sender)."""

    @property
    def accept(self) -> bool:
        """True when the mail may come in."""
        return self.action == "OK"


def _reason(report: Report, head: str) -> str:
    codes = sorted({finding.code for finding in report.errors})
    return f"{head}: {', '.join(codes)}" if codes else head


class InboundPolicy:
    """Decides inbound connections from the allow-list and the IGC Santé trust store.

    ``revocation`` (a :class:`~mssante.pki.RevocationChecker`, a mode, or a :class:`~mssante.pki.CrlFetcher`
    that fetches the CRLs of each client certificate's path when it is judged) and ``max_age`` (of the allow-list) are
    passed to :meth:`~mssante.trustspace.AllowList.authorise_inbound`. A refusal due only to an unknown
    revocation status (or a failed CRL download) is ``DEFER`` (4xx, the sender retries), every other one
    ``REJECT``; in ``soft`` revocation mode an unknown status is a warning and the mail is accepted.
    """

    def __init__(
        self,
        allowlist: AllowList,
        store: TrustStore,
        *,
        revocation: RevocationChecker | RevocationMode | str | CrlFetcher = RevocationMode.HARD,
        max_age: dt.timedelta | None = None,
    ) -> None:
        self.allowlist = allowlist
        self.store = store
        self.revocation = revocation
        self.max_age = max_age

    def decide(
        self, *, client_certificate: x509.Certificate | bytes | None, envelope_sender: str, at: dt.datetime
    ) -> PolicyDecision:
        """May the peer that presented ``client_certificate`` (DER or PEM bytes) send from ``envelope_sender``?

        The null sender (``""`` or ``<>``, bounces) is accepted from any operator certificate listed for
        some domain.
        """
        if client_certificate is None:
            report = Report(findings=[UNREADABLE("no client certificate was presented")], subject="peer")
            return PolicyDecision(action="REJECT", reason="client certificate required", report=report)
        if isinstance(client_certificate, bytes):
            try:
                client_certificate = load_certificate(client_certificate, what="the client certificate")
            except InvalidInput as error:
                return PolicyDecision(action="REJECT", reason="unreadable client certificate", report=error.report)
        sender = envelope_sender.strip()
        if sender in ("", "<>"):
            return self._null_sender(client_certificate, at)
        checked = check_address(sender.removeprefix("<").removesuffix(">"))
        if checked.address is None or not checked.ok:
            return PolicyDecision(action="REJECT", reason=_reason(checked.report, "bad sender"), report=checked.report)
        decision = self.allowlist.authorise_inbound(
            checked.address.domain, client_certificate, store=self.store, at=at,
            revocation=self._checker(client_certificate, at), max_age=self.max_age,
        )  # fmt: skip
        return self._judged(decision, f"sender domain {checked.address.domain}")

    def _checker(self, certificate: x509.Certificate, at: dt.datetime) -> RevocationChecker | RevocationMode | str:
        if isinstance(self.revocation, CrlFetcher):
            return self.revocation.checker_for(certificate, store=self.store, at=at)[0]
        return self.revocation

    def _null_sender(self, certificate: x509.Certificate, at: dt.datetime) -> PolicyDecision:
        revocation = self._checker(certificate, at)
        result = verify(certificate, purpose=Purpose.CLIENT, store=self.store, at=at, revocation=revocation)
        operator = OperatorDn.from_name(certificate.subject)
        listed = operator in self.allowlist.dns
        finding = (
            OPERATOR_LISTED(f"{operator} is listed on the allow-list") if listed
            else OPERATOR_NOT_LISTED(f"{operator} is not listed for any domain")
        )  # fmt: skip
        report = Report(findings=[finding], subject="null sender").extended(result.report.findings, where="certificate")
        decision = Decision(
            domain="", listed=listed, operators=frozenset({operator}) if listed else frozenset(), report=report,
            certificate=result,
        )  # fmt: skip
        return self._judged(decision, "null sender")

    @staticmethod
    def _judged(decision: Decision, what: str) -> PolicyDecision:
        report = decision.report
        if decision.ok:
            return PolicyDecision(action="OK", reason=f"{what}: operator authorised", report=report, decision=decision)
        errors = {finding.code for finding in report.errors}
        action = "DEFER" if errors <= _TRANSIENT else "REJECT"
        head = f"{what}: revocation status unknown" if action == "DEFER" else f"{what}: not authorised"
        return PolicyDecision(action=action, reason=_reason(report, head), report=report, decision=decision)


def _one_line(text: str) -> str:
    text = _NOT_PRINTABLE.sub(" ", text).strip()
    return text if len(text) <= MAX_REASON else text[: MAX_REASON - 3] + "..."


def postfix_policy_answer(decision: PolicyDecision) -> str:
    """The Postfix policy delegation reply line (``action=...``, without the blank line that ends it)."""
    if decision.action == "OK":
        return "action=OK"
    reason = _one_line(decision.reason) or "refused"
    if decision.action == "DEFER":
        return f"action=DEFER_IF_PERMIT 4.7.1 {reason}"
    return f"action=REJECT 5.7.1 {reason}"


@runtime_checkable
class LineReader(Protocol):
    """A text stream read a line at a time, at most ``size`` characters (``sys.stdin``, a socket's text file)."""

    def readline(self, size: int = -1, /) -> str:
        """The next line, its end included, cut at ``size`` characters; ``""`` at the end of the stream."""
        ...


def _lines(source: LineReader | Iterable[str]) -> Iterator[str]:
    """The lines of ``source``: a stream is read line by line, each read bounded (a line that does not end within
    :data:`MAX_POLICY_LINE` characters is refused, and no more of it is read)."""
    if isinstance(source, (list, tuple)):  # lines already read (the policy service's): no runtime protocol check
        yield from source
        return
    if isinstance(source, LineReader):
        while line := source.readline(MAX_POLICY_LINE + 2):  # the line, its LF, and one more to see it is too long
            yield line
        return
    yield from source


def read_policy_request(lines: LineReader | Iterable[str]) -> dict[str, str]:
    """Read one Postfix policy request (``name=value`` lines up to an empty line) into a dict; ``{}`` at the end.

    ``lines`` is the stream Postfix writes to (``sys.stdin`` under ``spawn(8)``, a socket's text file), or lines
    already read. A stream is read with ``readline`` bounded to :data:`MAX_POLICY_LINE` characters: a line without
    end is refused after that many, never read whole into memory.

    Empty lines before the first attribute are skipped (a stray empty line does not end a policy service), so an
    empty dict means the end of the input: ``while request := read_policy_request(sys.stdin):`` serves until
    Postfix closes. Bounded: at most 100 attributes, names of 64 characters and values of 4 KiB; a malformed line,
    a CR or NUL in a value, a request over the limits, or one without its ``sender`` attribute (Postfix always
    sends it; it is empty for the null sender ``<>``) raises InvalidInput (a ValueError): a request that cannot
    be judged is never answered as if it were a bounce. Postfix sends the ``ccert_subject``, ``ccert_issuer``,
    ``ccert_fingerprint`` and ``ccert_pubkey_fingerprint`` attributes of a client certificate, never the
    certificate itself: :meth:`InboundPolicy.decide` needs the certificate from elsewhere (a milter sees it, the
    operator's own TLS front end, or the policy service's certificate cache), which can then be matched against
    ``ccert_fingerprint``.
    """
    request: dict[str, str] = {}
    for count, raw in enumerate(_lines(lines)):
        line = raw.removesuffix("\n")
        if len(line) > MAX_POLICY_LINE:
            raise InvalidInput(f"the policy request line {count + 1} is longer than {MAX_POLICY_LINE} characters")
        if line == "":
            if not request:  # a stray empty line, no request begun: not the end of the input
                continue
            if "sender" not in request:
                raise InvalidInput("the policy request has no sender attribute (the null sender is an empty sender=)")
            return request
        name, equals, value = line.partition("=")
        if not equals or not _NAME.fullmatch(name) or len(name) > MAX_POLICY_NAME:
            raise InvalidInput(f"the policy request line {count + 1} is not name=value")
        if len(value) > MAX_POLICY_VALUE:
            raise InvalidInput(f"the value of {name} is longer than {MAX_POLICY_VALUE} characters")
        if any(char in value for char in "\r\n\x00"):
            raise InvalidInput(f"the value of {name} holds a CR, LF or NUL")
        if name in request:
            raise InvalidInput(f"the policy request names {name} twice")
        if len(request) >= MAX_POLICY_ATTRIBUTES:
            raise InvalidInput(f"the policy request has more than {MAX_POLICY_ATTRIBUTES} attributes")
        request[name] = value
    if request:
        raise InvalidInput("the policy request ends without its empty line")
    return request

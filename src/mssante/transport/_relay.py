"""Relay: an MSSanté operator sends mail to another operator (SMTP on port 25, STARTTLS, mutual TLS, allow-list).

Each recipient is one validated :class:`~mssante.addresses.Address` (see :class:`~mssante.transport.Envelope`): the
domain checked is that address's, and ``RCPT TO`` carries exactly that address. For each recipient domain, in
order: the domain must be on the allow-list (otherwise nothing is sent and
every recipient of the domain is rejected); its MX hosts are resolved (by preference; the domain itself when
it has no MX); each host is tried in turn: EHLO, STARTTLS (required: no plain-text fallback), TLS with the
operator's certificate as client certificate, then the server certificate must be authorised for the domain
by :meth:`~mssante.trustspace.AllowList.authorise_outbound` (listed DN, valid IGC Santé server certificate
for the MX name) *before* any MAIL FROM. A host that cannot be reached or is not authorised is closed and
the next one tried, within one ``max_duration`` for all the hosts of a domain (a domain whose MX hosts all trickle
takes ``max_duration``, not ``max_duration`` per host). The session itself (MAIL, RCPT, DATA, replies mapped to
results) is the one of :class:`~mssante.transport.Submission`.
"""

from __future__ import annotations

import datetime as dt
import ssl
import time
from collections.abc import Callable, Sequence
from email.message import EmailMessage

import dns.exception
import dns.resolver

from mssante.addresses import Address
from mssante.errors import TransportError
from mssante.net import presented_chain
from mssante.pki import RevocationMode, TrustStore
from mssante.report import Report
from mssante.transport import _audit, codes
from mssante.transport._deadline import DEFAULT_MAX_DURATION, check_max_duration, deadline_passed
from mssante.transport._peer import Revocation, checker_of, source_of
from mssante.transport._results import Delivery, Envelope, RecipientResult, SendResult
from mssante.transport._session import ClientCertificate
from mssante.transport._submission import Submission, _prepare, _Smtp
from mssante.trustspace import AllowList, Decision

__all__ = ["MxResolver", "Relay", "resolve_mx"]

MxResolver = Callable[[str], list[tuple[int, str]]]
"""Gives the MX hosts of a domain as ``(preference, host)``; an empty list when the domain has no route.
Raises (any exception) when DNS cannot answer now: the domain's recipients are deferred."""


def resolve_mx(domain: str, *, timeout: float = 10.0) -> list[tuple[int, str]]:
    """The MX hosts of ``domain`` by dnspython, sorted by preference.

    No MX record: the domain itself (its A/AAAA, RFC 5321 §5.1). NXDOMAIN or a null MX (RFC 7505): no route
    (``[]``). Any other DNS failure (timeout, SERVFAIL) raises :class:`~mssante.errors.TransportError`.
    """
    resolver = dns.resolver.Resolver()
    resolver.lifetime = timeout
    try:
        answer = resolver.resolve(domain, "MX")
    except dns.resolver.NXDOMAIN:
        return []
    except dns.resolver.NoAnswer:
        return [(0, domain)]
    except dns.exception.DNSException as error:
        raise codes.failure(codes.DNS_FAILED, f"cannot resolve the MX of {domain}: {error}", server=domain) from None
    records: list[tuple[int, str]] = []
    for record in answer:
        preference = int(getattr(record, "preference", 0))
        exchange = str(getattr(record, "exchange", "")).rstrip(".")
        records.append((preference, exchange))
    if any(not host for _, host in records):  # a null MX: the domain accepts no mail
        return []
    return sorted(records)


class _Refused(TransportError):
    """The MX host is not authorised to receive the domain's mail (a decision of the allow-list or of TLS); ``decided``
    are the codes of the allow-list's decision, given in the reply."""

    def __init__(self, message: str, report: Report, decided: Sequence[str] = ()) -> None:
        super().__init__(message, report)
        self.codes = tuple(decided)


class _Session(Submission):
    """A Submission session without SASL whose server certificate must be authorised for ``domain``."""

    def __init__(self, host: str, port: int, *, relay: Relay, domain: str, max_duration: float) -> None:
        super().__init__(
            host,
            port,
            store=relay._store,
            client_certificate=relay._client_certificate,
            at=relay._at,
            revocation=relay._revocation,
            timeout=relay._timeout,
            local_hostname=relay._local_hostname,
            max_duration=max_duration,
        )
        self._allowlist = relay._allowlist
        self._domain = domain

    def _establish(self, smtp: _Smtp) -> None:
        try:
            super()._establish(smtp)
        except ssl.SSLCertVerificationError as error:
            refused = self._handshake_refused(error)  # audited
            message = f"the certificate of {self.host} was refused in the TLS handshake: {error.verify_message}"
            raise _Refused(message, refused.report) from None

    def _check_server(self, smtp: _Smtp) -> None:
        sock = smtp.sock
        if not isinstance(sock, ssl.SSLSocket):  # pragma: no cover - starttls() always wraps the socket
            raise self._failure(codes.TLS_FAILED, f"the connection to {self.server} is not encrypted")
        cipher = sock.cipher()
        presented = presented_chain(sock)
        if presented is None:
            _audit.tls(self.server, peer_subject="", protocol=sock.version(), cipher=None, ok=False,
                       reason="no certificate")  # fmt: skip
            message = f"{self.host} presented no certificate"
            report = Report(findings=[codes.NO_SERVER_CERTIFICATE(message, where=self.server)], subject=self.server)
            raise _Refused(message, report)
        certificate, intermediates = presented
        at = self._now()
        checker, _ = checker_of(self._revocation, sock, store=self._store, at=at)
        smtp.watchdog.check()  # fetching the CRLs took the time left: the server is not judged
        decision: Decision = self._allowlist.authorise_outbound(
            self._domain, certificate, host=self.host, store=self._store, at=at, revocation=checker,
            intermediates=intermediates,
        )  # fmt: skip
        reason = "; ".join(str(finding) for finding in decision.report.errors)
        _audit.tls(
            self.server, peer_subject=certificate.subject.rfc4514_string(), protocol=sock.version(),
            cipher=cipher[0] if cipher else None, ok=decision.ok, reason=reason,
        )  # fmt: skip
        if not decision.ok:
            raise _Refused(
                f"the certificate of {self.host} ({certificate.subject.rfc4514_string()}) is not authorised for "
                f"{self._domain}: {reason}",
                decision.report,
                [finding.code for finding in decision.report.errors],
            )


class Relay:
    """Operator-to-operator SMTP relay (sync): mutual TLS, STARTTLS required, MX checked against the allow-list.

    ``client_certificate`` is the operator's server certificate, presented as client certificate (see
    :data:`~mssante.transport.ClientCertificate`). ``resolver`` gives the MX hosts of a domain (default
    :func:`resolve_mx`, dnspython); ``port`` is the port of every MX (25). ``at``, ``revocation``, ``timeout``
    and ``max_duration`` are as for :class:`~mssante.transport.Submission` (``max_duration`` bounds finding an MX
    host of a domain that accepts the session, all hosts tried together, and then the transaction). One connection
    per domain and message, closed after it.
    """

    def __init__(
        self,
        *,
        allowlist: AllowList,
        store: TrustStore,
        client_certificate: ClientCertificate,
        at: dt.datetime | None = None,
        revocation: Revocation = RevocationMode.HARD,
        resolver: MxResolver | None = None,
        port: int = 25,
        timeout: float = 30.0,
        local_hostname: str | None = None,
        max_duration: float = DEFAULT_MAX_DURATION,
    ) -> None:
        if at is not None and at.tzinfo is None:
            raise ValueError("at is timezone-aware (UTC)")
        self._allowlist = allowlist
        self._store = store
        self._client_certificate = client_certificate
        self._at = at
        self._revocation = source_of(revocation)
        self._resolver: MxResolver = resolver if resolver is not None else resolve_mx
        self.port = port
        self._timeout = timeout
        self._local_hostname = local_hostname
        self.max_duration = check_max_duration(max_duration)

    def __repr__(self) -> str:
        return f"Relay(port={self.port}, allow-list of {self._allowlist.generated.isoformat()})"

    def send(self, message: EmailMessage | bytes, envelope: Envelope | None = None) -> list[SendResult]:
        """Send one message: a :class:`SendResult` per recipient domain, in the order of the recipients.

        The envelope defaults to From and To/Cc/Bcc; the ``Bcc`` header is never transmitted. An address of the
        headers that is not one valid address raises :class:`~mssante.errors.InvalidAddress` (nothing is sent).
        """
        data, message_id, envelope = _prepare(message, envelope)
        groups: dict[str, list[Address]] = {}
        for recipient in dict.fromkeys(envelope.recipients):
            groups.setdefault(recipient.domain, []).append(recipient)
        return [
            self._send_domain(domain, data, message_id, Envelope(sender=envelope.sender, recipients=recipients))
            for domain, recipients in groups.items()
        ]

    def send_many(self, messages: Sequence[EmailMessage | bytes]) -> list[list[SendResult]]:
        """Send messages one after the other."""
        return [self.send(message) for message in messages]

    @staticmethod
    def _all(
        message_id: str | None,
        server: str,
        recipients: Sequence[str],
        *,
        delivery: Delivery,
        code: int | None,
        reply: str,
    ) -> SendResult:
        results = [RecipientResult(recipient=r, delivery=delivery, code=code, reply=reply) for r in recipients]
        result = SendResult(message_id=message_id, server=server, recipients=results)
        _audit.send(server, message_id=message_id, results=result.recipients)
        return result

    def _send_domain(self, domain: str, data: bytes, message_id: str | None, envelope: Envelope) -> SendResult:
        recipients = [str(recipient) for recipient in envelope.recipients]
        listed = self._allowlist.check_domain(domain)
        if not listed.ok:
            named = ", ".join(finding.code for finding in listed.report.errors)
            reply = f"5.7.1 not sent: {domain} is not on the MSSanté allow-list ({named})"
            return self._all(message_id, domain, recipients, delivery=Delivery.REJECTED, code=550, reply=reply)
        try:
            hosts = self._resolver(domain)
        except Exception as error:  # any resolver failure: a temporary routing failure
            reply = f"4.4.3 not sent: cannot resolve the MX of {domain}: {error}"
            return self._all(message_id, domain, recipients, delivery=Delivery.DEFERRED, code=451, reply=reply)
        if not hosts:
            reply = f"5.4.4 not sent: {domain} has no mail route (no MX, no address)"
            return self._all(message_id, domain, recipients, delivery=Delivery.REJECTED, code=550, reply=reply)
        failures: list[str] = []
        refusals: list[_Refused] = []
        deadline = time.monotonic() + self.max_duration
        for _, host in sorted(hosts, key=lambda item: item[0]):
            left = deadline - time.monotonic()
            if left <= 0:
                failures.append(deadline_passed(f"{host}:{self.port}", self.max_duration, f"trying the MX of {domain}"))
                break
            session = _Session(host, self.port, relay=self, domain=domain, max_duration=left)
            try:
                session.connect()
            except _Refused as error:
                refusals.append(error)
                continue
            except TransportError as error:
                failures.append(str(error))
                continue
            session.max_duration = self.max_duration  # the transaction has a whole max_duration of its own
            try:
                return session.send(data, envelope)
            finally:
                session.close()
        if failures:
            reply = "4.4.1 not sent: no MX of {} could be used: {}".format(
                domain, "; ".join([*failures, *(str(refusal) for refusal in refusals)])
            )
            return self._all(message_id, domain, recipients, delivery=Delivery.DEFERRED, code=None, reply=reply)
        found = sorted({code for refusal in refusals for code in refusal.codes})
        reply = "5.7.1 not sent: no MX of {} is authorised{}: {}".format(
            domain, f" ({', '.join(found)})" if found else "", "; ".join(str(refusal) for refusal in refusals)
        )
        return self._all(message_id, domain, recipients, delivery=Delivery.REJECTED, code=550, reply=reply)

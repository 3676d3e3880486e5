"""The one test message a server probe sends when asked (``send_test_to``): only to a mailbox of the operator's own.

Who may be mailed is decided before any connection (:func:`sending_refusal`, no I/O):

- an MX: the address's domain is on the ANS allow-list given, with the subject DN of the client certificate the
  probe presents among the operator certificates listed for it. The probe proves it holds that certificate's key
  in the TLS handshake, and the allow-list says that operator serves the domain: the message goes to a domain of
  the operator that runs the probe, never to a third party's;
- a submission server: the probe logs in (XOAUTH2, or EXTERNAL with the client certificate) as ``username``, and
  the message goes from that mailbox to itself;
- an IMAP server: never.

The message is made by :func:`mssante.message.compose` (the X-MSS headers as the SDK builds them), its subject
saying it is a conformance probe, and sent by :class:`mssante.transport.Submission`, the session every send of the
SDK uses (STARTTLS, the server certificate judged again, the client certificate, the login).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from cryptography import x509

from mssante import __version__
from mssante.addresses import check
from mssante.errors import InvalidInput, MssanteError, TransportError
from mssante.message import compose
from mssante.pki import CrlFetcher, RevocationChecker, RevocationMode, TrustStore
from mssante.probe import codes
from mssante.probe._observations import Role
from mssante.probe._result import ProbeCheck
from mssante.report import Finding
from mssante.transport import Delivery, Submission
from mssante.trustspace import AllowList, OperatorDn

__all__ = ["PROBE_NIL", "TEST_SUBJECT", "send_test_message", "sending_refusal"]

PROBE_NIL = "MSSANTE-PROBE"
"""The product reference (``X-MSS-NIL``) of the test message."""
TEST_SUBJECT = "[mssante probe] test message of a conformance probe"
"""The subject of the test message."""
_Identity = tuple[str, str]


def sending_refusal(
    address: str,
    *,
    role: Role,
    client_subject: x509.Name | None,
    allow_list: AllowList | None,
    username: str | None,
    authenticated: bool,
) -> str | None:
    """Why the probe may not send its test message to ``address`` (None: it may); see the module documentation.

    ``client_subject`` is the subject of the client certificate the probe presents, ``authenticated`` whether it
    logs in to a submission server (a token or EXTERNAL) as ``username``.
    """
    verdict = check(address)
    if verdict.address is None:
        return f"{address!r} is not an MSSanté address"
    domain = verdict.address.domain.lower()
    if role is Role.IMAP:
        return "an IMAP server receives no message: --send-test-to is for an MX or a submission server"
    if role is Role.SUBMISSION:
        if not authenticated or username is None:
            return "a submission server takes the test message only from a logged-in mailbox (a token or EXTERNAL)"
        own = check(username).address
        if own is None or str(own).lower() != str(verdict.address).lower():
            return f"on a submission server the test message goes to the mailbox logged in ({username}) only"
        return None
    if client_subject is None:
        return "an MX takes the test message only from a client certificate of the operator's own (--cert)"
    if allow_list is None:
        return "the allow-list is needed to prove that the address's domain is the operator's own (--allow-list)"
    if OperatorDn.from_name(client_subject) not in allow_list.operators(domain):
        return (
            f"{domain} is not listed on the allow-list with the client certificate's DN "
            f"({client_subject.rfc4514_string()}): it is not a domain of the operator's own"
        )
    return None


def send_test_message(
    host: str,
    port: int,
    address: str,
    *,
    role: Role,
    store: TrustStore,
    at: dt.datetime,
    client_certificate: _Identity | None,
    revocation: RevocationChecker | RevocationMode | str | CrlFetcher,
    username: str | None,
    token: Callable[[], str] | None,
    external: bool,
    timeout: float,
    max_duration: float,
) -> ProbeCheck:
    """Send the test message to ``address`` through ``host:port``; the check ``test-message`` says what came of it."""
    sender = username if role is Role.SUBMISSION and username is not None else address
    message = compose(
        sender=sender, to=[address], nil=PROBE_NIL, at=at, subject=TEST_SUBJECT,
        text=f"This message was sent by mssante {__version__} (mssante probe server) to check that "
        f"{host}:{port} takes a message for {address}. It needs no answer.\n",
    )  # fmt: skip
    login = role is Role.SUBMISSION
    session = Submission(
        host, port, store=store, client_certificate=client_certificate, at=at, revocation=revocation,
        username=username if login else None, token=token if login else None, external=external and login,
        timeout=timeout, max_duration=max_duration,
    )  # fmt: skip
    findings: list[Finding] = []
    try:
        with session:
            result = session.send(message)
    except TransportError as error:
        findings += error.report.findings
        return ProbeCheck(name="test-message", findings=[*findings, codes.TEST_MESSAGE_REFUSED(str(error))])
    except MssanteError as error:  # pragma: no cover - the address was checked before
        raise InvalidInput(f"the test message cannot be sent: {error}") from None
    for item in result.recipients:
        said = f"{item.recipient}: {item.code or '-'} {item.reply}".strip()
        if item.delivery is Delivery.ACCEPTED:
            findings.append(codes.TEST_MESSAGE_ACCEPTED(f"{said} (Message-ID {result.message_id})"))
        else:
            findings.append(codes.TEST_MESSAGE_REFUSED(f"{item.delivery.value}: {said}"))
    return ProbeCheck(name="test-message", findings=findings)

"""Moving MSSanté messages: SMTP submission with IGC Santé mutual TLS, local transports, an inbound policy.

- :class:`Submission` (vendor → operator): SMTP with STARTTLS required, the server certificate
  validated by :mod:`mssante.pki`, a client certificate, SASL XOAUTH2 (a Pro Santé Connect token
  from a callback, never stored), PLAIN or EXTERNAL, SIZE respected, DSN parameters, one
  connection for a batch; a :class:`SendResult` per message, per recipient.
- :class:`Relay` (operator → operator): recipients grouped by domain, the domain on the allow-list,
  MX hosts in preference order on port 25, STARTTLS and mutual TLS, the peer certificate authorised
  by the allow-list for the domain before any data; a result per domain.
- :class:`ImapMailbox` (IMAP): STARTTLS on 143 or TLS on 993, a client certificate and/or XOAUTH2,
  unseen / fetch (parsed by :mod:`mssante.message`, never marked or removed implicitly) /
  mark_seen / delete / move, the latter only on an explicit call.
- :class:`AsyncSubmission`: the asyncio twin of :class:`Submission` on ``aiosmtplib`` (the ``async`` extra,
  loaded on first use); :class:`AsyncTransport` is the protocol of async transports.
- :class:`AsyncMailbox`: the asyncio twin of :class:`ImapMailbox` (no extra: the SDK reads IMAP itself).
- :class:`MemoryTransport` (tests) and :class:`FileTransport` (an outbox folder of ``.eml``).
- :class:`InboundPolicy` (operators): accept, reject or defer an incoming session from its client
  certificate and envelope sender, by the allow-list; :class:`PolicyService` answers Postfix's policy requests
  with it, and :class:`PolicyServer` serves them (``mssante policy serve``).
- Every connection, authentication and send is an event on the ``mssante.transport.audit`` logger
  (never a secret, never the message content).
"""

from typing import TYPE_CHECKING

from mssante._lazy import lazy
from mssante._renamed import renamed
from mssante.transport import _policy_codes  # noqa: F401  (the MSS-POL codes, registered: no network library)
from mssante.transport._audit import AUDIT_LOGGER
from mssante.transport._headers import first_msg_id, header_recipients, read_header_block
from mssante.transport._local import FileTransport, MemoryTransport, SentMessage
from mssante.transport._results import AsyncTransport, Delivery, Envelope, RecipientResult, SendResult, Transport

if TYPE_CHECKING:
    from mssante.transport._async_mailbox import AsyncMailbox
    from mssante.transport._async_submission import AsyncSubmission
    from mssante.transport._deadline import DEFAULT_MAX_DURATION, check_max_duration
    from mssante.transport._imap import FetchedMessage
    from mssante.transport._mailbox import ImapMailbox
    from mssante.transport._policy import InboundPolicy, PolicyDecision, postfix_policy_answer, read_policy_request
    from mssante.transport._policy_server import PolicyServer, WatchedFile
    from mssante.transport._policy_service import PolicyAnswer, PolicyRequest, PolicyService, certificate_index
    from mssante.transport._relay import Relay, resolve_mx
    from mssante.transport._session import ClientCertificate, EndingTokenSource
    from mssante.transport._submission import Submission

# The sessions are imported when first used: the results, the local transports and the audit logger need no network
# library (the tracker imports them), and ``AsyncSubmission`` needs the ``async`` extra (aiosmtplib).
if not TYPE_CHECKING:
    __getattr__, __dir__ = lazy(
        __name__,
        globals(),
        {
            "AsyncMailbox": "mssante.transport._async_mailbox",
            "AsyncSubmission": "mssante.transport._async_submission",
            "ClientCertificate": "mssante.transport._session",
            "EndingTokenSource": "mssante.transport._session",
            "DEFAULT_MAX_DURATION": "mssante.transport._deadline",
            "check_max_duration": "mssante.transport._deadline",
            "FetchedMessage": "mssante.transport._imap",
            "InboundPolicy": "mssante.transport._policy",
            "ImapMailbox": "mssante.transport._mailbox",
            "PolicyAnswer": "mssante.transport._policy_service",
            "PolicyDecision": "mssante.transport._policy",
            "PolicyRequest": "mssante.transport._policy_service",
            "PolicyServer": "mssante.transport._policy_server",
            "PolicyService": "mssante.transport._policy_service",
            "WatchedFile": "mssante.transport._policy_server",
            "certificate_index": "mssante.transport._policy_service",
            "Relay": "mssante.transport._relay",
            "Submission": "mssante.transport._submission",
            "postfix_policy_answer": "mssante.transport._policy",
            "read_policy_request": "mssante.transport._policy",
            "resolve_mx": "mssante.transport._relay",
        },
    )
    __getattr__ = renamed(__name__, globals(), {"Mailbox": "ImapMailbox"}, fallback=__getattr__)

__all__ = [
    "AUDIT_LOGGER",
    "DEFAULT_MAX_DURATION",
    "AsyncMailbox",
    "AsyncSubmission",
    "AsyncTransport",
    "ClientCertificate",
    "Delivery",
    "EndingTokenSource",
    "Envelope",
    "FetchedMessage",
    "FileTransport",
    "ImapMailbox",
    "InboundPolicy",
    "MemoryTransport",
    "PolicyAnswer",
    "PolicyDecision",
    "PolicyRequest",
    "PolicyServer",
    "PolicyService",
    "RecipientResult",
    "Relay",
    "SendResult",
    "SentMessage",
    "Submission",
    "Transport",
    "WatchedFile",
    "certificate_index",
    "check_max_duration",
    "first_msg_id",
    "header_recipients",
    "postfix_policy_answer",
    "read_header_block",
    "read_policy_request",
    "resolve_mx",
]

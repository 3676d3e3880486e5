"""Conformance probes: what an operator or a vendor runs on its own servers and messages before qualification.

- :func:`probe_server`: a live SMTP (MX, submission) or IMAP endpoint: STARTTLS offered and required, TLS
  versions and suites, the server certificate (:func:`mssante.pki.verify`: chain, SERV SSL profile, host name,
  validity, revocation by its CRLs and OCSP), for an MX whether a client without an IGC Santé certificate is
  refused before MAIL FROM, SIZE and DSN, the greeting, LOGINDISABLED and the SASL mechanisms of IMAP. Nothing is
  delivered unless asked: ``send_test_to`` sends one test message to a mailbox of the operator's own.
- :func:`probe_domain`: a domain: its MX records (DNSSEC-validated or not), the SRV records of its clients
  (:func:`mssante.autoconfig.discover`), its entry on the ANS allow-list and whether the certificate each MX
  presents is one of the operator certificates listed for it (:class:`DomainReport`, :class:`MxHost`).
- :func:`probe_message`: one message, as :func:`mssante.message.lint` judges it (its XDM packages validated), with
  the PDF/A conformance level; the findings sorted into named checks.
- :func:`judge`: the pure judgement of what a probe saw (:class:`ServerObservation`), for a caller that observes a
  server its own way.

Each answer is a :class:`ProbeReport`: named :class:`ProbeCheck` s, each ``ok`` or not with its findings
(``MSS-PRB-*``, :mod:`mssante.probe.codes`, next to the ``MSS-PKI-*`` and ``MSS-MSG-*`` of the checks it reuses).
The server and domain probes are I/O shells, re-exported lazily: importing :mod:`mssante.probe` opens no socket.
"""

from typing import TYPE_CHECKING

from mssante._lazy import lazy
from mssante.probe import codes
from mssante.probe._judge import judge
from mssante.probe._message import probe_message
from mssante.probe._observations import (
    Failure,
    Handshake,
    ImapDialogue,
    Role,
    ServerObservation,
    SmtpDialogue,
    SmtpReply,
)
from mssante.probe._result import ProbeCheck, ProbeReport

if TYPE_CHECKING:
    from mssante.probe._domain import DomainReport, MxHost, probe_domain
    from mssante.probe._server import probe_server

if not TYPE_CHECKING:
    __getattr__, __dir__ = lazy(
        __name__,
        globals(),
        {
            "DomainReport": "mssante.probe._domain",
            "MxHost": "mssante.probe._domain",
            "probe_domain": "mssante.probe._domain",
            "probe_server": "mssante.probe._server",
        },
    )

__all__ = [
    "DomainReport",
    "Failure",
    "Handshake",
    "ImapDialogue",
    "MxHost",
    "ProbeCheck",
    "ProbeReport",
    "Role",
    "ServerObservation",
    "SmtpDialogue",
    "SmtpReply",
    "codes",
    "judge",
    "probe_domain",
    "probe_message",
    "probe_server",
]

"""Finding codes of the Postfix policy service (``MSS-POL-*``): what it refuses before any MSSanté rule is applied.

Every other answer of the service carries the code of the rule that decided it: ``MSS-WL-*`` (the allow-list),
``MSS-PKI-*`` (the client certificate), ``MSS-REV-*`` (its revocation status), ``MSS-ADR-*`` (the envelope sender).
"""

from __future__ import annotations

from mssante.report import Severity, define_code

__all__ = ["BAD_REQUEST", "NOT_OUR_RECIPIENT"]

BAD_REQUEST = define_code(
    "MSS-POL-001",
    Severity.ERROR,
    "the policy request cannot be read: not UTF-8, a line or a request over the bounds, a line that is not "
    "name=value, no sender attribute, or no empty line ending it within the deadline (Postfix SMTPD_POLICY_README, "
    "Protocol description); it is answered DEFER and the connection closed",
)
NOT_OUR_RECIPIENT = define_code(
    "MSS-POL-002",
    Severity.ERROR,
    "the recipient is not an address of the domains this operator serves (the policy service's recipient domains): "
    "an inbound MSSanté session delivers to this operator's mailboxes only (RFC 5321 §3.6.2: no open relay)",
)

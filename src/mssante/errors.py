"""The exceptions and warnings of mssante.

Everything the library raises derives from :class:`MssanteError`. Below it, one family
per kind of failure:

- :class:`InvalidInput` (also a ``ValueError``): the caller's input cannot be used: a bad
  identifier, address, certificate, XML or ZIP. It carries the :class:`~mssante.report.Report`
  that says why.
- :class:`TrustError`: a trust decision refused something (certificate, peer, allow-list).
- :class:`DirectoryError`: the national directory (HTTP) failed or answered an error.
- :class:`StoreError`: a database store (PostgreSQL) cannot be used; :class:`StoreUnavailable` when it cannot
  be reached or did not answer in time: what was being written was not written.
- :class:`TransportError`: SMTP, IMAP, TLS or DNS failed, or a peer was refused. It carries the
  :class:`~mssante.report.Report` that says why, with the finding codes of the refusal (``MSS-TRN-*``, and the
  ``MSS-PKI-*`` or ``MSS-REV-*`` codes of a refused server certificate).

Exceptions from the I/O libraries underneath (``ssl``, ``smtplib``, ``imaplib``, ``httpx``,
``dns``) are translated once, where the I/O happens, and never leak.

:class:`SecurityWarning` is emitted when a caller weakens a safe default (soft-fail
revocation, TEST trust anchors, ...).
"""

from __future__ import annotations

from mssante.report import Report

__all__ = [
    "DirectoryError",
    "InvalidAddress",
    "InvalidIdentifier",
    "InvalidInput",
    "MssanteError",
    "SecurityWarning",
    "StoreError",
    "StoreUnavailable",
    "TransportError",
    "TrustError",
]


class MssanteError(Exception):
    """The root of every exception raised by mssante."""


class InvalidInput(MssanteError, ValueError):
    """Input that cannot be used, with the report that explains why."""

    def __init__(self, message: str, report: Report | None = None) -> None:
        super().__init__(message)
        self.report = report if report is not None else Report()


class InvalidIdentifier(InvalidInput):
    """An identifier (RPPS, ADELI, FINESS, SIRET, INS, ...) that is not valid."""


class InvalidAddress(InvalidInput):
    """An e-mail address that is not a valid MSSanté address."""


class TrustError(MssanteError):
    """A trust decision refused a certificate, a peer or an allow-list."""


class DirectoryError(MssanteError):
    """The national directory could not answer."""


class StoreError(MssanteError):
    """A database store cannot be used: its schema is newer than this mssante, or the database refused a request."""


class StoreUnavailable(StoreError):
    """The database cannot be reached, or did not answer in time: the write in progress did not happen.

    Nothing was half-written (each write is one transaction): retry it once the database is back. The message
    names the server (never its password) and what failed.
    """


class TransportError(MssanteError):
    """Sending or receiving mail failed (SMTP, IMAP, TLS, DNS), with the report that says why.

    ``report`` holds the findings of the failure: a refused server certificate gives the codes of the
    certificate check, a missing STARTTLS, a refused client certificate or an unreachable server their
    ``MSS-TRN-*`` code. Raised without one, the report is empty.
    """

    def __init__(self, message: str, report: Report | None = None) -> None:
        super().__init__(message)
        self.report = report if report is not None else Report()


class SecurityWarning(UserWarning):
    """A safe default was weakened on purpose; the warning says which and what it risks."""

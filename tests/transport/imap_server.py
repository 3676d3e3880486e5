"""The in-memory IMAP server of :mod:`mssante.testing._imap`, under the names the transport tests use."""

from mssante.testing._imap import PASSWORD, TOKEN, USER, ImapAccounts, ImapState, Stored, serve

__all__ = ["PASSWORD", "TOKEN", "USER", "ImapAccounts", "ImapState", "Stored", "serve"]

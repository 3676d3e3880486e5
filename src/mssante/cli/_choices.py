"""The values the command tree offers, written out so that building it imports nothing of the SDK.

Each one mirrors a name of the SDK (said beside it); a test checks that they agree.
"""

from __future__ import annotations

__all__ = [
    "DEFAULT_MAX_DURATION",
    "ID_TYPES",
    "INS_AUTHORITIES",
    "MDN_FORMS",
    "PKI_ENVIRONMENTS",
    "PURPOSES",
    "REVOCATION_MODES",
    "XDM_ENVIRONMENTS",
]

PKI_ENVIRONMENTS = ("prod", "test")
"""The values of :class:`mssante.pki.Environment`."""

PURPOSES = ("server", "client", "organisation", "person")
"""The values of :class:`mssante.pki.Purpose`."""

REVOCATION_MODES = ("hard", "soft", "off")
"""The values of :class:`mssante.pki.RevocationMode`."""

ID_TYPES = ("rpps", "adeli", "idnps", "finess", "siren", "siret", "idnst")
"""The values of :class:`mssante.identifiers.IdentifierType` but ``ins`` (which ``mssante ins check`` checks)."""

INS_AUTHORITIES = ("nir", "nia", "test", "demo")
"""The names of :class:`mssante.identifiers.InsAuthority`, in lower case."""

XDM_ENVIRONMENTS = ("prod", "test")
""":data:`mssante.xdm.ENVIRONMENTS`."""

MDN_FORMS = ("volet", "rfc8098")
""":data:`mssante.message.MDN_FORMS`."""

DEFAULT_MAX_DURATION = 300.0
"""The default ``max_duration`` of a transport session, in seconds."""

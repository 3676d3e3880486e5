"""mssante: the Python SDK for the French MSSanté trust space.

Capabilities live in subpackages (``mssante.identifiers``, ``mssante.addresses``, ...);
import them by name. ``mssante.report`` holds the report shape every check returns and
``mssante.errors`` the exceptions.
"""

from mssante._version import __version__

__all__ = ["__version__"]

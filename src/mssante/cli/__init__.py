"""The ``mssante`` command line (installed with ``pip install "mssante[cli]"``).

The contract others rely on (commands, ``--json`` keys, exit statuses) is documented in the
command-line page of the documentation.
"""

from mssante.cli._app import main

__all__ = ["main"]

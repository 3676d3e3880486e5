"""What the harnesses of the real servers share (Postfix and Dovecot, PostgreSQL): ports, logs, skipping.

- :func:`free_port`: a TCP port free on 127.0.0.1 now.
- :func:`tail`: the last lines of a server's log, for an error message.
- :func:`require`: skip the calling test when its server cannot run here, or fail it when the variable
  ``MSSANTE_REQUIRE_MTA`` is set (CI), where every such test must run.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

__all__ = ["REQUIRE_SERVERS", "free_port", "require", "tail"]

REQUIRE_SERVERS = "MSSANTE_REQUIRE_MTA"
"""When set (CI), a test whose server cannot run here fails instead of being skipped."""


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def tail(path: Path, lines: int = 30) -> str:
    """The last ``lines`` lines of the log at ``path`` (or why there are none)."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return f"(no log at {path})"
    return "\n".join(text.splitlines()[-lines:]) or f"({path} is empty)"


def require(reason: str | None, *, tests: str) -> None:
    """Skip the calling test when ``reason`` says why its server cannot run (fail it when
    ``MSSANTE_REQUIRE_MTA`` is set); ``tests`` names them in the failure: ``"the interop tests"``."""
    if reason is None:
        return
    if os.environ.get(REQUIRE_SERVERS):
        pytest.fail(f"{REQUIRE_SERVERS} is set but {tests} cannot run: {reason}", pytrace=False)
    pytest.skip(reason)

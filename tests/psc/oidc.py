"""The local OpenID provider (node-oidc-provider) the interoperability tests run, and when they skip."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mssante.testing import LocalPscProvider

REQUIRE = "MSSANTE_REQUIRE_MTA"
"""When set (CI), a missing Node.js or oidc-provider fails these tests instead of skipping them."""

NODE_MODULES = Path(__file__).parent / "provider" / "node_modules"
INSTALL = "npm ci --prefix tests/psc/provider --no-audit --no-fund"


def require_provider() -> None:
    """Skip the calling test (fail it when ``MSSANTE_REQUIRE_MTA`` is set) without Node.js and oidc-provider."""
    if LocalPscProvider.available(NODE_MODULES):
        return
    reason = f"Node.js or oidc-provider missing ({INSTALL})"
    if os.environ.get(REQUIRE):
        pytest.fail(f"{REQUIRE} is set but the PSC interop tests cannot run: {reason}", pytrace=False)
    pytest.skip(reason)

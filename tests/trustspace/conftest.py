"""The real ANS allow-list, parsed once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from mssante.trustspace import AllowList

DATA = Path(__file__).parent.parent / "data"
RESTORED = DATA / "listeblanchemssante-2025-03-13-restored.xml"
MIRROR_HEAD = DATA / "listeblanchemssante-mirror-head.xml"
CLOSING_TAG = b"</ListeBlancheMSSante>\n"


@pytest.fixture(scope="session")
def real_bytes() -> bytes:
    return RESTORED.read_bytes()


@pytest.fixture(scope="session")
def real_list(real_bytes: bytes) -> AllowList:
    return AllowList.parse(real_bytes, source=RESTORED.name)

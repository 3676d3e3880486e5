"""The pytest plugin of ``mssante[testing]``: fixtures for a vendor's own test suite (loaded by pytest).

pytest loads this module in every suite of an environment where mssante is installed, so it imports
nothing heavy: each fixture imports what it needs when first used, and only ``mssante_operator`` needs
aiosmtpd. The fixtures:

- ``mssante_pki`` (session): a :class:`~mssante.testing.TestPki` of the TEST hierarchy, made now.
- ``mssante_trust_store`` (session): the :class:`~mssante.pki.TrustStore` of that PKI.
- ``mssante_client_certificate`` (session): ``(certificate, key)`` PEM files of an ORG authentication
  certificate from that PKI, as a vendor's software presents to its operator.
- ``mssante_operator`` (function): a running :class:`~mssante.testing.LocalOperator` on that PKI, with
  empty mailboxes for each test; ``dr.martin@hopital.mssante.fr`` is a user (:data:`OPERATOR_USER`).
- ``mssante_directory`` (session): a :class:`~mssante.directory.DirectoryIndex` of a small synthetic
  extraction holding :data:`DIRECTORY_ENTRIES`.

Disable it with ``-p no:mssante``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from mssante.directory import DirectoryIndex
    from mssante.pki import TrustStore
    from mssante.testing import LocalOperator, TestPki

__all__ = [
    "DIRECTORY_ENTRIES",
    "DIRECTORY_LINES",
    "OPERATOR_TOKEN",
    "OPERATOR_USER",
    "mssante_client_certificate",
    "mssante_directory",
    "mssante_operator",
    "mssante_pki",
    "mssante_trust_store",
]

OPERATOR_USER = "dr.martin@hopital.mssante.fr"
"""A user of ``mssante_operator`` (XOAUTH2 with :data:`OPERATOR_TOKEN`), also in ``mssante_directory``."""
OPERATOR_TOKEN = "psc-token-dr-martin"  # noqa: S105 (a test credential)
"""The XOAUTH2 token of :data:`OPERATOR_USER` on ``mssante_operator``."""

DIRECTORY_ENTRIES: dict[str, str] = {
    "dr.martin@hopital.mssante.fr": "PER: Dr Jean MARTIN, médecin généraliste, RPPS 10000000108",
    "cardiologie@hopital.mssante.fr": "ORG: the cardiology department of CENTRE HOSPITALIER EXEMPLE",
}
"""The known addresses of ``mssante_directory`` (beside 200 synthetic lines), with what they are."""

_STRUCTURE = "CENTRE HOSPITALIER EXEMPLE||||1||R|DE LA SANTE||75014 PARIS|75014|75|"
DIRECTORY_LINES: tuple[str, ...] = (
    "PER|dr.martin@hopital.mssante.fr|8|10000000108|810000000108|1|750712184||DR|MARTIN|Jean|C|Civil|10|Médecin"
    f"|SM54|Médecine générale|True|{_STRUCTURE}",
    f"ORG|cardiologie@hopital.mssante.fr||||1|750712184|Cardiologie||||||||||True|{_STRUCTURE}",
)
"""The extraction lines of :data:`DIRECTORY_ENTRIES`."""


@pytest.fixture(scope="session")
def mssante_pki() -> TestPki:
    """A test PKI shaped like IGC Santé, TEST hierarchy, valid now; one per session (key generation is slow).

    TEST rather than production names: nothing it issues can pass for a production identity, and trusting
    it through :class:`~mssante.pki.TrustStore.from_certificates` emits no warning (only the bundled TEST
    store, ``TrustStore.bundled("test")``, warns).
    """
    from mssante.pki import Environment  # noqa: PLC0415 (the plugin loads in every suite: nothing heavy at import)
    from mssante.testing import TestPki  # noqa: PLC0415

    return TestPki.create(environment=Environment.TEST, at=dt.datetime.now(dt.timezone.utc))


@pytest.fixture(scope="session")
def mssante_trust_store(mssante_pki: TestPki) -> TrustStore:
    """The trust store of ``mssante_pki``: what clients of ``mssante_operator`` verify servers with."""
    from mssante.pki import TrustStore  # noqa: PLC0415

    return TrustStore.from_certificates(
        [*mssante_pki.anchors, *mssante_pki.intermediates], environment=mssante_pki.environment
    )


@pytest.fixture(scope="session")
def mssante_client_certificate(mssante_pki: TestPki, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """``(certificate, key)``: PEM files of an ORG authentication certificate (``LOGICIEL``) from ``mssante_pki``."""
    directory = tmp_path_factory.mktemp("mssante-client")
    return mssante_pki.organisation("LOGICIEL", usage="auth").write(directory, "client")


@pytest.fixture
def mssante_operator(mssante_pki: TestPki) -> Iterator[LocalOperator]:
    """A running :class:`~mssante.testing.LocalOperator` on ``mssante_pki``, fresh for each test.

    Function scope: every test starts with empty mailboxes; with the session's PKI a start and stop take
    about 0.05 s. :data:`OPERATOR_USER` is a user with :data:`OPERATOR_TOKEN`; add others with
    :meth:`~mssante.testing.LocalOperator.add_user`.
    """
    from mssante.testing import LocalOperator  # noqa: PLC0415 (needs aiosmtpd: pip install 'mssante[testing]')

    with LocalOperator(pki=mssante_pki) as operator:
        operator.add_user(OPERATOR_USER, token=OPERATOR_TOKEN)
        yield operator


@pytest.fixture(scope="session")
def mssante_directory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DirectoryIndex]:
    """An offline :class:`~mssante.directory.DirectoryIndex` of 200 synthetic lines and :data:`DIRECTORY_LINES`.

    Session scope: treat it as read-only. ``mssante_directory.lookup("dr.martin@hopital.mssante.fr")``
    finds Dr MARTIN; any other synthetic address, RPPS or name can be searched too.
    """
    from mssante.directory import DirectoryIndex  # noqa: PLC0415
    from mssante.testing import synthetic_extraction  # noqa: PLC0415

    directory = tmp_path_factory.mktemp("mssante-directory")
    extraction = directory / "Extraction_Correspondance_MSSante_202601010000.txt"
    lines = [*synthetic_extraction(200, seed=20260101), *DIRECTORY_LINES]
    extraction.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with DirectoryIndex.open(directory / "index.sqlite3") as index:
        index.import_extraction(extraction)
        yield index

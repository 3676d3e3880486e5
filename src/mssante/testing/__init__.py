"""Test helpers: a throw-away PKI shaped like IGC Santé, and synthetic directory extractions.

:class:`TestPki` makes the IGC Santé CAs (TEST or production names, fresh keys) and issues the
certificates MSSanté meets: SERV SSL (:meth:`~TestPki.server`), ORG (:meth:`~TestPki.organisation`)
and CPS (:meth:`~TestPki.person`), each with keyword variants that introduce one defect, plus CRLs
and OCSP responses. An :class:`IssuedCertificate` gives the certificate, its key and chain as PEM
or PKCS#12. Build one :class:`TestPki` per test session: key generation is the slow part.

    import pytest
    from datetime import datetime, timezone
    from mssante.pki._types import Environment
    from mssante.testing import TestPki

    @pytest.fixture(scope="session")
    def pki() -> TestPki:
        return TestPki.create(environment=Environment.TEST, at=datetime(2025, 6, 1, tzinfo=timezone.utc))

:func:`write_synthetic_extraction` writes a realistic ``Extraction_Correspondance_MSSante`` file
(TXT or ZIP, any number of lines, deterministic for a seed) for directory tests and benchmarks.
"""

from mssante.testing._extraction import SYNTHETIC_MEMBER_NAME, synthetic_extraction, write_synthetic_extraction
from mssante.testing._pki import (
    CA_NAMES,
    SYNTHETIC_PROD_POLICY_OID,
    UNKNOWN_EXTENSION_OID,
    CertificateAuthority,
    IssuedCertificate,
    LeafOptions,
    TestPki,
)

__all__ = [
    "CA_NAMES",
    "SYNTHETIC_MEMBER_NAME",
    "SYNTHETIC_PROD_POLICY_OID",
    "UNKNOWN_EXTENSION_OID",
    "CertificateAuthority",
    "IssuedCertificate",
    "LeafOptions",
    "TestPki",
    "synthetic_extraction",
    "write_synthetic_extraction",
]

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

:class:`LocalOperator` (needs ``pip install 'mssante[testing]'``) runs an MSSanté operator on 127.0.0.1 for
tests and demonstrations: SMTP submission and IMAP with mutual TLS and XOAUTH2, mailboxes in memory, DSNs.

:func:`write_synthetic_extraction` writes a realistic ``Extraction_Correspondance_MSSante`` file
(TXT or ZIP, any number of lines, deterministic for a seed) for directory tests and benchmarks.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mssante.testing._extraction import (
        SYNTHETIC_MEMBER_NAME,
        synthetic_extraction,
        write_synthetic_extraction,
    )
    from mssante.testing._operator import LocalOperator
    from mssante.testing._pki import (
        CA_NAMES,
        SYNTHETIC_PROD_POLICY_OID,
        UNKNOWN_EXTENSION_OID,
        CertificateAuthority,
        IssuedCertificate,
        LeafOptions,
        TestPki,
    )
    from mssante.testing._psc import LocalPscProvider
    from mssante.testing._samples import SAMPLE_NAMES, sample_bytes, sample_path

__all__ = [
    "CA_NAMES",
    "SAMPLE_NAMES",
    "SYNTHETIC_MEMBER_NAME",
    "SYNTHETIC_PROD_POLICY_OID",
    "UNKNOWN_EXTENSION_OID",
    "CertificateAuthority",
    "IssuedCertificate",
    "LeafOptions",
    "LocalOperator",
    "LocalPscProvider",
    "TestPki",
    "sample_bytes",
    "sample_path",
    "synthetic_extraction",
    "write_synthetic_extraction",
]

# Every name is loaded on first use. pytest imports this package in every suite of an environment where mssante is
# installed (its plugin, ``mssante.testing.pytest_plugin``, lives here), so importing it must cost nothing: no
# cryptography, no aiosmtpd, no other part of the SDK until a name is asked for.
_MODULES = {
    "CA_NAMES": "_pki",
    "SYNTHETIC_MEMBER_NAME": "_extraction",
    "SYNTHETIC_PROD_POLICY_OID": "_pki",
    "UNKNOWN_EXTENSION_OID": "_pki",
    "CertificateAuthority": "_pki",
    "IssuedCertificate": "_pki",
    "LeafOptions": "_pki",
    "LocalOperator": "_operator",
    "LocalPscProvider": "_psc",
    "TestPki": "_pki",
    "SAMPLE_NAMES": "_samples",
    "sample_bytes": "_samples",
    "sample_path": "_samples",
    "synthetic_extraction": "_extraction",
    "write_synthetic_extraction": "_extraction",
}


def __getattr__(name: str) -> Any:
    """Load ``name`` from its module on first use; :class:`LocalOperator` needs aiosmtpd (the ``testing`` extra)."""
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    try:
        value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    except ModuleNotFoundError as error:
        if error.name is None or not error.name.startswith("aiosmtpd"):
            raise
        raise ImportError(
            f"mssante.testing.{name} needs aiosmtpd: pip install 'mssante[testing]'", name=error.name
        ) from error
    globals()[name] = value  # the next lookup is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])

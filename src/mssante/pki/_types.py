"""The vocabulary of IGC Santé trust: environments, revocation modes, statuses and the OIDs of the PKI."""

from __future__ import annotations

import enum

from cryptography.x509 import ObjectIdentifier

__all__ = [
    "OID_GIP_CPS_2_3",
    "OID_PRODUCT_CATEGORY",
    "OID_PRODUCT_TYPE",
    "OID_PROFESSION",
    "TEST_POLICY_OID",
    "CertStatus",
    "Environment",
    "RevocationMode",
]


class Environment(str, enum.Enum):
    """An IGC Santé hierarchy: production or TEST. Their anchors never mix in one trust store."""

    PROD = "prod"
    TEST = "test"

    def __str__(self) -> str:
        return self.value


class RevocationMode(str, enum.Enum):
    """How an unknown revocation status weighs: ``hard`` refuses (the default), ``soft`` warns, ``off`` skips.

    ``soft`` and ``off`` weaken the default and emit a :class:`~mssante.errors.SecurityWarning`.
    """

    HARD = "hard"
    SOFT = "soft"
    OFF = "off"

    def __str__(self) -> str:
        return self.value


class CertStatus(str, enum.Enum):
    """The revocation status of one certificate at one moment."""

    GOOD = "good"
    REVOKED = "revoked"
    UNKNOWN = "unknown"

    def __str__(self) -> str:
        return self.value


OID_PRODUCT_TYPE = ObjectIdentifier("1.2.250.1.71.1.2.2")
"""GIP-CPS private extension: product type (TRE_G02 TypeProduit), an INTEGER."""

OID_GIP_CPS_2_3 = ObjectIdentifier("1.2.250.1.71.1.2.3")
"""GIP-CPS private extension 2.3: a PrintableString such as ``8025000001/2800636234`` (meaning unpublished)."""

OID_PRODUCT_CATEGORY = ObjectIdentifier("1.2.250.1.71.1.2.5")
"""GIP-CPS private extension: product category (TRE_G01 CategorieProduit), an OCTET STRING (0x80 CPS, 0x83 SERV/ORG)."""

OID_PROFESSION = ObjectIdentifier("1.2.250.1.71.1.2.7")
"""GIP-CPS private extension: the profession (TRE_G15 ProfessionSante), an INTEGER (10 médecin, 60 infirmier)."""

TEST_POLICY_OID = ObjectIdentifier("1.2.250.1.213.1.7.2.1.1.1.1")
"""The certificate policy of every IGC Santé TEST end-entity certificate seen (CPS ``…/PC%20TEST``)."""

"""The public API is what ``__all__`` says: pinned here so that a change is a decision."""

from __future__ import annotations

import importlib

import pytest

PUBLIC = {
    "mssante": ["__version__"],
    "mssante.report": ["Code", "Finding", "Report", "Severity", "define_code", "finding_codes"],
    "mssante.errors": [
        "DirectoryError",
        "InvalidAddress",
        "InvalidIdentifier",
        "InvalidInput",
        "MssanteError",
        "SecurityWarning",
        "TransportError",
        "TrustError",
    ],
    "mssante.identifiers": [
        "IDNPS_OID",
        "IDNST_OID",
        "MAX_INPUT_LENGTH",
        "Adeli",
        "Finess",
        "IdNatStruct",
        "IdNatStructKind",
        "Identifier",
        "IdentifierCheck",
        "IdentifierType",
        "Idnps",
        "IdnpsKind",
        "Ins",
        "InsAuthority",
        "Rpps",
        "Siren",
        "Siret",
        "check",
        "check_ins",
        "ins_key",
        "luhn_key",
        "luhn_valid",
        "parse",
    ],
    "mssante.addresses": [
        "MAX_ADDRESS_LENGTH",
        "PATIENT_DOMAIN",
        "Address",
        "AddressCheck",
        "MailboxType",
        "check",
        "normalise_domain",
    ],
    "mssante.cli": ["main"],
    "mssante.pki": [
        "AsyncCrlFetcher",
        "BUNDLED_FINGERPRINTS",
        "CaRole",
        "CertStatus",
        "CertificateDescription",
        "CertificateReport",
        "CrlCache",
        "CrlFetcher",
        "DEFAULT_MAX_CRL_BYTES",
        "Environment",
        "Identity",
        "IdentityKind",
        "IndexedCrl",
        "MAX_CERTIFICATES",
        "MAX_CHAIN_DEPTH",
        "MAX_INPUT_BYTES",
        "OID_GIP_CPS_2_3",
        "OID_PRODUCT_CATEGORY",
        "OID_PRODUCT_TYPE",
        "OID_PROFESSION",
        "Pkcs12Bundle",
        "Profile",
        "ProfileMatch",
        "Purpose",
        "RevocationChecker",
        "RevocationFetchError",
        "RevocationMode",
        "RevocationResult",
        "TEST_POLICY_OID",
        "TLS12_CIPHERS",
        "TrustStore",
        "ca_role",
        "check_peer",
        "client_context",
        "describe",
        "fingerprint",
        "identify",
        "load_certificate",
        "load_certificates",
        "load_pkcs12",
        "match_profiles",
        "server_context",
        "verify",
    ],
    "mssante.trustspace": [
        "ALLOWLIST_URL",
        "MAX_ALLOWLIST_BYTES",
        "MIRROR_CHECKSUM_URL",
        "MIRROR_URL",
        "NAMESPACE",
        "AllowList",
        "AllowListCache",
        "AllowListDiff",
        "AllowListFetchError",
        "AllowListFetcher",
        "AsyncAllowListFetcher",
        "CachedAllowList",
        "Decision",
        "Entry",
        "FetchResult",
        "OperatorDn",
        "diff",
        "igc_sante_cafile",
        "postfix_sender_access",
        "postfix_tls_policy",
    ],
    "mssante.testing": [
        "CA_NAMES",
        "CertificateAuthority",
        "IssuedCertificate",
        "LeafOptions",
        "SYNTHETIC_PROD_POLICY_OID",
        "TestPki",
        "UNKNOWN_EXTENSION_OID",
    ],
}


@pytest.mark.parametrize("module_name", sorted(PUBLIC))
def test_all_is_pinned_and_importable(module_name: str) -> None:
    module = importlib.import_module(module_name)
    assert sorted(module.__all__) == sorted(PUBLIC[module_name])
    for name in module.__all__:
        assert hasattr(module, name), name


@pytest.mark.parametrize("module_name", sorted(PUBLIC))
def test_public_callables_have_docstrings(module_name: str) -> None:
    module = importlib.import_module(module_name)
    assert module.__doc__
    for name in module.__all__:
        value = getattr(module, name)
        if callable(value):
            assert value.__doc__, f"{module_name}.{name} has no docstring"

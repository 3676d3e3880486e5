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
    "mssante.addresses": ["MAX_ADDRESS_LENGTH", "PATIENT_DOMAIN", "Address", "AddressCheck", "MailboxType", "check"],
    "mssante.cli": ["main"],
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

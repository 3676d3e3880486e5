"""Renamed public names: the old name still gives the new object for one minor release, with a DeprecationWarning."""

from __future__ import annotations

import importlib

import pytest

from mssante import addresses, identifiers
from mssante._renamed import REMOVED_IN

RENAMED = [
    ("mssante.message", "Mailbox", "MailAddress"),
    ("mssante.transport", "Mailbox", "ImapMailbox"),
    ("mssante.directory", "Mailbox", "DirectoryMailbox"),
    ("mssante.xdm", "Code", "Coding"),
]


@pytest.mark.parametrize(("package", "old", "new"), RENAMED)
def test_an_old_name_warns_and_gives_the_new_object(package: str, old: str, new: str) -> None:
    module = importlib.import_module(package)
    with pytest.warns(DeprecationWarning, match=rf"{package}\.{old} is renamed {package}\.{new}.*{REMOVED_IN}"):
        value = getattr(module, old)
    assert value is getattr(module, new)
    assert old not in module.__all__
    assert new in module.__all__


@pytest.mark.parametrize(("package", "old", "new"), RENAMED)
def test_from_import_of_an_old_name_warns(package: str, old: str, new: str) -> None:
    with pytest.warns(DeprecationWarning, match=f"is renamed {package}.{new}"):
        exec(f"from {package} import {old} as value", {})


def test_an_unknown_name_is_still_an_attribute_error() -> None:
    module = importlib.import_module("mssante.transport")
    with pytest.raises(AttributeError, match="NoSuchName"):
        _ = module.NoSuchName


def test_valid_is_ok_with_a_warning() -> None:
    check = identifiers.check("10003461034", "rpps")
    address = addresses.check("jean.dupont@hopital.mssante.fr")
    for verdict in (check, address):
        with pytest.warns(DeprecationWarning, match=r"\.valid is renamed \.ok"):
            assert verdict.valid is verdict.ok is True

"""The core is pure: importing a package of rules loads no network library, and its lazy names all resolve.

- Each pure package is imported in a fresh interpreter, and none of the I/O libraries is then in ``sys.modules``
  (``socket`` is not checked here: the standard library's ``email.utils`` imports it; import-linter checks that no
  pure module imports it directly).
- Each package that re-exports shells lazily names each of them three times (the lazy mapping, ``__all__``, the
  ``TYPE_CHECKING`` imports that type checkers read): the three agree, and every lazy name resolves to the object
  of the module it names.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import os
import subprocess
import sys
from typing import Any

import pytest

PURE = [
    "mssante.pki",
    "mssante.trustspace",
    "mssante.tracking",
    "mssante.message",
    "mssante.xdm",
    "mssante.directory",
    "mssante.autoconfig",
    "mssante.audit",
    "mssante.psc",
    "mssante.addresses",
    "mssante.identifiers",
    "mssante.report",
    "mssante.errors",
]
"""The packages of rules: no network I/O, whatever they re-export."""

IO_LIBRARIES = ["ssl", "asyncio", "httpx", "httpcore", "h11", "anyio", "smtplib", "imaplib", "dns", "aiosmtplib"]
"""What importing a pure package must not load (a module or any of its submodules)."""

LAZY = [
    "mssante.pki",
    "mssante.trustspace",
    "mssante.directory",
    "mssante.transport",
    "mssante.autoconfig",
    "mssante.audit",
    "mssante.psc",
    "mssante.tracking",
]
"""The packages that re-export I/O shells lazily."""

_LOADED = """
import importlib, json, sys
importlib.import_module({name!r})
print(json.dumps(sorted(sys.modules)))
"""


def _loaded_by(name: str) -> list[str]:
    """The modules loaded by importing ``name`` in a fresh interpreter (no user site, no startup file)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTHON")}
    done = subprocess.run(
        [sys.executable, "-I", "-c", _LOADED.format(name=name)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    loaded: list[str] = json.loads(done.stdout)
    return loaded


@pytest.mark.parametrize("name", PURE)
def test_a_pure_package_loads_no_network_library(name: str) -> None:
    loaded = _loaded_by(name)
    assert name in loaded
    found = [module for module in loaded if module.split(".")[0] in IO_LIBRARIES]
    assert found == [], f"importing {name} loads {found}"


def test_the_io_layer_does_load_them() -> None:
    # The check above can fail: the I/O layer itself loads what the pure packages must not.
    loaded = _loaded_by("mssante.net")
    assert {"ssl", "asyncio", "httpx"} <= set(loaded)


def _lazy_table(module: Any) -> dict[str, str]:
    """The mapping the package's ``__getattr__`` was built from (the ``names`` argument of ``lazy``)."""
    tree = ast.parse(inspect.getsource(module))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "lazy":
            table = ast.literal_eval(node.args[2])
            assert isinstance(table, dict)
            return table
    raise AssertionError(f"{module.__name__} builds no lazy table")


def _type_checking_names(module: Any) -> dict[str, str]:
    """Each name imported under ``if TYPE_CHECKING:``, with the module it is imported from."""
    tree = ast.parse(inspect.getsource(module))
    names: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            for statement in node.body:
                assert isinstance(statement, ast.ImportFrom), ast.dump(statement)
                assert statement.module is not None
                for alias in statement.names:
                    names[alias.asname or alias.name] = statement.module
    return names


@pytest.mark.parametrize("name", LAZY)
def test_lazy_names_agree_with_all_and_type_checking(name: str) -> None:
    module = importlib.import_module(name)
    table = _lazy_table(module)
    assert table, name
    assert _type_checking_names(module) == table
    assert set(table) <= set(module.__all__)
    assert set(table) <= set(dir(module))
    for attribute, source in table.items():
        value = getattr(module, attribute)
        assert value is getattr(importlib.import_module(source), attribute), attribute
    for attribute in module.__all__:
        assert hasattr(module, attribute), attribute


@pytest.mark.parametrize("name", LAZY)
def test_an_unknown_name_is_an_attribute_error(name: str) -> None:
    module = importlib.import_module(name)
    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        module.nothing_here  # noqa: B018

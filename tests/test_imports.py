"""Importing the SDK is quiet and cheap, with whatever releases of its dependencies are installed.

- Every module imports in a fresh interpreter under ``-W error``: a dependency that deprecates a name the SDK
  touches at import (as cryptography 51 did with DSA) fails here, not in a user's suite.
- Loading the pytest plugin, which pytest does in every suite of an environment where mssante is installed,
  imports no part of the SDK beyond the plugin module and its package, and no third-party library but pytest.
- ``mssante --help`` prints its help and nothing on standard error.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import mssante

_FRESH_TIMEOUT = 120  # seconds: a hang, not a measure (nothing here is timed)


def _fresh(code: str, *options: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter of this Python, warnings as errors, no user site or startup file."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTHON")}
    return subprocess.run(
        [sys.executable, "-W", "error", "-I", *options, "-c", code],
        capture_output=True,
        text=True,
        timeout=_FRESH_TIMEOUT,
        env=env,
        check=False,
    )


_IMPORT_ALL = """
import importlib, pkgutil, mssante
for module in pkgutil.walk_packages(mssante.__path__, prefix="mssante."):
    if not module.name.endswith(".__main__"):
        importlib.import_module(module.name)
print("imported")
"""


def test_every_module_imports_without_a_warning() -> None:
    done = _fresh(_IMPORT_ALL)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "imported"
    assert done.stderr == ""


_PLUGIN_COST = """
import json, sys
before = set(sys.modules)
import mssante.testing.pytest_plugin
print(json.dumps(sorted(set(sys.modules) - before)))
"""


def test_loading_the_pytest_plugin_imports_nothing_of_the_sdk() -> None:
    # pytest itself is imported first, as it is when pytest loads the plugin: only what the plugin adds counts.
    done = _fresh("import pytest\n" + _PLUGIN_COST)
    assert done.returncode == 0, done.stderr
    added = json.loads(done.stdout)
    sdk = sorted(name for name in added if name.split(".")[0] == "mssante")
    assert sdk == ["mssante", "mssante._version", "mssante.testing", "mssante.testing.pytest_plugin"]
    heavy = {"cryptography", "attrs", "httpx", "aiosmtpd", "dns", "pyasn1", "sqlite3", "ssl"}
    assert not heavy & {name.split(".")[0] for name in added}


def test_testing_names_load_on_first_use() -> None:
    done = _fresh(
        "import sys, mssante.testing as t\n"
        "assert 'mssante.testing._pki' not in sys.modules\n"
        "pki = t.TestPki\n"
        "assert 'mssante.testing._pki' in sys.modules and pki.__name__ == 'TestPki'\n"
        "assert 'TestPki' in dir(t)\n"
    )
    assert done.returncode == 0, done.stderr


def test_cli_help_is_quiet() -> None:
    done = _fresh("import sys; from mssante.cli import main; sys.exit(main(['--help']))")
    assert done.returncode == 0, done.stderr
    assert "usage: mssante" in done.stdout
    assert done.stderr == ""


def test_version_is_the_package_version() -> None:
    done = _fresh("import mssante; print(mssante.__version__)")
    assert done.stdout.strip() == mssante.__version__

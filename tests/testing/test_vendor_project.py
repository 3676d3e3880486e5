"""A vendor's project with only ``pip install mssante`` (no extra) runs its own suite, warnings as errors.

pytest loads the ``mssante`` plugin (the ``pytest11`` entry point of the base wheel) in every suite of an
environment where mssante is installed. This test builds the wheel, installs it alone into a new virtual
environment beside the base dependencies and the vendor's pytest (nothing else: no aiosmtpd, no extra), and runs
a throwaway vendor suite there under ``-W error``: the suite passes, the plugin is loaded and has imported no part
of the SDK, and a fixture that needs only the base install works when asked for.

Offline: the wheel is built without build isolation, and the dependencies are those of this environment, linked
into the new one (the same files a fresh install would bring, without a download).
"""

from __future__ import annotations

import importlib.metadata as metadata
import json
import os
import subprocess
import sys
import sysconfig
import venv
from collections.abc import Iterator
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

pytest.importorskip("hatchling", reason="hatchling not installed: pip install -e '.[dev]'")

ROOT = Path(__file__).resolve().parents[2]
_TIMEOUT = 300  # seconds: a hang, not a measure

VENDOR_SUITE = """
import sys


def test_the_vendors_own_code():
    assert sum([1, 2, 3]) == 6


def test_the_plugin_is_loaded_and_cost_nothing(pytestconfig):
    assert pytestconfig.pluginmanager.has_plugin("mssante")
    loaded = sorted(name for name in sys.modules if name.split(".")[0] == "mssante")
    assert loaded == ["mssante", "mssante._version", "mssante.testing", "mssante.testing.pytest_plugin"]
    assert "cryptography" not in sys.modules


def test_a_fixture_of_the_base_install(mssante_pki):
    assert mssante_pki.environment.value == "test"
"""


def _distributions(requirements: list[str]) -> Iterator[metadata.Distribution]:
    """The installed distributions that ``requirements`` need, with their own requirements (no extras)."""
    environment = {"extra": ""}  # evaluated over this interpreter's environment, no extra asked for
    seen: set[str] = set()
    todo = [Requirement(text) for text in requirements]
    while todo:
        requirement = todo.pop()
        name = canonicalize_name(requirement.name)
        if name in seen or (requirement.marker is not None and not requirement.marker.evaluate(environment)):
            continue
        seen.add(name)
        distribution = metadata.distribution(name)
        yield distribution
        todo += [Requirement(text) for text in distribution.requires or []]
        todo = [item for item in todo if item.marker is None or item.marker.evaluate(environment)]


def _link_dependencies(requirements: list[str], site_packages: Path) -> None:
    """Link each file tree that the distributions of ``requirements`` installed into ``site_packages``."""
    here = Path(sysconfig.get_paths()["purelib"])
    for distribution in _distributions(requirements):
        tops = {Path(str(file)).parts[0] for file in distribution.files or [] if not str(file).startswith("..")}
        for top in tops:
            source = here / top
            target = site_packages / top
            if source.exists() and not target.exists() and not top.endswith(".pth"):
                target.symlink_to(source)


@pytest.fixture(scope="module")
def base_install(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new virtual environment holding the mssante wheel, its base dependencies and pytest; its Python."""
    folder = tmp_path_factory.mktemp("vendor-env")
    wheels = folder / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(wheels), str(ROOT)],
        check=True,
        timeout=_TIMEOUT,
        capture_output=True,
    )
    [wheel] = wheels.glob("mssante-*.whl")
    environment = folder / "venv"
    venv.create(environment, with_pip=False)
    python = environment / "bin" / "python"
    site_packages = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True,
            capture_output=True,
            text=True,
            timeout=_TIMEOUT,
        ).stdout.strip()
    )
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps", "--no-index", str(wheel)],
        check=True,
        timeout=_TIMEOUT,
        capture_output=True,
    )
    base = [
        str(requirement)
        for requirement in map(Requirement, metadata.requires("mssante") or [])
        if requirement.marker is None
    ]
    _link_dependencies([*base, "pytest"], site_packages)
    return python


def test_the_base_install_holds_no_extra(base_install: Path) -> None:
    done = subprocess.run(
        [str(base_install), "-c", "import importlib.util as u; print(u.find_spec('aiosmtpd'), u.find_spec('rich'))"],
        capture_output=True,
        text=True,
        timeout=_TIMEOUT,
        check=True,
    )
    assert done.stdout.split() == ["None", "None"]


def test_a_vendor_suite_passes_with_warnings_as_errors(base_install: Path, tmp_path: Path) -> None:
    project = tmp_path / "vendor"
    project.mkdir()
    (project / "test_vendor.py").write_text(VENDOR_SUITE, encoding="utf-8")
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTHON", "PYTEST"))}
    done = subprocess.run(
        [str(base_install), "-W", "error", "-m", "pytest", "-W", "error", "-p", "no:cacheprovider", "-q"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=_TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 passed" in done.stdout
    assert "warning" not in done.stdout.lower()


_IMPORT_EVERY_MODULE = """
import importlib, json, pkgutil, mssante
needs_extra = {}
for module in pkgutil.walk_packages(mssante.__path__, prefix="mssante."):
    if module.name.endswith(".__main__"):
        continue
    try:
        importlib.import_module(module.name)
    except ImportError as error:  # only what an extra brings may be missing, said as such
        needs_extra[module.name] = getattr(error, "name", None) or str(error)
print(json.dumps(needs_extra))
"""


def test_the_base_install_imports_every_module_without_a_warning(base_install: Path) -> None:
    done = subprocess.run(
        [str(base_install), "-W", "error", "-c", _IMPORT_EVERY_MODULE],
        capture_output=True,
        text=True,
        timeout=_TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    needs_extra = json.loads(done.stdout)
    extras = {"aiosmtpd", "aiosmtplib", "rich", "joserfc", "authlib", "psycopg", "psycopg_pool"}
    assert set(needs_extra.values()) <= extras, needs_extra

"""The import rules of docs/architecture.md that import-linter's contract types cannot state.

A package's private modules (``mssante.<package>._name``) are its own: another package imports what the package
exports. The helpers at the root (``mssante._files``, ``mssante._lazy``, ...) are shared by every layer and are not
concerned.
"""

from __future__ import annotations

import grimp
import pytest


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph(
        "mssante", include_external_packages=False, exclude_type_checking_imports=True, cache_dir=None
    )


def _owner(module: str) -> str | None:
    """The package owning ``module`` when it is private to a subpackage (``mssante.pki._verify`` -> ``mssante.pki``)."""
    parts = module.split(".")
    if len(parts) >= 3 and any(part.startswith("_") and not part.startswith("__") for part in parts[2:]):
        return ".".join(parts[:2])
    return None


def test_no_package_imports_another_package_private_modules(graph: grimp.ImportGraph) -> None:
    crossings = [
        f"{importer} imports {imported}"
        for imported, owner in ((module, _owner(module)) for module in sorted(graph.modules))
        if owner is not None
        for importer in sorted(graph.find_modules_that_directly_import(imported))
        if importer != owner and not importer.startswith(owner + ".")
    ]
    assert crossings == []


def test_owner_of_private_modules() -> None:
    assert _owner("mssante.pki._verify") == "mssante.pki"
    assert _owner("mssante.net._async._crl") == "mssante.net"
    assert _owner("mssante.pki") is None
    assert _owner("mssante._files") is None
    assert _owner("mssante.message.__init__") is None

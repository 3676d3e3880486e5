"""The example notebook runs top to bottom in a fresh kernel of this Python, and shows HTML.

It runs where a user opens it: in ``examples/``, and in an empty folder outside the repository (the files it reads
ship with mssante).
"""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "examples" / "exploring.ipynb"
CELL_TIMEOUT = 60
_PROBE = "import sys; print(sys.executable)"

try:
    with warnings.catch_warnings():
        # Some jupyter_core 5 releases warn, when jupyter_client imports their paths module, that the folders
        # move to platformdirs in v6: nothing here depends on those folders (the kernel spec is the test's own).
        warnings.filterwarnings("ignore", message="Jupyter is migrating its paths", category=DeprecationWarning)
        import nbformat
        from jupyter_client.kernelspec import KernelSpecManager
        from jupyter_client.manager import AsyncKernelManager
        from nbclient import NotebookClient
except ImportError as error:  # pragma: no cover - only without the dev extra
    pytest.skip(
        f"nbclient, nbformat or ipykernel not installed ({error}): pip install -e '.[dev]'", allow_module_level=True
    )
pytest.importorskip("ipykernel", reason="ipykernel not installed: pip install -e '.[dev]'")


def test_notebook_is_saved_without_outputs() -> None:
    notebook = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    code = [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]
    assert code, "the notebook has no code cell"
    assert all(cell["outputs"] == [] and cell["execution_count"] is None for cell in code)


def _kernel_manager(folder: Path) -> AsyncKernelManager:
    """A kernel manager whose only ``python3`` kernel is this interpreter (whatever kernels are installed)."""
    spec = folder / "kernels" / "python3"
    spec.mkdir(parents=True)
    spec.joinpath("kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "Python 3 (mssante tests)",
                "language": "python",
            }
        ),
        encoding="utf-8",
    )
    specs = KernelSpecManager(kernel_dirs=[str(folder / "kernels")], ensure_native_kernel=False)
    return AsyncKernelManager(kernel_name="python3", kernel_spec_manager=specs)


def _outputs(cell: Any) -> list[Any]:
    return list(cell.get("outputs", []))


@pytest.mark.parametrize("where", ["examples", "outside"])
def test_notebook_runs(where: str, tmp_path: Path) -> None:
    folder = NOTEBOOK.parent if where == "examples" else tmp_path / "work"
    folder.mkdir(exist_ok=True)
    notebook = nbformat.read(NOTEBOOK, as_version=4)  # type: ignore[no-untyped-call]  # nbformat is untyped
    notebook.cells.append(nbformat.v4.new_code_cell(_PROBE))  # type: ignore[no-untyped-call]
    client = NotebookClient(
        notebook,
        km=_kernel_manager(tmp_path),
        kernel_name="python3",
        timeout=CELL_TIMEOUT,
        allow_errors=False,
        resources={"metadata": {"path": str(folder)}},  # the kernel's working directory
    )
    client.execute(cleanup_kc=True)  # shut the kernel down: the test, not nbclient, made its manager

    errors = [output for cell in notebook.cells for output in _outputs(cell) if output["output_type"] == "error"]
    assert not errors, errors
    probe = notebook.cells[-1]
    printed = "".join(output.get("text", "") for output in _outputs(probe) if output["output_type"] == "stream")
    assert Path(printed.strip()) == Path(sys.executable), "the notebook ran in another Python"
    html = [
        output["data"]["text/html"]
        for cell in notebook.cells
        for output in _outputs(cell)
        if output["output_type"] in {"display_data", "execute_result"} and "text/html" in output.get("data", {})
    ]
    shown = "".join(html)
    assert len(html) >= 8, f"only {len(html)} HTML outputs"
    for fact in ("MSS-ID-006", "AC IGC-SANTE ELEMENTAIRE ORGANISATIONS", "medecin.mssante.fr", "DOC0001.XML"):
        assert fact in shown, fact
    stderr = [output["text"] for cell in notebook.cells for output in _outputs(cell) if output.get("name") == "stderr"]
    assert not stderr, stderr

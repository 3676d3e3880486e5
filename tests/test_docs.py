"""The documentation builds, lists every finding code, and its examples run.

- The site builds with ``mkdocs build --strict`` (one build per test session).
- Every finding code the library declares appears on the generated finding-codes page.
- Every ```` ```python ```` block of ``docs/*.md`` and ``README.md`` runs: the blocks of one page run in
  order, in one fresh namespace. A block whose first line is ``# not-run`` is skipped.
- Every ``examples/*.py`` runs as a script.
- With ``MSSANTE_REQUIRE_MTA`` set (CI), the Pro Santé Connect pages must have run against the local provider.

Both run in an empty folder outside the repository, and the examples as copies placed there: what they read
comes with the installed package (``mssante.testing`` ships sample files), never from a checkout.
``scripts/typecheck-docs`` reads the same blocks with :func:`python_blocks` and checks them with mypy.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import re
import runpy
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import pytest

from mssante.report import finding_codes

ROOT = Path(__file__).resolve().parent.parent
DOC_PAGES = [*sorted((ROOT / "docs").rglob("*.md")), ROOT / "README.md"]
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))
DOCS_TOOLS = ("mkdocs", "material", "mkdocstrings", "mkdocstrings_handlers.python")
NOT_RUN = "# not-run"
PSC_PAGES = ("docs/psc.md", "docs/vendor.md")
"""Pages whose blocks run against the local PSC provider when it is installed (their name ``available`` says so)."""
REQUIRE_PROVIDER = "MSSANTE_REQUIRE_MTA"
"""When set (CI), a PSC page that ran without the provider fails instead of passing on the calls it only showed."""

_FENCE = re.compile(r"(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^`]*)")


class CodeBlock(NamedTuple):
    line: int  # line of the first code line in the page, from 1
    source: str


class Build(NamedTuple):
    returncode: int
    output: str
    site: Path


def python_blocks(text: str) -> Iterator[CodeBlock]:
    """The ```` ```python ```` fenced blocks of a Markdown text, dedented to their fence (scripts/_docblocks.py too)."""
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        opening = _FENCE.fullmatch(lines[index])
        index += 1
        if opening is None:
            continue
        indent, fence = len(opening["indent"]), opening["fence"]
        words = opening["info"].strip().lstrip("{.").split()
        start, body = index, []
        while index < len(lines):
            closing = _FENCE.fullmatch(lines[index])
            index += 1
            if closing is not None and closing["fence"].startswith(fence) and not closing["info"].strip():
                break
            body.append(_dedent(lines[index - 1], indent))
        if words and words[0].lower() in {"python", "py", "python3"}:
            yield CodeBlock(line=start + 1, source="\n".join(body) + "\n")


def _dedent(line: str, indent: int) -> str:
    return line[indent:] if line[:indent].isspace() else line


def page_params() -> list[pytest.ParameterSet]:
    return [
        pytest.param(page, id=page.relative_to(ROOT).as_posix())
        for page in DOC_PAGES
        if page.is_file() and any(True for _ in python_blocks(page.read_text(encoding="utf-8")))
    ]


def test_python_blocks_are_found() -> None:
    text = "\n".join(
        [
            "# Title",
            "```python",
            "a = 1",
            "```",
            "!!! note",
            "    ```py",
            "    b = a + 1",
            "    ```",
            "```console",
            "$ mssante --version",
            "```",
            "````python",
            "```",
            "````",
        ]
    )
    assert list(python_blocks(text)) == [
        CodeBlock(line=3, source="a = 1\n"),
        CodeBlock(line=7, source="b = a + 1\n"),
        CodeBlock(line=13, source="```\n"),
    ]


def test_typecheck_modules_keep_the_page_lines() -> None:
    spec = importlib.util.spec_from_file_location("docblocks", ROOT / "scripts" / "_docblocks.py")
    assert spec
    assert spec.loader
    docblocks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(docblocks)
    page = "\n".join(
        ["# Title", "```python", "a = 1", "```", "```python", "# not-run", "b = 2", "```", "```py", "c = a", "```"]
    )
    assert docblocks.module_source(page) == "\n\na = 1\n\n\n\n\n\n\nc = a\n"
    assert docblocks.module_source("no code") == ""
    assert docblocks.module_name(ROOT / "docs" / "getting-started.md") == "docs_getting_started"


@pytest.mark.parametrize("page", page_params())
def test_doc_examples_run(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # outside the repository: a block that reads tests/data fails
    namespace: dict[str, object] = {"__name__": f"docs.{page.stem}"}
    for block in python_blocks(page.read_text(encoding="utf-8")):
        if block.source.lstrip().startswith(NOT_RUN):
            continue
        # Padding keeps the page's line numbers, so a traceback points at the Markdown line that failed.
        code = compile("\n" * (block.line - 1) + block.source, str(page), "exec")
        exec(code, namespace)
    if page.relative_to(ROOT).as_posix() in PSC_PAGES and os.environ.get(REQUIRE_PROVIDER):
        assert namespace.get("available") is True, (
            f"{REQUIRE_PROVIDER} is set but {page.name} ran without the local PSC provider: set"
            " MSSANTE_PSC_NODE_MODULES to tests/psc/provider/node_modules (npm ci --prefix tests/psc/provider)"
        )


@pytest.mark.parametrize("example", [pytest.param(path, id=path.name) for path in EXAMPLES])
def test_example_runs(example: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A copy, run in a scratch folder outside the repository: nothing found relative to the script or the working
    # directory, and whatever it writes lands there.
    script = shutil.copy(example, tmp_path / example.name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", [str(script)])
    status: object = 0
    try:
        runpy.run_path(str(script), run_name="__main__")
    except SystemExit as exit_:
        status = exit_.code
    assert status in (0, None), f"{example.name} exited with {status!r}"


@pytest.fixture(scope="module")
def docs_build(tmp_path_factory: pytest.TempPathFactory) -> Build:
    missing = [name for name in DOCS_TOOLS if not _importable(name)]
    if missing:
        pytest.skip(f"documentation tools not installed ({', '.join(missing)}): pip install -e '.[dev]'")
    site = tmp_path_factory.mktemp("site")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    return Build(returncode=done.returncode, output=done.stdout + done.stderr, site=site)


def _importable(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:  # a parent package is missing
        return False


def test_docs_build_strict(docs_build: Build) -> None:
    assert docs_build.returncode == 0, f"mkdocs build --strict failed:\n{docs_build.output}"


def test_finding_codes_page_lists_every_code(docs_build: Build) -> None:
    assert docs_build.returncode == 0, "the site did not build; see test_docs_build_strict"
    hooks_spec = importlib.util.spec_from_file_location("docs_hooks", ROOT / "docs" / "hooks.py")
    assert hooks_spec
    assert hooks_spec.loader
    hooks = importlib.util.module_from_spec(hooks_spec)
    hooks_spec.loader.exec_module(hooks)
    modules = hooks.code_modules()
    assert {"mssante.identifiers", "mssante.addresses", "mssante.pki"} <= set(modules)
    for name in modules:
        importlib.import_module(name)
    codes = [code.id for code in finding_codes()]
    assert codes, "the library declares no finding code"
    page = (docs_build.site / "finding-codes" / "index.html").read_text(encoding="utf-8")
    missing = [code for code in codes if code not in page]
    assert not missing, f"finding codes missing from the docs: {missing}"

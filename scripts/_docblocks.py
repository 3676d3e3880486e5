"""Type-check the documentation's code with ``mypy --strict`` (run by ``scripts/typecheck-docs``).

Each page with ```` ```python ```` blocks (``docs/**/*.md`` and ``README.md``, the pages ``tests/test_docs.py``
runs) becomes one module, in ``.mypy_cache/docs/pages``: its blocks in order, each at the line it has in the page, so
that mypy's line numbers are the page's; blocks that start with ``# not-run`` are left out, as the tests leave
them out. mypy then checks these modules with the project's configuration, and its report names the pages.
Arguments are passed on to mypy.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.test_docs import DOC_PAGES, NOT_RUN, python_blocks  # noqa: E402 (the block reader the tests use)


def module_source(text: str) -> str:
    """The runnable blocks of a Markdown page as one module, each block at its line in the page ("" if none)."""
    lines: list[str] = []
    for block in python_blocks(text):
        if block.source.lstrip().startswith(NOT_RUN):
            continue
        lines.extend([""] * (block.line - 1 - len(lines)))
        lines.extend(block.source.splitlines())
    return "\n".join(lines) + "\n" if lines else ""


def module_name(page: Path) -> str:
    """A module name for a page, unique and shadowing no other module: ``docs/xdm.md`` gives ``docs_xdm``."""
    return re.sub(r"\W", "_", page.relative_to(ROOT).with_suffix("").as_posix())


def main(arguments: list[str]) -> int:
    # A fixed folder, not a fresh one: mypy's cache replays a module's errors with the path it had when checked.
    folder = ROOT / ".mypy_cache" / "docs"
    shutil.rmtree(folder / "pages", ignore_errors=True)
    (folder / "pages").mkdir(parents=True)
    pages: dict[str, str] = {}  # module path -> page path, both as mypy prints them
    for page in DOC_PAGES:
        source = module_source(page.read_text(encoding="utf-8")) if page.is_file() else ""
        if source:
            module = folder / "pages" / f"{module_name(page)}.py"
            module.write_text(source, encoding="utf-8")
            pages[module.relative_to(ROOT).as_posix()] = page.relative_to(ROOT).as_posix()
    command = [
        sys.executable,
        "-m",
        "mypy",
        "--config-file",
        "pyproject.toml",
        "--strict",
        "--cache-dir",
        str(folder / "cache"),
        *arguments,
        *pages,  # given explicitly: the configuration's `files` are not checked
    ]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)  # noqa: S603
    output = done.stdout + done.stderr
    for module_path, page_path in pages.items():
        output = output.replace(module_path, page_path)
    print(output, end="")
    return done.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

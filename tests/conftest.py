"""What every test shares: the whole library imported before any test starts a server thread.

Importing (and compiling) a module in one thread while another formats a traceback can trip a CPython 3.11 bug
("AST constructor recursion depth mismatch"); the tests start servers in threads, and the library and the command
line import some modules only when first used. Importing them all here, once, leaves nothing to import later.
"""

from __future__ import annotations

import importlib
import pkgutil

import mssante

for module in pkgutil.walk_packages(mssante.__path__, prefix="mssante."):
    if not module.name.endswith(".__main__"):  # that one runs the command line
        importlib.import_module(module.name)

"""The tests of the I/O shells: the async sources in ``_async`` and their generated sync twins in ``_sync``.

A test written ``async def`` (in ``_async``) runs in an event loop of its own; its generated twin is a plain test.
"""

from __future__ import annotations

import asyncio
import inspect

import pytest


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """Run a coroutine test with :func:`asyncio.run`; leave any other test to pytest."""
    if not inspect.iscoroutinefunction(pyfuncitem.obj):
        return None
    arguments = {name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}
    asyncio.run(pyfuncitem.obj(**arguments))
    return True

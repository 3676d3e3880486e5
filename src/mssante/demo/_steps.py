"""The demo's steps: each one timed, said in plain words, and stopped at the first failure."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import attrs

__all__ = ["DemoResult", "DemoStep", "Steps"]


@attrs.frozen
class DemoStep:
    """One step of the demo: its name, whether it went as it should, how long it took, what it showed."""

    name: str
    title: str
    ok: bool
    seconds: float
    lines: tuple[str, ...] = ()
    error: str | None = None


@attrs.frozen
class DemoResult:
    """The whole demo: every step that ran, in order; ``ok`` when all of them did."""

    steps: tuple[DemoStep, ...]
    message_id: str | None = None
    """The Message-ID of the message the demo sent, once it is composed (``mssante track status`` takes it)."""

    @property
    def ok(self) -> bool:
        """True when every step went as it should."""
        return bool(self.steps) and all(step.ok for step in self.steps)

    @property
    def seconds(self) -> float:
        """The time of all the steps together."""
        return sum(step.seconds for step in self.steps)


class StepFailed(Exception):
    """A step saw something other than what the demo expects: the demo stops there."""


class _Lines:
    """What a step says, line by line."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def say(self, line: str) -> None:
        self.lines.append(line)

    def expect(self, condition: object, what: str) -> None:
        """Stop the step with ``what`` when ``condition`` does not hold."""
        if not condition:
            raise StepFailed(what)


class Steps:
    """Runs the steps one after the other; ``progress`` hears of each one as it ends."""

    def __init__(self, progress: Callable[[DemoStep], None] | None = None) -> None:
        self.done: list[DemoStep] = []
        self._progress = progress
        self.message_id: str | None = None

    @contextmanager
    def step(self, name: str, title: str) -> Iterator[_Lines]:
        """Time the block as the step ``name``; a :class:`StepFailed` (or any error) in it fails the step."""
        lines = _Lines()
        started = time.perf_counter()
        error: str | None = None
        try:
            yield lines
        except Exception as failure:  # a demo step reports its failure instead of a traceback
            error = f"{type(failure).__name__}: {failure}" if not isinstance(failure, StepFailed) else str(failure)
        step = DemoStep(
            name=name,
            title=title,
            ok=error is None,
            seconds=time.perf_counter() - started,
            lines=tuple(lines.lines),
            error=error,
        )
        self.done.append(step)
        if self._progress is not None:
            self._progress(step)
        if error is not None:
            raise StepFailed(error)

    def result(self) -> DemoResult:
        """What ran so far."""
        return DemoResult(steps=tuple(self.done), message_id=self.message_id)

"""Timing shared by the benchmarks: the best of several repeats, ours and the baseline interleaved."""

from __future__ import annotations

import timeit
from collections.abc import Callable

REPEATS = 7
ROUNDS = 3


def best_ms(function: Callable[[], object], *, number: int = 1) -> float:
    """Milliseconds per call: the best of :data:`REPEATS` repeats of ``number`` calls."""
    return min(timeit.repeat(function, number=number, repeat=REPEATS)) / number * 1e3


def interleaved(ours: Callable[[], object], baseline: Callable[[], object]) -> tuple[float, float]:
    """The best milliseconds of ``ours`` and ``baseline``, measured in turns: a busy machine weighs on both alike."""
    mine, theirs = [], []
    for _ in range(ROUNDS):
        mine.append(best_ms(ours))
        theirs.append(best_ms(baseline))
    return min(mine), min(theirs)

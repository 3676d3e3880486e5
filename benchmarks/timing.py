"""Timing shared by the benchmarks: ours and the baseline measured in turns, min and median reported.

A busy machine weighs on both sides alike when they alternate, so the ratio holds across machines; the minimum
is the cost without interference, the median what a user sees on a machine doing other work.
"""

from __future__ import annotations

import statistics
import time
import timeit
from collections.abc import Callable

import attrs

REPEATS = 7
ROUNDS = 3
TURNS = 15


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


@attrs.frozen
class Paired:
    """Milliseconds per call of ours and the baseline over :data:`TURNS` alternating turns."""

    ours: list[float]
    baseline: list[float]

    @property
    def ours_min(self) -> float:
        return min(self.ours)

    @property
    def ours_median(self) -> float:
        return statistics.median(self.ours)

    @property
    def baseline_min(self) -> float:
        return min(self.baseline)

    @property
    def baseline_median(self) -> float:
        return statistics.median(self.baseline)

    @property
    def ratio_min(self) -> float:
        return self.ours_min / self.baseline_min

    @property
    def ratio_median(self) -> float:
        return self.ours_median / self.baseline_median

    def row(self) -> str:
        """``ours min / median | baseline min / median | ratio min / median``, for a Markdown table."""
        return (
            f"{self.ours_min:.3f} / {self.ours_median:.3f} | {self.baseline_min:.3f} / {self.baseline_median:.3f}"
            f" | {self.ratio_min:.2f}x / {self.ratio_median:.2f}x"
        )


def alternate(ours: Callable[[], float], baseline: Callable[[], float], *, turns: int = TURNS) -> Paired:
    """``turns`` measures of each side (each call gives milliseconds), alternating, the baseline first on odd turns."""
    mine: list[float] = []
    theirs: list[float] = []
    for turn in range(turns):
        sides = [(ours, mine), (baseline, theirs)]
        if turn % 2:
            sides.reverse()
        for measure, into in sides:
            into.append(measure())
    return Paired(ours=mine, baseline=theirs)


def paired(
    ours: Callable[[], object],
    baseline: Callable[[], object],
    *,
    number: int = 1,
    turns: int = TURNS,
    timer: Callable[[], float] = time.perf_counter,
) -> Paired:
    """Alternate ``ours`` and ``baseline`` ``turns`` times, ``number`` calls a turn, timed by ``timer`` (wall clock by
    default; ``time.process_time`` counts only this process's CPU, for a machine shared with other work)."""

    def measure(function: Callable[[], object]) -> Callable[[], float]:
        return lambda: timeit.Timer(function, timer=timer).timeit(number) / number * 1e3

    return alternate(measure(ours), measure(baseline), turns=turns)

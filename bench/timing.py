"""Repeated wall-clock timing of one call, summarised robustly.

A median with its 10th and 90th percentiles, not a mean: on a shared
2-core machine one step in ten can be slowed by someone else's process, and
a mean would report that neighbour rather than the code.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Timings:
    """Seconds per call for the timed calls (warm-up calls excluded)."""

    seconds: tuple[float, ...]

    @property
    def median(self) -> float:
        return float(np.median(self.seconds))

    @property
    def p10(self) -> float:
        return float(np.percentile(self.seconds, 10))

    @property
    def p90(self) -> float:
        return float(np.percentile(self.seconds, 90))

    def rate(self, items_per_call: int) -> float:
        """Items per second at the median call time."""
        return items_per_call / self.median if self.median > 0 else 0.0

    def to_dict(self) -> dict:
        return {
            "median_s": round(self.median, 5),
            "p10_s": round(self.p10, 5),
            "p90_s": round(self.p90, 5),
            "timed_calls": len(self.seconds),
        }


def time_calls(call: Callable[[], object], warmup: int, repeats: int) -> Timings:
    """Call ``warmup`` times untimed (tracing, allocation), then time ``repeats`` calls."""
    if repeats < 1:
        raise ValueError("time_calls needs at least one timed call")
    for _ in range(warmup):
        call()
    seconds = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - started)
    return Timings(tuple(seconds))


class Stopwatch:
    """``with Stopwatch() as watch: ...`` then ``watch.seconds``."""

    def __enter__(self) -> Stopwatch:
        self.started = time.perf_counter()
        self.seconds = 0.0
        return self

    def __exit__(self, *exc) -> None:
        self.seconds = time.perf_counter() - self.started

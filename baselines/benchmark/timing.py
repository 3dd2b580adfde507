"""Timing helpers: medians of repeated calls after a warm-up (no single cold timings)."""

from __future__ import annotations

import statistics
import time
from typing import Callable


def median(values) -> float:
    return float(statistics.median(values))


def time_calls(fn: Callable[[], object], calls: int, warmup: int = 0) -> float:
    """Median wall time (s) of ``calls`` calls of ``fn`` after ``warmup`` untimed ones."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(calls):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return median(times)


def rel_gap(fast: float, ref: float) -> float:
    """``(fast - ref) / |ref|``: > 0 when the fast solver's objective is worse (minimisation)."""
    return float((fast - ref) / max(abs(ref), 1e-300))

"""Statistics over training seeds: the seed is the unit.

Episodes within a seed are averaged first (:func:`seed_means`); the mean, the
interquartile mean and a 95% percentile-bootstrap confidence interval are then
taken across those per-seed means, so the interval reflects seed-to-seed
variance instead of the (much smaller) spread of pooled episodes. The
bootstrap is :func:`scipy.stats.bootstrap` with a fixed ``random_state``, so
the same results always give the same interval.
"""

from __future__ import annotations

import math
from typing import Iterable, Mapping

import numpy as np

BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 0


def seed_means(episodes: Iterable[Mapping[str, float]]) -> dict[str, float]:
    """Per-metric mean over one seed's episodes (metrics missing in an episode are skipped)."""
    episodes = list(episodes)
    keys = sorted({k for e in episodes for k in e})
    out = {}
    for key in keys:
        values = [float(e[key]) for e in episodes if e.get(key) is not None]
        out[key] = float(np.mean(values)) if values else math.nan
    return out


def iqm(values: Iterable[float]) -> float:
    """Interquartile mean: the mean of the middle 50% (``trim_mean`` cutting 25% each side)."""
    from scipy import stats  # imported here: workers that only average episodes skip scipy.stats

    arr = np.asarray(list(values), dtype=float)
    return float(stats.trim_mean(arr, 0.25)) if arr.size else math.nan


def bootstrap_ci(values: Iterable[float], confidence: float = 0.95) -> tuple[float, float]:
    """Percentile-bootstrap CI of the mean across seeds; ``(v, v)`` for a single value."""
    arr = np.asarray([v for v in values if v is not None and math.isfinite(v)], dtype=float)
    if arr.size == 0:
        return math.nan, math.nan
    if arr.size == 1 or np.all(arr == arr[0]):
        return float(arr[0]), float(arr[0])
    from scipy import stats

    res = stats.bootstrap(
        (arr,), np.mean, confidence_level=confidence, n_resamples=BOOTSTRAP_RESAMPLES,
        method="percentile", random_state=BOOTSTRAP_SEED,
    )
    return float(res.confidence_interval.low), float(res.confidence_interval.high)


def across_seeds(per_seed: Iterable[float]) -> dict[str, float]:
    """``{"mean", "iqm", "ci_low", "ci_high", "seeds"}`` of per-seed values (NaN/None skipped)."""
    arr = [float(v) for v in per_seed if v is not None and math.isfinite(float(v))]
    low, high = bootstrap_ci(arr)
    return {
        "mean": float(np.mean(arr)) if arr else math.nan,
        "iqm": iqm(arr),
        "ci_low": low,
        "ci_high": high,
        "seeds": len(arr),
    }

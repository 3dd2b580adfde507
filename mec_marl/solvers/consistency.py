"""CPDRL's consistency post-processing: binarise the offloading output and mask
the resources that the decision does not use (CPDRL eq. 11, 15, 16).

Vectorised over leading batch axes; the last axis is the UTDs.
"""

from __future__ import annotations

import numpy as np


def binarise(a_raw, beta: float = 1.0):
    """Forward pass of eq. 15: ``round(sigmoid(beta a_raw))``.

    numpy and torch round 0.5 to 0 (half to even), so a_raw = 0 stays local;
    for any beta > 0 the result equals ``a_raw > 0`` — beta only shapes the
    surrogate gradient a learner uses.
    """
    if beta <= 0:
        raise ValueError(f"beta must be positive, got {beta}")
    return np.asarray(a_raw, dtype=float) > 0.0


def usage_mask(offload):
    """``(..., 3, n)`` 0/1 rows telling which of (bandwidth, local CPU, power) a UTD uses."""
    a = np.asarray(offload, dtype=bool)[..., None, :]
    return np.where(_OFFLOADER_ROWS, a, ~a).astype(float)


_OFFLOADER_ROWS = np.array([[True], [False], [True]])  # bandwidth and power serve offloaders


def consistent(offload, used_bandwidth, used_cpu, used_power):
    """Eq. 11: an offloader uses b and p but no local CPU; a local UTD the reverse.

    The ``used_*`` arguments are booleans (resource above its zero tolerance).
    """
    a = np.asarray(offload, dtype=bool)
    return np.where(a, used_bandwidth & used_power & ~used_cpu, ~used_bandwidth & ~used_power & used_cpu)

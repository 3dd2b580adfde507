"""Computation: local execution latency and energy, and the edge server's equal CPU split.

All functions broadcast over users and take SI inputs (bits, cycles/bit, Hz).
"""

from __future__ import annotations

import numpy as np


def task_cycles(data_bits, cycles_per_bit):
    """CPU cycles of a task, ``D C``."""
    return np.asarray(data_bits, dtype=float) * np.asarray(cycles_per_bit, dtype=float)


def local_latency(cycles, cpu_freq):
    """Local execution delay ``T^l = D C / f`` (CPDRL eq. 1); ``f`` must be positive."""
    return np.asarray(cycles, dtype=float) / cpu_freq


def local_energy(cycles, cpu_freq, kappa: float):
    """Local execution energy ``E^l = kappa D C f^2`` (CPDRL eq. 2)."""
    return kappa * np.asarray(cycles, dtype=float) * np.asarray(cpu_freq, dtype=float) ** 2


def equal_share(offload, edge_capacity: float):
    """The CPU share ``F / sum(a)`` each offloader gets when the server splits
    ``F`` equally (CPDRL eq. 7), per row of ``offload`` (last axis = users),
    shaped to broadcast against it."""
    k = np.asarray(offload, dtype=bool).sum(axis=-1, keepdims=True)
    return edge_capacity / np.maximum(k, 1)

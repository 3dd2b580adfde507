"""Computation: local and edge execution latency and energy.

All functions broadcast over users and take SI inputs (bits, cycles/bit, Hz).
"""

from __future__ import annotations

import numpy as np


def task_cycles(data_bits, cycles_per_bit):
    """CPU cycles of a task, ``D C``."""
    return np.asarray(data_bits, dtype=float) * np.asarray(cycles_per_bit, dtype=float)


def local_latency(cycles, cpu_freq):
    """Local execution delay ``T^l = D C / f`` (CPDRL eq. 1); ``inf`` where f = 0."""
    f = np.asarray(cpu_freq, dtype=float)
    with np.errstate(divide="ignore"):
        return np.where(f > 0, np.asarray(cycles, dtype=float) / np.where(f > 0, f, 1.0), np.inf)


def local_energy(cycles, cpu_freq, kappa: float):
    """Local execution energy ``E^l = kappa D C f^2`` (CPDRL eq. 2)."""
    return kappa * np.asarray(cycles, dtype=float) * np.asarray(cpu_freq, dtype=float) ** 2


def equal_share_edge_cpu(offload, edge_capacity: float):
    """Edge CPU per offloader when the server splits ``F`` equally (CPDRL eq. 7).

    ``offload`` is a 0/1 array over users (last axis); returns ``F / sum(a)`` for
    offloaders and 0 for local users.
    """
    a = np.asarray(offload, dtype=float)
    k = a.sum(axis=-1, keepdims=True)
    return np.where(a > 0, edge_capacity / np.maximum(k, 1.0), 0.0)


def edge_latency(cycles, edge_cpu):
    """Edge execution delay ``T^e = D C / f^e``; with equal shares this is
    ``D C sum(a) / F`` (CPDRL eq. 7)."""
    return local_latency(cycles, edge_cpu)


def combine(offload, local_value, edge_value):
    """``(1 - a) x^l + a x^e`` (CPDRL eq. 8-9), without 0 * inf = nan."""
    a = np.asarray(offload) > 0
    return np.where(a, edge_value, local_value)

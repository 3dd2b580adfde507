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


def execution_power(cpu_freq, kappa: float, exponent: float = 3.0):
    """Local execution power ``p^E = kappa f^v`` (OJRS eq. 8)."""
    return kappa * np.asarray(cpu_freq, dtype=float) ** exponent


def max_local_frequency(f_max, p_max, kappa: float, exponent: float = 3.0):
    """Largest local CPU frequency that C3 and C4 allow: ``min(F_L, (P_max / kappa)^(1/v))``
    (OJRS eq. 6-8; the latency ``F / f`` of eq. 4 falls with ``f``, so this is P2.1's optimum)."""
    with np.errstate(divide="ignore"):
        cap = (np.asarray(p_max, dtype=float) / kappa) ** (1.0 / exponent)
    return np.minimum(np.asarray(f_max, dtype=float), cap)

def processing_latency(task_bits, cycles_per_bit, eta, cpu):
    """Edge processing latency ``d^p = eta V^T kappa / p`` (DJTCRA eq. 8); ``cpu`` must be positive."""
    return np.asarray(eta, dtype=float) * task_cycles(task_bits, cycles_per_bit) / cpu


def remote_cloud_latency(radio, volume_up, volume_down, cycles, rate, one_way_delay, cloud_cpu):
    """Service latency through the remote cloud (the latency SPEC adds to the DJTCRA paper):
    ``d^c + (V^T + V^R) / rate + 2 delay + V^T kappa / cloud_cpu``.

    The connected RAN forwards straight to the cloud: no hop to another ES, no
    eta, the cloud's CPU is not shared.
    """
    volume = np.asarray(volume_up, dtype=float) + np.asarray(volume_down, dtype=float)
    return np.asarray(radio, dtype=float) + volume / rate + 2.0 * one_way_delay + np.asarray(cycles) / cloud_cpu

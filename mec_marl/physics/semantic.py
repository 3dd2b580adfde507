"""Execution and offloading model of the semantic cloud-edge-end network
(DRLH paper, Sec. II-B/C, eq. 5-12), per UE and broadcast over batch axes.

Volumes are in tasks per slot, clocks in Hz, powers in W. A task of S words
is encoded (l^en FLOP) and decoded (l^de FLOP); a GPU executes n FLOP per
cycle. The semantic accuracy eps(SNR) of the DeepSC link is a logistic curve
of the SNR in dB (the paper gives it only as a black box, eps ~ f(k, gamma)).
"""

from __future__ import annotations

import numpy as np

LN2 = float(np.log(2.0))


def tasks_per_slot(slot, flops_per_cycle, clock, flops_per_task):
    """u = tau n f / l: tasks a GPU at clock f finishes in one slot (eq. 5, 6, 7)."""
    return slot * flops_per_cycle * np.asarray(clock, dtype=float) / flops_per_task


def clock_for(volume, slot, flops_per_cycle, flops_per_task):
    """Inverse of :func:`tasks_per_slot`: the clock (Hz) that finishes ``volume`` tasks."""
    return np.asarray(volume, dtype=float) * flops_per_task / (slot * flops_per_cycle)


def cubic_power(alpha, clock):
    """p = alpha f^3 (the circuit model under eq. 6-7; alpha in W/Hz^3)."""
    clock = np.asarray(clock, dtype=float)
    return alpha * clock * clock * clock


def accuracy(snr_db, eps_max: float, slope_per_db: float, midpoint_db: float):
    """Semantic accuracy eps(gamma) = eps_max / (1 + exp(-slope (gamma_dB - midpoint))) (eq. 10-11's f(k, gamma))."""
    return eps_max / (1.0 + np.exp(-slope_per_db * (np.asarray(snr_db, dtype=float) - midpoint_db)))


def snr_for_accuracy(eps_min: float, eps_max: float, slope_per_db: float, midpoint_db: float) -> float:
    """The least SNR (linear) with eps(gamma) >= eps_min: the inverse of :func:`accuracy`."""
    if not 0.0 < eps_min < eps_max:
        raise ValueError(f"eps_min must lie in (0, eps_max={eps_max}), got {eps_min}")
    snr_db = midpoint_db - np.log(eps_max / eps_min - 1.0) / slope_per_db
    return float(10.0 ** (snr_db / 10.0))


def transmit_power_for_snr(snr, gain, bandwidth, noise_psd):
    """p = gamma b sigma^2 / |h|^2: eq. 8 (and 9) solved for the power."""
    return snr * bandwidth * noise_psd / np.asarray(gain, dtype=float)


def semantic_capacity(slot, bandwidth, words_per_task, symbols_per_word):
    """Tasks per slot the semantic link carries: tau b / (S k) (eq. 10-11, one symbol per Hz per s)."""
    return slot * bandwidth / (words_per_task * symbols_per_word)


def mcc_transmit_power(volume, slot, bandwidth, bits_per_task, gain, noise_psd):
    """p^tx,C = (2^(u S k0 / (tau b)) - 1) sigma^2 b / |h^C|^2 (eq. 12, Shannon's with the -1)."""
    exponent = np.asarray(volume, dtype=float) * bits_per_task / (slot * bandwidth)
    return np.expm1(exponent * LN2) * noise_psd * bandwidth / np.asarray(gain, dtype=float)


def mcc_max_volume(p_max, slot, bandwidth, bits_per_task, gain, noise_psd):
    """u^C_max = tau b / (S k0) log2(1 + p_max |h^C|^2 / (b sigma^2)) (bound under P3.2)."""
    snr = p_max * np.asarray(gain, dtype=float) / (bandwidth * noise_psd)
    return slot * bandwidth / bits_per_task * np.log1p(snr) / LN2

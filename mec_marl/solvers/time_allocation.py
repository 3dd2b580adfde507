"""Optimal WPT / offloading time split (a, tau) for given binary decisions (the DROO critic).

For a fixed offloading decision x, DROO's problem (P2) (Bi & Zhang, TWC 2018,
Sec. IV) is convex:

    max_{a, tau}  A a^(1/3) + sum_{j in M1} w_j eps tau_j ln(1 + eta2 h_j^2 a / tau_j)
    s.t.          a + sum_j tau_j <= 1,  a, tau >= 0,

with A = eta1 sum_{i in M0} w_i (h_i / k)^(1/3) (the local devices) and
eps = B / (v_u ln 2). With the dual variable v of the time constraint, the
stationarity condition in tau_j fixes the offloaders' SNR x_j = eta2 h_j^2 a / tau_j
through ln(1 + x) - x / (1 + x) = v / (w_j eps), whose root is

    1 / (1 + x_j) = y_j = -W_0(-exp(-1 - v / (w_j eps)))      (Lambert W, principal branch).

The time constraint is tight, so a(v) = 1 / (1 + eta2 sum_j h_j^2 y_j / (1 - y_j)),
and the stationarity in a leaves one equation in v,

    Q(v) = (A / 3) a(v)^(-2/3) + eps eta2 sum_j w_j h_j^2 y_j - v = 0,

with Q strictly decreasing. TWC 2018 bisects on v; here the bracket is
refined by safeguarded Newton steps (Q' in closed form below), which
reaches machine precision in a few iterations. Everything is numpy over a
flat batch of (channel, decision) pairs, so a batch of instances times a
batch of candidate decisions is one call. Note that y_j depends on v and
w_j only (every offloader with the same weight gets the same SNR), so the
Lambert W is evaluated once per distinct weight, not once per device.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools

import numpy as np
from scipy.special import lambertw

from mec_marl.physics.wireless_power import WptSystem, weighted_sum_rate

# Rows of (channel, decision) pairs solved at a time: bounds the temporaries' memory.
CHUNK = 16384


@dataclasses.dataclass(frozen=True)
class TimeAllocation:
    """The optimum of (P2) for each (channel, decision) pair, arrays over the batch shape ``*b``.

    Attributes:
        rate: ``(*b,)`` the maximal weighted sum computation rate Q*(h, x) (bits/s).
        a: ``(*b,)`` the fraction of the frame the AP broadcasts energy.
        tau: ``(*b, N)`` each device's offloading time fraction (0 for local devices).
        dual: ``(*b,)`` v*, the multiplier of a + sum tau <= 1 (bits/s per unit of time).
    """

    rate: np.ndarray
    a: np.ndarray
    tau: np.ndarray
    dual: np.ndarray


def _snr_factor(v, w_eps):
    """y = 1 / (1 + x) = -W_0(-exp(-1 - v / (w eps))) in (0, 1], broadcast over (M, U)."""
    z = -np.exp(-1.0 - v / w_eps)
    return -lambertw(z, 0).real


class _Problem:
    """One chunk of (P2) instances: the v-dependent terms and Q(v), Q'(v)."""

    def __init__(self, system: WptSystem, A, H_class, uniq):
        self.system = system
        self.A = A  # eta1 sum_{local} w_i (h_i / k)^(1/3), (M,)
        self.H_class = H_class  # sum of h_j^2 over the offloaders of each weight class, (M, U)
        self.uniq = uniq  # the distinct weights, (U,)
        self.w_eps = uniq * system.epsilon

    def terms(self, v, rows=slice(None)):
        """(a, y, S, dS/dv) at v for ``rows``: y (M, U) is 1 / (1 + x) of each weight class."""
        y = _snr_factor(v[:, None], self.w_eps[None, :])
        one_minus = 1.0 - y
        H_class = self.H_class[rows]
        live = (one_minus > 0) & (H_class > 0)
        safe = np.where(live, one_minus, 1.0)
        Hc = np.where(live, H_class, 0.0)
        phi = y / safe  # tau_j / (eta2 h_j^2 a) = 1 / x_j
        S = (Hc * phi).sum(axis=-1)
        dS = -(Hc * y / (safe**3 * self.w_eps)).sum(axis=-1)
        # x -> 0 (y -> 1) makes tau / a unbounded: a -> 0 there.
        S = np.where(((one_minus <= 0) & (H_class > 0)).any(axis=-1), np.inf, S)
        a = 1.0 / (1.0 + self.system.eta2 * S)
        return a, y, S, dS

    def q(self, v, rows=slice(None)):
        """Q(v) and Q'(v) (module docstring) for ``rows``; Q' < 0."""
        eta2, eps = self.system.eta2, self.system.epsilon
        a, y, S, dS = self.terms(v, rows)
        A = self.A[rows]
        G = (self.uniq * self.H_class[rows] * y).sum(axis=-1)
        q = A / 3.0 * a ** (-2.0 / 3.0) + eps * eta2 * G - v
        dq = 2.0 * A / 9.0 * eta2 * np.cbrt(a) * dS - eta2 * S - 1.0
        return q, dq


@functools.lru_cache(maxsize=64)
def _weight_classes(weights: tuple) -> tuple:
    """(distinct weights (U,), class of each device (N,), membership matrix (N, U))."""
    uniq, inverse = np.unique(np.array(weights), return_inverse=True)
    member = (inverse[:, None] == np.arange(uniq.size)[None, :]).astype(float)
    return uniq, inverse, member


def _solve_chunk(system: WptSystem, gain, offload, weights, tol: float, max_iter: int):
    """(rate, a, tau, v) for a flat chunk: gain, offload (M, N), weights (N,)."""
    uniq, inverse, member = _weight_classes(tuple(weights.tolist()))
    A = system.eta1 * np.where(offload, 0.0, weights * np.cbrt(gain / system.kappa)).sum(axis=-1)
    H = np.where(offload, gain**2, 0.0)  # h_j^2 of offloaders, 0 elsewhere
    H_class = H @ member
    active = H_class.sum(axis=-1) > 0  # rows with an offloader that has a channel
    v = A / 3.0  # the root when no device offloads: a = 1
    if active.any():
        v[active] = _root(_Problem(system, A[active], H_class[active], uniq), tol, max_iter)
    a, y, _, _ = _Problem(system, A, H_class, uniq).terms(np.where(active, v, 1.0))
    a = np.where(active, a, 1.0)
    y = y[:, inverse]  # per device
    phi = np.where(y < 1.0, y / np.where(y < 1.0, 1.0 - y, 1.0), 0.0)
    tau = np.where(active[:, None], system.eta2 * H * a[:, None] * phi, 0.0)
    rate = weighted_sum_rate(gain, offload, a, tau, weights, system)
    return rate, a, tau, v


def _root(prob: _Problem, tol: float, max_iter: int) -> np.ndarray:
    """The root of Q on rows that have an effective offloader: safeguarded Newton from the left.

    Q(A/3) = (A/3)(a^(-2/3) - 1) + eps eta2 sum w h^2 y > 0, so v = A/3 lies left of
    the root (rows without local devices start at a small v checked the same
    way). Newton steps from the left of the root of a decreasing convex
    function stay left of it; every step tightens a bracket [lo, hi]
    (Q(lo) > 0 >= Q(hi)) and a step that leaves it is replaced by a bisection
    step, so convexity is not relied on.
    """
    eps_eta2 = prob.system.epsilon * prob.system.eta2
    upper_g = eps_eta2 * (prob.uniq * prob.H_class).sum(axis=-1)  # Q -> upper_g as v -> 0 without locals
    lo = np.where(prob.A > 0, prob.A / 3.0, 1e-6 * upper_g)
    no_local = np.flatnonzero(prob.A <= 0)
    for _ in range(200):
        if not no_local.size:
            break
        bad = prob.q(lo[no_local], no_local)[0] <= 0
        lo[no_local[bad]] *= 1e-3
        no_local = no_local[bad]
    hi = np.full_like(lo, np.inf)
    v = lo.copy()
    todo = np.arange(v.size)
    for _ in range(max_iter):
        q, dq = prob.q(v[todo], todo)
        vt, lt, ht = v[todo], lo[todo], hi[todo]
        lt = np.where(q > 0, vt, lt)
        ht = np.where(q > 0, ht, vt)
        v_new = vt - q / dq
        outside = ~((v_new >= lt) & (v_new <= ht))
        finite = np.isfinite(ht)
        fallback = np.where(finite, 0.5 * (lt + np.where(finite, ht, 0.0)), 4.0 * vt)
        v_new = np.where(q == 0, vt, np.where(outside, fallback, v_new))
        done = (np.abs(v_new - vt) <= tol * v_new) | (finite & (ht - lt <= tol * ht))
        v[todo], lo[todo], hi[todo] = v_new, lt, ht
        todo = todo[~done]
        if not todo.size:
            break
    return v


def optimal_time_allocation(
    system: WptSystem, gain, offload, weights, tol: float = 1e-13, max_iter: int = 100
) -> TimeAllocation:
    """The optimal (a, tau) and rate Q*(h, x) of DROO's (P2) for every (channel, decision) pair.

    Args:
        system: the model's constants.
        gain: ``(*b1, N)`` channel gains h (positive; 0 allowed).
        offload: ``(*b2, N)`` binary decisions x (1 = offload), broadcast against ``gain``,
            e.g. gains ``(B, 1, N)`` and candidates ``(B, K, N)``.
        weights: ``(N,)`` positive device weights w.
        tol: relative tolerance on the dual variable v.
        max_iter: cap on the Newton / bisection iterations.
    """
    gain = np.asarray(gain, dtype=float)
    offload = np.asarray(offload) > 0
    weights = np.asarray(weights, dtype=float)
    shape = np.broadcast_shapes(gain.shape, offload.shape)
    n = shape[-1]
    if weights.shape != (n,):
        raise ValueError(f"weights must have shape ({n},), got {weights.shape}")
    g = np.broadcast_to(gain, shape).reshape(-1, n)
    x = np.broadcast_to(offload, shape).reshape(-1, n)
    rows = g.shape[0]
    rate, a, v = np.empty(rows), np.empty(rows), np.empty(rows)
    tau = np.empty((rows, n))
    for start in range(0, rows, CHUNK):
        sl = slice(start, min(start + CHUNK, rows))
        rate[sl], a[sl], tau[sl], v[sl] = _solve_chunk(system, g[sl], x[sl], weights, tol, max_iter)
    batch = shape[:-1]
    return TimeAllocation(rate.reshape(batch), a.reshape(batch), tau.reshape(shape), v.reshape(batch))


def all_decisions(n: int) -> np.ndarray:
    """``(2^n, n)`` bool: every binary offloading decision, in binary counting order."""
    return np.array(list(itertools.product((False, True), repeat=n)), dtype=bool).reshape(2**n, n)


def best_decision(system: WptSystem, gain, candidates, weights):
    """The best of ``K`` candidate decisions per channel (ties: the first).

    ``gain`` ``(*b, N)``, ``candidates`` ``(*b, K, N)`` or ``(K, N)``. Returns
    ``(decision (*b, N) bool, rate (*b,), index (*b,))``.
    """
    gain = np.asarray(gain, dtype=float)
    cand = np.asarray(candidates) > 0
    if cand.ndim == 2:
        cand = np.broadcast_to(cand, gain.shape[:-1] + cand.shape)
    rates = optimal_time_allocation(system, gain[..., None, :], cand, weights).rate
    index = np.argmax(rates, axis=-1)
    decision = np.take_along_axis(cand, index[..., None, None], axis=-2)[..., 0, :]
    return decision, np.take_along_axis(rates, index[..., None], axis=-1)[..., 0], index

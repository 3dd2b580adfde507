"""Slow, obviously-correct references for the DJTCRA sum-of-sigmoids allocation.

Independent of :mod:`mec_marl.solvers.sigmoidal` (only the problem's
definition is shared): inflection points by ``scipy.optimize.brentq`` on the
second derivative, concave envelopes and their maximisation written out
directly, and

* :func:`branch_and_bound`: Udell & Boyd, "Maximizing a sum of sigmoids"
  (Optim. Eng. 2014), Algorithm 1: each node maximises the sum of the
  concave envelopes of f_i over its box [l_i, u_i] (bisection on the price of
  the capacity), which bounds the node from above; the relaxation's point is
  feasible and bounds the optimum from below; best-first, the node is split
  at the relaxation's point of the user with the largest envelope gap;
* :func:`grid_search`: exhaustive search on a fine grid of the capacity
  simplex for two or three users (checks the branch and bound itself).

One problem at a time; the problem is the one of :func:`mec_marl.solvers.sigmoidal.allocate`.
"""

from __future__ import annotations

import heapq
import itertools

import numpy as np
from scipy.optimize import brentq
from scipy.special import expit


class SigmoidProblem:
    """max sum_i max(q_i, L_i expit(-alpha_i (c_i + a_i / x_i - beta_i))), sum x <= C, x >= 0."""

    def __init__(self, alpha, base_latency, work, beta, capacity, ceiling=1.0, floor=0.0):
        arrays = np.broadcast_arrays(*(np.asarray(a, float) for a in (alpha, base_latency, work, beta, ceiling, floor)))
        self.alpha, self.c, self.a, self.beta, self.L, self.q = (np.array(a, float).ravel() for a in arrays)
        self.capacity = float(capacity)
        self.n = self.alpha.size

    def f(self, x):
        x = np.asarray(x, float)
        with np.errstate(divide="ignore"):
            latency = np.where(x > 0, self.c + self.a / np.where(x > 0, x, 1.0), np.inf)
        return np.maximum(self.q, self.L * expit(-self.alpha * (latency - self.beta)))

    def value(self, x) -> float:
        return float(self.f(x).sum())

    def df(self, x):
        """Derivative of the sigmoid part (the floor is flat)."""
        x = np.asarray(x, float)
        s = -self.alpha * (self.c + self.a / x - self.beta)
        return self.L * expit(s) * expit(-s) * self.alpha * self.a / x**2


def _inflections(p: SigmoidProblem) -> np.ndarray:
    """Where each f_i turns concave: the sigmoid's inflection or its crossing of q_i, whichever is later."""
    out = np.zeros(p.n)
    for i in range(p.n):
        def d2(x):
            s = -p.alpha[i] * (p.c[i] + p.a[i] / x - p.beta[i])
            e = expit(s)
            u = p.alpha[i] * p.a[i] / x
            return (1 - 2 * e) * u - 2  # sign of the second derivative
        lo, hi = 1e-12 * p.capacity, p.alpha[i] * p.a[i]
        z = brentq(d2, lo, hi, xtol=1e-14 * p.capacity, rtol=1e-15) if d2(lo) > 0 > d2(hi) else lo
        if p.q[i] > 0:
            ratio = p.q[i] / p.L[i]
            den = p.alpha[i] * (p.beta[i] - p.c[i]) - np.log(ratio / (1 - ratio))
            z = max(z, p.alpha[i] * p.a[i] / den) if den > 0 else np.inf
        out[i] = z
    return out


class _Envelope:
    """Concave envelopes of the f_i over a box [l, u] (vectorised over users)."""

    def __init__(self, p: SigmoidProblem, z, lower, upper):
        self.p, self.l, self.u = p, lower, upper
        fl = p.f(lower)
        self.fl = fl
        # Tangent point w from (l, f(l)) on the concave part [max(l, z), u].
        start = np.clip(z, lower, upper)
        lo, hi = start.copy(), upper.copy()
        gap = lambda w: p.df(np.maximum(w, 1e-300)) * (w - lower) - (p.f(w) - fl)  # noqa: E731
        chord = (gap(upper) >= 0) | (start >= upper)
        for _ in range(100):
            mid = 0.5 * (lo + hi)
            up = gap(mid) > 0
            lo, hi = np.where(up, mid, lo), np.where(up, hi, mid)
        self.w = np.where(z <= lower, lower, np.where(chord, upper, 0.5 * (lo + hi)))
        width = np.maximum(self.w - lower, 1e-300)
        self.slope = np.where(self.w > lower, (p.f(self.w) - fl) / width, np.inf)

    def value(self, x):
        linear = self.fl + self.slope * (x - self.l)
        return np.where(x < self.w, linear, self.p.f(x))

    def response(self, price):
        """argmax over [l, u] of envelope - price x."""
        p = self.p
        lo, hi = self.w.copy(), self.u.copy()
        for _ in range(64):
            mid = 0.5 * (lo + hi)
            up = p.df(np.maximum(mid, 1e-300)) > price
            lo, hi = np.where(up, mid, lo), np.where(up, hi, mid)
        concave = np.where(p.df(np.maximum(self.u, 1e-300)) >= price, self.u, 0.5 * (lo + hi))
        concave = np.where(self.w >= self.u, self.u, concave)
        return np.where(price >= self.slope, self.l, concave)


def _relaxation(p: SigmoidProblem, z, lower, upper):
    """Maximise the sum of envelopes over the box and sum x <= C: ``(x, upper bound)``."""
    env = _Envelope(p, z, lower, upper)
    if lower.sum() > p.capacity * (1 + 1e-12):
        return None, -np.inf
    x0 = env.response(0.0)
    if x0.sum() <= p.capacity:
        return x0, float(env.value(x0).sum())
    finite = env.slope[np.isfinite(env.slope)]
    hi = max(float(p.df(np.maximum(upper, 1e-300)).max()), float(finite.max()) if finite.size else 0.0) * 2 + 1e-300
    lo = 0.0
    for _ in range(120):
        mid = 0.5 * (lo + hi)
        if env.response(mid).sum() > p.capacity:
            lo = mid
        else:
            hi = mid
    x_hi, x_lo = env.response(hi), env.response(lo)
    extra = x_lo.sum() - x_hi.sum()
    theta = 0.0 if extra <= 0 else min(1.0, (p.capacity - x_hi.sum()) / extra)
    x = x_hi + theta * (x_lo - x_hi)
    return x, float(env.value(x).sum())


def branch_and_bound(problem: SigmoidProblem, tolerance=1e-7, max_nodes=20000):
    """Globally optimal allocation within ``tolerance`` (relative to the optimum).

    Returns ``(x, value, upper_bound, nodes)``; ``upper_bound - value`` is the
    certified gap (larger than the tolerance only if ``max_nodes`` ran out).
    """
    p = problem
    z = _inflections(p)
    lower, upper = np.zeros(p.n), np.full(p.n, p.capacity)
    x, bound = _relaxation(p, z, lower, upper)
    best_x, best = x, p.value(x)
    heap = [(-bound, 0, lower, upper, x)]
    counter, nodes = itertools.count(1), 0
    while heap and nodes < max_nodes:
        neg_bound, _, lo, hi, x = heapq.heappop(heap)
        if -neg_bound - best <= tolerance * max(1.0, abs(best)):
            heapq.heappush(heap, (neg_bound, 0, lo, hi, x))
            break
        nodes += 1
        env = _Envelope(p, z, lo, hi)
        gaps = env.value(x) - p.f(x)
        i = int(np.argmax(gaps))
        for new_lo, new_hi in ((lo[i], x[i]), (x[i], hi[i])):
            if new_hi - new_lo <= 1e-15 * p.capacity:
                continue
            l2, u2 = lo.copy(), hi.copy()
            l2[i], u2[i] = new_lo, new_hi
            x2, b2 = _relaxation(p, z, l2, u2)
            if x2 is None:
                continue
            v2 = p.value(x2)
            if v2 > best:
                best_x, best = x2, v2
            if b2 > best + tolerance * max(1.0, abs(best)):
                heapq.heappush(heap, (-b2, next(counter), l2, u2, x2))
    upper_bound = max([best] + [-h[0] for h in heap])
    return best_x, best, upper_bound, nodes


def grid_search(problem: SigmoidProblem, points=20001):
    """Best allocation on a grid of the capacity simplex (2 or 3 users; all capacity used)."""
    p = problem
    if p.n not in (2, 3):
        raise ValueError("grid_search takes 2 or 3 users")
    if p.n == 2:
        x1 = np.linspace(0.0, p.capacity, points)
        xs = np.stack([x1, p.capacity - x1], axis=-1)
    else:
        g = np.linspace(0.0, p.capacity, int(np.sqrt(points * 2)))
        a, b = np.meshgrid(g, g, indexing="ij")
        keep = a + b <= p.capacity
        xs = np.stack([a[keep], b[keep], p.capacity - a[keep] - b[keep]], axis=-1)
    values = p.f(xs).sum(axis=-1)
    i = int(np.argmax(values))
    return xs[i], float(values[i])

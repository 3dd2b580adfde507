"""Water-filling for :mod:`mec_marl.solvers.sigmoidal`: share a capacity among a set of users on
the concave parts of their sigmoids, for many sets at once.

Users are *entries* of flat arrays grouped into *segments* (one segment is one
problem, or one candidate set of a problem), the segment ids non-decreasing:
no padding, so a batch costs the users it holds. Per-segment sums are
``np.bincount`` (left to right within a segment), so a segment's result never
depends on the others in the batch.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy.special import expit

WATERFILL_STEPS = 40  # projected Newton iterations at most (most segments stop after ~6)
_TINY = 1e-12
_BACKTRACK = (0.25, 0.0625, 0.004)  # Armijo step lengths tried (at once) where the full step fails


@dataclasses.dataclass(frozen=True)
class Users:
    """Normalised users (flat): capacity 1, Q(x) = L expit(-theta - k / x), f = max(q, Q)."""

    theta: np.ndarray
    k: np.ndarray
    L: np.ndarray
    q: np.ndarray

    def take(self, index):
        return Users(self.theta[index], self.k[index], self.L[index], self.q[index])

    def terms(self, x, second=True):
        """``(Q, Q', Q'')`` at x (0 at x = 0) from one exponential: with t = theta + k / x,
        e = expit(-t), expit(t) expit(-t) = E / (1 + E)^2 and 1 - 2e = tanh(t / 2), E = exp(-|t|)."""
        pos = x > 0
        xs = np.where(pos, x, 1.0)
        u = self.k / xs
        t = self.theta + u
        big = np.exp(-np.abs(t))
        inv = 1.0 / (1.0 + big)
        g = np.where(pos, self.L * (big * inv * inv) * (u / xs), 0.0)
        Q = np.where(pos, self.L * np.where(t > 0, big * inv, inv), 0.0)
        if not second:
            return Q, g, None
        return Q, g, g / xs * (np.copysign((1.0 - big) * inv, t) * u - 2.0)

    def Q(self, x):
        pos = x > 0
        return np.where(pos, self.L * expit(-self.theta - self.k / np.where(pos, x, 1.0)), 0.0)

    def f(self, x):
        return np.maximum(self.q, self.Q(x))


def segment_sum(seg, values, count):
    """Per-segment sums, left to right (``np.bincount`` adds in entry order)."""
    return np.bincount(seg, weights=values, minlength=count)


def starts_of(seg):
    """Index of each segment's first entry (``seg`` non-decreasing, every segment non-empty)."""
    return np.flatnonzero(np.r_[True, seg[1:] != seg[:-1]]) if seg.size else np.zeros(0, dtype=np.int64)


def _relabel(seg):
    """``(local ids 0..S-1, S)`` of a non-decreasing segment array."""
    new = np.r_[False, seg[1:] != seg[:-1]] if seg.size else np.zeros(0, bool)
    local = np.cumsum(new)
    return local, int(local[-1]) + 1 if seg.size else 0


def _step(users, seg, S, x, lower, terms, gain, scale):
    """One projected Newton step on the working set: ``(x, gain, price, terms, done)`` per segment."""
    Q, g, h = terms
    h = np.minimum(h, -_TINY * (1.0 + g))
    inv = 1.0 / h
    at_lower = x <= lower * (1.0 + 1e-12)
    free = np.ones(x.shape, bool)
    for _ in range(x.size + 1):  # users on their bound that want less stay there, until none is left
        total = segment_sum(seg, np.where(free, inv, 0.0), S)
        weighted = segment_sum(seg, np.where(free, g * inv, 0.0), S)
        price = np.where(total < 0, weighted / np.where(total < 0, total, -1.0), 0.0)
        stay = free & at_lower & (g < price[seg])
        if not stay.any():
            break
        free &= ~stay
    d = np.where(free, (price[seg] - g) * inv, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        room = np.where(d < 0, (x - lower) / -d, np.inf)
        reach = np.where(d != 0, 0.5 * x / np.abs(d), np.inf)  # trust region: |dx| <= x / 2
    t = np.minimum(1.0, np.minimum.reduceat(np.minimum(room, reach), starts_of(seg)))
    ascent = segment_sum(seg, g * d, S)
    converged = ascent <= 1e-13 * scale  # Newton decrement: the value is within ~1e-13 relative
    # Armijo: the full step first (its terms are the next step's), shorter ones where it fails.
    trial = np.maximum(x + t[seg] * d, lower)
    new_terms = users.terms(trial)
    new_gain = segment_sum(seg, np.maximum(users.q, new_terms[0]) - users.q, S)
    ok = (new_gain >= gain + 1e-4 * t * ascent) & (new_gain > gain) & ~converged
    retry = np.flatnonzero(~ok & ~converged)
    if retry.size:
        back = np.zeros(S, bool)
        back[retry] = True
        rows = np.flatnonzero(back[seg])
        sub, s_seg = users.take(rows), seg[rows]
        best_gain, best_x = np.full(S, -np.inf), np.zeros(rows.size)
        for length in reversed(_BACKTRACK):  # the longest acceptable step wins
            tr = np.maximum(x[rows] + length * t[s_seg] * d[rows], lower[rows])
            tg = segment_sum(s_seg, sub.f(tr) - sub.q, S)
            good = back & (tg >= gain + 1e-4 * length * t * ascent) & (tg > gain)
            best_gain = np.where(good, tg, best_gain)
            best_x = np.where(good[s_seg], tr, best_x)
        found = back & (best_gain > -np.inf)
        new_gain = np.where(found, best_gain, new_gain)
        ok |= found
        trial[rows] = np.where(found[s_seg], best_x, trial[rows])
        if found.any():
            fix = rows[found[s_seg]]
            redo = users.take(fix).terms(trial[fix])
            for full, part in zip(new_terms, redo):
                full[fix] = part
    take = ok[seg]
    x = np.where(take, trial, x)
    terms = tuple(np.where(take, a, b) for a, b in zip(new_terms, terms))
    return x, np.where(ok, new_gain, gain), price, terms, ~ok


def waterfill(users: Users, seg, S, lower, start, base, steps=WATERFILL_STEPS):
    """Maximise each segment's sum of Q_i(x_i), sum x = 1, x_i >= lower_i (concave there).

    Projected Newton on the equality-constrained problem (trust region,
    Armijo line search); each segment stops when it has converged. ``start``
    is a guess, projected onto the feasible set (its shape above the lower
    bounds kept, rescaled to fill the capacity); ``base`` (per segment) is the
    value of the users outside the set, for the convergence scale; ``steps``
    caps the iterations (a few screen candidate sets).

    Returns ``(x, gain, price)``: the gain is the sum of f_i(x_i) - q_i over the
    set, -inf where the set cannot fit its lower bounds.
    """
    count = np.bincount(seg, minlength=S)
    slack = 1.0 - segment_sum(seg, lower, S)
    feasible = (slack >= 0) & (count > 0)
    above = np.maximum(start - lower, 0.0)
    room = segment_sum(seg, above, S)
    spread = np.maximum(slack, 0.0)
    x = np.where(room[seg] > 0, lower + above * (spread / np.where(room > 0, room, 1.0))[seg],
                 lower + (spread / np.maximum(count, 1))[seg])
    terms = users.terms(x)
    gain = segment_sum(seg, np.maximum(users.q, terms[0]) - users.q, S)
    price = np.zeros(S)
    live = np.flatnonzero(feasible)
    rows = np.flatnonzero(feasible[seg])
    for _ in range(steps):
        if live.size == 0:
            break
        local, n_live = _relabel(seg[rows])
        sub = users.take(rows)
        x[rows], g_new, p_new, t_new, done = _step(
            sub, local, n_live, x[rows], lower[rows], tuple(a[rows] for a in terms), gain[live],
            1.0 + np.abs(base[live] + gain[live]),
        )
        for full, part in zip(terms, t_new):
            full[rows] = part
        gain[live], price[live] = g_new, p_new
        live, rows = live[~done], rows[~done[local]]
    total = segment_sum(seg, x, S)
    x = x * np.where(total > 1.0, 1.0 / np.where(total > 0, total, 1.0), 1.0)[seg]
    gain = np.where(feasible, segment_sum(seg, users.f(x) - users.q, S), np.where(count > 0, -np.inf, 0.0))
    return x, gain, price

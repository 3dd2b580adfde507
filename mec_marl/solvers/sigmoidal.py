"""Sum-of-sigmoids resource allocation: share a capacity among users whose value is a sigmoid.

The DJTCRA paper's per-server problem P2 (eq. 17, constraints C2, C3): an edge
server with capacity C splits it among its users, user i's QoE being a sigmoid
of its service latency ``c_i + a_i / x_i`` (eq. 11)::

    maximise   sum_i f_i(x_i)
    subject to sum_i x_i <= C,  x_i >= 0,
    f_i(x) = max(q_i, L_i / (1 + exp(alpha_i (c_i + a_i / x - beta_i)))).

``q_i`` is what the user gets without the server (the remote cloud's QoE, 0 if
none): taking the max keeps each f_i sigmoidal (flat, then convex, then
concave), so the problem stays a sum of sigmoids (Udell & Boyd, "Maximizing a
sum of sigmoids", Optim. Eng. 2014). It is NP-hard in general; this module is
the fast path the env runs inside ``step``, vectorised over any leading batch
axes (servers, instances):

1. per user, by bisection: the inflection point of the sigmoid (where
   ``2x / (alpha a) = tanh(alpha (c - beta) / 2 + alpha a / (2x))``), the
   point where it overtakes ``q_i``, and the tangent point ``w_i`` of its
   concave envelope from x = 0, whose slope ``s_i`` is the highest price at
   which the user is worth serving;
2. bisection on the price lambda: each user maximises its concave envelope
   minus lambda x (0 if lambda >= s_i, else f_i'(x) = lambda on [w_i, C] by
   bracketed Newton); the smallest feasible price gives the dual active set;
3. primal recovery: the capacity is water-filled over the active set on the
   concave parts (projected Newton with an Armijo line search, exact sum = C);
4. a local add/drop/swap search around the marginal users, each candidate set
   water-filled again, keeps the best (dual rounding alone loses a few percent
   per server when the threshold user is large).

:func:`allocate` is the API; ``mec_marl.solvers.reference_djtcra`` holds the
branch-and-bound reference the tests compare against.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy.special import expit, logit

_ROOT_STEPS = 60  # at most, per element, bracketed Newton steps of a root (most stop after ~6)
_WATERFILL = 40  # projected Newton iterations
_TINY = 1e-12
_BACKTRACK = np.array([1.0, 0.25, 0.0625, 0.004])  # step lengths tried at once


@dataclasses.dataclass(frozen=True)
class SigmoidalResult:
    """What :func:`allocate` returns, arrays over the leading axes ``*b``.

    Attributes:
        allocation: ``(*b, n)`` x_i >= 0 (capacity units), summing to at most C; 0
            for users outside the mask and for users the server leaves to q_i.
        value: ``(*b,)`` sum of f_i(x_i) over the masked users.
        served: ``(*b, n)`` bool, the server's sigmoid beats q_i at x_i.
    """

    allocation: np.ndarray
    value: np.ndarray
    served: np.ndarray


@dataclasses.dataclass(frozen=True)
class _Users:
    """Normalised users: capacity 1, Q(x) = L expit(-theta - k / x), f = max(q, Q)."""

    theta: np.ndarray
    k: np.ndarray
    L: np.ndarray
    q: np.ndarray

    def terms(self, x, second=True):
        """``(Q, Q', Q'')`` at x (0 at x = 0) from one exponential: with t = theta + k / x,
        e = expit(-t), expit(t) expit(-t) = E / (1 + E)^2 and 1 - 2e = tanh(t / 2), E = exp(-|t|)."""
        pos = x > 0
        xs = np.where(pos, x, 1.0)
        u = self.k / xs
        t = self.theta + u
        big = np.exp(-np.abs(t))
        inv = 1.0 / (1.0 + big)
        e = np.where(t > 0, big * inv, inv)
        g = np.where(pos, self.L * (big * inv * inv) * (u / xs), 0.0)
        Q = np.where(pos, self.L * e, 0.0)
        if not second:
            return Q, g, None
        tanh_half = np.copysign((1.0 - big) * inv, t)
        return Q, g, g / xs * (tanh_half * u - 2.0)

    def Q(self, x):
        pos = x > 0
        return np.where(pos, self.L * expit(-self.theta - self.k / np.where(pos, x, 1.0)), 0.0)

    def f(self, x):
        return np.maximum(self.q, self.Q(x))

    def dQ(self, x):
        """Q'(x) (0 at x = 0)."""
        return self.terms(x, second=False)[1]

    def rows(self, index):
        """The problems (rows) ``index``."""
        return _Users(self.theta[index], self.k[index], self.L[index], self.q[index])


def _sum(a):
    """Sum over users, left to right: padding a problem with zeros leaves it bit-for-bit the same
    (numpy's pairwise ``sum`` regroups with the length), so batches agree with single problems."""
    return np.cumsum(a, axis=-1)[..., -1:]


def _newton_root(fun, lo, hi, x, atol=0.0, iterations=_ROOT_STEPS):
    """Root of a decreasing ``fun(index, x) -> (value, derivative)`` on [lo, hi] with fun(lo) >= 0 >=
    fun(hi), elementwise over flat arrays: Newton steps kept inside a shrinking bracket; a step
    that leaves it is replaced by the secant of the bracket's ends (or their midpoint while an
    end's value is unknown), which converges when the root sits at an end of the bracket. Each
    element stops on its own once its step is below 1e-12 relative (+ ``atol``; quadratic
    convergence: the error is then ~1e-24), so an element's iterates never depend on the others."""
    x, lo, hi = (np.array(a, dtype=float, copy=True) for a in np.broadcast_arrays(x, lo, hi))
    f_lo, f_hi = np.full(x.shape, np.nan), np.full(x.shape, np.nan)
    live = np.arange(x.size)
    for _ in range(iterations):
        if live.size == 0:
            break
        old = x[live]
        value, slope = fun(live, old)
        up = value > 0
        low, high = np.where(up, old, lo[live]), np.where(up, hi[live], old)
        v_lo, v_hi = np.where(up, value, f_lo[live]), np.where(up, f_hi[live], value)
        with np.errstate(divide="ignore", invalid="ignore"):
            step = old - value / np.where(slope < 0, slope, -np.inf)
            secant = low + v_lo * (high - low) / (v_lo - v_hi)
        secant = np.where((secant >= low) & (secant <= high), secant, 0.5 * (low + high))
        new = np.where((step >= low) & (step <= high), step, secant)
        lo[live], hi[live], f_lo[live], f_hi[live], x[live] = low, high, v_lo, v_hi, new
        live = live[(np.abs(new - old) > 1e-12 * np.abs(new) + atol) & (value != 0)]
    return x


def inflection_point(theta, k):
    """Inflection of x -> expit(-theta - k / x): ``x = v k / 2`` with ``v = tanh(theta / 2 + 1 / v)``, v in (0, 1).

    Since 1 / v > 1, v >= tanh(theta / 2 + 1): that bracket's left end is where Newton starts.
    """
    theta, k = np.broadcast_arrays(np.asarray(theta, float), np.asarray(k, float))
    half = 0.5 * theta.ravel()

    def gap(index, v):  # tanh(theta / 2 + 1 / v) - v: decreasing in v
        t = np.tanh(half[index] + 1.0 / v)
        return t - v, -(1.0 - t * t) / (v * v) - 1.0

    lo = np.maximum(np.tanh(half + 1.0), 1e-300)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # v -> 0: a bisection step
        v = _newton_root(gap, lo, 1.0, np.where(lo > 1e-3, lo, 0.5 * (lo + 1.0)))
    return 0.5 * v.reshape(theta.shape) * k


def _concave_start(users: _Users):
    """``(viable, z)``: whether the sigmoid can beat q at all, and where f turns concave."""
    z = inflection_point(users.theta, users.k)
    qmax = users.L * expit(-users.theta)
    viable = qmax > users.q + _TINY * users.L
    ratio = np.clip(users.q / users.L, 1e-300, 1.0 - 1e-16)
    den = -users.theta - logit(ratio)  # Q(x) = q at x = k / den
    with np.errstate(divide="ignore", invalid="ignore"):
        cross = np.where(viable & (users.q > 0), users.k / np.where(den > 0, den, 1.0), 0.0)
    return viable, np.maximum(z, cross)


def _tangent(users: _Users, start, viable):
    """Tangent point w in [start, 1] of f's concave envelope from (0, q), and its slope (viable users)."""
    flat = _Users(*(a.ravel() for a in (users.theta, users.k, users.L, users.q)))

    def gap(index, w):  # f'(w) w - (f(w) - q): decreasing on the concave part
        Q, g, h = flat.rows(index).terms(w)
        return g * w - (Q - flat.q[index]), h * w

    lo = np.minimum(start, 1.0).ravel()
    one = np.ones_like(lo)
    Q1, g1, _ = flat.terms(one, second=False)
    chord = ~viable.ravel() | (g1 - (Q1 - flat.q) >= 0)  # f still steep at the capacity: the chord to x = 1
    w = one.copy()
    todo = np.flatnonzero(~chord)
    sub = _Users(*(a[todo] for a in (flat.theta, flat.k, flat.L, flat.q)))

    def sub_gap(index, x):
        Q, g, h = sub.rows(index).terms(x)
        return g * x - (Q - sub.q[index]), h * x

    w[todo] = _newton_root(sub_gap, lo[todo], 1.0, 0.5 * (lo[todo] + 1.0))
    w = w.reshape(start.shape)
    slope = (users.f(w) - users.q) / w
    return w, slope


def _response(users: _Users, w, price):
    """Maximiser on [w, 1] of Q(x) - ``price * x`` for users below their tangent slope (flat arrays):
    log Q'(e^y) = log(price) by bracketed Newton in y = log x; x = 1 where Q'(1) >= price."""
    log_lk = np.log(users.L * users.k)
    target = np.log(price) - log_lk

    def residual(index, y):  # log Q'(e^y) - log price: log(e (1 - e)) = -|s| - 2 log(1 + exp(-|s|))
        u = users.k[index] * np.exp(-y)
        s = users.theta[index] + u
        a = np.abs(s)
        ea = np.exp(-a)
        tanh_half = np.copysign((1.0 - ea) / (1.0 + ea), s)  # 1 - 2 expit(-s)
        return -a - 2.0 * np.log1p(ea) - 2.0 * y - target[index], tanh_half * u - 2.0

    all_ = np.arange(w.size)
    at_cap = residual(all_, np.zeros_like(w))[0] >= 0
    y = np.zeros_like(w)
    todo = np.flatnonzero(~at_cap)
    if todo.size:
        lo = np.log(w[todo])
        y[todo] = _newton_root(lambda index, yy: residual(todo[index], yy), lo, 0.0, 0.5 * lo, atol=1e-13)
    return np.exp(y)


def _dual_active_set(users: _Users, viable, w, slope):
    """The dual active set: the users above the smallest price whose best responses fit.

    The best responses at price lambda total D(lambda), decreasing, with a jump
    down at each user's tangent slope. With the slopes sorted, D at the j-th
    slope (the top j users active) rises with j, so a binary search over j
    (log2 of the users, not a bisection on the price) finds the largest j
    that fits; the next user joins when it still fits at its tangent point
    (D crosses 1 between two slopes) and is left out otherwise (D jumps over
    1: the dual solution is fractional there). Returns ``(active, x)``, x
    the best responses at that price (the waterfill's start).
    """
    P, K = slope.shape
    s = np.where(viable, slope, -np.inf)
    order = np.argsort(-s, axis=-1, kind="stable")
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.broadcast_to(np.arange(K), (P, K)), axis=-1)
    sorted_s = np.take_along_axis(s, order, axis=-1)
    count = viable.sum(axis=-1)
    lo, hi = np.zeros(P, dtype=np.int64), count + 1  # j = lo fits, j = hi does not (j = count: price 0+)
    demand = np.zeros(P)
    guess = np.zeros((P, K))
    flat = _Users(*(a.ravel() for a in (users.theta, users.k, users.L, users.q)))
    while True:
        rows = np.flatnonzero(hi - lo > 1)
        if rows.size == 0:
            break
        mid = (lo[rows] + hi[rows]) // 2
        price = np.take_along_axis(sorted_s[rows], np.minimum(mid, K - 1)[:, None], axis=-1)[:, 0]
        r, c = np.nonzero(rank[rows] < mid[:, None])
        cell = rows[r] * K + c
        x = np.ones(cell.size)
        priced = mid[r] < count[rows][r]  # j = count: every viable user at price 0+ takes x = 1
        sub = np.flatnonzero(priced)
        x[sub] = _response(flat.rows(cell[sub]), w.ravel()[cell[sub]], price[r[sub]])
        total = np.bincount(r, weights=x, minlength=rows.size)  # left to right per problem
        fits = total <= 1.0
        lo[rows] = np.where(fits, mid, lo[rows])
        hi[rows] = np.where(fits, hi[rows], mid)
        demand[rows[fits]] = total[fits]
        guess[rows[fits]] = 0.0
        keep = fits[r]
        guess.ravel()[cell[keep]] = x[keep]
    marginal = np.take_along_axis(order, np.minimum(lo, K - 1)[:, None], axis=-1)[:, 0]
    w_marginal = w[np.arange(P), marginal]
    joins = (lo < count) & (demand + w_marginal <= 1.0)
    guess[np.arange(P)[joins], marginal[joins]] = w_marginal[joins]
    return viable & (rank < (lo + joins)[:, None]), guess


def _newton_step(users: _Users, x, lower, active, value):
    """One projected Newton step of :func:`_waterfill` on rows ``(P, n)``: ``(x, value, price, done)``."""
    _, g, h = users.terms(x)
    h = np.minimum(h, -_TINY * (1.0 + g))
    at_lower = x <= lower * (1.0 + 1e-12)
    free = active
    for _ in range(x.shape[-1]):  # users on their bound that want less stay there, until none is left
        inv = np.where(free, 1.0 / h, 0.0)
        total = _sum(inv)
        price = np.where(total < 0, _sum(g * inv) / np.where(total < 0, total, -1.0), 0.0)
        stay = free & at_lower & (g < price)
        if not stay.any():
            break
        free = free & ~stay
    d = np.where(free, (price - g) * inv, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        room = np.where(d < 0, (x - lower) / -d, np.inf)
        reach = np.where(d != 0, 0.5 * x / np.abs(d), np.inf)  # trust region: |dx| <= x / 2
    t = np.minimum(1.0, np.minimum(room, reach).min(axis=-1, keepdims=True))
    ascent = _sum(g * d)
    converged = (ascent <= 1e-13 * (1.0 + np.abs(value)))[:, 0]  # Newton decrement: the value is within 1e-13
    # Armijo: the full step first; the shorter ones only on the problems where it fails.
    new_x, new_value = x.copy(), value.copy()
    rows = np.flatnonzero(~converged)
    found = np.zeros(x.shape[0], bool)
    for lengths in _BACKTRACK[:1], _BACKTRACK[1:]:
        if rows.size == 0:
            break
        steps = lengths.reshape(-1, 1, 1) * t[rows]
        act = active[rows]
        trial = np.where(act, np.maximum(x[rows] + steps * d[rows], lower[rows]), 0.0)
        sub = users.rows(rows)
        trial_value = _sum(np.where(act, sub.f(trial), sub.q))
        ok = (trial_value >= value[rows] + 1e-4 * steps * ascent[rows]) & (trial_value > value[rows])
        first = np.argmax(ok, axis=0)
        hit = ok.any(axis=0)[:, 0]
        new_x[rows[hit]] = np.take_along_axis(trial, first[None], 0)[0][hit]
        new_value[rows[hit]] = np.take_along_axis(trial_value, first[None], 0)[0][hit]
        found[rows[hit]] = True
        rows = rows[~hit]
    return new_x, new_value, price, converged | ~found


def _waterfill(users: _Users, lower, active, start=None):
    """Maximise sum over ``active`` of Q_i(x_i), sum x = 1, x_i >= lower_i (concave there).

    Projected Newton on the equality-constrained problem (trust region, Armijo
    line search); each problem stops when it has converged, so a batch costs
    the sum of its problems' iterations, not its slowest problem's times the
    batch. ``start`` (optional) is a guess, projected onto the feasible set.
    Returns ``(x, value, price)``; the value is -inf where the active set
    cannot fit its lower bounds.
    """
    shape = np.broadcast_shapes(active.shape, users.theta.shape)
    n = shape[-1]

    def rows(a):
        return np.broadcast_to(a, shape).reshape(-1, n)

    flat = _Users(*(rows(a) for a in (users.theta, users.k, users.L, users.q)))
    lower, active = rows(lower), rows(active)
    n_active = active.sum(axis=-1, keepdims=True)  # integers: exact
    slack = 1.0 - _sum(lower * active)
    feasible = slack >= 0
    x = np.where(active, lower + np.maximum(slack, 0.0) / np.maximum(n_active, 1), 0.0)
    if start is not None:  # keep the guess's shape above the lower bounds, rescaled to fill the capacity
        above = np.where(active, np.maximum(rows(start) - lower, 0.0), 0.0)
        room = _sum(above)
        scaled = lower + above * (np.maximum(slack, 0.0) / np.where(room > 0, room, 1.0))
        x = np.where(active & (room > 0), scaled, x)
    value = _sum(np.where(active, flat.f(x), flat.q))
    price = np.zeros(slack.shape)
    live = np.flatnonzero(feasible[:, 0] & (n_active[:, 0] > 0))
    for _ in range(_WATERFILL):
        if live.size == 0:
            break
        sub = _Users(flat.theta[live], flat.k[live], flat.L[live], flat.q[live])
        x[live], value[live], price[live], done = _newton_step(sub, x[live], lower[live], active[live], value[live])
        live = live[~done]
    total = _sum(x)
    x = x * np.where(total > 1.0, 1.0 / np.where(total > 0, total, 1.0), 1.0)
    value = np.where(feasible, _sum(np.where(active, flat.f(x), flat.q)), -np.inf)
    return x.reshape(shape), value.reshape(shape[:-1]), price.reshape(shape[:-1])


def _candidates(users: _Users, viable, active, x, price, slope):
    """Active sets near ``active``: itself, add the best two outsiders, drop the weakest two, swap."""
    outside = np.where(viable & ~active, slope, -np.inf)
    surplus = np.where(active, users.f(x) - users.q - price[..., None] * x, np.inf)
    add = np.argsort(-outside, axis=-1, kind="stable")[..., :2]
    drop = np.argsort(surplus, axis=-1, kind="stable")[..., :2]
    can_add = np.take_along_axis(outside, add, axis=-1) > -np.inf
    can_drop = np.take_along_axis(surplus, drop, axis=-1) < np.inf
    sets = [active]
    n = active.shape[-1]
    for j in range(add.shape[-1]):
        sets.append(active | ((np.arange(n) == add[..., j : j + 1]) & can_add[..., j : j + 1]))
    for j in range(drop.shape[-1]):
        sets.append(active & ~((np.arange(n) == drop[..., j : j + 1]) & can_drop[..., j : j + 1]))
    swap = (np.arange(n) == add[..., :1]) & can_add[..., :1] & can_drop[..., :1]
    sets.append((active & ~((np.arange(n) == drop[..., :1]) & can_drop[..., :1] & can_add[..., :1])) | swap)
    return np.stack(sets)


def allocate(alpha, base_latency, work, beta, capacity, ceiling=1.0, floor=0.0, mask=None, rounds=4):
    """Share ``capacity`` among users to maximise the sum of sigmoid QoEs (module docstring).

    Every argument broadcasts to ``(*b, n)`` (users on the last axis) except
    ``capacity``, ``(*b,)``. Units are the caller's as long as they agree:
    latency ``c_i + work_i / x_i`` in the units of ``1 / alpha`` and ``beta``
    (e.g. s, cycles, cycles/s).

    Args:
        alpha: sigmoid steepness (> 0). base_latency: latency not depending on x.
        work: latency numerator a_i > 0 (processing latency a_i / x_i).
        beta: reference latency (the sigmoid's midpoint). capacity: C > 0.
        ceiling: L_i > 0, the QoE at zero latency. floor: q_i in [0, L_i), what
            the user gets if the server leaves it (e.g. the cloud's QoE).
        mask: bool, which users belong to the problem (default all).
        rounds: rounds of the add/drop/swap search after the dual rounding.

    Returns:
        :class:`SigmoidalResult` (allocation in capacity units, value, served).
    """
    alpha, base_latency, work, beta, ceiling, floor = np.broadcast_arrays(
        *(np.asarray(a, dtype=float) for a in (alpha, base_latency, work, beta, ceiling, floor))
    )
    shape = alpha.shape
    capacity = np.broadcast_to(np.asarray(capacity, dtype=float), shape[:-1])
    mask = np.ones(shape, bool) if mask is None else np.broadcast_to(np.asarray(mask, bool), shape)
    if np.any(alpha[mask] <= 0) or np.any(work[mask] <= 0) or np.any(capacity <= 0):
        raise ValueError("allocate: alpha, work and capacity must be positive")
    n = shape[-1]
    flat = lambda a: np.ascontiguousarray(np.broadcast_to(a, shape)).reshape(-1, n)  # noqa: E731  problems as rows
    mask = flat(mask)
    users = _Users(
        theta=flat(alpha * (base_latency - beta)), k=flat(alpha * work / capacity[..., None]), L=flat(ceiling),
        q=np.where(mask, np.minimum(flat(floor), flat(ceiling)), 0.0),  # users outside the problem add nothing
    )
    viable, start = _concave_start(users)
    viable &= mask
    w, slope = _tangent(users, start, viable)
    active, guess = _dual_active_set(users, viable, w, slope)
    lower = np.where(viable, np.minimum(start, 1.0), 0.0)
    x, value, price = _waterfill(users, lower, active, guess)
    todo = np.flatnonzero(active.any(axis=-1) | viable.any(axis=-1))  # problems with someone to serve
    for _ in range(rounds):
        if todo.size == 0:
            break
        sub = users.rows(todo)
        sets = _candidates(sub, viable[todo], active[todo], x[todo], price[todo], slope[todo])
        xs, values, prices = _waterfill(sub, lower[todo], sets, x[todo])
        best = np.argmax(values, axis=0)
        best_value = np.take_along_axis(values, best[None], 0)[0]
        improves = best_value > value[todo] + 1e-12 * (1.0 + np.abs(value[todo]))
        hit = todo[improves]
        pick = best[improves][None, :, None]
        active[hit] = np.take_along_axis(sets[:, improves], pick, 0)[0]
        x[hit] = np.take_along_axis(xs[:, improves], pick, 0)[0]
        price[hit] = np.take_along_axis(prices[:, improves], best[improves][None], 0)[0]
        value[hit] = best_value[improves]
        todo = hit
    served = active & (users.Q(x) > users.q)
    x = np.where(served, x, 0.0)
    total = _sum(np.where(mask, users.f(x), 0.0))[..., 0]
    return SigmoidalResult(
        allocation=x.reshape(shape) * capacity[..., None], value=total.reshape(shape[:-1]), served=served.reshape(shape)
    )

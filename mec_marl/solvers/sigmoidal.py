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

_ROOT_STEPS = 30  # bracketed Newton steps for inflection and tangent points
_PRICE_BISECTIONS = 22  # on log(price): the add/drop search absorbs what is left
_NEWTON = 4  # bracketed Newton steps of a best response, warm-started
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

    def Q(self, x):
        pos = x > 0
        return np.where(pos, self.L * expit(-self.theta - self.k / np.where(pos, x, 1.0)), 0.0)

    def f(self, x):
        return np.maximum(self.q, self.Q(x))

    def dQ(self, x):
        """Q'(x) (0 at x = 0)."""
        xs = np.where(x > 0, x, 1.0)
        s = -self.theta - self.k / xs
        return np.where(x > 0, self.L * expit(s) * expit(-s) * self.k / xs**2, 0.0)

    def d2Q(self, x):
        xs = np.where(x > 0, x, 1.0)
        u = self.k / xs
        s = -self.theta - u
        e = expit(s)
        return self.L * e * expit(-s) * u / xs**2 * ((1.0 - 2.0 * e) * u - 2.0)

    def rows(self, index):
        """The problems (rows) ``index``."""
        return _Users(self.theta[index], self.k[index], self.L[index], self.q[index])


def _sum(a):
    """Sum over users, left to right: padding a problem with zeros leaves it bit-for-bit the same
    (numpy's pairwise ``sum`` regroups with the length), so batches agree with single problems."""
    return np.cumsum(a, axis=-1)[..., -1:]


def _newton_root(fun, lo, hi, iterations=_ROOT_STEPS):
    """Root of a decreasing ``fun`` (value, derivative) on [lo, hi] with fun(lo) >= 0 >= fun(hi),
    elementwise: Newton steps kept inside a shrinking bracket (bisection when a step leaves it)."""
    x = 0.5 * (lo + hi)
    for _ in range(iterations):
        value, slope = fun(x)
        up = value > 0
        lo, hi = np.where(up, x, lo), np.where(up, hi, x)
        step = x - value / np.where(slope < 0, slope, -np.inf)
        x = np.where((step > lo) & (step < hi), step, 0.5 * (lo + hi))
    return x


def inflection_point(theta, k):
    """Inflection of x -> expit(-theta - k / x): ``x = v k / 2`` with ``v = tanh(theta / 2 + 1 / v)``, v in (0, 1)."""
    theta, k = np.broadcast_arrays(np.asarray(theta, float), np.asarray(k, float))

    def gap(v):  # tanh(theta / 2 + 1 / v) - v: decreasing in v
        t = np.tanh(0.5 * theta + 1.0 / v)
        return t - v, -(1.0 - t * t) / (v * v) - 1.0

    v = _newton_root(gap, np.full(theta.shape, 1e-300), np.ones(theta.shape))
    return 0.5 * v * k


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


def _tangent(users: _Users, start):
    """Tangent point w in [start, 1] of f's concave envelope from (0, q), and its slope."""
    def gap(w):  # f'(w) w - (f(w) - q): decreasing on the concave part
        return users.dQ(w) * w - (users.Q(w) - users.q), users.d2Q(w) * w

    lo = np.minimum(start, 1.0)
    one = np.ones_like(lo)
    w = _newton_root(gap, lo, one)
    w = np.where(gap(one)[0] >= 0, 1.0, w)
    slope = (users.f(w) - users.q) / w
    return w, slope


def _best_response(users: _Users, w, slope, price, y, newton=_NEWTON):
    """Maximiser of the concave envelope minus ``price * x`` on [0, 1]; ``y`` warm-starts log x.

    On [w, 1] it solves log f'(e^y) = log(price) by Newton in y = log x, kept
    inside a shrinking bracket (bisection when a step leaves it).
    """
    lo, hi = np.log(w), np.zeros_like(w)
    target = np.log(price) - np.log(users.L * users.k)
    y = np.clip(y, lo, hi)
    for _ in range(newton):
        u = users.k * np.exp(-y)
        s = users.theta + u  # = -(sigmoid argument); log(e (1 - e)) = -|s| - 2 log(1 + exp(-|s|))
        a = np.abs(s)
        ea = np.exp(-a)
        residual = -a - 2.0 * np.log1p(ea) - 2.0 * y - target
        tanh_half = (1.0 - ea) / (1.0 + ea) * np.sign(s)  # 1 - 2 expit(-s)
        slope_y = tanh_half * u - 2.0
        above = residual > 0
        lo = np.where(above, y, lo)
        hi = np.where(above, hi, y)
        step = y - residual / np.minimum(slope_y, -_TINY)
        y = np.where((step > lo) & (step < hi), step, 0.5 * (lo + hi))
    y = np.where(users.dQ(np.ones_like(w)) >= price, 0.0, y)
    return np.where(price < slope, np.exp(y), 0.0), y


def _dual_active_set(users: _Users, viable, w, slope):
    """The active set at the smallest price whose best responses fit in the capacity."""
    s = np.where(viable, slope, 0.0)
    top = np.max(s, axis=-1, keepdims=True)
    floor_price = np.where(viable, users.dQ(np.ones_like(w)), np.inf).min(axis=-1, keepdims=True)
    lo = np.log(np.maximum(np.minimum(floor_price, top) * 0.5, 1e-300))
    hi = np.log(np.maximum(top, 1e-300)) + 1e-9
    y = np.log(w)
    for _ in range(_PRICE_BISECTIONS):
        mid = 0.5 * (lo + hi)
        x, y = _best_response(users, w, s, np.exp(mid), y)
        fits = _sum(x * viable) <= 1.0
        hi, lo = np.where(fits, mid, hi), np.where(fits, lo, mid)
    x, _ = _best_response(users, w, s, np.exp(hi), y)
    return viable & (s > np.exp(hi)), x


def _newton_step(users: _Users, x, lower, active, value):
    """One projected Newton step of :func:`_waterfill` on rows ``(P, n)``: ``(x, value, price, done)``."""
    g = users.dQ(x)
    h = np.minimum(users.d2Q(x), -_TINY * (1.0 + g))
    at_lower = x <= lower * (1.0 + 1e-12)
    free = active
    for _ in range(2):  # users on their bound that want less stay there
        inv = np.where(free, 1.0 / h, 0.0)
        total = _sum(inv)
        price = np.where(total < 0, _sum(g * inv) / np.where(total < 0, total, -1.0), 0.0)
        free = active & ~(at_lower & (g < price))
    inv = np.where(free, 1.0 / h, 0.0)
    total = _sum(inv)
    price = np.where(total < 0, _sum(g * inv) / np.where(total < 0, total, -1.0), price)
    d = np.where(free, (price - g) * inv, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        room = np.where(d < 0, (x - lower) / -d, np.inf)
        reach = np.where(d != 0, 0.5 * x / np.abs(d), np.inf)  # trust region: |dx| <= x / 2
    t = np.minimum(1.0, np.minimum(room, reach).min(axis=-1, keepdims=True))
    ascent = _sum(g * d)
    converged = ascent <= 1e-15 * (1.0 + np.abs(value))
    # Armijo on a few step lengths at once.
    steps = _BACKTRACK.reshape(-1, 1, 1) * t
    trial = np.where(active, np.maximum(x + steps * d, lower), 0.0)
    trial_value = _sum(np.where(active, users.f(trial), users.q))
    ok = (trial_value >= value + 1e-4 * steps * ascent) & ~converged
    first = np.argmax(ok, axis=0)
    found = ok.any(axis=0)
    x = np.where(found, np.take_along_axis(trial, first[None], 0)[0], x)
    value = np.where(found, np.take_along_axis(trial_value, first[None], 0)[0], value)
    return x, value, price, (converged | ~found)[:, 0]


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
    w, slope = _tangent(users, start)
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
